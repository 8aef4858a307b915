/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <string.h>
#include <utime.h>

#include "mbd-db-private.h"
#include "mbd-instance-private.h"

#define WEEK ((gint64) 7 * 24 * 3600)

typedef struct
{
  char *tmpdir;
  char *home;
  MbdInstance *instance;
} Fixture;

static void
open_instance (Fixture *fx, MbdInstanceOpenFlags flags)
{
  g_autoptr (GError) error = NULL;

  fx->instance = mbd_instance_new (fx->home);
  mbd_instance_set_identity (fx->instance, "crontest");
  mbd_instance_set_key_algorithm (fx->instance, "ed25519");
  gboolean opened = mbd_instance_open (fx->instance, flags, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (opened);
}

static void
setup (Fixture *fx, gconstpointer data)
{
  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  open_instance (fx, MBD_INSTANCE_OPEN_CREATE);
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *gnupg = g_build_filename (fx->home, "gnupg", NULL);

  g_clear_object (&fx->instance);
  mbd_test_kill_agent (gnupg);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->home);
}

static GDateTime *
utc (int y, int mo, int d, int h, int mi)
{
  return g_date_time_new_utc (y, mo, d, h, mi, 0);
}

static gint64
unix_utc (int y, int mo, int d, int h, int mi)
{
  g_autoptr (GDateTime) t = utc (y, mo, d, h, mi);
  return g_date_time_to_unix (t);
}

static char *stable; /* the stable distribution of the default repository */

/* The default repository "test" (default layout, the host's codename) with one binary package in
 * stable. */
