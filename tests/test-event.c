/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <string.h>

#include "mbd-event-private.h"
#include "mbd-notify-private.h"

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

  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->instance = mbd_test_create_instance (fx->home, "evtest");
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

typedef struct
{
  GMainLoop *loop;
  guint id;
} Timeout;

static gboolean
on_timeout (gpointer user_data)
{
  Timeout *timeout = user_data;

  timeout->id = 0;
  g_main_loop_quit (timeout->loop);
  return G_SOURCE_REMOVE;
}

/* Runs the loop until it is quit or @ms pass. */
static void
run_for (Fixture *fx, guint ms)
{
  Timeout timeout = { fx->loop, 0 };

  timeout.id = g_timeout_add (ms, on_timeout, &timeout);
  g_main_loop_run (fx->loop);
  g_clear_handle_id (&timeout.id, g_source_remove);
}

/* Runs the loop until the wait completes or @seconds pass. */
static void
run_until_done (Fixture *fx, guint seconds)
{
  if (!fx->done)
    run_for (fx, seconds * 1000);
}

/* Lets the loop run for a while so that a wrongly completing wait would complete. */
static void
spin (Fixture *fx, guint ms)
{
  run_for (fx, ms);
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
  g_assert_cmpint (mbd_event_get_id (fx->result), ==, mbd_event_get_id (second));
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
  g_assert_cmpint (mbd_event_get_id (fx->result), >, mbd_event_get_id (old));
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
  g_assert_cmpint (mbd_event_get_id (fx->result), ==, mbd_event_get_id (added));
}

static void
test_next_instance_gone (Fixture *fx, gconstpointer data)
{
  g_test_summary ("A wait whose instance is dropped ends with an error instead of never");
  g_autoptr (GError) error = NULL;
  MbdInstance *other = mbd_instance_new (fx->home);
  g_assert_true (mbd_instance_open (other, MBD_INSTANCE_OPEN_NONE, NULL, &error));
  g_assert_no_error (error);

  mbd_events_next_async (mbd_instance_get_events (other), -1, NULL, NULL, next_done, fx);
  spin (fx, 100);
  g_assert_false (fx->done);
  g_object_unref (other);
  run_until_done (fx, 10);
  g_assert_error (fx->error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (fx->error->message, "instance of this event log is gone"));
  g_assert_null (fx->result);
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

/* ---- e-mail notification ------------------------------------------------------------------ */

static void
set_mail (MbdInstance *instance, const char *repository, const char *name, const char *value)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (mbd_instance_set_mail_setting (instance, repository, name, value, &error));
  g_assert_no_error (error);
}

static MbdEvent *
upload_event (MbdEventType type, const char *distribution)
{
  MbdEvent *event = mbd_event_new (type, distribution, "hello", "1.0-1");

  mbd_event_set_extra (event, "changed_by", "Uploader Person <Uploader@Example.ORG>");
  mbd_event_set_extra (event, "maintainer", "maint@example.org");
  return event;
}

static char *
recipients_of (MbdInstance *instance, MbdEvent *event)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) recipients = mbd_instance_list_mail_recipients (instance, event, &error);

  g_assert_no_error (error);
  g_assert_nonnull (recipients);
  return g_strjoinv (" ", recipients);
}

