/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

/**
 * MBD_CONTROL_MAX_LINE_LENGTH:
 *
 * The longest line, in bytes, that the control parser accepts; longer lines are refused with
 * %MBD_ERROR_PARSE.
 */
#define MBD_CONTROL_MAX_LINE_LENGTH (1024 * 1024)

#define MBD_TYPE_PARAGRAPH (mbd_paragraph_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdParagraph, mbd_paragraph, MBD, PARAGRAPH, GObject)

MBD_AVAILABLE_IN_ALL
MbdParagraph *mbd_paragraph_new (void);
MBD_AVAILABLE_IN_ALL
const char *mbd_paragraph_get (MbdParagraph *self, const char *field);
MBD_AVAILABLE_IN_ALL
char *mbd_paragraph_get_folded (MbdParagraph *self, const char *field);
MBD_AVAILABLE_IN_ALL
char **mbd_paragraph_get_lines (MbdParagraph *self, const char *field);
MBD_AVAILABLE_IN_ALL
gboolean mbd_paragraph_has_field (MbdParagraph *self, const char *field);
MBD_AVAILABLE_IN_ALL
guint mbd_paragraph_get_field_line (MbdParagraph *self, const char *field);
MBD_AVAILABLE_IN_ALL
guint mbd_paragraph_get_start_line (MbdParagraph *self);
MBD_AVAILABLE_IN_ALL
char **mbd_paragraph_get_fields (MbdParagraph *self);
MBD_AVAILABLE_IN_ALL
void mbd_paragraph_set (MbdParagraph *self, const char *field, const char *value);
MBD_AVAILABLE_IN_ALL
gboolean mbd_paragraph_remove (MbdParagraph *self, const char *field);
MBD_AVAILABLE_IN_ALL
char *mbd_paragraph_to_string (MbdParagraph *self);

#define MBD_TYPE_CONTROL (mbd_control_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdControl, mbd_control, MBD, CONTROL, GObject)

MBD_AVAILABLE_IN_ALL
MbdControl *mbd_control_new (void);
MBD_AVAILABLE_IN_ALL
MbdControl *mbd_control_new_from_string (const char *text, const char *name, GError **error);
MBD_AVAILABLE_IN_ALL
MbdControl *mbd_control_new_from_bytes (GBytes *data, const char *name, GError **error);
MBD_AVAILABLE_IN_ALL
MbdControl *mbd_control_new_from_file (const char *path, GError **error);
MBD_AVAILABLE_IN_ALL
const char *mbd_control_get_name (MbdControl *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_control_is_signed (MbdControl *self);
MBD_AVAILABLE_IN_ALL
guint mbd_control_get_n_paragraphs (MbdControl *self);
MBD_AVAILABLE_IN_ALL
MbdParagraph *mbd_control_get_paragraph (MbdControl *self, guint index);
MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_control_get_paragraphs (MbdControl *self);
MBD_AVAILABLE_IN_ALL
void mbd_control_add_paragraph (MbdControl *self, MbdParagraph *paragraph);
MBD_AVAILABLE_IN_ALL
char *mbd_control_to_string (MbdControl *self);

G_END_DECLS
