/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-notify.h"

G_BEGIN_DECLS

/* The mail of @event to @recipients (addresses) with the reason of each (same length), as
 * sendmail -t reads it. */
char *mbd_notify_build_message (MbdInstance *instance,
                                MbdEvent *event,
                                const char *const *recipients,
                                const char *const *reasons);

/* Mails @event to its recipients through sendmail; completes at once when nobody is to be
 * mailed. Fails with MBD_ERROR_FAILED naming the program if it cannot be run, exits with an
 * error (its message quoted) or takes longer than the sendmail timeout (then it is killed).
 * @cancellable is checked before sendmail starts. */
void mbd_notify_event_async (MbdInstance *instance,
                             MbdEvent *event,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
gboolean mbd_notify_event_finish (MbdInstance *instance, GAsyncResult *result, GError **error);

/* How long sendmail may run (default 120 s), for tests. */
void mbd_notify_set_sendmail_timeout (guint seconds);

/* Starts mailing @event; a failure is only logged (g_warning), never the event's. */
void mbd_notify_event (MbdInstance *instance, MbdEvent *event);

G_END_DECLS
