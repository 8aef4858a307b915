/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "mbd-server-api.h"

/* mini-buildd's administration calls: start, stop (ADMIN, C), remake_chroots (ADMIN, C, M),
 * setup (ADMIN, C, M; the inspect report only). debmirror is in mbd-server-api-debmirror.c, wake
 * and handshake in mbd-server-api-remotes.c. */

/* -- start, stop -------------------------------------------------------------------------- */

/* The engine (packager and builder) stops; HTTP, the repositories and the read calls stay up.
 * As in mini-buildd, the state is not persisted: a restarted mbd-server starts it again. */
void
mbd_server_api_stop (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  if (!mbd_server_api_check (msg, instance, query, "stop",
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, NULL))
    return;
  mbd_instance_stop (instance);
  mbd_server_api_answer_empty (msg, query);
}

void
mbd_server_api_start (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  if (!mbd_server_api_check (msg, instance, query, "start",
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, NULL))
    return;
  g_autoptr (GError) error = NULL;
  if (!mbd_instance_start (instance, &error))
    {
      mbd_server_api_fail (msg, "start", error);
      return;
    }
  mbd_server_api_answer_empty (msg, query);
}

/* -- maintenance -------------------------------------------------------------------------- */

/* mini-buildd's MAINTENANCE flag: one such call at a time, with the engine stopped. */
static const char *maintenance_call;

static gboolean
maintenance_begin (SoupServerMessage *msg, const char *call)
{
  if (maintenance_call != NULL)
    {
      g_autofree char *detail = g_strdup_printf (
          "API call '%s': the instance is in maintenance (%s runs); try again later", call,
          maintenance_call);
      mbd_server_problem (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, detail);
      return FALSE;
    }
  maintenance_call = call;
  return TRUE;
}

/* -- remake_chroots ----------------------------------------------------------------------- */

typedef struct
{
  MbdServerApiPending *pending;
  MbdInstance *instance; /* (owned) */
  GPtrArray *chroots;    /* (owned): the existing MbdChroot of each key */
  guint next;            /* index into chroots */
  int step;              /* 0 remove, 1 create, 2 check */
  MbdChroot *current;    /* (owned) (nullable): the chroot made anew */
  JsonObject *result;    /* (owned) */
  gboolean restart;      /* whether the engine ran before */
} RemakeCall;

static void remake_step (RemakeCall *call);

static void
remake_finish (RemakeCall *call)
{
  if (call->restart)
    {
      g_autoptr (GError) error = NULL;
      if (!mbd_instance_start (call->instance, &error))
        g_warning ("remake_chroots: cannot restart the engine: %s", error->message);
    }
  maintenance_call = NULL;
  g_autoptr (JsonNode) root = json_node_init_object (json_node_alloc (), call->result);
  mbd_server_api_answer (call->pending->msg, call->pending->query, root);
  mbd_server_api_resume (call->pending);
  g_object_unref (call->instance);
  g_ptr_array_unref (call->chroots);
  g_clear_object (&call->current);
  json_object_unref (call->result);
  g_free (call);
}

static char *
chroot_key (MbdChroot *chroot)
{
  return g_strdup_printf ("%s:%s", mbd_chroot_get_codename (chroot),
                          mbd_chroot_get_architecture (chroot));
}

static void
remake_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  RemakeCall *call = user_data;
  MbdChroot *chroot = MBD_CHROOT (object);
  g_autoptr (GError) error = NULL;
  gboolean ok = call->step == 0   ? mbd_chroot_remove_finish (chroot, result, &error)
                : call->step == 1 ? mbd_chroot_create_finish (chroot, result, &error)
                                  : mbd_chroot_check_finish (chroot, result, &error);
  /* a chroot that is not there any more need not be removed */
  if (!ok && call->step == 0 && g_error_matches (error, MBD_ERROR, MBD_ERROR_NOT_FOUND))
    ok = TRUE;
  g_autofree char *key = chroot_key (chroot);
  if (!ok)
    {
      g_autofree char *failed = g_strdup_printf ("Failed: %s", error->message);
      json_object_set_string_member (call->result, key, failed);
      call->next++;
      call->step = 0;
      g_clear_object (&call->current);
    }
  else if (call->step == 2)
    {
      json_object_set_string_member (call->result, key, "Success");
      call->next++;
      call->step = 0;
      g_clear_object (&call->current);
    }
  else
    call->step++;
  remake_step (call);
}

