/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "mbd-gnupg-private.h"
#include "mbd-instance-private.h"
#include "mbd-remote.h"
#include "mbd-source-private.h"
#include "mbd-util-private.h"

/**
 * MbdRemote:
 *
 * Another mbd or mini-buildd instance this one knows by its URL, as mini-buildd's Remote model:
 * it is added, prepared ([method@Mbd.Remote.prepare] fetches its key through its `pub_key`
 * call), checked ([method@Mbd.Remote.check]: its `status` answers and a GnuPG handshake
 * succeeds both ways) and activated; the instance's status lists its active remotes.
 *
 * A handshake proves both sides know each other: [method@Mbd.Instance.verify_handshake]
 * accepts a message signed by the key of a prepared or active remote, and the remote answers
 * only if our key is one of its remotes'.
 *
 * An #MbdRemote is a snapshot of its database row, updated by its own methods only. Do not use
 * it from another thread while one of its asynchronous operations runs.
 */
struct _MbdRemote
{
  GObject parent_instance;

  MbdInstance *instance; /* (owned) */
  gint64 id;
  char *url; /* (owned) */
  MbdRemoteState state;
  char *key;           /* (owned) (nullable) */
  char *fingerprint;   /* (owned) (nullable) */
  char *wake_command;  /* (owned) (nullable) */
  gint64 check_time;   /* 0: never checked */
  char *check_message; /* (owned) (nullable): why the last check failed */
};

G_DEFINE_FINAL_TYPE (MbdRemote, mbd_remote, G_TYPE_OBJECT)

/* The most a remote's answer may have. */
#define MAX_ANSWER_SIZE (1 << 20)

#define SELECT_REMOTE                                                                              \
  "SELECT id, url, status, key, fingerprint, wake_command, check_time, check_message "             \
  "FROM remotes "

static void
mbd_remote_finalize (GObject *object)
{
  MbdRemote *self = MBD_REMOTE (object);

  g_clear_object (&self->instance);
  g_free (self->url);
  g_free (self->key);
  g_free (self->fingerprint);
  g_free (self->wake_command);
  g_free (self->check_message);
  G_OBJECT_CLASS (mbd_remote_parent_class)->finalize (object);
}

static void
mbd_remote_class_init (MbdRemoteClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_remote_finalize;
}

static void
mbd_remote_init (MbdRemote *self)
{
}

/**
 * mbd_remote_state_to_string:
 * @state: a state
 *
 * The name of @state: `added`, `prepared` or `active`.
 *
 * Returns: (transfer none): a static string
 */
const char *
mbd_remote_state_to_string (MbdRemoteState state)
{
  switch (state)
    {
    case MBD_REMOTE_STATE_ADDED:
      return "added";
    case MBD_REMOTE_STATE_PREPARED:
      return "prepared";
    case MBD_REMOTE_STATE_ACTIVE:
      return "active";
    default:
      return "unknown";
    }
}

/**
 * mbd_remote_get_instance:
 * @self: a remote
 *
 * The instance that knows the remote.
 *
 * Returns: (transfer none): the instance
 */
MbdInstance *
mbd_remote_get_instance (MbdRemote *self)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), NULL);
  return self->instance;
}

/**
 * mbd_remote_get_url:
 * @self: a remote
 *
 * The remote's URL (`http://host:port` or `https://...`, without a trailing slash), as its
 * status lists it.
 *
 * Returns: (transfer none): the URL
 */
const char *
mbd_remote_get_url (MbdRemote *self)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), NULL);
  return self->url;
}

/**
 * mbd_remote_get_state:
 * @self: a remote
 *
 * Where the remote is in its life: added, prepared or active.
 *
 * Returns: the state
 */
MbdRemoteState
mbd_remote_get_state (MbdRemote *self)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), MBD_REMOTE_STATE_ADDED);
  return self->state;
}

/**
 * mbd_remote_get_key:
 * @self: a remote
 *
 * The remote's ASCII-armored public key as its `pub_key` call gave it.
 *
 * Returns: (transfer none) (nullable): the key, or %NULL until the remote is prepared
 */
const char *
mbd_remote_get_key (MbdRemote *self)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), NULL);
  return self->key;
}

/**
 * mbd_remote_get_fingerprint:
 * @self: a remote
 *
 * The fingerprint of the remote's key.
 *
 * Returns: (transfer none) (nullable): the fingerprint, or %NULL until the remote is prepared
 */
const char *
mbd_remote_get_fingerprint (MbdRemote *self)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), NULL);
  return self->fingerprint;
}

/**
 * mbd_remote_get_wake_command:
 * @self: a remote
 *
 * The command line (split as a shell would, run without a shell) that wakes the remote, such
 * as `wakeonlan 01:02:03:04:05:06`.
 *
 * Returns: (transfer none) (nullable): the command, or %NULL if none is set
 */
const char *
mbd_remote_get_wake_command (MbdRemote *self)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), NULL);
  return self->wake_command;
}

/**
 * mbd_remote_get_check_time:
 * @self: a remote
 *
 * When the remote was last checked.
 *
 * Returns: seconds since the epoch, or 0 if it was never checked
 */
gint64
mbd_remote_get_check_time (MbdRemote *self)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), 0);
  return self->check_time;
}

/**
 * mbd_remote_get_check_message:
 * @self: a remote
 *
 * Why the remote's last check failed.
 *
 * Returns: (transfer none) (nullable): the reason, or %NULL if the last check succeeded (or
 *   there was none)
 */
