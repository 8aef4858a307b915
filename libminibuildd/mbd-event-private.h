/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "mbd-event.h"

G_BEGIN_DECLS

/* An event log for @instance (unowned): the instance creates its own one, see
 * mbd_instance_get_events(). */
MbdEvents *mbd_events_new_for_instance (MbdInstance *instance);
/* The instance is going away: pending waits end with an error (they hold the log, not the
 * instance). */
void mbd_events_detach (MbdEvents *self);

/* The event's `extra` object, for members that are not strings (buildrequests, buildresults). */
JsonObject *mbd_event_get_extra_object (MbdEvent *self);

/* Inserts the event's row (inside the caller's transaction, if one is open) and sets its id.
 * @package_key (nullable) ties it to a package of the packager. */
gboolean
mbd_events_store (MbdEvents *self, MbdEvent *event, const char *package_key, GError **error);
/* Once the row is committed: writes the event's JSON file under <home>/events/ and emits
 * ::event. */
void mbd_events_publish (MbdEvents *self, MbdEvent *event);
/* The events of one package, oldest first. */
GPtrArray *mbd_events_list_for_package (MbdEvents *self, const char *package_key, GError **error);

G_END_DECLS
