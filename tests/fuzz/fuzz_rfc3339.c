/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: enqueued_at strings through rfc3339_parse_us. It reads
 * only the bytes it is given (the input is not NUL-terminated), and whatever
 * parses is in the range a four-digit year and a +-23:59 offset allow, and
 * parses to the same instant again after another minute was parsed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rfc3339.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0000-01-01T00:00:00+23:59 .. 9999-12-31T23:59:59.999999-23:59, in us. */
#define MIN_US	(-62167219200LL - 86400) * 1000000
#define MAX_US	(253402300800LL + 86400) * 1000000
#define OTHER	"2001-02-03T04:05:06Z"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t us, again;
	uint8_t *copy;

	/* An exact-size heap copy: AddressSanitizer catches a read past the end. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	for (size_t i = 0; i < size; i++)
		copy[i] = data[i];
	if (rfc3339_parse_us((const char *)copy, size, &us) == 0) {
		if (us < MIN_US || us > MAX_US) {
			fprintf(stderr, "fuzz_rfc3339: %lld out of range\n", (long long)us);
			abort();
		}
		/* The remembered minute must not change a result: parse again after another minute. */
		if (rfc3339_parse_us(OTHER, sizeof(OTHER) - 1, &again) != 0 ||
		    rfc3339_parse_us((const char *)copy, size, &again) != 0 || again != us) {
			fprintf(stderr, "fuzz_rfc3339: %lld, then %lld\n", (long long)us,
			    (long long)again);
			abort();
		}
	}
	free(copy);
	return 0;
}
