/*
 * tap.h: a tiny TAP producer for the core unit tests (no server, no framework).
 */
#ifndef CORE_TAP_H
#define CORE_TAP_H

#include <stdio.h>

static int	tap_count = 0;
static int	tap_failed = 0;

#define ok(cond, ...) \
	do { \
		tap_count++; \
		if (cond) \
			printf("ok %d - ", tap_count); \
		else \
		{ \
			tap_failed++; \
			printf("not ok %d - ", tap_count); \
		} \
		printf(__VA_ARGS__); \
		printf("\n"); \
	} while (0)

static int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		fprintf(stderr, "# %d of %d core tests failed\n", tap_failed, tap_count);
	return tap_failed ? 1 : 0;
}

#endif
