#include "dev/dev.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmem.h"

#define DEV_MAX_CHILDREN 65

/* Children to stop on the way out; a signal handler reads it too. */
static volatile pid_t dev_children[DEV_MAX_CHILDREN];
static volatile int dev_nchildren;

static void
dev_usage(FILE *f)
{
	fprintf(f, "usage: drover dev [--workers N] [--bind HOST:PORT] "
	    "[--api HOST:PORT] [--heartbeat MS]\n"
	    "  a master and N workers (default 2) on this machine, with a "
	    "throwaway state dir, then the shell;\n"
	    "  leaving the shell stops them all.\n");
}

/* Start argv (argv[0] = "master" or "worker") as a child of this binary. */
static pid_t
dev_spawn(char *const *argv, const char *logpath)
{
	char self[PATH_MAX];
	ssize_t n;
	pid_t pid;
	int fd;

	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) == -1)
		fatal("readlink /proc/self/exe");
	self[n] = '\0';
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		/*
		 * Own process group: Ctrl-C at the shell must not reach the
		 * daemons. PDEATHSIG: if the shell dies, they stop too.
		 */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if ((fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600)) != -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd != -1) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		char **args = xcalloc(64, sizeof *args);
		int i = 0;

		args[i++] = (char *)"drover";
		for (; argv[i - 1] != NULL && i < 63; i++)
			args[i] = argv[i - 1];
		args[i] = NULL;
		execv(self, args);
		_exit(127);
	}
	if (dev_nchildren < DEV_MAX_CHILDREN)
		dev_children[dev_nchildren++] = pid;
	return pid;
}

static void
dev_stop_children(void)
{
	int64_t deadline;
	int status, left;

	for (int i = 0; i < dev_nchildren; i++)
		if (dev_children[i] > 0)
			kill(dev_children[i], SIGTERM);
	deadline = util_now_ms() + 5000;
	do {
		left = 0;
		for (int i = 0; i < dev_nchildren; i++) {
			if (dev_children[i] <= 0)
				continue;
			if (waitpid(dev_children[i], &status, WNOHANG) ==
			    dev_children[i])
				dev_children[i] = 0;
			else
				left++;
		}
		if (left > 0) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	} while (left > 0 && util_now_ms() < deadline);
	for (int i = 0; i < dev_nchildren; i++) {
		if (dev_children[i] <= 0)
			continue;
		kill(dev_children[i], SIGKILL);
		waitpid(dev_children[i], &status, 0);
		dev_children[i] = 0;
	}
	dev_nchildren = 0;
}

