/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Child processes in their own process group: merged output read line by line, a timeout and
 * cancellation that take down the whole group, and no process left behind when the call
 * returns. Everything runs on the caller's thread-default main context.
 *
 * GSubprocess would reap the leader on GLib's worker thread, possibly before we could read its
 * pid, and then the process group id would be unknown (and reusable). So the child is spawned
 * with G_SPAWN_DO_NOT_REAP_CHILD and reaped by a child watch on our own context: the pid, which
 * is also the group id, stays valid until we have seen the exit. */
#include "config.h"

#include "mbd-subprocess-private.h"

#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define KILL_GRACE_SECONDS 3
#define REAP_POLL_MS 20
#define REAP_MAX_POLLS 150

typedef struct
{
  GPid pid;
  GSource *child_source;
  GDataInputStream *out;
  char *name;
  pid_t pgid;
  MbdLineFunc line_func;
  gpointer line_data;
  int timeout_seconds;
  GSource *timeout_source;
  GSource *kill_source;
  GSource *cancel_source;
  GSource *reap_source;
  int reap_polls;
  gboolean exited;
  gboolean eof;
  int exit_status;
  GError *reason; /* why we killed the group: timeout or cancellation */
} RunData;

static void
destroy_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
run_data_free (RunData *data)
{
  destroy_source (&data->timeout_source);
  destroy_source (&data->kill_source);
  destroy_source (&data->cancel_source);
  destroy_source (&data->reap_source);
  destroy_source (&data->child_source);
  g_clear_object (&data->out);
  g_free (data->name);
  g_clear_error (&data->reason);
  g_free (data);
}

int
mbd_subprocess_count_group (int pgid)
{
  /* 0 is no group of ours (kernel threads show pgrp 0), 1 is init's */
  if (pgid <= 1)
    return 0;
  g_autoptr (GDir) dir = g_dir_open ("/proc", 0, NULL);
  if (dir == NULL)
    return 0;

  int count = 0;
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (!g_ascii_isdigit (name[0]))
        continue;
      g_autofree char *path = g_build_filename ("/proc", name, "stat", NULL);
      g_autofree char *stat = NULL;
      if (!g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      /* "pid (comm) state ppid pgrp ...": comm may contain anything, so parse after the last ')' */
      const char *p = strrchr (stat, ')');
      if (p == NULL)
        continue;
      char state = 0;
      int ppid = 0, pgrp = 0;
      if (sscanf (p + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
        continue;
      if (pgrp == pgid && state != 'Z' && state != 'X')
        count++;
    }
  return count;
}

static void
child_setup (gpointer user_data)
{
  /* A new session is also a new process group, with the child as its leader (pgid == pid), and
   * detaches it from our controlling terminal so a ^C on the CLI does not reach it directly. */
  if (setsid () < 0)
    setpgid (0, 0);
}

static void
kill_group (RunData *data, int sig)
{
  if (data->pgid > 1)
    kill (-data->pgid, sig);
}

static void maybe_complete (GTask *task);

static gboolean
reap_poll_cb (gpointer user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);

  if (mbd_subprocess_count_group (data->pgid) > 0 && ++data->reap_polls < REAP_MAX_POLLS)
    {
      kill_group (data, SIGKILL);
      return G_SOURCE_CONTINUE;
    }
  g_clear_pointer (&data->reap_source, g_source_unref);
  data->pgid = 0;
  maybe_complete (task);
  return G_SOURCE_REMOVE;
}

static void
maybe_complete (GTask *task)
{
  RunData *data = g_task_get_task_data (task);

  if (!data->exited || !data->eof || data->reap_source != NULL)
    return;

  /* Leftovers of the group (background children of a shell, say) were sent SIGKILL when the
   * leader exited; wait until the kernel has really removed them. */
  if (data->pgid > 0 && mbd_subprocess_count_group (data->pgid) > 0)
    {
      kill_group (data, SIGKILL);
      data->reap_source = g_timeout_source_new (REAP_POLL_MS);
      g_source_set_callback (data->reap_source, reap_poll_cb, task, NULL);
      g_source_attach (data->reap_source, g_task_get_context (task));
      return;
    }

  destroy_source (&data->timeout_source);
  destroy_source (&data->kill_source);
  destroy_source (&data->cancel_source);

  if (data->reason != NULL)
    g_task_return_error (task, g_steal_pointer (&data->reason));
  else
    g_task_return_int (task, data->exit_status);
  g_object_unref (task);
}

static gboolean
kill_timeout_cb (gpointer user_data)
{
  RunData *data = g_task_get_task_data (G_TASK (user_data));

  g_debug ("%s did not stop after SIGTERM; sending SIGKILL to process group %d", data->name,
           (int) data->pgid);
  kill_group (data, SIGKILL);
  g_clear_pointer (&data->kill_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* Timeout or cancellation: remember why, SIGTERM the group now and SIGKILL it a little later. */
static void
terminate (GTask *task, GError *reason)
{
  RunData *data = g_task_get_task_data (task);

  if (data->reason != NULL || data->exited)
    {
      g_error_free (reason);
      return;
    }
  data->reason = reason;
  kill_group (data, SIGTERM);
  data->kill_source = g_timeout_source_new (KILL_GRACE_SECONDS * 1000);
  g_source_set_callback (data->kill_source, kill_timeout_cb, task, NULL);
  g_source_attach (data->kill_source, g_task_get_context (task));
}

static gboolean
timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);

  g_clear_pointer (&data->timeout_source, g_source_unref);
  terminate (task, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                "%s timed out after %d s and was stopped", data->name,
                                data->timeout_seconds));
  return G_SOURCE_REMOVE;
}

