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

#define MBD_TYPE_CHANGES (mbd_changes_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdChanges, mbd_changes, MBD, CHANGES, GObject)

MBD_AVAILABLE_IN_ALL
MbdChanges *mbd_changes_new_from_file (const char *path, GError **error);
MBD_AVAILABLE_IN_ALL
MbdChanges *mbd_changes_new_from_bytes (GBytes *data, const char *name, GError **error);

MBD_AVAILABLE_IN_ALL
const char *mbd_changes_get_name (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
MbdControl *mbd_changes_get_control (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
MbdParagraph *mbd_changes_get_paragraph (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_changes_is_signed (MbdChanges *self);

MBD_AVAILABLE_IN_ALL
const char *mbd_changes_get_format (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_changes_get_date (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_changes_get_source (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_changes_get_source_version (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_changes_get_version (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_changes_get_distribution (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_changes_get_urgency (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_changes_get_maintainer (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_changes_get_changed_by (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
char **mbd_changes_get_architectures (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
char **mbd_changes_get_binaries (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_changes_has_architecture (MbdChanges *self, const char *architecture);

MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_changes_get_files (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
const MbdFileEntry *mbd_changes_get_file (MbdChanges *self, const char *name);
MBD_AVAILABLE_IN_ALL
const MbdFileEntry *mbd_changes_get_dsc_file (MbdChanges *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_changes_verify_files (MbdChanges *self,
                                   const char *dir,
                                   GCancellable *cancellable,
                                   GError **error);

G_END_DECLS
