/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <string.h>

#include "mbd-db-private.h"
#include "mbd-instance-private.h"

typedef struct
{
  char *tmpdir;          /* (owned) */
  char *home;            /* (owned) */
  MbdInstance *instance; /* (owned) */
  MbdUsers *users;       /* (owned) */
} Fixture;

static void
setup (Fixture *fx, gconstpointer data)
{

  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->instance = mbd_test_create_instance (fx->home, "users-test");
  fx->users = mbd_users_new (fx->instance);
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *gnupg = g_build_filename (fx->home, "gnupg", NULL);

  g_clear_object (&fx->users);
  g_clear_object (&fx->instance);
  mbd_test_kill_agent (gnupg);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->home);
}

static void
add (Fixture *fx, const char *name, const char *password, MbdUserLevel level)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (mbd_users_add (fx->users, name, password, NULL, level, &error));
  g_assert_no_error (error);
}

/* The stored password column of user @name. */
static char *
stored_password (Fixture *fx, const char *name)
{
  g_autoptr (GError) error = NULL;
  MbdDb *db = mbd_instance_get_db (fx->instance);
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "SELECT password FROM users WHERE name = ?1", &error);
  g_assert_no_error (error);
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

static void
test_add_and_authenticate (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Passwords are stored as salted yescrypt hashes ($y$) and authenticate; a "
                  "wrong password, an unknown user and an inactive user are PERMISSION_DENIED");
  add (fx, "alice", "s3cret pass", MBD_USER_LEVEL_STAFF);
  add (fx, "bob", "s3cret pass", MBD_USER_LEVEL_LOGIN);
  g_autofree char *alice_hash = stored_password (fx, "alice");
  g_autofree char *bob_hash = stored_password (fx, "bob");
  g_assert_true (g_str_has_prefix (alice_hash, "$y$"));
  g_assert_null (strstr (alice_hash, "s3cret"));
  /* same password, other salt */
  g_assert_cmpstr (alice_hash, !=, bob_hash);

  g_autoptr (MbdUser) alice = mbd_users_authenticate (fx->users, "alice", "s3cret pass", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_user_get_name (alice), ==, "alice");
  g_assert_cmpint (mbd_user_get_level (alice), ==, MBD_USER_LEVEL_STAFF);
  g_assert_true (mbd_user_get_is_staff (alice));
  g_assert_false (mbd_user_get_is_superuser (alice));

  g_autoptr (MbdUser) wrong = mbd_users_authenticate (fx->users, "alice", "s3cret pas", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (wrong);
  g_autofree char *wrong_message = g_strdup (error->message);
  g_clear_error (&error);
  g_autoptr (MbdUser) nobody = mbd_users_authenticate (fx->users, "carol", "s3cret pass", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (nobody);
  /* no hint whether the user exists */
  g_assert_cmpstr (error->message, ==, wrong_message);
  g_clear_error (&error);

  g_assert_true (mbd_users_set_level (fx->users, "bob", MBD_USER_LEVEL_NONE, &error));
  g_assert_no_error (error);
  g_autoptr (MbdUser) inactive = mbd_users_authenticate (fx->users, "bob", "s3cret pass", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, "inactive"));
  g_assert_null (inactive);
  g_clear_error (&error);

  /* a new password replaces the old one */
  g_assert_true (mbd_users_set_password (fx->users, "alice", "other", &error));
  g_assert_no_error (error);
  g_autoptr (MbdUser) old = mbd_users_authenticate (fx->users, "alice", "s3cret pass", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (old);
  g_clear_error (&error);
  g_autoptr (MbdUser) renewed = mbd_users_authenticate (fx->users, "alice", "other", &error);
  g_assert_no_error (error);
  g_assert_nonnull (renewed);
}

static void
test_add_errors (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Adding a user twice is EXISTS; bad names and empty passwords are "
                  "INVALID_ARGUMENT; unknown users are NOT_FOUND; a user without a password "
                  "cannot log in with one");
  add (fx, "admin", "pw", MBD_USER_LEVEL_ADMIN);
  g_assert_false (mbd_users_add (fx->users, "admin", "pw", NULL, MBD_USER_LEVEL_LOGIN, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "'admin'"));
  g_clear_error (&error);
  const char *bad[] = { "", "a b", "../x", "x/y", ".hidden", "tab\t" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (mbd_users_add (fx->users, bad[i], "pw", NULL, MBD_USER_LEVEL_LOGIN, &error));
      g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  g_assert_false (mbd_users_add (fx->users, "empty", "", NULL, MBD_USER_LEVEL_LOGIN, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mbd_users_remove (fx->users, "nobody", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (mbd_users_set_password (fx->users, "nobody", "pw", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autofree char *token = mbd_users_create_token (fx->users, "nobody", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_null (token);
  g_clear_error (&error);

  add (fx, "robot", NULL, MBD_USER_LEVEL_LOGIN);
  g_autofree char *column = stored_password (fx, "robot");
  g_assert_cmpstr (column, ==, "");
  g_autoptr (MbdUser) robot = mbd_users_authenticate (fx->users, "robot", "", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (robot);
  g_clear_error (&error);

  gboolean has_admin = FALSE;
  g_assert_true (mbd_users_has_admin (fx->users, &has_admin, &error));
  g_assert_no_error (error);
  g_assert_true (has_admin);
  g_assert_true (mbd_users_remove (fx->users, "admin", &error));
  g_assert_no_error (error);
  g_assert_true (mbd_users_has_admin (fx->users, &has_admin, &error));
  g_assert_false (has_admin);
  g_autoptr (GPtrArray) all = mbd_users_list (fx->users, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 1);
  g_assert_cmpstr (mbd_user_get_name (g_ptr_array_index (all, 0)), ==, "robot");
}

static void
test_sessions (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A session id is 64 hex digits stored only hashed; it names its user until "
                  "deleted; an expired one is EXPIRED; a new password ends the sessions; an "
                  "inactive user's session is refused");
  add (fx, "alice", "pw", MBD_USER_LEVEL_LOGIN);
  g_autofree char *session
      = mbd_users_create_session (fx->users, "alice", MBD_USERS_SESSION_LIFETIME, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (session), ==, 64);
  g_autofree char *other
      = mbd_users_create_session (fx->users, "alice", MBD_USERS_SESSION_LIFETIME, &error);
  g_assert_cmpstr (session, !=, other);

  g_auto (GStrv) stored = mbd_db_query_strv (mbd_instance_get_db (fx->instance),
                                             "SELECT hash FROM user_sessions", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (stored), ==, 2);
  g_assert_false (g_strv_contains ((const char *const *) stored, session));

  g_autoptr (MbdUser) user = mbd_users_verify_session (fx->users, session, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_user_get_name (user), ==, "alice");

  g_autoptr (MbdUser) bogus = mbd_users_verify_session (fx->users, "0123", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (bogus);
  g_clear_error (&error);

  g_assert_true (mbd_users_delete_session (fx->users, session, &error));
  g_assert_no_error (error);
  g_autoptr (MbdUser) gone = mbd_users_verify_session (fx->users, session, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (gone);
  g_clear_error (&error);

  /* lifetime 0: expired at once */
  g_autofree char *brief = mbd_users_create_session (fx->users, "alice", 0, &error);
  g_assert_no_error (error);
  g_autoptr (MbdUser) expired = mbd_users_verify_session (fx->users, brief, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXPIRED);
  g_assert_null (expired);
  g_clear_error (&error);

  /* inactive users' sessions no longer count */
  g_assert_true (mbd_users_set_level (fx->users, "alice", MBD_USER_LEVEL_NONE, &error));
  g_autoptr (MbdUser) inactive = mbd_users_verify_session (fx->users, other, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (inactive);
  g_clear_error (&error);
  g_assert_true (mbd_users_set_level (fx->users, "alice", MBD_USER_LEVEL_LOGIN, &error));
  g_autoptr (MbdUser) again = mbd_users_verify_session (fx->users, other, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);

  /* a password change logs the user out everywhere */
  g_assert_true (mbd_users_set_password (fx->users, "alice", "new", &error));
  g_assert_no_error (error);
  g_autoptr (MbdUser) after = mbd_users_verify_session (fx->users, other, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (after);
}

static void
test_tokens (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Bearer tokens are stored as their SHA-256, name their user, and stop "
                  "working when revoked or when the user is removed");
  add (fx, "ci", NULL, MBD_USER_LEVEL_ADMIN);
  g_autofree char *token = mbd_users_create_token (fx->users, "ci", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (token), ==, 64);

  g_auto (GStrv) stored = mbd_db_query_strv (mbd_instance_get_db (fx->instance),
                                             "SELECT hash FROM user_tokens", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (stored), ==, 1);
  g_autofree char *expected = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
  g_assert_cmpstr (stored[0], ==, expected);

  g_autoptr (MbdUser) user = mbd_users_verify_token (fx->users, token, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mbd_user_get_level (user), ==, MBD_USER_LEVEL_ADMIN);

  g_autoptr (MbdUser) wrong = mbd_users_verify_token (fx->users, expected, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (wrong);
  g_clear_error (&error);
  g_autoptr (MbdUser) empty = mbd_users_verify_token (fx->users, "", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (empty);
  g_clear_error (&error);

  g_assert_true (mbd_users_revoke_tokens (fx->users, "ci", &error));
  g_assert_no_error (error);
  g_autoptr (MbdUser) revoked = mbd_users_verify_token (fx->users, token, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (revoked);
  g_clear_error (&error);

  g_autofree char *second = mbd_users_create_token (fx->users, "ci", &error);
  g_assert_no_error (error);
  g_assert_true (mbd_users_remove (fx->users, "ci", &error));
  g_assert_no_error (error);
  g_autoptr (MbdUser) removed = mbd_users_verify_token (fx->users, second, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED);
  g_assert_null (removed);
}

static void
test_subscriptions (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gboolean changed = FALSE;

  g_test_summary ("Subscriptions are created once, match exactly on unsubscribe, and empty "
                  "source or distribution means any when the subscribers are looked up");
  g_assert_true (
      mbd_users_add (fx->users, "alice", "pw", "alice@example.org", MBD_USER_LEVEL_LOGIN, &error));
  g_assert_true (
      mbd_users_add (fx->users, "bob", "pw", "bob@example.org", MBD_USER_LEVEL_LOGIN, &error));
  g_assert_no_error (error);

  g_assert_true (mbd_users_subscribe (fx->users, "alice", "hello", "", &changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  g_assert_true (mbd_users_subscribe (fx->users, "alice", "hello", NULL, &changed, &error));
  g_assert_false (changed);
  g_assert_true (
      mbd_users_subscribe (fx->users, "bob", NULL, "bookworm-test-unstable", &changed, &error));
  g_assert_true (changed);
  g_assert_false (mbd_users_subscribe (fx->users, "nobody", "x", "y", &changed, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_auto (GStrv) hello_unstable
          = mbd_users_get_subscribers (fx->users, "hello", "bookworm-test-unstable", &error);
  g_assert_no_error (error);
  const char *both[] = { "alice@example.org", "bob@example.org", NULL };
  g_assert_true (g_strv_equal ((const char *const *) hello_unstable, both));
  g_auto (GStrv) hello_stable
          = mbd_users_get_subscribers (fx->users, "hello", "bookworm-test-stable", &error);
  const char *alice_only[] = { "alice@example.org", NULL };
  g_assert_true (g_strv_equal ((const char *const *) hello_stable, alice_only));
  g_auto (GStrv) other
          = mbd_users_get_subscribers (fx->users, "other", "bookworm-test-stable", &error);
  g_assert_cmpuint (g_strv_length (other), ==, 0);

  /* the mail notification reaches the subscribers of an event's source and distribution */
  g_autoptr (MbdEvent) event
             = mbd_event_new (MBD_EVENT_INSTALLED, "bookworm-test-unstable", "hello", "1.0");
  g_auto (GStrv) recipients = mbd_instance_list_mail_recipients (fx->instance, event, &error);
  g_assert_no_error (error);
  g_assert_true (g_strv_equal ((const char *const *) recipients, both));
  g_assert_true (mbd_users_set_level (fx->users, "bob", MBD_USER_LEVEL_NONE, &error));
  g_auto (GStrv) active_only = mbd_instance_list_mail_recipients (fx->instance, event, &error);
  g_assert_true (g_strv_equal ((const char *const *) active_only, alice_only));

  /* unsubscribing "any" does not remove the specific subscription */
  g_assert_true (mbd_users_unsubscribe (fx->users, "alice", NULL, NULL, &changed, &error));
  g_assert_no_error (error);
  g_assert_false (changed);
  g_auto (GStrv) sources = NULL;
  g_auto (GStrv) distributions = NULL;
  g_assert_true (
      mbd_users_list_subscriptions (fx->users, "alice", &sources, &distributions, &error));
  g_assert_cmpuint (g_strv_length (sources), ==, 1);
  g_assert_cmpstr (sources[0], ==, "hello");
  g_assert_cmpstr (distributions[0], ==, "");
  g_assert_true (mbd_users_unsubscribe (fx->users, "alice", "hello", "", &changed, &error));
  g_assert_true (changed);
  g_auto (GStrv) after
          = mbd_users_get_subscribers (fx->users, "hello", "bookworm-test-stable", &error);
  g_assert_cmpuint (g_strv_length (after), ==, 0);
}

static void
test_user_key (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A user's key is checked and kept inactive; activating it writes it to "
                  "uploaders/; setting a new key deactivates it; key ids and junk are refused");
  add (fx, "alice", "pw", MBD_USER_LEVEL_LOGIN);
  const char *fpr = mbd_instance_get_fingerprint (fx->instance);
  g_autofree char *armored
      = mbd_gnupg_export_public_key (mbd_instance_get_gnupg (fx->instance), fpr, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (fx->home, "uploaders", "user-alice.asc", NULL);

  g_assert_false (mbd_users_activate_key (fx->users, "alice", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (mbd_users_set_key (fx->users, "alice", "0x1234ABCD", NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (mbd_users_set_key (fx->users, "alice", "not\na key\n", NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "alice"));
  g_clear_error (&error);

  g_assert_true (mbd_users_set_key (fx->users, "alice", armored, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (MbdUser) pending = mbd_users_lookup (fx->users, "alice", &error);
  g_assert_cmpstr (mbd_user_get_key_fingerprint (pending), ==, fpr);
  g_assert_false (mbd_user_get_key_active (pending));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  g_assert_true (mbd_users_activate_key (fx->users, "alice", &error));
  g_assert_no_error (error);
  g_autoptr (MbdUser) active = mbd_users_lookup (fx->users, "alice", &error);
  g_assert_true (mbd_user_get_key_active (active));
  g_autofree char *written = NULL;
  g_assert_true (g_file_get_contents (path, &written, NULL, &error));
  g_assert_true (g_str_has_prefix (written, "-----BEGIN PGP PUBLIC KEY BLOCK-----"));

  /* a new key: the old one stops being an uploader key until activated again */
  g_assert_true (mbd_users_set_key (fx->users, "alice", armored, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (mbd_users_activate_key (fx->users, "alice", &error));
  g_assert_true (mbd_users_remove (fx->users, "alice", &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
key_set (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError **error = user_data;

  mbd_users_set_key_finish (MBD_USERS (source), result, error);
}

static void
key_stored (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;
  g_autoptr (GError) error = NULL;

  g_assert_true (mbd_users_set_key_finish (MBD_USERS (source), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static void
authenticated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MbdUser **out = user_data;
  g_autoptr (GError) error = NULL;

  *out = mbd_users_authenticate_finish (MBD_USERS (source), result, &error);
  g_assert_no_error (error);
}

static void
test_async (Fixture *fx, gconstpointer data)
{
  g_test_summary ("The async authenticate and set_key report like the sync ones");
  add (fx, "alice", "pw", MBD_USER_LEVEL_LOGIN);
  MbdUser *user = NULL;
  mbd_users_authenticate_async (fx->users, "alice", "pw", NULL, authenticated, &user);
  while (user == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (mbd_user_get_name (user), ==, "alice");
  g_object_unref (user);

  GError *error = NULL;
  mbd_users_set_key_async (fx->users, "alice", "ABCDEF", NULL, key_set, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* a good key is stored by finish, inactive */
  const char *fpr = mbd_instance_get_fingerprint (fx->instance);
  g_autofree char *armored
      = mbd_gnupg_export_public_key (mbd_instance_get_gnupg (fx->instance), fpr, NULL, &error);
  g_assert_no_error (error);
  gboolean done = FALSE;
  mbd_users_set_key_async (fx->users, "alice", armored, NULL, key_stored, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_autoptr (MbdUser) alice = mbd_users_lookup (fx->users, "alice", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_user_get_key_fingerprint (alice), ==, fpr);
  g_assert_false (mbd_user_get_key_active (alice));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  ADD ("/users/add-authenticate", test_add_and_authenticate);
  ADD ("/users/add-errors", test_add_errors);
  ADD ("/users/sessions", test_sessions);
  ADD ("/users/tokens", test_tokens);
  ADD ("/users/subscriptions", test_subscriptions);
  ADD ("/users/key", test_user_key);
  ADD ("/users/async", test_async);
#undef ADD
  return g_test_run ();
}
