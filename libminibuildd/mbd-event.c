/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mbd-event-private.h"
#include "mbd-file-entry.h"
#include "mbd-instance-private.h"
#include "mbd-notify-private.h"
#include "mbd-util-private.h"

/**
 * MbdEvent:
 *
 * One thing that happened to a package, in mini-buildd's JSON shape:
 * `{"type", "distribution", "source", "version", "timestamp", "extra": {...}}`, the timestamp in
 * ISO 8601 UTC with microseconds. `extra` holds the upload's `timecode`, `key`, `bkey`,
 * `changes`, `architecture`, `maintainer` and `changed_by`, per type `buildrequests` or
 * `buildresults`, and for REJECTED and FAILED an `error` object in RFC 7807 form whose `detail`
 * is the reason ([method@Mbd.Event.get_reason]).
 */
struct _MbdEvent
{
  GObject parent_instance;

  MbdEventType type;
  char *distribution;
  char *source;
  char *version;
  GDateTime *timestamp;
  JsonObject *extra;
  gint64 id;
};

G_DEFINE_FINAL_TYPE (MbdEvent, mbd_event, G_TYPE_OBJECT)

static const char *const type_names[] = {
  "REJECTED", "BUILDING", "BUILT", "PACKAGING", "INSTALLED", "FAILED", "MIGRATED", "REMOVED", NULL,
};
#define N_TYPES (G_N_ELEMENTS (type_names) - 1)

/**
 * mbd_event_type_to_string:
 * @type: an event type
 *
 * Gives the name mini-buildd uses for an event type, such as `INSTALLED`.
 *
 * Returns: the name
 */
const char *
mbd_event_type_to_string (MbdEventType type)
{
  g_return_val_if_fail ((guint) type < N_TYPES, NULL);
  return type_names[type];
}

/**
 * mbd_event_type_from_string:
 * @name: an event type name such as `INSTALLED` (any case)
 * @out_type: (out): the type
 *
 * Parses an event type name.
 *
 * Returns: %TRUE on success; %FALSE with %MBD_ERROR_INVALID_ARGUMENT for an unknown name
 */
gboolean
mbd_event_type_from_string (const char *name, MbdEventType *out_type, GError **error)
{
  g_return_val_if_fail (name != NULL && out_type != NULL, FALSE);

  for (guint i = 0; i < N_TYPES; i++)
    if (g_ascii_strcasecmp (name, type_names[i]) == 0)
      {
        *out_type = (MbdEventType) i;
        return TRUE;
      }
  g_autofree char *known = g_strjoinv (", ", (char **) type_names);
  g_autofree char *q = mbd_utf8_excerpt (name, strlen (name), 40);
  return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "event type '%s' is unknown: use one of %s",
                    q, known);
}

static void
mbd_event_finalize (GObject *object)
{
  MbdEvent *self = MBD_EVENT (object);

  g_free (self->distribution);
  g_free (self->source);
  g_free (self->version);
  g_clear_pointer (&self->timestamp, g_date_time_unref);
  g_clear_pointer (&self->extra, json_object_unref);
  G_OBJECT_CLASS (mbd_event_parent_class)->finalize (object);
}

static void
mbd_event_class_init (MbdEventClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_event_finalize;
}

static void
mbd_event_init (MbdEvent *self)
{
  self->extra = json_object_new ();
}

/**
 * mbd_event_new:
 * @type: what happened
 * @distribution: (nullable): the distribution string
 * @source: (nullable): the source package
 * @version: (nullable): its version
 *
 * Creates an event stamped with the current time. It is stored and announced by
 * [method@Mbd.Events.add].
 *
 * Returns: (transfer full): a new event
 */
MbdEvent *
mbd_event_new (MbdEventType type, const char *distribution, const char *source, const char *version)
{
  g_return_val_if_fail ((guint) type < N_TYPES, NULL);

  MbdEvent *self = g_object_new (MBD_TYPE_EVENT, NULL);
  self->type = type;
  self->distribution = g_strdup (distribution);
  self->source = g_strdup (source);
  self->version = g_strdup (version);
  self->timestamp = g_date_time_new_now_utc ();
  return self;
}

