/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "mbd-server-api.h"

/* mini-buildd's read calls (level NONE): status, pub_key, sources_list, ls, show, snapshot_ls. */

/* -- status [with_repositories] ----------------------------------------------------------- */

/* {id: {codenames: [...], layout: {suite: {uploadable, experimental, migrates_to}}}} */
static JsonNode *
repositories_node (MbdInstance *instance, GError **error)
{
  g_autofree char *json = mbd_instance_repositories_json (instance, error);
  return json != NULL ? json_from_string (json, error) : NULL;
}

typedef struct
{
  MbdServerApiPending *pending;
  gboolean with_repositories;
} StatusCall;

static void
status_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StatusCall *call = user_data;
  MbdInstance *instance = MBD_INSTANCE (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdStatus) status = mbd_instance_get_status_finish (instance, result, &error);
  g_autofree char *json = status != NULL ? mbd_status_to_json (status) : NULL;
  g_autoptr (JsonNode) root = json != NULL ? json_from_string (json, &error) : NULL;
  g_autoptr (JsonNode) repos = root != NULL && call->with_repositories
                                   ? repositories_node (instance, &error)
                                   : NULL;

  if (root == NULL || (call->with_repositories && repos == NULL))
    mbd_server_api_fail (call->pending->msg, "status", error);
  else
    {
      if (repos != NULL)
        json_object_set_member (json_node_get_object (root), "repositories",
                                g_steal_pointer (&repos));
      mbd_server_api_answer (call->pending->msg, call->pending->query, root);
    }
  mbd_server_api_resume (call->pending);
  g_free (call);
}

void
mbd_server_api_status (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  gboolean with_repositories;
  if (!mbd_server_api_arg_bool (msg, query, "status", "with_repositories", &with_repositories))
    return;
  StatusCall *call = g_new0 (StatusCall, 1);
  call->pending = mbd_server_api_pause (msg, query);
  call->with_repositories = with_repositories;
  mbd_instance_get_status_async (instance, NULL, status_ready, call);
}

/* -- pub_key ------------------------------------------------------------------------------ */

void
mbd_server_api_pub_key (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key = mbd_gnupg_export_public_key (
      mbd_instance_get_gnupg (instance), mbd_instance_get_fingerprint (instance), NULL, &error);

  if (key == NULL)
    {
      mbd_server_api_fail (msg, "pub_key", error);
      return;
    }
  mbd_server_api_answer_text (msg, query, key);
}

/* -- sources_list ------------------------------------------------------------------------- */

static gboolean
in_list (char **list, const char *value)
{
  return list == NULL || g_strv_contains ((const char *const *) list, value);
}

/* Checks that every entry of list argument @name is one of @known; else answers 400. */
static gboolean
check_choices (SoupServerMessage *msg,
               const char *call,
               const char *name,
               char **list,
               GPtrArray *known)
{
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    {
      gboolean found = FALSE;
      for (guint k = 0; k < known->len && !found; k++)
        found = strcmp (list[i], g_ptr_array_index (known, k)) == 0;
      if (!found)
        {
          g_autofree char *what = g_strdup_printf ("has an unknown value: '%s'", list[i]);
          mbd_server_api_bad_arg (msg, call, name, what);
          return FALSE;
        }
    }
  return TRUE;
}

typedef struct
{
  char **types;
  const char *options;
  gboolean with_comment;
  GString *text;
} Lines;

static void
add_line (Lines *lines, const char *own_options, const char *rest, const char *comment)
{
  g_autofree char *options
      = g_strjoin (own_options[0] != '\0' && lines->options[0] != '\0' ? " " : "", own_options,
                   lines->options, NULL);
  for (guint t = 0; lines->types[t] != NULL; t++)
    {
      if (lines->with_comment)
        g_string_append_printf (lines->text, "# %s\n", comment);
      g_string_append_printf (lines->text, "%s [%s] %s\n", lines->types[t], options, rest);
    }
}

