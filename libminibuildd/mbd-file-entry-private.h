/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by the .dsc, .changes and .deb readers (mbd-dsc.c, mbd-changes.c, mbd-deb.c);
 * implemented in mbd-file-entry.c. Not exported. */

#include "mbd-control.h"
#include "mbd-deb-version.h"
#include "mbd-file-entry.h"

G_BEGIN_DECLS

/* @text escaped for a message (g_strescape), cut short after 80 bytes. */
char *mbd_pkgfile_quote_for_message (const char *text);

/* Debian policy package name: [a-z0-9][a-z0-9+.-]+ */
gboolean mbd_pkgfile_package_name_is_valid (const char *name);

/* The words of @value split at any of @separators, trimmed, empty ones dropped; @value may be
 * NULL (gives an empty vector). */
char **mbd_pkgfile_split_words (const char *value, const char *separators);

/* The only paragraph of @control (transfer none), or NULL with MBD_ERROR_PARSE if there are none
 * or several. */
MbdParagraph *
mbd_pkgfile_single_paragraph (MbdControl *control, const char *control_name, GError **error);

/* MBD_ERROR_MISSING_FIELD unless every field in @fields is present and not empty. */
gboolean mbd_pkgfile_require_fields (MbdParagraph *paragraph,
                                     const char *control_name,
                                     const char *const *fields,
                                     GError **error);

/* MBD_ERROR_PARSE (naming the file, line and field) unless @value is a valid package name. */
gboolean mbd_pkgfile_check_package_field (MbdParagraph *paragraph,
                                          const char *control_name,
                                          const char *field,
                                          const char *value,
                                          GError **error);

/* mbd_deb_version_is_valid() with the file, line and field prefixed to the error. */
gboolean mbd_pkgfile_check_version_field (MbdParagraph *paragraph,
                                          const char *control_name,
                                          const char *field,
                                          const char *value,
                                          GError **error);

/* Merges Files, Checksums-Sha1 (optional) and Checksums-Sha256 (mandatory) into a list of
 * entries in the order of Files (element-type MbdFileEntry, with free func). Files lines have
 * section and priority when @with_section (a .changes). */
GPtrArray *mbd_pkgfile_parse_file_list (MbdParagraph *paragraph,
                                        const char *control_name,
                                        gboolean with_section,
                                        GError **error);

/* The entry named @name in @entries (transfer none), or NULL. */
MbdFileEntry *mbd_pkgfile_find_entry (GPtrArray *entries, const char *name);

/* A new array with copies of the entries and mbd_file_entry_free as free func. */
GPtrArray *mbd_pkgfile_copy_entries (GPtrArray *entries);

/* mbd_file_entry_verify() on each entry; the first error, prefixed with @control_name, wins. */
gboolean mbd_pkgfile_verify_entries (GPtrArray *entries,
                                     const char *dir,
                                     const char *control_name,
                                     GCancellable *cancellable,
                                     GError **error);

G_END_DECLS
