/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-gnupg.h"
#include "mbd-packager.h"
#include "mbd-repository.h"

G_BEGIN_DECLS

/* The instance's packager if it has one yet (for the instance's own stop). */
MbdPackager *mbd_instance_peek_packager (MbdInstance *instance);

/* The instance that owns @self. */
MbdInstance *mbd_packager_get_instance (MbdPackager *self);

/* Imports every keyring file (*.gpg, *.asc, *.pgp) of @dir (if it exists) into @gnupg. */
gboolean mbd_packager_import_keyrings_in (MbdGnupg *gnupg, const char *dir, GError **error);

/* A temporary GnuPG home with the uploader keys of @repo: the instance key plus the keyring
 * files of <home>/uploaders/ and <home>/uploaders/<repository>/. */
MbdGnupg *
mbd_packager_new_uploader_keyring (MbdPackager *self, MbdRepository *repo, GError **error);

G_END_DECLS