const char *
mbd_remote_get_check_message (MbdRemote *self)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), NULL);
  return self->check_message;
}

/* -- the store ---------------------------------------------------------------------------- */

static MbdDb *
db_of (MbdInstance *instance, GError **error)
{
  MbdDb *db = mbd_instance_get_db (instance);
  if (db == NULL)
    mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s: the instance is not open",
               mbd_instance_get_home (instance));
  return db;
}

static char *
column_dup (sqlite3_stmt *stmt, int column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

static MbdRemote *
remote_from_row (MbdInstance *instance, sqlite3_stmt *stmt)
{
  MbdRemote *self = g_object_new (MBD_TYPE_REMOTE, NULL);

  self->instance = g_object_ref (instance);
  self->id = sqlite3_column_int64 (stmt, 0);
  self->url = column_dup (stmt, 1);
  self->state = sqlite3_column_int (stmt, 2);
  self->key = column_dup (stmt, 3);
  self->fingerprint = column_dup (stmt, 4);
  self->wake_command = column_dup (stmt, 5);
  self->check_time = sqlite3_column_int64 (stmt, 6);
  self->check_message = column_dup (stmt, 7);
  return self;
}

/* @url as stored: an http(s) URL with a host, no user, query or fragment, no trailing slash. */
static char *
normalize_url (const char *url, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, &local);

  if (uri == NULL)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "remote URL '%s' is not a URL: %s", url,
                 local->message);
      return NULL;
    }
  const char *scheme = g_uri_get_scheme (uri);
  if ((g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
      || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'
      || g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL
      || g_uri_get_fragment (uri) != NULL)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "remote URL '%s' is not an http:// or https:// URL of a host (without user, "
                 "query or fragment), such as http://host:8066",
                 url);
      return NULL;
    }
  char *text = g_uri_to_string (uri);
  gsize len = strlen (text);
  while (len > 0 && text[len - 1] == '/')
    text[--len] = '\0';
  return text;
}

static MbdRemote *
lookup_normalized (MbdInstance *instance, const char *url, GError **error)
{
  MbdDb *db = db_of (instance, error);
  if (db == NULL)
    return NULL;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db, SELECT_REMOTE "WHERE url = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, url, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return remote_from_row (instance, stmt);
  if (rc == SQLITE_DONE)
    mbd_throw (error, MBD_ERROR_NOT_FOUND, "No remote %s (add it with mbd remote add %s)", url,
               url);
  else
    mbd_db_throw (db, rc, "looking up a remote", error);
  return NULL;
}

/**
 * mbd_instance_add_remote:
 * @instance: an open instance
 * @url: the remote's URL, `http://host:port` or `https://...`
 * @error: return location for an error
 *
 * Adds a remote in state %MBD_REMOTE_STATE_ADDED. Prepare it next.
 *
 * Returns: (transfer full): the remote, or %NULL with %MBD_ERROR_INVALID_ARGUMENT for a URL
 *   that is not http(s), %MBD_ERROR_EXISTS if the remote is known already
 */
MbdRemote *
mbd_instance_add_remote (MbdInstance *instance, const char *url, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (url != NULL, NULL);

  g_autofree char *normalized = normalize_url (url, error);
  if (normalized == NULL)
    return NULL;
  MbdDb *db = db_of (instance, error);
  if (db == NULL)
    return NULL;
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "INSERT INTO remotes (url, status) VALUES (?, 0)", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, normalized, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      if ((rc & 0xff) == SQLITE_CONSTRAINT)
        mbd_throw (error, MBD_ERROR_EXISTS, "Remote %s exists already", normalized);
      else
        mbd_db_throw (db, rc, "adding a remote", error);
      return NULL;
    }
  return lookup_normalized (instance, normalized, error);
}

/**
 * mbd_instance_lookup_remote:
 * @instance: an open instance
 * @url: the remote's URL (a trailing slash does not matter)
 * @error: return location for an error
 *
 * Looks a remote up by its URL.
 *
 * Returns: (transfer full): the remote, or %NULL with %MBD_ERROR_NOT_FOUND
 */
MbdRemote *
mbd_instance_lookup_remote (MbdInstance *instance, const char *url, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (url != NULL, NULL);

  g_autofree char *normalized = normalize_url (url, error);
  if (normalized == NULL)
    return NULL;
  return lookup_normalized (instance, normalized, error);
}

static GPtrArray *
list_where (MbdInstance *instance, const char *where, GError **error)
{
  MbdDb *db = db_of (instance, error);
  if (db == NULL)
    return NULL;
  g_autofree char *sql = g_strconcat (SELECT_REMOTE, where, " ORDER BY url", NULL);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db, sql, error);
  if (stmt == NULL)
    return NULL;
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, remote_from_row (instance, stmt));
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db, rc, "listing remotes", error);
      return NULL;
    }
  return g_steal_pointer (&list);
}

/**
 * mbd_instance_list_remotes:
 * @instance: an open instance
 * @error: return location for an error
 *
 * Lists the remotes in any state, ordered by URL.
 *
 * Returns: (transfer container) (element-type Mbd.Remote): the remotes, or %NULL with
 *   %MBD_ERROR_DATABASE
 */
GPtrArray *
mbd_instance_list_remotes (MbdInstance *instance, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  return list_where (instance, "", error);
}

