/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "mbd-chroot.h"
#include "mbd-cron-private.h"
#include "mbd-db-private.h"
#include "mbd-instance-private.h"
#include "mbd-repository.h"
#include "mbd-util-private.h"

/**
 * MbdCron:
 *
 * The instance's internal cron, mini-buildd's `cron.Tab`: periodic jobs with mini-buildd's ids.
 *
 * | Job id | Window (UTC) | Action |
 * |---|---|---|
 * | `cronjob_retry_uploads (HOURLY)` | every hour | retry failed transfers of build results to remotes (mbd has no remotes yet: nothing to retry) |
 * | `cronjob_setup_inspect (WEEKLY)` | Sunday 02–03h | check every active or failed chroot again |
 * | `cronjob_expire_builds (DAILY)` | 04–06h | remove finished builds (rows and `builds/` directories) older than [method@Mbd.Cron.get_expire_builds_after] |
 * | `cronjob_expire_events (WEEKLY)` | Sunday 02–03h | remove events (rows and `events/` files) older than [method@Mbd.Cron.get_expire_events_after] |
 * | `cronjob_snapshots (WEEKLY)` | Sunday 02–03h | snapshot `WEEKLY_<UTC ISO minutes>` of every stable-like distribution; expire those older than 8 weeks |
 * | `cronjob_snapshots (MONTHLY)` | 1st of the month 00–01h | the same with `MONTHLY_`, expiring after 48 weeks |
 * | `cronjob_snapshots (YEARLY)` | January 1st 00–06h | the same with `YEARLY_`, expiring after 192 weeks |
 *
 * Stable-like distributions are those of suites that migrate nowhere and are not experimental.
 * Each job runs once per window, at a minute within the window that is random but fixed by the
 * instance's cron seed (see [method@Mbd.Cron.set_seed]), the job and the window. A job that missed
 * its windows (the engine was stopped) runs once as soon as the cron runs again.
 *
 * Last runs, their results and each job's last %MBD_CRON_LOG_LINES log lines are stored in the
 * instance database, so they survive restarts. [method@Mbd.Instance.start] starts the cron: it
 * looks for due jobs every minute on the main context it was created on and runs them one after
 * the other in a worker thread, which writes through a database connection of its own so that its
 * transactions and those of the main thread are ordered by sqlite's locking. The clock can be
 * replaced with [method@Mbd.Cron.set_now], so
 * tests walk through years without waiting.
 */

/**
 * MbdCronJob:
 *
 * The state of one cron job as read by [method@Mbd.Cron.list_jobs]: its id, schedule, next and
 * last run, the result of the last run and its recent log lines. It does not change afterwards.
 */
struct _MbdCronJob
{
  GObject parent_instance;

  char *id;
  char *schedule;
  GDateTime *next_run;
  GDateTime *last_run; /* (nullable) */
  gboolean last_success;
  char *last_message; /* (nullable) */
  char **log;
};

G_DEFINE_FINAL_TYPE (MbdCronJob, mbd_cron_job, G_TYPE_OBJECT)

typedef enum
{
  PERIOD_HOUR,
  PERIOD_DAY,
  PERIOD_WEEK, /* Sundays */
  PERIOD_MONTH,
  PERIOD_YEAR,
} Period;

typedef struct _JobDef JobDef;
typedef gboolean (*JobFunc) (MbdCron *self,
                             const JobDef *def,
                             GDateTime *now,
                             GPtrArray *log,
                             GCancellable *cancellable,
                             GError **error);

struct _JobDef
{
  const char *id;
  Period period;
  int first_hour; /* the window starts then (UTC) */
  int hours;      /* and lasts this long */
  const char *schedule;
  JobFunc run;
  const char *snapshot_type; /* snapshot jobs: the name prefix */
  int keep_weeks;            /* snapshot jobs: expire after */
};

struct _MbdCron
{
  GObject parent_instance;

  MbdInstance *instance; /* (unowned): the instance owns the cron */
  GMainContext *context; /* (owned): where the timer runs */
  GMutex lock;           /* guards now, seed */
  GDateTime *now;        /* (owned) (nullable): the fixed clock, or NULL for the real one */
  guint32 seed;
  gboolean seed_set;
  GMutex run_lock;           /* held while a job runs: jobs run one at a time */
  int busy;                  /* (atomic): a timer-started run is under way */
  GSource *timer;            /* (owned) (nullable) */
  GSource *first;            /* (owned) (nullable): the check right after the start */
  GCancellable *cancellable; /* (owned): cancelled by stop */
};

G_DEFINE_FINAL_TYPE (MbdCron, mbd_cron, G_TYPE_OBJECT)

static gboolean
job_retry_uploads (MbdCron *, const JobDef *, GDateTime *, GPtrArray *, GCancellable *, GError **);
static gboolean
job_check_chroots (MbdCron *, const JobDef *, GDateTime *, GPtrArray *, GCancellable *, GError **);
static gboolean
job_expire_builds (MbdCron *, const JobDef *, GDateTime *, GPtrArray *, GCancellable *, GError **);
static gboolean
job_expire_events (MbdCron *, const JobDef *, GDateTime *, GPtrArray *, GCancellable *, GError **);
static gboolean
job_snapshots (MbdCron *, const JobDef *, GDateTime *, GPtrArray *, GCancellable *, GError **);

