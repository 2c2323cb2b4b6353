/*
 * Directories for apps, made ahead of the launches that take them. A launch
 * renames a ready directory (holding an empty output.log) to DIR/apps/ID
 * instead of creating the directory and the file, and the directory of an
 * app the worker forgets is emptied and kept for a later launch rather than
 * removed. On ext4 without a journal every new inode costs a scan past the
 * recently deleted ones: creating the directory and the log took a third
 * of the worker's CPU time in the launch benchmark, and up to a millisecond
 * of a launch.
 */
#ifndef DROVER_APPDIR_H
#define DROVER_APPDIR_H

#include <stdbool.h>

/* How many ready directories are made ahead of the launches. */
#define APPDIR_SPARES 8
/*
 * How many are kept at most, most of them recycled: the worker forgets the
 * dead apps past its retention once a second, all at once, so the pool has
 * to take a second's launches for none of their directories to be removed
 * and made again (3 inodes each, 4 KiB of disk).
 */
#define APPDIR_KEEP_MAX 1024

struct appdirs;

/*
 * The pool in DIR/spare-dirs (created if missing); ready directories left
 * there by an earlier worker are taken into it.
 */
struct appdirs *appdirs_open(const char *dir);
void appdirs_free(struct appdirs *);

/*
 * Rename a ready directory to path (DIR/apps/ID; DIR/apps is created if
 * missing). Returns 0, or -1 when there is none or the rename failed: the
 * caller then creates the directory itself.
 */
int appdirs_take(struct appdirs *, const char *path);

/* Make ready directories until there are APPDIR_SPARES (between launches). */
void appdirs_fill(struct appdirs *);
/* Whether appdirs_fill has any to make. */
bool appdirs_short(const struct appdirs *);

/*
 * path is the directory of an app the worker forgets: keep it for a later
 * launch, its log cut to nothing in the same inode and anything else in it
 * (rotated logs, an exit file, what the app wrote in its directory)
 * removed; or remove it all when the pool holds APPDIR_KEEP_MAX. Returns
 * 0, or -1 with errno.
 */
int appdirs_recycle(struct appdirs *, const char *path);

#endif
