/*
 * libFuzzer target for the ELF reader the `copy` command runs over the
 * files it sends: elfdeps_inspect on the raw input. Beyond not crashing,
 * an accepted image must come back with strings that are strings and a
 * DT_NEEDED count within the bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/elfdeps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elfdeps_image img;
	char *cause = NULL;
	size_t i;

	if (elfdeps_inspect(data, size, &img, &cause) == -1) {
		/* Every refusal says why. */
		if (cause == NULL || *cause == '\0')
			abort();
		free(cause);
		return 0;
	}
	if (img.nneeded > ELFDEPS_MAX_NEEDED ||
	    (img.nneeded > 0 && img.needed == NULL))
		abort();
	/* Each string lies within the input, so it is shorter than it. */
	for (i = 0; i < img.nneeded; i++)
		if (strlen(img.needed[i]) >= size)
			abort();
	if ((img.interp != NULL && strlen(img.interp) >= size) ||
	    (img.soname != NULL && strlen(img.soname) >= size) ||
	    (img.rpath != NULL && strlen(img.rpath) >= size) ||
	    (img.runpath != NULL && strlen(img.runpath) >= size))
		abort();
	elfdeps_image_clear(&img);
	return 0;
}
