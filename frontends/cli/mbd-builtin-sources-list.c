/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_repository;
static char *opt_codename;
static char *opt_suite;
static char **opt_types;
static gboolean opt_rollbacks;
static char *opt_snapshot;
static char *opt_mirror;
static gboolean opt_json;

static const GOptionEntry options[]
    = { { "repository", 0, 0, G_OPTION_ARG_STRING, &opt_repository, "Only this repository", "ID" },
        { "codename", 0, 0, G_OPTION_ARG_STRING, &opt_codename, "Only this codename", "CODENAME" },
        { "suite", 0, 0, G_OPTION_ARG_STRING, &opt_suite, "Only this suite", "SUITE" },
        { "type", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_types,
          "deb or deb-src (repeatable; default deb)", "TYPE" },
        { "rollbacks", 0, 0, G_OPTION_ARG_NONE, &opt_rollbacks, "Add the rollback distributions",
          NULL },
        { "snapshot", 0, 0, G_OPTION_ARG_STRING, &opt_snapshot,
          "Lines of this snapshot (of the distributions that have it)", "NAME" },
        { "mirror", 0, 0, G_OPTION_ARG_STRING, &opt_mirror,
          "Use URL instead of the instance URL (file://HOME gives the local tree)", "URL" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the lines as one JSON string", NULL },
        { NULL } };

BUILTINPROTO (sources_list)
{
  g_autoptr (GOptionContext) context
             = g_option_context_new ("- print APT source lines of the repositories");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_NONE,
                                 &instance, cancellable, error))
    return FALSE;
  g_auto (GStrv) lines = mbd_instance_sources_list (instance, opt_repository, opt_codename,
                                                    opt_suite, (const char *const *) opt_types,
                                                    opt_rollbacks, opt_snapshot, opt_mirror, error);
  if (lines == NULL)
    return FALSE;
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; lines[i] != NULL; i++)
    g_string_append_printf (text, "%s\n", lines[i]);
  if (opt_json)
    {
      g_autofree char *escaped = g_strescape (text->str, NULL);
      printf ("\"%s\"\n", escaped);
    }
  else
    fputs (text->str, stdout);
  return TRUE;
}