static const JobDef job_defs[] = {
  { "cronjob_retry_uploads (HOURLY)", PERIOD_HOUR, 0, 1, "hourly", job_retry_uploads, NULL, 0 },
  { "cronjob_setup_inspect (WEEKLY)", PERIOD_WEEK, 2, 1, "weekly: Sunday 02-03h UTC",
    job_check_chroots, NULL, 0 },
  { "cronjob_expire_builds (DAILY)", PERIOD_DAY, 4, 2, "daily: 04-06h UTC", job_expire_builds, NULL,
    0 },
  { "cronjob_expire_events (WEEKLY)", PERIOD_WEEK, 2, 1, "weekly: Sunday 02-03h UTC",
    job_expire_events, NULL, 0 },
  { "cronjob_snapshots (WEEKLY)", PERIOD_WEEK, 2, 1, "weekly: Sunday 02-03h UTC", job_snapshots,
    "WEEKLY", 8 },
  { "cronjob_snapshots (MONTHLY)", PERIOD_MONTH, 0, 1, "monthly: 1st 00-01h UTC", job_snapshots,
    "MONTHLY", 48 },
  { "cronjob_snapshots (YEARLY)", PERIOD_YEAR, 0, 6, "yearly: January 1st 00-06h UTC",
    job_snapshots, "YEARLY", 192 },
};

/* ---- MbdCronJob ------------------------------------------------------------------------ */

static void
mbd_cron_job_finalize (GObject *object)
{
  MbdCronJob *self = MBD_CRON_JOB (object);

  g_free (self->id);
  g_free (self->schedule);
  g_date_time_unref (self->next_run);
  g_clear_pointer (&self->last_run, g_date_time_unref);
  g_free (self->last_message);
  g_strfreev (self->log);
  G_OBJECT_CLASS (mbd_cron_job_parent_class)->finalize (object);
}

static void
mbd_cron_job_class_init (MbdCronJobClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_cron_job_finalize;
}

static void
mbd_cron_job_init (MbdCronJob *self)
{
}

/**
 * mbd_cron_job_get_id:
 * @self: a cron job
 *
 * Gives the job id, mini-buildd's, such as `cronjob_snapshots (WEEKLY)`.
 *
 * Returns: the id
 */
const char *
mbd_cron_job_get_id (MbdCronJob *self)
{
  g_return_val_if_fail (MBD_IS_CRON_JOB (self), NULL);
  return self->id;
}

/**
 * mbd_cron_job_get_schedule:
 * @self: a cron job
 *
 * Gives the schedule in words, such as `weekly: Sunday 02-03h UTC`.
 *
 * Returns: the schedule
 */
const char *
mbd_cron_job_get_schedule (MbdCronJob *self)
{
  g_return_val_if_fail (MBD_IS_CRON_JOB (self), NULL);
  return self->schedule;
}

/**
 * mbd_cron_job_get_next_run:
 * @self: a cron job
 *
 * Gives when the job runs next (UTC). It may lie in the past when the job is due.
 *
 * Returns: (transfer none): the next run
 */
GDateTime *
mbd_cron_job_get_next_run (MbdCronJob *self)
{
  g_return_val_if_fail (MBD_IS_CRON_JOB (self), NULL);
  return self->next_run;
}

/**
 * mbd_cron_job_get_last_run:
 * @self: a cron job
 *
 * Gives when the job ran last (UTC), on schedule or not.
 *
 * Returns: (transfer none) (nullable): the last run, or %NULL if it never ran
 */
GDateTime *
mbd_cron_job_get_last_run (MbdCronJob *self)
{
  g_return_val_if_fail (MBD_IS_CRON_JOB (self), NULL);
  return self->last_run;
}

/**
 * mbd_cron_job_get_last_success:
 * @self: a cron job
 *
 * Tells whether the last run succeeded.
 *
 * Returns: %TRUE if the job ran and its last run succeeded
 */
gboolean
mbd_cron_job_get_last_success (MbdCronJob *self)
{
  g_return_val_if_fail (MBD_IS_CRON_JOB (self), FALSE);
  return self->last_success;
}

/**
 * mbd_cron_job_get_last_message:
 * @self: a cron job
 *
 * Gives the summary of the last run: what it did, or why it failed.
 *
 * Returns: (nullable): the message, or %NULL if the job never ran
 */
const char *
mbd_cron_job_get_last_message (MbdCronJob *self)
{
  g_return_val_if_fail (MBD_IS_CRON_JOB (self), NULL);
  return self->last_message;
}

/**
 * mbd_cron_job_get_log:
 * @self: a cron job
 *
 * Gives the last %MBD_CRON_LOG_LINES log lines of the job's runs, oldest first, each starting
 * with the UTC time of its run.
 *
 * Returns: (transfer none) (array zero-terminated=1): the log lines
 */
const char *const *
mbd_cron_job_get_log (MbdCronJob *self)
{
  g_return_val_if_fail (MBD_IS_CRON_JOB (self), NULL);
  return (const char *const *) self->log;
}

/* ---- MbdCron --------------------------------------------------------------------------- */

static void
mbd_cron_dispose (GObject *object)
{
  MbdCron *self = MBD_CRON (object);

  mbd_cron_stop (self);
  G_OBJECT_CLASS (mbd_cron_parent_class)->dispose (object);
}

static void
mbd_cron_finalize (GObject *object)
{
  MbdCron *self = MBD_CRON (object);

  g_clear_pointer (&self->now, g_date_time_unref);
  g_main_context_unref (self->context);
  g_clear_object (&self->cancellable);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->run_lock);
  G_OBJECT_CLASS (mbd_cron_parent_class)->finalize (object);
}

static void
mbd_cron_class_init (MbdCronClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mbd_cron_dispose;
  G_OBJECT_CLASS (klass)->finalize = mbd_cron_finalize;
}

static void
mbd_cron_init (MbdCron *self)
{
  g_mutex_init (&self->lock);
  g_mutex_init (&self->run_lock);
  self->context = g_main_context_ref_thread_default ();
  self->cancellable = g_cancellable_new ();
}

/**
 * mbd_instance_get_cron:
 * @instance: an open instance
 *
 * Gives the instance's cron, creating it on first use (its timer then runs on the calling
 * thread's thread-default main context). [method@Mbd.Instance.start] starts it and
 * [method@Mbd.Instance.stop] stops it.
 *
 * Returns: (transfer none): the cron
 */
