/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_repository;
static char *opt_codename;
static char *opt_version;
static gboolean opt_json;

static const GOptionEntry options[]
    = { { "repository", 0, 0, G_OPTION_ARG_STRING, &opt_repository, "Only this repository", "ID" },
        { "codename", 0, 0, G_OPTION_ARG_STRING, &opt_codename, "Only this codename", "CODENAME" },
        { "version", 0, 0, G_OPTION_ARG_STRING, &opt_version, "Only this version", "VERSION" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON (mini-buildd's ls/show shape)",
          NULL },
        { NULL } };

static void
print_entry (const char *indent, const char *dist, JsonObject *entry, gboolean show)
{
  printf ("%s%-40s %-24s %-10s %s\n", indent, dist,
          json_object_get_string_member (entry, "version"),
          json_object_get_string_member (entry, "component"),
          json_object_get_string_member (entry, "architecture"));
  if (!show)
    return;
  JsonNode *dsc = json_object_get_member (entry, "dsc_path");
  JsonNode *migrates = json_object_get_member (entry, "migrates_to");
  printf ("%s  dsc: %s\n%s  uploadable: %s, migrates to: %s, migrated: %s\n", indent,
          dsc != NULL && !JSON_NODE_HOLDS_NULL (dsc) ? json_node_get_string (dsc) : "-", indent,
          json_object_get_boolean_member (entry, "uploadable") ? "yes" : "no",
          migrates != NULL && !JSON_NODE_HOLDS_NULL (migrates) ? json_node_get_string (migrates)
                                                               : "-",
          json_object_get_boolean_member (entry, "is_migrated") ? "yes" : "no");
}

gboolean
mbd_cli_ls_show (int argc,
                 char **argv,
                 MbdCommandInvocation *invocation,
                 gboolean show,
                 GCancellable *cancellable,
                 GError **error)
{
  g_autoptr (GOptionContext) context
             = g_option_context_new (show ? "SOURCE - show a source package in detail"
                                          : "SOURCE - list where a source package is");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  if (argc != 2)
    return mbd_cli_usage_error (error, "give one source package name: mbd %s SOURCE",
                                invocation->name);
  g_autofree char *json = mbd_instance_ls_json (instance, argv[1], opt_repository, opt_codename,
                                                opt_version, show, error);
  if (json == NULL)
    return FALSE;
  if (opt_json)
    {
      printf ("%s\n", json);
      return TRUE;
    }
  g_autoptr (JsonNode) root = json_from_string (json, error);
  if (root == NULL)
    return FALSE;
  JsonObject *repos = json_node_get_object (root);
  g_autoptr (GList) repo_names = json_object_get_members (repos);
  if (repo_names == NULL)
    printf ("%s: not in any repository\n", argv[1]);
  for (GList *r = repo_names; r != NULL; r = r->next)
    {
      JsonObject *dists = json_object_get_object_member (repos, r->data);
      g_autoptr (GList) dist_names = json_object_get_members (dists);
      for (GList *d = dist_names; d != NULL; d = d->next)
        {
          JsonObject *entry = json_object_get_object_member (dists, d->data);
          print_entry ("", d->data, entry, show);
          JsonObject *rollbacks = json_object_get_object_member (entry, "rollbacks");
          g_autoptr (GList) rb_names = json_object_get_members (rollbacks);
          for (GList *b = rb_names; b != NULL; b = b->next)
            print_entry ("  ", b->data, json_object_get_object_member (rollbacks, b->data), FALSE);
        }
    }
  return TRUE;
}

BUILTINPROTO (ls)
{
  return mbd_cli_ls_show (argc, argv, invocation, FALSE, cancellable, error);
}