static gboolean
cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);

  g_clear_pointer (&data->cancel_source, g_source_unref);
  terminate (task, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s was cancelled and stopped",
                                data->name));
  return G_SOURCE_REMOVE;
}

static void
child_exited_cb (GPid pid, int wait_status, gpointer user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);

  g_clear_pointer (&data->child_source, g_source_unref);
  g_spawn_close_pid (pid);
  data->exited = TRUE;
  if (WIFEXITED (wait_status))
    data->exit_status = WEXITSTATUS (wait_status);
  else if (WIFSIGNALED (wait_status))
    data->exit_status = 128 + WTERMSIG (wait_status);
  else
    data->exit_status = 255;

  /* The leader is gone: whatever it left in its group goes too, which also closes the pipe. The
   * group id cannot be reused while any member exists. */
  if (mbd_subprocess_count_group (data->pgid) > 0)
    kill_group (data, SIGKILL);
  maybe_complete (task);
}

static void
read_line_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  gsize length = 0;

  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (object),
                                                                result, &length, &error);
  if (line == NULL)
    {
      if (error != NULL)
        g_debug ("Reading the output of %s failed: %s", data->name, error->message);
      data->eof = TRUE;
      maybe_complete (task);
      return;
    }

  if (data->line_func != NULL)
    {
      if (length > 0 && line[length - 1] == '\r')
        line[--length] = '\0';
      if (g_utf8_validate (line, length, NULL))
        data->line_func (line, data->line_data);
      else
        {
          g_autofree char *valid = g_utf8_make_valid (line, length);
          data->line_func (valid, data->line_data);
        }
    }

  g_data_input_stream_read_line_async (data->out, G_PRIORITY_DEFAULT, NULL, read_line_cb, task);
}

