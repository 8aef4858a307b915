/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Static delivery of the published repositories: GET/HEAD of /repositories/<id>/<path> from
 * <home>/repositories/<id>/<path>, with single byte ranges, If-Modified-Since and If-Range. The
 * file is looked up, opened and checked in a worker thread; its body is streamed in chunks read
 * asynchronously, each appended only after the previous one went out, so neither memory nor the
 * main loop depends on the file's size. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbd-server.h"

#define REPOSITORIES_PREFIX "/repositories"
#define CHUNK_SIZE (128 * 1024)
#define SNIFF_SIZE 512

/* What a request asks for, copied out of the message for the worker thread. */
typedef struct
{
  MbdInstance *instance;   /* (owned) */
  char *repository;        /* (owned) */
  char *path;              /* (owned) */
  gboolean is_get;         /* ranges apply to GET only */
  char *range;             /* (owned) (nullable) */
  char *if_range;          /* (owned) (nullable) */
  char *if_modified_since; /* (owned) (nullable) */
} Request;

/* The worker thread's answer. */
typedef struct
{
  int fd; /* -1 when there is no body to send */
  guint status;
  goffset size, start, length;
  GDateTime *modified;      /* (owned) */
  const char *content_type; /* static */
} Reply;

static void
request_free (Request *request)
{
  g_clear_object (&request->instance);
  g_free (request->repository);
  g_free (request->path);
  g_free (request->range);
  g_free (request->if_range);
  g_free (request->if_modified_since);
  g_free (request);
}