static MbdRepository *
add_repository_with_stable_package (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  MbdRepository *repo = mbd_instance_lookup_repository (fx->instance, "test", &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) dists = mbd_repository_get_distributions (repo);
  g_assert_cmpuint (dists->len, ==, 1);
  g_free (stable);
  stable = mbd_distribution_string_format (mbd_distribution_get_codename (dists->pdata[0]), "test",
                                           "stable", -1);
  const char *script
      = "set -e; d=$1; mkdir -p \"$d/pkg/DEBIAN\"; printf 'Package: hello\\nVersion: "
        "1.0~test12+1\\nArchitecture: all\\nMaintainer: T <t@example.org>\\nDescription: "
        "t\\n t\\n' > \"$d/pkg/DEBIAN/control\"; dpkg-deb -Zgzip --build \"$d/pkg\" "
        "\"$d/hello_1.0~test12+1_all.deb\" >/dev/null";
  const char *argv[] = { "sh", "-c", script, "mkdeb", fx->tmpdir, NULL };
  int status = 0;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
  g_autofree char *deb = g_build_filename (fx->tmpdir, "hello_1.0~test12+1_all.deb", NULL);
  const char *files[] = { deb, NULL };
  /* stable is reached by migration only: through unstable and testing */
  g_autofree char *unstable = mbd_distribution_string_format (
      mbd_distribution_get_codename (dists->pdata[0]), "test", "unstable", -1);
  gboolean included = mbd_repository_include (repo, unstable, files, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (included);
  gboolean migrated = mbd_repository_migrate (repo, "hello", unstable, NULL, TRUE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (migrated);
  return repo;
}

static MbdCronJob *
job (MbdCron *cron, const char *id)
{
  g_autoptr (GError) error = NULL;
  MbdCronJob *j = mbd_cron_lookup_job (cron, id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (j);
  return j;
}

/* ---- the walk through four years --------------------------------------------------------- */

static const struct
{
  const char *id;
  const char *type;
  int keep_weeks;
} snapshot_jobs[] = {
  { "cronjob_snapshots (WEEKLY)", "WEEKLY", 8 },
  { "cronjob_snapshots (MONTHLY)", "MONTHLY", 48 },
  { "cronjob_snapshots (YEARLY)", "YEARLY", 192 },
};

typedef struct
{
  char *name;
  int type; /* index into snapshot_jobs */
  gint64 time;
} Expected;

static void
expected_free (Expected *e)
{
  g_free (e->name);
  g_free (e);
}

/* The test's own model of mini-buildd's rule: a run at @t adds TYPE_<t> and drops the snapshots
 * of its type made more than keep_weeks before @t. */
static void
model_run (GPtrArray *model, int type, gint64 t)
{
  for (guint i = model->len; i-- > 0;)
    {
      Expected *e = model->pdata[i];
      if (e->type == type && e->time < t - snapshot_jobs[type].keep_weeks * WEEK)
        g_ptr_array_remove_index (model, i);
    }
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (t);
  g_autofree char *stamp = g_date_time_format (when, "%Y-%m-%dT%H:%M");
  Expected *e = g_new0 (Expected, 1);
  e->name = g_strdup_printf ("%s_%s", snapshot_jobs[type].type, stamp);
  e->type = type;
  e->time = t;
  g_ptr_array_add (model, e);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Compares the snapshots of stable with the model; returns how many there are of @type. */
static guint
check_snapshots (MbdRepository *repo, GPtrArray *model, int type)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = mbd_repository_list_snapshots (repo, stable, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) have = g_ptr_array_new ();
  g_autoptr (GPtrArray) want = g_ptr_array_new ();
  for (guint i = 0; i < list->len; i++)
    g_ptr_array_add (have, (gpointer) mbd_snapshot_get_name (list->pdata[i]));
  guint of_type = 0;
  for (guint i = 0; i < model->len; i++)
    {
      Expected *e = model->pdata[i];
      g_ptr_array_add (want, e->name);
      of_type += e->type == type;
    }
  g_ptr_array_sort (have, compare_names);
  g_ptr_array_sort (want, compare_names);
  g_ptr_array_add (have, NULL);
  g_ptr_array_add (want, NULL);
  g_autofree char *have_text = g_strjoinv (" ", (char **) have->pdata);
  g_autofree char *want_text = g_strjoinv (" ", (char **) want->pdata);
  g_assert_cmpstr (have_text, ==, want_text);
  return of_type;
}

static guint
count_prefix (MbdRepository *repo, const char *prefix)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = mbd_repository_list_snapshots (repo, stable, &error);
  g_assert_no_error (error);
  guint n = 0;
  for (guint i = 0; i < list->len; i++)
    n += g_str_has_prefix (mbd_snapshot_get_name (list->pdata[i]), prefix);
  return n;
}

static gint64
next_run (MbdCron *cron, const char *id)
{
  g_autoptr (MbdCronJob) j = job (cron, id);
  return g_date_time_to_unix (mbd_cron_job_get_next_run (j));
}

static void
test_four_years (Fixture *fx, gconstpointer data)
{
  /* some 260 snapshot runs: 30 s normally, over 20 minutes under valgrind; its code paths are
   * the ones /cron/jobs and /cron/async-and-start run there */
  if (g_getenv ("MBD_TEST_UNDER_VALGRIND") != NULL)
    {
      g_test_skip ("the four-year walk runs in the normal and the ASan builds, not valgrind");
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdRepository) repo = add_repository_with_stable_package (fx);
  g_autoptr (GPtrArray) model = g_ptr_array_new_with_free_func ((GDestroyNotify) expected_free);
  /* checkpoints: after the first runs, mid-2025 (reopen), before and after the yearly of 2028 */
  const gint64 checkpoints[] = {
    unix_utc (2024, 3, 1, 12, 0),   unix_utc (2025, 6, 15, 12, 0), unix_utc (2026, 7, 1, 12, 0),
    unix_utc (2027, 12, 31, 12, 0), unix_utc (2028, 1, 2, 12, 0),  unix_utc (2028, 3, 2, 12, 0),
  };
  guint next_checkpoint = 0, runs = 0;
  g_autoptr (GHashTable) minutes = g_hash_table_new (g_direct_hash, g_direct_equal);

  g_test_summary ("Walking the cron's clock from December 2023 to March 2028 makes weekly, "
                  "monthly and yearly snapshots of stable in their windows with mini-buildd's "
                  "names, expires them after 8, 48 and 192 weeks, and keeps the last runs "
                  "across a reopening");
  MbdCron *cron = mbd_instance_get_cron (fx->instance);
  mbd_cron_set_seed (cron, 4242);
  g_autoptr (GDateTime) start = utc (2023, 12, 20, 0, 0);
  mbd_cron_set_now (cron, start);

  for (;;)
    {
      /* the next snapshot run or checkpoint, whichever comes first */
      gint64 t = G_MAXINT64;
      for (guint i = 0; i < G_N_ELEMENTS (snapshot_jobs); i++)
        t = MIN (t, next_run (cron, snapshot_jobs[i].id));
      if (next_checkpoint < G_N_ELEMENTS (checkpoints) && checkpoints[next_checkpoint] < t)
        {
          gint64 cp = checkpoints[next_checkpoint++];
          g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (cp);
          mbd_cron_set_now (cron, when);
          g_assert_true (mbd_cron_run_due (cron, NULL, NULL, &error));
          g_assert_no_error (error);
          guint weekly = check_snapshots (repo, model, 0);
          guint monthly = check_snapshots (repo, model, 1);
          guint yearly = check_snapshots (repo, model, 2);
          g_test_message ("checkpoint %u: %u weekly, %u monthly, %u yearly", next_checkpoint,
                          weekly, monthly, yearly);
          if (next_checkpoint == 1)
            {
              /* 2024-03-01: Sundays from Dec 24 to Feb 25 (10), expiry started; Jan, Feb, Mar */
              g_assert_cmpuint (weekly, >=, 8);
              g_assert_cmpuint (weekly, <=, 9);
              g_assert_cmpuint (monthly, ==, 3);
              g_assert_cmpuint (yearly, ==, 1);
            }
          else
            {
              g_assert_cmpuint (weekly, >=, 8);
              g_assert_cmpuint (weekly, <=, 9);
              g_assert_cmpuint (monthly, >=, 11);
              g_assert_cmpuint (monthly, <=, 12);
            }
          if (next_checkpoint == 2)
            {
              g_assert_cmpuint (yearly, ==, 2);
              /* reopen: the last runs and the next ones come from the database */
              g_autoptr (MbdCronJob) before = job (cron, "cronjob_snapshots (WEEKLY)");
              g_clear_object (&repo);
              g_clear_object (&fx->instance);
              open_instance (fx, MBD_INSTANCE_OPEN_NONE);
              repo = mbd_instance_lookup_repository (fx->instance, "test", &error);
              g_assert_no_error (error);
              cron = mbd_instance_get_cron (fx->instance);
              mbd_cron_set_seed (cron, 4242);
              mbd_cron_set_now (cron, when);
              g_autoptr (MbdCronJob) after = job (cron, "cronjob_snapshots (WEEKLY)");
              g_assert_nonnull (mbd_cron_job_get_last_run (after));
              g_assert_true (g_date_time_equal (mbd_cron_job_get_last_run (before),
                                                mbd_cron_job_get_last_run (after)));
              g_assert_true (g_date_time_equal (mbd_cron_job_get_next_run (before),
                                                mbd_cron_job_get_next_run (after)));
              g_assert_true (mbd_cron_job_get_last_success (after));
              g_assert_cmpstr (mbd_cron_job_get_last_message (before), ==,
                               mbd_cron_job_get_last_message (after));
            }
          if (next_checkpoint == 3)
            g_assert_cmpuint (yearly, ==, 3);
          if (next_checkpoint == 4)
            {
              /* the yearly of 2024 is 4 years old only on January 1st, 2028 */
              g_assert_cmpuint (yearly, ==, 4);
              g_assert_cmpuint (count_prefix (repo, "YEARLY_2024-01-01T0"), ==, 1);
            }
          if (next_checkpoint >= 5)
            {
              g_assert_cmpuint (yearly, ==, 4);
              g_assert_cmpuint (count_prefix (repo, "YEARLY_2024-"), ==, 0);
              g_assert_cmpuint (count_prefix (repo, "YEARLY_2028-01-01T0"), ==, 1);
            }
          continue;
        }
      if (next_checkpoint >= G_N_ELEMENTS (checkpoints))
        break;

      /* the windows: weekly Sunday 02-03h, monthly the 1st 00-01h, yearly Jan 1st 00-06h */
      g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (t);
      for (int i = 0; i < (int) G_N_ELEMENTS (snapshot_jobs); i++)
        {
          if (next_run (cron, snapshot_jobs[i].id) != t)
            continue;
          if (i == 0)
            {
              g_assert_cmpint (g_date_time_get_day_of_week (when), ==, 7);
              g_assert_cmpint (g_date_time_get_hour (when), ==, 2);
              g_hash_table_add (minutes, GINT_TO_POINTER (g_date_time_get_minute (when)));
            }
          else
            {
              g_assert_cmpint (g_date_time_get_day_of_month (when), ==, 1);
              g_assert_cmpint (g_date_time_get_hour (when), <, i == 1 ? 1 : 6);
              if (i == 2)
                g_assert_cmpint (g_date_time_get_month (when), ==, 1);
            }
          model_run (model, i, t);
        }
      mbd_cron_set_now (cron, when);
      guint ran = 0;
      g_assert_true (mbd_cron_run_due (cron, &ran, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (ran, >=, 1);
      runs++;
      for (guint i = 0; i < G_N_ELEMENTS (snapshot_jobs); i++)
        {
          g_autoptr (MbdCronJob) j = job (cron, snapshot_jobs[i].id);
          if (mbd_cron_job_get_last_run (j) != NULL)
            g_assert_cmpstr (mbd_cron_job_get_last_success (j) ? "ok"
                                                               : mbd_cron_job_get_last_message (j),
                             ==, "ok");
          /* the next run always lies ahead after a run */
          g_assert_cmpint (g_date_time_to_unix (mbd_cron_job_get_next_run (j)), >, t);
        }
    }
  /* randomised within the window: the weekly runs did not all fall on one minute */
  g_assert_cmpuint (g_hash_table_size (minutes), >, 10);
  g_assert_cmpuint (runs, >, 4 * 52);
  /* the packages are in the snapshots */
  g_autofree char *listing
      = mbd_instance_ls_json (fx->instance, "hello", NULL, NULL, NULL, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (listing, stable));
}

/* ---- expiry of builds and events --------------------------------------------------------- */

static void
exec_sql (MbdInstance *instance, const char *sql)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = mbd_db_exec (mbd_instance_get_db (instance), sql, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

static char *
query_joined (MbdInstance *instance, const char *sql)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) rows = mbd_db_query_strv (mbd_instance_get_db (instance), sql, &error);
  g_assert_no_error (error);
  return g_strjoinv (" ", rows);
}

/* Makes @rel under the home (a directory, with a file inside) with mtime @t. */
static void
make_aged (Fixture *fx, const char *rel, gboolean dir, gint64 t)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fx->home, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (dir ? path : parent, 0755), ==, 0);
  if (dir)
    {
      g_autofree char *inside = g_build_filename (path, "build.log", NULL);
      g_file_set_contents (inside, "log\n", -1, &error);
      g_assert_no_error (error);
    }
  else
    {
      g_file_set_contents (path, "{}\n", -1, &error);
      g_assert_no_error (error);
    }
  struct utimbuf times = { (time_t) t, (time_t) t };
  g_assert_cmpint (utime (path, &times), ==, 0);
}

static gboolean
exists (Fixture *fx, const char *rel)
{
  g_autofree char *path = g_build_filename (fx->home, rel, NULL);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static void
test_expire (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MbdCron *cron = mbd_instance_get_cron (fx->instance);
  gint64 now = unix_utc (2025, 3, 10, 5, 0);
  gint64 day = 24 * 3600;

  g_test_summary ("expire_builds removes finished builds (rows and directories) and stray "
                  "directories older than expire_builds_after, never queued or building ones; "
                  "expire_events removes events (rows and files) older than expire_events_after");
  g_assert_cmpint (mbd_cron_get_expire_builds_after (cron, &error), ==, 5 * day);
  g_assert_cmpint (mbd_cron_get_expire_events_after (cron, &error), ==, 48 * 7 * day);
  g_assert_false (mbd_cron_set_expire_builds_after (cron, 0, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (mbd_cron_set_expire_events_after (cron, 30 * day, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mbd_cron_get_expire_events_after (cron, &error), ==, 30 * day);

  /* builds: old-built, old-failed and old-queued 10 days old; new-built 2 days; recent-old-dir
   * cancelled 2 days ago */
  g_autofree char *sql = g_strdup_printf (
      "INSERT INTO builds (key, source, version, distribution, codename, architecture, state, "
      "request, created, finished) VALUES "
      "('old-built', 'a', '1', 'd', 'c', 'amd64', 2, '{}', %1$" G_GINT64_FORMAT
      ", %1$" G_GINT64_FORMAT
      "), ('old-failed', 'a', '1', 'd', 'c', 'amd64', 3, '{}', %1$" G_GINT64_FORMAT
      ", %1$" G_GINT64_FORMAT
      "), ('old-queued', 'a', '1', 'd', 'c', 'amd64', 0, '{}', %1$" G_GINT64_FORMAT
      ", NULL), ('new-built', 'a', '1', 'd', 'c', 'amd64', 2, '{}', %2$" G_GINT64_FORMAT
      ", %2$" G_GINT64_FORMAT
      "), ('recent-old-dir', 'a', '1', 'd', 'c', 'amd64', 4, '{}', %1$" G_GINT64_FORMAT
      ", %2$" G_GINT64_FORMAT ")",
      now - 10 * day, now - 2 * day);
  exec_sql (fx->instance, sql);
  make_aged (fx, "builds/old-built", TRUE, now - 10 * day);
  make_aged (fx, "builds/old-failed", TRUE, now - 10 * day);
  make_aged (fx, "builds/old-queued", TRUE, now - 10 * day);
  make_aged (fx, "builds/new-built", TRUE, now - 2 * day);
  make_aged (fx, "builds/stray-old", TRUE, now - 6 * day);
  /* finished recently, in a directory not touched since long: kept with its row */
  make_aged (fx, "builds/recent-old-dir", TRUE, now - 10 * day);
  make_aged (fx, "builds/stray-new", TRUE, now - 4 * day);

  /* events: 40 and 20 days old */
  g_autofree char *ev
      = g_strdup_printf ("INSERT INTO events (type, source, version, timestamp, json) VALUES "
                         "('INSTALLED', 'old', '1', %" G_GINT64_FORMAT ", '{}'), "
                         "('INSTALLED', 'new', '1', %" G_GINT64_FORMAT ", '{}')",
                         (now - 40 * day) * G_USEC_PER_SEC, (now - 20 * day) * G_USEC_PER_SEC);
  exec_sql (fx->instance, ev);
  make_aged (fx, "events/old/1/t/source/old_1_INSTALLED.json", FALSE, now - 40 * day);
  make_aged (fx, "events/new/1/t/source/new_1_INSTALLED.json", FALSE, now - 20 * day);

  g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (now);
  mbd_cron_set_now (cron, when);
  g_autoptr (MbdCronJob) builds
             = mbd_cron_run_job (cron, "cronjob_expire_builds (DAILY)", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mbd_cron_job_get_last_success (builds));
  g_assert_true (g_date_time_equal (mbd_cron_job_get_last_run (builds), when));
  g_autofree char *left = query_joined (fx->instance, "SELECT key FROM builds ORDER BY key");
  g_assert_cmpstr (left, ==, "new-built old-queued recent-old-dir");
  g_assert_true (exists (fx, "builds/recent-old-dir"));
  g_assert_false (exists (fx, "builds/old-built"));
  g_assert_false (exists (fx, "builds/old-failed"));
  g_assert_true (exists (fx, "builds/old-queued"));
  g_assert_true (exists (fx, "builds/new-built"));
  g_assert_false (exists (fx, "builds/stray-old"));
  g_assert_true (exists (fx, "builds/stray-new"));
  g_assert_cmpstr (mbd_cron_job_get_last_message (builds), ==,
                   "expired 2 finished builds and 1 other entries of builds/");

  g_autoptr (MbdCronJob) events
             = mbd_cron_run_job (cron, "cronjob_expire_events (WEEKLY)", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mbd_cron_job_get_last_success (events));
  g_autofree char *sources = query_joined (fx->instance, "SELECT source FROM events");
  g_assert_cmpstr (sources, ==, "new");
  g_assert_false (exists (fx, "events/old"));
  g_assert_true (exists (fx, "events/new/1/t/source/new_1_INSTALLED.json"));
  g_assert_cmpstr (mbd_cron_job_get_last_message (events), ==, "expired 1 events");
}

/* ---- ids, logs, failures ----------------------------------------------------------------- */

static void
test_jobs (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MbdCron *cron = mbd_instance_get_cron (fx->instance);
  const char *const ids[] = { "cronjob_retry_uploads (HOURLY)", "cronjob_setup_inspect (WEEKLY)",
                              "cronjob_expire_builds (DAILY)",  "cronjob_expire_events (WEEKLY)",
                              "cronjob_snapshots (WEEKLY)",     "cronjob_snapshots (MONTHLY)",
                              "cronjob_snapshots (YEARLY)" };

  g_test_summary ("The jobs carry mini-buildd's ids; an unknown id is NOT_FOUND; a job keeps its "
                  "last 20 log lines; a failing job is recorded as failed with its reason");
  mbd_cron_set_seed (cron, 1);
  g_autoptr (GDateTime) now = utc (2025, 5, 7, 10, 30); /* a Wednesday */
  mbd_cron_set_now (cron, now);
  g_autoptr (GPtrArray) jobs = mbd_cron_list_jobs (cron, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, G_N_ELEMENTS (ids));
  for (guint i = 0; i < jobs->len; i++)
    {
      g_assert_cmpstr (mbd_cron_job_get_id (jobs->pdata[i]), ==, ids[i]);
      g_assert_null (mbd_cron_job_get_last_run (jobs->pdata[i]));
      g_assert_false (mbd_cron_job_get_last_success (jobs->pdata[i]));
    }
  /* the first hourly run is in the next hour; the weekly ones next Sunday 02h */
  GDateTime *hourly = mbd_cron_job_get_next_run (jobs->pdata[0]);
  g_assert_cmpint (g_date_time_get_hour (hourly), ==, 11);
  GDateTime *weekly = mbd_cron_job_get_next_run (jobs->pdata[4]);
  g_assert_cmpint (g_date_time_get_day_of_month (weekly), ==, 11);
  g_assert_cmpint (g_date_time_get_hour (weekly), ==, 2);
  guint ran = 99;
  g_assert_true (mbd_cron_run_due (cron, &ran, NULL, &error));
  g_assert_cmpuint (ran, ==, 0);

  g_assert_null (mbd_cron_run_job (cron, "cronjob_nonsense", NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "cronjob_nonsense"));
  g_clear_error (&error);

  for (int i = 0; i < 25; i++)
    {
      g_autoptr (MbdCronJob) j = mbd_cron_run_job (cron, ids[0], NULL, &error);
      g_assert_no_error (error);
      g_assert_true (mbd_cron_job_get_last_success (j));
    }
  g_autoptr (MbdCronJob) retry = job (cron, ids[0]);
  g_assert_cmpuint (g_strv_length ((char **) mbd_cron_job_get_log (retry)), ==, MBD_CRON_LOG_LINES);
  g_assert_true (g_str_has_prefix (mbd_cron_job_get_log (retry)[0], "2025-05-07T10:30:00Z "));
  g_assert_nonnull (strstr (mbd_cron_job_get_last_message (retry), "nothing to retry"));
  /* run out of schedule at 10:30: the next run is in the next hour still */
  g_assert_cmpint (g_date_time_get_hour (mbd_cron_job_get_next_run (retry)), ==, 11);

  /* an active chroot whose tree is missing fails its check */
  exec_sql (fx->instance, "INSERT INTO chroots (codename, architecture, status) "
                          "VALUES ('bookworm', 'amd64', 2)");
  g_autoptr (MbdCronJob) inspect = mbd_cron_run_job (cron, ids[1], NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mbd_cron_job_get_last_success (inspect));
  g_assert_true (g_str_has_prefix (mbd_cron_job_get_last_message (inspect), "failed: 1 of 1"));

  /* the default repository has one stable-like distribution */
  g_autoptr (MbdCronJob) snap = mbd_cron_run_job (cron, ids[4], NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mbd_cron_job_get_last_success (snap));
  g_assert_cmpstr (mbd_cron_job_get_last_message (snap), ==,
                   "1 WEEKLY snapshots made of 1 stable-like distributions, 0 expired");
}

static void
run_async_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MbdCronJob **out = user_data;
  g_autoptr (GError) error = NULL;

  *out = mbd_cron_run_job_finish (MBD_CRON (source), result, &error);
  g_assert_no_error (error);
}

static void
test_async_and_start (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MbdCron *cron = mbd_instance_get_cron (fx->instance);

  g_test_summary ("run_job_async runs a job off the main loop; the started engine runs due jobs "
                  "from its timer");
  g_autoptr (MbdCronJob) j = NULL;
  mbd_cron_run_job_async (cron, "cronjob_retry_uploads (HOURLY)", NULL, run_async_done, &j);
  while (j == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (mbd_cron_job_get_last_success (j));

  /* snapshots in the worker while the main thread writes to the same repository: each side's
   * transactions stay its own */
  g_autoptr (MbdRepository) repo = mbd_instance_lookup_repository (fx->instance, "test", &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) dists = mbd_repository_get_distributions (repo);
  g_autofree char *unstable = mbd_distribution_string_format (
      mbd_distribution_get_codename (dists->pdata[0]), "test", "unstable", -1);
  /* the first change publishes every suite of the new repository, back to back: do it first,
   * or the worker may wait out the busy timeout (sqlite's busy handler is not fair) */
  gboolean published = mbd_repository_publish (repo, TRUE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (published);
  g_autoptr (MbdCronJob) snap = NULL;
  mbd_cron_run_job_async (cron, "cronjob_snapshots (YEARLY)", NULL, run_async_done, &snap);
  /* a pause after each write lets the waiting worker in */
  guint n_main = 0;
  for (; n_main < 6 || (snap == NULL && n_main < 100); n_main++)
    {
      g_autofree char *name = g_strdup_printf ("main%u", n_main);
      g_autoptr (MbdSnapshot) s
                 = mbd_repository_create_snapshot (repo, unstable, name, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (s);
      g_usleep (150 * 1000);
      g_main_context_iteration (NULL, FALSE);
    }
  while (snap == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (mbd_cron_job_get_last_message (snap), ==,
                   "1 YEARLY snapshots made of 1 stable-like distributions, 0 expired");
  g_autoptr (GPtrArray) made = mbd_repository_list_snapshots (repo, unstable, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (made->len, ==, n_main);

  /* a job first seen long ago is due: the start runs it at once */
  g_autoptr (GPtrArray) jobs = mbd_cron_list_jobs (cron, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 7);
  exec_sql (fx->instance, "UPDATE cron_jobs SET since = 0, last_run = NULL");
  gboolean started = mbd_instance_start (fx->instance, &error);
  g_assert_no_error (error);
  g_assert_true (started);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr (MbdCronJob) daily = job (cron, "cronjob_expire_builds (DAILY)");
      if (mbd_cron_job_get_last_run (daily) != NULL && !mbd_cron_is_running_job (cron))
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  mbd_instance_stop (fx->instance);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add ("/cron/jobs", Fixture, NULL, setup, test_jobs, teardown);
  g_test_add ("/cron/expire", Fixture, NULL, setup, test_expire, teardown);
  g_test_add ("/cron/async-and-start", Fixture, NULL, setup, test_async_and_start, teardown);
  g_test_add ("/cron/four-years", Fixture, NULL, setup, test_four_years, teardown);
  int rc = g_test_run ();
  g_free (stable);
  return rc;
}