MbdCron *
mbd_instance_get_cron (MbdInstance *instance)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  MbdCron *cron = mbd_instance_peek_cron (instance);
  if (cron == NULL)
    {
      cron = g_object_new (MBD_TYPE_CRON, NULL);
      cron->instance = instance;
      g_object_set_data_full (G_OBJECT (instance), "mbd-cron", cron, g_object_unref);
    }
  return cron;
}

MbdCron *
mbd_instance_peek_cron (MbdInstance *instance)
{
  return g_object_get_data (G_OBJECT (instance), "mbd-cron");
}

/**
 * mbd_cron_set_now:
 * @self: a cron
 * @now: (nullable): the time the cron takes as now, or %NULL for the real clock
 *
 * Replaces the cron's clock with a fixed time, which the caller moves on by calling this again:
 * tests walk through months and years this way without waiting. Jobs run with this time as
 * theirs (snapshot names, expiry cut-offs, last runs).
 */
void
mbd_cron_set_now (MbdCron *self, GDateTime *now)
{
  g_return_if_fail (MBD_IS_CRON (self));

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->now, g_date_time_unref);
  self->now = now != NULL ? g_date_time_to_utc (now) : NULL;
  g_mutex_unlock (&self->lock);
}

/**
 * mbd_cron_dup_now:
 * @self: a cron
 *
 * Gives the cron's current time: the one set with [method@Mbd.Cron.set_now], or the real time.
 *
 * Returns: (transfer full): the time, in UTC
 */
GDateTime *
mbd_cron_dup_now (MbdCron *self)
{
  g_return_val_if_fail (MBD_IS_CRON (self), NULL);

  g_mutex_lock (&self->lock);
  GDateTime *now = self->now != NULL ? g_date_time_ref (self->now) : g_date_time_new_now_utc ();
  g_mutex_unlock (&self->lock);
  return now;
}

/**
 * mbd_cron_set_seed:
 * @self: a cron
 * @seed: the seed of the run times within the windows
 *
 * Sets the seed that places each job's run time within its window, instead of the instance's own
 * (made up once and stored in its database). Tests use it for reproducible run times. It is not
 * stored.
 */
void
mbd_cron_set_seed (MbdCron *self, guint32 seed)
{
  g_return_if_fail (MBD_IS_CRON (self));

  g_mutex_lock (&self->lock);
  self->seed = seed;
  self->seed_set = TRUE;
  g_mutex_unlock (&self->lock);
}

static MbdDb *
cron_db (MbdCron *self, GError **error)
{
  MbdDb *db = mbd_instance_get_db (self->instance);
  if (db == NULL)
    mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s: the instance is not open",
               mbd_instance_get_home (self->instance));
  return db;
}

static gboolean
get_seed (MbdCron *self, guint32 *out_seed, GError **error)
{
  g_mutex_lock (&self->lock);
  gboolean set = self->seed_set;
  *out_seed = self->seed;
  g_mutex_unlock (&self->lock);
  if (set)
    return TRUE;

  MbdDb *db = cron_db (self, error);
  g_autofree char *value = NULL;
  if (db == NULL || !mbd_db_lookup_setting (db, "cron-seed", &value, error))
    return FALSE;
  if (value == NULL)
    {
      value = g_strdup_printf ("%u", g_random_int ());
      if (!mbd_db_set_setting (db, "cron-seed", value, error))
        return FALSE;
    }
  *out_seed = (guint32) g_ascii_strtoull (value, NULL, 10);
  return TRUE;
}

static gint64
get_seconds_setting (MbdCron *self, const char *key, gint64 fallback, GError **error)
{
  MbdDb *db = cron_db (self, error);
  g_autofree char *value = NULL;

  if (db == NULL || !mbd_db_lookup_setting (db, key, &value, error))
    return -1;
  if (value == NULL)
    return fallback;
  return g_ascii_strtoll (value, NULL, 10);
}

static gboolean
set_seconds_setting (MbdCron *self, const char *key, gint64 seconds, GError **error)
{
  if (seconds <= 0)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "%s must be a positive number of seconds, not %" G_GINT64_FORMAT, key,
                      seconds);
  MbdDb *db = cron_db (self, error);
  g_autofree char *value = g_strdup_printf ("%" G_GINT64_FORMAT, seconds);
  return db != NULL && mbd_db_set_setting (db, key, value, error);
}

/**
 * mbd_cron_get_expire_builds_after:
 * @self: a cron
 *
 * Gives the age in seconds after which `cronjob_expire_builds (DAILY)` removes a finished build
 * (%MBD_CRON_DEFAULT_EXPIRE_BUILDS_AFTER unless set).
 *
 * Returns: the age in seconds, or -1 with @error set
 */
gint64
mbd_cron_get_expire_builds_after (MbdCron *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_CRON (self), -1);
  return get_seconds_setting (self, "expire-builds-after", MBD_CRON_DEFAULT_EXPIRE_BUILDS_AFTER,
                              error);
}

/**
 * mbd_cron_set_expire_builds_after:
 * @self: a cron
 * @seconds: the age, above 0
 *
 * Sets and stores the age in seconds after which finished builds expire; see
 * [method@Mbd.Cron.get_expire_builds_after].
 *
 * Returns: %TRUE if stored; %FALSE with %MBD_ERROR_INVALID_ARGUMENT for an age of 0 or less
 */
gboolean
mbd_cron_set_expire_builds_after (MbdCron *self, gint64 seconds, GError **error)
{
  g_return_val_if_fail (MBD_IS_CRON (self), FALSE);
  return set_seconds_setting (self, "expire-builds-after", seconds, error);
}

/**
 * mbd_cron_get_expire_events_after:
 * @self: a cron
 *
 * Gives the age in seconds after which `cronjob_expire_events (WEEKLY)` removes an event
 * (%MBD_CRON_DEFAULT_EXPIRE_EVENTS_AFTER unless set).
 *
 * Returns: the age in seconds, or -1 with @error set
 */
