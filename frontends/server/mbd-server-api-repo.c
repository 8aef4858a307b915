/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "mbd-server-api.h"

/* mini-buildd's repository calls: migrate (STAFF, C), remove (ADMIN, C), snapshot_create and
 * snapshot_delete (ADMIN, R, C), uploaders (ADMIN, R) and debdiff (NONE).
 *
 * migrate, remove and the snapshot calls pause the message and run the library's _async call,
 * which changes and publishes the repository in a worker thread with its own database
 * connection: the main loop keeps serving while a large suite is published. */

/* The repository of the distribution argument, or NULL after answering the problem. */
static MbdRepository *
distribution_repository (SoupServerMessage *msg,
                         MbdInstance *instance,
                         GHashTable *query,
                         const char *call)
{
  g_autoptr (GError) error = NULL;
  MbdRepository *repo = mbd_instance_lookup_repository_for_distribution (
      instance, mbd_server_api_arg (query, "distribution"), &error);
  if (repo == NULL)
    mbd_server_api_bad_arg (msg, call, "distribution", error->message);
  return repo;
}

/* A repository call waiting for its worker thread. */
typedef struct
{
  MbdServerApiPending *pending; /* (owned) */
  const char *call;
  gboolean (*finish) (MbdRepository *, GAsyncResult *, GError **);
} RepoCall;

static void
repo_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RepoCall *call = user_data;
  g_autoptr (GError) error = NULL;

  if (call->finish (MBD_REPOSITORY (source), result, &error))
    mbd_server_api_answer_empty (call->pending->msg, call->pending->query);
  else
    mbd_server_api_fail (call->pending->msg, call->call, error);
  mbd_server_api_resume (call->pending);
  g_free (call);
}

static RepoCall *
repo_call_new (SoupServerMessage *msg,
               GHashTable *query,
               const char *call,
               gboolean (*finish) (MbdRepository *, GAsyncResult *, GError **))
{
  RepoCall *repo_call = g_new0 (RepoCall, 1);
  repo_call->pending = mbd_server_api_pause (msg, query);
  repo_call->call = call;
  repo_call->finish = finish;
  return repo_call;
}

void
mbd_server_api_migrate (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *const mandatory[] = { "source", "distribution", NULL };
  gboolean full;
  if (!mbd_server_api_check (msg, instance, query, "migrate",
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, mandatory)
      || !mbd_server_api_arg_bool (msg, query, "migrate", "full", &full))
    return;
  g_autoptr (MbdRepository) repo = distribution_repository (msg, instance, query, "migrate");
  if (repo == NULL)
    return;
  mbd_repository_migrate_async (
      repo, mbd_server_api_arg (query, "source"), mbd_server_api_arg (query, "distribution"),
      mbd_server_api_arg (query, "version"), full, NULL, repo_call_done,
      repo_call_new (msg, query, "migrate", mbd_repository_migrate_finish));
}

void
mbd_server_api_remove (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *const mandatory[] = { "source", "distribution", NULL };
  gboolean without_rollback;
  if (!mbd_server_api_check (msg, instance, query, "remove",
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, mandatory)
      || !mbd_server_api_arg_bool (msg, query, "remove", "without_rollback", &without_rollback))
    return;
  g_autoptr (MbdRepository) repo = distribution_repository (msg, instance, query, "remove");
  if (repo == NULL)
    return;
  mbd_repository_remove_async (
      repo, mbd_server_api_arg (query, "source"), mbd_server_api_arg (query, "distribution"),
      mbd_server_api_arg (query, "version"), without_rollback, NULL, repo_call_done,
      repo_call_new (msg, query, "remove", mbd_repository_remove_finish));
}

static gboolean
create_snapshot_finish (MbdRepository *repo, GAsyncResult *result, GError **error)
{
  g_autoptr (MbdSnapshot) snapshot = mbd_repository_create_snapshot_finish (repo, result, error);
  return snapshot != NULL;
}