static void
remake_step (RemakeCall *call)
{
  if (call->next >= call->chroots->len)
    {
      remake_finish (call);
      return;
    }
  MbdChroot *old = g_ptr_array_index (call->chroots, call->next);
  switch (call->step)
    {
    case 0:
      mbd_chroot_remove_async (old, NULL, remake_done, call);
      break;
    case 1:
      call->current
          = mbd_chroot_new (call->instance, mbd_chroot_get_codename (old),
                            mbd_chroot_get_architecture (old), mbd_chroot_get_backend (old));
      if (mbd_chroot_get_mirror (old) != NULL)
        mbd_chroot_set_mirror (call->current, mbd_chroot_get_mirror (old));
      mbd_chroot_create_async (call->current, NULL, NULL, remake_done, call);
      break;
    default:
      mbd_chroot_check_async (call->current, NULL, remake_done, call);
      break;
    }
}

/* Removes, creates and checks each chroot of keys (codename:arch, comma-separated; default all)
 * in turn, with the engine stopped, in worker threads: the main loop keeps serving; the answer,
 * {key: "Success" | "Failed: …"}, comes when all are done. */
void
mbd_server_api_remake_chroots (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  if (!mbd_server_api_check (msg, instance, query, "remake_chroots",
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, NULL))
    return;
  g_auto (GStrv) keys = mbd_server_api_arg_list (query, "keys");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all = mbd_instance_list_chroots (instance, &error);
  if (all == NULL)
    {
      mbd_server_api_fail (msg, "remake_chroots", error);
      return;
    }
  g_autoptr (GPtrArray) chosen = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
    {
      gboolean found = FALSE;
      for (guint i = 0; i < all->len && !found; i++)
        {
          g_autofree char *key = chroot_key (g_ptr_array_index (all, i));
          found = strcmp (key, keys[k]) == 0;
        }
      if (!found)
        {
          g_autofree char *what
              = g_strdup_printf ("names no chroot: '%s' (use codename:arch)", keys[k]);
          mbd_server_api_bad_arg (msg, "remake_chroots", "keys", what);
          return;
        }
    }
  for (guint i = 0; i < all->len; i++)
    {
      g_autofree char *key = chroot_key (g_ptr_array_index (all, i));
      if (keys == NULL || g_strv_contains ((const char *const *) keys, key))
        g_ptr_array_add (chosen, g_object_ref (g_ptr_array_index (all, i)));
    }
  if (!maintenance_begin (msg, "remake_chroots"))
    return;

  RemakeCall *call = g_new0 (RemakeCall, 1);
  call->instance = g_object_ref (instance);
  call->chroots = g_steal_pointer (&chosen);
  call->result = json_object_new ();
  call->restart = mbd_instance_is_started (instance);
  mbd_instance_stop (instance);
  call->pending = mbd_server_api_pause (msg, query);
  remake_step (call);
}

/* -- setup (inspect) ---------------------------------------------------------------------- */

typedef struct
{
  JsonBuilder *builder;
  int severity;
  GPtrArray *messages;
} Report;

static void
add_instance (Report *report,
              const char *class_name,
              const char *identity,
              const char *status,
              const char *detail)
{
  g_autofree char *both = g_strdup_printf ("%s\n%s", class_name, identity);
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, both, -1);
  JsonBuilder *builder = report->builder;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, hash);
  json_builder_set_member_name (builder, "class");
  json_builder_add_string_value (builder, class_name);
  json_builder_set_member_name (builder, "identity");
  json_builder_add_string_value (builder, identity);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, status);
  json_builder_set_member_name (builder, "detail");
  json_builder_add_string_value (builder, detail != NULL ? detail : "");
  json_builder_end_object (builder);
  int severity = strcmp (status, "MISSING") == 0 || strcmp (status, "CHANGED") == 0 ? 2
                 : strcmp (status, "FAILED") == 0                                   ? 3
                 : strcmp (status, "EXISTS") == 0                                   ? 1
                                                                                    : 0;
  if (severity > 0)
    g_ptr_array_add (report->messages,
                     g_strdup_printf ("%s %s: %s%s%s", class_name, identity, status,
                                      detail != NULL && detail[0] ? ": " : "",
                                      detail != NULL ? detail : ""));
  report->severity = MAX (report->severity, severity);
}

