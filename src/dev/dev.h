/*
 * Running drover's daemons as children of a shell: `drover dev` (a master
 * and N workers on loopback with a throwaway state dir) and
 * `drover master --shell` (a master with the shell on its terminal). The
 * shell is a REST client like any other; it reaches the master only through
 * the API.
 */
#ifndef DROVER_DEV_H
#define DROVER_DEV_H

int dev_main(int argc, char **argv);
/* argv[0] is "master"; argv holds --shell among the master's options. */
int dev_master_shell(int argc, char **argv);

#endif
