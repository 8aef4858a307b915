/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gpgme.h>

#include "mbd-gnupg.h"

G_BEGIN_DECLS

/* g_auto (gpgme_ctx_t), g_auto (gpgme_data_t) and g_auto (gpgme_key_t): gpgme's handles are
 * pointers already, so they are cleaned up with the "free func" form. */
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gpgme_ctx_t, gpgme_release, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gpgme_data_t, gpgme_data_release, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gpgme_key_t, gpgme_key_unref, NULL)

/* A new gpgme context bound to @self's home: OpenPGP, ASCII armor, loopback pinentry, offline.
 * Contexts are not shared between threads; make one per operation. */
gpgme_ctx_t mbd_gnupg_new_context (MbdGnupg *self, GError **error);

/* The first user id of key @fingerprint and its e-mail address ("" if it has none); FALSE
 * with %MBD_ERROR_NOT_FOUND for a key not in the home, %MBD_ERROR_GPG for one without a user
 * id. Any thread. */
gboolean mbd_gnupg_get_user_id (MbdGnupg *self,
                                const char *fingerprint,
                                char **out_uid,
                                char **out_email,
                                GError **error);

/* Signs a Release file's @data both ways, as InRelease (@clear) and as Release.gpg (@detached),
 * looking the signing key up once and running the two gpg processes at once. FALSE with the
 * errors of mbd_gnupg_sign_clear(), prefixed by the signature that failed. */
gboolean mbd_gnupg_sign_release (MbdGnupg *self,
                                 GBytes *data,
                                 GBytes **clear,
                                 GBytes **detached,
                                 GError **error);

G_END_DECLS