/**
 * mbd_instance_remove_remote:
 * @instance: an open instance
 * @url: the remote's URL
 * @error: return location for an error
 *
 * Forgets a remote and its key: handshakes signed by it are refused from now on.
 *
 * Returns: %TRUE if removed; %FALSE with %MBD_ERROR_NOT_FOUND if there is no such remote
 */
gboolean
mbd_instance_remove_remote (MbdInstance *instance, const char *url, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), FALSE);
  g_return_val_if_fail (url != NULL, FALSE);

  g_autoptr (MbdRemote) remote = mbd_instance_lookup_remote (instance, url, error);
  if (remote == NULL)
    return FALSE;
  MbdDb *db = db_of (instance, error);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db, "DELETE FROM remotes WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, remote->id);
  return mbd_db_step_done (db, stmt, error);
}

/* Writes the row's mutable columns from @self. */
static gboolean
store (MbdRemote *self, GError **error)
{
  MbdDb *db = db_of (self->instance, error);
  if (db == NULL)
    return FALSE;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "UPDATE remotes SET status = ?, key = ?, fingerprint = ?, wake_command = ?, "
      "check_time = ?, check_message = ? WHERE id = ?",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, self->state);
  sqlite3_bind_text (stmt, 2, self->key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, self->fingerprint, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, self->wake_command, -1, SQLITE_TRANSIENT);
  if (self->check_time != 0)
    sqlite3_bind_int64 (stmt, 5, self->check_time);
  else
    sqlite3_bind_null (stmt, 5);
  sqlite3_bind_text (stmt, 6, self->check_message, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 7, self->id);
  if (!mbd_db_step_done (db, stmt, error))
    return FALSE;
  if (sqlite3_changes (mbd_db_get_handle (db)) == 0)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND, "Remote %s was removed meanwhile", self->url);
  return TRUE;
}

/**
 * mbd_remote_set_wake_command:
 * @self: a remote
 * @wake_command: (nullable): the command line, or %NULL (or empty) for none
 * @error: return location for an error
 *
 * Sets the command that wakes the remote (see [method@Mbd.Remote.wake]). It is split as a shell
 * would split it and run without a shell.
 *
 * Returns: %TRUE if stored; %FALSE with %MBD_ERROR_INVALID_ARGUMENT if the command cannot be
 *   split
 */
gboolean
mbd_remote_set_wake_command (MbdRemote *self, const char *wake_command, GError **error)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), FALSE);

  if (wake_command != NULL && *wake_command == '\0')
    wake_command = NULL;
  if (wake_command != NULL)
    {
      g_auto (GStrv) argv = NULL;
      g_autoptr (GError) local = NULL;
      if (!g_shell_parse_argv (wake_command, NULL, &argv, &local))
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "wake command '%s' of %s: %s",
                          wake_command, self->url, local->message);
    }
  g_free (self->wake_command);
  self->wake_command = g_strdup (wake_command);
  return store (self, error);
}

/* -- HTTP --------------------------------------------------------------------------------- */

/* Calls @call on the remote at @url with output=json and @args (name, value pairs, NULL
 * terminated) and returns the parsed answer. A problem answer (RFC 7807) becomes an error naming
 * its detail. */
static JsonNode *
call_api (const char *url,
          const char *call,
          const char *const *args,
          GCancellable *cancellable,
          GError **error)
{
  g_autoptr (GString) uri = g_string_new (url);
  g_string_append_printf (uri, "/mini_buildd/api/%s/?output=json", call);
  for (guint i = 0; args != NULL && args[i] != NULL && args[i + 1] != NULL; i += 2)
    {
      g_string_append_printf (uri, "&%s=", args[i]);
      g_string_append_uri_escaped (uri, args[i + 1], NULL, FALSE);
    }
  g_autoptr (SoupMessage) message = soup_message_new ("GET", uri->str);
  if (message == NULL)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "'%s' is not a valid URL", uri->str);
      return NULL;
    }
  g_autoptr (GProxyResolver) proxy_resolver = mbd_proxy_resolver_from_environment ();
  g_autoptr (SoupSession) session = soup_session_new_with_options (
      "timeout", MBD_REMOTE_TIMEOUT, "user-agent", "mbd/" MBD_VERSION, "proxy-resolver",
      proxy_resolver, NULL);
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read (session, message, cancellable, &local);
  if (body == NULL)
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local));
      else
        mbd_throw (error, MBD_ERROR_UNREACHABLE, "Remote %s: API call %s: %s", url, call,
                   local->message);
      return NULL;
    }
  if (g_bytes_get_size (body) > MAX_ANSWER_SIZE)
    {
      mbd_throw (error, MBD_ERROR_TOO_LARGE,
                 "Remote %s: API call %s: the answer has more than %d bytes", url, call,
                 MAX_ANSWER_SIZE);
      return NULL;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  gboolean parsed = json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                                g_bytes_get_size (body), &local);
  guint status = soup_message_get_status (message);
  if (status != SOUP_STATUS_OK)
    {
      const char *detail = NULL;
      JsonNode *root = parsed ? json_parser_get_root (parser) : NULL;
      if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
        detail = json_object_get_string_member_with_default (json_node_get_object (root), "detail",
                                                             NULL);
      MbdError code = MBD_ERROR_FAILED;
      if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
        code = MBD_ERROR_PERMISSION_DENIED;
      else if (status == SOUP_STATUS_NOT_FOUND)
        code = MBD_ERROR_NOT_FOUND;
      else if (status == SOUP_STATUS_BAD_REQUEST)
        code = MBD_ERROR_REJECTED;
      else if (status >= 500 || status < 100)
        code = MBD_ERROR_UNREACHABLE;
      mbd_throw (error, code, "Remote %s: API call %s: HTTP %u %s%s%s", url, call, status,
                 soup_status_get_phrase (status), detail != NULL ? ": " : "",
                 detail != NULL ? detail : "");
      return NULL;
    }
  if (!parsed)
    {
      mbd_throw (error, MBD_ERROR_PARSE, "Remote %s: API call %s: the answer is not JSON: %s", url,
                 call, local->message);
      return NULL;
    }
  return json_node_copy (json_parser_get_root (parser));
}

