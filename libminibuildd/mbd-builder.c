/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mbd-build-private.h"
#include "mbd-chroot-private.h"
#include "mbd-gnupg.h"
#include "mbd-instance-private.h"
#include "mbd-subprocess-private.h"
#include "mbd-util-private.h"

/**
 * MbdBuilder:
 *
 * The build queue of an instance: runs [class@Mbd.BuildRequest]s with sbuild, at most
 * [method@Mbd.Builder.get_max_parallel] at a time (default: the number of processors).
 *
 * A submitted request is stored in the instance database (table `builds`) before anything
 * runs. Each build runs sbuild in its own process group through a work directory under the
 * system's temporary directory; sbuild's output goes line by line to the build log and the
 * request's [signal@Mbd.BuildRequest::log-line]; the results (.changes, .debs, .buildinfo) end
 * up in the build directory with the .changes signed by the instance key.
 *
 * [method@Mbd.Builder.cancel] kills the whole process group (SIGTERM, then SIGKILL after 3 s)
 * and removes the unpacked chroot. [method@Mbd.Builder.stop] cancels the running builds and
 * puts them back in the queue; [method@Mbd.Builder.start] (which
 * [method@Mbd.Instance.start] calls) adopts builds whose process died — a build row that says
 * `building` or `queued` for a process that no longer runs — kills what is left of them and
 * queues them again, so an interrupted build is built once more, not twice.
 *
 * As root, sbuild runs as the chroot's build user (sbuild's unshare mode refuses root).
 */

typedef struct
{
  MbdBuilder *builder;
  MbdBuildRequest *request;
  GCancellable *cancellable;
  char *workdir;
  FILE *log;
  gboolean stopping;
  gint64 sbuild_started; /* monotonic, µs */
  char *build_user;      /* (nullable) who runs sbuild and lintian; NULL: this process */
  /* (nullable) the host's lintian, run after sbuild (see host_lintian_for()) */
  char *host_lintian;
  GHashTable *summary; /* sbuild's, while lintian runs */
  int exit_status;     /* sbuild's, while lintian runs */
  gboolean lintian_info, lintian_warn;
  gint64 lintian_started;
} RunningBuild;

struct _MbdBuilder
{
  GObject parent_instance;

  MbdInstance *instance; /* (unowned): the instance outlives its builder */
  int max_parallel;
  gboolean started;
  GQueue queue;        /* (owned) MbdBuildRequest, waiting for a slot */
  GHashTable *running; /* key -> RunningBuild */
  char *owner;         /* "pid:starttime" of this process */
  guint dispatch_id;
  guint adopt_id;
  GMainContext *context;
  GPtrArray *trash_threads; /* GThread removing work directories */
  gboolean host_lintian;
};

G_DEFINE_FINAL_TYPE (MbdBuilder, mbd_builder, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_MAX_PARALLEL,
  PROP_N_RUNNING,
  PROP_HOST_LINTIAN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define MBD_BUILDER_ADOPT_INTERVAL 30

static void running_build_free (RunningBuild *build);

static void
mbd_builder_dispose (GObject *object)
{
  MbdBuilder *self = MBD_BUILDER (object);

  mbd_builder_stop (self);
  G_OBJECT_CLASS (mbd_builder_parent_class)->dispose (object);
}

static void
mbd_builder_finalize (GObject *object)
{
  MbdBuilder *self = MBD_BUILDER (object);

  for (guint i = 0; i < self->trash_threads->len; i++)
    g_thread_join (self->trash_threads->pdata[i]);
  g_ptr_array_unref (self->trash_threads);
  g_queue_clear_full (&self->queue, g_object_unref);
  g_hash_table_unref (self->running);
  g_free (self->owner);
  if (self->dispatch_id != 0)
    g_source_destroy (g_main_context_find_source_by_id (self->context, self->dispatch_id));
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (mbd_builder_parent_class)->finalize (object);
}

static void
mbd_builder_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MbdBuilder *self = MBD_BUILDER (object);

  switch (prop_id)
    {
    case PROP_MAX_PARALLEL:
      g_value_set_int (value, self->max_parallel);
      break;
    case PROP_N_RUNNING:
      g_value_set_int (value, mbd_builder_get_n_running (self));
      break;
    case PROP_HOST_LINTIAN:
      g_value_set_boolean (value, self->host_lintian);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mbd_builder_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MbdBuilder *self = MBD_BUILDER (object);

  switch (prop_id)
    {
    case PROP_MAX_PARALLEL:
      mbd_builder_set_max_parallel (self, g_value_get_int (value));
      break;
    case PROP_HOST_LINTIAN:
      mbd_builder_set_host_lintian (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mbd_builder_class_init (MbdBuilderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mbd_builder_dispose;
  object_class->finalize = mbd_builder_finalize;
  object_class->get_property = mbd_builder_get_property;
  object_class->set_property = mbd_builder_set_property;

  /**
   * MbdBuilder:max-parallel:
   *
   * How many builds run at once.
   */
  properties[PROP_MAX_PARALLEL]
      = g_param_spec_int ("max-parallel", NULL, NULL, 1, 1024, 1,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * MbdBuilder:n-running:
   *
   * How many builds run now.
   */
  properties[PROP_N_RUNNING]
      = g_param_spec_int ("n-running", NULL, NULL, 0, G_MAXINT, 0,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * MbdBuilder:host-lintian:
   *
   * Whether lintian runs on the host, after sbuild, when the host's release is the build's
   * codename and `lintian` is installed (the default); otherwise sbuild installs lintian
   * into every build session and runs it there.
   */
  properties[PROP_HOST_LINTIAN]
      = g_param_spec_boolean ("host-lintian", NULL, NULL, TRUE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

/* The start time of a process (field 22 of /proc/PID/stat), 0 if it does not exist. */
static guint64
process_start_time (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  const char *p = strrchr (text, ')');
  if (p == NULL)
    return 0;
  g_auto (GStrv) fields = g_strsplit (p + 2, " ", -1);
  /* fields[0] is field 3 (state); starttime is field 22 */
  if (g_strv_length (fields) < 20)
    return 0;
  return g_ascii_strtoull (fields[19], NULL, 10);
}

static gboolean
owner_is_alive (const char *owner)
{
  if (owner == NULL)
    return FALSE;
  g_auto (GStrv) parts = g_strsplit (owner, ":", 2);
  if (parts[0] == NULL || parts[1] == NULL)
    return FALSE;
  int pid = (int) g_ascii_strtoll (parts[0], NULL, 10);
  guint64 start = g_ascii_strtoull (parts[1], NULL, 10);
  return pid > 0 && process_start_time (pid) == start;
}

static void
mbd_builder_init (MbdBuilder *self)
{
  self->max_parallel = MAX (1, (int) g_get_num_processors ());
  self->running = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) running_build_free);
  self->owner = g_strdup_printf ("%d:%" G_GUINT64_FORMAT, (int) getpid (),
                                 process_start_time ((int) getpid ()));
  self->context = g_main_context_ref_thread_default ();
  self->trash_threads = g_ptr_array_new ();
  self->host_lintian = TRUE;
}

/**
 * mbd_builder_new:
 * @instance: an open instance
 *
 * Creates a builder for an instance. Most callers want the instance's own, from
 * [method@Mbd.Instance.get_builder]. The builder works on the thread-default main context of
 * the thread that creates it: builds progress while that context runs.
 *
 * Returns: (transfer full): a new builder
 */
MbdBuilder *
mbd_builder_new (MbdInstance *instance)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  MbdBuilder *self = g_object_new (MBD_TYPE_BUILDER, NULL);
  self->instance = instance;
  return self;
}

/**
 * mbd_instance_get_builder:
 * @instance: an open instance
 *
 * Gives the instance's builder, creating it on first use (on the calling thread's
 * thread-default main context). [method@Mbd.Instance.start] starts it and
 * [method@Mbd.Instance.stop] stops it.
 *
 * Returns: (transfer none): the builder
 */
MbdBuilder *
mbd_instance_get_builder (MbdInstance *instance)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  MbdBuilder *builder = g_object_get_data (G_OBJECT (instance), "mbd-builder");
  if (builder == NULL)
    {
      builder = mbd_builder_new (instance);
      g_object_set_data_full (G_OBJECT (instance), "mbd-builder", builder, g_object_unref);
    }
  return builder;
}

/* The builder if the instance has one yet (for the instance's own start, stop and status). */
MbdBuilder *
mbd_instance_peek_builder (MbdInstance *instance)
{
  return g_object_get_data (G_OBJECT (instance), "mbd-builder");
}

/**
 * mbd_builder_get_max_parallel:
 * @self: a builder
 *
 * Gives how many builds run at once.
 *
 * Returns: the number of build slots
 */
int
mbd_builder_get_max_parallel (MbdBuilder *self)
{
  g_return_val_if_fail (MBD_IS_BUILDER (self), 1);
  return self->max_parallel;
}

static void schedule_dispatch (MbdBuilder *self);

/**
 * mbd_builder_set_max_parallel:
 * @self: a builder
 * @max_parallel: how many builds may run at once (at least 1)
 *
 * Sets the number of build slots. Lowering it lets running builds finish.
 */
void
mbd_builder_set_max_parallel (MbdBuilder *self, int max_parallel)
{
  g_return_if_fail (MBD_IS_BUILDER (self));
  g_return_if_fail (max_parallel >= 1);
  if (self->max_parallel == max_parallel)
    return;
  self->max_parallel = max_parallel;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_PARALLEL]);
  schedule_dispatch (self);
}

/**
 * mbd_builder_get_host_lintian:
 * @self: a builder
 *
 * Gives whether lintian runs on the host where it can (see [property@Mbd.Builder:host-lintian]).
 *
 * Returns: %TRUE if it does
 */
gboolean
mbd_builder_get_host_lintian (MbdBuilder *self)
{
  g_return_val_if_fail (MBD_IS_BUILDER (self), TRUE);
  return self->host_lintian;
}

/**
 * mbd_builder_set_host_lintian:
 * @self: a builder
 * @host_lintian: %FALSE to always run lintian inside the build session
 *
 * Sets whether lintian runs on the host where it can (see
 * [property@Mbd.Builder:host-lintian]). Builds started later follow it.
 */
void
mbd_builder_set_host_lintian (MbdBuilder *self, gboolean host_lintian)
{
  g_return_if_fail (MBD_IS_BUILDER (self));
  host_lintian = !!host_lintian;
  if (self->host_lintian == host_lintian)
    return;
  self->host_lintian = host_lintian;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOST_LINTIAN]);
}

