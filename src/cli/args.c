#include "cli/args.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmem.h"

/* Find name in spec; sets *takes_value and *repeatable. */
static bool
args_spec_lookup(const char *spec, const char *name, size_t namelen,
    bool *takes_value, bool *repeatable)
{
	const char *p = spec;

	while (p != NULL && *p != '\0') {
		const char *end = strchrnul(p, ','), *eq = memchr(p, '=',
		    (size_t)(end - p));
		size_t len = (size_t)((eq != NULL ? eq : end) - p);

		if (len == namelen && strncmp(p, name, len) == 0) {
			*takes_value = eq != NULL;
			*repeatable = eq != NULL && eq + 1 < end && eq[1] == '*';
			return true;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return false;
}

int
args_parse(int argc, char **argv, const char *spec, struct args *out,
    char **cause)
{
	size_t names_cap = 0, names_len = 0;
	int i;

	memset(out, 0, sizeof *out);
	out->owned = xcalloc((size_t)argc + 1, sizeof *out->owned);
	out->argv = out->owned;
	for (i = 0; i < argc; i++)
		names_cap += strlen(argv[i]) + 1;
	out->names = xmalloc(names_cap + 1);

	for (i = 0; i < argc; i++) {
		const char *w = argv[i], *name, *eq, *value = NULL;
		bool takes_value, repeatable;
		size_t namelen;

		if (strcmp(w, "--") == 0) {
			out->rest = argv + i + 1;
			out->nrest = argc - i - 1;
			break;
		}
		if (strncmp(w, "--", 2) != 0 || w[2] == '\0') {
			out->argv[out->argc++] = argv[i];
			continue;
		}
		name = w + 2;
		eq = strchr(name, '=');
		namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if (!args_spec_lookup(spec, name, namelen, &takes_value,
			&repeatable)) {
			*cause = xasprintf("unknown option --%.*s", (int)namelen,
			    name);
			goto fail;
		}
		if (takes_value) {
			if (eq != NULL)
				value = eq + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else {
				*cause = xasprintf("option --%.*s needs a value",
				    (int)namelen, name);
				goto fail;
			}
		} else if (eq != NULL) {
			*cause = xasprintf("option --%.*s takes no value",
			    (int)namelen, name);
			goto fail;
		}
		memcpy(out->names + names_len, name, namelen);
		out->names[names_len + namelen] = '\0';
		if (!repeatable && args_has(out, out->names + names_len)) {
			*cause = xasprintf("option --%.*s given twice",
			    (int)namelen, name);
			goto fail;
		}
		if (out->nflags == ARGS_MAX_FLAGS) {
			*cause = xstrdup("too many options");
			goto fail;
		}
		out->flags[out->nflags].name = out->names + names_len;
		out->flags[out->nflags].value = value;
		out->nflags++;
		names_len += namelen + 1;
	}
	return 0;
fail:
	args_free(out);
	return -1;
}

void
args_free(struct args *a)
{
	free(a->owned);
	free(a->names);
	a->owned = NULL;
	a->names = NULL;
}

bool
args_has(const struct args *a, const char *name)
{
	for (int i = 0; i < a->nflags; i++)
		if (strcmp(a->flags[i].name, name) == 0)
			return true;
	return false;
}

const char *
args_get(const struct args *a, const char *name)
{
	const char *v = NULL;

	for (int i = 0; i < a->nflags; i++)
		if (strcmp(a->flags[i].name, name) == 0)
			v = a->flags[i].value;
	return v;
}

int
args_get_all(const struct args *a, const char *name, const char **vals,
    int max)
{
	int n = 0;

	for (int i = 0; i < a->nflags && n < max; i++)
		if (strcmp(a->flags[i].name, name) == 0)
			vals[n++] = a->flags[i].value;
	return n;
}

char **
args_split(const char *line, int *argc, char **cause)
{
	size_t len = strlen(line);
	char **words = xcalloc(ARGS_MAX_WORDS + 1, sizeof *words);
	char *buf = xmalloc(len + 1);
	const char *p = line;
	int n = 0;

	while (*p != '\0') {
		size_t b = 0;
		char quote = 0;
		bool have_word = false;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		while (*p != '\0') {
			if (quote == 0 && (*p == ' ' || *p == '\t' ||
			    *p == '\n' || *p == '\r'))
				break;
			if (quote == 0 && (*p == '\'' || *p == '"')) {
				quote = *p++;
				have_word = true;
				continue;
			}
			if (quote != 0 && *p == quote) {
				quote = 0;
				p++;
				continue;
			}
			if (*p == '\\' && quote != '\'' && p[1] != '\0') {
				p++;
				buf[b++] = *p++;
				continue;
			}
			buf[b++] = *p++;
		}
		if (quote != 0) {
			*cause = xasprintf("unterminated %c quote", quote);
			goto fail;
		}
		if (b == 0 && !have_word)
			continue;
		if (n == ARGS_MAX_WORDS) {
			*cause = xasprintf("more than %d words", ARGS_MAX_WORDS);
			goto fail;
		}
		words[n++] = xstrndup(buf, b);
	}
	free(buf);
	*argc = n;
	return words;
fail:
	free(buf);
	args_split_free(words);
	return NULL;
}

void
args_split_free(char **words)
{
	if (words == NULL)
		return;
	for (char **w = words; *w != NULL; w++)
		free(*w);
	free(words);
}
