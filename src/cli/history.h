/*
 * Printing an app's resource history (GET /v1/apps/ID/usage): a table of
 * its points and, at a terminal, one sparkline per figure above it.
 */
#ifndef DROVER_HISTORY_PRINT_H
#define DROVER_HISTORY_PRINT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* chart: the sparklines too, at most width characters wide. */
void history_print(FILE *f, json_t *series, bool chart, int width);

#endif
