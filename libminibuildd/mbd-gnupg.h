/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

/**
 * MBD_GNUPG_DEFAULT_KEY_ALGORITHM:
 *
 * The key algorithm used for a new instance key unless another is asked for: a gpg
 * `--quick-gen-key` algorithm name.
 */
#define MBD_GNUPG_DEFAULT_KEY_ALGORITHM "rsa3072"

/**
 * MbdGnupgVerifyFlags:
 * @MBD_GNUPG_VERIFY_NONE: every signature must be valid
 * @MBD_GNUPG_VERIFY_ANY_GOOD: one valid signature is enough; the others may be by unknown,
 *   expired or revoked keys (what apt accepts for a Release file signed by several keys)
 *
 * How [method@Mbd.Gnupg.verify_clear_full] and [method@Mbd.Gnupg.verify_detached_full] judge
 * data that carries several signatures.
 */
typedef enum
{
  MBD_GNUPG_VERIFY_NONE = 0,
  MBD_GNUPG_VERIFY_ANY_GOOD = 1 << 0,
} MbdGnupgVerifyFlags;

#define MBD_TYPE_GNUPG (mbd_gnupg_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdGnupg, mbd_gnupg, MBD, GNUPG, GObject)

MBD_AVAILABLE_IN_ALL
MbdGnupg *mbd_gnupg_new (const char *homedir, GError **error);
MBD_AVAILABLE_IN_ALL
MbdGnupg *mbd_gnupg_new_temporary (GError **error);
MBD_AVAILABLE_IN_ALL
const char *mbd_gnupg_get_homedir (MbdGnupg *self);

MBD_AVAILABLE_IN_ALL
char *mbd_gnupg_generate_key (MbdGnupg *self,
                              const char *user_id,
                              const char *algorithm,
                              GCancellable *cancellable,
                              GError **error);
MBD_AVAILABLE_IN_ALL
char *mbd_gnupg_get_signing_fingerprint (MbdGnupg *self, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_gnupg_set_signing_fingerprint (MbdGnupg *self, const char *fingerprint);

MBD_AVAILABLE_IN_ALL
GBytes *
mbd_gnupg_sign_clear (MbdGnupg *self, GBytes *data, GCancellable *cancellable, GError **error);
MBD_AVAILABLE_IN_ALL
GBytes *
mbd_gnupg_sign_detached (MbdGnupg *self, GBytes *data, GCancellable *cancellable, GError **error);

MBD_AVAILABLE_IN_ALL
GBytes *mbd_gnupg_verify_clear (MbdGnupg *self,
                                GBytes *signed_data,
                                char **out_fingerprint,
                                GCancellable *cancellable,
                                GError **error);
MBD_AVAILABLE_IN_ALL
GBytes *mbd_gnupg_verify_clear_full (MbdGnupg *self,
                                     GBytes *signed_data,
                                     MbdGnupgVerifyFlags flags,
                                     char **out_fingerprint,
                                     GCancellable *cancellable,
                                     GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_gnupg_verify_detached_full (MbdGnupg *self,
                                         GBytes *data,
                                         GBytes *signature,
                                         MbdGnupgVerifyFlags flags,
                                         char **out_fingerprint,
                                         GCancellable *cancellable,
                                         GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_gnupg_verify_detached (MbdGnupg *self,
                                    GBytes *data,
                                    GBytes *signature,
                                    char **out_fingerprint,
                                    GCancellable *cancellable,
                                    GError **error);

MBD_AVAILABLE_IN_ALL
char **
mbd_gnupg_import_keys (MbdGnupg *self, GBytes *keydata, GCancellable *cancellable, GError **error);
MBD_AVAILABLE_IN_ALL
char **mbd_gnupg_import_keyring_file (MbdGnupg *self,
                                      const char *path,
                                      GCancellable *cancellable,
                                      GError **error);
MBD_AVAILABLE_IN_ALL
char *mbd_gnupg_export_public_key (MbdGnupg *self,
                                   const char *fingerprint,
                                   GCancellable *cancellable,
                                   GError **error);
MBD_AVAILABLE_IN_ALL
char **mbd_gnupg_list_fingerprints (MbdGnupg *self, gboolean secret_only, GError **error);

G_END_DECLS