static void
reply_free (Reply *reply)
{
  if (reply->fd >= 0)
    close (reply->fd);
  g_clear_pointer (&reply->modified, g_date_time_unref);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

static const struct
{
  const char *suffix, *type;
} suffix_types[] = {
  { ".gz", "application/gzip" },
  { ".xz", "application/x-xz" },
  { ".zst", "application/zstd" },
  { ".bz2", "application/x-bzip2" },
  { ".deb", "application/vnd.debian.binary-package" },
  { ".udeb", "application/vnd.debian.binary-package" },
  { ".ddeb", "application/vnd.debian.binary-package" },
  { ".dsc", "text/prs.lines.tag" },
  { ".changes", "text/plain" },
  { ".buildinfo", "text/plain" },
  { ".tar", "application/x-tar" },
  { ".gpg", "application/pgp-signature" },
  { ".asc", "application/pgp-signature" },
};

/* By name first (indices, pool files); by content for names that say nothing, such as the
 * by-hash/SHA256/<hex> copies of the indices. */
static const char *
content_type_for (const char *path, const guint8 *head, gsize len)
{
  const char *name = strrchr (path, '/') != NULL ? strrchr (path, '/') + 1 : path;

  for (guint i = 0; i < G_N_ELEMENTS (suffix_types); i++)
    if (g_str_has_suffix (name, suffix_types[i].suffix))
      return suffix_types[i].type;

  if (len >= 2 && head[0] == 0x1f && head[1] == 0x8b)
    return "application/gzip";
  if (len >= 6
      && memcmp (head,
                 "\xfd"
                 "7zXZ\0",
                 6)
             == 0)
    return "application/x-xz";
  if (len >= 4 && memcmp (head, "\x28\xb5\x2f\xfd", 4) == 0)
    return "application/zstd";
  if (len >= 3 && memcmp (head, "BZh", 3) == 0)
    return "application/x-bzip2";
  if (len >= 8 && memcmp (head, "!<arch>\n", 8) == 0)
    return "application/vnd.debian.binary-package";
  if (memchr (head, '\0', len) == NULL)
    {
      /* a multi-byte character may be cut at the end of the sniffed part */
      const char *end = NULL;
      if (g_utf8_validate ((const char *) head, len, &end) || (const guint8 *) end + 4 > head + len)
        return "text/plain";
    }
  return "application/octet-stream";
}

/* RFC 9110 14.1.2: one "bytes=first-last", "bytes=first-" or "bytes=-suffix". Returns FALSE for
 * anything else (several ranges, other units, bad syntax): the Range header is then ignored and
 * the whole file sent. On TRUE, *satisfiable tells 206 from 416. */
static gboolean
parse_range (const char *value,
             goffset size,
             goffset *start,
             goffset *length,
             gboolean *satisfiable)
{
  if (g_ascii_strncasecmp (value, "bytes=", 6) != 0)
    return FALSE;
  const char *spec = value + 6;
  while (*spec == ' ')
    spec++;
  if (strchr (spec, ',') != NULL)
    return FALSE;

  const char *dash = strchr (spec, '-');
  if (dash == NULL)
    return FALSE;
  g_autofree char *first_text = g_strndup (spec, dash - spec);
  g_autofree char *last_text = g_strstrip (g_strdup (dash + 1));
  g_strstrip (first_text);

  guint64 first = 0, last = 0;
  gboolean has_first = *first_text != '\0', has_last = *last_text != '\0';
  if (!has_first && !has_last)
    return FALSE;
  if (has_first && !g_ascii_string_to_unsigned (first_text, 10, 0, G_MAXINT64, &first, NULL))
    return FALSE;
  if (has_last && !g_ascii_string_to_unsigned (last_text, 10, 0, G_MAXINT64, &last, NULL))
    return FALSE;

  if (!has_first)
    {
      /* the last @last bytes */
      *satisfiable = last > 0 && size > 0;
      *start = size > (goffset) last ? size - (goffset) last : 0;
      *length = size - *start;
      return TRUE;
    }
  if (has_last && last < first)
    return FALSE;
  *satisfiable = (goffset) first < size;
  if (!*satisfiable)
    return TRUE;
  goffset end = has_last && (goffset) last < size - 1 ? (goffset) last : size - 1;
  *start = first;
  *length = end - *start + 1;
  return TRUE;
}

/* Decides the status from the conditional and range headers once the file's size and time are
 * known (RFC 9110 13.2.2: If-Modified-Since before Range; If-Range gates Range). */
static void
decide (const Request *request, Reply *reply)
{
  reply->status = SOUP_STATUS_OK;
  reply->start = 0;
  reply->length = reply->size;

  if (request->if_modified_since != NULL)
    {
      g_autoptr (GDateTime) since
                 = soup_date_time_new_from_http_string (request->if_modified_since);
      if (since != NULL && g_date_time_to_unix (reply->modified) <= g_date_time_to_unix (since))
        {
          reply->status = SOUP_STATUS_NOT_MODIFIED;
          return;
        }
    }

  if (!request->is_get || request->range == NULL)
    return;
  if (request->if_range != NULL)
    {
      /* we send no entity tags, so only a date equal to Last-Modified keeps the range */
      g_autoptr (GDateTime) validator = soup_date_time_new_from_http_string (request->if_range);
      if (validator == NULL
          || g_date_time_to_unix (validator) != g_date_time_to_unix (reply->modified))
        return;
    }

  goffset start = 0, length = 0;
  gboolean satisfiable = FALSE;
  if (!parse_range (request->range, reply->size, &start, &length, &satisfiable))
    return;
  if (!satisfiable)
    {
      reply->status = SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE;
      return;
    }
  reply->status = SOUP_STATUS_PARTIAL_CONTENT;
  reply->start = start;
  reply->length = length;
}

static Reply *
set_errno_error (const Request *request, GError **error)
{
  int saved = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s in repository '%s': %s",
               request->path, request->repository, g_strerror (saved));
  return NULL;
}

static Reply *
open_reply (const Request *request, GError **error)
{
  g_autofree char *resolved = mbd_instance_resolve_repository_path (
      request->instance, request->repository, request->path, error);
  if (resolved == NULL)
    return NULL;

  g_autoptr (Reply) reply = g_new0 (Reply, 1);
  /* O_NONBLOCK: opening a FIFO must not wait for a writer; it changes nothing for the
   * regular files that are served */
  reply->fd = open (resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (reply->fd < 0)
    return set_errno_error (request, error);
  struct stat st;
  if (fstat (reply->fd, &st) != 0)
    return set_errno_error (request, error);
  if (!S_ISREG (st.st_mode))
    {
      /* directories are not listed */
      g_set_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND,
                   "'%s' in repository '%s' is not a file (directories are not listed)",
                   request->path, request->repository);
      return NULL;
    }
  reply->size = st.st_size;
  reply->modified = g_date_time_new_from_unix_utc (st.st_mtim.tv_sec);
  guint8 head[SNIFF_SIZE];
  ssize_t n = pread (reply->fd, head, sizeof head, 0);
  reply->content_type = content_type_for (resolved, head, n > 0 ? (gsize) n : 0);

  decide (request, reply);
  if (reply->status == SOUP_STATUS_PARTIAL_CONTENT && lseek (reply->fd, reply->start, SEEK_SET) < 0)
    return set_errno_error (request, error);
  return g_steal_pointer (&reply);
}

