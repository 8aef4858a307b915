/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <string.h>

#include "mbd-instance-private.h"

/* MbdRemote: the store (add, lookup, list, remove, wake command), the handshake verification
 * with two instances' real keys (a stranger's, a forged and an unsigned message refused), and
 * the refusals that need no network (activate before a check, an unreachable remote). The
 * HTTP side (prepare, check both ways, wake) is tests/frontends/test_server_remotes.py. */

typedef struct
{
  char *tmpdir;
  MbdInstance *one; /* (owned) */
  MbdInstance *two; /* (owned) */
} Fixture;

static MbdInstance *
open_instance (const char *tmpdir, const char *name)
{
  g_autofree char *home = g_build_filename (tmpdir, name, NULL);
  return mbd_test_create_instance (home, name);
}

static void
setup (Fixture *fx, gconstpointer data)
{
  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->one = open_instance (fx->tmpdir, "one");
  fx->two = open_instance (fx->tmpdir, "two");
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  const char *const names[] = { "one", "two", "stranger" };

  g_clear_object (&fx->one);
  g_clear_object (&fx->two);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *gnupg = g_build_filename (fx->tmpdir, names[i], "gnupg", NULL);
      mbd_test_kill_agent (gnupg);
    }
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
}

static void
test_store (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdRemote) added = mbd_instance_add_remote (fx->one, "http://b.example:8066/", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (mbd_remote_get_url (added), ==, "http://b.example:8066");
  g_assert_cmpint (mbd_remote_get_state (added), ==, MBD_REMOTE_STATE_ADDED);
  g_assert_null (mbd_remote_get_key (added));
  g_assert_cmpint (mbd_remote_get_check_time (added), ==, 0);

  g_autoptr (MbdRemote) again = mbd_instance_add_remote (fx->one, "http://b.example:8066", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXISTS);
  g_assert_null (again);
  g_clear_error (&error);

  const char *const bad[] = { "ftp://b.example/", "b.example:8066",        "http://",
                              "http://u@b:1",     "http://b.example/?x=1", "" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (MbdRemote) none = mbd_instance_add_remote (fx->one, bad[i], &error);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, bad[i]));
      g_assert_null (none);
      g_clear_error (&error);
    }

  g_autoptr (MbdRemote) other = mbd_instance_add_remote (fx->one, "https://a.example", &error);
  g_assert_no_error (error);
  g_assert_true (mbd_remote_set_wake_command (other, "wakeonlan 01:02:03:04:05:06", &error));
  g_assert_no_error (error);
  g_assert_false (mbd_remote_set_wake_command (other, "sh -c 'unclosed", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_autoptr (GPtrArray) list = mbd_instance_list_remotes (fx->one, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (mbd_remote_get_url (g_ptr_array_index (list, 0)), ==, "http://b.example:8066");
  g_assert_cmpstr (mbd_remote_get_url (g_ptr_array_index (list, 1)), ==, "https://a.example");
  g_assert_cmpstr (mbd_remote_get_wake_command (g_ptr_array_index (list, 1)), ==,
                   "wakeonlan 01:02:03:04:05:06");

  /* only active remotes are in the status */
  g_autoptr (MbdStatus) status = mbd_instance_get_status (fx->one, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length ((char **) mbd_status_get_remotes (status)), ==, 0);

  g_assert_true (mbd_instance_remove_remote (fx->one, "http://b.example:8066/", &error));
  g_assert_no_error (error);
  g_assert_false (mbd_instance_remove_remote (fx->one, "http://b.example:8066", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autoptr (MbdRemote) gone
             = mbd_instance_lookup_remote (fx->one, "http://b.example:8066", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_null (gone);
}

/* Stores @key_of's key as remote @url of @instance, in @state (what prepare does over HTTP). */
static void
store_key (MbdInstance *instance, const char *url, MbdInstance *key_of, int state)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key = mbd_gnupg_export_public_key (
      mbd_instance_get_gnupg (key_of), mbd_instance_get_fingerprint (key_of), NULL, &error);
  g_assert_no_error (error);
  g_autoptr (MbdRemote) remote = mbd_instance_add_remote (instance, url, &error);
  g_assert_no_error (error);
  MbdDb *db = mbd_instance_get_db (instance);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "UPDATE remotes SET key = ?, fingerprint = ?, status = ? WHERE url = ?", &error);
  g_assert_no_error (error);
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, mbd_instance_get_fingerprint (key_of), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, state);
  sqlite3_bind_text (stmt, 4, mbd_remote_get_url (remote), -1, SQLITE_TRANSIENT);
  g_assert_true (mbd_db_step_done (db, stmt, &error));
  g_assert_no_error (error);
}

static void
assert_refused (MbdInstance *instance, GBytes *message, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdRemote) remote = mbd_instance_verify_handshake (instance, message, NULL, &error);

  g_assert_error (error, MBD_ERROR, code);
  g_assert_nonnull (strstr (error->message, "handshake"));
  g_assert_null (remote);
}

static void
test_handshake (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) from_two = mbd_instance_sign_handshake (fx->two, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (g_bytes_get_data (from_two, NULL), MBD_REMOTE_HANDSHAKE_MESSAGE));

  /* one knows no remote yet */
  assert_refused (fx->one, from_two, MBD_ERROR_UNKNOWN_SIGNER);
  /* an added (unprepared) remote's key does not count */
  store_key (fx->one, "http://two.example", fx->two, MBD_REMOTE_STATE_ADDED);
  assert_refused (fx->one, from_two, MBD_ERROR_UNKNOWN_SIGNER);
  g_assert_true (mbd_instance_remove_remote (fx->one, "http://two.example", &error));

  /* prepared: accepted, and the remote named */
  store_key (fx->one, "http://two.example", fx->two, MBD_REMOTE_STATE_PREPARED);
  g_autoptr (MbdRemote) remote = mbd_instance_verify_handshake (fx->one, from_two, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_remote_get_url (remote), ==, "http://two.example");
  g_assert_cmpstr (mbd_remote_get_fingerprint (remote), ==, mbd_instance_get_fingerprint (fx->two));

  /* one's own message is not a remote's */
  g_autoptr (GBytes) from_one = mbd_instance_sign_handshake (fx->one, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_refused (fx->one, from_one, MBD_ERROR_UNKNOWN_SIGNER);

  /* a stranger's key */
  g_autofree char *stranger = g_build_filename (fx->tmpdir, "stranger", "gnupg", NULL);
  g_autofree char *fpr = mbd_test_make_key (stranger, "stranger <s@example.org>", NULL, "never");
  g_autoptr (MbdGnupg) gnupg = mbd_gnupg_new (stranger, &error);
  g_assert_no_error (error);
  mbd_gnupg_set_signing_fingerprint (gnupg, fpr);
  g_autoptr (GBytes) text = g_bytes_new_static ("Hand Shake", 10);
  g_autoptr (GBytes) from_stranger = mbd_gnupg_sign_clear (gnupg, text, NULL, &error);
  g_assert_no_error (error);
  assert_refused (fx->one, from_stranger, MBD_ERROR_UNKNOWN_SIGNER);

  /* forged: two's signature over another text */
  g_autofree char *forged_text
      = g_strndup (g_bytes_get_data (from_two, NULL), g_bytes_get_size (from_two));
  char *at = strstr (forged_text, "Hand Shake");
  g_assert_nonnull (at);
  at[0] = 'L';
  g_autoptr (GBytes) forged = g_bytes_new (forged_text, strlen (forged_text));
  assert_refused (fx->one, forged, MBD_ERROR_BAD_SIGNATURE);

  /* unsigned */
  assert_refused (fx->one, text, MBD_ERROR_UNSIGNED);

  /* removed: refused again */
  g_assert_true (mbd_instance_remove_remote (fx->one, "http://two.example", &error));
  g_assert_no_error (error);
  assert_refused (fx->one, from_two, MBD_ERROR_UNKNOWN_SIGNER);
}

static void
test_state_refusals (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* port 9 (discard) on loopback: nothing listens in the test environment */
  g_autoptr (MbdRemote) remote = mbd_instance_add_remote (fx->one, "http://127.0.0.1:9", &error);
  g_assert_no_error (error);

  g_assert_false (mbd_remote_activate (remote, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "not prepared"));
  g_clear_error (&error);
  g_assert_false (mbd_remote_check (remote, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mbd_remote_prepare (remote, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "http://127.0.0.1:9"));
  g_clear_error (&error);
  g_assert_cmpint (mbd_remote_get_state (remote), ==, MBD_REMOTE_STATE_ADDED);

  /* prepared but never checked, then a failed check: activate refuses with the reason */
  store_key (fx->one, "http://127.0.0.1:8", fx->two, MBD_REMOTE_STATE_PREPARED);
  g_autoptr (MbdRemote) prepared
             = mbd_instance_lookup_remote (fx->one, "http://127.0.0.1:8", &error);
  g_assert_no_error (error);
  g_assert_false (mbd_remote_activate (prepared, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "not checked"));
  g_clear_error (&error);
  g_assert_false (mbd_remote_check (prepared, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNREACHABLE);
  g_clear_error (&error);
  g_assert_cmpint (mbd_remote_get_check_time (prepared), >, 0);
  g_assert_nonnull (mbd_remote_get_check_message (prepared));
  g_assert_false (mbd_remote_activate (prepared, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "failed its last check"));
  g_clear_error (&error);

  /* wake: bad arguments, a failing wake command, and no answer after the attempts */
  g_assert_null (mbd_remote_wake (remote, -1, 3, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (mbd_remote_set_wake_command (remote, "false", &error));
  g_assert_null (mbd_remote_wake (remote, 0, 1, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "wake command 'false'"));
  g_clear_error (&error);
  g_assert_true (mbd_remote_set_wake_command (remote, "true", &error));
  g_assert_null (mbd_remote_wake (remote, 0, 2, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "2 attempts"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  ADD ("/remote/store", test_store);
  ADD ("/remote/handshake", test_handshake);
  ADD ("/remote/state-refusals", test_state_refusals);
  return g_test_run ();
}