/**
 * mbd_builder_get_n_running:
 * @self: a builder
 *
 * Gives how many builds this builder runs now.
 *
 * Returns: the number of running builds
 */
int
mbd_builder_get_n_running (MbdBuilder *self)
{
  g_return_val_if_fail (MBD_IS_BUILDER (self), 0);
  return (int) g_hash_table_size (self->running);
}

/**
 * mbd_builder_get_load:
 * @self: a builder
 *
 * Gives the share of build slots in use, as mini-buildd's status `load` reports it.
 *
 * Returns: running builds divided by [method@Mbd.Builder.get_max_parallel]
 */
double
mbd_builder_get_load (MbdBuilder *self)
{
  g_return_val_if_fail (MBD_IS_BUILDER (self), 0.0);
  return (double) g_hash_table_size (self->running) / self->max_parallel;
}

/**
 * mbd_builder_is_started:
 * @self: a builder
 *
 * Tells whether [method@Mbd.Builder.start] ran (and no stop since).
 *
 * Returns: %TRUE if started
 */
gboolean
mbd_builder_is_started (MbdBuilder *self)
{
  g_return_val_if_fail (MBD_IS_BUILDER (self), FALSE);
  return self->started;
}

static MbdDb *
builder_db (MbdBuilder *self)
{
  return mbd_instance_get_db (self->instance);
}

static char *
builds_dir (MbdBuilder *self)
{
  return g_build_filename (mbd_instance_get_home (self->instance), "builds", NULL);
}

/* Database */

static gboolean
update_row (MbdBuilder *self,
            MbdBuildRequest *request,
            const char *owner,
            const char *workdir,
            gboolean with_result,
            int exit_status,
            GError **error)
{
  MbdDb *db = builder_db (self);
  MbdBuildState state = mbd_build_request_get_state (request);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "UPDATE builds SET state = ?2, owner = ?3, workdir = ?4,"
      " started = CASE WHEN ?2 = 1 THEN strftime('%s', 'now') ELSE started END,"
      " attempts = attempts + (?2 = 1),"
      " finished = CASE WHEN ?2 >= 2 THEN strftime('%s', 'now') ELSE NULL END,"
      " result = CASE WHEN ?5 THEN ?6 ELSE result END,"
      " exit_status = CASE WHEN ?5 THEN ?7 ELSE exit_status END"
      " WHERE key = ?1",
      error);
  if (stmt == NULL)
    return FALSE;
  g_autofree char *result = with_result ? mbd_build_request_result_to_json (request) : NULL;
  sqlite3_bind_text (stmt, 1, mbd_build_request_get_key (request), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, state);
  sqlite3_bind_text (stmt, 3, owner, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, workdir, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 5, with_result);
  sqlite3_bind_text (stmt, 6, result, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 7, exit_status);
  return mbd_db_step_done (db, stmt, error);
}

typedef struct
{
  MbdBuildState state;
  char *owner;
  char *workdir;
  gboolean cancel_requested;
} RowInfo;

static void
row_info_clear (RowInfo *info)
{
  g_free (info->owner);
  g_free (info->workdir);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RowInfo, row_info_clear)

static gboolean
read_row_info (MbdBuilder *self, const char *key, RowInfo *info, GError **error)
{
  MbdDb *db = builder_db (self);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT state, owner, workdir, cancel_requested FROM builds WHERE key = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND, "build '%s' does not exist; see 'mbd build ls'",
                      key);
  if (rc != SQLITE_ROW)
    return mbd_db_throw (db, rc, "cannot read a build", error);
  info->state = sqlite3_column_int (stmt, 0);
  info->owner = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  info->workdir = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  info->cancel_requested = sqlite3_column_int (stmt, 3) != 0;
  return TRUE;
}

