#include "cli/sparkline.h"

#include <string.h>

/* Eight heights, U+2581 to U+2588. */
static const char *const sparkline_blocks[] = {
	"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587",
	"\u2588",
};

size_t
sparkline_render(const double *values, const bool *known, size_t n,
    size_t width, char *buf, size_t len)
{
	size_t cols = n < width ? n : width, used = 0, drawn = 0;
	double top = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((known == NULL || known[i]) && values[i] > top)
			top = values[i];
	for (size_t c = 0; c < cols; c++) {
		/* Values [from, to) make this column. */
		size_t from = c * n / cols, to = (c + 1) * n / cols;
		const char *glyph = " ";
		bool any = false;
		double v = 0;

		for (size_t i = from; i < to; i++) {
			if (known != NULL && !known[i])
				continue;
			if (!any || values[i] > v)
				v = values[i];
			any = true;
		}
		if (any) {
			int level = top > 0 ? (int)(v / top * 7.0 + 0.5) : 0;

			glyph = sparkline_blocks[level < 0 ? 0 : level > 7 ? 7 :
			    level];
		}
		if (used + strlen(glyph) + 1 > len)
			break;
		memcpy(buf + used, glyph, strlen(glyph));
		used += strlen(glyph);
		buf[used] = '\0';
		drawn++;
	}
	return drawn;
}
