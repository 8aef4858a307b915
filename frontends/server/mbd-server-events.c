/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "mbd-server.h"

/* Following the event log over HTTP (see doc/mbd-server.1.rst):
 *
 * - GET /static/events.attach[?after=<ISO 8601 with time zone>]: mini-buildd's long-poll. The
 *   request waits until one event later than `after` (without it: one stored from now on) exists
 *   and answers exactly that event as JSON. The connection stays open and remembers the last
 *   event it got, as mini-buildd's per-connection queue: its client repeats the same `after` on
 *   one connection. A wait lasts while the client is connected, or --events-timeout seconds and
 *   then 204 No Content ("nothing yet, ask again").
 * - GET /events: Server-Sent Events, each event as `id: <event id>`, `event: <TYPE>` and
 *   `data: <JSON>`; `Last-Event-ID` (or `?after=`) resumes after an event; a comment line every
 *   --events-keepalive seconds keeps proxies from closing it and finds clients that are gone.
 *
 * Both count against --events-max-clients (503 beyond it, as mini-buildd's 70). Waiting
 * requests are paused, so the server keeps serving everybody else. */

#define EVENTS_ATTACH_PATH "/static/events.attach"
#define EVENTS_STREAM_PATH "/events"
#define CONNECTION_LAST_ID "mbd-events-last-id"

static guint max_clients = MBD_SERVER_EVENTS_DEFAULT_MAX_CLIENTS;
static guint wait_seconds = MBD_SERVER_EVENTS_DEFAULT_TIMEOUT;
static guint keepalive_seconds = MBD_SERVER_EVENTS_DEFAULT_KEEPALIVE;
static GList *clients; /* (element-type Client) the waiting ones */
static guint n_clients;
static gboolean shutting_down;

typedef struct
{
  MbdEvents *events;      /* (owned) */
  SoupServerMessage *msg; /* (owned) */
  gboolean stream;        /* SSE, else long-poll */
  GCancellable *cancellable;
  gint64 last_id;
  GDateTime *after;  /* (nullable) */
  gboolean finished; /* the message's I/O is over: it must not be touched any more */
  gboolean timed_out;
  gulong finished_id;
  guint timeout_id;
  guint keepalive_id;
  GSource *socket_watch; /* (nullable) */
} Client;

static void
client_free (Client *client)
{
  g_clear_signal_handler (&client->finished_id, client->msg);
  g_clear_handle_id (&client->timeout_id, g_source_remove);
  g_clear_handle_id (&client->keepalive_id, g_source_remove);
  if (client->socket_watch != NULL)
    {
      g_source_destroy (client->socket_watch);
      g_source_unref (client->socket_watch);
    }
  g_clear_pointer (&client->after, g_date_time_unref);
  g_object_unref (client->cancellable);
  g_object_unref (client->msg);
  g_object_unref (client->events);
  clients = g_list_remove (clients, client);
  g_free (client);
  n_clients--;
}

static void
on_finished (SoupServerMessage *msg, gpointer user_data)
{
  Client *client = user_data;

  client->finished = TRUE;
  g_cancellable_cancel (client->cancellable);
}

/* A paused request is not read from: a client that hangs up would hold its place until the
 * wait ends. End-of-file on its socket (peeked, so nothing is taken from libsoup) ends it. */
static gboolean
on_socket_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Client *client = user_data;
  char byte;
  ssize_t n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n == 0 || n < 0)
    g_cancellable_cancel (client->cancellable);
  /* n > 0: a pipelined request; libsoup reads it once this one is answered */
  g_source_unref (g_steal_pointer (&client->socket_watch));
  return G_SOURCE_REMOVE;
}

static Client *
client_new (MbdInstance *instance, SoupServerMessage *msg, gboolean stream)
{
  Client *client = g_new0 (Client, 1);

  n_clients++;
  clients = g_list_prepend (clients, client);
  client->events = g_object_ref (mbd_instance_get_events (instance));
  client->msg = g_object_ref (msg);
  client->stream = stream;
  client->cancellable = g_cancellable_new ();
  client->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_finished), client);
  GSocket *socket = soup_server_message_get_socket (msg);
  if (socket != NULL)
    {
      client->socket_watch = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
      g_source_set_callback (client->socket_watch, G_SOURCE_FUNC (on_socket_readable), client,
                             NULL);
      g_source_set_static_name (client->socket_watch, "[mbd-server] event client hang-up");
      g_source_attach (client->socket_watch, NULL);
    }
  return client;
}

static void next_ready (GObject *source, GAsyncResult *result, gpointer user_data);

static void
client_wait (Client *client)
{
  mbd_events_next_async (client->events, client->last_id, client->after, client->cancellable,
                         next_ready, client);
}

/* Appends to a stream and lets libsoup write it. */
static void
stream_write (Client *client, const char *text)
{
  SoupMessageBody *body = soup_server_message_get_response_body (client->msg);

  soup_message_body_append (body, SOUP_MEMORY_COPY, text, strlen (text));
  soup_server_message_unpause (client->msg);
}

