/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "mbd-error.h"

G_BEGIN_DECLS

/* Sets @error to %MBD_ERROR / @code with a formatted message and returns FALSE, so that a
 * failing check reads `return mbd_throw (error, MBD_ERROR_PARSE, "...", ...);`. */
gboolean mbd_throw (GError **error, MbdError code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

/* Prefixes an already set @error with a formatted context and returns FALSE. */
gboolean mbd_prefix_error (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* A printable excerpt of @len bytes of valid UTF-8 @text for error messages: at most @max bytes,
 * cut at a character boundary (with "..." appended when cut), control characters escaped. The
 * result is valid UTF-8 whatever was cut. */
char *mbd_utf8_excerpt (const char *text, gsize len, gsize max);

/* Work on item @index of a mbd_parallel_for() run; returns FALSE with @error set to stop it. */
typedef gboolean (*MbdParallelFunc) (guint index, gpointer user_data, GError **error);

/* Runs @func for every index in [0, @n) on up to one thread per processor (the calling thread
 * is one of them). Items are taken in increasing order; after a failure no new item starts and
 * the error of the lowest failed index is returned, so the outcome does not depend on timing. */
gboolean mbd_parallel_for (guint n, MbdParallelFunc func, gpointer user_data, GError **error);

/* rm -rf of an absolute path that stays on one file system (never follows a mount or a
 * symlink); errors are ignored. */
void mbd_remove_tree (const char *path);

/* Crash tests: if $MBD_DEBUG_KILL_AT names this point, the process kills itself with SIGKILL
 * there, so a test can check that a restart finishes what was interrupted at exactly that
 * point. The packager's points: "submitted", "included" (installed, not recorded yet) and
 * after each event is stored, its type ("PACKAGING", "BUILDING", "BUILT", ...). */
void mbd_debug_kill_point (const char *name);

/* Adds the member @name to the object being built: an array of the strings of @values (%NULL
 * gives an empty array). */
void mbd_json_add_strv (JsonBuilder *builder, const char *name, const char *const *values);

G_END_DECLS
