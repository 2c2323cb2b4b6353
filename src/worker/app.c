#include "worker/app.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>

#include "common/jsonx.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/signame.h"
#include "common/util.h"
#include "common/xmem.h"
#include "worker/appdir.h"
#include "worker/applog.h"
#include "worker/cause.h"
#include "worker/check.h"
#include "worker/procfs.h"
#include "worker/reap.h"
#include "worker/sampler.h"
#include "worker/supervisor.h"
#include "worker/spawn.h"
#include "worker/store.h"
#include "worker/worker.h"
#include "worker/workerstate.h"

#define APP_ARGS_MAX 4096
#define APP_ENV_MAX 4096
#define APP_LOG_MAX_DEFAULT (64LL * 1024 * 1024)
#define APP_LOG_KEEP_DEFAULT 3
/*
 * Dead apps are kept (their exit status, rusage and log) for an hour, and
 * at most this many; past that the oldest go, log files included, so a
 * worker that ran millions of short jobs is as small as a fresh one.
 */
#define APP_DEAD_KEEP_MS (3600 * 1000LL)
#define APP_DEAD_MAX 1000
/* Dead apps the state file keeps for a restarted worker (newest first). */
#define APP_STATE_DEAD_MAX 100
/* How long a worker that stops its apps waits for their ends. */
#define APP_END_WAIT_MS 3000

void (*app_on_output)(struct worker *, struct app *);
void (*app_on_rotate)(struct worker *, struct app *,
    const struct applog_rotation *);
void (*app_on_forget)(struct worker *, struct app *);
/*
 * Set while app_adopt_all takes back the apps of the last worker: an end
 * found then may be old, so its group id may be reused and is not killed.
 */
static bool app_adopting;

static const char *const app_phase_names[] = {
	[APP_RUNNING] = "running", [APP_STOPPING] = "stopping",
	[APP_WAITING] = "waiting", [APP_EXITED] = "exited",
	[APP_FAILED] = "failed",
};
static const char *const app_event_names[] = {
	[APP_EV_STOP] = "stop", [APP_EV_DEADLINE] = "deadline",
	[APP_EV_REAPED] = "reaped", [APP_EV_RESTART_DUE] = "restart due",
	[APP_EV_UNHEALTHY] = "unhealthy",
};
static const char *const app_restart_names[] = {
	[APP_RESTART_NEVER] = "never", [APP_RESTART_ON_FAILURE] = "on-failure",
	[APP_RESTART_ALWAYS] = "always",
};

struct app *
app_find(struct worker *w, const char *id)
{
	return w->app_index != NULL ? zhashx_lookup(w->app_index, id) : NULL;
}

/*
 * a joins w->apps, newest first: findable by id, and on the live list
 * until app_live_prune finds it done with (a worker keeps a thousand dead
 * apps, which each loop turn would otherwise walk past several times).
 */
static void
app_join(struct worker *w, struct app *a)
{
	a->next = w->apps;
	w->apps = a;
	if (w->app_index == NULL)
		w->app_index = zhashx_new();
	zhashx_update(w->app_index, a->id, a);
	a->next_live = w->live;
	w->live = a;
}

bool
app_is_alive(const struct app *a)
{
	return a->phase == APP_RUNNING || a->phase == APP_STOPPING;
}

/* Dead for good: no process, and no restart to come. */
static bool
app_is_dead(const struct app *a)
{
	return a->phase == APP_EXITED || a->phase == APP_FAILED;
}

/*
 * Drop from the live list the apps done with for good: dead (for good),
 * with no log to watch.
 */
static void
app_live_prune(struct worker *w)
{
	struct app **p = &w->live;

	while (*p != NULL) {
		if (app_is_dead(*p) && (*p)->watch == -1)
			*p = (*p)->next_live;
		else
			p = &(*p)->next_live;
	}
}

/*
 * a, about to be freed, leaves the index and the live list (if still on
 * it); the caller has unlinked it from w->apps.
 */
static void
app_leave(struct worker *w, struct app *a)
{
	zhashx_delete(w->app_index, a->id);
	for (struct app **p = &w->live; *p != NULL; p = &(*p)->next_live)
		if (*p == a) {
			*p = a->next_live;
			return;
		}
}

/* The kernel's view of a live process, in the words ps uses. */
static const char *
app_kernel_state(char s)
{
	switch (s) {
	case 'R':
		return "running";
	case 'S':
	case 'D':
	case 'I':
		return "sleeping";
	case 'T':
	case 't':
		return "stopped";
	case 'Z':
		return "zombie";
	default:
		return "dead";
	}
}

static long long
app_tv_ms(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000 + tv->tv_usec / 1000;
}

/*
 * The app as the master records it. Of a live app, the kernel's word now:
 * its state and CPU times from /proc/PID/stat, and its peak RSS (VmHWM)
 * from /proc/PID/status; or, just_started, the current RSS from stat
 * alone, which right after the exec (a new memory map) is the peak, for a
 * system call less on each launch.
 */
static json_t *
app_json(const struct app *a, bool just_started)
{
	json_t *j = json_object();
	struct procfs_stat st;
	struct procfs_status ss;
	bool alive = app_is_alive(a);

	json_object_set_new(j, "id", json_string(a->id));
	json_object_set_new(j, "name", json_string(a->name));
	json_object_set_new(j, "path", json_string(a->path));
	json_object_set_new(j, "artifact", a->artifact != NULL ?
	    json_string(a->artifact) : json_null());
	json_object_set_new(j, "args", json_incref(a->args));
	json_object_set_new(j, "pid", a->pid > 0 ? json_integer(a->pid) :
	    json_null());
	json_object_set_new(j, "started_at", json_integer(a->started_at));
	json_object_set_new(j, "ended_at", alive ? json_null() :
	    json_integer(a->ended_at));
	json_object_set_new(j, "restarts", json_integer(a->restarts));
	json_object_set_new(j, "health", a->check != NULL ?
	    json_string(check_health_name(check_health(a->check))) :
	    json_null());
	if (alive) {
		/*
		 * Unreadable: the leader ended and its supervisor reaped it,
		 * but the word of its end (with the cause) is not in yet. The
		 * old word for an ended, unreaped leader: never "dead" without
		 * a cause.
		 */
		const char *state = "zombie";
		long long u = 0, s = 0, rss = 0;

		if (procfs_read_stat(a->pid, &st) == 0) {
			state = app_kernel_state(st.state);
			u = procfs_ticks_to_ms(st.utime);
			s = procfs_ticks_to_ms(st.stime);
			if (just_started && st.rss_pages > 0)
				rss = st.rss_pages * (sysconf(_SC_PAGESIZE) /
				    1024);
		}
		if (!just_started && procfs_read_status(a->pid, &ss) == 0 &&
		    ss.vm_hwm_kb > 0)
			rss = ss.vm_hwm_kb;
		json_object_set_new(j, "state", json_string(state));
		json_object_set_new(j, "cause", json_null());
		json_object_set_new(j, "exit_code", json_null());
		json_object_set_new(j, "signal", json_null());
		json_object_set_new(j, "cpu_user_ms", json_integer(u));
		json_object_set_new(j, "cpu_sys_ms", json_integer(s));
		json_object_set_new(j, "max_rss_kb", json_integer(rss));
		return j;
	}
	/* Waiting to restart shows as "restarting", with the last cause. */
	json_object_set_new(j, "state", json_string(a->phase == APP_WAITING ?
	    "restarting" : "dead"));
	json_object_set_new(j, "cause", json_string(a->cause));
	json_object_set_new(j, "exit_code", a->has_status &&
	    WIFEXITED(a->status) ? json_integer(WEXITSTATUS(a->status)) :
	    json_null());
	json_object_set_new(j, "signal", a->has_status &&
	    WIFSIGNALED(a->status) ?
	    json_string(signame_from_number(WTERMSIG(a->status))) : json_null());
	json_object_set_new(j, "cpu_user_ms", json_integer(app_tv_ms(&a->ru.ru_utime)));
	json_object_set_new(j, "cpu_sys_ms", json_integer(app_tv_ms(&a->ru.ru_stime)));
	json_object_set_new(j, "max_rss_kb", json_integer(a->ru.ru_maxrss));
	return j;
}

json_t *
app_to_json(const struct app *a)
{
	return app_json(a, false);
}

static void
app_reply(struct worker *w, uint32_t id, int type, json_t *body)
{
	/* After any held launch answer: the master learns of a start first. */
	worker_send_in_order(w, msg_new(type, id, body));
}