static void
test_mail_recipients (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Recipients: the instance's and the repository's notify lists, Changed-By and "
                  "Maintainer only when the repository allows it and allow-emails-to matches "
                  "the whole address; each address once; only the configured event types");
  g_autoptr (MbdEvent) event = upload_event (MBD_EVENT_INSTALLED, "bookworm-test-unstable");
  g_autofree char *none = recipients_of (fx->instance, event);
  g_assert_cmpstr (none, ==, "");

  set_mail (fx->instance, NULL, "notify", "admin@example.org, ops@example.org");
  set_mail (fx->instance, "test", "notify", "team@example.org ADMIN@example.org");
  g_autofree char *lists = recipients_of (fx->instance, event);
  g_assert_cmpstr (lists, ==, "admin@example.org ops@example.org team@example.org");

  /* the repository allows it, but allow-emails-to is empty: nobody outside the lists */
  set_mail (fx->instance, "test", "notify-changed-by", "yes");
  set_mail (fx->instance, "test", "notify-maintainer", "true");
  g_autofree char *no_allow = recipients_of (fx->instance, event);
  g_assert_cmpstr (no_allow, ==, lists);

  set_mail (fx->instance, NULL, "allow-emails-to", ".*@example\\.org");
  g_autofree char *both = recipients_of (fx->instance, event);
  g_assert_cmpstr (both, ==,
                   "admin@example.org ops@example.org team@example.org Uploader@Example.ORG "
                   "maint@example.org");

  /* anchored: a partial match of the address does not count */
  set_mail (fx->instance, NULL, "allow-emails-to", "maint@example");
  g_autofree char *partial = recipients_of (fx->instance, event);
  g_assert_cmpstr (partial, ==, lists);

  set_mail (fx->instance, NULL, "allow-emails-to", "uploader@.*");
  set_mail (fx->instance, "test", "notify-changed-by", "false");
  g_autofree char *maint_only = recipients_of (fx->instance, event);
  g_assert_cmpstr (maint_only, ==, lists);

  /* an event of an unknown repository mails Changed-By (if allowed), as mini-buildd does */
  g_autoptr (MbdEvent) unknown = upload_event (MBD_EVENT_REJECTED, "bookworm-nosuch-unstable");
  g_autofree char *rejected = recipients_of (fx->instance, unknown);
  g_assert_cmpstr (rejected, ==, "admin@example.org ops@example.org Uploader@Example.ORG");

  /* BUILDING does not mail by default; the events setting changes that */
  g_autoptr (MbdEvent) building = upload_event (MBD_EVENT_BUILDING, "bookworm-test-unstable");
  g_autofree char *progress = recipients_of (fx->instance, building);
  g_assert_cmpstr (progress, ==, "");
  set_mail (fx->instance, NULL, "events", "building");
  g_autofree char *stored = mbd_instance_dup_mail_setting (fx->instance, NULL, "events", NULL);
  g_assert_cmpstr (stored, ==, "BUILDING");
  g_autofree char *now_building = recipients_of (fx->instance, building);
  g_assert_cmpstr (now_building, ==, lists);
  g_autofree char *not_installed = recipients_of (fx->instance, event);
  g_assert_cmpstr (not_installed, ==, "");
  set_mail (fx->instance, NULL, "events", NULL);
  g_autofree char *back = mbd_instance_dup_mail_setting (fx->instance, NULL, "events", NULL);
  g_assert_cmpstr (back, ==, MBD_MAIL_DEFAULT_EVENTS);
}

static void
test_mail_settings_invalid (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Mail settings refuse what is not an address, a regular expression, an event "
                  "type or a boolean, unknown names and unknown repositories, naming each");
  const struct
  {
    const char *repository;
    const char *name;
    const char *value;
    int code;
    const char *part;
  } cases[] = {
    { NULL, "notify", "admin@example.org, not-an-address", MBD_ERROR_INVALID_ARGUMENT,
      "'not-an-address' is not an e-mail address" },
    { NULL, "notify", "a@b@c", MBD_ERROR_INVALID_ARGUMENT, "'a@b@c'" },
    { NULL, "from", "Name <x@y>", MBD_ERROR_INVALID_ARGUMENT, "mail setting 'from'" },
    { NULL, "allow-emails-to", "(unclosed", MBD_ERROR_INVALID_ARGUMENT,
      "'(unclosed' is not a regular expression" },
    { NULL, "events", "INSTALLED,EXPLODED", MBD_ERROR_INVALID_ARGUMENT, "'EXPLODED'" },
    { NULL, "sendmail", "", MBD_ERROR_INVALID_ARGUMENT, "mail setting 'sendmail'" },
    { NULL, "colour", "red", MBD_ERROR_INVALID_ARGUMENT, "mail setting 'colour' is unknown" },
    { NULL, "notify-maintainer", "true", MBD_ERROR_INVALID_ARGUMENT, "is unknown" },
    { "test", "notify-maintainer", "perhaps", MBD_ERROR_INVALID_ARGUMENT,
      "'perhaps' is not a boolean" },
    { "test", "sendmail", "/bin/true", MBD_ERROR_INVALID_ARGUMENT, "of repository test" },
    { "nosuch", "notify", "a@b.c", MBD_ERROR_NOT_FOUND, "nosuch" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (mbd_instance_set_mail_setting (fx->instance, cases[i].repository,
                                                     cases[i].name, cases[i].value, &error));
      g_assert_error (error, MBD_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].part));
    }
  /* nothing of it was stored */
  g_autofree char *notify = mbd_instance_dup_mail_setting (fx->instance, NULL, "notify", NULL);
  g_assert_cmpstr (notify, ==, "");
}