static void
dev_on_fatal_signal(int sig)
{
	for (int i = 0; i < dev_nchildren; i++)
		if (dev_children[i] > 0)
			kill(dev_children[i], SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
dev_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(path);
	return 0;
}

/* Did a child already exit? Then say so and where its log is. */
static bool
dev_child_died(pid_t pid, const char *what, const char *logpath)
{
	int status;

	if (waitpid(pid, &status, WNOHANG) != pid)
		return false;
	for (int i = 0; i < dev_nchildren; i++)
		if (dev_children[i] == pid)
			dev_children[i] = 0;
	fprintf(stderr, "drover: the %s exited at start; its log (%s) says:\n",
	    what, logpath);
	char *log = util_read_file(logpath, 1 << 20, NULL);

	if (log != NULL) {
		fprintf(stderr, "%s", log);
		free(log);
	}
	return true;
}

/* Wait until the API answers /healthz. */
static int
dev_wait_api(struct client *c, pid_t master, const char *logpath)
{
	int64_t deadline = util_now_ms() + 15000;
	json_t *reply;
	char *cause;

	while (util_now_ms() < deadline) {
		cause = NULL;
		if (client_call(c, "GET", "/healthz", NULL, &reply, &cause) == 200) {
			json_decref(reply);
			return 0;
		}
		json_decref(reply);
		free(cause);
		if (dev_child_died(master, "master", logpath))
			return -1;
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "drover: the master did not answer within 15 s "
	    "(log: %s)\n", logpath);
	return -1;
}

/* Wait until want nodes are ready. */
static int
dev_wait_nodes(struct client *c, int want)
{
	int64_t deadline = util_now_ms() + 20000;
	json_t *reply, *n;
	char *cause;
	size_t i;

	while (util_now_ms() < deadline) {
		int ready = 0;

		cause = NULL;
		if (client_call(c, "GET", "/v1/nodes", NULL, &reply, &cause) ==
		    200) {
			json_array_foreach(reply, i, n) {
				const char *s = json_string_value(
				    json_object_get(n, "state"));

				if (s != NULL && strcmp(s, "ready") == 0)
					ready++;
			}
		}
		json_decref(reply);
		free(cause);
		if (ready >= want)
			return 0;
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	return -1;
}

static char *
dev_read_token(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *t;

	t = util_read_file(path, 4096, NULL);
	free(path);
	if (t != NULL)
		util_chomp(t);
	return t;
}

static void
dev_install_signals(void)
{
	signal(SIGTERM, dev_on_fatal_signal);
	signal(SIGHUP, dev_on_fatal_signal);
	/* Ctrl-C belongs to the shell's line editing, not to the cluster. */
	signal(SIGINT, SIG_IGN);
}

int
dev_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "workers", required_argument, NULL, 'w' },
		{ "bind", required_argument, NULL, 'b' },
		{ "api", required_argument, NULL, 'a' },
		{ "heartbeat", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bind = "127.0.0.1:7400", *api = "127.0.0.1:7401";
	const char *hb = "1000";
	char tmpl[] = "/tmp/drover-dev.XXXXXX", *dir, *mdir, *mlog, *url;
	char *token = NULL, *admin = NULL, *cause = NULL, *host;
	struct client *c = NULL;
	long workers = 2;
	int ch, port, rc = 1;
	pid_t master;
	char *end;

	log_init("dev");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			workers = strtol(optarg, &end, 10);
			if (*end != '\0' || workers < 0 || workers > 64) {
				fprintf(stderr, "drover dev: --workers must be "
				    "0 to 64\n");
				return 2;
			}
			break;
		case 'b':
			bind = optarg;
			break;
		case 'a':
			api = optarg;
			break;
		case 'H':
			hb = optarg;
			break;
		case 'h':
			dev_usage(stdout);
			return 0;
		default:
			dev_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		dev_usage(stderr);
		return 2;
	}
	if (util_parse_hostport(bind, &host, &port, &cause) == -1 ||
	    (free(host), util_parse_hostport(api, &host, &port, &cause)) == -1) {
		fprintf(stderr, "drover dev: %s\n", cause);
		free(cause);
		return 2;
	}
	free(host);
	if ((dir = mkdtemp(tmpl)) == NULL)
		fatal("mkdtemp");
	dev_install_signals();
	mdir = xasprintf("%s/master", dir);
	mlog = xasprintf("%s/master.log", dir);
	url = xasprintf("http://%s", api);

	master = dev_spawn((char *const[]){ (char *)"master",
	    (char *)"--bind", (char *)bind, (char *)"--api", (char *)api,
	    (char *)"--state", mdir, (char *)"--heartbeat", (char *)hb, NULL },
	    mlog);
	c = client_new(url, NULL);
	if (dev_wait_api(c, master, mlog) == -1)
		goto out;
	token = dev_read_token(mdir, "join.token");
	admin = dev_read_token(mdir, "admin.token");
	if (token == NULL || admin == NULL) {
		fprintf(stderr, "drover: the master wrote no tokens in %s\n", mdir);
		goto out;
	}
	client_free(c);
	c = client_new(url, admin);
	for (long i = 1; i <= workers; i++) {
		char *name = xasprintf("w%ld", i);
		char *wdir = xasprintf("%s/%s", dir, name);
		char *wlog = xasprintf("%s/%s.log", dir, name);

		dev_spawn((char *const[]){ (char *)"worker", (char *)"--join",
		    (char *)bind, (char *)"--token", token, (char *)"--name",
		    name, (char *)"--dir", wdir,
		    /* dev leaves no process behind: the apps go with it. */
		    (char *)"--stop-apps-on-exit", NULL }, wlog);
		free(name);
		free(wdir);
		free(wlog);
	}
	if (dev_wait_nodes(c, (int)workers) == -1) {
		fprintf(stderr, "drover: the workers did not all join within "
		    "20 s; logs are in %s\n", dir);
		goto out;
	}
	fprintf(stderr, "drover dev: master on %s with %ld workers; logs in %s\n"
	    "  from another terminal: export DROVER_API=%s DROVER_TOKEN=%s\n"
	    "  the dashboard: %s/ui/ (paste the token above)\n",
	    url, workers, dir, url, admin, url);
	rc = cli_shell(url, admin);
out:
	client_free(c);
	dev_stop_children();
	nftw(dir, dev_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(token);
	free(admin);
	free(mdir);
	free(mlog);
	free(url);
	return rc;
}

int
dev_master_shell(int argc, char **argv)
{
	const char *api = "127.0.0.1:7401";
	char *state = NULL, *mlog, *admin = NULL, *url;
	char **args = xcalloc((size_t)argc + 1, sizeof *args);
	struct client *c;
	int n = 0, rc = 1;
	pid_t master;

	log_init("master");
	/* The master's own options, minus --shell; note where it will be. */
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--shell") == 0)
			continue;
		args[n++] = argv[i];
		if (strcmp(argv[i], "--api") == 0 && i + 1 < argc)
			api = argv[i + 1];
		else if (strncmp(argv[i], "--api=", 6) == 0)
			api = argv[i] + 6;
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			state = xstrdup(argv[i + 1]);
		else if (strncmp(argv[i], "--state=", 8) == 0)
			state = xstrdup(argv[i] + 8);
	}
	args[n] = NULL;
	if (state == NULL)
		state = util_default_state_dir();
	if (util_mkdir_p(state, 0700) == -1)
		fatal("cannot create state dir %s", state);
	mlog = xasprintf("%s/master.log", state);
	url = xasprintf("http://%s", api);
	dev_install_signals();
	master = dev_spawn(args, mlog);
	c = client_new(url, NULL);
	if (dev_wait_api(c, master, mlog) == 0 &&
	    (admin = dev_read_token(state, "admin.token")) != NULL) {
		char *join = dev_read_token(state, "join.token");

		fprintf(stderr, "drover master: REST API on %s, log in %s\n"
		    "  workers join with: drover worker --join HOST:PORT "
		    "--token %s\n", url, mlog, join != NULL ? join : "?");
		free(join);
		rc = cli_shell(url, admin);
	}
	client_free(c);
	dev_stop_children();
	free(args);
	free(admin);
	free(state);
	free(mlog);
	free(url);
	return rc;
}
