/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <glib-object.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

/**
 * MbdDebVersion:
 *
 * A parsed Debian package version: `[epoch:]upstream[-revision]`, compared exactly as
 * `dpkg --compare-versions` does.
 */
typedef struct _MbdDebVersion MbdDebVersion;

#define MBD_TYPE_DEB_VERSION (mbd_deb_version_get_type ())
MBD_AVAILABLE_IN_ALL
GType mbd_deb_version_get_type (void) G_GNUC_CONST;

MBD_AVAILABLE_IN_ALL
MbdDebVersion *mbd_deb_version_new (const char *version, GError **error);
MBD_AVAILABLE_IN_ALL
MbdDebVersion *mbd_deb_version_copy (const MbdDebVersion *self);
MBD_AVAILABLE_IN_ALL
void mbd_deb_version_free (MbdDebVersion *self);
MBD_AVAILABLE_IN_ALL
guint mbd_deb_version_get_epoch (const MbdDebVersion *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_deb_version_get_upstream (const MbdDebVersion *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_deb_version_get_revision (const MbdDebVersion *self);
MBD_AVAILABLE_IN_ALL
char *mbd_deb_version_to_string (const MbdDebVersion *self);
MBD_AVAILABLE_IN_ALL
int mbd_deb_version_compare (const MbdDebVersion *a, const MbdDebVersion *b);
MBD_AVAILABLE_IN_ALL
int mbd_deb_version_compare_strings (const char *a, const char *b);
MBD_AVAILABLE_IN_ALL
gboolean mbd_deb_version_is_valid (const char *version, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MbdDebVersion, mbd_deb_version_free)

G_END_DECLS
