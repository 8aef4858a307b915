/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>
#include <libminibuildd/mbd-instance.h>
#include <libminibuildd/mbd-packager.h>

G_BEGIN_DECLS

/**
 * MBD_UPLOAD_PATH:
 *
 * The path under the instance URL where mbd-server takes uploads (dput's `http` method PUTs
 * each file to `<url>/upload/<file name>`).
 */
#define MBD_UPLOAD_PATH "/upload"

MBD_AVAILABLE_IN_ALL
char *mbd_instance_dput_conf (MbdInstance *instance,
                              const char *url,
                              gboolean dput_ng_profile,
                              GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_build_keyring_packages (MbdPackager *self,
                                              const char *repository,
                                              const char *const *distributions,
                                              const char *url,
                                              gboolean migrate,
                                              char ***out_keys,
                                              GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_packager_build_keyring_packages_async (MbdPackager *self,
                                                const char *repository,
                                                const char *const *distributions,
                                                const char *url,
                                                gboolean migrate,
                                                GCancellable *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_build_keyring_packages_finish (MbdPackager *self,
                                                     GAsyncResult *result,
                                                     char ***out_keys,
                                                     GError **error);

G_END_DECLS