static void
snapshot_call (SoupServerMessage *msg,
               MbdInstance *instance,
               GHashTable *query,
               const char *call,
               gboolean create)
{
  const char *const mandatory[] = { "distribution", "name", NULL };
  if (!mbd_server_api_check (
          msg, instance, query, call,
          MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM | MBD_SERVER_API_RUNNING, mandatory))
    return;
  g_autoptr (MbdRepository) repo = distribution_repository (msg, instance, query, call);
  if (repo == NULL)
    return;
  const char *distribution = mbd_server_api_arg (query, "distribution");
  const char *name = mbd_server_api_arg (query, "name");
  if (create)
    mbd_repository_create_snapshot_async (repo, distribution, name, NULL, repo_call_done,
                                          repo_call_new (msg, query, call, create_snapshot_finish));
  else
    mbd_repository_delete_snapshot_async (
        repo, distribution, name, NULL, repo_call_done,
        repo_call_new (msg, query, call, mbd_repository_delete_snapshot_finish));
}

void
mbd_server_api_snapshot_create (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  snapshot_call (msg, instance, query, "snapshot_create", TRUE);
}

void
mbd_server_api_snapshot_delete (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  snapshot_call (msg, instance, query, "snapshot_delete", FALSE);
}

/* -- uploaders (ADMIN, R) ----------------------------------------------------------------- */

/* The fingerprints of the keyring files directly in @dir (*.gpg, *.asc, *.kbx). */
static gboolean
add_keyring_dir (MbdGnupg *gnupg, const char *dir, GError **error)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;
  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)
          || !(g_str_has_suffix (name, ".gpg") || g_str_has_suffix (name, ".asc")
               || g_str_has_suffix (name, ".kbx")))
        continue;
      g_auto (GStrv) imported = mbd_gnupg_import_keyring_file (gnupg, path, NULL, error);
      if (imported == NULL)
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  MbdServerApiPending *pending;
  char *top;        /* <home>/uploaders */
  GPtrArray *ids;   /* (element-type utf8): the repositories */
  GArray *allow;    /* (element-type gboolean): their allow_unauthenticated_uploads */
  JsonNode *result; /* set by the thread */
} UploadersCall;

static void
uploaders_call_free (UploadersCall *call)
{
  g_free (call->top);
  g_ptr_array_unref (call->ids);
  g_array_unref (call->allow);
  g_clear_pointer (&call->result, json_node_unref);
  g_free (call);
}

static void
add_uploader (JsonBuilder *builder, const char *fingerprint)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "key");
  json_builder_add_string_value (builder, fingerprint);
  json_builder_set_member_name (builder, "fingerprints");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, fingerprint);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "subkeys");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  const char *const nulls[] = { "created", "expires", "user", NULL };
  for (guint i = 0; nulls[i] != NULL; i++)
    {
      json_builder_set_member_name (builder, nulls[i]);
      json_builder_add_null_value (builder);
    }
  json_builder_end_object (builder);
}

/* Reads the keyrings into throw-away GnuPG homes (gpg runs for each file): in a worker thread,
 * which touches no instance object. */
static void
uploaders_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  UploadersCall *call = task_data;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;

  json_builder_begin_object (builder);
  for (guint i = 0; i < call->ids->len; i++)
    {
      const char *id = g_ptr_array_index (call->ids, i);
      g_autoptr (MbdGnupg) gnupg = mbd_gnupg_new_temporary (&error);
      g_autofree char *own = g_build_filename (call->top, id, NULL);
      g_auto (GStrv) fingerprints = NULL;
      if (gnupg == NULL || !add_keyring_dir (gnupg, call->top, &error)
          || !add_keyring_dir (gnupg, own, &error)
          || (fingerprints = mbd_gnupg_list_fingerprints (gnupg, FALSE, &error)) == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      json_builder_set_member_name (builder, id);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "allow_unauthenticated_uploads");
      json_builder_add_boolean_value (builder, g_array_index (call->allow, gboolean, i));
      json_builder_set_member_name (builder, "uploaders");
      json_builder_begin_array (builder);
      for (guint k = 0; fingerprints[k] != NULL; k++)
        add_uploader (builder, fingerprints[k]);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  call->result = json_builder_get_root (builder);
  g_task_return_boolean (task, TRUE);
}