gint64
mbd_cron_get_expire_events_after (MbdCron *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_CRON (self), -1);
  return get_seconds_setting (self, "expire-events-after", MBD_CRON_DEFAULT_EXPIRE_EVENTS_AFTER,
                              error);
}

/**
 * mbd_cron_set_expire_events_after:
 * @self: a cron
 * @seconds: the age, above 0
 *
 * Sets and stores the age in seconds after which events expire; see
 * [method@Mbd.Cron.get_expire_events_after].
 *
 * Returns: %TRUE if stored; %FALSE with %MBD_ERROR_INVALID_ARGUMENT for an age of 0 or less
 */
gboolean
mbd_cron_set_expire_events_after (MbdCron *self, gint64 seconds, GError **error)
{
  g_return_val_if_fail (MBD_IS_CRON (self), FALSE);
  return set_seconds_setting (self, "expire-events-after", seconds, error);
}

/* ---- schedules --------------------------------------------------------------------------- */

#define DAY ((gint64) 24 * 3600)

static gint64
utc_seconds (int year, int month, int day, int hour)
{
  g_autoptr (GDateTime) t = g_date_time_new_utc (year, month, day, hour, 0, 0);
  return g_date_time_to_unix (t);
}

/* The start of the first window of @def that begins strictly after @t. */
static gint64
next_window_start (const JobDef *def, gint64 t)
{
  gint64 hour = (gint64) def->first_hour * 3600;

  switch (def->period)
    {
    case PERIOD_HOUR:
      return (t / 3600 + 1) * 3600;
    case PERIOD_DAY:
      {
        gint64 start = t / DAY * DAY + hour;
        return start > t ? start : start + DAY;
      }
    case PERIOD_WEEK:
      {
        /* 1970-01-01 was a Thursday: (days + 4) % 7 is 0 on Sundays */
        gint64 days = t / DAY;
        gint64 start = (days - (days + 4) % 7) * DAY + hour;
        return start > t ? start : start + 7 * DAY;
      }
    case PERIOD_MONTH:
    case PERIOD_YEAR:
      {
        g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (t);
        int year = g_date_time_get_year (when);
        int month = def->period == PERIOD_MONTH ? g_date_time_get_month (when) : 1;
        gint64 start = utc_seconds (year, month, 1, def->first_hour);
        if (start > t)
          return start;
        if (def->period == PERIOD_YEAR || month == 12)
          return utc_seconds (year + 1, 1, 1, def->first_hour);
        return utc_seconds (year, month + 1, 1, def->first_hour);
      }
    }
  g_assert_not_reached ();
}

/* splitmix64: a reproducible spread of (seed, job, window) over the window's minutes */
static guint64
mix (guint64 x)
{
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static gint64
run_time_in_window (const JobDef *def, guint32 seed, gint64 window_start)
{
  guint64 h = mix (((guint64) seed << 32) ^ g_str_hash (def->id));
  h = mix (h ^ (guint64) window_start);
  return window_start + (gint64) (h % (guint64) (def->hours * 60)) * 60;
}

/* ---- the stored state -------------------------------------------------------------------- */

typedef struct
{
  gint64 since;
  gboolean has_run;
  gint64 last_run;
  gboolean last_success;
  char *last_message;
  char *log;
} JobRow;

static void
job_row_clear (JobRow *row)
{
  g_free (row->last_message);
  g_free (row->log);
}

static const JobDef *
lookup_def (const char *id)
{
  for (guint i = 0; i < G_N_ELEMENTS (job_defs); i++)
    if (strcmp (job_defs[i].id, id) == 0)
      return &job_defs[i];
  return NULL;
}

/* Reads the row of @def, creating it (since = @now) if the job is new. */
static gboolean
load_row (MbdDb *db, const JobDef *def, gint64 now, JobRow *row, GError **error)
{
  memset (row, 0, sizeof *row);
  g_autoptr (sqlite3_stmt) insert = mbd_db_prepare (
      db, "INSERT OR IGNORE INTO cron_jobs (id, since) VALUES (?1, ?2)", error);
  if (insert == NULL)
    return FALSE;
  sqlite3_bind_text (insert, 1, def->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 2, now);
  if (!mbd_db_step_done (db, insert, error))
    return FALSE;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT since, last_run, last_success, last_message, log FROM cron_jobs WHERE id = ?1",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, def->id, -1, SQLITE_STATIC);
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return mbd_db_throw (db, rc, "cannot read the cron jobs", error);
  row->since = sqlite3_column_int64 (stmt, 0);
  row->has_run = sqlite3_column_type (stmt, 1) != SQLITE_NULL;
  row->last_run = sqlite3_column_int64 (stmt, 1);
  row->last_success = sqlite3_column_int (stmt, 2) != 0;
  row->last_message = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  row->log = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
  return TRUE;
}

static gint64
next_run (const JobDef *def, const JobRow *row, guint32 seed)
{
  gint64 base = row->has_run ? row->last_run : row->since;
  return run_time_in_window (def, seed, next_window_start (def, base));
}

static MbdCronJob *
job_new (const JobDef *def, const JobRow *row, guint32 seed)
{
  MbdCronJob *job = g_object_new (MBD_TYPE_CRON_JOB, NULL);

  job->id = g_strdup (def->id);
  job->schedule = g_strdup (def->schedule);
  job->next_run = g_date_time_new_from_unix_utc (next_run (def, row, seed));
  job->last_run = row->has_run ? g_date_time_new_from_unix_utc (row->last_run) : NULL;
  job->last_success = row->has_run && row->last_success;
  job->last_message = g_strdup (row->last_message);
  job->log = row->log != NULL && row->log[0] != '\0' ? g_strsplit (row->log, "\n", -1)
                                                     : g_new0 (char *, 1);
  return job;
}

static gint64
now_seconds (MbdCron *self)
{
  g_autoptr (GDateTime) now = mbd_cron_dup_now (self);
  return g_date_time_to_unix (now);
}

/**
 * mbd_cron_list_jobs:
 * @self: a cron
 *
 * Lists the jobs with their schedules, next and last runs and last results, in mini-buildd's
 * order.
 *
 * Returns: (transfer container) (element-type Mbd.CronJob): the jobs, or %NULL with @error set
 */
GPtrArray *
mbd_cron_list_jobs (MbdCron *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_CRON (self), NULL);

  MbdDb *db = cron_db (self, error);
  guint32 seed = 0;
  if (db == NULL || !get_seed (self, &seed, error))
    return NULL;
  gint64 now = now_seconds (self);
  g_autoptr (GPtrArray) jobs = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < G_N_ELEMENTS (job_defs); i++)
    {
      JobRow row;
      if (!load_row (db, &job_defs[i], now, &row, error))
        return job_row_clear (&row), NULL;
      g_ptr_array_add (jobs, job_new (&job_defs[i], &row, seed));
      job_row_clear (&row);
    }
  return g_steal_pointer (&jobs);
}

