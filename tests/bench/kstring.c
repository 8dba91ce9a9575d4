// SPDX-License-Identifier: GPL-2.0
/*
 * The string routines an x86-64 Linux kernel runs, for engine_bench.
 *
 * engine_bench must time the code the module runs. The engine called
 * memchr() until it learnt to scan a word at a time in its own C, and the
 * compiler may emit memcpy()/memset() calls for struct copies: in a user
 * program those would bind to glibc's vectorised versions, which the
 * kernel does not have. For x86-64 the kernel has
 * arch versions of memcpy, memset and memmove only
 * (arch/x86/include/asm/string_64.h: __HAVE_ARCH_MEMCPY, _MEMSET,
 * _MEMMOVE); memchr, memcmp and strlen come from lib/string.c, which is
 * compiled -ffreestanding (so the compiler cannot turn its loops back
 * into library calls). This file repeats those definitions. Defined in
 * the executable, they take precedence over glibc's for every call made
 * from it (an executable's own symbols cannot be interposed), and
 * tests/bench/Makefile refuses to link when the engine object needs a
 * routine this file does not define.
 *
 * memcpy/memset/memmove are the variants the kernel's alternatives pick
 * on a CPU with FSRM/ERMS (Linux 6.1 arch/x86/lib/memcpy_64.S,
 * memset_64.S): a bare "rep movsb" / "rep stosb". On an older CPU the
 * kernel would use an unrolled word loop instead; the engine copies only
 * a few bytes at a time, so the difference does not show.
 */
#include <stddef.h>

#include "kstring.h"

/* lib/string.c, Linux 6.1: a byte loop (no arch version on x86-64). */
void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	while (n-- != 0) {
		if ((unsigned char)c == *p++)
			return (void *)(p - 1);
	}
	return NULL;
}

/*
 * lib/string.c, Linux 6.1, with CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS
 * (x86): a word at a time while whole words remain, then bytes.
 */
int memcmp(const void *cs, const void *ct, size_t count)
{
	const unsigned char *su1, *su2;
	int res = 0;

	if (count >= sizeof(unsigned long)) {
		const unsigned long *u1 = cs;
		const unsigned long *u2 = ct;

		do {
			unsigned long a, b;

			__builtin_memcpy(&a, u1, sizeof(a));	/* get_unaligned() */
			__builtin_memcpy(&b, u2, sizeof(b));
			if (a != b)
				break;
			u1++;
			u2++;
			count -= sizeof(unsigned long);
		} while (count >= sizeof(unsigned long));
		cs = u1;
		ct = u2;
	}
	for (su1 = cs, su2 = ct; 0 < count; ++su1, ++su2, count--)
		if ((res = *su1 - *su2) != 0)
			break;
	return res;
}

/* lib/string.c, Linux 6.1: a byte loop. */
size_t strlen(const char *s)
{
	const char *sc;

	for (sc = s; *sc != '\0'; ++sc)
		/* nothing */;
	return sc - s;
}

#if defined(__x86_64__)
void *memcpy(void *to, const void *from, size_t n)
{
	void *ret = to;

	asm volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(n) : : "memory");
	return ret;
}

void *memset(void *s, int c, size_t n)
{
	void *ret = s;

	asm volatile("rep stosb" : "+D"(s), "+c"(n) : "a"(c) : "memory");
	return ret;
}
#else
/* Not the kernel's code on this architecture: plain loops, said so. */
void *memcpy(void *to, const void *from, size_t n)
{
	unsigned char *d = to;
	const unsigned char *s = from;

	while (n--)
		*d++ = *s++;
	return to;
}

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}
#endif

/*
 * Forward copies as memcpy; an overlapping copy to a higher address
 * backwards, a byte at a time (the kernel's memmove_64.S copies words
 * there, a path the engine never takes).
 */
void *memmove(void *dest, const void *src, size_t count)
{
	unsigned char *d = dest;
	const unsigned char *s = src;

	if (d <= s || d >= s + count)
		return memcpy(dest, src, count);
	while (count--)
		d[count] = s[count];
	return dest;
}

const char *kstring_describe(void)
{
#if defined(__x86_64__)
	return "kernel x86-64 string routines (lib/string.c memchr/memcmp/strlen, rep movsb/stosb memcpy/memset)";
#else
	return "byte-loop string routines (not this architecture's kernel code)";
#endif
}