static char *
member_dup_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node) || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (node));
}

/**
 * mbd_event_new_from_json:
 * @json: an event in mini-buildd's JSON shape, as [method@Mbd.Event.to_json] writes it
 *
 * Reads an event back from its JSON text.
 *
 * Returns: (transfer full): the event, or %NULL with %MBD_ERROR_PARSE (not a JSON object),
 *   %MBD_ERROR_MISSING_FIELD (no `type` or `timestamp`) or %MBD_ERROR_INVALID_ARGUMENT (an
 *   unknown type or a timestamp that is not ISO 8601 with a time zone)
 */
MbdEvent *
mbd_event_new_from_json (const char *json, GError **error)
{
  g_return_val_if_fail (json != NULL, NULL);

  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonNode) root = json_from_string (json, &local_error);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      mbd_throw (error, MBD_ERROR_PARSE, "event: not a JSON object%s%s",
                 local_error != NULL ? ": " : "", local_error != NULL ? local_error->message : "");
      return NULL;
    }
  JsonObject *object = json_node_get_object (root);
  g_autofree char *type_name = member_dup_string (object, "type");
  g_autofree char *stamp = member_dup_string (object, "timestamp");
  if (type_name == NULL || stamp == NULL)
    {
      mbd_throw (error, MBD_ERROR_MISSING_FIELD, "event: the string member '%s' is missing",
                 type_name == NULL ? "type" : "timestamp");
      return NULL;
    }
  MbdEventType type;
  if (!mbd_event_type_from_string (type_name, &type, error))
    return NULL;
  g_autoptr (GDateTime) timestamp = g_date_time_new_from_iso8601 (stamp, NULL);
  if (timestamp == NULL)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "event: timestamp '%s' is not ISO 8601 with a time zone", stamp);
      return NULL;
    }
  g_autoptr (MbdEvent) self = g_object_new (MBD_TYPE_EVENT, NULL);
  self->type = type;
  self->distribution = member_dup_string (object, "distribution");
  self->source = member_dup_string (object, "source");
  self->version = member_dup_string (object, "version");
  self->timestamp = g_date_time_to_utc (timestamp);
  JsonNode *extra = json_object_get_member (object, "extra");
  if (extra != NULL && JSON_NODE_HOLDS_OBJECT (extra))
    {
      json_object_unref (self->extra);
      self->extra = json_object_ref (json_node_get_object (extra));
    }
  return g_steal_pointer (&self);
}

/**
 * mbd_event_get_event_type:
 * @self: an event
 *
 * Gives what happened.
 *
 * Returns: the type
 */
MbdEventType
mbd_event_get_event_type (MbdEvent *self)
{
  g_return_val_if_fail (MBD_IS_EVENT (self), MBD_EVENT_REJECTED);
  return self->type;
}

/**
 * mbd_event_get_distribution:
 * @self: an event
 *
 * Gives the distribution string the event is about.
 *
 * Returns: (nullable): the distribution, or %NULL if unknown (such as a garbage upload)
 */
const char *
mbd_event_get_distribution (MbdEvent *self)
{
  g_return_val_if_fail (MBD_IS_EVENT (self), NULL);
  return self->distribution;
}

/**
 * mbd_event_get_source:
 * @self: an event
 *
 * Gives the source package the event is about.
 *
 * Returns: (nullable): the source package name, or %NULL if unknown
 */
const char *
mbd_event_get_source (MbdEvent *self)
{
  g_return_val_if_fail (MBD_IS_EVENT (self), NULL);
  return self->source;
}

/**
 * mbd_event_get_version:
 * @self: an event
 *
 * Gives the version of the source package the event is about.
 *
 * Returns: (nullable): the version, or %NULL if unknown
 */
const char *
mbd_event_get_version (MbdEvent *self)
{
  g_return_val_if_fail (MBD_IS_EVENT (self), NULL);
  return self->version;
}

