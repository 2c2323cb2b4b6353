/*
 * libFuzzer target for signame_to_number, which reads signal names from the
 * CLI and from peers. Beyond not crashing: every name it accepts must be a
 * signal whose printed name reads back as the same number.
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/signame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name;
	int sig;

	if ((name = malloc(size + 1)) == NULL)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	sig = signame_to_number(name);
	if (sig != -1) {
		if (sig < 1 || sig > SIGRTMAX)
			abort();
		if (signame_to_number(signame_from_number(sig)) != sig)
			abort();
	}
	free(name);
	return 0;
}
