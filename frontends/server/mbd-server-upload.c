/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-server-api.h"

/* dput's http method PUTs each file to /<incoming>/<file name>, one connection per file, the
 * .changes last (dput/methods/http.py); dput_conf hands out incoming = MBD_UPLOAD_PATH. */
#define UPLOAD_PATH MBD_UPLOAD_PATH

typedef struct
{
  SoupServerMessage *msg; /* (unowned) owns the state */
  MbdIncomingFile *file;  /* (nullable) */
  GError *error;          /* (nullable) the first failure while receiving */
  gint64 last_chunk;      /* g_get_monotonic_time () */
  guint timeout;          /* seconds a body may stall */
  guint stall_id;
} UploadState;

static void
upload_state_free (UploadState *state)
{
  g_clear_handle_id (&state->stall_id, g_source_remove);
  g_clear_object (&state->file);
  g_clear_error (&state->error);
  g_free (state);
}

/* A client that stops sending its body would keep its connection and partial file for ever
 * (SoupServer 3.2 has no idle timeout): after the upload timeout without data the connection
 * is shut down, which aborts the request and drops the partial file. */
static gboolean
check_stalled (gpointer user_data)
{
  UploadState *state = user_data;

  if (g_get_monotonic_time () - state->last_chunk < (gint64) state->timeout * G_USEC_PER_SEC)
    return G_SOURCE_CONTINUE;
  state->stall_id = 0;
  GSocket *socket = soup_server_message_get_socket (state->msg);
  if (socket != NULL)
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
  return G_SOURCE_REMOVE;
}

static guint
upload_status_for_error (const GError *error)
{
  if (error->domain != MBD_ERROR)
    return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  switch (error->code)
    {
    case MBD_ERROR_TOO_LARGE:
      return SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
    case MBD_ERROR_FAILED:
    case MBD_ERROR_DATABASE:
    case MBD_ERROR_GPG:
      return SOUP_STATUS_INTERNAL_SERVER_ERROR;
    default:
      return SOUP_STATUS_BAD_REQUEST;
    }
}

static void on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data);

/* Streams the body of @msg into @file (NULL: the request is refused, its body is read and
 * dropped), closing the connection when the body stalls. */
static void
watch_body (SoupServerMessage *msg, MbdIncoming *incoming, MbdIncomingFile *file)
{
  UploadState *state = g_new0 (UploadState, 1);

  state->msg = msg;
  state->file = file;
  state->last_chunk = g_get_monotonic_time ();
  state->timeout = mbd_incoming_get_timeout (incoming);
  state->stall_id = g_timeout_add_seconds (CLAMP (state->timeout / 4, 1, 30), check_stalled, state);
  g_object_set_data_full (G_OBJECT (msg), "mbd-upload", state, (GDestroyNotify) upload_state_free);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), state);
}

static void
on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  UploadState *state = user_data;

  state->last_chunk = g_get_monotonic_time ();
  if (state->file == NULL || state->error != NULL)
    return;
  if (!mbd_incoming_file_write (state->file, chunk, &state->error))
    g_clear_object (&state->file);
}

/* Runs once the request headers are read: refuses what it can before the body arrives, and
 * streams the body into the incoming directory instead of accumulating it in memory. */
static void
upload_early_handler (SoupServer *server,
                      SoupServerMessage *msg,
                      const char *path,
                      GHashTable *query,
                      gpointer user_data)
{
  MbdIncoming *incoming = user_data;
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);

  if (strcmp (method, SOUP_METHOD_PUT) != 0)
    {
      g_autofree char *detail = g_strdup_printf (
          "Method %s is not allowed on %s; upload files with PUT %s/<file name> (dput's http "
          "method)",
          method, path, UPLOAD_PATH);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "PUT");
      mbd_server_problem (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, detail);
      return;
    }

  const char *name = path + strlen (UPLOAD_PATH);
  if (*name == '/')
    name++;
  g_autoptr (GError) error = NULL;
  gint64 size = -1;
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
    size = soup_message_headers_get_content_length (headers);

  MbdIncomingFile *file = mbd_incoming_begin_file (incoming, name, size, &error);
  if (file == NULL)
    {
      /* the answer goes out once the body is read (dput sends no Expect: 100-continue) */
      mbd_server_problem (msg, upload_status_for_error (error), error->message);
    }
  watch_body (msg, incoming, file);
}

/* Runs once the whole body has been streamed. */
static void
upload_handler (SoupServer *server,
                SoupServerMessage *msg,
                const char *path,
                GHashTable *query,
                gpointer user_data)
{
  UploadState *state = g_object_get_data (G_OBJECT (msg), "mbd-upload");

  if (state == NULL || (state->file == NULL && state->error == NULL))
    {
      mbd_server_problem (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "Upload state lost");
      return;
    }
  g_clear_handle_id (&state->stall_id, g_source_remove);
  if (state->error == NULL && state->file != NULL)
    mbd_incoming_file_finish (state->file, &state->error);
  if (state->error != NULL)
    {
      mbd_server_problem (msg, upload_status_for_error (state->error), state->error->message);
      return;
    }

  g_autofree char *text = g_strdup_printf ("Stored %s\n", mbd_incoming_file_get_name (state->file));
  soup_server_message_set_status (msg, SOUP_STATUS_CREATED, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, text, strlen (text));
}

void
mbd_server_upload_add (SoupServer *server, MbdIncoming *incoming)
{
  soup_server_add_early_handler (server, UPLOAD_PATH, upload_early_handler, g_object_ref (incoming),
                                 g_object_unref);
  soup_server_add_handler (server, UPLOAD_PATH, upload_handler, g_object_ref (incoming),
                           g_object_unref);
}

/* -- dput_conf ----------------------------------------------------------------------------- */

gboolean
mbd_server_query_flag (GHashTable *query, const char *name)
{
  const char *value = query != NULL ? g_hash_table_lookup (query, name) : NULL;

  return value != NULL && g_ascii_strcasecmp (value, "false") != 0 && strcmp (value, "0") != 0;
}

void
mbd_server_api_dput_conf (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *output = query != NULL ? g_hash_table_lookup (query, "output") : NULL;
  gboolean plain = output != NULL && strcmp (output, "plain") == 0;
  gboolean dput_ng = mbd_server_query_flag (query, "dput_ng_profile");
  g_autoptr (GError) error = NULL;
  g_autofree char *text = mbd_instance_dput_conf (instance, NULL, dput_ng, &error);

  if (text == NULL)
    {
      mbd_server_problem (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, error->message);
      return;
    }
  if (!dput_ng)
    {
      mbd_server_api_answer_text (msg, query, text);
      return;
    }
  gsize length = strlen (text);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, plain ? "text/plain" : "application/json",
                                    SOUP_MEMORY_TAKE, g_steal_pointer (&text), length);
}