static void
answer_event (Client *client, MbdEvent *event)
{
  g_autofree char *json = mbd_event_to_json (event);

  if (client->stream)
    {
      g_autofree char *text = g_strdup_printf (
          "id: %" G_GINT64_FORMAT "\nevent: %s\ndata: %s\n\n", mbd_event_get_id (event),
          mbd_event_type_to_string (mbd_event_get_event_type (event)), json);
      stream_write (client, text);
      return;
    }
  /* the connection's place in the log, for its next request */
  GSocket *socket = soup_server_message_get_socket (client->msg);
  if (socket != NULL)
    {
      gint64 *last_id = g_new (gint64, 1);
      *last_id = mbd_event_get_id (event);
      g_object_set_data_full (G_OBJECT (socket), CONNECTION_LAST_ID, last_id, g_free);
    }
  gsize len = strlen (json);
  soup_server_message_set_status (client->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (client->msg, "application/json; charset=UTF-8",
                                    SOUP_MEMORY_TAKE, g_steal_pointer (&json), len);
  soup_server_message_unpause (client->msg);
}

static void
next_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Client *client = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdEvent) event = mbd_events_next_finish (MBD_EVENTS (source), result, &error);

  if (client->finished)
    {
      client_free (client);
      return;
    }
  if (event != NULL)
    {
      answer_event (client, event);
      if (client->stream)
        {
          client->last_id = mbd_event_get_id (event);
          g_clear_pointer (&client->after, g_date_time_unref);
          client_wait (client);
          return;
        }
    }
  else if (client->stream)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("event stream: %s", error->message);
      soup_message_body_complete (soup_server_message_get_response_body (client->msg));
      soup_server_message_unpause (client->msg);
    }
  else if (shutting_down)
    {
      mbd_server_problem (client->msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                          "mbd-server is shutting down; ask again once it is back");
      soup_server_message_unpause (client->msg);
    }
  else if (client->timed_out)
    {
      soup_server_message_set_status (client->msg, SOUP_STATUS_NO_CONTENT, NULL);
      soup_server_message_unpause (client->msg);
    }
  else
    {
      /* cancelled because the client hung up, or the log could not be read */
      gboolean gone = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      mbd_server_problem (
          client->msg, gone ? SOUP_STATUS_SERVICE_UNAVAILABLE : SOUP_STATUS_INTERNAL_SERVER_ERROR,
          error->message);
      soup_server_message_unpause (client->msg);
    }
  client_free (client);
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  Client *client = user_data;

  client->timeout_id = 0;
  client->timed_out = TRUE;
  g_cancellable_cancel (client->cancellable);
  return G_SOURCE_REMOVE;
}

static gboolean
on_keepalive (gpointer user_data)
{
  Client *client = user_data;

  if (!client->finished)
    stream_write (client, ": keep-alive\n\n");
  return G_SOURCE_CONTINUE;
}

/* `after` as mini-buildd takes it: ISO 8601 with a time zone. An unencoded '+' of the zone
 * arrives as a space from the form decoding, and is taken back. */
static GDateTime *
parse_after (const char *text)
{
  GDateTime *after = g_date_time_new_from_iso8601 (text, NULL);

  if (after == NULL && strchr (text, ' ') != NULL)
    {
      g_autofree char *fixed = g_strdup (text);
      g_strdelimit (fixed, " ", '+');
      after = g_date_time_new_from_iso8601 (fixed, NULL);
    }
  return after;
}

/* A handler's path also matches the paths below it: those are not found. */
static gboolean
exact_path (SoupServerMessage *msg, const char *path, const char *want)
{
  if (strcmp (path, want) == 0)
    return TRUE;
  g_autofree char *detail = g_strdup_printf ("No such resource: %s", path);
  mbd_server_problem (msg, SOUP_STATUS_NOT_FOUND, detail);
  return FALSE;
}

/* Checks the method and the `after` parameter and takes a client's place; answers and returns
 * FALSE if the request cannot wait. */
static gboolean
admit (SoupServerMessage *msg, const char *path, GHashTable *query, GDateTime **out_after)
{
  const char *method = soup_server_message_get_method (msg);

  if (strcmp (method, SOUP_METHOD_GET) != 0)
    {
      g_autofree char *detail = g_strdup_printf ("Method %s is not allowed on %s", method, path);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET");
      mbd_server_problem (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, detail);
      return FALSE;
    }
  const char *after_text = query != NULL ? g_hash_table_lookup (query, "after") : NULL;
  *out_after = NULL;
  if (after_text != NULL)
    {
      *out_after = parse_after (after_text);
      if (*out_after == NULL)
        {
          g_autofree char *detail
              = g_strdup_printf ("Parameter 'after': '%s' is not an ISO 8601 time with a time "
                                 "zone, such as 2024-06-01T12:00:00+00:00",
                                 after_text);
          mbd_server_problem (msg, SOUP_STATUS_BAD_REQUEST, detail);
          return FALSE;
        }
    }
  if (shutting_down)
    {
      g_clear_pointer (out_after, g_date_time_unref);
      mbd_server_problem (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "mbd-server is shutting down");
      return FALSE;
    }
  if (n_clients >= max_clients)
    {
      g_clear_pointer (out_after, g_date_time_unref);
      g_autofree char *detail = g_strdup_printf (
          "%u clients follow the events already (the limit is %u); try again later", n_clients,
          max_clients);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                    "30");
      mbd_server_problem (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, detail);
      return FALSE;
    }
  return TRUE;
}

