/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_layout;
static char **opt_dists;
static gboolean opt_allow_unauthenticated;
static gboolean opt_json;
static gboolean opt_all;
static gboolean opt_armor;

static const GOptionEntry create_options[]
    = { { "layout", 0, 0, G_OPTION_ARG_STRING, &opt_layout,
          "Layout: default, default-no-rollbacks or debian-developer (default: default)", "NAME" },
        { "dist", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_dists,
          "A distribution CODENAME[:ARCHES], ARCHES a comma list whose first builds arch all, "
          "optional ones suffixed '?' (default: the host's codename and architecture); repeatable",
          "SPEC" },
        { "allow-unauthenticated-uploads", 0, 0, G_OPTION_ARG_NONE, &opt_allow_unauthenticated,
          "Accept unsigned uploads", NULL },
        { NULL } };

static const GOptionEntry ls_options[]
    = { { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
          "Print JSON (the repositories part of mini-buildd's status call)", NULL },
        { NULL } };

static const GOptionEntry publish_options[]
    = { { "all", 0, 0, G_OPTION_ARG_NONE, &opt_all,
          "Publish every distribution, not only those left unpublished", NULL },
        { NULL } };

static const GOptionEntry check_options[]
    = { { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the problems as a JSON list", NULL },
        { NULL } };

static const GOptionEntry key_options[]
    = { { "armor", 0, 0, G_OPTION_ARG_NONE, &opt_armor,
          "Print ASCII armor instead of a binary key (for APT's signed-by, both work)", NULL },
        { NULL } };

static gboolean
repo_create (int argc,
             char **argv,
             MbdCommandInvocation *invocation,
             GCancellable *cancellable,
             GError **error)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("ID - create a repository");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, create_options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_ARGS, &instance, cancellable, error))
    return FALSE;
  if (argc != 2)
    return mbd_cli_usage_error (error, "give the repository identity: mbd repo create ID");
  g_autoptr (MbdLayout) layout
             = mbd_layout_new_builtin (opt_layout != NULL ? opt_layout : MBD_LAYOUT_DEFAULT, error);
  if (layout == NULL)
    return FALSE;
  g_autoptr (MbdRepository) repo = mbd_repository_new (argv[1], layout, error);
  if (repo == NULL)
    return FALSE;
  mbd_repository_set_allow_unauthenticated_uploads (repo, opt_allow_unauthenticated);
  if (opt_dists == NULL || opt_dists[0] == NULL)
    {
      g_autoptr (MbdDistribution) dist = mbd_distribution_new_for_host (error);
      if (dist == NULL || !mbd_repository_add_distribution (repo, dist, error))
        return FALSE;
    }
  for (guint i = 0; opt_dists != NULL && opt_dists[i] != NULL; i++)
    {
      g_autoptr (MbdDistribution) dist = NULL;
      if (strchr (opt_dists[i], ':') != NULL)
        dist = mbd_distribution_new_from_spec (opt_dists[i], error);
      else
        {
          g_autoptr (MbdDistribution) host = mbd_distribution_new_for_host (error);
          if (host == NULL)
            return FALSE;
          dist = mbd_distribution_new (opt_dists[i], mbd_distribution_get_architectures (host),
                                       error);
        }
      if (dist == NULL || !mbd_repository_add_distribution (repo, dist, error))
        return FALSE;
    }
  if (!mbd_instance_add_repository (instance, repo, cancellable, error))
    return FALSE;
  g_autofree char *path = mbd_repository_dup_path (repo);
  printf ("Repository %s created in %s\n", argv[1], path);
  return TRUE;
}

static gboolean
repo_ls (int argc,
         char **argv,
         MbdCommandInvocation *invocation,
         GCancellable *cancellable,
         GError **error)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- list the repositories");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, ls_options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_NONE, &instance, cancellable, error))
    return FALSE;
  if (opt_json)
    {
      g_autofree char *json = mbd_instance_repositories_json (instance, error);
      if (json == NULL)
        return FALSE;
      printf ("%s\n", json);
      return TRUE;
    }
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (instance, error);
  if (repos == NULL)
    return FALSE;
  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, i);
      g_autoptr (GPtrArray) dists = mbd_repository_get_distributions (repo);
      MbdLayout *layout = mbd_repository_get_layout (repo);
      g_autofree char *path = mbd_repository_dup_path (repo);
      printf ("%s\n  Layout:        %s\n  Path:          %s\n  Unauthenticated uploads: %s\n",
              mbd_repository_get_identity (repo), mbd_layout_get_name (layout), path,
              mbd_repository_get_allow_unauthenticated_uploads (repo) ? "allowed" : "refused");
      for (guint d = 0; d < dists->len; d++)
        {
          MbdDistribution *dist = g_ptr_array_index (dists, d);
          g_autofree char *spec = mbd_distribution_to_spec (dist);
          g_autofree char *components
              = g_strjoinv (" ", (char **) mbd_distribution_get_components (dist));
          printf ("  Distribution:  %s (codeversion %s; %s)\n", spec,
                  mbd_distribution_get_codeversion (dist), components);
        }
    }
  return TRUE;
}

