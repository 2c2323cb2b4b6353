/*
 * Unicode block sparklines ("▁▂▄█") for series printed at a terminal: the
 * resource history of `usage APP --history`.
 */
#ifndef DROVER_SPARKLINE_H
#define DROVER_SPARKLINE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Draw n values into buf (at most width characters, each a UTF-8 block of
 * 3 bytes, NUL-terminated; size it 3 * width + 1) on a scale from 0 to the
 * largest value. With more values than width, each character shows the
 * largest of its group, so a spike is never averaged away. A value marked
 * absent in known (NULL: all known) is a space. Returns the characters drawn.
 */
size_t sparkline_render(const double *values, const bool *known, size_t n,
    size_t width, char *buf, size_t len);

#endif