static const JobDef *
find_def (const char *id, GError **error)
{
  const JobDef *def = lookup_def (id);
  if (def == NULL)
    {
      g_autoptr (GString) ids = g_string_new (NULL);
      for (guint i = 0; i < G_N_ELEMENTS (job_defs); i++)
        g_string_append_printf (ids, "%s'%s'", i > 0 ? ", " : "", job_defs[i].id);
      g_autofree char *q = mbd_utf8_excerpt (id, strlen (id), 70);
      mbd_throw (error, MBD_ERROR_NOT_FOUND, "there is no cron job '%s': the jobs are %s", q,
                 ids->str);
    }
  return def;
}

/**
 * mbd_cron_lookup_job:
 * @self: a cron
 * @id: a job id such as `cronjob_snapshots (WEEKLY)`
 *
 * Looks up one job; see [method@Mbd.Cron.list_jobs].
 *
 * Returns: (transfer full): the job, or %NULL with %MBD_ERROR_NOT_FOUND for an unknown id
 */
MbdCronJob *
mbd_cron_lookup_job (MbdCron *self, const char *id, GError **error)
{
  g_return_val_if_fail (MBD_IS_CRON (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  const JobDef *def = find_def (id, error);
  MbdDb *db = def != NULL ? cron_db (self, error) : NULL;
  guint32 seed = 0;
  if (db == NULL || !get_seed (self, &seed, error))
    return NULL;
  JobRow row;
  if (!load_row (db, def, now_seconds (self), &row, error))
    return job_row_clear (&row), NULL;
  MbdCronJob *job = job_new (def, &row, seed);
  job_row_clear (&row);
  return job;
}

/* ---- running ----------------------------------------------------------------------------- */

static void G_GNUC_PRINTF (3, 4) log_line (GPtrArray *log, GDateTime *now, const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  g_autofree char *text = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  /* one line each: a message with newlines is folded */
  g_strdelimit (text, "\n\r", ' ');
  g_ptr_array_add (log, g_strdup_printf ("%s %s", stamp, text));
}

static gboolean
store_run (MbdDb *db,
           const JobDef *def,
           const JobRow *row,
           gint64 now,
           gboolean success,
           const char *message,
           GPtrArray *log,
           GError **error)
{
  g_auto (GStrv) old = g_strsplit (row->log != NULL ? row->log : "", "\n", -1);
  g_autoptr (GPtrArray) lines = g_ptr_array_new ();
  for (guint i = 0; old[i] != NULL; i++)
    if (old[i][0] != '\0')
      g_ptr_array_add (lines, old[i]);
  for (guint i = 0; i < log->len; i++)
    g_ptr_array_add (lines, log->pdata[i]);
  guint first = lines->len > MBD_CRON_LOG_LINES ? lines->len - MBD_CRON_LOG_LINES : 0;
  g_ptr_array_add (lines, NULL);
  g_autofree char *text = g_strjoinv ("\n", (char **) lines->pdata + first);

  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db,
                               "UPDATE cron_jobs SET last_run = ?2, last_success = ?3, "
                               "last_message = ?4, log = ?5 WHERE id = ?1",
                               error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, def->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, now);
  sqlite3_bind_int (stmt, 3, success);
  sqlite3_bind_text (stmt, 4, message, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, text, -1, SQLITE_TRANSIENT);
  return mbd_db_step_done (db, stmt, error);
}

/* Runs one job now (under run_lock) and records the run. FALSE only if the run could not be
 * recorded; the job's own failure is stored as its result. */
static gboolean
run_def (MbdCron *self,
         MbdDb *db,
         const JobDef *def,
         const JobRow *row,
         GCancellable *cancellable,
         GError **error)
{
  g_autoptr (GDateTime) now = mbd_cron_dup_now (self);
  g_autoptr (GPtrArray) log = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) job_error = NULL;

  gboolean success = def->run (self, def, now, log, cancellable, &job_error);
  g_autofree char *message = NULL;
  if (!success)
    {
      message = g_strdup_printf ("failed: %s",
                                 job_error != NULL ? job_error->message : "unknown error");
      log_line (log, now, "%s", message);
    }
  else
    {
      /* the summary is the last line, without its time stamp */
      const char *last = log->len > 0 ? log->pdata[log->len - 1] : NULL;
      const char *space = last != NULL ? strchr (last, ' ') : NULL;
      message = g_strdup (space != NULL ? space + 1 : "done");
    }
  return store_run (db, def, row, g_date_time_to_unix (now), success, message, log, error);
}

/**
 * mbd_cron_run_job:
 * @self: a cron
 * @id: a job id such as `cronjob_snapshots (WEEKLY)`
 * @cancellable: (nullable): a cancellable
 *
 * Runs a job now, out of its schedule, as mini-buildd's `cronjob` API call does, and records the
 * run as its last. Jobs run one at a time: this waits for a running one. Its next scheduled run
 * is then the one after this run.
 *
 * Returns: (transfer full): the job after the run: see [method@Mbd.CronJob.get_last_success] for
 *   its outcome; or %NULL with %MBD_ERROR_NOT_FOUND for an unknown id, or an error if the run
 *   could not be recorded
 */
