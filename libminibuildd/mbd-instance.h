/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>
#include <libminibuildd/mbd-gnupg.h>
#include <libminibuildd/mbd-status.h>

G_BEGIN_DECLS

/**
 * MBD_INSTANCE_DEFAULT_URL:
 *
 * The URL an instance announces until told otherwise: mbd-server's default address and port.
 */
#define MBD_INSTANCE_DEFAULT_URL "http://127.0.0.1:8066"

/**
 * MbdInstanceOpenFlags:
 * @MBD_INSTANCE_OPEN_NONE: open an existing instance only
 * @MBD_INSTANCE_OPEN_CREATE: create the home directory, database and instance key if missing
 *
 * How [method@Mbd.Instance.open] treats a home directory.
 */
typedef enum
{
  MBD_INSTANCE_OPEN_NONE = 0,
  MBD_INSTANCE_OPEN_CREATE = 1 << 0,
} MbdInstanceOpenFlags;

#define MBD_TYPE_INSTANCE (mbd_instance_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdInstance, mbd_instance, MBD, INSTANCE, GObject)

MBD_AVAILABLE_IN_ALL
char *mbd_instance_get_default_home (void);

MBD_AVAILABLE_IN_ALL
MbdInstance *mbd_instance_new (const char *home);
MBD_AVAILABLE_IN_ALL
void mbd_instance_set_identity (MbdInstance *self, const char *identity);
MBD_AVAILABLE_IN_ALL
void mbd_instance_set_key_algorithm (MbdInstance *self, const char *algorithm);

MBD_AVAILABLE_IN_ALL
gboolean mbd_instance_open (MbdInstance *self,
                            MbdInstanceOpenFlags flags,
                            GCancellable *cancellable,
                            GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_instance_open_async (MbdInstance *self,
                              MbdInstanceOpenFlags flags,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_instance_open_finish (MbdInstance *self, GAsyncResult *result, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_instance_is_open (MbdInstance *self);

MBD_AVAILABLE_IN_ALL
const char *mbd_instance_get_home (MbdInstance *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_instance_get_identity (MbdInstance *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_instance_get_fingerprint (MbdInstance *self);
MBD_AVAILABLE_IN_ALL
MbdGnupg *mbd_instance_get_gnupg (MbdInstance *self);
MBD_AVAILABLE_IN_ALL
int mbd_instance_get_schema_version (MbdInstance *self);
MBD_AVAILABLE_IN_ALL
char *mbd_instance_dup_url (MbdInstance *self);
MBD_AVAILABLE_IN_ALL
void mbd_instance_set_url (MbdInstance *self, const char *url);

MBD_AVAILABLE_IN_ALL
gboolean mbd_instance_start (MbdInstance *self, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_instance_stop (MbdInstance *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_instance_is_started (MbdInstance *self);
MBD_AVAILABLE_IN_ALL
int mbd_instance_get_engine_pid (MbdInstance *self);

MBD_AVAILABLE_IN_ALL
MbdStatus *mbd_instance_get_status (MbdInstance *self, GCancellable *cancellable, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_instance_get_status_async (MbdInstance *self,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
MBD_AVAILABLE_IN_ALL
MbdStatus *mbd_instance_get_status_finish (MbdInstance *self, GAsyncResult *result, GError **error);

MBD_AVAILABLE_IN_ALL
char *mbd_instance_resolve_repository_path (MbdInstance *self,
                                            const char *repository,
                                            const char *path,
                                            GError **error);

G_END_DECLS
