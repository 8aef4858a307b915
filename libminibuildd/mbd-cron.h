/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>
#include <libminibuildd/mbd-instance.h>

G_BEGIN_DECLS

/**
 * MBD_CRON_DEFAULT_EXPIRE_BUILDS_AFTER:
 *
 * How old (in seconds) a finished build gets before `cronjob_expire_builds (DAILY)` removes it
 * unless set otherwise: 5 days, mini-buildd's `expire_builds_after`.
 */
#define MBD_CRON_DEFAULT_EXPIRE_BUILDS_AFTER (5 * 24 * 3600)

/**
 * MBD_CRON_DEFAULT_EXPIRE_EVENTS_AFTER:
 *
 * How old (in seconds) an event gets before `cronjob_expire_events (WEEKLY)` removes it unless
 * set otherwise: 48 weeks, mini-buildd's `expire_events_after`.
 */
#define MBD_CRON_DEFAULT_EXPIRE_EVENTS_AFTER (48 * 7 * 24 * 3600)

/**
 * MBD_CRON_LOG_LINES:
 *
 * How many log lines each cron job keeps (of its latest runs).
 */
#define MBD_CRON_LOG_LINES 20

#define MBD_TYPE_CRON_JOB (mbd_cron_job_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdCronJob, mbd_cron_job, MBD, CRON_JOB, GObject)

#define MBD_TYPE_CRON (mbd_cron_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdCron, mbd_cron, MBD, CRON, GObject)

MBD_AVAILABLE_IN_ALL
MbdCron *mbd_instance_get_cron (MbdInstance *instance);

MBD_AVAILABLE_IN_ALL
void mbd_cron_set_now (MbdCron *self, GDateTime *now);
MBD_AVAILABLE_IN_ALL
GDateTime *mbd_cron_dup_now (MbdCron *self);
MBD_AVAILABLE_IN_ALL
void mbd_cron_set_seed (MbdCron *self, guint32 seed);

MBD_AVAILABLE_IN_ALL
gint64 mbd_cron_get_expire_builds_after (MbdCron *self, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_cron_set_expire_builds_after (MbdCron *self, gint64 seconds, GError **error);
MBD_AVAILABLE_IN_ALL
gint64 mbd_cron_get_expire_events_after (MbdCron *self, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_cron_set_expire_events_after (MbdCron *self, gint64 seconds, GError **error);

MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_cron_list_jobs (MbdCron *self, GError **error);
MBD_AVAILABLE_IN_ALL
MbdCronJob *mbd_cron_lookup_job (MbdCron *self, const char *id, GError **error);

MBD_AVAILABLE_IN_ALL
MbdCronJob *
mbd_cron_run_job (MbdCron *self, const char *id, GCancellable *cancellable, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_cron_run_job_async (MbdCron *self,
                             const char *id,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
MBD_AVAILABLE_IN_ALL
MbdCronJob *mbd_cron_run_job_finish (MbdCron *self, GAsyncResult *result, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean
mbd_cron_run_due (MbdCron *self, guint *out_ran, GCancellable *cancellable, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_cron_start (MbdCron *self, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_cron_stop (MbdCron *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_cron_is_running_job (MbdCron *self);

MBD_AVAILABLE_IN_ALL
const char *mbd_cron_job_get_id (MbdCronJob *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_cron_job_get_schedule (MbdCronJob *self);
MBD_AVAILABLE_IN_ALL
GDateTime *mbd_cron_job_get_next_run (MbdCronJob *self);
MBD_AVAILABLE_IN_ALL
GDateTime *mbd_cron_job_get_last_run (MbdCronJob *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_cron_job_get_last_success (MbdCronJob *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_cron_job_get_last_message (MbdCronJob *self);
MBD_AVAILABLE_IN_ALL
const char *const *mbd_cron_job_get_log (MbdCronJob *self);

G_END_DECLS
