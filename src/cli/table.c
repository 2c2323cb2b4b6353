#include "cli/table.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmem.h"

struct table {
	int ncols;
	size_t nrows; /* the header is row 0 */
	char ***rows;
	size_t *width;
};

struct table *
table_new(int ncols, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof *t);

	t->ncols = ncols;
	t->width = xcalloc((size_t)ncols, sizeof *t->width);
	table_add(t, headers);
	return t;
}

void
table_add(struct table *t, const char *const *cells)
{
	char **row = xcalloc((size_t)t->ncols, sizeof *row);

	for (int i = 0; i < t->ncols; i++) {
		row[i] = xstrdup(cells[i] != NULL ? cells[i] : "-");
		if (strlen(row[i]) > t->width[i])
			t->width[i] = strlen(row[i]);
	}
	t->rows = xreallocarray(t->rows, t->nrows + 1, sizeof *t->rows);
	t->rows[t->nrows++] = row;
}

void
table_print(const struct table *t, FILE *f)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (int i = 0; i < t->ncols; i++) {
			if (i == t->ncols - 1)
				fprintf(f, "%s\n", t->rows[r][i]);
			else
				fprintf(f, "%-*s  ", (int)t->width[i],
				    t->rows[r][i]);
		}
	}
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t r = 0; r < t->nrows; r++) {
		for (int i = 0; i < t->ncols; i++)
			free(t->rows[r][i]);
		free(t->rows[r]);
	}
	free(t->rows);
	free(t->width);
	free(t);
}
