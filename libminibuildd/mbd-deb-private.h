/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-deb.h"

G_BEGIN_DECLS

/* Like mbd_deb_new_from_file(), but the data tarball is only checked to be present, with a known
 * compression and complete in length, not decompressed: mbd_deb_get_files() is then empty.
 * Including a package needs its control data only, and decompressing every data.tar was a
 * fifth of a bulk include. */
MbdDeb *
mbd_deb_new_from_file_control_only (const char *path, GCancellable *cancellable, GError **error);

G_END_DECLS
