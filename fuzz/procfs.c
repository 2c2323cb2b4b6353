/*
 * libFuzzer target for the /proc parsers. Each parser gets an exact-size
 * copy of the input with nothing after it, so a read past len is caught by
 * ASan rather than landing in libFuzzer's own padding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procfs_stat st;
	struct procfs_status ss;
	struct procfs_meminfo mi;
	struct procfs_cpu cpu;
	struct procfs_io io;
	char *text;

	if ((text = malloc(size == 0 ? 1 : size)) == NULL)
		return 0;
	memcpy(text, data, size);

	if (procfs_parse_stat(text, size, &st) == 0) {
		/* comm must come back a string that fits. */
		if (strnlen(st.comm, sizeof st.comm) >= sizeof st.comm ||
		    st.pid <= 0)
			abort();
	}
	(void)procfs_parse_status(text, size, &ss);
	if (procfs_parse_meminfo(text, size, &mi) == 0 && mi.mem_total_kb <= 0)
		abort();
	if (procfs_parse_io(text, size, &io) == 0 &&
	    (io.read_bytes < 0 || io.write_bytes < 0))
		abort();
	if (procfs_parse_cpu(text, size, &cpu) == 0 && cpu.idle > cpu.total)
		abort();

	free(text);
	return 0;
}