static void
attach_handler (SoupServer *server,
                SoupServerMessage *msg,
                const char *path,
                GHashTable *query,
                gpointer user_data)
{
  GDateTime *after = NULL;

  if (!exact_path (msg, path, EVENTS_ATTACH_PATH) || !admit (msg, path, query, &after))
    return;
  Client *client = client_new (user_data, msg, FALSE);
  /* mini-buildd's client loops on one connection with the same `after`: like mini-buildd's
   * per-connection queue, a connection goes on after the last event it got */
  GSocket *socket = soup_server_message_get_socket (msg);
  gint64 *connection_last_id
      = socket != NULL ? g_object_get_data (G_OBJECT (socket), CONNECTION_LAST_ID) : NULL;
  if (connection_last_id != NULL)
    g_clear_pointer (&after, g_date_time_unref);
  client->after = after;
  client->last_id = connection_last_id != NULL ? *connection_last_id : after != NULL ? 0 : -1;
  /* the answer keeps the connection open (mbd-server closes others after each response on
   * libsoup 3.2): a waiting long-poll always has a request pending, so the client's close is
   * seen */
  soup_message_headers_remove (soup_server_message_get_response_headers (msg), "Connection");
  if (wait_seconds > 0)
    client->timeout_id = g_timeout_add_seconds (wait_seconds, on_wait_timeout, client);
  soup_server_message_pause (msg);
  client_wait (client);
}

static gboolean
parse_event_id (const char *text, gint64 *out_id)
{
  guint64 id;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &id, NULL))
    return FALSE;
  *out_id = (gint64) id;
  return TRUE;
}

static void
stream_handler (SoupServer *server,
                SoupServerMessage *msg,
                const char *path,
                GHashTable *query,
                gpointer user_data)
{
  if (!exact_path (msg, path, EVENTS_STREAM_PATH))
    return;
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  const char *last_event_id = soup_message_headers_get_one (request_headers, "Last-Event-ID");
  gint64 last_id = -1;
  g_autofree char *id_text = last_event_id != NULL ? g_strstrip (g_strdup (last_event_id)) : NULL;
  if (id_text != NULL && !parse_event_id (id_text, &last_id))
    {
      g_autofree char *detail = g_strdup_printf (
          "Header 'Last-Event-ID': '%s' is not an event id (a number)", last_event_id);
      mbd_server_problem (msg, SOUP_STATUS_BAD_REQUEST, detail);
      return;
    }
  GDateTime *after = NULL;
  if (!admit (msg, path, query, &after))
    return;
  Client *client = client_new (user_data, msg, TRUE);
  /* Last-Event-ID (a reconnecting EventSource) wins; `after` alone replays from that time */
  if (last_event_id != NULL)
    g_clear_pointer (&after, g_date_time_unref);
  client->after = after;
  client->last_id = last_event_id != NULL ? last_id : after != NULL ? 0 : -1;

  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type (headers, "text/event-stream", NULL);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  client->keepalive_id = g_timeout_add_seconds (keepalive_seconds, on_keepalive, client);
  /* the headers and a first comment go out now: the client sees the stream is open */
  soup_message_body_append (soup_server_message_get_response_body (msg), SOUP_MEMORY_STATIC,
                            ": mbd events\n\n", strlen (": mbd events\n\n"));
  client_wait (client);
}

static gboolean
on_flush_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
mbd_server_events_shutdown (void)
{
  shutting_down = TRUE;
  if (clients == NULL)
    return;
  for (GList *l = clients; l != NULL; l = l->next)
    g_cancellable_cancel (((Client *) l->data)->cancellable);
  /* the answers (503, or the end of a stream) go out before the server is disconnected */
  gboolean flushed = FALSE;
  g_timeout_add (300, on_flush_timeout, &flushed);
  while (!flushed)
    g_main_context_iteration (NULL, TRUE);
}

void
mbd_server_events_set_limits (guint max, guint timeout, guint keepalive)
{
  max_clients = max;
  wait_seconds = timeout;
  keepalive_seconds = keepalive;
}

void
mbd_server_events_add (SoupServer *server, MbdInstance *instance)
{
  soup_server_add_handler (server, EVENTS_ATTACH_PATH, attach_handler, g_object_ref (instance),
                           g_object_unref);
  soup_server_add_handler (server, EVENTS_STREAM_PATH, stream_handler, g_object_ref (instance),
                           g_object_unref);
}
