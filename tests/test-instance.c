/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "mbd-db-private.h"
#include "mbd-instance-private.h"

typedef struct
{
  char *tmpdir; /* (owned) */
  char *home;   /* (owned) */
} Fixture;

static void
setup (Fixture *fx, gconstpointer data)
{
  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *gnupg = g_build_filename (fx->home, "gnupg", NULL);

  mbd_test_kill_agent (gnupg);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->home);
}

static void
test_create_and_reopen (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Creating an instance makes the home layout, a WAL database at the newest "
                  "schema and one instance key; reopening finds the same");
  g_autoptr (MbdInstance) instance = mbd_test_create_instance (fx->home, "ci-test");
  g_assert_cmpstr (mbd_instance_get_identity (instance), ==, "ci-test");
  const char *fpr = mbd_instance_get_fingerprint (instance);
  g_assert_nonnull (fpr);
  g_assert_cmpuint (strlen (fpr), ==, 40);
  g_assert_cmpint (mbd_instance_get_schema_version (instance), ==, mbd_db_latest_schema_version ());

  const char *dirs[] = { "gnupg", "incoming", "repositories", "chroots", "builds", "events" };
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = g_build_filename (fx->home, dirs[i], NULL);
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_DIR));
    }
  GStatBuf st;
  g_autofree char *gnupg = g_build_filename (fx->home, "gnupg", NULL);
  g_assert_cmpint (g_stat (gnupg, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  g_autofree char *db_path = g_build_filename (fx->home, "mbd.sqlite", NULL);
  sqlite3 *raw = NULL;
  g_assert_cmpint (sqlite3_open (db_path, &raw), ==, SQLITE_OK);
  sqlite3_stmt *stmt = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (raw, "PRAGMA journal_mode", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
  sqlite3_finalize (stmt);
  sqlite3_close (raw);

  /* The key is in the GnuPG home and signs */
  MbdGnupg *gpg = mbd_instance_get_gnupg (instance);
  g_auto (GStrv) secret = mbd_gnupg_list_fingerprints (gpg, TRUE, &error);
  g_assert_no_error (error);
  const char *expected[] = { fpr, NULL };
  g_assert_cmpstrv (secret, expected);

  g_autofree char *saved_fpr = g_strdup (fpr);
  g_clear_object (&instance);

  g_autoptr (MbdInstance) again = mbd_instance_new (fx->home);
  g_assert_true (mbd_instance_open (again, MBD_INSTANCE_OPEN_NONE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_instance_get_fingerprint (again), ==, saved_fpr);
  g_assert_cmpstr (mbd_instance_get_identity (again), ==, "ci-test");
}

static void
test_open_missing (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Opening a home that is no instance fails with NOT_FOUND and creates nothing");
  g_autoptr (MbdInstance) instance = mbd_instance_new (fx->home);
  g_assert_false (mbd_instance_open (instance, MBD_INSTANCE_OPEN_NONE, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "mbd init --home"));
  g_assert_false (g_file_test (fx->home, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  g_assert_cmpint (g_mkdir (fx->home, 0700), ==, 0);
  g_autoptr (MbdInstance) empty = mbd_instance_new (fx->home);
  g_assert_false (mbd_instance_open (empty, MBD_INSTANCE_OPEN_NONE, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_autofree char *db_path = g_build_filename (fx->home, "mbd.sqlite", NULL);
  g_assert_false (g_file_test (db_path, G_FILE_TEST_EXISTS));
}

static void
test_invalid_identity (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("An identity outside [a-zA-Z0-9-] is refused before a key is made");
  g_autoptr (MbdInstance) instance = mbd_instance_new (fx->home);
  mbd_instance_set_identity (instance, "bad_id/x");
  g_assert_false (mbd_instance_open (instance, MBD_INSTANCE_OPEN_CREATE, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "bad_id/x"));
  g_clear_error (&error);
  g_autofree char *gnupg = g_build_filename (fx->home, "gnupg", NULL);
  g_autoptr (MbdGnupg) gpg = mbd_gnupg_new (gnupg, &error);
  g_assert_no_error (error);
  g_auto (GStrv) secret = mbd_gnupg_list_fingerprints (gpg, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (secret), ==, 0);
}

static void
test_schema_too_new (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A database from a newer mbd is refused with SCHEMA_TOO_NEW, not modified");
  g_autoptr (MbdInstance) instance = mbd_test_create_instance (fx->home, "schema");
  g_clear_object (&instance);

  g_autofree char *db_path = g_build_filename (fx->home, "mbd.sqlite", NULL);
  sqlite3 *raw = NULL;
  g_assert_cmpint (sqlite3_open (db_path, &raw), ==, SQLITE_OK);
  g_autofree char *bump
      = g_strdup_printf ("PRAGMA user_version = %d", mbd_db_latest_schema_version () + 1);
  g_assert_cmpint (sqlite3_exec (raw, bump, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (raw);

  g_autoptr (MbdInstance) again = mbd_instance_new (fx->home);
  g_assert_false (mbd_instance_open (again, MBD_INSTANCE_OPEN_NONE, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_SCHEMA_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "newer"));
}

static void
test_migrate_from_empty (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fx->tmpdir, "m.sqlite", NULL);

  g_test_summary ("Migrations bring an empty database to the newest version once; reopening "
                  "changes nothing");
  g_autoptr (MbdDb) db = mbd_db_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mbd_db_get_schema_version (db), ==, mbd_db_latest_schema_version ());
  g_assert_true (mbd_db_set_setting (db, "k", "v1", &error));
  g_assert_true (mbd_db_set_setting (db, "k", "v2", &error));
  g_assert_no_error (error);
  g_clear_pointer (&db, mbd_db_close);

  g_autoptr (MbdDb) again = mbd_db_open (path, &error);
  g_assert_no_error (error);
  g_autofree char *value = NULL;
  g_assert_true (mbd_db_lookup_setting (again, "k", &value, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, "v2");
  char *missing = (char *) "a value the lookup must clear";
  g_assert_true (mbd_db_lookup_setting (again, "nope", &missing, &error));
  g_assert_no_error (error);
  g_assert_null (missing);
}

static void
test_status (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("The status reports identity, URL, load by engine state, and the active "
                  "chroots and remotes from the database");
  g_autoptr (MbdInstance) instance = mbd_test_create_instance (fx->home, "st");
  MbdDb *db = mbd_instance_get_db (instance);
  g_assert_true (mbd_db_exec (db,
                              "INSERT INTO chroots (codename, architecture, status) VALUES "
                              "('bookworm', 'i386', 2), ('bookworm', 'amd64', 2), "
                              "('trixie', 'amd64', 1);"
                              "INSERT INTO remotes (url, status) VALUES "
                              "('http://b.example.invalid:8066', 2), "
                              "('http://a.example.invalid:8066', 0)",
                              &error));
  g_assert_no_error (error);

  g_autoptr (MbdStatus) stopped = mbd_instance_get_status (instance, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (mbd_status_get_load (stopped), ==, -1.0);
  g_assert_cmpstr (mbd_status_get_url (stopped), ==, MBD_INSTANCE_DEFAULT_URL);
  const char *chroots[] = { "bookworm:amd64", "bookworm:i386", NULL };
  g_assert_cmpstrv (mbd_status_get_chroots (stopped), chroots);
  const char *remotes[] = { "http://b.example.invalid:8066", NULL };
  g_assert_cmpstrv (mbd_status_get_remotes (stopped), remotes);

  mbd_instance_set_url (instance, "http://127.0.0.1:4711/");
  g_assert_true (mbd_instance_start (instance, &error));
  g_assert_no_error (error);
  g_autoptr (MbdStatus) started = mbd_instance_get_status (instance, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (mbd_status_get_load (started), ==, 0.0);
  g_autofree char *json = mbd_status_to_json (started);
  g_autofree char *expected = g_strdup_printf (
      "{\"version\":\"%s\",\"identity\":\"st\",\"url\":\"http://127.0.0.1:4711\","
      "\"incoming_url\":\"http://127.0.0.1:4711/upload/\",\"load\":0.0,"
      "\"chroots\":[\"bookworm:amd64\",\"bookworm:i386\"],"
      "\"remotes\":[\"http://b.example.invalid:8066\"]}",
      MBD_VERSION_S);
  g_assert_cmpstr (json, ==, expected);
}

static void
test_async (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  g_test_summary ("open_async and get_status_async work from a main loop");
  g_autoptr (MbdInstance) instance = mbd_instance_new (fx->home);
  mbd_instance_set_key_algorithm (instance, "ed25519");
  mbd_instance_open_async (instance, MBD_INSTANCE_OPEN_CREATE, NULL, mbd_test_store_result,
                           &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (mbd_instance_open_finish (instance, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  mbd_instance_get_status_async (instance, NULL, mbd_test_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_autoptr (MbdStatus) status = mbd_instance_get_status_finish (instance, result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_status_get_identity (status), ==, mbd_instance_get_identity (instance));
}

static void
test_lock_wait (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("While another process holds the instance lock, open waits for it; a "
                  "cancelled wait ends with G_IO_ERROR_CANCELLED");
  g_autoptr (MbdInstance) instance = mbd_test_create_instance (fx->home, "lock");
  g_clear_object (&instance);

  g_autofree char *lock = g_build_filename (fx->home, "mbd.lock", NULL);
  const char *argv[] = { "flock", "-x", lock, "sleep", "3", NULL };
  g_autoptr (GSubprocess) holder = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);
  g_usleep (300 * 1000);

  /* with a cancellable cancelled after 1 s: the open must notice while it waits */
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_timeout_add_once (1000, (GSourceOnceFunc) g_cancellable_cancel, cancellable);
  g_autoptr (MbdInstance) waiting = mbd_instance_new (fx->home);
  g_autoptr (GAsyncResult) result = NULL;
  gint64 start = g_get_monotonic_time ();
  mbd_instance_open_async (waiting, MBD_INSTANCE_OPEN_NONE, cancellable, mbd_test_store_result,
                           &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (mbd_instance_open_finish (waiting, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * 1000);
  g_subprocess_wait (holder, NULL, NULL);
}

static void
test_engine_lock (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Only one process runs the engine of a home; others see its pid, a second "
                  "start fails with BUSY naming it, and stop releases it");
  g_autoptr (MbdInstance) first = mbd_test_create_instance (fx->home, "engine");
  g_assert_cmpint (mbd_instance_get_engine_pid (first), ==, 0);
  g_assert_true (mbd_instance_start (first, &error));
  g_assert_no_error (error);
  g_assert_true (mbd_instance_is_started (first));

  /* another instance object stands for another process: flock is per open file */
  g_autoptr (MbdInstance) second = mbd_instance_new (fx->home);
  g_assert_true (mbd_instance_open (second, MBD_INSTANCE_OPEN_NONE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mbd_instance_get_engine_pid (second), ==, getpid ());
  g_assert_false (mbd_instance_start (second, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_BUSY);
  g_autofree char *pid_text = g_strdup_printf ("(pid %d)", (int) getpid ());
  g_assert_nonnull (strstr (error->message, pid_text));
  g_clear_error (&error);

  mbd_instance_stop (first);
  g_assert_cmpint (mbd_instance_get_engine_pid (second), ==, 0);
  g_assert_true (mbd_instance_start (second, &error));
  g_assert_no_error (error);
}

/* Writes 200 transactions of two rows each through the calling thread's connection. */
static gpointer
write_transactions (gpointer data)
{
  MbdInstance *instance = data;
  MbdDb *db = mbd_instance_get_db (instance);
  g_autoptr (GError) error = NULL;
  g_autofree char *tag = g_strdup_printf ("%p", (void *) g_thread_self ());

  for (int i = 0; i < 200 && error == NULL; i++)
    {
      g_autofree char *a = g_strdup_printf ("test-%s-%d-a", tag, i);
      g_autofree char *b = g_strdup_printf ("test-%s-%d-b", tag, i);
      if (mbd_db_begin (db, &error) && mbd_db_set_setting (db, a, "1", &error))
        {
          g_thread_yield ();
          if (mbd_db_set_setting (db, b, "1", &error))
            mbd_db_commit (db, &error);
        }
      if (error != NULL)
        mbd_db_rollback (db);
    }
  return g_steal_pointer (&error);
}

static gpointer
get_db_thread (gpointer data)
{
  return mbd_instance_get_db (data);
}

static void
test_thread_connections (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Each thread writes through its own connection, so transactions of the main "
                  "thread and of worker threads that run at the same time stay apart; a thread's "
                  "connection is closed when the thread ends");
  g_autoptr (MbdInstance) instance = mbd_test_create_instance (fx->home, "threads");
  MbdDb *main_db = mbd_instance_get_db (instance);
  g_assert_nonnull (main_db);
  g_assert_true (mbd_instance_get_db (instance) == main_db);

  GThread *workers[3];
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    workers[i] = g_thread_new ("writer", write_transactions, instance);
  g_autoptr (GError) main_error = write_transactions (instance);
  g_assert_no_error (main_error);
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      g_autoptr (GError) error = g_thread_join (workers[i]);
      g_assert_no_error (error);
    }
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) rows
          = mbd_db_query_strv (main_db, "SELECT key FROM settings WHERE key LIKE 'test-%'", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (rows), ==, 4 * 200 * 2);

  GThread *other = g_thread_new ("reader", get_db_thread, instance);
  MbdDb *other_db = g_thread_join (other);
  g_assert_nonnull (other_db);
  g_assert_true (other_db != main_db);
}

static gpointer
pool_get_thread (gpointer data)
{
  g_autoptr (GError) error = NULL;
  MbdDb *db = mbd_db_pool_get (data, &error);
  g_assert_no_error (error);
  return db;
}

static void
test_db_pool (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("MbdDbPool: the first connection for the thread that made the pool, one more "
                  "while another thread runs, closed when it ends; closing the pool closes all");
  g_assert_true (g_mkdir_with_parents (fx->home, 0700) == 0);
  g_autofree char *path = g_build_filename (fx->home, "pool.sqlite", NULL);
  MbdDb *first = mbd_db_open (path, &error);
  g_assert_no_error (error);
  MbdDbPool *pool = mbd_db_pool_new (first);
  g_assert_true (mbd_db_pool_get (pool, &error) == first);
  g_assert_cmpuint (mbd_db_pool_count (pool), ==, 1);

  MbdDb *other = g_thread_join (g_thread_new ("pool", pool_get_thread, pool));
  g_assert_nonnull (other);
  g_assert_true (other != first);
  /* the thread has ended, and its connection with it */
  g_assert_cmpuint (mbd_db_pool_count (pool), ==, 1);
  mbd_db_pool_close (pool);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add ("/instance/create-and-reopen", Fixture, NULL, setup, test_create_and_reopen,
              teardown);
  g_test_add ("/instance/open-missing", Fixture, NULL, setup, test_open_missing, teardown);
  g_test_add ("/instance/invalid-identity", Fixture, NULL, setup, test_invalid_identity, teardown);
  g_test_add ("/instance/schema-too-new", Fixture, NULL, setup, test_schema_too_new, teardown);
  g_test_add ("/instance/migrate-from-empty", Fixture, NULL, setup, test_migrate_from_empty,
              teardown);
  g_test_add ("/instance/status", Fixture, NULL, setup, test_status, teardown);
  g_test_add ("/instance/engine-lock", Fixture, NULL, setup, test_engine_lock, teardown);
  g_test_add ("/instance/async", Fixture, NULL, setup, test_async, teardown);
  g_test_add ("/instance/thread-connections", Fixture, NULL, setup, test_thread_connections,
              teardown);
  g_test_add ("/instance/db-pool", Fixture, NULL, setup, test_db_pool, teardown);
  g_test_add ("/instance/lock-wait", Fixture, NULL, setup, test_lock_wait, teardown);
  return g_test_run ();
}
