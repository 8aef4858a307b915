/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-control.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

/**
 * MBD_DEB_MAX_CONTROL_SIZE:
 *
 * The largest `control` file, in bytes, that [ctor@Mbd.Deb.new_from_file] reads from a
 * package's control archive; a larger one is refused with %MBD_ERROR_PARSE.
 */
#define MBD_DEB_MAX_CONTROL_SIZE (4 * 1024 * 1024)

#define MBD_TYPE_DEB (mbd_deb_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdDeb, mbd_deb, MBD, DEB, GObject)

MBD_AVAILABLE_IN_ALL
MbdDeb *mbd_deb_new_from_file (const char *path, GCancellable *cancellable, GError **error);

MBD_AVAILABLE_IN_ALL
const char *mbd_deb_get_path (MbdDeb *self);
MBD_AVAILABLE_IN_ALL
MbdParagraph *mbd_deb_get_control (MbdDeb *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_deb_get_package (MbdDeb *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_deb_get_version (MbdDeb *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_deb_get_architecture (MbdDeb *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_deb_get_source (MbdDeb *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_deb_get_control_compression (MbdDeb *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_deb_get_data_compression (MbdDeb *self);
MBD_AVAILABLE_IN_ALL
char **mbd_deb_get_control_members (MbdDeb *self);
MBD_AVAILABLE_IN_ALL
char **mbd_deb_get_files (MbdDeb *self);

G_END_DECLS