static void
app_send_error(struct worker *w, struct msg *req, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
app_send_error(struct worker *w, struct msg *req, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	app_reply(w, req->id, MSG_ERROR, jsonx_pack("{s:s, s:s}", "error", text,
	    "type", msg_type_name(req->type)));
}

/*
 * Its record changed: the state file is out of date, its entry too, and
 * the next save appends the new one to the journal.
 */
static void
app_changed(struct worker *w, struct app *a)
{
	w->state_dirty = true;
	free(a->state_entry);
	a->state_entry = NULL;
	if (!a->journal_due) {
		a->journal_due = true;
		a->next_changed = w->changed;
		w->changed = a;
	}
}

/* a is forgotten: the journal says so, not what changed in it. */
static void
app_forgotten(struct worker *w, struct app *a)
{
	for (struct app **p = &w->changed; *p != NULL; p = &(*p)->next_changed)
		if (*p == a) {
			*p = a->next_changed;
			break;
		}
	if (w->nforgotten == w->forgotten_cap) {
		w->forgotten_cap = w->forgotten_cap == 0 ? 64 :
		    w->forgotten_cap * 2;
		w->forgotten = xreallocarray(w->forgotten, w->forgotten_cap,
		    sizeof *w->forgotten);
	}
	w->forgotten[w->nforgotten++] = xstrdup(a->id);
	w->state_dirty = true;
}

/* The forgotten ids are in the state file now, or never will be: drop them. */
static void
app_forgotten_saved(struct worker *w)
{
	for (size_t i = 0; i < w->nforgotten; i++)
		free(w->forgotten[i]);
	w->nforgotten = 0;
}

/* Tell the master an app changed (it ended). */
static void
app_push_state(struct worker *w, struct app *a)
{
	app_changed(w, a);
	app_reply(w, 0, MSG_APP_STATE, app_to_json(a));
}

/* The stop that was waiting for this app to end gets its answer. */
static void
app_answer_stop(struct worker *w, struct app *a)
{
	if (a->stop_request == 0)
		return;
	app_reply(w, a->stop_request, MSG_SIGNALED, jsonx_pack(
	    "{s:s, s:s, s:b, s:o}", "app", a->id, "ended_by", a->stop_signal,
	    "was_dead", 0, "app_state", app_to_json(a)));
	a->stop_request = 0;
}

static int app_spawn(struct worker *, struct app *, char **cause);

/* Dead for good: nothing runs for it any more. */
static void
app_settle(struct app *a)
{
	if (a->check != NULL)
		check_stop(a->check);
	a->restart_at = 0;
	a->user_signal = 0;
}

/*
 * Whether an end (failed: exit code != 0, a signal, or an exec failure)
 * calls for a restart: never after a user's stop or kill, nor while the
 * worker shuts down, nor past max_restarts.
 */
static bool
app_should_restart(struct worker *w, const struct app *a, bool failed)
{
	if (a->user_stopped || w->stopping || a->restart == APP_RESTART_NEVER)
		return false;
	if (a->restart == APP_RESTART_ON_FAILURE && !failed)
		return false;
	return a->restarts < a->max_restarts;
}

/* Wait for the backoff, then restart (APP_EV_RESTART_DUE from app_tick). */
static void
app_schedule_restart(struct app *a)
{
	a->phase = APP_WAITING;
	a->restart_at = util_now_ms() + a->backoff_ms;
	log_info("app %s: %s; restart %d of %d in %d ms", a->id, a->cause,
	    a->restarts + 1, a->max_restarts, a->backoff_ms);
	a->backoff_ms = app_backoff_next(a->backoff_ms);
}

/*
 * Whether the run just reaped ended by a user's signal sent with kill (see
 * a->user_signal): it died of that signal, or ended within the grace after
 * it, whatever its code (a program that handles SIGTERM and exits 1 is being
 * stopped, not failing). The end's time is the supervisor's record, so a
 * worker slow to hear of it judges the same. The worker's own unhealthy kill is
 * not the user's.
 */
static bool
app_ended_by_user_signal(const struct app *a)
{
	if (a->user_signal == 0 || a->unhealthy_kill)
		return false;
	if (a->has_status && WIFSIGNALED(a->status) &&
	    WTERMSIG(a->status) == a->user_signal)
		return true;
	return a->ended_at - a->user_signal_at <= APP_USER_SIGNAL_GRACE_MS;
}

/*
 * A user's signal stops counting once the run outlives its grace. Not while
 * the leader may have ended already, its end not yet in (the supervisor's
 * word comes after it reaps): that end is judged by app_ended_by_user_signal.
 */
static void
app_user_signal_expire(struct app *a)
{
	struct pollfd p = { a->pidfd, POLLIN, 0 };

	if (util_wall_ms() - a->user_signal_at <= APP_USER_SIGNAL_GRACE_MS)
		return;
	/* A pidfd turns readable when its process ends. */
	if ((a->pidfd != -1 && poll(&p, 1, 0) == 1) ||
	    (a->pidfd == -1 && a->leader_gone))
		return;
	log_info("app %s: still running %d ms after a user's %s: its end is "
	    "up to its restart policy again", a->id, APP_USER_SIGNAL_GRACE_MS,
	    signame_from_number(a->user_signal));
	a->user_signal = 0;
}

/* The leader of a running app was reaped: restart it, or it is dead. */
static void
app_ended(struct worker *w, struct app *a)
{
	bool failed = !a->has_status || !WIFEXITED(a->status) ||
	    WEXITSTATUS(a->status) != 0;

	if (app_ended_by_user_signal(a)) {
		log_info("app %s: %s after a user's %s: stopped by the user, not "
		    "restarted", a->id, a->cause,
		    signame_from_number(a->user_signal));
		a->user_stopped = true;
	}
	a->user_signal = 0;
	if (a->check != NULL)
		check_stop(a->check);
	if (a->unhealthy_kill) {
		char was[64];

		/* "killed by SIGKILL (unhealthy: HTTP 404)" */
		snprintf(was, sizeof was, "%.63s", a->cause);
		snprintf(a->cause, sizeof a->cause, "%.63s (unhealthy: %.100s)",
		    was, check_last_error(a->check));
		failed = true;
	}
	if (app_should_restart(w, a, failed)) {
		/*
		 * What the leader left in its group goes, so the next run
		 * starts clean (a port still bound, say). While any of it is
		 * left, the group's id cannot be reused.
		 */
		if (!app_adopting)
			spawn_signal_group(a->pid, -1, SIGKILL);
		app_schedule_restart(a);
	} else {
		a->phase = APP_EXITED;
		app_settle(a);
	}
	app_push_state(w, a);
}

/* The backoff passed: start the same program again, same id and log. */
static void
app_restart(struct worker *w, struct app *a)
{
	char *cause = NULL;

	a->restarts++;
	a->unhealthy_kill = false;
	a->restart_at = 0;
	if (app_spawn(w, a, &cause) == -1) {
		snprintf(a->cause, sizeof a->cause, "%s", cause);
		free(cause);
		a->has_status = false;
		a->ended_at = util_wall_ms();
		if (app_should_restart(w, a, true))
			app_schedule_restart(a);
		else {
			log_info("app %s: restart failed: %s", a->id, a->cause);
			a->phase = APP_FAILED;
			app_settle(a);
		}
		app_push_state(w, a);
		return;
	}
	a->phase = APP_RUNNING;
	if (a->check != NULL)
		check_start(a->check, a->run_since);
	log_info("app %s: restarted (%d of %d) as pid %d", a->id, a->restarts,
	    a->max_restarts, (int)a->pid);
	app_push_state(w, a);
}

/*
 * The state table. Each (phase, event) pair that can happen has a case;
 * anything else is a bug or a race worth seeing in the log.
 */
static void
app_transition(struct worker *w, struct app *a, enum app_event ev)
{
	app_changed(w, a);
	switch (a->phase) {
	case APP_RUNNING:
		if (ev == APP_EV_STOP) {
			a->phase = APP_STOPPING;
			if (a->check != NULL)
				check_stop(a->check);
			app_signal_group(a, SIGINT);
			a->stop_signal = "SIGINT";
			return;
		}
		if (ev == APP_EV_REAPED) {
			app_ended(w, a);
			return;
		}
		if (ev == APP_EV_UNHEALTHY) {
			/* With never it stays running, marked unhealthy. */
			if (a->restart == APP_RESTART_NEVER || a->user_stopped) {
				log_info("app %s: unhealthy (%s), left running",
				    a->id, check_last_error(a->check));
			} else {
				log_info("app %s: unhealthy (%s): killing it",
				    a->id, check_last_error(a->check));
				a->unhealthy_kill = true;
				check_stop(a->check);
				app_signal_group(a, SIGKILL);
			}
			app_push_state(w, a);
			return;
		}
		break;
	case APP_STOPPING:
		if (ev == APP_EV_DEADLINE) {
			app_signal_group(a, SIGKILL);
			a->stop_signal = "SIGKILL";
			a->kill_at = 0;
			return;
		}
		if (ev == APP_EV_REAPED) {
			/* A stop ends the whole group, not only its leader. */
			spawn_signal_group(a->pid, -1, SIGKILL);
			a->phase = APP_EXITED;
			a->kill_at = 0;
			app_settle(a);
			app_answer_stop(w, a);
			app_push_state(w, a);
			return;
		}
		break;
	case APP_WAITING:
		if (ev == APP_EV_RESTART_DUE) {
			app_restart(w, a);
			return;
		}
		if (ev == APP_EV_STOP) {
			/* A user's stop or kill cancels the restart. */
			a->phase = APP_EXITED;
			app_settle(a);
			app_push_state(w, a);
			return;
		}
		break;
	case APP_EXITED:
	case APP_FAILED:
		break;
	}
	log_warnx("app %s: event '%s' is impossible in phase '%s'", a->id,
	    app_event_names[ev], app_phase_names[a->phase]);
}

/* The check's health changed: tell the master, act on unhealthy. */
static void
app_health_changed(struct worker *w, struct app *a)
{
	enum check_health h = check_health(a->check);

	if (h == CHECK_UNHEALTHY) {
		app_transition(w, a, APP_EV_UNHEALTHY);
		return;
	}
	log_info("app %s: %s", a->id, check_health_name(h));
	app_push_state(w, a);
}

/* Names from the network become file names: keep them inside the dir. */
static bool
app_id_valid(const char *id)
{
	return util_name_valid(id, PROTO_APP_ID_MAX, PROTO_APP_ID_ALSO);
}

/* argv = [path, args...]; returns -1 with *cause on a non-string. */
static char **
app_build_argv(const char *path, json_t *args, char **cause)
{
	size_t n = args != NULL ? json_array_size(args) : 0, i;
	char **argv = xcalloc(n + 2, sizeof *argv);
	json_t *v;

	argv[0] = xstrdup(path);
	json_array_foreach(args, i, v) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			*cause = xasprintf("args[%zu] must be a string without "
			    "NUL bytes", i);
			for (size_t k = 0; k <= i; k++)
				free(argv[k]);
			free(argv);
			return NULL;
		}
		argv[i + 1] = xstrdup(json_string_value(v));
	}
	return argv;
}

