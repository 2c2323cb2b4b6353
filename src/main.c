/*
 * drover: one binary, several roles. The first argument picks the role:
 * master, worker, dev (a local cluster), or a client command. The one
 * exception, drover-shim, the per-app supervisor the worker execs, is a
 * small program of its own (worker/shim-main.c): it must start fast.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "dev/dev.h"
#include "master/master.h"
#include "worker/worker.h"

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "master") == 0) {
		for (int i = 2; i < argc; i++)
			if (strcmp(argv[i], "--shell") == 0)
				return dev_master_shell(argc - 1, argv + 1);
		return master_main(argc - 1, argv + 1);
	}
	if (argc >= 2 && strcmp(argv[1], "worker") == 0)
		return worker_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "dev") == 0)
		return dev_main(argc - 1, argv + 1);
	return cli_main(argc, argv);
}