/**
 * mbd_event_get_timestamp:
 * @self: an event
 *
 * Gives when the event happened, in UTC.
 *
 * Returns: (transfer none): the time
 */
GDateTime *
mbd_event_get_timestamp (MbdEvent *self)
{
  g_return_val_if_fail (MBD_IS_EVENT (self), NULL);
  return self->timestamp;
}

/**
 * mbd_event_get_id:
 * @self: an event
 *
 * Gives the event's row id in the instance database: events of one instance are numbered in the
 * order they were stored.
 *
 * Returns: the id, or 0 if the event is not stored
 */
gint64
mbd_event_get_id (MbdEvent *self)
{
  g_return_val_if_fail (MBD_IS_EVENT (self), 0);
  return self->id;
}

/**
 * mbd_event_get_extra:
 * @self: an event
 * @key: a member of `extra`, such as `changed_by`
 *
 * Gives a string member of the event's `extra` object.
 *
 * Returns: (nullable): the value, or %NULL if @key is missing or not a string
 */
const char *
mbd_event_get_extra (MbdEvent *self, const char *key)
{
  g_return_val_if_fail (MBD_IS_EVENT (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  JsonNode *node = json_object_get_member (self->extra, key);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/**
 * mbd_event_set_extra:
 * @self: an event that is not stored yet
 * @key: a member of `extra`
 * @value: (nullable): its string value, or %NULL to remove it
 *
 * Sets a string member of the event's `extra` object.
 */
void
mbd_event_set_extra (MbdEvent *self, const char *key, const char *value)
{
  g_return_if_fail (MBD_IS_EVENT (self));
  g_return_if_fail (key != NULL);

  if (value == NULL)
    json_object_remove_member (self->extra, key);
  else
    json_object_set_string_member (self->extra, key, value);
}

/**
 * mbd_event_get_reason:
 * @self: an event
 *
 * Gives why a package was rejected or failed: the `detail` of the event's `error` object.
 *
 * Returns: (nullable): the reason, or %NULL if the event has none
 */
const char *
mbd_event_get_reason (MbdEvent *self)
{
  g_return_val_if_fail (MBD_IS_EVENT (self), NULL);

  JsonNode *node = json_object_get_member (self->extra, "error");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  JsonObject *problem = json_node_get_object (node);
  JsonNode *detail = json_object_get_member (problem, "detail");
  if (detail == NULL || !JSON_NODE_HOLDS_VALUE (detail)
      || json_node_get_value_type (detail) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (detail);
}

/**
 * mbd_event_set_reason:
 * @self: an event that is not stored yet
 * @status: an HTTP status for the problem, such as 400 for a bad upload or 500 for a failure
 * @title: a short summary of the kind of problem
 * @detail: what exactly was wrong, naming the file or field
 *
 * Sets the event's `error` object (RFC 7807 form, as mini-buildd writes it).
 */
void
mbd_event_set_reason (MbdEvent *self, int status, const char *title, const char *detail)
{
  g_return_if_fail (MBD_IS_EVENT (self));
  g_return_if_fail (title != NULL && detail != NULL);

  JsonObject *problem = json_object_new ();
  json_object_set_string_member (problem, "type", "about:blank");
  json_object_set_int_member (problem, "status", status);
  json_object_set_string_member (problem, "title", title);
  json_object_set_string_member (problem, "detail", detail);
  json_object_set_string_member (problem, "instance", "about:blank");
  json_object_set_object_member (self->extra, "error", problem);
}

JsonObject *
mbd_event_get_extra_object (MbdEvent *self)
{
  return self->extra;
}

/* g_date_time_to_unix_usec() is newer than GLib 2.74. */
static gint64
to_unix_usec (GDateTime *time)
{
  return g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
}

static char *
format_timestamp (GDateTime *timestamp)
{
  return g_date_time_format (timestamp, "%Y-%m-%dT%H:%M:%S.%f+00:00");
}

/**
 * mbd_event_to_json:
 * @self: an event
 *
 * Writes the event as mini-buildd's event stream delivers it.
 *
 * Returns: (transfer full): the JSON text (one line)
 */
char *
mbd_event_to_json (MbdEvent *self)
{
  g_return_val_if_fail (MBD_IS_EVENT (self), NULL);

  g_autoptr (JsonBuilder) builder = json_builder_new ();
  const char *const names[] = { "distribution", "source", "version" };
  const char *values[] = { self->distribution, self->source, self->version };
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type_names[self->type]);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      json_builder_set_member_name (builder, names[i]);
      if (values[i] != NULL)
        json_builder_add_string_value (builder, values[i]);
      else
        json_builder_add_null_value (builder);
    }
  g_autofree char *stamp = format_timestamp (self->timestamp);
  json_builder_set_member_name (builder, "timestamp");
  json_builder_add_string_value (builder, stamp);
  json_builder_set_member_name (builder, "extra");
  g_autoptr (JsonNode) extra = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (extra, self->extra);
  json_builder_add_value (builder, g_steal_pointer (&extra));
  json_builder_end_object (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

/* ---- MbdEvents ------------------------------------------------------------------------------ */

/**
 * MbdEvents:
 *
 * The event log of an instance ([method@Mbd.Instance.get_events]): every [class@Mbd.Event] is a
 * row of the database (table `events`) and a JSON file
 * `<home>/events/<source>/<version>/<timecode>/<architecture>/<source>_<version>_<TYPE>.json`, as
 * mini-buildd keeps them, and is announced with [signal@Mbd.Events::event]. Each event also runs
 * the event hooks: the executables in `<home>/etc/event-hooks/` (names not starting with `_` or
 * `.`, not ending with `~`), in name order, each with the path of the event's JSON file as its
 * argument; they run on their own and a failure is only logged. Each event is also mailed as
 * the instance's mail settings say ([method@Mbd.Instance.list_mail_recipients]); a mail that
 * cannot be sent is only logged. [method@Mbd.Events.next_async] follows the log.
 */
struct _MbdEvents
{
  GObject parent_instance;

  MbdInstance *instance; /* (unowned): the instance owns its event log */
  GMutex lock;           /* guards waiters and each wait's check_scheduled */
  GPtrArray *waiters;    /* (owned): GTasks of mbd_events_next_async() */
  GFileMonitor *monitor; /* (owned) (nullable): the database's WAL, for other processes */
};

G_DEFINE_FINAL_TYPE (MbdEvents, mbd_events, G_TYPE_OBJECT)

enum
{
  SIGNAL_EVENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
mbd_events_finalize (GObject *object)
{
  MbdEvents *self = MBD_EVENTS (object);

  /* every wait holds a reference, so none is left here */
  g_ptr_array_unref (self->waiters);
  g_clear_object (&self->monitor);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (mbd_events_parent_class)->finalize (object);
}

static void
mbd_events_class_init (MbdEventsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_events_finalize;
  /**
   * MbdEvents::event:
   * @events: the event log
   * @event: the new event
   *
   * Emitted for each event once it is stored, in the thread that added it (the packager's: the
   * thread-default main context of the thread that created the instance's packager).
   */
  signals[SIGNAL_EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, MBD_TYPE_EVENT);
}

static void
mbd_events_init (MbdEvents *self)
{
  g_mutex_init (&self->lock);
  self->waiters = g_ptr_array_new ();
}

MbdEvents *
mbd_events_new_for_instance (MbdInstance *instance)
{
  MbdEvents *self = g_object_new (MBD_TYPE_EVENTS, NULL);

  self->instance = instance;
  return self;
}

static MbdDb *
events_db (MbdEvents *self, GError **error)
{
  if (self->instance == NULL)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "the instance of this event log is gone (closed while waiting for an event)");
      return NULL;
    }
  MbdDb *db = mbd_instance_get_db (self->instance);

  if (db == NULL)
    mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s: the instance is not open",
               mbd_instance_get_home (self->instance));
  return db;
}

gboolean
mbd_events_store (MbdEvents *self, MbdEvent *event, const char *package_key, GError **error)
{
  MbdDb *db = events_db (self, error);
  if (db == NULL)
    return FALSE;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "INSERT INTO events (type, distribution, source, version, package_key, timestamp, json)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      error);
  if (stmt == NULL)
    return FALSE;
  g_autofree char *json = mbd_event_to_json (event);
  sqlite3_bind_text (stmt, 1, type_names[event->type], -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, event->distribution, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, event->source, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, event->version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, package_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, to_unix_usec (event->timestamp));
  sqlite3_bind_text (stmt, 7, json, -1, SQLITE_TRANSIENT);
  if (!mbd_db_step_done (db, stmt, error))
    return FALSE;
  event->id = sqlite3_last_insert_rowid (mbd_db_get_handle (db));
  return TRUE;
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* A path component from untrusted text: '_' for anything that is not a safe file name. */
static char *
safe_component (const char *text, const char *fallback)
{
  if (text == NULL || text[0] == '\0')
    return g_strdup (fallback);
  if (mbd_filename_is_safe (text, NULL))
    return g_strdup (text);
  g_autofree char *copy = g_strdup (text);
  for (char *p = copy; *p != '\0'; p++)
    if (*p == '/' || !g_ascii_isprint (*p))
      *p = '_';
  if (strcmp (copy, ".") == 0 || strcmp (copy, "..") == 0)
    return g_strdup (fallback);
  return g_steal_pointer (&copy);
}

static char *
event_file_path (MbdEvents *self, MbdEvent *event)
{
  g_autofree char *source = safe_component (event->source, "unknown");
  g_autofree char *version = safe_component (event->version, "unknown");
  const char *timecode = mbd_event_get_extra (event, "timecode");
  g_autofree char *stamp = NULL;
  if (timecode == NULL)
    timecode = stamp = g_date_time_format (event->timestamp, "%Y%m%d:%H%M%S:%f");
  g_autofree char *safe_timecode = safe_component (timecode, "unknown");
  const char *arch = mbd_event_get_extra (event, "architecture");
  g_autofree char *safe_arch = safe_component (arch, "source");
  g_autofree char *name
      = g_strdup_printf ("%s_%s_%s%s%s.json", source, version, type_names[event->type],
                         arch != NULL ? "_" : "", arch != NULL ? safe_arch : "");
  return g_build_filename (mbd_instance_get_home (self->instance), "events", source, version,
                           safe_timecode, safe_arch, name, NULL);
}

/* mini-buildd's rule for hook names: not starting with '_' or '.', not ending with '~'. */
static void wake_waiters (MbdEvents *self);

static gboolean
is_hook_name (const char *name)
{
  gsize len = strlen (name);

  return len > 0 && name[0] != '_' && name[0] != '.' && name[len - 1] != '~';
}

typedef struct
{
  GPtrArray *hooks; /* paths, in name order */
  guint next;
  char *json_path;
} HookRun;

static void
hook_run_free (HookRun *run)
{
  g_ptr_array_unref (run->hooks);
  g_free (run->json_path);
  g_free (run);
}

static void hook_done (GObject *source, GAsyncResult *result, gpointer user_data);

/* Starts the next hook of @run, one after the other as mini-buildd runs them; frees @run after
 * the last. */
static void
hook_run_next (HookRun *run)
{
  while (run->next < run->hooks->len)
    {
      const char *hook = run->hooks->pdata[run->next++];
      const char *argv[] = { hook, run->json_path, NULL };
      g_autoptr (GError) error = NULL;
      g_autoptr (GSubprocess) proc
                 = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_INHERIT, &error);
      if (proc != NULL)
        {
          g_subprocess_wait_check_async (proc, NULL, hook_done, run);
          return;
        }
      g_warning ("event hook %s: %s", hook, error->message);
    }
  hook_run_free (run);
}

static void
hook_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HookRun *run = user_data;
  g_autoptr (GError) error = NULL;

  if (!g_subprocess_wait_check_finish (G_SUBPROCESS (source), result, &error))
    g_warning ("event hook %s: %s", (char *) run->hooks->pdata[run->next - 1], error->message);
  hook_run_next (run);
}

/* Runs the executables of <home>/etc/event-hooks/ in name order with the event's JSON file as
 * their argument, as mini-buildd does; they run on their own, a failure is only logged. */
static void
run_hooks (MbdEvents *self, const char *json_path)
{
  g_autofree char *dir
      = g_build_filename (mbd_instance_get_home (self->instance), "etc", "event-hooks", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  HookRun *run = g_new0 (HookRun, 1);
  run->hooks = g_ptr_array_new_with_free_func (g_free);
  run->json_path = g_strdup (json_path);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (is_hook_name (name) && g_file_test (path, G_FILE_TEST_IS_REGULAR)
          && g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        g_ptr_array_add (run->hooks, g_steal_pointer (&path));
    }
  g_ptr_array_sort (run->hooks, compare_paths);
  hook_run_next (run);
}

void
mbd_events_detach (MbdEvents *self)
{
  self->instance = NULL;
  /* the waits end with an error instead of waiting for ever */
  wake_waiters (self);
}

void
mbd_events_publish (MbdEvents *self, MbdEvent *event)
{
  g_autofree char *path = event_file_path (self, event);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *json = mbd_event_to_json (event);
  g_autoptr (GError) error = NULL;

  if (g_mkdir_with_parents (dir, 0750) < 0)
    g_warning ("%s: cannot create: %s", dir, g_strerror (errno));
  else if (!g_file_set_contents (path, json, -1, &error))
    g_warning ("event file: %s", error->message);
  else
    run_hooks (self, path);
  mbd_notify_event (self->instance, event);
  g_signal_emit (self, signals[SIGNAL_EVENT], 0, event);
  wake_waiters (self);
  mbd_debug_kill_point (type_names[event->type]);
}

/**
 * mbd_events_add:
 * @self: an event log
 * @event: an event that is not stored yet
 *
 * Stores an event (database row and JSON file) and emits [signal@Mbd.Events::event].
 *
 * Returns: %TRUE if stored; %FALSE with %MBD_ERROR_DATABASE or %MBD_ERROR_BUSY
 */
gboolean
mbd_events_add (MbdEvents *self, MbdEvent *event, GError **error)
{
  g_return_val_if_fail (MBD_IS_EVENTS (self), FALSE);
  g_return_val_if_fail (MBD_IS_EVENT (event), FALSE);
  g_return_val_if_fail (event->id == 0, FALSE);

  if (!mbd_events_store (self, event, NULL, error))
    return FALSE;
  mbd_events_publish (self, event);
  return TRUE;
}

/* The event of a row (id, json). */
static MbdEvent *
event_from_row (sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  MbdEvent *event
      = mbd_event_new_from_json ((const char *) sqlite3_column_text (stmt, 1), &local_error);

  if (event == NULL)
    {
      mbd_throw (error, MBD_ERROR_DATABASE, "event %" G_GINT64_FORMAT ": %s",
                 (gint64) sqlite3_column_int64 (stmt, 0), local_error->message);
      return NULL;
    }
  event->id = sqlite3_column_int64 (stmt, 0);
  return event;
}

static GPtrArray *
query_events (MbdEvents *self, const char *sql, const char *text, gint64 number, GError **error)
{
  MbdDb *db = events_db (self, error);
  if (db == NULL)
    return NULL;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db, sql, error);
  if (stmt == NULL)
    return NULL;
  if (text != NULL)
    sqlite3_bind_text (stmt, 1, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_int64 (stmt, 1, number);
  g_autoptr (GPtrArray) events = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      MbdEvent *event = event_from_row (stmt, error);
      if (event == NULL)
        return NULL;
      g_ptr_array_add (events, event);
    }
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db, rc, "cannot list the events", error);
      return NULL;
    }
  return g_steal_pointer (&events);
}