void
mbd_subprocess_run_async (const char *const *argv,
                          const char *const *envp,
                          const char *cwd,
                          int timeout_seconds,
                          GCancellable *cancellable,
                          MbdLineFunc line_func,
                          gpointer line_data,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (argv != NULL && argv[0] != NULL);
  g_return_if_fail (timeout_seconds >= 0);

  /* The task is not bound to @cancellable: cancelling must stop the group first, and the call
   * returns only once it is gone. */
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_source_tag (task, mbd_subprocess_run_async);

  RunData *data = g_new0 (RunData, 1);
  data->name = g_strdup (argv[0]);
  data->line_func = line_func;
  data->line_data = line_data;
  data->timeout_seconds = timeout_seconds;
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);

  if (g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "%s was cancelled before it started", data->name);
      g_object_unref (task);
      return;
    }

  int pipe_fds[2];
  g_autoptr (GError) error = NULL;
  if (!g_unix_open_pipe (pipe_fds, FD_CLOEXEC, &error))
    {
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errno),
                               "Could not run %s: %s", data->name, error->message);
      g_object_unref (task);
      return;
    }

  /* stdout and stderr share the pipe's write end (dup2 in the child clears FD_CLOEXEC). */
  gboolean spawned = g_spawn_async_with_pipes_and_fds (
      cwd, argv, envp,
      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL, child_setup,
      NULL, -1, pipe_fds[1], pipe_fds[1], NULL, NULL, 0, &data->pid, NULL, NULL, NULL, &error);
  close (pipe_fds[1]);
  if (!spawned)
    {
      close (pipe_fds[0]);
      g_task_return_new_error (task, error->domain, error->code, "Could not run %s: %s", data->name,
                               error->message);
      g_object_unref (task);
      return;
    }
  data->pgid = data->pid;

  g_autoptr (GInputStream) pipe_in = g_unix_input_stream_new (pipe_fds[0], TRUE);
  data->out = g_data_input_stream_new (pipe_in);
  g_data_input_stream_set_newline_type (data->out, G_DATA_STREAM_NEWLINE_TYPE_LF);

  if (timeout_seconds > 0)
    {
      data->timeout_source = g_timeout_source_new ((guint) timeout_seconds * 1000);
      g_source_set_callback (data->timeout_source, timeout_cb, task, NULL);
      g_source_attach (data->timeout_source, g_task_get_context (task));
    }
  if (cancellable != NULL)
    {
      data->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (data->cancel_source, G_SOURCE_FUNC (cancelled_cb), task, NULL);
      g_source_attach (data->cancel_source, g_task_get_context (task));
    }

  /* The task holds one reference for all the pending operations; maybe_complete() drops it. */
  data->child_source = g_child_watch_source_new (data->pid);
  g_source_set_callback (data->child_source, (GSourceFunc) (void (*) (void)) child_exited_cb, task,
                         NULL);
  g_source_attach (data->child_source, g_task_get_context (task));
  g_data_input_stream_read_line_async (data->out, G_PRIORITY_DEFAULT, NULL, read_line_cb, task);
}

gboolean
mbd_subprocess_run_finish (GAsyncResult *result, int *exit_status, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_subprocess_run_async, FALSE);

  GError *local_error = NULL;
  int status = (int) g_task_propagate_int (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (exit_status != NULL)
    *exit_status = status;
  return TRUE;
}

typedef struct
{
  GAsyncResult *result;
} SyncData;

static void
sync_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  SyncData *sync = user_data;

  sync->result = g_object_ref (result);
}

gboolean
mbd_subprocess_run (const char *const *argv,
                    const char *const *envp,
                    const char *cwd,
                    int timeout_seconds,
                    GCancellable *cancellable,
                    MbdLineFunc line_func,
                    gpointer line_data,
                    int *exit_status,
                    GError **error)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  SyncData sync = { NULL };

  g_main_context_push_thread_default (context);
  mbd_subprocess_run_async (argv, envp, cwd, timeout_seconds, cancellable, line_func, line_data,
                            sync_cb, &sync);
  while (sync.result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  gboolean ok = mbd_subprocess_run_finish (sync.result, exit_status, error);
  g_object_unref (sync.result);
  return ok;
}
