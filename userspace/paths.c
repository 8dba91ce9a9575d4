// SPDX-License-Identifier: GPL-2.0
/*
 * Where pinholectl looks: /proc and /sys (relocatable through
 * PINHOLECTL_PROC_ROOT and PINHOLECTL_SYS_ROOT so tests can stage a fake
 * tree), /lib/modules (PINHOLECTL_MODULES_DIR, PINHOLECTL_KERNEL_RELEASE),
 * the helper's name, listening sockets, external commands and network
 * namespaces.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
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

/* NAME under /run/netns, a PATH (has a '/'), or pid:PID. */
static int netns_path(const char *spec, char *path, size_t len, char *err,
		      size_t errlen)
{
	const char *p;

	if (strncmp(spec, "pid:", 4) == 0) {
		for (p = spec + 4; *p >= '0' && *p <= '9'; p++)
			;
		if (p == spec + 4 || *p || p - spec > 14) {
			snprintf(err, errlen,
				 "invalid namespace '%s': pid:PID needs a process id",
				 spec);
			return -1;
		}
		snprintf(path, len, "/proc/%s/ns/net", spec + 4);
		return 0;
	}
	if (strchr(spec, '/')) {
		snprintf(path, len, "%s", spec);
		return 0;
	}
	if (spec[0] == '\0' || strcmp(spec, ".") == 0 ||
	    strcmp(spec, "..") == 0) {
		snprintf(err, errlen,
			 "no such network namespace: %s (see ip netns list)",
			 spec);
		return -1;
	}
	snprintf(path, len, "/run/netns/%s", spec);
	return 0;
}

static int netns_open_error(const char *spec, const char *path, int err_no,
			    char *err, size_t errlen)
{
	if (err_no == ENOENT && !strchr(spec, '/') &&
	    strncmp(spec, "pid:", 4) != 0)
		snprintf(err, errlen,
			 "no such network namespace: %s (see ip netns list)",
			 spec);
	else if (err_no == ENOENT)
		snprintf(err, errlen, "no such network namespace: %s (%s: %s)",
			 spec, path, strerror(err_no));
	else if (err_no == EACCES || err_no == EPERM)
		snprintf(err, errlen, "cannot open %s: %s", path,
			 NEEDS_ROOT_MSG);
	else
		snprintf(err, errlen, "cannot open %s: %s", path,
			 strerror(err_no));
	return -1;
}

int enter_netns(const char *spec, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd, saved;

	if (netns_path(spec, path, sizeof(path), err, errlen))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return netns_open_error(spec, path, errno, err, errlen);
	if (setns(fd, CLONE_NEWNET) == 0) {
		close(fd);
		return 0;
	}
	saved = errno;
	close(fd);
	if (saved == EPERM)
		snprintf(err, errlen,
			 "cannot enter network namespace %s: needs CAP_SYS_ADMIN: run as root",
			 spec);
	else if (saved == EINVAL)
		snprintf(err, errlen,
			 "cannot enter network namespace %s: %s is not a network namespace",
			 spec, path);
	else
		snprintf(err, errlen, "cannot enter network namespace %s: %s",
			 spec, strerror(saved));
	return -1;
}

void netns_label(char *buf, size_t len, const char *spec)
{
	char link[64];
	ssize_t n;

	if (spec) {
		snprintf(buf, len, "%s", spec);
		return;
	}
	n = readlink("/proc/self/ns/net", link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(buf, len, "unknown");
		return;
	}
	link[n] = '\0';
	snprintf(buf, len, "%s", link);
}

void path_modules(char *buf, size_t len, const char *rel)
{
	const char *dir = getenv("PINHOLECTL_MODULES_DIR");

	snprintf(buf, len, "%s/%s", dir ? dir : "/lib/modules", rel);
}

int module_version(char *buf, size_t len)
{
	char path[PATH_MAX];
	char *text;

	path_sys(path, sizeof(path), "module/" PINHOLE_MODULE_NAME "/version");
	text = read_file(path, 256);
	if (!text)
		return -1;
	text[strcspn(text, "\n")] = '\0';
	snprintf(buf, len, "%s", text);
	free(text);
	return buf[0] ? 0 : -1;
}

/* modules.dep names the module: "extra/nf_pinhole_ftp.ko[.xz]: deps" */
static bool modules_dep_has(const char *release)
{
	char rel[512], path[PATH_MAX];
	const char *p, *name = "/" PINHOLE_MODULE_NAME ".ko";
	bool found = false;
	char *text;

	snprintf(rel, sizeof(rel), "%s/modules.dep", release);
	path_modules(path, sizeof(path), rel);
	text = read_file(path, 1 << 24);
	if (!text)
		return false;
	for (p = text; (p = strstr(p, name)) != NULL; p += strlen(name)) {
		size_t rest = strcspn(p + strlen(name), ":\n");

		/* .ko, .ko.xz, .ko.zst, .ko.gz, then the colon */
		if (p[strlen(name) + rest] == ':' && rest <= 4) {
			found = true;
			break;
		}
	}
	free(text);
	return found;
}

void module_install_lookup(struct module_install *mi)
{
	const char *release = getenv("PINHOLECTL_KERNEL_RELEASE");
	char dir[PATH_MAX];
	struct utsname uts;
	struct dirent *d;
	size_t used = 0;
	DIR *dh;

	memset(mi, 0, sizeof(*mi));
	if (!release && uname(&uts) == 0)
		release = uts.release;
	snprintf(mi->release, sizeof(mi->release), "%s", release ? release : "?");
	mi->installed = modules_dep_has(mi->release);
	path_modules(dir, sizeof(dir), "");
	dh = opendir(dir);
	if (!dh)
		return;
	while ((d = readdir(dh)) != NULL) {
		if (d->d_name[0] == '.' || strcmp(d->d_name, mi->release) == 0 ||
		    !modules_dep_has(d->d_name))
			continue;
		if (used < sizeof(mi->other_releases))
			used += (size_t)snprintf(mi->other_releases + used,
						 sizeof(mi->other_releases) - used,
						 "%s%s", used ? ", " : "",
						 d->d_name);
	}
	closedir(dh);
}

/* "  0: 00000000:0015 00000000:0000 0A ..." : local port, state LISTEN */
static void scan_listen(const char *rel, const unsigned int *want,
			size_t nwant, unsigned int *found, size_t max,
			size_t *n)
{
	char path[PATH_MAX], *text, *line;
	unsigned int port, state, i;
	size_t j;

	path_proc(path, sizeof(path), rel);
	text = read_file(path, 1 << 24);
	if (!text)
		return;
	for (line = strchr(text, '\n'); line; line = strchr(line + 1, '\n')) {
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x",
			   &port, &state) != 2 || state != 0x0a)
			continue;
		for (i = 0; i < nwant && want[i] != port; i++)
			;
		if (nwant && i == nwant)
			continue;
		for (j = 0; j < *n && found[j] != port; j++)
			;
		if (j == *n && *n < max)
			found[(*n)++] = port;
	}
	free(text);
}

size_t listening_ports(const unsigned int *want, size_t nwant,
		       unsigned int *found, size_t max)
{
	size_t n = 0;

	scan_listen("net/tcp", want, nwant, found, max, &n);
	scan_listen("net/tcp6", want, nwant, found, max, &n);
	return n;
}