/**
 * mbd_events_list_after:
 * @self: an event log
 * @after: (nullable): list only events later than this time; %NULL for all
 *
 * Lists the stored events, oldest first, as mini-buildd's `events.attach?after=` replays them.
 *
 * Returns: (transfer container) (element-type Mbd.Event): the events, or %NULL with @error set
 */
GPtrArray *
mbd_events_list_after (MbdEvents *self, GDateTime *after, GError **error)
{
  g_return_val_if_fail (MBD_IS_EVENTS (self), NULL);

  gint64 usec = after != NULL ? to_unix_usec (after) : G_MININT64;
  return query_events (self, "SELECT id, json FROM events WHERE timestamp > ?1 ORDER BY id", NULL,
                       usec, error);
}

GPtrArray *
mbd_events_list_for_package (MbdEvents *self, const char *package_key, GError **error)
{
  return query_events (self, "SELECT id, json FROM events WHERE package_key = ?1 ORDER BY id",
                       package_key, 0, error);
}

/* ---- following the log --------------------------------------------------------------------- */

typedef struct
{
  MbdEvents *events; /* (owned) */
  gint64 after_id;
  gint64 after_usec; /* G_MININT64: no time limit */
  gulong cancelled_id;
  gboolean check_scheduled; /* guarded by events->lock */
} Wait;

