/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "mbd-server-api.h"

/* mini-buildd's calls between instances: handshake (NONE) and wake (STAFF, C), routes onto
 * MbdRemote. */

/* -- handshake ---------------------------------------------------------------------------- */

typedef struct
{
  MbdServerApiPending *pending;
  GBytes *signed_message; /* (owned) */
} HandshakeCall;

static void
handshake_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  MbdInstance *instance = source;
  HandshakeCall *call = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdRemote) remote
             = mbd_instance_verify_handshake (instance, call->signed_message, cancellable, &error);
  if (remote == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  GBytes *ours = mbd_instance_sign_handshake (instance, NULL, cancellable, &error);
  if (ours == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, ours, (GDestroyNotify) g_bytes_unref);
}

static void
handshake_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HandshakeCall *call = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) ours = g_task_propagate_pointer (G_TASK (result), &error);

  if (ours == NULL)
    mbd_server_api_fail (call->pending->msg, "handshake", error);
  else
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (ours, NULL), g_bytes_get_size (ours));
      mbd_server_api_answer_text (call->pending->msg, call->pending->query, text);
    }
  mbd_server_api_resume (g_steal_pointer (&call->pending));
}

static void
handshake_call_free (HandshakeCall *call)
{
  g_bytes_unref (call->signed_message);
  g_free (call);
}

/* Answers our clear-signed handshake message if `signed_message` verifies against the key of a
 * prepared or active remote; 400 naming the reason otherwise (unsigned, bad signature, unknown
 * key). */
void
mbd_server_api_handshake (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *const mandatory[] = { "signed_message", NULL };
  if (!mbd_server_api_check (msg, instance, query, "handshake", 0, mandatory))
    return;
  const char *signed_message = mbd_server_api_arg (query, "signed_message");
  HandshakeCall *call = g_new0 (HandshakeCall, 1);
  call->signed_message = g_bytes_new (signed_message, strlen (signed_message));
  call->pending = mbd_server_api_pause (msg, query);
  g_autoptr (GTask) task = g_task_new (instance, NULL, handshake_ready, NULL);
  g_task_set_source_tag (task, mbd_server_api_handshake);
  g_task_set_task_data (task, call, (GDestroyNotify) handshake_call_free);
  g_task_run_in_thread (task, handshake_thread);
}

/* -- wake --------------------------------------------------------------------------------- */

static void
wake_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MbdServerApiPending *pending = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *status = mbd_remote_wake_finish (MBD_REMOTE (source), result, &error);
  g_autoptr (JsonNode) root = status != NULL ? json_from_string (status, &error) : NULL;

  if (root == NULL)
    mbd_server_api_fail (pending->msg, "wake", error);
  else
    mbd_server_api_answer (pending->msg, pending->query, root);
  mbd_server_api_resume (pending);
}

/* mini-buildd's wake: remote (its URL), sleep (5), attempts (3); answers the remote's status. */
void
mbd_server_api_wake (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *const mandatory[] = { "remote", NULL };
  if (!mbd_server_api_check (msg, instance, query, "wake",
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, mandatory))
    return;
  int sleep_seconds, attempts;
  if (!mbd_server_api_arg_int (msg, query, "wake", "sleep", 5, &sleep_seconds)
      || !mbd_server_api_arg_int (msg, query, "wake", "attempts", 3, &attempts))
    return;
  if (sleep_seconds < 0 || sleep_seconds > 60)
    {
      mbd_server_api_bad_arg (msg, "wake", "sleep", "must be 0 to 60 (seconds)");
      return;
    }
  if (attempts < 1 || attempts > 20)
    {
      mbd_server_api_bad_arg (msg, "wake", "attempts", "must be 1 to 20");
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdRemote) remote
             = mbd_instance_lookup_remote (instance, mbd_server_api_arg (query, "remote"), &error);
  if (remote == NULL)
    {
      mbd_server_api_fail (msg, "wake", error);
      return;
    }
  mbd_remote_wake_async (remote, sleep_seconds, attempts, NULL, wake_ready,
                         mbd_server_api_pause (msg, query));
}