/*
 * A clean environment, like a service manager gives: a standard PATH, the
 * app's identity, then what the user asked for on top.
 */
static char **
app_build_env(struct worker *w, const char *id, json_t *env,
    const char *libdir, char **cause)
{
	const char *user_ld = NULL;
	size_t n = env != NULL ? json_object_size(env) : 0, i = 0;
	char **envp = xcalloc(n + 8, sizeof *envp);
	const char *key;
	json_t *v;

	envp[i++] = xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin");
	envp[i++] = xstrdup("LANG=C.UTF-8");
	envp[i++] = xstrdup("HOME=/");
	envp[i++] = xasprintf("DROVER_APP_ID=%s", id);
	envp[i++] = xasprintf("DROVER_NODE=%s", w->name);
	if (env != NULL)
		user_ld = json_string_value(json_object_get(env,
		    "LD_LIBRARY_PATH"));
	/* An artifact's own libraries come first on the loader's path. */
	if (libdir != NULL)
		envp[i++] = xasprintf("LD_LIBRARY_PATH=%s%s%s", libdir,
		    user_ld != NULL ? ":" : "", user_ld != NULL ? user_ld : "");
	json_object_foreach(env, key, v) {
		if (libdir != NULL && strcmp(key, "LD_LIBRARY_PATH") == 0)
			continue;
		if (!json_is_string(v) || key[0] == '\0' || strchr(key, '=') ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			*cause = xasprintf("env '%s' must be a string value "
			    "with a name without '='", key);
			for (size_t k = 0; k < i; k++)
				free(envp[k]);
			free(envp);
			return NULL;
		}
		envp[i++] = xasprintf("%s=%s", key, json_string_value(v));
	}
	return envp;
}