static void
uploaders_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  UploadersCall *call = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    mbd_server_api_fail (call->pending->msg, "uploaders", error);
  else
    mbd_server_api_answer (call->pending->msg, call->pending->query, call->result);
  g_clear_pointer (&call->pending, mbd_server_api_resume);
}

/* {repo: {allow_unauthenticated_uploads, uploaders: [{key, fingerprints, subkeys, created,
 * expires, user}]}}: the keys of <home>/uploaders/ and <home>/uploaders/<repo>/ (the instance
 * key may upload anywhere and is not listed, as mini-buildd does not list its own). */
void
mbd_server_api_uploaders (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  if (!mbd_server_api_check (msg, instance, query, "uploaders", MBD_SERVER_API_RUNNING, NULL))
    return;
  g_auto (GStrv) wanted = mbd_server_api_arg_list (query, "repositories");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (instance, &error);
  if (repos == NULL)
    {
      mbd_server_api_fail (msg, "uploaders", error);
      return;
    }
  UploadersCall *call = g_new0 (UploadersCall, 1);
  call->top = g_build_filename (mbd_instance_get_home (instance), "uploaders", NULL);
  call->ids = g_ptr_array_new_with_free_func (g_free);
  call->allow = g_array_new (FALSE, FALSE, sizeof (gboolean));
  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, i);
      const char *id = mbd_repository_get_identity (repo);
      if (wanted != NULL && !g_strv_contains ((const char *const *) wanted, id))
        continue;
      gboolean allow = mbd_repository_get_allow_unauthenticated_uploads (repo);
      g_ptr_array_add (call->ids, g_strdup (id));
      g_array_append_val (call->allow, allow);
    }
  call->pending = mbd_server_api_pause (msg, query);
  g_autoptr (GTask) task = g_task_new (NULL, NULL, uploaders_done, NULL);
  g_task_set_task_data (task, call, (GDestroyNotify) uploaders_call_free);
  g_task_run_in_thread (task, uploaders_thread);
}

/* -- debdiff (NONE) ----------------------------------------------------------------------- */

/* The pool .dsc files of @source in @repo_dir, sorted by version (lowest first). */
static GPtrArray *
pool_dscs (const char *repo_dir, const char *source)
{
  GPtrArray *found = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *prefix
      = g_str_has_prefix (source, "lib") ? g_strndup (source, 4) : g_strndup (source, 1);
  g_autofree char *pool = g_build_filename (repo_dir, "pool", NULL);
  g_autoptr (GDir) components = g_dir_open (pool, 0, NULL);
  const char *component;
  g_autofree char *start = g_strdup_printf ("%s_", source);
  while (components != NULL && (component = g_dir_read_name (components)) != NULL)
    {
      g_autofree char *dir = g_build_filename (pool, component, prefix, source, NULL);
      g_autoptr (GDir) files = g_dir_open (dir, 0, NULL);
      const char *name;
      while (files != NULL && (name = g_dir_read_name (files)) != NULL)
        if (g_str_has_prefix (name, start) && g_str_has_suffix (name, ".dsc"))
          g_ptr_array_add (found, g_build_filename (dir, name, NULL));
    }
  return found;
}

/* The upstream-revision part of a pool .dsc name (no epoch: pool names drop it). */
static char *
dsc_version (const char *path, const char *source)
{
  g_autofree char *base = g_path_get_basename (path);
  return g_strndup (base + strlen (source) + 1, strlen (base) - strlen (source) - 1 - 4);
}