static gboolean
set_row_state (MbdBuilder *self, const char *key, MbdBuildState state, GError **error)
{
  MbdDb *db = builder_db (self);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "UPDATE builds SET state = ?2, owner = NULL, workdir = NULL,"
      " finished = CASE WHEN ?2 >= 2 THEN strftime('%s', 'now') ELSE NULL END WHERE key = ?1",
      error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, state);
  return mbd_db_step_done (db, stmt, error);
}

/* Files and processes */

static gpointer
remove_tree_thread (gpointer data)
{
  g_autofree char *path = data;

  mbd_remove_tree (path);
  return NULL;
}

/* Removes a work directory: it is renamed away at once (the unpacked chroot is gone from its
 * place) and deleted by a thread, because deleting 400 MB of chroot takes from 2 to 20 s on a
 * busy disk. The builder waits for these threads when it is finalized. */
static void
trash_tree (MbdBuilder *self, const char *workdir)
{
  if (workdir == NULL || !g_file_test (workdir, G_FILE_TEST_IS_DIR))
    return;
  g_autofree char *trash = g_strconcat (workdir, ".trash", NULL);
  if (g_rename (workdir, trash) < 0)
    {
      mbd_remove_tree (workdir);
      return;
    }
  g_ptr_array_add (self->trash_threads,
                   g_thread_new ("mbd-trash", remove_tree_thread, g_steal_pointer (&trash)));
}

static uid_t chown_uid;
static gid_t chown_gid;

static int
chown_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return lchown (path, chown_uid, chown_gid) < 0 ? -1 : 0;
}

static gboolean
chown_tree (const char *path, const struct passwd *pw, GError **error)
{
  G_LOCK_DEFINE_STATIC (chown);
  G_LOCK (chown);
  chown_uid = pw->pw_uid;
  chown_gid = pw->pw_gid;
  int rc = nftw (path, chown_entry, 32, FTW_PHYS | FTW_MOUNT);
  int saved = errno;
  G_UNLOCK (chown);
  if (rc != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: cannot hand it to the build user %s: %s", path, pw->pw_name,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
copy_file (const char *from, const char *to, GError **error)
{
  g_autoptr (GFile) source = g_file_new_for_path (from);
  g_autoptr (GFile) dest = g_file_new_for_path (to);

  return g_file_copy (source, dest, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, error);
}

/* Copies the request's source files (the .dsc and what it lists) from its directory to @dir. */
static gboolean
copy_sources (MbdBuildRequest *request, const char *dir, GError **error)
{
  g_autofree char *from_dir = g_path_get_dirname (mbd_build_request_get_dsc_path (request));
  g_auto (GStrv) names = mbd_build_request_dup_source_files (request);

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *from = g_build_filename (from_dir, names[i], NULL);
      g_autofree char *to = g_build_filename (dir, names[i], NULL);
      if (!copy_file (from, to, error))
        return mbd_prefix_error (
            error, "copying the source of build %s: ", mbd_build_request_get_key (request));
    }
  return TRUE;
}

/* The process group sbuild ran in, if it still runs: checked by the build key in the leader's
 * environment, so a recycled pid is never killed. */
static int
live_build_group (const char *workdir, const char *key)
{
  if (workdir == NULL)
    return 0;
  g_autofree char *pgid_path = g_build_filename (workdir, "sbuild.pgid", NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (pgid_path, &text, NULL, NULL))
    return 0;
  int pgid = (int) g_ascii_strtoll (text, NULL, 10);
  if (pgid <= 1)
    return 0;
  g_autofree char *environ_path = g_strdup_printf ("/proc/%d/environ", pgid);
  g_autofree char *env_block = NULL;
  gsize len = 0;
  if (!g_file_get_contents (environ_path, &env_block, &len, NULL))
    return 0;
  g_autofree char *wanted = g_strdup_printf ("MBD_BUILD_KEY=%s", key);
  for (gsize at = 0; at < len; at += strlen (env_block + at) + 1)
    if (strcmp (env_block + at, wanted) == 0)
      return pgid;
  return 0;
}

/* Whether the build unpacked its chroot into its work directory (sbuild's unshare mode): then
 * the whole session is that directory plus namespaces that die with their processes, so the
 * build can be killed hard and cleaned up by removing the directory. A schroot session instead
 * needs sbuild's own clean-up (SIGTERM first). */
static gboolean
has_unshare_session (const char *workdir)
{
  g_autoptr (GDir) dir = workdir != NULL ? g_dir_open (workdir, 0, NULL) : NULL;
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "session."))
      return TRUE;
  return FALSE;
}

static gboolean
link_is_under (int pid, const char *link, const char *dir)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", pid, link);
  g_autofree char *target = g_file_read_link (path, NULL);
  gsize len = strlen (dir);

  return target != NULL && strncmp (target, dir, len) == 0
         && (target[len] == '\0' || target[len] == '/');
}

/* Kills every process whose root or working directory lies in @workdir: sbuild's unshare mode
 * runs the chroot session in a session (setsid) of its own, outside sbuild's process group.
 * Killing the namespace's first process takes its whole pid namespace down. Returns once none is
 * left (or after 5 s). */
static void
kill_processes_under (const char *workdir)
{
  if (workdir == NULL)
    return;
  for (int round = 0; round < 50; round++)
    {
      g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
      const char *name;
      int found = 0;
      while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
        {
          if (!g_ascii_isdigit (name[0]))
            continue;
          int pid = (int) g_ascii_strtoll (name, NULL, 10);
          if (pid == (int) getpid ())
            continue;
          if (link_is_under (pid, "root", workdir) || link_is_under (pid, "cwd", workdir))
            {
              kill (pid, SIGKILL);
              found++;
            }
        }
      if (found == 0)
        return;
      g_usleep (100 * 1000);
    }
}

/* Stops the process group of a build: SIGKILL at once for an unshare session, otherwise SIGTERM
 * and SIGKILL after 3 s; waits (up to 5 s more) until no process of the group is left. */
static void
kill_build_group (const char *workdir, const char *key)
{
  int pgid = live_build_group (workdir, key);

  if (pgid <= 0)
    {
      kill_processes_under (workdir);
      return;
    }
  if (!has_unshare_session (workdir))
    {
      kill (-pgid, SIGTERM);
      for (int i = 0; i < 30 && mbd_subprocess_count_group (pgid) > 0; i++)
        g_usleep (100 * 1000);
    }
  kill (-pgid, SIGKILL);
  for (int i = 0; i < 50 && mbd_subprocess_count_group (pgid) > 0; i++)
    g_usleep (100 * 1000);
  kill_processes_under (workdir);
}

/* Ends what is left of a build whose owner died: its process group and its work directory with
 * the unpacked chroot. */
static void
kill_leftovers (MbdBuilder *self, const char *workdir, const char *key)
{
  kill_build_group (workdir, key);
  trash_tree (self, workdir);
}

/* Chroot selection. */