/* A pidfd on pid, but only while pid is still the process started at start. */
static int
app_open_pidfd(pid_t pid, unsigned long long start)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	/* Checked after opening: from then on the pidfd pins the process. */
	if (fd != -1 && !workerstate_same_process(pid, start,
	    workerstate_read_start)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

int
app_signal_group(const struct app *a, int sig)
{
	if (a->pidfd == -1 && a->leader_gone) {
		errno = ESRCH;
		return -1;
	}
	return spawn_signal_group(a->pid, a->pidfd, sig);
}

/* Watch the app's dir for new output while it runs. */
static void
app_watch(struct worker *w, struct app *a)
{
	if (w->inotify_fd == -1 || a->watch != -1)
		return;
	a->watch = inotify_add_watch(w->inotify_fd, a->dir,
	    IN_MODIFY | IN_CREATE | IN_MOVED_TO);
	if (a->watch == -1)
		log_warn("app %s: inotify on %s (followers poll instead)",
		    a->id, a->dir);
}

static void
app_unwatch(struct worker *w, struct app *a)
{
	if (a->watch != -1 && w->inotify_fd != -1)
		inotify_rm_watch(w->inotify_fd, a->watch);
	a->watch = -1;
}

/*
 * Start the app's program (again) through the node's supervisor: a->path,
 * argv, envp, cwd, its output into its log. app_spawn_begin sends the
 * launch; app_spawn_end waits for the supervisor's answer (they come in the
 * order sent) and returns 0 once the app has been exec'ed. Either returns
 * -1 with *cause when nothing runs.
 */
static int
app_spawn_begin(struct worker *w, struct app *a, char **cause)
{
	struct supmsg_launch l = { 0 };

	a->started_at = util_wall_ms();
	app_changed(w, a);
	/* None since the last one died (or it never started): one now. */
	if (!supervisor_connected() && app_supervisor_connect(w, cause) == -1)
		return -1;
	l.id = a->id;
	l.dir = a->dir;
	l.path = a->path;
	l.cwd = a->cwd;
	l.argv = a->argv;
	l.envp = a->envp;
	return supervisor_launch(&l, cause);
}

static int
app_spawn_end(struct worker *w, struct app *a, char **cause)
{
	struct supervisor_started res;

	if (supervisor_launch_wait(a->id, &res, cause) == -1)
		return -1;
	a->pid = res.pid;
	a->start = res.start;
	/* Taken when the app was started: it pins that very process. */
	a->pidfd = res.pidfd;
	a->leader_gone = false;
	a->supervised = true;
	a->parent_pid = supervisor_pid();
	a->parent_start = supervisor_start();
	a->run_since = util_now_ms();
	a->has_status = false;
	memset(&a->ru, 0, sizeof a->ru);
	a->cause[0] = '\0';
	app_watch(w, a);
	log_trace(TRACE_SPAWN, "app %s: started %s as pid %d", a->id, a->path,
	    (int)a->pid);
	return 0;
}

static int
app_spawn(struct worker *w, struct app *a, char **cause)
{
	if (app_spawn_begin(w, a, cause) == -1)
		return -1;
	return app_spawn_end(w, a, cause);
}

/* Read the restart policy and check of MSG_LAUNCH into a. 0 or -1, *cause. */
static int
app_launch_policy(struct msg *req, struct app *a, struct check_spec *spec,
    bool *has_check, char **cause)
{
	const char *restart = NULL;
	long long max = APP_MAX_RESTARTS_DEFAULT;
	json_t *check = NULL;
	int i;

	*has_check = false;
	if (msg_get_str(req, "restart", false, &restart, cause) == -1 ||
	    msg_get_int(req, "max_restarts", false, 0, 1000000, &max,
		cause) == -1 ||
	    jsonx_get_object(req->body, "check", false, &check, cause) == -1)
		return -1;
	a->restart = APP_RESTART_NEVER;
	if (restart != NULL) {
		for (i = 0; i <= APP_RESTART_ALWAYS; i++)
			if (strcmp(restart, app_restart_names[i]) == 0)
				break;
		if (i > APP_RESTART_ALWAYS) {
			*cause = xasprintf("restart '%.32s' is not never, "
			    "on-failure or always", restart);
			return -1;
		}
		a->restart = (enum app_restart)i;
	}
	a->max_restarts = (int)max;
	a->backoff_ms = APP_BACKOFF_FIRST_MS;
	if (check != NULL) {
		if (check_spec_parse(check, spec, cause) == -1)
			return -1;
		*has_check = true;
	}
	return 0;
}

static struct app *
app_starting_find(struct worker *w, const char *id)
{
	for (size_t i = 0; i < w->nstarting; i++)
		if (strcmp(w->starting[i].app->id, id) == 0)
			return w->starting[i].app;
	return NULL;
}

/*
 * The launch of a is over, started or not (cause: why not): record it and
 * answer request req_id once the state file has it.
 */
static void
app_launched(struct worker *w, struct app *a, uint32_t req_id,
    const char *cause, int64_t t0)
{
	if (cause != NULL) {
		/* It never ran: recorded as dead, with the reason. */
		a->phase = APP_FAILED;
		a->ended_at = util_wall_ms();
		snprintf(a->cause, sizeof a->cause, "%s", cause);
		app_settle(a);
		log_info("app %s: %s", a->id, a->cause);
	} else {
		a->phase = APP_RUNNING;
		if (a->check != NULL)
			check_start(a->check, a->run_since);
	}
	app_join(w, a);
	/*
	 * Recorded before the reply: a worker restarted now still knows it.
	 * The reply waits for the end of the loop turn, when one save records
	 * every launch of the turn (group commit).
	 */
	app_changed(w, a);
	worker_send_after_save(w, msg_new(MSG_LAUNCHED, req_id,
	    app_json(a, cause == NULL)));
	log_trace(TRACE_SPAWN, "app %s: launch took %lld us", a->id,
	    (long long)(util_now_us() - t0));
}

void
app_finish_starts(struct worker *w)
{
	/* In order, as the supervisor answers them. */
	for (size_t i = 0; i < w->nstarting; i++) {
		struct app_starting *s = &w->starting[i];
		char *cause = NULL;

		app_spawn_end(w, s->app, &cause);
		app_launched(w, s->app, s->req_id, cause, s->t0);
		free(cause);
	}
	w->nstarting = 0;
}

void
app_launch(struct worker *w, struct msg *req)
{
	const char *id, *path = NULL, *name = NULL, *cwd = NULL;
	const char *artifact = NULL;
	char *exe = NULL, *libdir = NULL;
	long long log_max = APP_LOG_MAX_DEFAULT, log_keep = APP_LOG_KEEP_DEFAULT;
	json_t *args = NULL, *env = NULL;
	char **argv = NULL, **envp = NULL, *cause = NULL;
	struct check_spec spec = { 0 };
	struct app policy = { 0 };
	bool has_check = false;
	int64_t t0 = util_now_us();
	struct app *a = NULL;

	if (msg_get_str(req, "app", true, &id, &cause) == -1 ||
	    msg_get_str(req, "path", false, &path, &cause) == -1 ||
	    msg_get_str(req, "artifact", false, &artifact, &cause) == -1 ||
	    msg_get_str(req, "name", false, &name, &cause) == -1 ||
	    msg_get_str(req, "cwd", false, &cwd, &cause) == -1 ||
	    jsonx_get_array(req->body, "args", false, &args, &cause) == -1 ||
	    jsonx_get_object(req->body, "env", false, &env, &cause) == -1 ||
	    msg_get_int(req, "log_max", false, 4096, 1LL << 40, &log_max,
		&cause) == -1 ||
	    msg_get_int(req, "log_keep", false, 0, APPLOG_MAX_KEEP, &log_keep,
		&cause) == -1 ||
	    app_launch_policy(req, &policy, &spec, &has_check, &cause) == -1)
		goto refuse;
	if (!app_id_valid(id)) {
		cause = xasprintf("bad app id '%.64s'", id);
		goto refuse;
	}
	if (app_find(w, id) != NULL || app_starting_find(w, id) != NULL) {
		cause = xasprintf("app %s exists already", id);
		goto refuse;
	}
	if (artifact != NULL) {
		/* The installed copy, with its own libraries found first. */
		if (store_exec_path(w->store, artifact, &exe, &libdir,
		    &cause) == -1)
			goto refuse;
		path = exe;
	}
	if (path == NULL || path[0] != '/') {
		cause = xasprintf("path '%.256s' is not absolute",
		    path != NULL ? path : "");
		goto refuse;
	}
	if (args != NULL && json_array_size(args) > APP_ARGS_MAX) {
		cause = xasprintf("more than %d args", APP_ARGS_MAX);
		goto refuse;
	}
	if (env != NULL && json_object_size(env) > APP_ENV_MAX) {
		cause = xasprintf("more than %d env variables", APP_ENV_MAX);
		goto refuse;
	}
	if ((argv = app_build_argv(path, args, &cause)) == NULL ||
	    (envp = app_build_env(w, id, env, libdir, &cause)) == NULL)
		goto refuse;

	a = xcalloc(1, sizeof *a);
	a->id = xstrdup(id);
	a->name = xstrdup(name != NULL ? name : id);
	a->path = xstrdup(path);
	a->artifact = artifact != NULL ? xstrdup(artifact) : NULL;
	a->args = args != NULL ? json_deep_copy(args) : json_array();
	a->dir = xasprintf("%s/apps/%s", w->dir, id);
	a->cwd = cwd != NULL ? xstrdup(cwd) : NULL;
	a->argv = argv;
	a->envp = envp;
	argv = envp = NULL;
	a->restart = policy.restart;
	a->max_restarts = policy.max_restarts;
	a->backoff_ms = policy.backoff_ms;
	a->pidfd = -1;
	a->shim_pidfd = -1;
	a->watch = -1;
	a->log_path = xasprintf("%s/output.log", a->dir);
	a->log_max = log_max;
	a->log_keep = (int)log_keep;
	/* A directory made ahead, or one made now (DIR/apps too, at first). */
	if (appdirs_take(w->appdirs, a->dir) == -1 &&
	    mkdir(a->dir, 0750) == -1 && errno != EEXIST &&
	    (errno != ENOENT || util_mkdir_p(a->dir, 0750) == -1)) {
		cause = xasprintf("cannot create %s: %s", a->dir, strerror(errno));
		goto refuse;
	}
	if (has_check) {
		a->check = check_create(&spec, a->envp,
		    a->cwd != NULL ? a->cwd : a->dir);
		a->check_spec = json_deep_copy(json_object_get(req->body,
		    "check"));
	}

	if (app_spawn_begin(w, a, &cause) == -1) {
		app_launched(w, a, req->id, cause, t0);
		free(cause);
		cause = NULL;
		goto out;
	}
	/* The supervisor starts it while we read the next message. */
	if (w->nstarting == w->starting_cap) {
		w->starting_cap = w->starting_cap == 0 ? 16 : w->starting_cap * 2;
		w->starting = xreallocarray(w->starting, w->starting_cap,
		    sizeof *w->starting);
	}
	w->starting[w->nstarting++] = (struct app_starting){ a, req->id, t0 };
	goto out;

refuse:
	if (a != NULL) {
		check_free(a->check);
		json_decref(a->check_spec);
		free(a->log_path);
		util_strv_free(a->argv);
		util_strv_free(a->envp);
		free(a->id);
		free(a->name);
		free(a->path);
		free(a->artifact);
		free(a->cwd);
		json_decref(a->args);
		free(a->dir);
		free(a);
	}
	app_send_error(w, req, "launch refused: %s", cause);
	free(cause);
out:
	check_spec_clear(&spec);
	free(exe);
	free(libdir);
	util_strv_free(argv);
	util_strv_free(envp);
}

/*
 * Whether a signal sent by a user ends the app by default, so that the end
 * it brings is the user stopping it (never restarted): all but those that
 * stop, continue or are ignored by default.
 */
static bool
app_signal_ends(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
	case SIGURG:
	case SIGWINCH:
		return false;
	default:
		return true;
	}
}

void
app_signal(struct worker *w, struct msg *req)
{
	const char *id, *signame = NULL;
	long long timeout = -1;
	char *cause = NULL;
	struct app *a;
	int sig;

	if (msg_get_str(req, "app", true, &id, &cause) == -1 ||
	    msg_get_str(req, "signal", false, &signame, &cause) == -1 ||
	    msg_get_int(req, "timeout_ms", false, 0, 86400000, &timeout,
		&cause) == -1) {
		app_send_error(w, req, "%s", cause);
		free(cause);
		return;
	}
	if ((a = app_find(w, id)) == NULL) {
		app_send_error(w, req, "no such app on %s: %s", w->name, id);
		return;
	}
	sig = signame != NULL ? signame_to_number(signame) :
	    timeout >= 0 ? SIGINT : SIGKILL;
	if (sig <= 0) {
		app_send_error(w, req, "unknown signal '%.32s'", signame);
		return;
	}
	/*
	 * A user's stop or SIGKILL is never a failure: no restart follows.
	 * Another signal that ends a process by default may be caught and
	 * survived (SIGHUP to reload a daemon): it is noted once sent, below,
	 * and the app's end judged by it (app_ended). An app waiting to restart
	 * or dead runs nothing that could catch it: there it is a stop.
	 */
	if (timeout >= 0 || sig == SIGKILL ||
	    (!app_is_alive(a) && app_signal_ends(sig))) {
		a->user_stopped = true;
		app_changed(w, a);
	}
	if (a->phase == APP_WAITING && a->user_stopped) {
		/* Nothing runs: the restart is called off, the app is dead. */
		app_transition(w, a, APP_EV_STOP);
		app_reply(w, req->id, MSG_SIGNALED, jsonx_pack(
		    "{s:s, s:n, s:b, s:o}", "app", a->id, "ended_by",
		    "was_dead", 1, "app_state", app_to_json(a)));
		return;
	}
	if (a->phase == APP_WAITING) {
		app_send_error(w, req, "%s is waiting to restart: no process "
		    "to send %s to", a->id, signame_from_number(sig));
		return;
	}
	if (!app_is_alive(a)) {
		const char *ended_by = NULL;

		/* The leader is gone; a daemon it left in its group is not. */
		if (a->pid > 0 && kill(-a->pid, 0) == 0) {
			kill(-a->pid, SIGKILL);
			ended_by = "SIGKILL";
		}
		app_reply(w, req->id, MSG_SIGNALED, jsonx_pack(
		    "{s:s, s:s?, s:b, s:o}", "app", a->id, "ended_by", ended_by,
		    "was_dead", 1, "app_state", app_to_json(a)));
		return;
	}
	if (timeout >= 0) {
		if (a->phase == APP_STOPPING) {
			app_send_error(w, req, "a stop of %s is already under way",
			    a->id);
			return;
		}
		a->stop_request = req->id;
		a->kill_at = util_now_ms() + timeout;
		app_transition(w, a, APP_EV_STOP);
		if (sig != SIGINT) {
			app_signal_group(a, sig);
			a->stop_signal = signame_from_number(sig);
		}
		return;
	}
	if (app_signal_group(a, sig) == -1) {
		app_send_error(w, req, "cannot signal %s: %s", a->id,
		    strerror(errno));
		return;
	}
	if (!a->user_stopped && app_signal_ends(sig)) {
		a->user_signal = sig;
		a->user_signal_at = util_wall_ms();
	}
	app_reply(w, req->id, MSG_SIGNALED, jsonx_pack("{s:s, s:s, s:b, s:o}",
	    "app", a->id, "signal", signame_from_number(sig), "was_dead", 0,
	    "app_state", app_to_json(a)));
}

