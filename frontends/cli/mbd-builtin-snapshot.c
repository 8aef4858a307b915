/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static gboolean opt_json;

static const GOptionEntry options[]
    = { { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
          "ls: print a JSON list of names (mini-buildd's snapshot_ls shape)", NULL },
        { NULL } };

BUILTINPROTO (snapshot)
{
  const char *sub = mbd_cli_take_subcommand (&argc, argv);
  g_autoptr (GOptionContext) context = g_option_context_new (
      "create DIST NAME | ls DIST | delete DIST NAME - snapshots of a distribution");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  gboolean create = g_strcmp0 (sub, "create") == 0, del = g_strcmp0 (sub, "delete") == 0;
  gboolean ls = g_strcmp0 (sub, "ls") == 0;
  if (!(create || del || ls))
    return mbd_cli_usage_error (error, "give a subcommand: mbd snapshot create|ls|delete");
  if (argc != (ls ? 2 : 3))
    return mbd_cli_usage_error (
        error, ls ? "usage: mbd snapshot ls DIST" : "usage: mbd snapshot %s DIST NAME", sub);
  g_autoptr (MbdRepository) repo
             = mbd_instance_lookup_repository_for_distribution (instance, argv[1], error);
  if (repo == NULL)
    return FALSE;
  if (create)
    {
      g_autoptr (MbdSnapshot) snapshot
                 = mbd_repository_create_snapshot (repo, argv[1], argv[2], cancellable, error);
      if (snapshot == NULL)
        return FALSE;
      g_autofree char *suite = mbd_snapshot_get_suite_path (snapshot);
      printf ("Snapshot %s created (APT suite %s)\n", argv[2], suite);
      return TRUE;
    }
  if (del)
    {
      if (!mbd_repository_delete_snapshot (repo, argv[1], argv[2], cancellable, error))
        return FALSE;
      printf ("Snapshot %s of %s deleted\n", argv[2], argv[1]);
      return TRUE;
    }
  g_autoptr (GPtrArray) list = mbd_repository_list_snapshots (repo, argv[1], error);
  if (list == NULL)
    return FALSE;
  if (opt_json)
    {
      g_autoptr (GString) out = g_string_new ("[");
      for (guint i = 0; i < list->len; i++)
        {
          g_autofree char *quoted
              = g_strescape (mbd_snapshot_get_name (g_ptr_array_index (list, i)), NULL);
          g_string_append_printf (out, "%s\"%s\"", i > 0 ? ", " : "", quoted);
        }
      printf ("%s]\n", out->str);
      return TRUE;
    }
  for (guint i = 0; i < list->len; i++)
    {
      MbdSnapshot *s = g_ptr_array_index (list, i);
      g_autofree char *created = g_date_time_format_iso8601 (mbd_snapshot_get_created (s));
      printf ("%-30s %s\n", mbd_snapshot_get_name (s), created);
    }
  return TRUE;
}
