/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

/**
 * MBD_FILENAME_MAX_LENGTH:
 *
 * The longest file name, in bytes, that [func@Mbd.filename_is_safe] accepts.
 */
#define MBD_FILENAME_MAX_LENGTH 255

/**
 * MbdFileEntry:
 *
 * One file listed in a `.dsc` or `.changes`: its name (a plain file name without any directory
 * part), its size and the checksums the control data gives for it, plus the section and priority
 * that a `.changes` `Files` line carries.
 *
 * Checksums are kept as lower-case hexadecimal strings; a checksum the control data does not list
 * is %NULL and is not checked by [method@Mbd.FileEntry.verify].
 */
typedef struct _MbdFileEntry MbdFileEntry;

#define MBD_TYPE_FILE_ENTRY (mbd_file_entry_get_type ())
MBD_AVAILABLE_IN_ALL
GType mbd_file_entry_get_type (void) G_GNUC_CONST;

MBD_AVAILABLE_IN_ALL
MbdFileEntry *mbd_file_entry_new (const char *name,
                                  guint64 size,
                                  const char *md5,
                                  const char *sha1,
                                  const char *sha256,
                                  GError **error);
MBD_AVAILABLE_IN_ALL
MbdFileEntry *mbd_file_entry_new_from_file (const char *dir,
                                            const char *name,
                                            GCancellable *cancellable,
                                            GError **error);
MBD_AVAILABLE_IN_ALL
MbdFileEntry *mbd_file_entry_copy (const MbdFileEntry *self);
MBD_AVAILABLE_IN_ALL
void mbd_file_entry_free (MbdFileEntry *self);

MBD_AVAILABLE_IN_ALL
const char *mbd_file_entry_get_name (const MbdFileEntry *self);
MBD_AVAILABLE_IN_ALL
guint64 mbd_file_entry_get_size (const MbdFileEntry *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_file_entry_get_md5 (const MbdFileEntry *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_file_entry_get_sha1 (const MbdFileEntry *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_file_entry_get_sha256 (const MbdFileEntry *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_file_entry_get_section (const MbdFileEntry *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_file_entry_get_priority (const MbdFileEntry *self);
MBD_AVAILABLE_IN_ALL
void mbd_file_entry_set_section (MbdFileEntry *self, const char *section);
MBD_AVAILABLE_IN_ALL
void mbd_file_entry_set_priority (MbdFileEntry *self, const char *priority);

MBD_AVAILABLE_IN_ALL
gboolean mbd_file_entry_verify (const MbdFileEntry *self,
                                const char *dir,
                                GCancellable *cancellable,
                                GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_filename_is_safe (const char *name, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MbdFileEntry, mbd_file_entry_free)

G_END_DECLS