static long long
app_us_of(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

static void
app_tv_from_us(struct timeval *tv, long long us)
{
	tv->tv_sec = (time_t)(us / 1000000);
	tv->tv_usec = (suseconds_t)(us % 1000000);
}

/*
 * The app's log holds more than its limit: rotate it in place (applog.h),
 * and have its readers follow. Checked when new output was written, when
 * a run ends, and when an app is adopted; so between two checks a log may
 * pass its limit by what the app writes meanwhile.
 */
static void
app_log_rotate_if_full(struct worker *w, struct app *a)
{
	struct applog_rotation rot;
	struct stat st;
	char *cause = NULL;

	if (a->log_path == NULL || stat(a->log_path, &st) == -1 ||
	    st.st_size <= a->log_max)
		return;
	if (applog_rotate_file(a->log_path, (off_t)a->log_max, a->log_keep,
	    &rot, &cause) == -1) {
		if (!a->log_rotate_failed)
			log_warnx("app %s: %s", a->id, cause);
		a->log_rotate_failed = true;
		free(cause);
		return;
	}
	a->log_rotate_failed = false;
	if (rot.moved > 0 && app_on_rotate != NULL)
		app_on_rotate(w, a, &rot);
}

/* The run is over: no pidfd to keep, no shim to watch, followers told. */
static void
app_run_over(struct worker *w, struct app *a)
{
	if (a->shim_pidfd != -1)
		close(a->shim_pidfd);
	a->shim_pidfd = -1;
	if (a->pidfd != -1)
		close(a->pidfd);
	a->pidfd = -1;
	a->supervised = false;
	a->parent_pid = 0;
	a->parent_start = 0;
	app_unwatch(w, a);
	app_log_rotate_if_full(w, a);
	log_trace(TRACE_SPAWN, "app %s (pid %d): %s", a->id, (int)a->pid,
	    a->cause);
	app_transition(w, a, APP_EV_REAPED);
	/* Followers read the rest of the log and see the end. */
	if (app_on_output != NULL)
		app_on_output(w, a);
}

/* The leader ended with wait status status and usage u (wait4's). */
static void
app_end_recorded(struct worker *w, struct app *a, int status,
    const struct supmsg_usage *u, int64_t ended_at)
{
	a->status = status;
	memset(&a->ru, 0, sizeof a->ru);
	app_tv_from_us(&a->ru.ru_utime, u->user_us);
	app_tv_from_us(&a->ru.ru_stime, u->sys_us);
	a->ru.ru_maxrss = u->maxrss_kb;
	a->ended_at = ended_at;
	a->has_status = true;
	cause_format(status, false, a->cause, sizeof a->cause);
	app_run_over(w, a);
}

/*
 * The leader ended and nobody recorded how (why says who should have):
 * dead, lost. What it left in its group is killed, but only through the
 * pidfd: its pid may be someone else's now.
 */
static void
app_end_unknown(struct worker *w, struct app *a, const char *why)
{
	if (a->pidfd != -1)
		app_signal_group(a, SIGKILL);
	snprintf(a->cause, sizeof a->cause, "lost: %s", why);
	a->has_status = false;
	memset(&a->ru, 0, sizeof a->ru);
	a->ended_at = util_wall_ms();
	app_run_over(w, a);
}

/*
 * How the current run ended, from its exit file (its supervisor wrote it
 * with no worker connected, or an older worker's shim did): 0, or -1 when
 * the file holds another run's end or none.
 */
static int
app_end_from_file(struct worker *w, struct app *a)
{
	struct workerstate_exit e;
	struct supmsg_usage u;
	char *path, *text, *cause = NULL;
	size_t len = 0;
	int rc = -1;

	path = xasprintf("%s/exit", a->dir);
	if ((text = util_read_file(path, 4096, &len)) != NULL && len > 0 &&
	    workerstate_parse_exit(text, len, &e, &cause) == 0 &&
	    e.pid == a->pid && (e.start == 0 || a->start == 0 ||
	    e.start == a->start)) {
		u.user_us = e.user_us;
		u.sys_us = e.sys_us;
		u.maxrss_kb = e.maxrss_kb;
		app_end_recorded(w, a, e.status, &u, e.ended_at);
		rc = 0;
	} else if (cause != NULL)
		log_warnx("app %s: %s: %s", a->id, path, cause);
	free(cause);
	free(text);
	free(path);
	return rc;
}

static void
app_on_reaped(pid_t pid, int status, const struct rusage *ru, void *arg)
{
	struct worker *w = arg;
	struct supmsg_usage u;

	/*
	 * An app whose supervisor died was handed to us, a child subreaper:
	 * its wait status is ours to read.
	 */
	for (struct app *a = w->live; a != NULL; a = a->next_live) {
		if (a->pid != pid || !app_is_alive(a) || a->supervised)
			continue;
		supmsg_usage_from_rusage(&u, ru);
		app_end_recorded(w, a, status, &u, util_wall_ms());
		return;
	}
	/* Not an app: maybe a health check's command. */
	for (struct app *a = w->apps; a != NULL; a = a->next) {
		bool changed;

		if (a->check == NULL || !check_reaped(a->check, pid, status,
			&changed))
			continue;
		if (changed && a->phase == APP_RUNNING)
			app_health_changed(w, a);
		return;
	}
	/* The supervisor itself, or an orphan of an app's tree. */
	log_debug("reaped pid %d that is no app", (int)pid);
}

/* The supervisor reaped an app: record how it ended. */
static void
app_supervisor_ended(void *arg, const struct supmsg_end *e)
{
	struct worker *w = arg;
	struct app *a = app_find(w, e->id);

	if (a != NULL && app_is_alive(a) && a->supervised && a->pid == e->pid)
		app_end_recorded(w, a, e->status, &e->usage, e->ended_at);
	else
		log_debug("app %s: the end of pid %d is known already", e->id,
		    (int)e->pid);
	/* Once the turn's save has it (or had it): see app_save_state. */
	supervisor_forget(e->id, e->pid);
}

/*
 * The supervisor runs app id: ours, or one whose launch a worker before us
 * never recorded (it was killed between the start and its save), so never
 * acknowledged either: that one is stopped, as it was never launched.
 */
static void
app_supervisor_live(void *arg, const char *id, pid_t pid,
    unsigned long long start)
{
	struct worker *w = arg;
	struct app *a = app_find(w, id);
	int fd;

	if (a != NULL && app_is_alive(a) && a->pid == pid) {
		if (a->shim_pidfd != -1)
			close(a->shim_pidfd);
		a->shim_pidfd = -1;
		a->supervised = true;
		a->parent_pid = supervisor_pid();
		a->parent_start = supervisor_start();
		return;
	}
	if (a != NULL && a->pid == pid)
		return; /* its end is recorded; the supervisor's word comes */
	log_warnx("app %s (pid %d) runs, but no launch of it was recorded: "
	    "killing it", id, (int)pid);
	if ((fd = app_open_pidfd(pid, start)) != -1) {
		spawn_signal_group(pid, fd, SIGKILL);
		close(fd);
	}
}

/*
 * The supervisor died: its apps run on, now the worker's children (we are
 * a child subreaper), or init's when another worker started it. Their ends
 * are watched through their pidfds from now on (app_end_fds), or come by
 * SIGCHLD. The next launch starts another supervisor.
 */
static void
app_supervisor_lost(void *arg, const char *why)
{
	struct worker *w = arg;
	int n = 0;

	(void)why;
	for (struct app *a = w->live; a != NULL; a = a->next_live) {
		if (!a->supervised)
			continue;
		a->supervised = false;
		a->parent_pid = 0;
		a->parent_start = 0;
		app_changed(w, a);
		/* Its end was awaited from the supervisor (app_adopt). */
		if (app_is_alive(a) && a->pidfd == -1) {
			if (app_end_from_file(w, a) == -1)
				app_end_unknown(w, a, "its supervisor died "
				    "before saying how it ended");
			continue;
		}
		n++;
	}
	if (n > 0)
		log_warnx("%d apps lost their supervisor; they run on, watched "
		    "by the worker", n);
}

static const struct supervisor_hooks app_supervisor_hooks = {
	.live = app_supervisor_live,
	.ended = app_supervisor_ended,
	.lost = app_supervisor_lost,
};

int
app_supervisor_connect(struct worker *w, char **cause)
{
	return supervisor_connect(w->dir, &app_supervisor_hooks, w, cause);
}

void
app_reap(struct worker *w)
{
	reap_children(app_on_reaped, w);
}

static void
app_free(struct app *a)
{
	check_free(a->check);
	json_decref(a->check_spec);
	free(a->state_entry);
	if (a->pidfd != -1)
		close(a->pidfd);
	if (a->shim_pidfd != -1)
		close(a->shim_pidfd);
	util_strv_free(a->argv);
	util_strv_free(a->envp);
	free(a->cwd);
	free(a->log_path);
	json_decref(a->args);
	free(a->id);
	free(a->name);
	free(a->path);
	free(a->artifact);
	free(a->dir);
	free(a);
}

/* Empty a forgotten app's directory (keeping its log) and recycle it. */
static void
app_remove_files(struct worker *w, struct app *a)
{
	/* Its directory and log serve a later launch. */
	if (appdirs_recycle(w->appdirs, a->dir) == -1 && errno != ENOENT)
		log_warn("app %s: cannot remove %s", a->id, a->dir);
}

/* Forget dead apps past their retention (see APP_DEAD_KEEP_MS). */
static void
app_collect(struct worker *w, int64_t wall)
{
	struct app **p = &w->apps, *a;
	int dead = 0;

	while ((a = *p) != NULL) {
		if (!app_is_dead(a) || (++dead <= APP_DEAD_MAX &&
		    wall - a->ended_at < APP_DEAD_KEEP_MS)) {
			p = &a->next;
			continue;
		}
		*p = a->next;
		app_forgotten(w, a);
		log_debug("app %s: forgotten, ended %lld s ago", a->id,
		    (long long)(wall - a->ended_at) / 1000);
		/*
		 * Its log's readers go first: recycling empties the log in
		 * place, and a launch may take it at once, so a descriptor
		 * they held would read the next app's output.
		 */
		if (app_on_forget != NULL)
			app_on_forget(w, a);
		app_unwatch(w, a);
		app_remove_files(w, a);
		app_leave(w, a);
		app_free(a);
	}
}

void
app_tick(struct worker *w, int64_t now)
{
	app_live_prune(w);
	for (struct app *a = w->live; a != NULL; a = a->next_live) {
		if (a->phase == APP_STOPPING && a->kill_at != 0 &&
		    now >= a->kill_at)
			app_transition(w, a, APP_EV_DEADLINE);
		else if (a->phase == APP_WAITING && now >= a->restart_at)
			app_transition(w, a, APP_EV_RESTART_DUE);
		else if (a->phase == APP_RUNNING) {
			if (a->user_signal != 0)
				app_user_signal_expire(a);
			if (a->check != NULL && check_tick(a->check, now))
				app_health_changed(w, a);
			/* A run that lasted, healthy, earns a short backoff. */
			if (a->phase == APP_RUNNING &&
			    a->backoff_ms != APP_BACKOFF_FIRST_MS &&
			    now - a->run_since >= APP_BACKOFF_RESET_MS &&
			    (a->check == NULL ||
			    check_health(a->check) == CHECK_HEALTHY)) {
				a->backoff_ms = APP_BACKOFF_FIRST_MS;
				app_changed(w, a);
			}
		}
	}
	if (now - w->last_collect >= 1000) {
		w->last_collect = now;
		app_collect(w, util_wall_ms());
	}
}

/* The descriptor that tells of a's end when no supervisor will; -1: none. */
static int
app_end_fd(const struct app *a)
{
	if (!app_is_alive(a) || a->supervised)
		return -1;
	return a->shim_pidfd != -1 ? a->shim_pidfd : a->pidfd;
}

int
app_end_fds(struct worker *w, int *fds, struct app **apps, int max)
{
	int n = 0;

	for (struct app *a = w->live; a != NULL && n < max;
	    a = a->next_live) {
		if ((fds[n] = app_end_fd(a)) == -1)
			continue;
		apps[n++] = a;
	}
	return n;
}

void
app_end_seen(struct worker *w, struct app *a)
{
	struct rusage ru;
	struct supmsg_usage u;
	int status;

	if (!app_is_alive(a) || a->supervised)
		return;
	if (a->shim_pidfd != -1) {
		/* An older worker's shim ended: its exit file says how. */
		if (app_end_from_file(w, a) == -1)
			app_end_unknown(w, a, "its shim ended without "
			    "recording the end");
		return;
	}
	/* Handed to us when its supervisor died: reap it here. */
	if (wait4(a->pid, &status, WNOHANG, &ru) == a->pid) {
		supmsg_usage_from_rusage(&u, &ru);
		app_end_recorded(w, a, status, &u, util_wall_ms());
		return;
	}
	if (app_end_from_file(w, a) == -1)
		app_end_unknown(w, a, "it ended after its supervisor, which "
		    "alone could say how");
}

void
app_watch_events(struct worker *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;

	while ((n = read(w->inotify_fd, buf, sizeof buf)) > 0) {
		int last = -1;

		for (char *p = buf; p < buf + n;
		     p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)p;
			/* A chatty app's events come in runs: once a run. */
			if (ev->wd == last)
				continue;
			last = ev->wd;
			/* A watched app is on the live list (see prune). */
			for (struct app *a = w->live; a != NULL;
			    a = a->next_live) {
				if (a->watch != ev->wd)
					continue;
				app_log_rotate_if_full(w, a);
				if (app_on_output != NULL)
					app_on_output(w, a);
				break;
			}
		}
	}
}