static void
wait_free (Wait *wait)
{
  g_object_unref (wait->events);
  g_free (wait);
}

/* The first stored event after the wait's id and time, or %NULL with @error unset if none. */
static MbdEvent *
first_event_after (MbdEvents *self, gint64 after_id, gint64 after_usec, GError **error)
{
  MbdDb *db = events_db (self, error);
  if (db == NULL)
    return NULL;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT id, json FROM events WHERE id > ?1 AND timestamp > ?2 ORDER BY id LIMIT 1",
      error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, after_id);
  sqlite3_bind_int64 (stmt, 2, after_usec);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return NULL;
  if (rc != SQLITE_ROW)
    {
      mbd_db_throw (db, rc, "cannot read the events", error);
      return NULL;
    }
  return event_from_row (stmt, error);
}

static gboolean
last_event_id (MbdEvents *self, gint64 *out_id, GError **error)
{
  MbdDb *db = events_db (self, error);
  if (db == NULL)
    return FALSE;
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "SELECT COALESCE(MAX(id), 0) FROM events", error);
  if (stmt == NULL)
    return FALSE;
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      mbd_db_throw (db, rc, "cannot read the events", error);
      return FALSE;
    }
  *out_id = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* Runs on the wait's own main context: completes the task if its event is there (or it was
 * cancelled), else leaves it waiting. */
