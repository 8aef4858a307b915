/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>
#include <libminibuildd/mbd-packager.h>

G_BEGIN_DECLS

/**
 * MBD_PORT_DEFAULT_OPTIONS:
 *
 * The upload options a port carries unless others are given: `lintian-mode=ignore`, as in
 * mini-buildd.
 */
#define MBD_PORT_DEFAULT_OPTIONS "lintian-mode=ignore"

/**
 * MBD_PORT_MAX_DOWNLOAD_SIZE:
 *
 * The largest file (in bytes) [method@Mbd.Packager.port_ext] downloads: 2 GiB (a .dsc: 1 MiB).
 */
#define MBD_PORT_MAX_DOWNLOAD_SIZE (G_GUINT64_CONSTANT (2) << 30)

MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_port (MbdPackager *self,
                            const char *source,
                            const char *from_distribution,
                            const char *const *to_distributions,
                            const char *version,
                            const char *const *options,
                            char ***out_keys,
                            char ***out_versions,
                            GCancellable *cancellable,
                            GError **error);

MBD_AVAILABLE_IN_ALL
void mbd_packager_port_async (MbdPackager *self,
                              const char *source,
                              const char *from_distribution,
                              const char *const *to_distributions,
                              const char *version,
                              const char *const *options,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_port_finish (MbdPackager *self,
                                   GAsyncResult *result,
                                   char ***out_keys,
                                   char ***out_versions,
                                   GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_port_ext (MbdPackager *self,
                                const char *dsc_url,
                                const char *const *to_distributions,
                                gboolean allow_unauthenticated,
                                const char *const *options,
                                char **out_source,
                                char ***out_keys,
                                char ***out_versions,
                                GCancellable *cancellable,
                                GError **error);

MBD_AVAILABLE_IN_ALL
void mbd_packager_port_ext_async (MbdPackager *self,
                                  const char *dsc_url,
                                  const char *const *to_distributions,
                                  gboolean allow_unauthenticated,
                                  const char *const *options,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_packager_port_ext_finish (MbdPackager *self,
                                       GAsyncResult *result,
                                       char **out_source,
                                       char ***out_keys,
                                       char ***out_versions,
                                       GError **error);

G_END_DECLS