bool
app_output_open(const struct app *a)
{
	return !app_is_dead(a);
}

int
app_check_fds(struct worker *w, int *fds, bool *want_write,
    struct app **apps, int max)
{
	int n = 0;

	for (struct app *a = w->live; a != NULL && n < max;
	    a = a->next_live) {
		if (a->check == NULL || a->phase != APP_RUNNING ||
		    (fds[n] = check_fd(a->check, &want_write[n])) == -1)
			continue;
		apps[n++] = a;
	}
	return n;
}

void
app_check_io(struct worker *w, struct app *a)
{
	if (a->check != NULL && a->phase == APP_RUNNING &&
	    check_io(a->check))
		app_health_changed(w, a);
}

json_t *
app_live_states(struct worker *w, int *alive)
{
	json_t *list = json_array();

	*alive = 0;
	for (struct app *a = w->live; a != NULL; a = a->next_live) {
		if (app_is_dead(a))
			continue;
		(*alive)++;
		json_array_append_new(list, app_to_json(a));
	}
	return list;
}

json_t *
app_all_states(struct worker *w)
{
	json_t *list = json_array();

	for (struct app *a = w->apps; a != NULL; a = a->next)
		json_array_append_new(list, app_to_json(a));
	return list;
}

static json_t *
app_usage_figures(long long user, long long sys, long long rss)
{
	return jsonx_pack("{s:I, s:I, s:I}", "cpu_user_ms", (json_int_t)user,
	    "cpu_sys_ms", (json_int_t)sys, "max_rss_kb", (json_int_t)rss);
}

