/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Called once per line of the child's merged stdout+stderr, without the line end; @line is
 * valid UTF-8 (invalid bytes are replaced). */
typedef void (*MbdLineFunc) (const char *line, gpointer user_data);

/* Runs @argv (argv[0] searched in PATH) in a NEW PROCESS GROUP and session (setsid), stdin
 * /dev/null, stdout and stderr merged and fed line by line to @line_func (may be NULL) from the
 * calling thread's main context (the sync variant iterates a private context).
 * @envp NULL inherits our environment; @cwd NULL keeps ours; @timeout_seconds 0 = none.
 *
 * On timeout or cancellation the whole group gets SIGTERM, then SIGKILL after 3 s; the call fails
 * with G_IO_ERROR_TIMED_OUT / G_IO_ERROR_CANCELLED naming argv[0] once the leader is gone. When
 * the leader exits, processes it left in its group are killed (SIGKILL), so nothing started by
 * the call outlives it. A non-zero exit returns TRUE with *exit_status set (callers decide);
 * *exit_status is 128+signal when the leader was killed by a signal. A program that cannot be
 * started fails with G_SPAWN_ERROR naming it. */
gboolean mbd_subprocess_run (const char *const *argv,
                             const char *const *envp,
                             const char *cwd,
                             int timeout_seconds,
                             GCancellable *cancellable,
                             MbdLineFunc line_func,
                             gpointer line_data,
                             int *exit_status,
                             GError **error);

void mbd_subprocess_run_async (const char *const *argv,
                               const char *const *envp,
                               const char *cwd,
                               int timeout_seconds,
                               GCancellable *cancellable,
                               MbdLineFunc line_func,
                               gpointer line_data,
                               GAsyncReadyCallback callback,
                               gpointer user_data);

gboolean mbd_subprocess_run_finish (GAsyncResult *result, int *exit_status, GError **error);

/* Number of processes (zombies not counted) whose process group is @pgid; for tests asserting
 * that nothing of a run survived. Zombies are left out because an init that does not reap
 * (as on some CI machines) keeps orphans as zombies forever. */
int mbd_subprocess_count_group (int pgid);

G_END_DECLS
