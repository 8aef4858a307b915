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
 * MbdSetupStatus:
 * @MBD_SETUP_STATUS_MISSING: the object is wanted but does not exist (severity 2)
 * @MBD_SETUP_STATUS_EXISTS: the object exists but is not (yet) prepared, checked and activated
 *   (severity 1)
 * @MBD_SETUP_STATUS_ACTIVE: the object exists and is active (severity 0)
 * @MBD_SETUP_STATUS_CHANGED: the object exists but differs from what the options want
 *   (severity 2)
 * @MBD_SETUP_STATUS_FAILED: the object's last preparation or check, or the last update of it,
 *   failed (severity 3)
 * @MBD_SETUP_STATUS_DEACTIVATED: the object exists but was deactivated (severity 1)
 *
 * The status of one [class@Mbd.SetupInstance], after mini-buildd's setup report.
 */
typedef enum
{
  MBD_SETUP_STATUS_MISSING,
  MBD_SETUP_STATUS_EXISTS,
  MBD_SETUP_STATUS_ACTIVE,
  MBD_SETUP_STATUS_CHANGED,
  MBD_SETUP_STATUS_FAILED,
  MBD_SETUP_STATUS_DEACTIVATED,
} MbdSetupStatus;

MBD_AVAILABLE_IN_ALL
const char *mbd_setup_status_to_string (MbdSetupStatus status);
MBD_AVAILABLE_IN_ALL
int mbd_setup_status_get_severity (MbdSetupStatus status);

#define MBD_TYPE_SETUP_INSTANCE (mbd_setup_instance_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdSetupInstance, mbd_setup_instance, MBD, SETUP_INSTANCE, GObject)

MBD_AVAILABLE_IN_ALL
const char *mbd_setup_instance_get_id (MbdSetupInstance *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_setup_instance_get_class_name (MbdSetupInstance *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_setup_instance_get_identity (MbdSetupInstance *self);
MBD_AVAILABLE_IN_ALL
MbdSetupStatus mbd_setup_instance_get_status (MbdSetupInstance *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_setup_instance_get_detail (MbdSetupInstance *self);
MBD_AVAILABLE_IN_ALL
char *mbd_setup_instance_dup_message (MbdSetupInstance *self);
MBD_AVAILABLE_IN_ALL
char *mbd_setup_compute_id (const char *class_name, const char *identity);

#define MBD_TYPE_SETUP (mbd_setup_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdSetup, mbd_setup, MBD, SETUP, GObject)

MBD_AVAILABLE_IN_ALL
MbdSetup *mbd_setup_new (MbdInstance *instance);
MBD_AVAILABLE_IN_ALL
gboolean mbd_setup_set_option (MbdSetup *self, const char *name, const char *value, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_setup_has_run_options (MbdSetup *self);

MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_setup_inspect (MbdSetup *self, int *out_severity, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_setup_run (MbdSetup *self, GCancellable *cancellable, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_setup_run_async (MbdSetup *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_setup_run_finish (MbdSetup *self, GAsyncResult *result, GError **error);

G_END_DECLS
