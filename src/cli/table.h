/* Aligned text tables for command output. */
#ifndef DROVER_TABLE_H
#define DROVER_TABLE_H

#include <stdio.h>

struct table;

/* A table with ncols columns named by headers (copied). */
struct table *table_new(int ncols, const char *const *headers);
/* Add a row of ncols cells (copied; NULL prints "-"). */
void table_add(struct table *, const char *const *cells);
/* Print with two spaces between columns; the last column is not padded. */
void table_print(const struct table *, FILE *);
void table_free(struct table *);

#endif
