// SPDX-License-Identifier: GPL-2.0
/*
 * Runs a libFuzzer target without libFuzzer: each argument is a file or a
 * directory of files, fed once to LLVMFuzzerTestOneInput(). A violated
 * invariant aborts, so finishing means every input passed. Lets the
 * corpus be replayed with plain gcc.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long size;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -1;
	}
	buf = malloc(size ? size : 1);
	if (!buf || fread(buf, 1, size, f) != (size_t)size) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, size);
	free(buf);
	return 0;
}

static int run_path(const char *path, long *count)
{
	struct stat st;
	struct dirent *e;
	char child[4096];
	DIR *d;
	int err = 0;

	if (stat(path, &st))
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		if (stat(child, &st) == 0 && S_ISREG(st.st_mode)) {
			(*count)++;
			err |= run_file(child);
		}
	}
	closedir(d);
	return err;
}

int main(int argc, char **argv)
{
	long count = 0;
	int i, err = 0;

	for (i = 1; i < argc; i++) {
		if (run_path(argv[i], &count)) {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			err = 1;
		}
	}
	printf("replayed %ld inputs\n", count);
	return err || count == 0;
}