/* The JSON string answer of @call. */
static char *
call_api_text (const char *url,
               const char *call,
               const char *const *args,
               GCancellable *cancellable,
               GError **error)
{
  g_autoptr (JsonNode) root = call_api (url, call, args, cancellable, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (root) || json_node_get_value_type (root) != G_TYPE_STRING)
    {
      mbd_throw (error, MBD_ERROR_PARSE, "Remote %s: API call %s: the answer is not a string", url,
                 call);
      return NULL;
    }
  return g_strdup (json_node_get_string (root));
}

/* As mini-buildd before prepare and check: a remote with a wake command that does not answer
 * its status is woken first (mini-buildd's defaults: 3 attempts 5 s apart). */
static gboolean
wake_if_needed (MbdRemote *self, GCancellable *cancellable, GError **error)
{
  if (self->wake_command == NULL)
    return TRUE;
  g_autofree char *status = mbd_remote_wake (self, 5, 3, cancellable, error);
  return status != NULL;
}

/* -- prepare ------------------------------------------------------------------------------ */

/**
 * mbd_remote_prepare:
 * @self: a remote
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Fetches the remote's key through its `pub_key` call and stores it with its fingerprint. A
 * remote that was not prepared yet, or whose key changed, becomes %MBD_REMOTE_STATE_PREPARED
 * and unchecked; otherwise the state stays. A remote with a wake command is woken first if it
 * does not answer ([method@Mbd.Remote.wake], 3 attempts 5 s apart).
 *
 * Blocks on the network; see [method@Mbd.Remote.prepare_async].
 *
 * Returns: %TRUE if prepared; %FALSE with %MBD_ERROR_UNREACHABLE (or the HTTP problem) if the
 *   remote does not answer, %MBD_ERROR_PARSE if its answer is not one OpenPGP key,
 *   %MBD_ERROR_INVALID_ARGUMENT if the key is this instance's own
 */
gboolean
mbd_remote_prepare (MbdRemote *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), FALSE);

  if (!wake_if_needed (self, cancellable, error))
    return FALSE;
  g_autofree char *key = call_api_text (self->url, "pub_key", NULL, cancellable, error);
  if (key == NULL)
    return FALSE;
  g_autoptr (MbdGnupg) gnupg = mbd_gnupg_new_temporary (error);
  if (gnupg == NULL)
    return FALSE;
  g_autoptr (GBytes) keydata = g_bytes_new (key, strlen (key));
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) fingerprints = mbd_gnupg_import_keys (gnupg, keydata, cancellable, &local);
  if (fingerprints == NULL || g_strv_length (fingerprints) != 1)
    return mbd_throw (error, MBD_ERROR_PARSE,
                      "Remote %s: its pub_key answer is not one OpenPGP public key%s%s", self->url,
                      local != NULL ? ": " : "", local != NULL ? local->message : "");
  const char *own = mbd_instance_get_fingerprint (self->instance);
  if (own != NULL && g_ascii_strcasecmp (own, fingerprints[0]) == 0)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "Remote %s has this instance's own key %s: an instance is not its own "
                      "remote",
                      self->url, own);
  if (self->state == MBD_REMOTE_STATE_ADDED || self->fingerprint == NULL
      || g_ascii_strcasecmp (self->fingerprint, fingerprints[0]) != 0)
    {
      self->state = MBD_REMOTE_STATE_PREPARED;
      self->check_time = 0;
      g_clear_pointer (&self->check_message, g_free);
    }
  g_free (self->key);
  self->key = g_steal_pointer (&key);
  g_free (self->fingerprint);
  self->fingerprint = g_strdup (fingerprints[0]);
  return store (self, error);
}

typedef gboolean (*RemoteFunc) (MbdRemote *self, GCancellable *cancellable, GError **error);