void
mbd_build_chroot_free (MbdBuildChroot *chroot)
{
  g_strfreev (chroot->sbuild_args);
  g_free (chroot->build_user);
  g_free (chroot);
}

/* The chroot of the request's codename and architecture, which must be active; as root with
 * the unshare backend sbuild runs as the chroot's build user ($MBD_BUILD_USER overrides it,
 * for tests). */
static MbdBuildChroot *
lookup_chroot (MbdBuilder *self, MbdBuildRequest *request, GError **error)
{
  const char *codename = mbd_build_request_get_codename (request);
  const char *arch = mbd_build_request_get_architecture (request);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (MbdChroot) chroot
             = mbd_instance_lookup_chroot (self->instance, codename, arch, &local_error);

  if (chroot == NULL && g_error_matches (local_error, MBD_ERROR, MBD_ERROR_NOT_FOUND))
    {
      mbd_throw (error, MBD_ERROR_NOT_FOUND,
                 "build %s: there is no chroot for %s/%s; create it with 'mbd chroot create %s "
                 "--arch %s'",
                 mbd_build_request_get_key (request), codename, arch, codename, arch);
      return NULL;
    }
  if (chroot == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (mbd_chroot_get_state (chroot) != MBD_CHROOT_STATE_ACTIVE)
    {
      const char *message = mbd_chroot_get_message (chroot);
      mbd_throw (error, MBD_ERROR_NOT_FOUND,
                 "build %s: the chroot for %s/%s is %s, not active%s%s; see 'mbd chroot ls'",
                 mbd_build_request_get_key (request), codename, arch,
                 mbd_chroot_state_to_string (mbd_chroot_get_state (chroot)),
                 message != NULL ? ": " : "", message != NULL ? message : "");
      return NULL;
    }
  MbdBuildChroot *result = g_new0 (MbdBuildChroot, 1);
  result->sbuild_args = mbd_chroot_sbuild_args (chroot);
  const char *user = mbd_chroot_get_build_user (chroot);
  const char *override = g_getenv ("MBD_BUILD_USER");
  if (user != NULL && override != NULL && override[0] != '\0')
    user = override;
  result->build_user = g_strdup (user);
  return result;
}

/* Running builds */

static void
running_build_free (RunningBuild *build)
{
  if (build->log != NULL)
    fclose (build->log);
  g_clear_object (&build->cancellable);
  g_clear_object (&build->request);
  g_clear_pointer (&build->summary, g_hash_table_unref);
  g_free (build->build_user);
  g_free (build->host_lintian);
  g_free (build->workdir);
  g_free (build);
}

static void
on_log_line (const char *line, gpointer user_data)
{
  RunningBuild *build = user_data;

  if (build->log != NULL)
    {
      fputs (line, build->log);
      fputc ('\n', build->log);
    }
  mbd_build_request_emit_log_line (build->request, line);
}

static void log_note (RunningBuild *build, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
log_note (RunningBuild *build, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_autofree char *line = g_strdup_vprintf (format, args);
  va_end (args);
  g_autofree char *prefixed = g_strconcat ("mbd: ", line, NULL);
  on_log_line (prefixed, build);
}

static gboolean
is_result_file (const char *name)
{
  const char *suffixes[] = { ".changes", ".deb", ".udeb", ".ddeb", ".buildinfo" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_has_suffix (name, suffixes[i]))
      return TRUE;
  return FALSE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Moves sbuild's results into the build directory and signs the .changes with the instance key. */
static gboolean
collect_results (MbdBuilder *self,
                 RunningBuild *build,
                 char **out_changes,
                 GPtrArray *files,
                 GError **error)
{
  const char *build_dir = mbd_build_request_get_build_dir (build->request);
  g_autoptr (GDir) dir = g_dir_open (build->workdir, 0, error);

  if (dir == NULL)
    return FALSE;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (is_result_file (name))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *from = g_build_filename (build->workdir, names->pdata[i], NULL);
      g_autofree char *to = g_build_filename (build_dir, names->pdata[i], NULL);
      if (!copy_file (from, to, error))
        return FALSE;
      if (g_str_has_suffix (names->pdata[i], ".changes"))
        {
          g_autoptr (GFile) file = g_file_new_for_path (to);
          g_autoptr (GBytes) content = g_file_load_bytes (file, NULL, NULL, error);
          if (content == NULL)
            return FALSE;
          MbdGnupg *gnupg = mbd_instance_get_gnupg (self->instance);
          g_autoptr (GBytes) signed_content = mbd_gnupg_sign_clear (gnupg, content, NULL, error);
          if (signed_content == NULL)
            return mbd_prefix_error (error, "signing %s: ", to);
          if (!g_file_set_contents (to, g_bytes_get_data (signed_content, NULL),
                                    g_bytes_get_size (signed_content), error))
            return FALSE;
          g_free (*out_changes);
          *out_changes = g_strdup (to);
        }
      g_ptr_array_add (files, g_steal_pointer (&to));
    }
  return TRUE;
}

static void
build_finished (MbdBuilder *self,
                RunningBuild *build,
                MbdBuildState state,
                GHashTable *summary,
                const char *failure,
                int exit_status,
                GPtrArray *files,
                const char *changes)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tail = NULL;
  MbdBuildRequest *request = build->request;

  if (failure != NULL)
    log_note (build, "%s: %s", mbd_build_state_to_string (state), failure);
  if (build->log != NULL)
    g_clear_pointer (&build->log, fclose);
  if (state == MBD_BUILD_STATE_FAILED)
    {
      g_autofree char *text = NULL;
      if (g_file_get_contents (mbd_build_request_get_log_path (request), &text, NULL, NULL))
        tail = mbd_build_text_tail (text, 40);
    }
  if (files != NULL)
    g_ptr_array_add (files, NULL);
  mbd_build_request_set_result (request, summary, failure, tail, changes,
                                files != NULL ? (const char *const *) files->pdata : NULL);
  mbd_build_request_set_state_silently (request, state);
  if (!update_row (self, request, NULL, NULL, TRUE, exit_status, &error))
    g_warning ("build %s: %s", mbd_build_request_get_key (request), error->message);
  kill_processes_under (build->workdir);
  trash_tree (self, build->workdir);
  mbd_build_request_notify_state (request);
}

/* A stopped builder's build goes back to the queue for whoever starts the builder next. */
static void
requeue_stopped (MbdBuilder *self, RunningBuild *build)
{
  g_autoptr (GError) error = NULL;
  const char *key = mbd_build_request_get_key (build->request);

  if (build->log != NULL)
    g_clear_pointer (&build->log, fclose);
  kill_processes_under (build->workdir);
  trash_tree (self, build->workdir);
  mbd_build_request_set_state (build->request, MBD_BUILD_STATE_QUEUED);
  if (!set_row_state (self, key, MBD_BUILD_STATE_QUEUED, &error))
    g_warning ("build %s: %s", key, error->message);
  g_hash_table_remove (self->running, key);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNNING]);
}

static gboolean
cancel_was_requested (MbdBuilder *self, RunningBuild *build)
{
  g_auto (RowInfo) info = { 0 };

  read_row_info (self, mbd_build_request_get_key (build->request), &info, NULL);
  return g_cancellable_is_cancelled (build->cancellable) || info.cancel_requested;
}