MbdCronJob *
mbd_cron_run_job (MbdCron *self, const char *id, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_CRON (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  const JobDef *def = find_def (id, error);
  MbdDb *db = def != NULL ? cron_db (self, error) : NULL;
  if (db == NULL)
    return NULL;
  g_mutex_lock (&self->run_lock);
  JobRow row;
  gboolean ok = load_row (db, def, now_seconds (self), &row, error)
                && run_def (self, db, def, &row, cancellable, error);
  job_row_clear (&row);
  g_mutex_unlock (&self->run_lock);
  if (!ok)
    return NULL;
  return mbd_cron_lookup_job (self, id, error);
}

static void
run_job_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  MbdCron *self = source;
  g_autoptr (GError) error = NULL;
  MbdCronJob *job = mbd_cron_run_job (self, task_data, cancellable, &error);
  if (job == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, job, g_object_unref);
}

/**
 * mbd_cron_run_job_async:
 * @self: a cron
 * @id: a job id
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the job has run
 * @user_data: data for @callback
 *
 * Runs a job in a worker thread; see [method@Mbd.Cron.run_job].
 */
void
mbd_cron_run_job_async (MbdCron *self,
                        const char *id,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_return_if_fail (MBD_IS_CRON (self));
  g_return_if_fail (id != NULL);

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_cron_run_job_async);
  g_task_set_name (task, "[mbd] cron job");
  g_task_set_task_data (task, g_strdup (id), g_free);
  /* the instance stays while the job runs: the cron only borrows it */
  g_object_set_data_full (G_OBJECT (task), "mbd-instance", g_object_ref (self->instance),
                          g_object_unref);
  g_task_run_in_thread (task, run_job_thread);
}

/**
 * mbd_cron_run_job_finish:
 * @self: a cron
 * @result: the result passed to the callback
 *
 * Finishes [method@Mbd.Cron.run_job_async].
 *
 * Returns: (transfer full): the job after the run, or %NULL with @error set
 */
MbdCronJob *
mbd_cron_run_job_finish (MbdCron *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_cron_run_job_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * mbd_cron_run_due:
 * @self: a cron
 * @out_ran: (out) (optional): how many jobs ran
 * @cancellable: (nullable): a cancellable
 *
 * Runs, one after the other, every job whose next run has come by the cron's clock. The started
 * cron calls this every minute in a worker thread; tests call it after moving the clock.
 *
 * Returns: %TRUE unless a run could not be recorded (a job's own failure is its stored result)
 */
gboolean
mbd_cron_run_due (MbdCron *self, guint *out_ran, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_CRON (self), FALSE);

  MbdDb *db = cron_db (self, error);
  guint32 seed = 0;
  guint ran = 0;
  if (out_ran != NULL)
    *out_ran = 0;
  if (db == NULL || !get_seed (self, &seed, error))
    return FALSE;
  g_mutex_lock (&self->run_lock);
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < G_N_ELEMENTS (job_defs); i++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        break;
      JobRow row;
      gint64 now = now_seconds (self);
      ok = load_row (db, &job_defs[i], now, &row, error);
      if (ok && next_run (&job_defs[i], &row, seed) <= now)
        {
          ok = run_def (self, db, &job_defs[i], &row, cancellable, error);
          ran++;
        }
      job_row_clear (&row);
    }
  g_mutex_unlock (&self->run_lock);
  if (out_ran != NULL)
    *out_ran = ran;
  return ok;
}

static void
tick_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  MbdCron *self = source;
  g_autoptr (GError) error = NULL;

  gboolean ok = mbd_cron_run_due (self, NULL, cancellable, &error);
  if (!ok && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("%s: cron: %s", mbd_instance_get_home (self->instance), error->message);
  g_task_return_boolean (task, TRUE);
}

static void
tick_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MbdCron *self = MBD_CRON (source);
  g_atomic_int_set (&self->busy, 0);
}

static gboolean
tick (gpointer user_data)
{
  MbdCron *self = user_data;

  /* the due check reads the database: it runs in the worker too, so the timer never waits */
  if (!g_atomic_int_compare_and_exchange (&self->busy, 0, 1))
    return G_SOURCE_CONTINUE;
  g_autoptr (GTask) task = g_task_new (self, self->cancellable, tick_done, NULL);
  g_task_set_source_tag (task, tick);
  g_task_set_name (task, "[mbd] cron tick");
  g_object_set_data_full (G_OBJECT (task), "mbd-instance", g_object_ref (self->instance),
                          g_object_unref);
  g_task_run_in_thread (task, tick_thread);
  return G_SOURCE_CONTINUE;
}

static gboolean
tick_first (gpointer user_data)
{
  tick (user_data);
  return G_SOURCE_REMOVE;
}

/**
 * mbd_cron_start:
 * @self: a cron
 *
 * Starts the timer that runs due jobs (checked at once and then every minute) on the main context
 * the cron was created on. [method@Mbd.Instance.start] calls this.
 *
 * Returns: %TRUE if started (also if it ran already)
 */
gboolean
mbd_cron_start (MbdCron *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_CRON (self), FALSE);

  if (self->timer != NULL)
    return TRUE;
  if (cron_db (self, error) == NULL)
    return FALSE;
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      g_clear_object (&self->cancellable);
      self->cancellable = g_cancellable_new ();
    }
  self->timer = g_timeout_source_new_seconds (60);
  g_source_set_callback (self->timer, tick, self, NULL);
  g_source_set_name (self->timer, "[mbd] cron timer");
  g_source_attach (self->timer, self->context);
  self->first = g_idle_source_new ();
  g_source_set_callback (self->first, tick_first, self, NULL);
  g_source_attach (self->first, self->context);
  return TRUE;
}