static gboolean
repo_publish (int argc,
              char **argv,
              MbdCommandInvocation *invocation,
              GCancellable *cancellable,
              GError **error)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("ID - publish a repository");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, publish_options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_ARGS, &instance, cancellable, error))
    return FALSE;
  if (argc != 2)
    return mbd_cli_usage_error (error, "give the repository identity: mbd repo publish ID");
  g_autoptr (MbdRepository) repo = mbd_instance_lookup_repository (instance, argv[1], error);
  return repo != NULL && mbd_repository_publish (repo, opt_all, cancellable, error);
}

static gboolean
repo_check (int argc,
            char **argv,
            MbdCommandInvocation *invocation,
            GCancellable *cancellable,
            GError **error)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("ID - check a repository");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, check_options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_ARGS, &instance, cancellable, error))
    return FALSE;
  if (argc != 2)
    return mbd_cli_usage_error (error, "give the repository identity: mbd repo check ID");
  g_autoptr (MbdRepository) repo = mbd_instance_lookup_repository (instance, argv[1], error);
  if (repo == NULL)
    return FALSE;
  g_auto (GStrv) problems = NULL;
  g_autoptr (GError) local = NULL;
  gboolean ok = mbd_repository_check (repo, &problems, cancellable, &local);
  if (!ok && problems == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (opt_json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      json_builder_begin_array (builder);
      for (guint i = 0; problems[i] != NULL; i++)
        json_builder_add_string_value (builder, problems[i]);
      json_builder_end_array (builder);
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      g_autofree char *text = json_to_string (root, FALSE);
      printf ("%s\n", text);
    }
  else
    {
      for (guint i = 0; problems[i] != NULL; i++)
        printf ("%s\n", problems[i]);
      if (ok)
        printf ("Repository %s is consistent\n", argv[1]);
    }
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}

/* The binary key inside ASCII armor (what `gpg --dearmor` gives). */
static GBytes *
dearmor (const char *armored, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (armored, "\n", -1);
  g_autoptr (GString) body = g_string_new (NULL);
  gboolean in_body = FALSE, headers = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      if (g_str_has_prefix (line, "-----BEGIN"))
        in_body = headers = TRUE;
      else if (g_str_has_prefix (line, "-----END"))
        break;
      else if (in_body && headers)
        headers = line[0] != '\0'; /* headers end at the first empty line */
      else if (in_body && line[0] != '=')
        g_string_append (body, line);
    }
  if (body->len == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "the exported key has no armored body");
      return NULL;
    }
  gsize len = 0;
  guchar *data = g_base64_decode (body->str, &len);
  return g_bytes_new_take (data, len);
}

static gboolean
repo_key (int argc,
          char **argv,
          MbdCommandInvocation *invocation,
          GCancellable *cancellable,
          GError **error)
{
  g_autoptr (GOptionContext) context
             = g_option_context_new ("- print the public key that signs the repositories");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, key_options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_NONE, &instance, cancellable, error))
    return FALSE;
  g_autofree char *armored
      = mbd_gnupg_export_public_key (mbd_instance_get_gnupg (instance),
                                     mbd_instance_get_fingerprint (instance), cancellable, error);
  if (armored == NULL)
    return FALSE;
  if (opt_armor)
    {
      fputs (armored, stdout);
      return TRUE;
    }
  g_autoptr (GBytes) key = dearmor (armored, error);
  if (key == NULL)
    return FALSE;
  gsize len;
  const void *data = g_bytes_get_data (key, &len);
  return fwrite (data, 1, len, stdout) == len;
}

BUILTINPROTO (repo)
{
  static const struct
  {
    const char *name;
    gboolean (*fn) (int, char **, MbdCommandInvocation *, GCancellable *, GError **);
  } subcommands[] = {
    { "create", repo_create }, { "ls", repo_ls },   { "publish", repo_publish },
    { "check", repo_check },   { "key", repo_key },
  };

  const char *sub = mbd_cli_take_subcommand (&argc, argv);
  if (sub == NULL)
    {
      for (int i = 1; i < argc; i++)
        if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
          {
            printf ("Usage: mbd repo create|ls|publish|check|key [OPTION...]\n");
            return TRUE;
          }
      return mbd_cli_usage_error (error, "give a subcommand: mbd repo create|ls|publish|check|key");
    }
  for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
    if (strcmp (subcommands[i].name, sub) == 0)
      {
        g_autofree char *name = g_strdup_printf ("%s %s", argv[0], sub);
        argv[0] = name;
        return subcommands[i].fn (argc, argv, invocation, cancellable, error);
      }
  return mbd_cli_usage_error (
      error, "unknown subcommand 'repo %s'; use create, ls, publish, check or key", sub);
}