/* Ends a build whose sbuild (and lintian) ran: @failure non-NULL when it could not be judged. */
static void
finish_build (MbdBuilder *self,
              RunningBuild *build,
              GHashTable *summary,
              int exit_status,
              MbdBuildState state,
              const char *early_failure)
{
  MbdBuildRequest *request = build->request;
  g_autofree char *key = g_strdup (mbd_build_request_get_key (request));
  g_autofree char *failure = g_strdup (early_failure);
  g_autofree char *changes = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local_error = NULL;

  if (failure == NULL && summary != NULL)
    {
      state = MBD_BUILD_STATE_FAILED;
      if (mbd_build_evaluate (summary, exit_status, mbd_build_request_get_lintian_mode (request),
                              mbd_build_request_peek_autopkgtest_mode (request),
                              mbd_build_request_peek_piuparts_mode (request), &failure))
        state = MBD_BUILD_STATE_BUILT;
      if (!collect_results (self, build, &changes, files, &local_error))
        {
          state = MBD_BUILD_STATE_FAILED;
          g_free (failure);
          failure = g_strdup_printf ("collecting the results failed: %s", local_error->message);
        }
      else if (state == MBD_BUILD_STATE_BUILT && changes == NULL)
        {
          state = MBD_BUILD_STATE_FAILED;
          failure = g_strdup ("sbuild reported success but left no .changes");
        }
    }
  build_finished (self, build, state, summary, failure, exit_status, files, changes);
  g_hash_table_remove (self->running, key);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNNING]);
  schedule_dispatch (self);
}

static void start_host_lintian (MbdBuilder *self, RunningBuild *build);

static void
sbuild_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RunningBuild *build = user_data;
  MbdBuilder *self = build->builder;
  MbdBuildRequest *request = build->request;
  g_autoptr (GError) error = NULL;
  int exit_status = -1;

  gboolean ran = mbd_subprocess_run_finish (result, &exit_status, &error);
  if (build->stopping)
    {
      requeue_stopped (self, build);
      return;
    }
  if (cancel_was_requested (self, build))
    {
      finish_build (self, build, NULL, exit_status, MBD_BUILD_STATE_CANCELLED,
                    "cancelled during the build");
      return;
    }
  if (!ran)
    {
      g_autofree char *failure = g_strdup_printf ("running sbuild failed: %s", error->message);
      finish_build (self, build, NULL, exit_status, MBD_BUILD_STATE_FAILED, failure);
      return;
    }
  /* what sbuild itself took, apart from mbd's work before and after (bench/build) */
  log_note (build, "sbuild exited with status %d after %.2f s", exit_status,
            (g_get_monotonic_time () - build->sbuild_started) / 1e6);
  g_autofree char *text = NULL;
  if (build->log != NULL)
    fflush (build->log);
  if (!g_file_get_contents (mbd_build_request_get_log_path (request), &text, NULL, &error))
    {
      finish_build (self, build, NULL, exit_status, MBD_BUILD_STATE_FAILED, error->message);
      return;
    }
  g_autoptr (GHashTable) summary = mbd_build_parse_summary (text);
  if (build->host_lintian != NULL
      && g_strcmp0 (g_hash_table_lookup (summary, "Status"), "successful") == 0)
    {
      build->summary = g_steal_pointer (&summary);
      build->exit_status = exit_status;
      start_host_lintian (self, build);
      return;
    }
  finish_build (self, build, summary, exit_status, MBD_BUILD_STATE_FAILED, NULL);
}

/* Lintian on the host */

/* The host's release codename, read once. */
static const char *
host_codename (void)
{
  static gsize once;
  static char *codename;

  if (g_once_init_enter (&once))
    {
      codename = g_get_os_info (G_OS_INFO_KEY_VERSION_CODENAME);
      g_once_init_leave (&once, 1);
    }
  return codename;
}

/* The path of the host's lintian if @request's lintian runs on the host (see
 * MbdBuilder:host-lintian), else NULL. */
static char *
host_lintian_for (MbdBuilder *self, MbdBuildRequest *request)
{
  if (!self->host_lintian || !mbd_build_host_lintian_applies (request, host_codename ()))
    return NULL;
  return g_find_program_in_path ("lintian");
}

static void
on_lintian_line (const char *line, gpointer user_data)
{
  RunningBuild *build = user_data;

  if (g_str_has_prefix (line, "I: "))
    build->lintian_info = TRUE;
  else if (g_str_has_prefix (line, "W: "))
    build->lintian_warn = TRUE;
  on_log_line (line, build);
}

static void
lintian_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RunningBuild *build = user_data;
  MbdBuilder *self = build->builder;
  g_autoptr (GError) error = NULL;
  int exit_status = -1;
  const char *status = "error";

  gboolean ran = mbd_subprocess_run_finish (result, &exit_status, &error);
  if (build->stopping)
    {
      requeue_stopped (self, build);
      return;
    }
  if (cancel_was_requested (self, build))
    {
      finish_build (self, build, NULL, build->exit_status, MBD_BUILD_STATE_CANCELLED,
                    "cancelled while lintian ran");
      return;
    }
  if (!ran)
    log_note (build, "running lintian failed: %s", error->message);
  else
    status = mbd_build_lintian_status (exit_status, build->lintian_info, build->lintian_warn);
  on_log_line ("", build);
  log_note (build, "lintian exited with status %d after %.2f s", exit_status,
            (g_get_monotonic_time () - build->lintian_started) / 1e6);
  log_note (build, "Lintian: %s", status);
  g_hash_table_replace (build->summary, g_strdup ("Lintian"), g_strdup (status));
  g_autoptr (GHashTable) summary = g_steal_pointer (&build->summary);
  finish_build (self, build, summary, build->exit_status, MBD_BUILD_STATE_FAILED, NULL);
}

/* The one .changes sbuild left in the work directory, NULL if there is none or several. */
static char *
find_changes (const char *workdir)
{
  g_autoptr (GDir) dir = g_dir_open (workdir, 0, NULL);
  g_autofree char *found = NULL;
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".changes"))
      {
        if (found != NULL)
          return NULL;
        found = g_build_filename (workdir, name, NULL);
      }
  return g_steal_pointer (&found);
}

/* setpriv to @pw (nothing for NULL: run as this process) */
static void
add_user_switch (GStrvBuilder *argv, const struct passwd *pw)
{
  if (pw == NULL)
    return;
  g_strv_builder_add (argv, "setpriv");
  mbd_strv_builder_take (argv, g_strdup_printf ("--reuid=%u", (guint) pw->pw_uid));
  mbd_strv_builder_take (argv, g_strdup_printf ("--regid=%u", (guint) pw->pw_gid));
  g_strv_builder_add_many (argv, "--init-groups", "--", NULL);
}

static char **build_environment (MbdBuildRequest *request,
                                 const char *workdir,
                                 const struct passwd *pw,
                                 const char *rc_path);

/* The host's lintian as the build user in the work directory, in a process group of its own
 * whose id replaces sbuild's in sbuild.pgid, so that a cancel from another process finds it. */