static void
remote_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RemoteFunc func = task_data;
  g_autoptr (GError) error = NULL;

  if (func (source, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void
run_async (MbdRemote *self,
           RemoteFunc func,
           gpointer source_tag,
           GCancellable *cancellable,
           GAsyncReadyCallback callback,
           gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, func, NULL);
  g_task_run_in_thread (task, remote_thread);
}

static gboolean
run_finish (MbdRemote *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * mbd_remote_prepare_async:
 * @self: a remote
 * @cancellable: (nullable): a cancellable
 * @callback: called on the caller's main context when done
 * @user_data: data for @callback
 *
 * Runs [method@Mbd.Remote.prepare] in a worker thread.
 */
void
mbd_remote_prepare_async (MbdRemote *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (MBD_IS_REMOTE (self));
  run_async (self, mbd_remote_prepare, mbd_remote_prepare_async, cancellable, callback, user_data);
}

/**
 * mbd_remote_prepare_finish:
 * @self: a remote
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Mbd.Remote.prepare_async].
 *
 * Returns: %TRUE if prepared, see [method@Mbd.Remote.prepare]
 */
gboolean
mbd_remote_prepare_finish (MbdRemote *self, GAsyncResult *result, GError **error)
{
  return run_finish (self, result, mbd_remote_prepare_async, error);
}

/* -- status, handshake, check ------------------------------------------------------------- */

/* The remote's status as a JSON object (checked to have a numeric load). */
static JsonNode *
fetch_status (MbdRemote *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonNode) root = call_api (self->url, "status", NULL, cancellable, error);
  if (root == NULL)
    return NULL;
  JsonNode *load = JSON_NODE_HOLDS_OBJECT (root)
                       ? json_object_get_member (json_node_get_object (root), "load")
                       : NULL;
  if (load == NULL || !JSON_NODE_HOLDS_VALUE (load)
      || (json_node_get_value_type (load) != G_TYPE_DOUBLE
          && json_node_get_value_type (load) != G_TYPE_INT64))
    {
      mbd_throw (error, MBD_ERROR_PARSE,
                 "Remote %s: its status answer is not an object with a numeric 'load'", self->url);
      return NULL;
    }
  return g_steal_pointer (&root);
}

/**
 * mbd_remote_fetch_status:
 * @self: a remote
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Calls the remote's `status`. Blocks on the network.
 *
 * Returns: (transfer full): the JSON object the remote answered, or %NULL with
 *   %MBD_ERROR_UNREACHABLE (or the HTTP problem), %MBD_ERROR_PARSE if it is not a status
 */
char *
mbd_remote_fetch_status (MbdRemote *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), NULL);

  g_autoptr (JsonNode) root = fetch_status (self, cancellable, error);
  if (root == NULL)
    return NULL;
  return json_to_string (root, FALSE);
}

/**
 * mbd_instance_sign_handshake:
 * @instance: an open instance
 * @text: (nullable): the text to sign, or %NULL for %MBD_REMOTE_HANDSHAKE_MESSAGE
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Clear-signs a handshake message with the instance's key: what a check sends to a remote's
 * `handshake` call, and what that call answers.
 *
 * Returns: (transfer full): the clear-signed message, or %NULL with %MBD_ERROR_GPG
 */
GBytes *
mbd_instance_sign_handshake (MbdInstance *instance,
                             const char *text,
                             GCancellable *cancellable,
                             GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  if (text == NULL)
    text = MBD_REMOTE_HANDSHAKE_MESSAGE;
  g_autoptr (GBytes) data = g_bytes_new (text, strlen (text));
  return mbd_gnupg_sign_clear (mbd_instance_get_gnupg (instance), data, cancellable, error);
}

/* The primary key fingerprint of the key that has (sub)key @fingerprint in @gnupg. */
static char *
primary_fingerprint (MbdGnupg *gnupg, const char *fingerprint, GError **error)
{
  g_auto (gpgme_ctx_t) ctx = mbd_gnupg_new_context (gnupg, error);
  if (ctx == NULL)
    return NULL;
  g_auto (gpgme_key_t) key = NULL;
  gpgme_error_t err = gpgme_get_key (ctx, fingerprint, &key, 0);
  if (err != 0 || key == NULL || key->fpr == NULL)
    {
      mbd_throw (error, MBD_ERROR_UNKNOWN_SIGNER, "no key with fingerprint %s: %s", fingerprint,
                 gpgme_strerror (err));
      return NULL;
    }
  return g_strdup (key->fpr);
}

/**
 * mbd_instance_verify_handshake:
 * @instance: an open instance
 * @signed_message: a clear-signed message
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Verifies a remote's handshake: @signed_message must carry a valid signature by the key of a
 * prepared or active remote. This is what the `handshake` API call does before it answers with
 * the instance's own signed message ([method@Mbd.Instance.sign_handshake]).
 *
 * Returns: (transfer full): the remote whose key signed, or %NULL with %MBD_ERROR_UNSIGNED (not
 *   signed), %MBD_ERROR_BAD_SIGNATURE (forged or changed), %MBD_ERROR_UNKNOWN_SIGNER (signed by
 *   a key that is no prepared or active remote's)
 */
