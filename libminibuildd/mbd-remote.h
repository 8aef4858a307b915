/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>
#include <libminibuildd/mbd-instance.h>

G_BEGIN_DECLS

/**
 * MbdRemoteState:
 * @MBD_REMOTE_STATE_ADDED: known by its URL only; its key has not been fetched
 * @MBD_REMOTE_STATE_PREPARED: its key is fetched: a handshake signed by it is accepted
 * @MBD_REMOTE_STATE_ACTIVE: checked and activated: the instance's status lists it
 *
 * The life of a remote, mini-buildd's status model: prepare, check, activate.
 */
typedef enum
{
  MBD_REMOTE_STATE_ADDED,
  MBD_REMOTE_STATE_PREPARED,
  MBD_REMOTE_STATE_ACTIVE,
} MbdRemoteState;

/**
 * MBD_REMOTE_HANDSHAKE_MESSAGE:
 *
 * The text an instance clear-signs for a handshake, as mini-buildd does.
 */
#define MBD_REMOTE_HANDSHAKE_MESSAGE "Hand Shake"

/**
 * MBD_REMOTE_TIMEOUT:
 *
 * Seconds one HTTP request to a remote may take.
 */
#define MBD_REMOTE_TIMEOUT 30

MBD_AVAILABLE_IN_ALL
const char *mbd_remote_state_to_string (MbdRemoteState state);

#define MBD_TYPE_REMOTE (mbd_remote_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdRemote, mbd_remote, MBD, REMOTE, GObject)

MBD_AVAILABLE_IN_ALL
MbdInstance *mbd_remote_get_instance (MbdRemote *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_remote_get_url (MbdRemote *self);
MBD_AVAILABLE_IN_ALL
MbdRemoteState mbd_remote_get_state (MbdRemote *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_remote_get_key (MbdRemote *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_remote_get_fingerprint (MbdRemote *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_remote_get_wake_command (MbdRemote *self);
MBD_AVAILABLE_IN_ALL
gint64 mbd_remote_get_check_time (MbdRemote *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_remote_get_check_message (MbdRemote *self);

MBD_AVAILABLE_IN_ALL
gboolean mbd_remote_set_wake_command (MbdRemote *self, const char *wake_command, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_remote_prepare (MbdRemote *self, GCancellable *cancellable, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_remote_prepare_async (MbdRemote *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_remote_prepare_finish (MbdRemote *self, GAsyncResult *result, GError **error);

MBD_AVAILABLE_IN_ALL
char *mbd_remote_fetch_status (MbdRemote *self, GCancellable *cancellable, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_remote_check (MbdRemote *self, GCancellable *cancellable, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_remote_check_async (MbdRemote *self,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_remote_check_finish (MbdRemote *self, GAsyncResult *result, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_remote_activate (MbdRemote *self, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_remote_deactivate (MbdRemote *self, GError **error);

MBD_AVAILABLE_IN_ALL
char *mbd_remote_wake (MbdRemote *self,
                       int sleep_seconds,
                       int attempts,
                       GCancellable *cancellable,
                       GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_remote_wake_async (MbdRemote *self,
                            int sleep_seconds,
                            int attempts,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
MBD_AVAILABLE_IN_ALL
char *mbd_remote_wake_finish (MbdRemote *self, GAsyncResult *result, GError **error);

MBD_AVAILABLE_IN_ALL
MbdRemote *mbd_instance_add_remote (MbdInstance *instance, const char *url, GError **error);
MBD_AVAILABLE_IN_ALL
MbdRemote *mbd_instance_lookup_remote (MbdInstance *instance, const char *url, GError **error);
MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_instance_list_remotes (MbdInstance *instance, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_instance_remove_remote (MbdInstance *instance, const char *url, GError **error);

MBD_AVAILABLE_IN_ALL
GBytes *mbd_instance_sign_handshake (MbdInstance *instance,
                                     const char *text,
                                     GCancellable *cancellable,
                                     GError **error);
MBD_AVAILABLE_IN_ALL
MbdRemote *mbd_instance_verify_handshake (MbdInstance *instance,
                                          GBytes *signed_message,
                                          GCancellable *cancellable,
                                          GError **error);

G_END_DECLS