static void
start_host_lintian (MbdBuilder *self, RunningBuild *build)
{
  MbdBuildRequest *request = build->request;
  g_autofree char *changes = find_changes (build->workdir);

  if (changes == NULL)
    {
      g_autoptr (GHashTable) summary = g_steal_pointer (&build->summary);
      finish_build (self, build, summary, build->exit_status, MBD_BUILD_STATE_FAILED, NULL);
      return;
    }
  g_autofree char *dsc_name = g_path_get_basename (mbd_build_request_get_dsc_path (request));
  g_autofree char *dsc = g_build_filename (build->workdir, dsc_name, NULL);
  g_auto (GStrv) command = mbd_build_host_lintian_argv (build->host_lintian, changes, dsc);
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_autofree char *pgid_path = g_build_filename (build->workdir, "sbuild.pgid", NULL);
  g_strv_builder_add_many (argv, "sh", "-c", "echo $$ > \"$0\" && exec \"$@\"", pgid_path, NULL);
  struct passwd *pw = build->build_user != NULL ? getpwnam (build->build_user) : NULL;
  if (build->build_user != NULL && pw == NULL)
    {
      g_autoptr (GHashTable) summary = g_steal_pointer (&build->summary);
      g_autofree char *failure
          = g_strdup_printf ("the build user '%s' disappeared before lintian", build->build_user);
      finish_build (self, build, summary, build->exit_status, MBD_BUILD_STATE_FAILED, failure);
      return;
    }
  add_user_switch (argv, pw);
  g_strv_builder_addv (argv, (const char **) command);
  g_auto (GStrv) full = g_strv_builder_end (argv);
  g_auto (GStrv) env = build_environment (request, build->workdir, pw, NULL);

  g_autofree char *joined = g_strjoinv (" ", command);
  on_log_line ("", build);
  on_log_line ("+------------------------------------------------------------------------------+",
               build);
  on_log_line ("| Lintian (run by mbd on the host, after the build)                            |",
               build);
  on_log_line ("+------------------------------------------------------------------------------+",
               build);
  on_log_line ("", build);
  log_note (build, "%s", joined);
  build->lintian_info = build->lintian_warn = FALSE;
  build->lintian_started = g_get_monotonic_time ();
  mbd_subprocess_run_async ((const char *const *) full, (const char *const *) env, build->workdir,
                            0, build->cancellable, on_lintian_line, build, lintian_done, build);
}

static char **
build_environment (MbdBuildRequest *request,
                   const char *workdir,
                   const struct passwd *pw,
                   const char *rc_path)
{
  char **env = g_get_environ ();

  env = g_environ_setenv (env, "HOME", workdir, TRUE);
  if (rc_path != NULL)
    env = g_environ_setenv (env, "SBUILD_CONFIG", rc_path, TRUE);
  env = g_environ_setenv (env, "MBD_BUILD_KEY", mbd_build_request_get_key (request), TRUE);
  env = g_environ_unsetenv (env, "DEB_BUILD_PROFILES");
  env = g_environ_unsetenv (env, "DEB_BUILD_OPTIONS");
  env = g_environ_unsetenv (env, "TMPDIR");
  const char *options = mbd_build_request_peek_deb_build_options (request);
  if (options != NULL)
    env = g_environ_setenv (env, "DEB_BUILD_OPTIONS", options, TRUE);
  if (pw != NULL)
    {
      env = g_environ_setenv (env, "USER", pw->pw_name, TRUE);
      env = g_environ_setenv (env, "LOGNAME", pw->pw_name, TRUE);
    }
  return env;
}

/* Prepares the work directory and starts sbuild; on failure the build ends failed. */
static gboolean
start_sbuild (MbdBuilder *self, RunningBuild *build, GError **error)
{
  MbdBuildRequest *request = build->request;
  g_autoptr (MbdBuildChroot) chroot = lookup_chroot (self, request, error);

  if (chroot == NULL)
    return FALSE;
  struct passwd *pw = NULL;
  if (chroot->build_user != NULL)
    {
      pw = getpwnam (chroot->build_user);
      if (pw == NULL)
        return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                          "build %s: the build user '%s' does not exist; create it with "
                          "'useradd -m %s' (it needs /etc/subuid and /etc/subgid ranges)",
                          mbd_build_request_get_key (request), chroot->build_user,
                          chroot->build_user);
    }

  build->workdir = g_dir_make_tmp ("mbd-build-XXXXXX", error);
  if (build->workdir == NULL)
    return FALSE;
  if (g_chmod (build->workdir, 0755) < 0 || !copy_sources (request, build->workdir, error))
    return mbd_prefix_error (error, "preparing %s: ", build->workdir);
  g_autofree char *rc = mbd_build_sbuildrc (request, build->workdir, error);
  if (rc == NULL)
    return FALSE;
  g_autofree char *rc_path = g_build_filename (build->workdir, ".sbuildrc", NULL);
  if (!g_file_set_contents (rc_path, rc, -1, error))
    return FALSE;
  if (pw != NULL && !chown_tree (build->workdir, pw, error))
    return FALSE;
  build->host_lintian = host_lintian_for (self, request);
  build->build_user = g_strdup (chroot->build_user);
  g_auto (GStrv) sbuild = mbd_build_sbuild_argv (request, chroot, build->workdir,
                                                 build->host_lintian == NULL, error);
  if (sbuild == NULL)
    return FALSE;

  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_autofree char *pgid_path = g_build_filename (build->workdir, "sbuild.pgid", NULL);
  g_strv_builder_add_many (argv, "sh", "-c", "echo $$ > \"$0\" && exec \"$@\"", pgid_path, NULL);
  add_user_switch (argv, pw);
  g_strv_builder_addv (argv, (const char **) sbuild);
  g_auto (GStrv) full = g_strv_builder_end (argv);
  g_auto (GStrv) env = build_environment (request, build->workdir, pw, rc_path);

  if (!update_row (self, request, self->owner, build->workdir, FALSE, 0, error))
    return FALSE;
  g_autofree char *command = g_strjoinv (" ", full + 4);
  log_note (build, "build %s in %s: %s", mbd_build_request_get_key (request), build->workdir,
            command);
  build->sbuild_started = g_get_monotonic_time ();
  mbd_subprocess_run_async ((const char *const *) full, (const char *const *) env, build->workdir,
                            0, build->cancellable, on_log_line, build, sbuild_done, build);
  return TRUE;
}

static void
start_build (MbdBuilder *self, MbdBuildRequest *request)
{
  const char *key = mbd_build_request_get_key (request);
  g_autoptr (GError) error = NULL;
  RunningBuild *build = g_new0 (RunningBuild, 1);

  build->builder = self;
  build->request = g_object_ref (request);
  build->cancellable = g_cancellable_new ();
  g_hash_table_insert (self->running, g_strdup (key), build);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNNING]);

  build->log = fopen (mbd_build_request_get_log_path (request), "we");
  if (build->log == NULL)
    {
      int saved = errno;
      g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot write: %s",
                   mbd_build_request_get_log_path (request), g_strerror (saved));
    }
  else
    setvbuf (build->log, NULL, _IOLBF, 0);
  mbd_build_request_set_state_silently (request, MBD_BUILD_STATE_BUILDING);
  if (error == NULL && update_row (self, request, self->owner, NULL, FALSE, 0, &error))
    {
      mbd_build_request_notify_state (request);
      if (start_sbuild (self, build, &error))
        return;
    }
  build_finished (self, build, MBD_BUILD_STATE_FAILED, NULL, error->message, -1, NULL, NULL);
  g_hash_table_remove (self->running, key);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNNING]);
}

