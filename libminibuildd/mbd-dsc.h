/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-control.h>
#include <libminibuildd/mbd-file-entry.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

#define MBD_TYPE_DSC (mbd_dsc_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdDsc, mbd_dsc, MBD, DSC, GObject)

MBD_AVAILABLE_IN_ALL
gboolean mbd_source_name_is_valid (const char *name, GError **error);

MBD_AVAILABLE_IN_ALL
MbdDsc *mbd_dsc_new_from_file (const char *path, GError **error);
MBD_AVAILABLE_IN_ALL
MbdDsc *mbd_dsc_new_from_bytes (GBytes *data, const char *name, GError **error);

MBD_AVAILABLE_IN_ALL
const char *mbd_dsc_get_name (MbdDsc *self);
MBD_AVAILABLE_IN_ALL
MbdControl *mbd_dsc_get_control (MbdDsc *self);
MBD_AVAILABLE_IN_ALL
MbdParagraph *mbd_dsc_get_paragraph (MbdDsc *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_dsc_is_signed (MbdDsc *self);

MBD_AVAILABLE_IN_ALL
const char *mbd_dsc_get_format (MbdDsc *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_dsc_get_source (MbdDsc *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_dsc_get_version (MbdDsc *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_dsc_get_maintainer (MbdDsc *self);
MBD_AVAILABLE_IN_ALL
char **mbd_dsc_get_binaries (MbdDsc *self);
MBD_AVAILABLE_IN_ALL
char **mbd_dsc_get_architectures (MbdDsc *self);

MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_dsc_get_files (MbdDsc *self);
MBD_AVAILABLE_IN_ALL
const MbdFileEntry *mbd_dsc_get_file (MbdDsc *self, const char *name);
MBD_AVAILABLE_IN_ALL
gboolean
mbd_dsc_verify_files (MbdDsc *self, const char *dir, GCancellable *cancellable, GError **error);

G_END_DECLS
