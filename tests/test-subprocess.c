/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <signal.h>
#include <stdlib.h>

#include "mbd-subprocess-private.h"

static void
collect_line (const char *line, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (line));
}

static GPtrArray *
lines_new (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

static void
test_exit_codes (void)
{
  g_autoptr (GError) error = NULL;
  int status = -1;

  g_test_summary ("Exit codes come back as they are, a signal as 128+signal, and a non-zero "
                  "exit is not an error");
  const char *ok[] = { "true", NULL };
  g_assert_true (mbd_subprocess_run (ok, NULL, NULL, 0, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);

  const char *fail[] = { "sh", "-c", "exit 7", NULL };
  g_assert_true (mbd_subprocess_run (fail, NULL, NULL, 0, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 7);

  const char *killed[] = { "sh", "-c", "kill -KILL $$", NULL };
  g_assert_true (mbd_subprocess_run (killed, NULL, NULL, 0, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 128 + SIGKILL);
}

static void
test_lines (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) lines = lines_new ();
  int status = -1;

  g_test_summary ("stdout and stderr arrive merged, line by line, without line ends, as valid "
                  "UTF-8; the last line needs no newline; stdin is empty; env and cwd apply");
  const char *argv[]
      = { "sh", "-c",
          "echo one; echo two >&2; printf 'crlf\\r\\n'; printf 'bad\\377\\n'; cat; pwd; "
          "echo \"$MBD_TEST_VAR\"; printf last",
          NULL };
  const char *envp[] = { "MBD_TEST_VAR=from-envp", "PATH=/usr/bin:/bin", NULL };
  g_assert_true (
      mbd_subprocess_run (argv, envp, "/", 0, NULL, collect_line, lines, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (lines->len, ==, 7);
  g_assert_cmpstr (lines->pdata[0], ==, "one");
  g_assert_cmpstr (lines->pdata[1], ==, "two");
  g_assert_cmpstr (lines->pdata[2], ==, "crlf");
  g_assert_true (g_utf8_validate (lines->pdata[3], -1, NULL));
  g_assert_true (g_str_has_prefix (lines->pdata[3], "bad"));
  g_assert_cmpstr (lines->pdata[4], ==, "/");
  g_assert_cmpstr (lines->pdata[5], ==, "from-envp");
  g_assert_cmpstr (lines->pdata[6], ==, "last");
}

static void
test_not_found (void)
{
  g_autoptr (GError) error = NULL;
  int status = -1;

  g_test_summary ("A program that is not in PATH fails with a spawn error naming it");
  const char *argv[] = { "mbd-no-such-program-xyz", "arg", NULL };
  g_assert_false (mbd_subprocess_run (argv, NULL, NULL, 0, NULL, NULL, NULL, &status, &error));
  g_assert_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, "mbd-no-such-program-xyz"));
  g_assert_cmpint (status, ==, -1);
}

/* A shell that reports its pid (= its process group) and then waits on children that would
 * outlive it; one child ignores SIGTERM so only the SIGKILL escalation stops it. */
static const char *const group_script
    = "echo $$; sleep 100 & sleep 100 & (trap '' TERM; exec sleep 100) & echo started; wait";

typedef struct
{
  GPtrArray *lines;
  GCancellable *cancellable;
  int pgid;
} GroupData;

static void
group_line (const char *line, gpointer user_data)
{
  GroupData *gd = user_data;

  g_ptr_array_add (gd->lines, g_strdup (line));
  if (gd->pgid == 0)
    gd->pgid = atoi (line);
  if (g_str_equal (line, "started") && gd->cancellable != NULL)
    g_cancellable_cancel (gd->cancellable);
}

static void
test_timeout_kills_group (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) lines = lines_new ();
  GroupData gd = { lines, NULL, 0 };
  int status = -1;

  g_test_summary ("A timeout stops the whole process group, including a child that ignores "
                  "SIGTERM, and fails with TIMED_OUT naming the program");
  const char *argv[] = { "sh", "-c", group_script, NULL };
  gint64 start = g_get_monotonic_time ();
  g_assert_false (mbd_subprocess_run (argv, NULL, NULL, 1, NULL, group_line, &gd, &status, &error));
  gint64 elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "sh"));
  g_assert_cmpint (gd.pgid, >, 1);
  g_assert_cmpint (mbd_subprocess_count_group (gd.pgid), ==, 0);
  /* 1 s timeout + at most the 3 s SIGKILL grace + slack */
  g_assert_cmpint (elapsed, <, 8 * G_USEC_PER_SEC);
  g_assert_cmpint (elapsed, >=, 1 * G_USEC_PER_SEC);
}

