// SPDX-License-Identifier: GPL-2.0
/*
 * Where pinholectl looks: /proc and /sys (relocatable through
 * PINHOLECTL_PROC_ROOT and PINHOLECTL_SYS_ROOT so tests can stage a fake
 * tree), the helper's name, external commands and network namespaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pinholectl.h"

static const char *env_root(const char *name)
{
	const char *root = getenv(name);

	return root ? root : "";
}

void path_proc(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/proc/%s", env_root("PINHOLECTL_PROC_ROOT"), rel);
}

void path_sys(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/sys/%s", env_root("PINHOLECTL_SYS_ROOT"), rel);
}

bool module_loaded(void)
{
	char path[PATH_MAX];
	struct stat st;

	path_sys(path, sizeof(path), "module/" PINHOLE_MODULE_NAME);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *helper_name(void)
{
	static char name[HELPER_NAME_MAX];
	char path[PATH_MAX];
	char *text;
	size_t n;

	if (name[0])
		return name;
	path_sys(path, sizeof(path),
		 "module/" PINHOLE_MODULE_NAME "/parameters/helper_name");
	text = read_file(path, 256);
	if (text) {
		n = strcspn(text, "\n");
		text[n] = '\0';
		if (n > 0 && n < sizeof(name))
			memcpy(name, text, n + 1);
		free(text);
	}
	if (!name[0])
		snprintf(name, sizeof(name), "%s", PINHOLE_HELPER_NAME);
	return name;
}

static char *read_fd(int fd, size_t max)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1), *bigger;
	ssize_t n;

	if (!buf)
		return NULL;
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			bigger = realloc(buf, cap + 1);
			if (!bigger) {
				free(buf);
				return NULL;
			}
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

char *read_file(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *text;
	int saved;

	if (fd < 0)
		return NULL;
	text = read_fd(fd, max);
	saved = errno;
	close(fd);
	errno = saved;
	return text;
}

char *run_command(const char *const argv[], size_t max)
{
	int pipefd[2], status, devnull;
	char *out;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return NULL;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return NULL;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		dup2(pipefd[1], STDOUT_FILENO);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	out = read_fd(pipefd[0], max);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		free(out);
		return NULL;
	}
	return out;
}

int enter_netns(const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	if (name[0] == '\0' || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		snprintf(err, errlen,
			 "no such network namespace: %s (see ip netns list)",
			 name);
		return -1;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen,
				 "no such network namespace: %s (see ip netns list)",
				 name);
		else if (errno == EACCES || errno == EPERM)
			snprintf(err, errlen, "cannot open %s: %s", path,
				 NEEDS_ROOT_MSG);
		else
			snprintf(err, errlen, "cannot open %s: %s", path,
				 strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET)) {
		int saved = errno;

		close(fd);
		if (saved == EPERM)
			snprintf(err, errlen,
				 "cannot enter network namespace %s: needs CAP_SYS_ADMIN: run as root",
				 name);
		else
			snprintf(err, errlen,
				 "cannot enter network namespace %s: %s", name,
				 strerror(saved));
		return -1;
	}
	close(fd);
	return 0;
}
