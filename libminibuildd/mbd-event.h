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
 * MbdEventType:
 * @MBD_EVENT_REJECTED: an upload was refused by its checks
 * @MBD_EVENT_BUILDING: a build of one architecture started
 * @MBD_EVENT_BUILT: a build of one architecture ended (successfully or not)
 * @MBD_EVENT_PACKAGING: an upload passed its checks and its builds were requested
 * @MBD_EVENT_INSTALLED: a package was installed into its distribution
 * @MBD_EVENT_FAILED: a package could not be built or installed
 * @MBD_EVENT_MIGRATED: a source package was migrated to another suite
 * @MBD_EVENT_REMOVED: a source package was removed from a distribution
 *
 * The kinds of [class@Mbd.Event], as mini-buildd names them.
 */
typedef enum
{
  MBD_EVENT_REJECTED,
  MBD_EVENT_BUILDING,
  MBD_EVENT_BUILT,
  MBD_EVENT_PACKAGING,
  MBD_EVENT_INSTALLED,
  MBD_EVENT_FAILED,
  MBD_EVENT_MIGRATED,
  MBD_EVENT_REMOVED,
} MbdEventType;

MBD_AVAILABLE_IN_ALL
const char *mbd_event_type_to_string (MbdEventType type);
MBD_AVAILABLE_IN_ALL
gboolean mbd_event_type_from_string (const char *name, MbdEventType *out_type, GError **error);

#define MBD_TYPE_EVENT (mbd_event_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdEvent, mbd_event, MBD, EVENT, GObject)

MBD_AVAILABLE_IN_ALL
MbdEvent *mbd_event_new (MbdEventType type,
                         const char *distribution,
                         const char *source,
                         const char *version);
MBD_AVAILABLE_IN_ALL
MbdEvent *mbd_event_new_from_json (const char *json, GError **error);
MBD_AVAILABLE_IN_ALL
MbdEventType mbd_event_get_event_type (MbdEvent *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_event_get_distribution (MbdEvent *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_event_get_source (MbdEvent *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_event_get_version (MbdEvent *self);
MBD_AVAILABLE_IN_ALL
GDateTime *mbd_event_get_timestamp (MbdEvent *self);
MBD_AVAILABLE_IN_ALL
gint64 mbd_event_get_id (MbdEvent *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_event_get_extra (MbdEvent *self, const char *key);
MBD_AVAILABLE_IN_ALL
void mbd_event_set_extra (MbdEvent *self, const char *key, const char *value);
MBD_AVAILABLE_IN_ALL
const char *mbd_event_get_reason (MbdEvent *self);
MBD_AVAILABLE_IN_ALL
void mbd_event_set_reason (MbdEvent *self, int status, const char *title, const char *detail);
MBD_AVAILABLE_IN_ALL
char *mbd_event_to_json (MbdEvent *self);

#define MBD_TYPE_EVENTS (mbd_events_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdEvents, mbd_events, MBD, EVENTS, GObject)

MBD_AVAILABLE_IN_ALL
MbdEvents *mbd_instance_get_events (MbdInstance *instance);
MBD_AVAILABLE_IN_ALL
gboolean mbd_events_add (MbdEvents *self, MbdEvent *event, GError **error);
MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_events_list_after (MbdEvents *self, GDateTime *after, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_events_next_async (MbdEvents *self,
                            gint64 after_id,
                            GDateTime *after,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
MBD_AVAILABLE_IN_ALL
MbdEvent *mbd_events_next_finish (MbdEvents *self, GAsyncResult *result, GError **error);

G_END_DECLS
