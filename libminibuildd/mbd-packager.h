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
 * MbdPackageState:
 * @MBD_PACKAGE_STATE_CHECKING: accepted and stored, its checks have not passed yet
 * @MBD_PACKAGE_STATE_BUILDING: its build requests are queued or building
 * @MBD_PACKAGE_STATE_INSTALLING: every mandatory architecture built; being installed
 * @MBD_PACKAGE_STATE_INSTALLED: installed into its distribution
 * @MBD_PACKAGE_STATE_FAILED: a mandatory build or the installation failed
 * @MBD_PACKAGE_STATE_REJECTED: a check refused the upload
 *
 * The life cycle of an upload in the [class@Mbd.Packager], as in mini-buildd.
 */
typedef enum
{
  MBD_PACKAGE_STATE_CHECKING,
  MBD_PACKAGE_STATE_BUILDING,
  MBD_PACKAGE_STATE_INSTALLING,
  MBD_PACKAGE_STATE_INSTALLED,
  MBD_PACKAGE_STATE_FAILED,
  MBD_PACKAGE_STATE_REJECTED,
} MbdPackageState;

MBD_AVAILABLE_IN_ALL
const char *mbd_package_state_to_string (MbdPackageState state);
MBD_AVAILABLE_IN_ALL
gboolean mbd_package_state_is_final (MbdPackageState state);

#define MBD_TYPE_PACKAGER (mbd_packager_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdPackager, mbd_packager, MBD, PACKAGER, GObject)

MBD_AVAILABLE_IN_ALL
MbdPackager *mbd_instance_get_packager (MbdInstance *instance);
MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_start (MbdPackager *self, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_packager_stop (MbdPackager *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_is_started (MbdPackager *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_submit (MbdPackager *self, const char *changes_path, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_submit_full (MbdPackager *self,
                                   const char *changes_path,
                                   char **out_key,
                                   GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_lookup_state (MbdPackager *self,
                                    const char *key,
                                    MbdPackageState *out_state,
                                    GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_retry (MbdPackager *self, const char *key, char **out_key, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_cancel (MbdPackager *self, const char *key, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_packager_set_internal_url (MbdPackager *self, const char *url);

G_END_DECLS