static gboolean
dispatch (gpointer user_data)
{
  MbdBuilder *self = user_data;

  self->dispatch_id = 0;
  while ((int) g_hash_table_size (self->running) < self->max_parallel
         && !g_queue_is_empty (&self->queue))
    {
      g_autoptr (MbdBuildRequest) request = g_queue_pop_head (&self->queue);
      g_auto (RowInfo) info = { 0 };
      /* another process may have cancelled it meanwhile */
      if (!read_row_info (self, mbd_build_request_get_key (request), &info, NULL)
          || info.state != MBD_BUILD_STATE_QUEUED)
        {
          if (info.state == MBD_BUILD_STATE_CANCELLED)
            mbd_build_request_set_state (request, MBD_BUILD_STATE_CANCELLED);
          continue;
        }
      start_build (self, request);
    }
  return G_SOURCE_REMOVE;
}

static void
schedule_dispatch (MbdBuilder *self)
{
  if (self->dispatch_id != 0 || g_queue_is_empty (&self->queue))
    return;
  GSource *source = g_idle_source_new ();
  g_source_set_callback (source, dispatch, self, NULL);
  g_source_set_static_name (source, "[mbd] build dispatch");
  self->dispatch_id = g_source_attach (source, self->context);
  g_source_unref (source);
}

/* Public API */

static char *
make_key (MbdBuildRequest *request)
{
  const char *version = mbd_build_request_get_version (request);
  const char *colon = strchr (version, ':');
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d%H%M%S");

  return g_strdup_printf ("%s_%s_%s-%s-%04x", mbd_build_request_get_source (request),
                          colon != NULL ? colon + 1 : version,
                          mbd_build_request_get_architecture (request), stamp,
                          g_random_int_range (0, 0x10000));
}

/**
 * mbd_builder_submit:
 * @self: a builder
 * @request: a request that was not submitted before
 *
 * Stores @request in the database (state queued), copies its source into its build directory
 * `<home>/builds/<key>/` and queues it. It starts as soon as a build slot is free, while the
 * builder's main context runs.
 *
 * Errors: %MBD_ERROR_EXISTS if @request was submitted already, the I/O errors of copying the
 * source, %MBD_ERROR_DATABASE.
 *
 * Returns: %TRUE if the request is queued
 */
gboolean
mbd_builder_submit (MbdBuilder *self, MbdBuildRequest *request, GError **error)
{
  g_return_val_if_fail (MBD_IS_BUILDER (self), FALSE);
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (request), FALSE);

  if (mbd_build_request_get_key (request) != NULL)
    return mbd_throw (error, MBD_ERROR_EXISTS, "build %s was submitted already",
                      mbd_build_request_get_key (request));
  g_autofree char *key = make_key (request);
  g_autofree char *dir = builds_dir (self);
  g_autofree char *build_dir = g_build_filename (dir, key, NULL);
  if (g_mkdir_with_parents (build_dir, 0750) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s",
                   build_dir, g_strerror (saved));
      return FALSE;
    }
  g_autofree char *dsc_name = g_path_get_basename (mbd_build_request_get_dsc_path (request));
  g_autofree char *dsc_copy = g_build_filename (build_dir, dsc_name, NULL);
  if (!copy_sources (request, build_dir, error))
    {
      mbd_remove_tree (build_dir);
      return FALSE;
    }
  mbd_build_request_set_key (request, key, dir);
  mbd_build_request_set_dsc_path (request, dsc_copy);

  MbdDb *db = builder_db (self);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "INSERT INTO builds (key, source, version, distribution, codename, architecture, state,"
      " request, owner, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, strftime('%s', 'now'))",
      error);
  if (stmt == NULL)
    return FALSE;
  g_autofree char *settings = mbd_build_request_settings_to_json (request);
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, mbd_build_request_get_source (request), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, mbd_build_request_get_version (request), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, mbd_build_request_get_distribution (request), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, mbd_build_request_get_codename (request), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, mbd_build_request_get_architecture (request), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 7, settings, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 8, self->owner, -1, SQLITE_TRANSIENT);
  if (!mbd_db_step_done (db, stmt, error))
    return FALSE;

  g_queue_push_tail (&self->queue, g_object_ref (request));
  schedule_dispatch (self);
  return TRUE;
}

/* Requests of the database that no live process owns, in submission order. */
static GPtrArray *
orphaned_builds (MbdBuilder *self, GError **error)
{
  MbdDb *db = builder_db (self);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT " MBD_BUILD_ROW_COLUMNS ", owner, workdir FROM builds WHERE state IN (0, 1)"
      " ORDER BY id",
      error);
  if (stmt == NULL)
    return NULL;
  g_autofree char *dir = builds_dir (self);
  g_autoptr (GPtrArray) orphans = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *owner = (const char *) sqlite3_column_text (stmt, 9);
      if (owner_is_alive (owner))
        continue;
      MbdBuildRequest *request = mbd_build_request_new_from_row (stmt, dir, error);
      if (request == NULL)
        return NULL;
      kill_leftovers (self, (const char *) sqlite3_column_text (stmt, 10),
                      mbd_build_request_get_key (request));
      g_ptr_array_add (orphans, request);
    }
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db, rc, "cannot list the builds", error);
      return NULL;
    }
  return g_steal_pointer (&orphans);
}

/* Queues the builds no live process owns (after killing what is left of them). */
static gboolean
adopt_orphans (MbdBuilder *self, GError **error)
{
  g_autoptr (GPtrArray) orphans = orphaned_builds (self, error);

  if (orphans == NULL)
    return FALSE;
  for (guint i = 0; i < orphans->len; i++)
    {
      MbdBuildRequest *request = orphans->pdata[i];
      mbd_build_request_set_state_silently (request, MBD_BUILD_STATE_QUEUED);
      if (!update_row (self, request, self->owner, NULL, FALSE, 0, error))
        return FALSE;
      g_queue_push_tail (&self->queue, g_object_ref (request));
    }
  schedule_dispatch (self);
  return TRUE;
}

/* A started builder also adopts builds whose process died while it runs (such as a local
 * `mbd build` killed while the server runs). */
static gboolean
adopt_periodically (gpointer user_data)
{
  MbdBuilder *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!adopt_orphans (self, &error))
    g_warning ("adopting orphaned builds: %s", error->message);
  return G_SOURCE_CONTINUE;
}