/* A sendmail stand-in: writes its arguments and the message to files, or fails. */
static char *
write_sendmail (Fixture *fx, const char *body)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fx->tmpdir, "sendmail", NULL);
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\n%s\n", body);

  g_assert_true (g_file_set_contents (path, script, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
  return g_steal_pointer (&path);
}

static void
notify_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *fx = user_data;

  mbd_notify_event_finish (MBD_INSTANCE (source), result, &fx->error);
  fx->done = TRUE;
  g_main_loop_quit (fx->loop);
}

static void
test_mail_send (Fixture *fx, gconstpointer data)
{
  g_test_summary ("The mail goes through sendmail -t -oi with From, To (each recipient once), "
                  "Subject, Date, the reason and the event's JSON");
  g_autofree char *out = g_build_filename (fx->tmpdir, "mail.txt", NULL);
  g_autofree char *body = g_strdup_printf ("echo \"$@\" > '%s.args'; cat > '%s'", out, out);
  g_autofree char *sendmail = write_sendmail (fx, body);
  set_mail (fx->instance, NULL, "sendmail", sendmail);
  set_mail (fx->instance, NULL, "from", "mbd@build.example.org");
  set_mail (fx->instance, NULL, "notify", "admin@example.org");
  set_mail (fx->instance, "test", "notify", "Admin@example.org team@example.org");
  g_autoptr (MbdEvent) event = upload_event (MBD_EVENT_FAILED, "bookworm-test-unstable");
  mbd_event_set_reason (event, 500, "Build failed", "amd64: dpkg-buildpackage exited 2");

  mbd_notify_event_async (fx->instance, event, NULL, notify_done, fx);
  run_until_done (fx, 20);
  g_assert_no_error (fx->error);
  g_autofree char *args_path = g_strdup_printf ("%s.args", out);
  g_autofree char *args = NULL;
  g_assert_true (g_file_get_contents (args_path, &args, NULL, NULL));
  g_assert_cmpstr (args, ==, "-t -oi\n");
  g_autofree char *mail = NULL;
  g_assert_true (g_file_get_contents (out, &mail, NULL, NULL));
  g_assert_true (g_str_has_prefix (mail, "From: mbd@build.example.org\n"
                                         "To: admin@example.org,\n team@example.org\n"
                                         "Subject: [mbd-evtest] FAILED: hello 1.0-1 "
                                         "(bookworm-test-unstable)\n"
                                         "Date: "));
  g_assert_nonnull (strstr (mail, "\nAuto-Submitted: auto-generated\n"));
  g_assert_nonnull (strstr (mail, "\nReason:       amd64: dpkg-buildpackage exited 2\n"));
  g_assert_nonnull (strstr (mail, "  team@example.org: the notify list of repository 'test'\n"));
  g_autofree char *json = mbd_event_to_json (event);
  g_assert_nonnull (strstr (mail, json));
  /* the header ends before the first empty line, and has no stray line (To is folded) */
  g_autofree char *header = g_strndup (mail, strstr (mail, "\n\n") - mail);
  g_auto (GStrv) lines = g_strsplit (header, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 10);
}

