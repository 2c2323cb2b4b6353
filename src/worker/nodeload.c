/* The node's CPU and memory load, from /proc/stat and /proc/meminfo. */
#include "worker/nodeload.h"

#include <unistd.h>

static double
nodeload_clamp_pct(double pct)
{
	if (pct < 0)
		return 0;
	if (pct > 100)
		return 100;
	return pct;
}

int
nodeload_sample(struct nodeload *nl, double *cpu_pct, double *mem_pct)
{
	struct procfs_cpu cpu;
	struct procfs_meminfo mi;
	unsigned long long dtotal, didle;

	*cpu_pct = 0;
	*mem_pct = 0;
	if (procfs_read_cpu(&cpu) == -1 || procfs_read_meminfo(&mi) == -1)
		return -1;

	/*
	 * The counters only grow, except that taking a CPU offline drops its
	 * ticks from the sum and iowait is known to step backwards: treat a
	 * shrinking total as a fresh start and a shrinking idle as no idle.
	 */
	if (nl->have_last && cpu.total > nl->last.total) {
		dtotal = cpu.total - nl->last.total;
		didle = cpu.idle > nl->last.idle ? cpu.idle - nl->last.idle : 0;
		if (didle > dtotal)
			didle = dtotal;
		*cpu_pct = nodeload_clamp_pct(100.0 * (double)(dtotal - didle) /
					      (double)dtotal);
	}
	nl->last = cpu;
	nl->have_last = 1;

	/* MemAvailable is an estimate and may exceed MemTotal briefly. */
	*mem_pct = nodeload_clamp_pct(
	    100.0 * (double)(mi.mem_total_kb - mi.mem_available_kb) /
	    (double)mi.mem_total_kb);
	return 0;
}

int
nodeload_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (int)n;
}

long long
nodeload_mem_total_kb(void)
{
	struct procfs_meminfo mi;

	if (procfs_read_meminfo(&mi) == -1)
		return -1;
	return mi.mem_total_kb;
}
