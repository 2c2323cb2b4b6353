#include "common/signame.h"

#include <signal.h>
#include <stdio.h>

/*
 * Every standard Linux signal. The macros, not literal numbers, so the table
 * stays right on architectures that number signals differently. A canonical
 * name comes before its aliases: signame_from_number prints the first match.
 */
static const struct {
	const char *name;
	int number;
} signame_table[] = {
    {"SIGHUP", SIGHUP},
    {"SIGINT", SIGINT},
    {"SIGQUIT", SIGQUIT},
    {"SIGILL", SIGILL},
    {"SIGTRAP", SIGTRAP},
    {"SIGABRT", SIGABRT},
    {"SIGBUS", SIGBUS},
    {"SIGFPE", SIGFPE},
    {"SIGKILL", SIGKILL},
    {"SIGUSR1", SIGUSR1},
    {"SIGSEGV", SIGSEGV},
    {"SIGUSR2", SIGUSR2},
    {"SIGPIPE", SIGPIPE},
    {"SIGALRM", SIGALRM},
    {"SIGTERM", SIGTERM},
#ifdef SIGSTKFLT
    {"SIGSTKFLT", SIGSTKFLT},
#endif
    {"SIGCHLD", SIGCHLD},
    {"SIGCONT", SIGCONT},
    {"SIGSTOP", SIGSTOP},
    {"SIGTSTP", SIGTSTP},
    {"SIGTTIN", SIGTTIN},
    {"SIGTTOU", SIGTTOU},
    {"SIGURG", SIGURG},
    {"SIGXCPU", SIGXCPU},
    {"SIGXFSZ", SIGXFSZ},
    {"SIGVTALRM", SIGVTALRM},
    {"SIGPROF", SIGPROF},
    {"SIGWINCH", SIGWINCH},
    {"SIGIO", SIGIO},
#ifdef SIGPWR
    {"SIGPWR", SIGPWR},
#endif
    {"SIGSYS", SIGSYS},
    /* Aliases: accepted on input, never printed. */
    {"SIGIOT", SIGIOT},
    {"SIGCLD", SIGCHLD},
    {"SIGPOLL", SIGPOLL},
};

#define SIGNAME_TABLE_LEN (sizeof signame_table / sizeof signame_table[0])

/* ASCII only, so the answer never depends on the locale (tr_TR and "int"). */
static int
signame_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Returns what follows prefix at the start of s (any case), or NULL. */
static const char *
signame_skip_prefix(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++)
		if (signame_lower((unsigned char)*s) !=
		    signame_lower((unsigned char)*prefix))
			return NULL;
	return s;
}

static int
signame_equal(const char *a, const char *b)
{
	const char *rest;

	return (rest = signame_skip_prefix(a, b)) != NULL && *rest == '\0';
}

/*
 * Returns the value of s, which must be all decimal digits, or -1 when it is
 * empty, holds anything else or exceeds max. Stops as soon as the value
 * passes max, so no input can overflow.
 */
static int
signame_parse_decimal(const char *s, int max)
{
	int value = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		value = value * 10 + (*s - '0');
		if (value > max)
			return -1;
	}
	return value;
}

/*
 * The real-time forms kill(1) accepts. glibc's SIGRTMIN is a run-time value
 * (34: it keeps 32 and 33 for itself), so these are computed, not tabled.
 */
static int
signame_parse_realtime(const char *s)
{
	const char *rest;
	int span = SIGRTMAX - SIGRTMIN, n;

	if ((rest = signame_skip_prefix(s, "RTMIN")) != NULL) {
		if (*rest == '\0')
			return SIGRTMIN;
		n = *rest == '+' ? signame_parse_decimal(rest + 1, span) : -1;
		return n < 0 ? -1 : SIGRTMIN + n;
	}
	if ((rest = signame_skip_prefix(s, "RTMAX")) != NULL) {
		if (*rest == '\0')
			return SIGRTMAX;
		n = *rest == '-' ? signame_parse_decimal(rest + 1, span) : -1;
		return n < 0 ? -1 : SIGRTMAX - n;
	}
	return -1;
}

int
signame_to_number(const char *name)
{
	const char *bare;
	int n;

	if (name == NULL)
		return -1;
	if ((bare = signame_skip_prefix(name, "SIG")) == NULL)
		bare = name;
	/* "SIG32" too, so every name signame_from_number prints reads back. */
	if (*bare >= '0' && *bare <= '9') {
		n = signame_parse_decimal(bare, SIGRTMAX);
		return n >= 1 ? n : -1;
	}
	for (size_t i = 0; i < SIGNAME_TABLE_LEN; i++)
		if (signame_equal(bare, signame_table[i].name + 3))
			return signame_table[i].number;
	return signame_parse_realtime(bare);
}

const char *
signame_from_number(int sig)
{
	/* One slot per number, so two names can sit in one printf. */
	static char slots[_NSIG][32];
	static char other[32];
	char *buf;

	for (size_t i = 0; i < SIGNAME_TABLE_LEN; i++)
		if (signame_table[i].number == sig)
			return signame_table[i].name;
	buf = sig >= 0 && sig < _NSIG ? slots[sig] : other;
	if (sig == SIGRTMIN)
		return "SIGRTMIN";
	if (sig == SIGRTMAX)
		return "SIGRTMAX";
	if (sig > SIGRTMIN && sig < SIGRTMAX)
		snprintf(buf, sizeof slots[0], "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, sizeof slots[0], "SIG%d", sig);
	return buf;
}
