/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: /proc/PID/stat text through proc_cpu_parse (a process
 * chooses its own command name, parentheses and spaces included). Whatever
 * parses must parse the same again with bytes appended after the fields it
 * reads, and nothing may read past the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_cpu a, b;
	char *more;

	/* A copy of exactly size bytes: ASan sees any read past the end. */
	char *p = malloc(size ? size : 1);

	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	if (proc_cpu_parse(p, size, &a) == 0 && (more = malloc(size + 3)) != NULL) {
		memcpy(more, p, size);
		memcpy(more + size, " 7\n", 3);
		if (proc_cpu_parse(more, size + 3, &b) != 0 || a.pc_self != b.pc_self ||
		    a.pc_children != b.pc_children) {
			fprintf(stderr, "fuzz_proc: trailing bytes changed the result\n");
			abort();
		}
		free(more);
	}
	free(p);
	return 0;
}
