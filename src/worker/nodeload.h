/* The node's own load, as the heartbeat reports it: CPU % and memory %. */
#ifndef DROVER_NODELOAD_H
#define DROVER_NODELOAD_H

#include "worker/procfs.h"

struct nodeload {
	struct procfs_cpu last; /* previous /proc/stat sample */
	int have_last;
};

/*
 * Take a sample. *cpu_pct is the share of all CPUs busy since the previous
 * sample (0 on the first call), *mem_pct the share of memory not available.
 * Returns 0, or -1 when /proc cannot be read (both then 0).
 */
int nodeload_sample(struct nodeload *nl, double *cpu_pct, double *mem_pct);

/*
 * Number of online CPUs (at least 1) and total memory in kB (-1 when
 * /proc/meminfo cannot be read), for registration.
 */
int nodeload_cpus(void);
long long nodeload_mem_total_kb(void);

#endif
