/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <sys/socket.h>

#include "mbd-server.h"

/* Limits libsoup 3.2's SoupServer does not have: it reads request headers up to 100 KiB (then
 * 400) but waits for them without end, and accumulates any request body in memory. Everything
 * here runs in the main loop from signals; nothing waits. */

#define DEADLINE_KEY "mbd-server-deadline"
#define REFUSED_KEY "mbd-server-refused"

static guint idle_timeout = MBD_SERVER_DEFAULT_IDLE_TIMEOUT;
static gint64 max_body = MBD_SERVER_DEFAULT_MAX_BODY;

void
mbd_server_limits_set (guint timeout, gint64 body)
{
  idle_timeout = timeout;
  max_body = body;
}

/* Ends the connection of @msg under libsoup's feet: its pending read sees end-of-file, and
 * libsoup closes the connection and frees the message as for a client that went away. */
static void
drop_connection (SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  if (socket != NULL)
    shutdown (g_socket_get_fd (socket), SHUT_RDWR);
}

static gboolean
on_deadline (gpointer user_data)
{
  SoupServerMessage *msg = user_data;

  /* the source ends with this call: take it off the message without removing it */
  g_object_steal_data (G_OBJECT (msg), DEADLINE_KEY);
  drop_connection (msg);
  return G_SOURCE_REMOVE;
}

static void
remove_source (gpointer data)
{
  g_source_remove (GPOINTER_TO_UINT (data));
}

static void
clear_deadline (SoupServerMessage *msg)
{
  g_object_set_data (G_OBJECT (msg), DEADLINE_KEY, NULL);
}

static gboolean
is_upload (SoupServerMessage *msg)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  return g_str_has_prefix (path, MBD_UPLOAD_PATH "/") || strcmp (path, MBD_UPLOAD_PATH) == 0;
}

/* Answers 413 once the body has been read: libsoup 3.2 reads a request's body before it writes
 * the answer, whatever got-headers decided. The body is discarded as it comes instead of being
 * kept, and the deadline, which stays, ends a body that does not end. */
static void
refuse_body (SoupServerMessage *msg, gint64 length)
{
  g_autofree char *detail = g_strdup_printf (
      "The request body (%" G_GINT64_FORMAT " bytes or more) is larger than the %" G_GINT64_FORMAT
      " bytes this server takes outside uploads (PUT %s/<file name>)",
      length, max_body, MBD_UPLOAD_PATH);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_truncate (body);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
  mbd_server_problem (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, detail);
  g_object_set_data (G_OBJECT (msg), REFUSED_KEY, GINT_TO_POINTER (TRUE));
}

/* A body without a length (chunked) is refused once it has grown too large. */
static void
on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if (body->length > max_body && g_object_get_data (G_OBJECT (msg), REFUSED_KEY) == NULL)
    refuse_body (msg, body->length);
}

static void
on_got_headers (SoupServerMessage *msg, gpointer user_data)
{
  /* uploads stream their bodies to disk, with their own stall timeout and size limits */
  if (is_upload (msg))
    {
      clear_deadline (msg);
      return;
    }
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) > max_body)
    refuse_body (msg, soup_message_headers_get_content_length (headers));
  else
    g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), NULL);
}

/* The whole request is there (libsoup skips the handler of a request refused above). */
static void
on_got_body (SoupServerMessage *msg, gpointer user_data)
{
  clear_deadline (msg);
}

/* libsoup 3.2's listener leaks one reference to every socket it accepts (listen_watch() never
 * drops the one g_socket_accept() returned): about 350 bytes per connection, and mbd-server
 * closes every connection after its response. The sockets are tracked here, with a reference
 * of our own, from the first request of their connection; a sweep every few seconds releases
 * those that libsoup has closed and let go of: a count of 2 is ours and the leaked one, 1 is
 * ours alone (a libsoup without the leak). Anything else still uses the socket: next sweep.
 * Under load a sweep also runs once the list has doubled since the last one, so that the
 * closed sockets waiting for it stay few. */
#define SWEEP_SECONDS 5
#define TRACKED_KEY "mbd-server-tracked"

static GPtrArray *tracked_sockets;
static guint sweep_survivors;

static gboolean
sweep_sockets (gpointer user_data)
{
  for (guint i = 0; i < tracked_sockets->len;)
    {
      GSocket *socket = tracked_sockets->pdata[i];
      guint refs = g_atomic_int_get (&G_OBJECT (socket)->ref_count);
      if (!g_socket_is_closed (socket) || refs > 2)
        {
          i++;
          continue;
        }
      g_ptr_array_remove_index_fast (tracked_sockets, i);
      if (refs == 2)
        g_object_unref (socket);
      g_object_unref (socket);
    }
  sweep_survivors = tracked_sockets->len;
  return G_SOURCE_CONTINUE;
}

static void
track_socket (SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  if (socket == NULL || g_object_get_data (G_OBJECT (socket), TRACKED_KEY) != NULL)
    return;
  g_object_set_data (G_OBJECT (socket), TRACKED_KEY, GINT_TO_POINTER (TRUE));
  g_ptr_array_add (tracked_sockets, g_object_ref (socket));
  if (tracked_sockets->len >= 2 * sweep_survivors + 64)
    sweep_sockets (NULL);
}

/* Every request must arrive (headers, and the body outside uploads) within the idle timeout
 * from the moment libsoup starts waiting for it: clients that connect and send nothing, or
 * drip their headers (slowloris), lose their connection instead of holding it for ever. Over
 * TLS, libsoup 3.2 starts the first request of a connection when it accepts it, before the
 * handshake (which the first read drives), so the deadline covers an unfinished handshake
 * too (test_server_apirest's TlsHandshakeTest). */
static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  if (tracked_sockets != NULL)
    track_socket (msg);
  if (idle_timeout > 0)
    {
      guint id = g_timeout_add_seconds (idle_timeout, on_deadline, msg);
      g_object_set_data_full (G_OBJECT (msg), DEADLINE_KEY, GUINT_TO_POINTER (id), remove_source);
    }
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), NULL);
  g_signal_connect (msg, "got-body", G_CALLBACK (on_got_body), NULL);
  g_signal_connect (msg, "finished", G_CALLBACK (clear_deadline), NULL);
}

void
mbd_server_limits_add (SoupServer *server)
{
  g_signal_connect (server, "request-started", G_CALLBACK (on_request_started), NULL);
  if (soup_get_major_version () == 3 && soup_get_minor_version () == 2 && tracked_sockets == NULL)
    {
      tracked_sockets = g_ptr_array_new ();
      g_timeout_add_seconds (SWEEP_SECONDS, sweep_sockets, NULL);
    }
}