static gboolean
check_wait (gpointer user_data)
{
  GTask *task = user_data;
  Wait *wait = g_task_get_task_data (task);
  MbdEvents *self = wait->events;

  g_mutex_lock (&self->lock);
  wait->check_scheduled = FALSE;
  gboolean waiting = g_ptr_array_find (self->waiters, task, NULL);
  g_mutex_unlock (&self->lock);
  if (!waiting)
    return G_SOURCE_REMOVE;

  g_autoptr (GError) error = NULL;
  g_autoptr (MbdEvent) event = NULL;
  if (!g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    {
      event = first_event_after (self, wait->after_id, wait->after_usec, &error);
      if (event == NULL && error == NULL)
        return G_SOURCE_REMOVE;
    }
  g_mutex_lock (&self->lock);
  g_ptr_array_remove (self->waiters, task);
  g_mutex_unlock (&self->lock);
  g_cancellable_disconnect (g_task_get_cancellable (task), wait->cancelled_id);
  wait->cancelled_id = 0;
  if (event != NULL)
    g_task_return_pointer (task, g_steal_pointer (&event), g_object_unref);
  else
    g_task_return_error (task, g_steal_pointer (&error));
  g_object_unref (task); /* the waiters' reference */
  return G_SOURCE_REMOVE;
}

/* Schedules a check of @task on its context; called with self->lock held. */
static void
schedule_check_locked (GTask *task)
{
  Wait *wait = g_task_get_task_data (task);

  if (wait->check_scheduled)
    return;
  wait->check_scheduled = TRUE;
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, check_wait, g_object_ref (task), g_object_unref);
  g_source_set_static_name (source, "[mbd] event wait");
  g_source_attach (source, g_task_get_context (task));
  g_source_unref (source);
}