static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  Reply *reply = open_reply (task_data, &error);

  if (reply == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, reply, (GDestroyNotify) reply_free);
}

/* One request from the handler to the end of its body: shared by the message's signal handlers
 * (one reference, dropped on "finished"), the file lookup and the pending read. The message
 * can finish (client gone) at any of these points. */
typedef struct
{
  SoupServerMessage *msg;    /* (owned) */
  GInputStream *stream;      /* (owned) */
  GCancellable *cancellable; /* (owned) */
  goffset remaining;
  gboolean reading, finished;
  gulong wrote_chunk_id, finished_id;
} Transfer;

static void
transfer_clear (Transfer *transfer)
{
  g_clear_object (&transfer->msg);
  g_clear_object (&transfer->stream);
  g_clear_object (&transfer->cancellable);
}

static void
transfer_unref (Transfer *transfer)
{
  g_rc_box_release_full (transfer, (GDestroyNotify) transfer_clear);
}

static void read_next (Transfer *transfer);

static void
chunk_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Transfer *transfer = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes
             = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);

  transfer->reading = FALSE;
  if (transfer->finished)
    {
      transfer_unref (transfer);
      return;
    }

  SoupMessageBody *body = soup_server_message_get_response_body (transfer->msg);
  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      /* read error or the file shrank: the body ends short, the client sees a truncated
       * transfer, not wrong data */
      g_printerr ("mbd-server: %s: %s\n",
                  g_uri_get_path (soup_server_message_get_uri (transfer->msg)),
                  error != NULL ? error->message : "file shrank while being sent");
      soup_message_body_complete (body);
    }
  else
    {
      transfer->remaining -= g_bytes_get_size (bytes);
      soup_message_body_append_bytes (body, bytes);
      if (transfer->remaining <= 0)
        soup_message_body_complete (body);
    }
  soup_server_message_unpause (transfer->msg);
  transfer_unref (transfer);
}

static void
read_next (Transfer *transfer)
{
  if (transfer->reading || transfer->finished || transfer->remaining <= 0)
    return;
  transfer->reading = TRUE;
  g_input_stream_read_bytes_async (transfer->stream, MIN (transfer->remaining, CHUNK_SIZE),
                                   G_PRIORITY_DEFAULT, transfer->cancellable, chunk_read,
                                   g_rc_box_acquire (transfer));
}

static void
on_wrote_chunk (SoupServerMessage *msg, gpointer user_data)
{
  read_next (user_data);
}

static void
on_finished (SoupServerMessage *msg, gpointer user_data)
{
  Transfer *transfer = user_data;

  transfer->finished = TRUE;
  g_cancellable_cancel (transfer->cancellable);
  if (transfer->wrote_chunk_id != 0)
    g_signal_handler_disconnect (msg, transfer->wrote_chunk_id);
  g_signal_handler_disconnect (msg, transfer->finished_id);
  transfer_unref (transfer);
}

static Transfer *
transfer_new (SoupServerMessage *msg)
{
  Transfer *transfer = g_rc_box_new0 (Transfer);

  transfer->msg = g_object_ref (msg);
  transfer->cancellable = g_cancellable_new ();
  transfer->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_finished), transfer);
  return transfer;
}

static void
start_transfer (Transfer *transfer, Reply *reply)
{
  SoupMessageBody *body = soup_server_message_get_response_body (transfer->msg);

  transfer->stream = g_unix_input_stream_new (reply->fd, TRUE);
  reply->fd = -1;
  transfer->remaining = reply->length;
  /* written chunks are dropped, so at most one chunk is held in memory */
  soup_message_body_set_accumulate (body, FALSE);
  transfer->wrote_chunk_id
      = g_signal_connect (transfer->msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), transfer);
  read_next (transfer);
}