MbdRemote *
mbd_instance_verify_handshake (MbdInstance *instance,
                               GBytes *signed_message,
                               GCancellable *cancellable,
                               GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (signed_message != NULL, NULL);

  g_autoptr (GPtrArray) remotes
             = list_where (instance, "WHERE status >= 1 AND key IS NOT NULL", error);
  if (remotes == NULL)
    return NULL;
  g_autoptr (MbdGnupg) gnupg = mbd_gnupg_new_temporary (error);
  if (gnupg == NULL)
    return NULL;
  for (guint i = 0; i < remotes->len; i++)
    {
      MbdRemote *remote = g_ptr_array_index (remotes, i);
      g_autoptr (GBytes) key = g_bytes_new (remote->key, strlen (remote->key));
      g_auto (GStrv) imported = mbd_gnupg_import_keys (gnupg, key, cancellable, error);
      if (imported == NULL)
        {
          mbd_prefix_error (error, "the stored key of remote %s: ", remote->url);
          return NULL;
        }
    }
  g_autofree char *signer = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) text
             = mbd_gnupg_verify_clear (gnupg, signed_message, &signer, cancellable, &local);
  if (text == NULL && g_error_matches (local, MBD_ERROR, MBD_ERROR_UNKNOWN_SIGNER))
    {
      mbd_throw (error, MBD_ERROR_UNKNOWN_SIGNER,
                 "handshake: the message is signed by a key that is no prepared or active "
                 "remote's (this instance knows %u)",
                 remotes->len);
      return NULL;
    }
  if (text == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      mbd_prefix_error (error, "handshake: ");
      return NULL;
    }
  g_autofree char *primary = primary_fingerprint (gnupg, signer, error);
  if (primary == NULL)
    return NULL;
  for (guint i = 0; i < remotes->len; i++)
    {
      MbdRemote *remote = g_ptr_array_index (remotes, i);
      if (remote->fingerprint != NULL && g_ascii_strcasecmp (remote->fingerprint, primary) == 0)
        return g_object_ref (remote);
    }
  mbd_throw (error, MBD_ERROR_UNKNOWN_SIGNER,
             "handshake: signed by %s, which is no prepared or active remote's key", primary);
  return NULL;
}

/* Sends our handshake to the remote and verifies its answer against its key only. */
static gboolean
handshake (MbdRemote *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GBytes) ours = mbd_instance_sign_handshake (self->instance, NULL, cancellable, error);
  if (ours == NULL)
    return FALSE;
  g_autofree char *ours_text = g_strndup (g_bytes_get_data (ours, NULL), g_bytes_get_size (ours));
  const char *const args[] = { "signed_message", ours_text, NULL };
  g_autofree char *answer = call_api_text (self->url, "handshake", args, cancellable, error);
  if (answer == NULL)
    return FALSE;
  g_autoptr (MbdGnupg) gnupg = mbd_gnupg_new_temporary (error);
  if (gnupg == NULL)
    return FALSE;
  g_autoptr (GBytes) key = g_bytes_new (self->key, strlen (self->key));
  g_auto (GStrv) imported = mbd_gnupg_import_keys (gnupg, key, cancellable, error);
  if (imported == NULL)
    return mbd_prefix_error (error, "the stored key of remote %s: ", self->url);
  g_autoptr (GBytes) signed_answer = g_bytes_new (answer, strlen (answer));
  g_autoptr (GBytes) text = mbd_gnupg_verify_clear (gnupg, signed_answer, NULL, cancellable, error);
  if (text == NULL)
    return mbd_prefix_error (
        error, "Remote %s: its handshake answer (checked against its key %s): ", self->url,
        self->fingerprint);
  return TRUE;
}

static gboolean
check_remote (MbdRemote *self, GCancellable *cancellable, GError **error)
{
  if (!wake_if_needed (self, cancellable, error))
    return FALSE;
  g_autoptr (JsonNode) status = fetch_status (self, cancellable, error);
  if (status == NULL)
    return FALSE;
  double load = json_object_get_double_member (json_node_get_object (status), "load");
  if (load < 0)
    return mbd_throw (error, MBD_ERROR_FAILED,
                      "Remote %s is stopped (its status says load %.1f): start it", self->url,
                      load);
  return handshake (self, cancellable, error);
}

/**
 * mbd_remote_check:
 * @self: a prepared or active remote
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Checks the remote as mini-buildd does: its `status` must answer with a started engine (load
 * ≥ 0), and a handshake must succeed: the remote's `handshake` call gets our clear-signed
 * message (it answers only if our key is one of its prepared or active remotes'), and its
 * answer must carry a valid signature by the key fetched when preparing. A remote with a wake
 * command is woken first if it does not answer.
 *
 * The check's time and outcome are stored; a failing active remote is deactivated (to
 * %MBD_REMOTE_STATE_PREPARED). Blocks on the network; see [method@Mbd.Remote.check_async].
 *
 * Returns: %TRUE if the check passed; %FALSE with %MBD_ERROR_INVALID_ARGUMENT if the remote is
 *   not prepared, %MBD_ERROR_UNREACHABLE, the remote's problem (%MBD_ERROR_REJECTED,
 *   %MBD_ERROR_PERMISSION_DENIED), or a verification error (%MBD_ERROR_BAD_SIGNATURE,
 *   %MBD_ERROR_UNKNOWN_SIGNER, %MBD_ERROR_UNSIGNED) of its answer
 */
gboolean
mbd_remote_check (MbdRemote *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), FALSE);

  if (self->state == MBD_REMOTE_STATE_ADDED || self->key == NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "Remote %s is not prepared: fetch its key first (mbd remote add)", self->url);
  g_autoptr (GError) local = NULL;
  gboolean ok = check_remote (self, cancellable, &local);
  if (!ok && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  self->check_time = g_get_real_time () / G_USEC_PER_SEC;
  g_free (self->check_message);
  self->check_message = ok ? NULL : g_strdup (local->message);
  if (!ok && self->state == MBD_REMOTE_STATE_ACTIVE)
    self->state = MBD_REMOTE_STATE_PREPARED;
  if (!store (self, error))
    return FALSE;
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}

/**
 * mbd_remote_check_async:
 * @self: a prepared or active remote
 * @cancellable: (nullable): a cancellable
 * @callback: called on the caller's main context when done
 * @user_data: data for @callback
 *
 * Runs [method@Mbd.Remote.check] in a worker thread.
 */