/* The base source's extra sources, as mini-buildd's with_extra adds them. */
static gboolean
add_extra_lines (Lines *lines, MbdInstance *instance, const char *codename, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (MbdSource) base = mbd_instance_lookup_source (instance, codename, &local_error);
  if (base == NULL)
    {
      if (g_error_matches (local_error, MBD_ERROR, MBD_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  const char *const *extras = mbd_source_get_extras (base);
  for (guint i = 0; extras != NULL && extras[i] != NULL; i++)
    {
      g_autoptr (MbdSource) extra = mbd_instance_lookup_source (instance, extras[i], NULL);
      if (extra == NULL || mbd_source_get_state (extra) != MBD_SOURCE_STATE_ACTIVE)
        continue;
      g_autofree char *line = mbd_source_get_apt_line (extra);
      g_autofree char *pin = mbd_source_get_apt_pin (extra);
      g_autofree char *comment = g_strdup_printf ("%s %s: %s", mbd_source_get_origin (extra),
                                                  mbd_source_get_codename (extra), pin);
      if (line != NULL)
        add_line (lines,
                  mbd_source_get_check_valid_until (extra) ? "check-valid-until=yes"
                                                           : "check-valid-until=no",
                  line, comment);
    }
  return TRUE;
}

static gboolean
has_snapshot (MbdRepository *repo, const char *distribution, const char *name)
{
  g_autoptr (GPtrArray) snapshots = mbd_repository_list_snapshots (repo, distribution, NULL);
  for (guint i = 0; snapshots != NULL && i < snapshots->len; i++)
    if (strcmp (mbd_snapshot_get_name (g_ptr_array_index (snapshots, i)), name) == 0)
      return TRUE;
  return FALSE;
}

void
mbd_server_api_sources_list (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *call = "sources_list";
  g_auto (GStrv) codenames = mbd_server_api_arg_list (query, "codenames");
  g_auto (GStrv) repositories = mbd_server_api_arg_list (query, "repositories");
  g_auto (GStrv) suites = mbd_server_api_arg_list (query, "suites");
  g_auto (GStrv) types = mbd_server_api_arg_list (query, "types");
  const char *snapshot = mbd_server_api_arg (query, "snapshot");
  const char *mirror = mbd_server_api_arg (query, "mirror");
  int rollbacks;
  gboolean with_extra, with_comment;
  g_autoptr (GError) error = NULL;

  if (!mbd_server_api_arg_int (msg, query, call, "rollbacks", 0, &rollbacks)
      || !mbd_server_api_arg_bool (msg, query, call, "with_extra", &with_extra)
      || !mbd_server_api_arg_bool (msg, query, call, "with_comment", &with_comment))
    return;
  for (guint t = 0; types != NULL && types[t] != NULL; t++)
    if (strcmp (types[t], "deb") != 0 && strcmp (types[t], "deb-src") != 0)
      {
        g_autofree char *what
            = g_strdup_printf ("has an unknown type '%s': use deb or deb-src", types[t]);
        mbd_server_api_bad_arg (msg, call, "types", what);
        return;
      }
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (instance, &error);
  if (repos == NULL)
    {
      mbd_server_api_fail (msg, call, error);
      return;
    }
  g_autoptr (GPtrArray) repo_ids = g_ptr_array_new ();
  for (guint i = 0; i < repos->len; i++)
    g_ptr_array_add (repo_ids, (char *) mbd_repository_get_identity (g_ptr_array_index (repos, i)));
  if (!check_choices (msg, call, "repositories", repositories, repo_ids))
    return;

  const char *const default_types[] = { "deb", NULL };
  Lines lines
      = { types != NULL ? types : (char **) default_types,
          mbd_server_api_arg (query, "options") != NULL ? mbd_server_api_arg (query, "options")
                                                        : "",
          with_comment, g_string_new (NULL) };
  g_autoptr (GString) text = lines.text;
  g_autofree char *url = mbd_instance_dup_url (instance);
  /* mini-buildd: the mirror replaces the URL of the repositories (<url>/repositories) */
  g_autofree char *base = mirror != NULL
                              ? g_strdup (mirror)
                              : g_strdup_printf ("%s/repositories", url != NULL ? url : "");
  while (base[0] != '\0' && g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  g_autofree char *origin
      = g_strdup_printf ("Mini-Buildd archive %s", mbd_instance_get_identity (instance));

  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, i);
      const char *id = mbd_repository_get_identity (repo);
      if (!in_list (repositories, id))
        continue;
      GPtrArray *dists = mbd_repository_get_distributions (repo);
      g_autoptr (GPtrArray) layout_suites
                 = mbd_layout_get_suites (mbd_repository_get_layout (repo));
      for (guint d = 0; d < dists->len; d++)
        {
          MbdDistribution *dist = g_ptr_array_index (dists, d);
          const char *codename = mbd_distribution_get_codename (dist);
          if (!in_list (codenames, codename))
            continue;
          if (with_extra && !add_extra_lines (&lines, instance, codename, &error))
            {
              mbd_server_api_fail (msg, call, error);
              return;
            }
          g_autofree char *components
              = g_strjoinv (" ", (char **) mbd_distribution_get_components (dist));
          for (guint s = 0; s < layout_suites->len; s++)
            {
              MbdSuite *suite = g_ptr_array_index (layout_suites, s);
              if (!in_list (suites, mbd_suite_get_name (suite)))
                continue;
              int max = (int) mbd_suite_get_rollbacks (suite);
              int n = rollbacks < 0 ? max : MIN (rollbacks, max);
              for (int r = -1; r < n; r++)
                {
                  g_autofree char *diststr = mbd_distribution_string_format (
                      codename, id, mbd_suite_get_name (suite), r);
                  if (snapshot != NULL && !has_snapshot (repo, diststr, snapshot))
                    {
                      g_autofree char *what = g_strdup_printf (
                          "names no snapshot of %s: '%s' (see snapshot_ls)", diststr, snapshot);
                      mbd_server_api_bad_arg (msg, call, "snapshot", what);
                      return;
                    }
                  g_autofree char *rest = g_strdup_printf (
                      "%s/%s %s%s%s %s", base, id, diststr, snapshot != NULL ? "/snapshots/" : "",
                      snapshot != NULL ? snapshot : "", components);
                  g_autofree char *comment = g_strdup_printf ("%s '%s': release n=%s, o=%s", origin,
                                                              diststr, diststr, origin);
                  add_line (&lines, "", rest, comment);
                }
            }
        }
    }
  mbd_server_api_answer_text (msg, query, text->str);
}

/* -- ls, show ----------------------------------------------------------------------------- */

static void
ls_or_show (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query, gboolean show)
{
  const char *call = show ? "show" : "ls";
  const char *const mandatory[] = { "source", NULL };
  if (!mbd_server_api_check (msg, instance, query, call, 0, mandatory))
    return;
  g_auto (GStrv) repositories = mbd_server_api_arg_list (query, "repositories");
  g_auto (GStrv) codenames = mbd_server_api_arg_list (query, "codenames");
  const char *min_version = mbd_server_api_arg (query, "min_version");
  g_autoptr (GError) error = NULL;

  if (min_version != NULL && !mbd_deb_version_is_valid (min_version, &error))
    {
      mbd_server_api_bad_arg (msg, call, "min_version", error->message);
      return;
    }
  for (guint i = 0; repositories != NULL && repositories[i] != NULL; i++)
    {
      g_autoptr (MbdRepository) repo
                 = mbd_instance_lookup_repository (instance, repositories[i], &error);
      if (repo == NULL)
        {
          mbd_server_api_bad_arg (msg, call, "repositories", error->message);
          return;
        }
    }
  g_autofree char *json
      = mbd_instance_ls_json (instance, mbd_server_api_arg (query, "source"), NULL, NULL,
                              mbd_server_api_arg (query, "version"), show, &error);
  g_autoptr (JsonNode) root = json != NULL ? json_from_string (json, &error) : NULL;
  if (root == NULL)
    {
      mbd_server_api_fail (msg, call, error);
      return;
    }

  /* the library filters one repository and codename; mini-buildd takes lists and min_version */
  JsonObject *repos = json_node_get_object (root);
  g_autoptr (GList) repo_names = json_object_get_members (repos);
  for (GList *r = repo_names; r != NULL; r = r->next)
    {
      if (!in_list (repositories, r->data))
        {
          json_object_remove_member (repos, r->data);
          continue;
        }
      JsonObject *dists = json_object_get_object_member (repos, r->data);
      g_autoptr (GList) dist_names = json_object_get_members (dists);
      for (GList *d = dist_names; d != NULL; d = d->next)
        {
          g_autofree char *codename = NULL;
          JsonObject *entry = json_object_get_object_member (dists, d->data);
          const char *version = json_object_get_string_member_with_default (entry, "version", "");
          if (!mbd_distribution_string_parse (d->data, &codename, NULL, NULL, NULL, NULL)
              || !in_list (codenames, codename)
              || (min_version != NULL
                  && mbd_deb_version_compare_strings (version, min_version) < 0))
            json_object_remove_member (dists, d->data);
        }
      if (json_object_get_size (dists) == 0)
        json_object_remove_member (repos, r->data);
    }
  mbd_server_api_answer (msg, query, root);
}

void
mbd_server_api_ls (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  ls_or_show (msg, instance, query, FALSE);
}

void
mbd_server_api_show (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  ls_or_show (msg, instance, query, TRUE);
}

/* -- snapshot_ls (R) ---------------------------------------------------------------------- */

void
mbd_server_api_snapshot_ls (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *const mandatory[] = { "distribution", NULL };
  if (!mbd_server_api_check (msg, instance, query, "snapshot_ls", MBD_SERVER_API_RUNNING,
                             mandatory))
    return;
  const char *distribution = mbd_server_api_arg (query, "distribution");
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdRepository) repo
             = mbd_instance_lookup_repository_for_distribution (instance, distribution, &error);
  if (repo == NULL)
    {
      mbd_server_api_bad_arg (msg, "snapshot_ls", "distribution", error->message);
      return;
    }
  g_autoptr (GPtrArray) snapshots = mbd_repository_list_snapshots (repo, distribution, &error);
  if (snapshots == NULL)
    {
      mbd_server_api_fail (msg, "snapshot_ls", error);
      return;
    }
  g_autoptr (JsonArray) names = json_array_new ();
  for (guint i = 0; i < snapshots->len; i++)
    json_array_add_string_element (names, mbd_snapshot_get_name (g_ptr_array_index (snapshots, i)));
  g_autoptr (JsonNode) root = json_node_init_array (json_node_alloc (), names);
  mbd_server_api_answer (msg, query, root);
}