void
app_usage(struct worker *w, struct msg *req)
{
	long long tu = 0, ts = 0, trss = 0;
	struct sampler_target *targets;
	struct sampler_sample *live;
	struct sampler *sampler;
	const struct supmsg_usage *sup;
	struct rusage ch;
	json_t *list = json_array(), *item;
	size_t n = 0, cap = 0, nlive;

	/* The live apps' trees, measured as the resource sampler does. */
	for (struct app *a = w->apps; a != NULL; a = a->next)
		cap++;
	targets = xcalloc(cap + 1, sizeof *targets);
	live = xcalloc(cap + 1, sizeof *live);
	for (struct app *a = w->apps; a != NULL; a = a->next)
		if (app_is_alive(a))
			targets[n++] = (struct sampler_target){ a->id, a->pid };
	sampler = sampler_new(0);
	nlive = sampler_measure(sampler, targets, n, util_now_ms(), live);
	sampler_free(sampler);
	for (struct app *a = w->apps; a != NULL; a = a->next) {
		long long u = 0, s = 0, rss = 0;
		bool alive = app_is_alive(a);

		if (a->phase == APP_FAILED)
			continue;
		if (alive) {
			for (size_t i = 0; i < nlive; i++) {
				if (strcmp(live[i].id, a->id) != 0)
					continue;
				u = live[i].cpu_user_ms;
				s = live[i].cpu_sys_ms;
				rss = live[i].max_rss_kb;
				break;
			}
		} else {
			u = app_tv_ms(&a->ru.ru_utime);
			s = app_tv_ms(&a->ru.ru_stime);
			rss = a->ru.ru_maxrss;
		}
		tu += u;
		ts += s;
		trss += rss;
		item = app_usage_figures(u, s, rss);
		json_object_set_new(item, "id", json_string(a->id));
		json_object_set_new(item, "pid", json_integer(a->pid));
		json_object_set_new(item, "alive", json_boolean(alive));
		json_array_append_new(list, item);
	}
	free(live);
	free(targets);
	/*
	 * getrusage(RUSAGE_CHILDREN) of the apps' parent, the supervisor (as
	 * of its last word: it changes only when it reaps), plus our own: the
	 * health checks' commands, and apps handed to us by a supervisor that
	 * died. The largest peak of the two, as each is a largest peak.
	 */
	sup = supervisor_children();
	getrusage(RUSAGE_CHILDREN, &ch);
	app_reply(w, req->id, MSG_USAGE_REPLY, jsonx_pack("{s:o, s:o, s:o}",
	    "apps", list, "total", app_usage_figures(tu, ts, trss),
	    "children", app_usage_figures(app_tv_ms(&ch.ru_utime) +
		sup->user_us / 1000, app_tv_ms(&ch.ru_stime) + sup->sys_us / 1000,
		ch.ru_maxrss > sup->maxrss_kb ? ch.ru_maxrss : sup->maxrss_kb)));
}

/* Wait (at most APP_END_WAIT_MS) for every app to end, recording each end. */
static void
app_wait_ends(struct worker *w)
{
	int64_t deadline = util_now_ms() + APP_END_WAIT_MS;
	int left;

	for (;;) {
		struct pollfd p = { supervisor_fd(), POLLIN, 0 };

		supervisor_input();
		/* Apps of a supervisor that died: our children, or watched. */
		app_reap(w);
		left = 0;
		for (struct app *a = w->live; a != NULL; a = a->next_live) {
			struct pollfd e = { app_end_fd(a), POLLIN, 0 };

			if (!app_is_alive(a))
				continue;
			if (e.fd != -1 && poll(&e, 1, 0) == 1) {
				app_end_seen(w, a);
				continue;
			}
			left++;
		}
		if (left == 0 || util_now_ms() >= deadline)
			break;
		poll(&p, p.fd != -1 ? 1 : 0, 10);
	}
	if (left > 0)
		log_warnx("%d apps still run %d ms after they were killed",
		    left, APP_END_WAIT_MS);
}

/* Whether no app runs (so the supervisor has nothing left to watch). */
static bool
app_none_alive(struct worker *w)
{
	for (struct app *a = w->live; a != NULL; a = a->next_live)
		if (app_is_alive(a))
			return false;
	return true;
}

void
app_free_all(struct worker *w, bool kill_apps)
{
	struct app *a, *next;

	if (kill_apps) {
		for (a = w->apps; a != NULL; a = a->next) {
			if (app_is_dead(a))
				continue;
			/* Stopped on purpose: no later worker restarts it. */
			a->user_stopped = true;
			app_changed(w, a);
			if (app_is_alive(a))
				app_signal_group(a, SIGKILL);
			else
				app_transition(w, a, APP_EV_STOP);
		}
		app_wait_ends(w);
	}
	/* Without kill_apps the apps run on: the next worker adopts them. */
	app_save_state(w, true);
	/*
	 * The supervisor has told this worker all it will: it may go, and
	 * exits if no app is left (then reaped here, if it is our child).
	 */
	supervisor_disconnect(app_none_alive(w));
	if (w->journal_fd != -1)
		close(w->journal_fd);
	w->journal_fd = -1;
	w->changed = NULL;
	app_forgotten_saved(w);
	free(w->forgotten);
	w->forgotten = NULL;
	w->forgotten_cap = 0;
	for (a = w->apps; a != NULL; a = next) {
		next = a->next;
		app_unwatch(w, a);
		app_free(a);
	}
	w->apps = NULL;
	w->live = NULL;
	zhashx_destroy(&w->app_index);
	free(w->starting);
	w->starting = NULL;
}

/*
 * a's entry in the state file, encoded now (kept in a->state_entry until
 * app_changed drops it).
 */
static const char *
app_state_entry(struct app *a, int64_t now, int64_t wall)
{
	struct workerstate_app s = { 0 };
	bool dead = app_is_dead(a);

	if (a->state_entry != NULL)
		return a->state_entry;
	s.id = a->id;
	s.name = a->name;
	s.path = a->path;
	s.artifact = a->artifact;
	s.cwd = a->cwd;
	s.args = a->args;
	/* What a dead app ran is of no more use (and may hold secrets). */
	s.argv = dead ? NULL : a->argv;
	s.envp = dead ? NULL : a->envp;
	s.check = a->check_spec;
	s.phase = a->phase;
	s.restart = a->restart;
	s.max_restarts = a->max_restarts;
	s.restarts = a->restarts;
	s.backoff_ms = a->backoff_ms;
	s.user_stopped = a->user_stopped;
	s.log_max = a->log_max;
	s.log_keep = a->log_keep;
	s.shim_pid = a->parent_pid;
	s.shim_start = a->parent_start;
	s.pid = a->pid > 0 ? a->pid : 0;
	s.start = a->start;
	s.started_at = a->started_at;
	s.ended_at = a->ended_at;
	/* A wall clock time: the same whenever it is encoded. */
	if (a->phase == APP_STOPPING && a->kill_at != 0)
		s.stop_deadline = wall + (a->kill_at > now ?
		    a->kill_at - now : 0);
	s.has_status = a->has_status;
	s.status = a->status;
	s.user_us = app_us_of(&a->ru.ru_utime);
	s.sys_us = app_us_of(&a->ru.ru_stime);
	s.maxrss_kb = a->ru.ru_maxrss;
	snprintf(s.cause, sizeof s.cause, "%s", a->cause);
	a->state_entry = workerstate_app_format(&s);
	return a->state_entry;
}

/*
 * Write the whole state file, of the next generation, and start its
 * journal. It holds every app not dead and the newest APP_STATE_DEAD_MAX
 * dead ones (for their logs), so that it costs the same after a million
 * launches.
 */
static int
app_write_state_file(struct worker *w, int64_t now, int64_t wall)
{
	char **entries = NULL, *path;
	size_t n = 0, cap = 0;
	int dead_kept = 0, others = 0, rc;

	/* Every app not dead is on the live list, a short one. */
	for (struct app *a = w->live; a != NULL; a = a->next_live)
		if (!app_is_dead(a))
			others++;
	for (struct app *a = w->apps; a != NULL; a = a->next) {
		bool dead = app_is_dead(a);

		/*
		 * The rest are dead ones past APP_STATE_DEAD_MAX: not walked
		 * (the newest come first, the thousand kept for their logs
		 * last).
		 */
		if (others == 0 && dead_kept >= APP_STATE_DEAD_MAX)
			break;
		if (!dead)
			others--;
		if (dead && ++dead_kept > APP_STATE_DEAD_MAX)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 128 : cap * 2;
			entries = xreallocarray(entries, cap, sizeof *entries);
		}
		entries[n++] = (char *)app_state_entry(a, now, wall);
	}
	path = xasprintf("%s/worker-state.json", w->dir);
	if ((rc = workerstate_write(path, w->state_generation + 1, entries,
	    n)) == -1)
		log_warn("cannot write %s", path);
	free(entries);
	free(path);
	if (rc == -1)
		return -1;
	w->state_generation++;
	/* The old journal is for the file just replaced: empty it. */
	if (w->journal_fd != -1)
		close(w->journal_fd);
	path = xasprintf("%s/worker-state.journal", w->dir);
	if ((w->journal_fd = workerstate_journal_start(path,
	    w->state_generation)) == -1)
		log_warn("cannot start %s; the state file is written whole "
		    "again at the next change", path);
	w->journal_size = 0;
	free(path);
	return 0;
}