void
mbd_remote_check_async (MbdRemote *self,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_return_if_fail (MBD_IS_REMOTE (self));
  run_async (self, mbd_remote_check, mbd_remote_check_async, cancellable, callback, user_data);
}

/**
 * mbd_remote_check_finish:
 * @self: a remote
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Mbd.Remote.check_async].
 *
 * Returns: %TRUE if the check passed, see [method@Mbd.Remote.check]
 */
gboolean
mbd_remote_check_finish (MbdRemote *self, GAsyncResult *result, GError **error)
{
  return run_finish (self, result, mbd_remote_check_async, error);
}

/**
 * mbd_remote_activate:
 * @self: a remote
 * @error: return location for an error
 *
 * Activates a remote whose last check passed: the instance's status lists it from now on.
 *
 * Returns: %TRUE if active; %FALSE with %MBD_ERROR_INVALID_ARGUMENT if it is not prepared or its
 *   last check did not pass (the message says why)
 */
gboolean
mbd_remote_activate (MbdRemote *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), FALSE);

  if (self->state == MBD_REMOTE_STATE_ACTIVE)
    return TRUE;
  if (self->state != MBD_REMOTE_STATE_PREPARED)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "Remote %s is not prepared: fetch its key first (mbd remote add)", self->url);
  if (self->check_time == 0)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "Remote %s was not checked: check it first (mbd remote check)", self->url);
  if (self->check_message != NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "Remote %s failed its last check (%s): check it again", self->url,
                      self->check_message);
  self->state = MBD_REMOTE_STATE_ACTIVE;
  return store (self, error);
}

/**
 * mbd_remote_deactivate:
 * @self: a remote
 * @error: return location for an error
 *
 * Deactivates an active remote (back to %MBD_REMOTE_STATE_PREPARED: its handshakes are still
 * accepted). Does nothing to a remote that is not active.
 *
 * Returns: %TRUE on success; %FALSE with %MBD_ERROR_DATABASE
 */
gboolean
mbd_remote_deactivate (MbdRemote *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), FALSE);

  if (self->state != MBD_REMOTE_STATE_ACTIVE)
    return TRUE;
  self->state = MBD_REMOTE_STATE_PREPARED;
  return store (self, error);
}

/* -- wake --------------------------------------------------------------------------------- */

/* Seconds the wake command may run. */
#define WAKE_COMMAND_TIMEOUT 60

/* A wake in progress, driven on the caller's main context: status requests run in worker
 * threads, the wake command is a GSubprocess and the sleeps are timeouts, so no thread waits. */
typedef struct
{
  int sleep_seconds;
  int attempts;
  int attempt; /* status requests made after waking */
  gboolean woken;
  GSubprocess *process; /* (owned) (nullable): the wake command while it runs */
  GSource *kill_source; /* (owned) (nullable): its timeout */
  gboolean killed;
  GError *last; /* (owned) (nullable): the last status failure */
} WakeState;

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* Calls @func with @data after @seconds on @task's main context. */
static GSource *
add_timeout (GTask *task, int seconds, GSourceFunc func, gpointer data)
{
  GSource *source = g_timeout_source_new_seconds (seconds);
  g_source_set_callback (source, func, data, NULL);
  g_source_set_name (source, "mbd remote wake");
  g_source_attach (source, g_task_get_context (task));
  return source;
}

static void
wake_state_free (WakeState *state)
{
  g_clear_object (&state->process);
  clear_source (&state->kill_source);
  g_clear_error (&state->last);
  g_free (state);
}

static void wake_request_status (GTask *task);

static void
status_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  char *status = mbd_remote_fetch_status (source, cancellable, &error);

  if (status == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, status, g_free);
}

static gboolean
wake_sleep_done (gpointer user_data)
{
  wake_request_status (user_data);
  return G_SOURCE_REMOVE;
}

/* The next status request, or the final failure after the last attempt. */
static void
wake_next_attempt (GTask *task)
{
  WakeState *state = g_task_get_task_data (task);
  MbdRemote *self = g_task_get_source_object (task);

  if (state->attempt >= state->attempts)
    {
      g_task_return_new_error (
          task, MBD_ERROR, MBD_ERROR_UNREACHABLE,
          "Remote %s did not wake: no status after %s%d attempts %d s apart (last: %s)", self->url,
          self->wake_command != NULL ? "its wake command and " : "", state->attempts,
          state->sleep_seconds, state->last->message);
      g_object_unref (task);
      return;
    }
  if (state->attempt == 0 || state->sleep_seconds == 0)
    wake_request_status (task);
  else
    g_source_unref (add_timeout (task, state->sleep_seconds, wake_sleep_done, task));
}

static void
on_wake_command_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  WakeState *state = g_task_get_task_data (task);
  MbdRemote *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;

  clear_source (&state->kill_source);
  gboolean ok = g_subprocess_wait_check_finish (G_SUBPROCESS (source), result, &error);
  g_clear_object (&state->process);
  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  if (!ok || state->killed)
    {
      g_task_return_new_error (task, MBD_ERROR, MBD_ERROR_FAILED,
                               "wake command '%s' of %s failed: %s", self->wake_command, self->url,
                               state->killed ? "it did not end within 60 s (killed)"
                                             : error->message);
      g_object_unref (task);
      return;
    }
  wake_next_attempt (task);
}