/**
 * mbd_cron_stop:
 * @self: a cron
 *
 * Stops the timer and asks a running job to stop; [method@Mbd.Instance.stop] calls this.
 */
void
mbd_cron_stop (MbdCron *self)
{
  g_return_if_fail (MBD_IS_CRON (self));

  if (self->timer == NULL)
    return;
  g_source_destroy (self->timer);
  g_clear_pointer (&self->timer, g_source_unref);
  g_source_destroy (self->first);
  g_clear_pointer (&self->first, g_source_unref);
  g_cancellable_cancel (self->cancellable);
}

/**
 * mbd_cron_is_running_job:
 * @self: a cron
 *
 * Tells whether the timer has jobs under way.
 *
 * Returns: %TRUE while a timer-started run is under way
 */
gboolean
mbd_cron_is_running_job (MbdCron *self)
{
  g_return_val_if_fail (MBD_IS_CRON (self), FALSE);
  return g_atomic_int_get (&self->busy) != 0;
}

/* ---- the jobs ---------------------------------------------------------------------------- */

static gboolean
job_retry_uploads (MbdCron *self,
                   const JobDef *def,
                   GDateTime *now,
                   GPtrArray *log,
                   GCancellable *cancellable,
                   GError **error)
{
  /* mini-buildd re-sends build results that failed to reach the remote that asked for the
   * build. mbd builds only for itself so far: no transfer can have failed. */
  log_line (log, now,
            "nothing to retry: this instance has no remotes, so no build result "
            "transfers can fail");
  return TRUE;
}

static gboolean
job_check_chroots (MbdCron *self,
                   const JobDef *def,
                   GDateTime *now,
                   GPtrArray *log,
                   GCancellable *cancellable,
                   GError **error)
{
  g_autoptr (GPtrArray) chroots = mbd_instance_list_chroots (self->instance, error);
  if (chroots == NULL)
    return FALSE;
  guint checked = 0, failed = 0;
  for (guint i = 0; i < chroots->len; i++)
    {
      MbdChroot *chroot = chroots->pdata[i];
      MbdChrootState state = mbd_chroot_get_state (chroot);
      if (state != MBD_CHROOT_STATE_ACTIVE && state != MBD_CHROOT_STATE_FAILED)
        continue;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      g_autoptr (GError) check_error = NULL;
      checked++;
      if (mbd_chroot_check (chroot, cancellable, &check_error))
        log_line (log, now, "chroot %s:%s: ok", mbd_chroot_get_codename (chroot),
                  mbd_chroot_get_architecture (chroot));
      else
        {
          failed++;
          log_line (log, now, "chroot %s:%s: check failed: %s", mbd_chroot_get_codename (chroot),
                    mbd_chroot_get_architecture (chroot), check_error->message);
        }
    }
  if (failed > 0)
    return mbd_throw (error, MBD_ERROR_FAILED, "%u of %u chroots failed their check", failed,
                      checked);
  log_line (log, now, "%u chroots checked", checked);
  return TRUE;
}

/* Removes the entries of @dir (recursively, bottom-up) whose mtime is before @cutoff and, for
 * directories, that are empty afterwards; the top-level names in @keep stay. Returns how many
 * top-level entries went. */
static guint
expire_tree (const char *dir, gint64 cutoff, GHashTable *keep, gboolean top)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint removed = 0;

  if (d == NULL)
    return 0;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (keep != NULL && g_hash_table_contains (keep, name))
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GStatBuf st;
      if (g_lstat (path, &st) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          if (top && st.st_mtime < cutoff)
            {
              /* a build directory: old by its own time, whatever is inside */
              mbd_remove_tree (path);
              removed++;
              continue;
            }
          expire_tree (path, cutoff, NULL, FALSE);
          if (g_rmdir (path) == 0)
            removed += top;
        }
      else if (st.st_mtime < cutoff && g_unlink (path) == 0)
        removed += top;
    }
  return removed;
}