/* Append what changed since the last save to the journal. */
static int
app_append_journal(struct worker *w, int64_t now, int64_t wall)
{
	size_t n = 0, count = w->nforgotten;
	char **lines;
	ssize_t written;

	for (struct app *a = w->changed; a != NULL; a = a->next_changed)
		count++;
	lines = xcalloc(count, sizeof *lines);
	/* A forgotten id first: an app may come back under it. */
	for (size_t i = 0; i < w->nforgotten; i++)
		lines[n++] = workerstate_forget_format(w->forgotten[i]);
	/*
	 * The list is newest first; new apps go in in the order they came.
	 * Their entries are borrowed (kept in the apps), the forget lines ours.
	 */
	n = count;
	for (struct app *a = w->changed; a != NULL; a = a->next_changed)
		lines[--n] = (char *)app_state_entry(a, now, wall);
	written = workerstate_journal_append(w->journal_fd, lines, count);
	for (size_t i = 0; i < w->nforgotten; i++)
		free(lines[i]);
	free(lines);
	if (written == -1) {
		log_warn("cannot append to %s/worker-state.journal; writing "
		    "the state file whole", w->dir);
		close(w->journal_fd);
		w->journal_fd = -1;
		return app_write_state_file(w, now, wall);
	}
	w->journal_size += (size_t)written;
	return 0;
}

void
app_save_state(struct worker *w, bool force)
{
	int64_t now = util_now_ms(), wall = util_wall_ms();
	int rc;

	if (!force && !w->state_dirty)
		return;
	/*
	 * The journal until it passes WORKERSTATE_JOURNAL_MAX (a thousand
	 * launches, against one write of the whole file); the whole file when
	 * forced (at start and at exit), so that a restart reads little.
	 */
	if (force || w->journal_fd == -1 ||
	    w->journal_size >= WORKERSTATE_JOURNAL_MAX)
		rc = app_write_state_file(w, now, wall);
	else
		rc = app_append_journal(w, now, wall);
	if (rc == -1)
		return;
	w->state_dirty = false;
	while (w->changed != NULL) {
		w->changed->journal_due = false;
		w->changed = w->changed->next_changed;
	}
	app_forgotten_saved(w);
	/* The ends this save recorded, the supervisor may forget. */
	supervisor_flush();
}

/* An app of the state file, back in the table (taking s's strings). */
static struct app *
app_from_state(struct worker *w, struct workerstate_app *s)
{
	struct app *a = xcalloc(1, sizeof *a);

	a->id = s->id;
	a->name = s->name;
	a->path = s->path;
	a->artifact = s->artifact;
	a->cwd = s->cwd;
	a->args = s->args;
	a->argv = s->argv;
	a->envp = s->envp;
	s->id = s->name = s->path = s->artifact = s->cwd = NULL;
	s->args = NULL;
	s->argv = s->envp = NULL;
	a->dir = xasprintf("%s/apps/%s", w->dir, a->id);
	a->log_path = xasprintf("%s/output.log", a->dir);
	a->log_max = s->log_max;
	a->log_keep = s->log_keep;
	a->phase = s->phase;
	a->restart = s->restart;
	a->max_restarts = s->max_restarts;
	a->restarts = s->restarts;
	a->backoff_ms = s->backoff_ms > 0 ? s->backoff_ms : APP_BACKOFF_FIRST_MS;
	a->user_stopped = s->user_stopped;
	a->pid = s->pid;
	a->start = s->start;
	a->started_at = s->started_at;
	a->ended_at = s->ended_at;
	a->has_status = s->has_status;
	a->status = s->status;
	app_tv_from_us(&a->ru.ru_utime, s->user_us);
	app_tv_from_us(&a->ru.ru_stime, s->sys_us);
	a->ru.ru_maxrss = s->maxrss_kb;
	snprintf(a->cause, sizeof a->cause, "%s", s->cause);
	a->pidfd = -1;
	a->shim_pidfd = -1;
	a->watch = -1;
	if (s->check != NULL && !app_is_dead(a)) {
		struct check_spec spec = { 0 };
		char *cause = NULL;

		if (check_spec_parse(s->check, &spec, &cause) == 0) {
			a->check = check_create(&spec, a->envp,
			    a->cwd != NULL ? a->cwd : a->dir);
			a->check_spec = s->check;
			s->check = NULL;
		} else {
			log_warnx("app %s: its check is dropped: %s", a->id,
			    cause);
			free(cause);
		}
		check_spec_clear(&spec);
	}
	return a;
}

/*
 * Take back a running app, or learn how it ended. Its parent is the
 * supervisor we are connected to (it tells of the end); or the shim an older
 * worker version started it under, still running (watched: it writes the
 * exit file); or gone (the app is watched through its pidfd).
 */
static void
app_adopt(struct worker *w, struct app *a, const struct workerstate_app *s)
{
	int64_t now = util_now_ms(), wall = util_wall_ms();
	struct procfs_stat st;

	if (a->phase == APP_WAITING) {
		a->restart_at = now + APP_BACKOFF_FIRST_MS;
		return;
	}
	if (!app_is_alive(a))
		return;
	/* The PID alone proves nothing: the start time must match too. */
	a->pidfd = a->pid > 1 ? app_open_pidfd(a->pid, a->start) : -1;
	if (a->pidfd == -1 && supervisor_connected() &&
	    s->shim_pid == supervisor_pid() &&
	    s->shim_start == supervisor_start()) {
		/*
		 * Its supervisor, the one we are connected to, reaped it: it
		 * tells how it ended (the word is in its socket, or comes with
		 * the ends it tells each new worker), and wrote no exit file
		 * if it told us before we read the state file.
		 */
		a->leader_gone = true;
		a->supervised = true;
		a->parent_pid = s->shim_pid;
		a->parent_start = s->shim_start;
		log_info("app %s: ended while the worker was away; its "
		    "supervisor tells how", a->id);
		return;
	}
	if (a->pidfd == -1) {
		a->leader_gone = a->pid <= 1 || errno != ENOSYS;
		/* It ended while no worker watched: the exit file says how. */
		log_info("app %s: ended while the worker was away", a->id);
		if (app_end_from_file(w, a) == -1)
			app_end_unknown(w, a, "it ended while the worker was "
			    "away, and how was not recorded");
		return;
	}
	if (procfs_read_stat(a->pid, &st) == 0 && supervisor_connected() &&
	    st.ppid == supervisor_pid()) {
		a->supervised = true;
		a->parent_pid = supervisor_pid();
		a->parent_start = supervisor_start();
	} else if (s->shim_pid > 1 && s->shim_pid != supervisor_pid() &&
	    (a->shim_pidfd = app_open_pidfd(s->shim_pid, s->shim_start)) != -1) {
		a->parent_pid = s->shim_pid;
		a->parent_start = s->shim_start;
	} else {
		log_warnx("app %s: its supervisor is gone; its end will be "
		    "seen, but not how it came", a->id);
		a->parent_pid = 0;
		a->parent_start = 0;
	}
	a->run_since = now;
	app_watch(w, a);
	/* It wrote on while no worker ran. */
	app_log_rotate_if_full(w, a);
	if (a->phase == APP_RUNNING && a->check != NULL)
		check_start(a->check, now);
	if (a->phase == APP_STOPPING)
		a->kill_at = now + (s->stop_deadline > wall ?
		    s->stop_deadline - wall : 0);
	log_info("app %s: adopted, pid %d under %s %d", a->id, (int)a->pid,
	    a->supervised ? "the supervisor" : "its parent",
	    (int)a->parent_pid);
}

void
app_adopt_all(struct worker *w)
{
	struct workerstate_app *v = NULL;
	char *path, *jpath, *text, *journal, *cause = NULL;
	size_t len, jlen = 0, n = 0, skipped = 0;

	path = xasprintf("%s/worker-state.json", w->dir);
	jpath = xasprintf("%s/worker-state.journal", w->dir);
	if ((text = util_read_file(path, WORKERSTATE_MAX, &len)) == NULL) {
		if (errno != ENOENT)
			log_warn("cannot read %s; its apps are not adopted",
			    path);
		goto out;
	}
	if ((journal = util_read_file(jpath, WORKERSTATE_MAX, &jlen)) == NULL &&
	    errno != ENOENT)
		log_warn("cannot read %s; the apps it adds are not adopted",
		    jpath);
	if (workerstate_parse(text, len, journal, jlen, &v, &n,
	    &w->state_generation, &skipped, &cause) == -1) {
		log_warnx("%s: %s; its apps are not adopted", path, cause);
		free(cause);
		free(journal);
		goto out;
	}
	free(journal);
	if (skipped > 0)
		log_warnx("%s: %zu lines cannot be read, left out", jpath,
		    skipped);
	app_adopting = true;
	/* Newest first in the file as in the table: push the oldest first. */
	for (size_t i = n; i-- > 0;) {
		struct app *a = app_from_state(w, &v[i]);

		app_join(w, a);
		app_adopt(w, a, &v[i]);
	}
	app_adopting = false;
	if (n > 0)
		log_info("%zu apps from %s and its journal", n, path);
	workerstate_apps_free(v, n);
out:
	free(text);
	free(path);
	free(jpath);
	/* A file of the next generation, the journal emptied. */
	app_save_state(w, true);
}