static void
test_timeout_escalates (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) lines = lines_new ();
  GroupData gd = { lines, NULL, 0 };
  int status = -1;

  g_test_summary ("A leader that ignores SIGTERM gets SIGKILL after the 3 s grace period");
  const char *argv[]
      = { "sh", "-c", "trap '' TERM; echo $$; sleep 100 & while :; do sleep 0.1; done", NULL };
  gint64 start = g_get_monotonic_time ();
  g_assert_false (mbd_subprocess_run (argv, NULL, NULL, 1, NULL, group_line, &gd, &status, &error));
  gint64 elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (gd.pgid, >, 1);
  g_assert_cmpint (mbd_subprocess_count_group (gd.pgid), ==, 0);
  g_assert_cmpint (elapsed, >=, 4 * G_USEC_PER_SEC);
  g_assert_cmpint (elapsed, <, 10 * G_USEC_PER_SEC);
}

static void
test_cancel_kills_group (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) lines = lines_new ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  GroupData gd = { lines, cancellable, 0 };
  int status = -1;

  g_test_summary ("Cancelling stops the whole process group and fails with CANCELLED");
  const char *argv[] = { "sh", "-c", group_script, NULL };
  g_assert_false (
      mbd_subprocess_run (argv, NULL, NULL, 0, cancellable, group_line, &gd, &status, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_nonnull (strstr (error->message, "sh"));
  g_assert_cmpint (gd.pgid, >, 1);
  g_assert_cmpint (mbd_subprocess_count_group (gd.pgid), ==, 0);

  /* Already cancelled: nothing starts. */
  g_clear_error (&error);
  g_assert_false (
      mbd_subprocess_run (argv, NULL, NULL, 0, cancellable, NULL, NULL, &status, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_leftovers_killed (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) lines = lines_new ();
  GroupData gd = { lines, NULL, 0 };
  int status = -1;

  g_test_summary ("When the leader exits normally, background children it left in its group "
                  "(even ones holding the output pipe) are stopped and the call returns");
  const char *argv[] = { "sh", "-c", "echo $$; sleep 100 & sleep 100 >/dev/null & exit 3", NULL };
  gint64 start = g_get_monotonic_time ();
  g_assert_true (mbd_subprocess_run (argv, NULL, NULL, 0, NULL, group_line, &gd, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 3);
  g_assert_cmpint (gd.pgid, >, 1);
  g_assert_cmpint (mbd_subprocess_count_group (gd.pgid), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

typedef struct
{
  GMainLoop *loop;
  GPtrArray *lines;
  gboolean ok;
  int status;
  GError *error;
} AsyncData;

static void
async_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  AsyncData *ad = user_data;

  ad->ok = mbd_subprocess_run_finish (result, &ad->status, &ad->error);
  g_main_loop_quit (ad->loop);
}

static void
test_async (void)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GPtrArray) lines = lines_new ();
  AsyncData ad = { loop, lines, FALSE, -1, NULL };

  g_test_summary ("The async variant delivers lines and the exit status on the caller's main "
                  "context");
  const char *argv[] = { "sh", "-c", "echo a; echo b; exit 2", NULL };
  mbd_subprocess_run_async (argv, NULL, NULL, 10, NULL, collect_line, lines, async_done, &ad);
  g_main_loop_run (loop);
  g_assert_no_error (ad.error);
  g_assert_true (ad.ok);
  g_assert_cmpint (ad.status, ==, 2);
  g_assert_cmpuint (lines->len, ==, 2);
  g_assert_cmpstr (lines->pdata[1], ==, "b");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/process-group/exit-codes", test_exit_codes);
  g_test_add_func ("/process-group/lines", test_lines);
  g_test_add_func ("/process-group/not-found", test_not_found);
  g_test_add_func ("/process-group/timeout-kills-group", test_timeout_kills_group);
  g_test_add_func ("/process-group/timeout-escalates", test_timeout_escalates);
  g_test_add_func ("/process-group/cancel-kills-group", test_cancel_kills_group);
  g_test_add_func ("/process-group/leftovers-killed", test_leftovers_killed);
  g_test_add_func ("/process-group/async", test_async);
  return g_test_run ();
}
