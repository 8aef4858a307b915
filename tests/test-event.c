/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <string.h>

#include "mbd-event-private.h"

typedef struct
{
  char *tmpdir;          /* (owned) */
  char *home;            /* (owned) */
  MbdInstance *instance; /* (owned) */
  GMainLoop *loop;       /* (owned) */
  MbdEvent *result;      /* (owned) (nullable) */
  GError *error;         /* (owned) (nullable) */
  gboolean done;
} Fixture;

static void
setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->instance = mbd_instance_new (fx->home);
  mbd_instance_set_identity (fx->instance, "evtest");
  mbd_instance_set_key_algorithm (fx->instance, "ed25519");
  g_assert_true (mbd_instance_open (fx->instance, MBD_INSTANCE_OPEN_CREATE, NULL, &error));
  g_assert_no_error (error);
  fx->loop = g_main_loop_new (NULL, FALSE);
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *gnupg = g_build_filename (fx->home, "gnupg", NULL);

  g_clear_object (&fx->result);
  g_clear_error (&fx->error);
  g_main_loop_unref (fx->loop);
  g_object_unref (fx->instance);
  mbd_test_kill_agent (gnupg);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->home);
}

static MbdEvent *
add_event (MbdInstance *instance, MbdEventType type, const char *source)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdEvent) event = mbd_event_new (type, "bookworm-evtest-unstable", source, "1.0");

  g_assert_true (mbd_events_add (mbd_instance_get_events (instance), event, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&event);
}

static void
next_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *fx = user_data;

  fx->result = mbd_events_next_finish (MBD_EVENTS (source), result, &fx->error);
  fx->done = TRUE;
  g_main_loop_quit (fx->loop);
}

static gboolean
on_timeout (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

/* Runs the loop until the wait completes or @seconds pass. */
static void
run_until_done (Fixture *fx, guint seconds)
{
  guint timeout = g_timeout_add_seconds (seconds, on_timeout, fx->loop);

  if (!fx->done)
    g_main_loop_run (fx->loop);
  if (fx->done)
    g_source_remove (timeout);
}

/* Lets the loop run for a while so that a wrongly completing wait would complete. */
static void
spin (Fixture *fx, guint ms)
{
  guint timeout = g_timeout_add (ms, on_timeout, fx->loop);

  g_main_loop_run (fx->loop);
  if (fx->done)
    g_source_remove (timeout);
}

static void
test_next_stored (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Waiting after an id or a time completes at once with the first later event");
  g_autoptr (MbdEvent) first = add_event (fx->instance, MBD_EVENT_MIGRATED, "one");
  g_usleep (2000);
  g_autoptr (MbdEvent) second = add_event (fx->instance, MBD_EVENT_REMOVED, "two");
  MbdEvents *events = mbd_instance_get_events (fx->instance);

  mbd_events_next_async (events, 0, NULL, NULL, next_done, fx);
  run_until_done (fx, 10);
  g_assert_no_error (fx->error);
  g_assert_nonnull (fx->result);
  g_assert_cmpint (mbd_event_get_id (fx->result), ==, mbd_event_get_id (first));
  g_assert_cmpstr (mbd_event_get_source (fx->result), ==, "one");

  g_clear_object (&fx->result);
  fx->done = FALSE;
  mbd_events_next_async (events, 0, mbd_event_get_timestamp (first), NULL, next_done, fx);
  run_until_done (fx, 10);
  g_assert_no_error (fx->error);
  g_assert_nonnull (fx->result);
  g_assert_cmpstr (mbd_event_get_source (fx->result), ==, "two");
  g_assert_cmpint (mbd_event_get_event_type (fx->result), ==, MBD_EVENT_REMOVED);
}

static void
test_next_new (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Waiting with -1 skips the stored events and completes with the next one");
  g_autoptr (MbdEvent) old = add_event (fx->instance, MBD_EVENT_MIGRATED, "old");
  MbdEvents *events = mbd_instance_get_events (fx->instance);

  mbd_events_next_async (events, -1, NULL, NULL, next_done, fx);
  spin (fx, 300);
  g_assert_false (fx->done);
  g_autoptr (MbdEvent) fresh = add_event (fx->instance, MBD_EVENT_REJECTED, "fresh");
  run_until_done (fx, 10);
  g_assert_no_error (fx->error);
  g_assert_nonnull (fx->result);
  g_assert_cmpstr (mbd_event_get_source (fx->result), ==, "fresh");
  g_assert_cmpint (mbd_event_get_id (fx->result), ==, mbd_event_get_id (fresh));
}

static void
test_next_other_process (Fixture *fx, gconstpointer data)
{
  g_test_summary ("An event stored through another connection to the home (as the mbd CLI does "
                  "from its own process) ends a wait without polling");
  MbdEvents *events = mbd_instance_get_events (fx->instance);

  mbd_events_next_async (events, -1, NULL, NULL, next_done, fx);
  spin (fx, 200);
  g_assert_false (fx->done);

  g_autoptr (GError) error = NULL;
  g_autoptr (MbdInstance) other = mbd_instance_new (fx->home);
  g_assert_true (mbd_instance_open (other, MBD_INSTANCE_OPEN_NONE, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (MbdEvent) added = add_event (other, MBD_EVENT_REMOVED, "elsewhere");
  run_until_done (fx, 10);
  g_assert_no_error (fx->error);
  g_assert_nonnull (fx->result);
  g_assert_cmpstr (mbd_event_get_source (fx->result), ==, "elsewhere");
}

static void
test_next_cancel (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Cancelling a wait completes it with G_IO_ERROR_CANCELLED");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  mbd_events_next_async (mbd_instance_get_events (fx->instance), -1, NULL, cancellable, next_done,
                         fx);
  spin (fx, 100);
  g_assert_false (fx->done);
  g_cancellable_cancel (cancellable);
  run_until_done (fx, 10);
  g_assert_error (fx->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (fx->result);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add ("/event/next/stored", Fixture, NULL, setup, test_next_stored, teardown);
  g_test_add ("/event/next/new", Fixture, NULL, setup, test_next_new, teardown);
  g_test_add ("/event/next/other-process", Fixture, NULL, setup, test_next_other_process, teardown);
  g_test_add ("/event/next/cancel", Fixture, NULL, setup, test_next_cancel, teardown);
  return g_test_run ();
}