/* Something may have been stored: every wait looks again. Any thread. */
static void
wake_waiters (MbdEvents *self)
{
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->waiters->len; i++)
    schedule_check_locked (self->waiters->pdata[i]);
  g_mutex_unlock (&self->lock);
}

static void
on_database_changed (GFileMonitor *monitor,
                     GFile *file,
                     GFile *other_file,
                     GFileMonitorEvent event_type,
                     gpointer user_data)
{
  wake_waiters (user_data);
}

static void
on_wait_cancelled (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;
  Wait *wait = g_task_get_task_data (task);

  g_mutex_lock (&wait->events->lock);
  if (g_ptr_array_find (wait->events->waiters, task, NULL))
    schedule_check_locked (task);
  g_mutex_unlock (&wait->events->lock);
}

/* Other processes (the `mbd` CLI migrating or removing, a second server's packager) store
 * events too: every commit of theirs writes the database's write-ahead log, which inotify
 * reports. */
static void
ensure_monitor (MbdEvents *self)
{
  if (self->monitor != NULL)
    return;
  g_autofree char *path
      = g_build_filename (mbd_instance_get_home (self->instance), "mbd.sqlite-wal", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_NONE, NULL, &error);
  if (self->monitor == NULL)
    {
      g_warning ("%s: cannot watch for events of other processes: %s", path, error->message);
      return;
    }
  g_file_monitor_set_rate_limit (self->monitor, 100);
  g_signal_connect_object (self->monitor, "changed", G_CALLBACK (on_database_changed), self, 0);
}

