/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-instance.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

/**
 * MBD_INCOMING_DEFAULT_MAX_FILE_SIZE:
 *
 * The default of [property@Mbd.Incoming:max-file-size]: 2 GiB.
 */
#define MBD_INCOMING_DEFAULT_MAX_FILE_SIZE (G_GUINT64_CONSTANT (2) << 30)

/**
 * MBD_INCOMING_DEFAULT_MAX_UPLOAD_SIZE:
 *
 * The default of [property@Mbd.Incoming:max-upload-size]: 4 GiB.
 */
#define MBD_INCOMING_DEFAULT_MAX_UPLOAD_SIZE (G_GUINT64_CONSTANT (4) << 30)

/**
 * MBD_INCOMING_DEFAULT_TIMEOUT:
 *
 * The default of [property@Mbd.Incoming:timeout] in seconds: one hour.
 */
#define MBD_INCOMING_DEFAULT_TIMEOUT 3600

#define MBD_TYPE_INCOMING (mbd_incoming_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdIncoming, mbd_incoming, MBD, INCOMING, GObject)

#define MBD_TYPE_INCOMING_FILE (mbd_incoming_file_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdIncomingFile, mbd_incoming_file, MBD, INCOMING_FILE, GObject)

MBD_AVAILABLE_IN_ALL
MbdIncoming *mbd_incoming_new (const char *directory);
MBD_AVAILABLE_IN_ALL
MbdIncoming *mbd_incoming_new_for_instance (MbdInstance *instance);
MBD_AVAILABLE_IN_ALL
const char *mbd_incoming_get_directory (MbdIncoming *self);

MBD_AVAILABLE_IN_ALL
guint64 mbd_incoming_get_max_file_size (MbdIncoming *self);
MBD_AVAILABLE_IN_ALL
void mbd_incoming_set_max_file_size (MbdIncoming *self, guint64 max_file_size);
MBD_AVAILABLE_IN_ALL
guint64 mbd_incoming_get_max_upload_size (MbdIncoming *self);
MBD_AVAILABLE_IN_ALL
void mbd_incoming_set_max_upload_size (MbdIncoming *self, guint64 max_upload_size);
MBD_AVAILABLE_IN_ALL
guint mbd_incoming_get_timeout (MbdIncoming *self);
MBD_AVAILABLE_IN_ALL
void mbd_incoming_set_timeout (MbdIncoming *self, guint timeout);
MBD_AVAILABLE_IN_ALL
gboolean mbd_incoming_get_held (MbdIncoming *self);
MBD_AVAILABLE_IN_ALL
void mbd_incoming_set_held (MbdIncoming *self, gboolean held);

MBD_AVAILABLE_IN_ALL
gboolean mbd_incoming_start (MbdIncoming *self, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_incoming_stop (MbdIncoming *self);
MBD_AVAILABLE_IN_ALL
void mbd_incoming_scan (MbdIncoming *self);
MBD_AVAILABLE_IN_ALL
char **mbd_incoming_dup_pending (MbdIncoming *self);

MBD_AVAILABLE_IN_ALL
MbdIncomingFile *
mbd_incoming_begin_file (MbdIncoming *self, const char *name, gint64 size, GError **error);
MBD_AVAILABLE_IN_ALL
const char *mbd_incoming_file_get_name (MbdIncomingFile *self);
MBD_AVAILABLE_IN_ALL
guint64 mbd_incoming_file_get_written (MbdIncomingFile *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_incoming_file_write (MbdIncomingFile *self, GBytes *data, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_incoming_file_finish (MbdIncomingFile *self, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_incoming_file_abort (MbdIncomingFile *self);

G_END_DECLS