/**
 * mbd_builder_start:
 * @self: a builder
 *
 * Adopts the builds of the database that no running process owns — queued ones and ones
 * interrupted while building (their process died: what is left of them is killed and their
 * work directory removed) — and queues them again. [method@Mbd.Instance.start] calls it, so
 * reopening an instance whose process was killed completes its builds. While started, the
 * builder looks for such builds every 30 seconds.
 *
 * Returns: %TRUE on success
 */
gboolean
mbd_builder_start (MbdBuilder *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_BUILDER (self), FALSE);

  if (self->started)
    return TRUE;
  if (!adopt_orphans (self, error))
    return FALSE;
  self->started = TRUE;
  GSource *source = g_timeout_source_new_seconds (MBD_BUILDER_ADOPT_INTERVAL);
  g_source_set_callback (source, adopt_periodically, self, NULL);
  g_source_set_static_name (source, "[mbd] adopt orphaned builds");
  self->adopt_id = g_source_attach (source, self->context);
  g_source_unref (source);
  return TRUE;
}

/**
 * mbd_builder_stop:
 * @self: a builder
 *
 * Cancels the running builds and puts them back in the queue of the database, unowned, for the
 * next [method@Mbd.Builder.start]; queued builds stay queued. Returns once the running builds'
 * processes are gone (a few seconds at most).
 */
void
mbd_builder_stop (MbdBuilder *self)
{
  g_return_if_fail (MBD_IS_BUILDER (self));

  g_autoptr (GError) error = NULL;
  while (!g_queue_is_empty (&self->queue))
    {
      g_autoptr (MbdBuildRequest) request = g_queue_pop_head (&self->queue);
      if (!set_row_state (self, mbd_build_request_get_key (request), MBD_BUILD_STATE_QUEUED,
                          &error))
        {
          g_warning ("%s", error->message);
          g_clear_error (&error);
        }
    }
  GHashTableIter iter;
  RunningBuild *build;
  g_hash_table_iter_init (&iter, self->running);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &build))
    {
      build->stopping = TRUE;
      if (has_unshare_session (build->workdir))
        kill_build_group (build->workdir, mbd_build_request_get_key (build->request));
      g_cancellable_cancel (build->cancellable);
    }
  if (self->adopt_id != 0)
    {
      g_source_destroy (g_main_context_find_source_by_id (self->context, self->adopt_id));
      self->adopt_id = 0;
    }
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (g_hash_table_size (self->running) > 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (self->context, TRUE);
  self->started = FALSE;
}

static gboolean
cancel_in_memory (MbdBuilder *self, const char *key)
{
  RunningBuild *build = g_hash_table_lookup (self->running, key);

  if (build != NULL)
    {
      /* an unshare session dies at once; the helper's SIGTERM would let sbuild spend seconds
       * deleting the chroot it unpacked, which we do anyway */
      if (has_unshare_session (build->workdir))
        kill_build_group (build->workdir, key);
      g_cancellable_cancel (build->cancellable);
      return TRUE;
    }
  for (GList *l = self->queue.head; l != NULL; l = l->next)
    if (g_strcmp0 (mbd_build_request_get_key (l->data), key) == 0)
      {
        g_autoptr (MbdBuildRequest) request = l->data;
        g_queue_delete_link (&self->queue, l);
        mbd_build_request_set_state (request, MBD_BUILD_STATE_CANCELLED);
        set_row_state (self, key, MBD_BUILD_STATE_CANCELLED, NULL);
        return TRUE;
      }
  return FALSE;
}

/**
 * mbd_builder_cancel:
 * @self: a builder
 * @key: the key of a queued or running build
 *
 * Cancels a build. A queued build is cancelled at once. A running build's whole process group
 * gets SIGTERM, then SIGKILL after 3 s, and its unpacked chroot is removed; the request ends
 * cancelled when sbuild is gone. This also works for a build that another process of the same
 * instance runs (such as a local `mbd build` while the server runs), or whose process died.
 *
 * Errors: %MBD_ERROR_NOT_FOUND if there is no such build, %MBD_ERROR_INVALID_ARGUMENT if it has
 * ended already.
 *
 * Returns: %TRUE if the build is or will be cancelled
 */
gboolean
mbd_builder_cancel (MbdBuilder *self, const char *key, GError **error)
{
  g_return_val_if_fail (MBD_IS_BUILDER (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  if (cancel_in_memory (self, key))
    return TRUE;
  g_auto (RowInfo) info = { 0 };
  if (!read_row_info (self, key, &info, error))
    return FALSE;
  if (mbd_build_state_is_final (info.state))
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "build %s has ended already (%s)", key,
                      mbd_build_state_to_string (info.state));
  MbdDb *db = builder_db (self);
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "UPDATE builds SET cancel_requested = 1 WHERE key = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  if (!mbd_db_step_done (db, stmt, error))
    return FALSE;
  if (info.state == MBD_BUILD_STATE_BUILDING && owner_is_alive (info.owner))
    {
      /* the owner sees sbuild end, reads cancel_requested, removes the work directory and
       * records the cancellation */
      kill_build_group (info.workdir, key);
      return TRUE;
    }
  kill_leftovers (self, info.workdir, key);
  return set_row_state (self, key, MBD_BUILD_STATE_CANCELLED, error);
}

/**
 * mbd_builder_lookup:
 * @self: a builder
 * @key: a build key
 *
 * Finds a build: the live request if this builder has it, otherwise as the database has it.
 *
 * Errors: %MBD_ERROR_NOT_FOUND if there is no such build.
 *
 * Returns: (transfer full): the request, or %NULL with @error set
 */
MbdBuildRequest *
mbd_builder_lookup (MbdBuilder *self, const char *key, GError **error)
{
  g_return_val_if_fail (MBD_IS_BUILDER (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  RunningBuild *build = g_hash_table_lookup (self->running, key);
  if (build != NULL)
    return g_object_ref (build->request);
  MbdDb *db = builder_db (self);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT " MBD_BUILD_ROW_COLUMNS " FROM builds WHERE key = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      mbd_throw (error, MBD_ERROR_NOT_FOUND, "build '%s' does not exist; see 'mbd build ls'", key);
      return NULL;
    }
  if (rc != SQLITE_ROW)
    {
      mbd_db_throw (db, rc, "cannot read a build", error);
      return NULL;
    }
  g_autofree char *dir = builds_dir (self);
  return mbd_build_request_new_from_row (stmt, dir, error);
}

/**
 * mbd_builder_list:
 * @self: a builder
 *
 * Lists every build of the instance as the database has it, oldest first.
 *
 * Returns: (transfer container) (element-type Mbd.BuildRequest): the builds, or %NULL with
 *   @error set
 */
GPtrArray *
mbd_builder_list (MbdBuilder *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_BUILDER (self), NULL);

  MbdDb *db = builder_db (self);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT " MBD_BUILD_ROW_COLUMNS " FROM builds ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  g_autofree char *dir = builds_dir (self);
  g_autoptr (GPtrArray) builds = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      MbdBuildRequest *request = mbd_build_request_new_from_row (stmt, dir, error);
      if (request == NULL)
        return NULL;
      g_ptr_array_add (builds, request);
    }
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db, rc, "cannot list the builds", error);
      return NULL;
    }
  return g_steal_pointer (&builds);
}