static void
test_mail_sendmail_fails (Fixture *fx, gconstpointer data)
{
  g_test_summary ("A sendmail that is missing or fails is reported with its program and "
                  "message; the event is stored and announced all the same");
  set_mail (fx->instance, NULL, "notify", "admin@example.org");
  g_autoptr (MbdEvent) event = upload_event (MBD_EVENT_INSTALLED, "bookworm-test-unstable");

  g_autofree char *failing = write_sendmail (fx, "echo 'mail queue is full' >&2; exit 75");
  set_mail (fx->instance, NULL, "sendmail", failing);
  mbd_notify_event_async (fx->instance, event, NULL, notify_done, fx);
  run_until_done (fx, 20);
  g_assert_error (fx->error, MBD_ERROR, MBD_ERROR_FAILED);
  g_assert_nonnull (strstr (fx->error->message, failing));
  g_assert_nonnull (strstr (fx->error->message, "exited with status 75: mail queue is full"));

  /* one that hangs is killed after the timeout */
  g_autofree char *hanging = write_sendmail (fx, "exec sleep 60");
  set_mail (fx->instance, NULL, "sendmail", hanging);
  mbd_notify_set_sendmail_timeout (1);
  g_clear_error (&fx->error);
  fx->done = FALSE;
  gint64 started = g_get_monotonic_time ();
  mbd_notify_event_async (fx->instance, event, NULL, notify_done, fx);
  run_until_done (fx, 20);
  mbd_notify_set_sendmail_timeout (120);
  g_assert_error (fx->error, MBD_ERROR, MBD_ERROR_FAILED);
  g_assert_nonnull (strstr (fx->error->message, "did not finish within 1 s"));
  g_assert_cmpint (g_get_monotonic_time () - started, <, 10 * G_USEC_PER_SEC);

  g_autofree char *missing = g_build_filename (fx->tmpdir, "no-sendmail", NULL);
  set_mail (fx->instance, NULL, "sendmail", missing);
  g_clear_error (&fx->error);
  fx->done = FALSE;
  mbd_notify_event_async (fx->instance, event, NULL, notify_done, fx);
  run_until_done (fx, 20);
  g_assert_error (fx->error, MBD_ERROR, MBD_ERROR_FAILED);
  g_assert_nonnull (strstr (fx->error->message, "cannot run"));
  g_assert_nonnull (strstr (fx->error->message, missing));

  /* through the event log: logged, and the event is there */
  g_test_expect_message ("Mbd", G_LOG_LEVEL_WARNING, "*cannot run*no-sendmail*");
  g_autoptr (MbdEvent) added = add_event (fx->instance, MBD_EVENT_INSTALLED, "mailless");
  spin (fx, 300);
  g_test_assert_expected_messages ();
  g_assert_cmpint (mbd_event_get_id (added), >, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) stored
             = mbd_events_list_after (mbd_instance_get_events (fx->instance), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add ("/event/next/stored", Fixture, NULL, setup, test_next_stored, teardown);
  g_test_add ("/event/next/new", Fixture, NULL, setup, test_next_new, teardown);
  g_test_add ("/event/next/other-process", Fixture, NULL, setup, test_next_other_process, teardown);
  g_test_add ("/event/next/instance-gone", Fixture, NULL, setup, test_next_instance_gone, teardown);
  g_test_add ("/event/next/cancel", Fixture, NULL, setup, test_next_cancel, teardown);
  g_test_add ("/event/mail/recipients", Fixture, NULL, setup, test_mail_recipients, teardown);
  g_test_add ("/event/mail/settings-invalid", Fixture, NULL, setup, test_mail_settings_invalid,
              teardown);
  g_test_add ("/event/mail/send", Fixture, NULL, setup, test_mail_send, teardown);
  g_test_add ("/event/mail/sendmail-fails", Fixture, NULL, setup, test_mail_sendmail_fails,
              teardown);
  return g_test_run ();
}