static const char *
source_status (MbdSourceState state)
{
  return state == MBD_SOURCE_STATE_ACTIVE ? "ACTIVE" : "EXISTS";
}

static const char *
chroot_status (MbdChroot *chroot)
{
  const char *state = mbd_chroot_state_to_string (mbd_chroot_get_state (chroot));
  return g_ascii_strcasecmp (state, "active") == 0   ? "ACTIVE"
         : g_ascii_strcasecmp (state, "failed") == 0 ? "FAILED"
                                                     : "EXISTS";
}

static gboolean
setup_inspect (MbdInstance *instance, GHashTable *query, Report *report, GError **error)
{
  g_autoptr (GPtrArray) sources = mbd_instance_list_sources (instance, error);
  g_autoptr (GPtrArray) repos
             = sources != NULL ? mbd_instance_list_repositories (instance, error) : NULL;
  g_autoptr (GPtrArray) chroots
             = repos != NULL ? mbd_instance_list_chroots (instance, error) : NULL;
  if (chroots == NULL)
    return FALSE;
  const char *identity = mbd_server_api_arg (query, "identity");
  gboolean same = identity == NULL || strcmp (identity, mbd_instance_get_identity (instance)) == 0;
  g_autofree char *changed = same
                                 ? NULL
                                 : g_strdup_printf ("the identity is '%s', not '%s'",
                                                    mbd_instance_get_identity (instance), identity);
  add_instance (report, "Daemon", mbd_instance_get_identity (instance),
                same ? (mbd_instance_is_started (instance) ? "ACTIVE" : "EXISTS") : "CHANGED",
                changed);

  /* sources: codename, ...; what exists and is not asked for is listed as it is */
  g_auto (GStrv) want_sources = mbd_server_api_arg_list (query, "sources");
  for (guint i = 0; i < sources->len; i++)
    {
      MbdSource *source = g_ptr_array_index (sources, i);
      add_instance (report, "Source", mbd_source_get_codename (source),
                    source_status (mbd_source_get_state (source)),
                    mbd_source_get_check_message (source));
    }
  for (guint i = 0; want_sources != NULL && want_sources[i] != NULL; i++)
    {
      gboolean found = FALSE;
      for (guint s = 0; s < sources->len && !found; s++)
        found = strcmp (mbd_source_get_codename (g_ptr_array_index (sources, s)), want_sources[i])
                == 0;
      if (!found)
        add_instance (report, "Source", want_sources[i], "MISSING", NULL);
    }

  /* repositories: id:layout:codename+codename */
  g_auto (GStrv) want_repos = mbd_server_api_arg_list (query, "repositories");
  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, i);
      const char *id = mbd_repository_get_identity (repo);
      g_autoptr (GString) changes = g_string_new (NULL);
      for (guint w = 0; want_repos != NULL && want_repos[w] != NULL; w++)
        {
          g_auto (GStrv) parts = g_strsplit (want_repos[w], ":", 3);
          if (strcmp (parts[0], id) != 0)
            continue;
          const char *layout = mbd_layout_get_name (mbd_repository_get_layout (repo));
          if (parts[1] != NULL && parts[1][0] != '\0' && g_ascii_strcasecmp (parts[1], layout) != 0)
            g_string_append_printf (changes, "%slayout %s, not %s", changes->len ? "; " : "",
                                    layout, parts[1]);
          g_auto (GStrv) codenames = parts[1] != NULL && parts[2] != NULL
                                         ? g_strsplit (parts[2], "+", -1)
                                         : g_new0 (char *, 1);
          for (guint c = 0; codenames[c] != NULL; c++)
            if (mbd_repository_lookup_distribution (repo, codenames[c]) == NULL)
              g_string_append_printf (changes, "%sno distribution %s", changes->len ? "; " : "",
                                      codenames[c]);
        }
      add_instance (report, "Repository", id, changes->len ? "CHANGED" : "ACTIVE", changes->str);
    }
  for (guint w = 0; want_repos != NULL && want_repos[w] != NULL; w++)
    {
      g_auto (GStrv) parts = g_strsplit (want_repos[w], ":", 2);
      gboolean found = FALSE;
      for (guint r = 0; r < repos->len && !found; r++)
        found = strcmp (mbd_repository_get_identity (g_ptr_array_index (repos, r)), parts[0]) == 0;
      if (!found)
        add_instance (report, "Repository", parts[0], "MISSING", want_repos[w]);
    }

  /* chroots: codename:arch+arch */
  g_auto (GStrv) want_chroots = mbd_server_api_arg_list (query, "chroots");
  for (guint i = 0; i < chroots->len; i++)
    {
      MbdChroot *chroot = g_ptr_array_index (chroots, i);
      g_autofree char *key = chroot_key (chroot);
      add_instance (report, "Chroot", key, chroot_status (chroot), mbd_chroot_get_message (chroot));
    }
  for (guint i = 0; want_chroots != NULL && want_chroots[i] != NULL; i++)
    {
      g_auto (GStrv) parts = g_strsplit (want_chroots[i], ":", 2);
      g_auto (GStrv) arches
              = parts[1] != NULL ? g_strsplit (parts[1], "+", -1) : g_new0 (char *, 1);
      for (guint a = 0; arches[a] != NULL; a++)
        {
          g_autofree char *want = g_strdup_printf ("%s:%s", parts[0], arches[a]);
          gboolean found = FALSE;
          for (guint c = 0; c < chroots->len && !found; c++)
            {
              g_autofree char *key = chroot_key (g_ptr_array_index (chroots, c));
              found = strcmp (key, want) == 0;
            }
          if (!found)
            add_instance (report, "Chroot", want, "MISSING", NULL);
        }
    }
  return TRUE;
}