static int
compare_dsc (gconstpointer a, gconstpointer b, gpointer source)
{
  g_autofree char *va = dsc_version (*(char **) a, source);
  g_autofree char *vb = dsc_version (*(char **) b, source);
  return mbd_deb_version_compare_strings (va, vb);
}

/* The dsc of @version (an epoch is ignored), or with @version NULL the one @back from the
 * newest; NULL if there is none. */
static const char *
pick_dsc (GPtrArray *dscs, const char *source, const char *version, guint back)
{
  if (version == NULL)
    return dscs->len > back ? g_ptr_array_index (dscs, dscs->len - 1 - back) : NULL;
  const char *colon = strchr (version, ':');
  const char *bare = colon != NULL ? colon + 1 : version;
  for (guint i = 0; i < dscs->len; i++)
    {
      g_autofree char *v = dsc_version (g_ptr_array_index (dscs, i), source);
      if (strcmp (v, bare) == 0)
        return g_ptr_array_index (dscs, i);
    }
  return NULL;
}

static void
debdiff_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  MbdServerApiPending *call = user_data;
  GSubprocess *proc = G_SUBPROCESS (object);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_subprocess_communicate_utf8_finish (proc, result, &out, &err, &error))
    mbd_server_api_fail (call->msg, "debdiff", error);
  /* debdiff exits 0 without and 1 with differences */
  else if (g_subprocess_get_exit_status (proc) > 1)
    {
      g_autofree char *detail = g_strdup_printf ("API call 'debdiff': debdiff failed: %s",
                                                 err != NULL ? g_strstrip (err) : "");
      mbd_server_problem (call->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, detail);
    }
  else
    {
      g_autofree char *valid = g_utf8_make_valid (out != NULL ? out : "", -1);
      mbd_server_api_answer_text (call->msg, call->query, valid);
    }
  mbd_server_api_resume (call);
}

/* debdiff of two pool .dsc of SOURCE in REPOSITORY: versiona and versionb, by default the two
 * newest (the previous and the current). Runs debdiff (devscripts) asynchronously. */
void
mbd_server_api_debdiff (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *const mandatory[] = { "source", "repository", NULL };
  if (!mbd_server_api_check (msg, instance, query, "debdiff", 0, mandatory))
    return;
  const char *source = mbd_server_api_arg (query, "source");
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdRepository) repo = mbd_instance_lookup_repository (
      instance, mbd_server_api_arg (query, "repository"), &error);
  if (repo == NULL)
    {
      mbd_server_api_bad_arg (msg, "debdiff", "repository", error->message);
      return;
    }
  if (strchr (source, '/') != NULL || source[0] == '.')
    {
      mbd_server_api_bad_arg (msg, "debdiff", "source", "is not a source package name");
      return;
    }
  g_autofree char *repo_dir = mbd_repository_dup_path (repo);
  g_autoptr (GPtrArray) dscs = pool_dscs (repo_dir, source);
  g_ptr_array_sort_with_data (dscs, compare_dsc, (gpointer) source);
  const char *a = pick_dsc (dscs, source, mbd_server_api_arg (query, "versiona"), 1);
  const char *b = pick_dsc (dscs, source, mbd_server_api_arg (query, "versionb"), 0);
  if (a == NULL || b == NULL)
    {
      g_autofree char *detail = g_strdup_printf (
          "API call 'debdiff': no %s .dsc of %s in the pool of repository %s",
          a == NULL ? "version a" : "version b", source, mbd_repository_get_identity (repo));
      mbd_server_problem (msg, SOUP_STATUS_NOT_FOUND, detail);
      return;
    }
  g_autoptr (GSubprocess) proc
             = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                 &error, "debdiff", a, b, NULL);
  if (proc == NULL)
    {
      g_autofree char *detail = g_strdup_printf (
          "API call 'debdiff': cannot run debdiff (install devscripts): %s", error->message);
      mbd_server_problem (msg, SOUP_STATUS_NOT_IMPLEMENTED, detail);
      return;
    }
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, debdiff_done,
                                       mbd_server_api_pause (msg, query));
}
