/* SPDX-License-Identifier: GPL-2.0 */
/* kstring.c: the kernel's string routines, for engine_bench. */
#ifndef PINHOLE_BENCH_KSTRING_H
#define PINHOLE_BENCH_KSTRING_H

#include <stddef.h>

void *memchr(const void *s, int c, size_t n);
int memcmp(const void *cs, const void *ct, size_t count);
size_t strlen(const char *s);
void *memcpy(void *to, const void *from, size_t n);
void *memset(void *s, int c, size_t n);
void *memmove(void *dest, const void *src, size_t count);

/* One line saying which routines these are (for the benchmark's output). */
const char *kstring_describe(void);

#endif
