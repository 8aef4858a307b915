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
 * MbdChrootBackend:
 * @MBD_CHROOT_BACKEND_UNSHARE: an mmdebstrap tarball (`chroot.tar.zst`) used by sbuild's
 *   unshare mode; needs no root and no system configuration
 * @MBD_CHROOT_BACKEND_SCHROOT: an mmdebstrap directory with a generated schroot configuration
 *   (`type=directory`, `union-type=overlay`) in `/etc/schroot/chroot.d/`; needs root
 *
 * How a build chroot is stored and entered.
 */
typedef enum
{
  MBD_CHROOT_BACKEND_UNSHARE,
  MBD_CHROOT_BACKEND_SCHROOT,
} MbdChrootBackend;

/**
 * MbdChrootState:
 * @MBD_CHROOT_STATE_ABSENT: the chroot does not exist (never created, or removed)
 * @MBD_CHROOT_STATE_PREPARED: being created, or created but not yet verified
 * @MBD_CHROOT_STATE_ACTIVE: created and verified by its last creation or check; builds use it
 * @MBD_CHROOT_STATE_FAILED: the last creation or check failed; see
 *   [method@Mbd.Chroot.get_message]
 *
 * The life cycle of a chroot, persisted in the instance database.
 */
typedef enum
{
  MBD_CHROOT_STATE_ABSENT,
  MBD_CHROOT_STATE_PREPARED,
  MBD_CHROOT_STATE_ACTIVE,
  MBD_CHROOT_STATE_FAILED,
} MbdChrootState;

/**
 * MBD_CHROOT_DEFAULT_CHECK_TIMEOUT:
 *
 * Seconds a chroot check may take in total (unpacking, `apt-get update` with its retries,
 * upgrade, repacking) before it is stopped and fails.
 */
#define MBD_CHROOT_DEFAULT_CHECK_TIMEOUT 900

#define MBD_TYPE_CHROOT (mbd_chroot_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdChroot, mbd_chroot, MBD, CHROOT, GObject)

MBD_AVAILABLE_IN_ALL
MbdChroot *mbd_chroot_new (MbdInstance *instance,
                           const char *codename,
                           const char *architecture,
                           MbdChrootBackend backend);

MBD_AVAILABLE_IN_ALL
MbdInstance *mbd_chroot_get_instance (MbdChroot *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_chroot_get_codename (MbdChroot *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_chroot_get_architecture (MbdChroot *self);
MBD_AVAILABLE_IN_ALL
MbdChrootBackend mbd_chroot_get_backend (MbdChroot *self);
MBD_AVAILABLE_IN_ALL
MbdChrootState mbd_chroot_get_state (MbdChroot *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_chroot_get_message (MbdChroot *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_chroot_get_path (MbdChroot *self);
MBD_AVAILABLE_IN_ALL
char *mbd_chroot_dup_schroot_name (MbdChroot *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_chroot_get_mirror (MbdChroot *self);
MBD_AVAILABLE_IN_ALL
void mbd_chroot_set_mirror (MbdChroot *self, const char *mirror);
MBD_AVAILABLE_IN_ALL
int mbd_chroot_get_check_timeout (MbdChroot *self);
MBD_AVAILABLE_IN_ALL
void mbd_chroot_set_check_timeout (MbdChroot *self, int seconds);

MBD_AVAILABLE_IN_ALL
const char *mbd_chroot_backend_to_string (MbdChrootBackend backend);
MBD_AVAILABLE_IN_ALL
gboolean
mbd_chroot_backend_from_string (const char *name, MbdChrootBackend *out_backend, GError **error);
MBD_AVAILABLE_IN_ALL
const char *mbd_chroot_state_to_string (MbdChrootState state);

MBD_AVAILABLE_IN_ALL
gboolean mbd_chroot_create (MbdChroot *self,
                            const char *from_tarball,
                            GCancellable *cancellable,
                            GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_chroot_create_async (MbdChroot *self,
                              const char *from_tarball,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_chroot_create_finish (MbdChroot *self, GAsyncResult *result, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_chroot_check (MbdChroot *self, GCancellable *cancellable, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_chroot_check_async (MbdChroot *self,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_chroot_check_finish (MbdChroot *self, GAsyncResult *result, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_chroot_remove (MbdChroot *self, GCancellable *cancellable, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_chroot_remove_async (MbdChroot *self,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_chroot_remove_finish (MbdChroot *self, GAsyncResult *result, GError **error);

MBD_AVAILABLE_IN_ALL
MbdChroot *mbd_instance_lookup_chroot (MbdInstance *instance,
                                       const char *codename,
                                       const char *architecture,
                                       GError **error);
MBD_AVAILABLE_IN_ALL
MbdChroot *mbd_instance_get_chroot (MbdInstance *instance,
                                    const char *codename,
                                    const char *architecture,
                                    GError **error);
MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_instance_list_chroots (MbdInstance *instance, GError **error);

G_END_DECLS