static guint
status_for_error (const GError *error)
{
  if (g_error_matches (error, MBD_ERROR, MBD_ERROR_NOT_FOUND)
      || g_error_matches (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return SOUP_STATUS_NOT_FOUND;
  if (g_error_matches (error, MBD_ERROR, MBD_ERROR_UNSAFE_FILENAME)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS))
    return SOUP_STATUS_FORBIDDEN;
  return SOUP_STATUS_INTERNAL_SERVER_ERROR;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Transfer, transfer_unref)

static void
opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Transfer) transfer = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) reply = g_task_propagate_pointer (G_TASK (result), &error);
  SoupServerMessage *msg = transfer->msg;

  /* the client went away while the file was looked up */
  if (transfer->finished)
    return;
  if (reply == NULL)
    {
      mbd_server_problem (msg, status_for_error (error), error->message);
      soup_server_message_unpause (msg);
      return;
    }

  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree char *modified = soup_date_time_to_string (reply->modified, SOUP_DATE_HTTP);
  soup_message_headers_replace (headers, "Last-Modified", modified);
  soup_message_headers_replace (headers, "Accept-Ranges", "bytes");

  if (reply->status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE)
    {
      g_autofree char *detail = g_strdup_printf (
          "Range '%s' lies outside %s (%" G_GOFFSET_FORMAT " bytes)",
          soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Range"),
          g_uri_get_path (soup_server_message_get_uri (msg)), reply->size);
      mbd_server_problem (msg, reply->status, detail);
      g_autofree char *unsatisfied = g_strdup_printf ("bytes */%" G_GOFFSET_FORMAT, reply->size);
      soup_message_headers_replace (headers, "Content-Range", unsatisfied);
      soup_server_message_unpause (msg);
      return;
    }

  soup_server_message_set_status (msg, reply->status, NULL);
  if (reply->status == SOUP_STATUS_NOT_MODIFIED)
    {
      soup_server_message_unpause (msg);
      return;
    }
  soup_message_headers_set_content_type (headers, reply->content_type, NULL);
  soup_message_headers_set_content_length (headers, reply->length);
  if (reply->status == SOUP_STATUS_PARTIAL_CONTENT)
    soup_message_headers_set_content_range (headers, reply->start, reply->start + reply->length - 1,
                                            reply->size);

  if (strcmp (soup_server_message_get_method (msg), SOUP_METHOD_HEAD) == 0 || reply->length == 0)
    {
      soup_server_message_unpause (msg);
      return;
    }
  /* unpaused by the first chunk read */
  start_transfer (transfer, reply);
}

static void
repositories_handler (SoupServer *server,
                      SoupServerMessage *msg,
                      const char *path,
                      GHashTable *query,
                      gpointer user_data)
{
  const char *method = soup_server_message_get_method (msg);

  if (strcmp (method, SOUP_METHOD_GET) != 0 && strcmp (method, SOUP_METHOD_HEAD) != 0)
    {
      g_autofree char *detail = g_strdup_printf ("Method %s is not allowed on %s", method, path);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    "GET, HEAD");
      mbd_server_problem (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, detail);
      return;
    }

  /* "/repositories/<id>/<rest>"; "/repositories" itself and "/repositoriesX" are not ours */
  const char *rest = path + strlen (REPOSITORIES_PREFIX);
  if (*rest != '/' || rest[1] == '\0')
    {
      g_autofree char *detail
          = g_strdup_printf ("No such resource: %s (repositories are not listed)", path);
      mbd_server_problem (msg, SOUP_STATUS_NOT_FOUND, detail);
      return;
    }
  rest++;
  const char *slash = strchr (rest, '/');

  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  Request *request = g_new0 (Request, 1);
  request->instance = g_object_ref (user_data);
  request->repository = slash != NULL ? g_strndup (rest, slash - rest) : g_strdup (rest);
  request->path = g_strdup (slash != NULL ? slash + 1 : "");
  request->is_get = strcmp (method, SOUP_METHOD_GET) == 0;
  request->range = g_strdup (soup_message_headers_get_one (headers, "Range"));
  request->if_range = g_strdup (soup_message_headers_get_one (headers, "If-Range"));
  request->if_modified_since
      = g_strdup (soup_message_headers_get_one (headers, "If-Modified-Since"));

  soup_server_message_pause (msg);
  Transfer *transfer = transfer_new (msg);
  g_autoptr (GTask) task
             = g_task_new (NULL, transfer->cancellable, opened, g_rc_box_acquire (transfer));
  g_task_set_source_tag (task, repositories_handler);
  g_task_set_task_data (task, request, (GDestroyNotify) request_free);
  g_task_run_in_thread (task, open_thread);
}

void
mbd_server_repositories_add (SoupServer *server, MbdInstance *instance)
{
  soup_server_add_handler (server, REPOSITORIES_PREFIX, repositories_handler,
                           g_object_ref (instance), g_object_unref);
}