static gboolean
job_expire_builds (MbdCron *self,
                   const JobDef *def,
                   GDateTime *now,
                   GPtrArray *log,
                   GCancellable *cancellable,
                   GError **error)
{
  gint64 after = mbd_cron_get_expire_builds_after (self, error);
  MbdDb *db = after > 0 ? cron_db (self, error) : NULL;
  if (db == NULL)
    return FALSE;
  gint64 cutoff = g_date_time_to_unix (now) - after;
  g_autofree char *builds_dir
      = g_build_filename (mbd_instance_get_home (self->instance), "builds", NULL);

  /* finished rows older than the cut-off go with their directories */
  g_autoptr (sqlite3_stmt) del = mbd_db_prepare (
      db,
      "DELETE FROM builds WHERE state IN (2, 3, 4) AND COALESCE (finished, created) < ?1 "
      "RETURNING key",
      error);
  if (del == NULL)
    return FALSE;
  sqlite3_bind_int64 (del, 1, cutoff);
  guint rows = 0;
  int rc;
  while ((rc = sqlite3_step (del)) == SQLITE_ROW)
    {
      const char *key = (const char *) sqlite3_column_text (del, 0);
      if (key == NULL || strchr (key, '/') != NULL || key[0] == '.' || key[0] == '\0')
        continue;
      g_autofree char *path = g_build_filename (builds_dir, key, NULL);
      mbd_remove_tree (path);
      rows++;
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot expire builds", error);

  /* directories without a row (or left over) by their time, never one of a row that stays (a
   * queued or building build, or a recent one) */
  g_auto (GStrv) live = mbd_db_query_strv (db, "SELECT key FROM builds", error);
  if (live == NULL)
    return FALSE;
  g_autoptr (GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; live[i] != NULL; i++)
    g_hash_table_add (keep, live[i]);
  guint dirs = expire_tree (builds_dir, cutoff, keep, TRUE);
  log_line (log, now, "expired %u finished builds and %u other entries of builds/", rows, dirs);
  return TRUE;
}

static gboolean
job_expire_events (MbdCron *self,
                   const JobDef *def,
                   GDateTime *now,
                   GPtrArray *log,
                   GCancellable *cancellable,
                   GError **error)
{
  gint64 after = mbd_cron_get_expire_events_after (self, error);
  MbdDb *db = after > 0 ? cron_db (self, error) : NULL;
  if (db == NULL)
    return FALSE;
  gint64 cutoff = g_date_time_to_unix (now) - after;

  g_autoptr (sqlite3_stmt) del
             = mbd_db_prepare (db, "DELETE FROM events WHERE timestamp < ?1", error);
  if (del == NULL)
    return FALSE;
  sqlite3_bind_int64 (del, 1, cutoff * G_USEC_PER_SEC);
  if (!mbd_db_step_done (db, del, error))
    return FALSE;
  int rows = sqlite3_changes (mbd_db_get_handle (db));
  g_autofree char *events_dir
      = g_build_filename (mbd_instance_get_home (self->instance), "events", NULL);
  /* the files are per source: go down to them, do not drop a source's tree by its own time */
  g_autoptr (GDir) d = g_dir_open (events_dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (events_dir, name, NULL);
      expire_tree (path, cutoff, NULL, FALSE);
      g_rmdir (path);
    }
  log_line (log, now, "expired %d events", rows);
  return TRUE;
}

/* The distribution strings of every stable-like suite (migrates nowhere, not experimental). */
static GPtrArray *
stable_like (MbdCron *self, GPtrArray *out_repos, GError **error)
{
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (self->instance, error);
  if (repos == NULL)
    return NULL;
  GPtrArray *dists = g_ptr_array_new_with_free_func (g_free);
  for (guint r = 0; r < repos->len; r++)
    {
      MbdRepository *repo = repos->pdata[r];
      g_autoptr (GPtrArray) suites = mbd_layout_get_suites (mbd_repository_get_layout (repo));
      g_autoptr (GPtrArray) codenames = mbd_repository_get_distributions (repo);
      for (guint c = 0; c < codenames->len; c++)
        for (guint s = 0; s < suites->len; s++)
          {
            MbdSuite *suite = suites->pdata[s];
            if (mbd_suite_get_migrates_to (suite) != NULL || mbd_suite_get_experimental (suite))
              continue;
            g_ptr_array_add (dists, mbd_distribution_string_format (
                                        mbd_distribution_get_codename (codenames->pdata[c]),
                                        mbd_repository_get_identity (repo),
                                        mbd_suite_get_name (suite), -1));
            g_ptr_array_add (out_repos, g_object_ref (repo));
          }
    }
  return dists;
}

/* The time in a "<TYPE>_YYYY-MM-DDTHH:MM" name, or -1. */
static gint64
snapshot_name_time (const char *name, const char *type)
{
  gsize len = strlen (type);
  int y, mo, d, h, mi;
  char tail;

  if (strncmp (name, type, len) != 0 || name[len] != '_'
      || sscanf (name + len + 1, "%4d-%2d-%2dT%2d:%2d%c", &y, &mo, &d, &h, &mi, &tail) != 5)
    return -1;
  g_autoptr (GDateTime) t = g_date_time_new_utc (y, mo, d, h, mi, 0);
  return t != NULL ? g_date_time_to_unix (t) : -1;
}

static gboolean
job_snapshots (MbdCron *self,
               const JobDef *def,
               GDateTime *now,
               GPtrArray *log,
               GCancellable *cancellable,
               GError **error)
{
  g_autoptr (GPtrArray) repos = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) dists = stable_like (self, repos, error);
  if (dists == NULL)
    return FALSE;
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%dT%H:%M");
  g_autofree char *name = g_strdup_printf ("%s_%s", def->snapshot_type, stamp);
  gint64 cutoff = g_date_time_to_unix (now) - (gint64) def->keep_weeks * 7 * DAY;
  guint failed = 0, made = 0, expired = 0;

  for (guint i = 0; i < dists->len; i++)
    {
      const char *dist = dists->pdata[i];
      MbdRepository *repo = repos->pdata[i];
      g_autoptr (GError) snap_error = NULL;
      g_autoptr (MbdSnapshot) snapshot
                 = mbd_repository_create_snapshot (repo, dist, name, cancellable, &snap_error);
      if (snapshot != NULL)
        {
          made++;
          log_line (log, now, "%s: snapshot %s created", dist, name);
        }
      else if (g_error_matches (snap_error, MBD_ERROR, MBD_ERROR_EXISTS))
        log_line (log, now, "%s: snapshot %s exists already", dist, name);
      else
        {
          failed++;
          log_line (log, now, "%s: snapshot %s failed: %s", dist, name, snap_error->message);
          continue;
        }
      g_autoptr (GPtrArray) list = mbd_repository_list_snapshots (repo, dist, &snap_error);
      for (guint s = 0; list != NULL && s < list->len; s++)
        {
          const char *old = mbd_snapshot_get_name (list->pdata[s]);
          gint64 when = snapshot_name_time (old, def->snapshot_type);
          if (when < 0 || when >= cutoff)
            continue;
          g_autoptr (GError) del_error = NULL;
          if (mbd_repository_delete_snapshot (repo, dist, old, cancellable, &del_error))
            {
              expired++;
              log_line (log, now, "%s: snapshot %s expired (older than %d weeks)", dist, old,
                        def->keep_weeks);
            }
          else
            {
              failed++;
              log_line (log, now, "%s: expiring snapshot %s failed: %s", dist, old,
                        del_error->message);
            }
        }
      if (list == NULL)
        {
          failed++;
          log_line (log, now, "%s: cannot list snapshots: %s", dist, snap_error->message);
        }
    }
  if (failed > 0)
    return mbd_throw (error, MBD_ERROR_FAILED, "%u of the snapshot operations failed (see the log)",
                      failed);
  log_line (log, now, "%u %s snapshots made of %u stable-like distributions, %u expired", made,
            def->snapshot_type, dists->len, expired);
  return TRUE;
}