/* The inspect part of mini-buildd's setup: {setup: {the arguments}, instances: [{id, class,
 * identity, status, detail}], report: {severity 0-3, messages}}. update and pca (making the
 * instance match) are not implemented: 501; the mbd CLI does it. */
void
mbd_server_api_setup (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  if (!mbd_server_api_check (msg, instance, query, "setup",
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, NULL))
    return;
  if (mbd_server_api_arg (query, "update") != NULL || mbd_server_api_arg (query, "pca") != NULL)
    {
      mbd_server_problem (msg, SOUP_STATUS_NOT_IMPLEMENTED,
                          "API call 'setup': update and pca are not implemented yet; setup "
                          "inspects only (use the mbd CLI to change the instance)");
      return;
    }
  if (!maintenance_begin (msg, "setup"))
    return;
  Report report = { json_builder_new (), 0, g_ptr_array_new_with_free_func (g_free) };
  g_autoptr (JsonBuilder) builder = report.builder;
  g_autoptr (GPtrArray) messages = report.messages;
  g_autoptr (GError) error = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "setup");
  json_builder_begin_object (builder);
  GHashTableIter iter;
  gpointer name, value;
  if (query != NULL)
    {
      g_hash_table_iter_init (&iter, query);
      while (g_hash_table_iter_next (&iter, &name, &value))
        if (strcmp (name, "confirm") != 0 && strcmp (name, "output") != 0)
          {
            json_builder_set_member_name (builder, name);
            json_builder_add_string_value (builder, value);
          }
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "instances");
  json_builder_begin_array (builder);
  gboolean ok = setup_inspect (instance, query, &report, &error);
  maintenance_call = NULL;
  if (!ok)
    {
      mbd_server_api_fail (msg, "setup", error);
      return;
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "report");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "severity");
  json_builder_add_int_value (builder, report.severity);
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  for (guint i = 0; i < messages->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (messages, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  mbd_server_api_answer (msg, query, root);
}