/**
 * mbd_events_next_async:
 * @self: an event log
 * @after_id: the id of the last event the caller has seen ([method@Mbd.Event.get_id]), 0 for
 *   none, or -1 for the newest one stored now (to wait for a new event)
 * @after: (nullable): also skip the events not later than this time, as
 *   `events.attach?after=` does
 * @cancellable: (nullable): a cancellable, the way to stop waiting
 * @callback: called with the event
 * @user_data: data for @callback
 *
 * Waits for the first event stored after @after_id (and @after), oldest first: completes at
 * once if there is one, else as soon as one is stored, by this process or by another one using
 * the same home (the database's write-ahead log is watched with a file monitor, so nothing polls).
 * @callback runs on the thread-default main context of the caller. Waiting for each next event
 * with the id of the one before follows the log without losing any.
 */
void
mbd_events_next_async (MbdEvents *self,
                       gint64 after_id,
                       GDateTime *after,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_return_if_fail (MBD_IS_EVENTS (self));
  g_return_if_fail (after_id >= -1);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_events_next_async);
  g_autoptr (GError) error = NULL;
  if (after_id < 0 && !last_event_id (self, &after_id, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  Wait *wait = g_new0 (Wait, 1);
  wait->events = g_object_ref (self);
  wait->after_id = after_id;
  wait->after_usec = after != NULL ? to_unix_usec (after) : G_MININT64;
  g_task_set_task_data (task, wait, (GDestroyNotify) wait_free);
  ensure_monitor (self);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->waiters, g_object_ref (task));
  schedule_check_locked (task);
  g_mutex_unlock (&self->lock);
  if (cancellable != NULL)
    wait->cancelled_id
        = g_cancellable_connect (cancellable, G_CALLBACK (on_wait_cancelled), task, NULL);
}

/**
 * mbd_events_next_finish:
 * @self: an event log
 * @result: the result passed to the callback
 *
 * Finishes [method@Mbd.Events.next_async].
 *
 * Returns: (transfer full): the event, or %NULL with %G_IO_ERROR_CANCELLED, %MBD_ERROR_DATABASE
 *   or %MBD_ERROR_BUSY
 */
MbdEvent *
mbd_events_next_finish (MbdEvents *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_events_next_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
