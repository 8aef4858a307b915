/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_version;
static gboolean opt_full;
static int opt_rollback = -1;

static const GOptionEntry options[]
    = { { "version", 0, 0, G_OPTION_ARG_STRING, &opt_version, "Only if this version is there",
          "VERSION" },
        { "full", 0, 0, G_OPTION_ARG_NONE, &opt_full,
          "Migrate along the whole chain (unstable to testing to stable)", NULL },
        { "rollback", 0, 0, G_OPTION_ARG_INT, &opt_rollback,
          "Restore rollback N into DIST instead (the source must not be in DIST)", "N" },
        { NULL } };

BUILTINPROTO (migrate)
{
  g_autoptr (GOptionContext) context
             = g_option_context_new ("SOURCE DIST - migrate a source package from DIST");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  if (argc != 3)
    return mbd_cli_usage_error (error, "give a source and a distribution: mbd migrate SOURCE DIST");
  g_autoptr (MbdRepository) repo
             = mbd_instance_lookup_repository_for_distribution (instance, argv[2], error);
  if (repo == NULL)
    return FALSE;
  if (opt_rollback >= 0)
    {
      if (!mbd_repository_restore_rollback (repo, argv[1], argv[2], opt_rollback, cancellable,
                                            error))
        return FALSE;
      printf ("Restored %s from %s-rollback%d\n", argv[1], argv[2], opt_rollback);
      return TRUE;
    }
  if (!mbd_repository_migrate (repo, argv[1], argv[2], opt_version, opt_full, cancellable, error))
    return FALSE;
  printf ("Migrated %s from %s%s\n", argv[1], argv[2], opt_full ? " (full)" : "");
  return TRUE;
}