static gboolean
on_wake_command_timeout (gpointer user_data)
{
  WakeState *state = user_data;

  state->killed = TRUE;
  g_subprocess_force_exit (state->process);
  return G_SOURCE_REMOVE;
}

static void
run_wake_command (GTask *task)
{
  WakeState *state = g_task_get_task_data (task);
  MbdRemote *self = g_task_get_source_object (task);
  g_auto (GStrv) argv = NULL;
  g_autoptr (GError) error = NULL;

  if (g_shell_parse_argv (self->wake_command, NULL, &argv, &error))
    state->process
        = g_subprocess_newv ((const char *const *) argv, G_SUBPROCESS_FLAGS_NONE, &error);
  if (state->process == NULL)
    {
      g_task_return_new_error (task, MBD_ERROR, MBD_ERROR_FAILED,
                               "wake command '%s' of %s failed: %s", self->wake_command, self->url,
                               error->message);
      g_object_unref (task);
      return;
    }
  state->kill_source = add_timeout (task, WAKE_COMMAND_TIMEOUT, on_wake_command_timeout, state);
  g_subprocess_wait_check_async (state->process, g_task_get_cancellable (task),
                                 on_wake_command_exited, task);
}

static void
on_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  WakeState *state = g_task_get_task_data (task);
  MbdRemote *self = MBD_REMOTE (source);
  g_autoptr (GError) error = NULL;
  char *status = g_task_propagate_pointer (G_TASK (result), &error);

  if (status != NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (status != NULL)
        g_task_return_pointer (task, status, g_free);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  g_clear_error (&state->last);
  state->last = g_steal_pointer (&error);
  if (state->woken)
    {
      state->attempt++;
      wake_next_attempt (task);
      return;
    }
  state->woken = TRUE;
  if (self->wake_command != NULL)
    run_wake_command (task);
  else
    wake_next_attempt (task);
}

static void
wake_request_status (GTask *task)
{
  g_autoptr (GTask) request = g_task_new (g_task_get_source_object (task),
                                          g_task_get_cancellable (task), on_status, task);
  g_task_set_source_tag (request, wake_request_status);
  g_task_run_in_thread (request, status_thread);
}

/**
 * mbd_remote_wake_async:
 * @self: a remote
 * @sleep_seconds: seconds between two attempts (mini-buildd's default: 5), 0 to 3600
 * @attempts: how often to ask for the remote's status after waking it (default: 3), 1 to 100
 * @cancellable: (nullable): a cancellable
 * @callback: called on the caller's main context when done
 * @user_data: data for @callback
 *
 * Wakes the remote, as mini-buildd's `wake` call: if its `status` does not answer, runs its wake
 * command (if it has one; killed after 60 s), then asks for its status up to @attempts times,
 * @sleep_seconds apart. The status requests run in worker threads; the command and the pauses
 * hold no thread.
 */
void
mbd_remote_wake_async (MbdRemote *self,
                       int sleep_seconds,
                       int attempts,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_return_if_fail (MBD_IS_REMOTE (self));

  GTask *task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_remote_wake_async);
  if (sleep_seconds < 0 || sleep_seconds > 3600 || attempts < 1 || attempts > 100)
    {
      g_task_return_new_error (task, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT,
                               "wake %s: sleep must be 0-3600 s and attempts 1-100 (got %d and %d)",
                               self->url, sleep_seconds, attempts);
      g_object_unref (task);
      return;
    }
  WakeState *state = g_new0 (WakeState, 1);
  state->sleep_seconds = sleep_seconds;
  state->attempts = attempts;
  g_task_set_task_data (task, state, (GDestroyNotify) wake_state_free);
  /* the task holds itself until it returns */
  wake_request_status (task);
}

/**
 * mbd_remote_wake_finish:
 * @self: a remote
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Mbd.Remote.wake_async].
 *
 * Returns: (transfer full): the remote's status (a JSON object), or %NULL with
 *   %MBD_ERROR_INVALID_ARGUMENT for a sleep or attempts out of range, %MBD_ERROR_FAILED if the
 *   wake command fails, %MBD_ERROR_UNREACHABLE if the remote never answered
 */
char *
mbd_remote_wake_finish (MbdRemote *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_remote_wake_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_wake_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref (result);
}

/**
 * mbd_remote_wake:
 * @self: a remote
 * @sleep_seconds: seconds between two attempts (mini-buildd's default: 5)
 * @attempts: how often to ask for the remote's status after waking it (default: 3)
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Runs [method@Mbd.Remote.wake_async] to its end on a main context of its own: blocks for up to
 * about @sleep_seconds × @attempts seconds plus the network timeouts.
 *
 * Returns: (transfer full): the remote's status (a JSON object), or %NULL with @error set as
 *   [method@Mbd.Remote.wake_finish] sets it
 */
char *
mbd_remote_wake (MbdRemote *self,
                 int sleep_seconds,
                 int attempts,
                 GCancellable *cancellable,
                 GError **error)
{
  g_return_val_if_fail (MBD_IS_REMOTE (self), NULL);

  g_autoptr (GMainContext) context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  g_autoptr (GAsyncResult) result = NULL;
  mbd_remote_wake_async (self, sleep_seconds, attempts, cancellable, on_wake_done, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  return mbd_remote_wake_finish (self, result, error);
}
