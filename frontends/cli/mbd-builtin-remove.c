/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_version;
static gboolean opt_without_rollback;

static const GOptionEntry options[]
    = { { "version", 0, 0, G_OPTION_ARG_STRING, &opt_version, "Only if this version is there",
          "VERSION" },
        { "without-rollback", 0, 0, G_OPTION_ARG_NONE, &opt_without_rollback,
          "Drop the version instead of keeping it as rollback", NULL },
        { NULL } };

BUILTINPROTO (remove)
{
  g_autoptr (GOptionContext) context
             = g_option_context_new ("SOURCE DIST - remove a source package from DIST");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  if (argc != 3)
    return mbd_cli_usage_error (error, "give a source and a distribution: mbd remove SOURCE DIST");
  g_autoptr (MbdRepository) repo
             = mbd_instance_lookup_repository_for_distribution (instance, argv[2], error);
  if (repo == NULL
      || !mbd_repository_remove (repo, argv[1], argv[2], opt_version, opt_without_rollback,
                                 cancellable, error))
    return FALSE;
  printf ("Removed %s from %s\n", argv[1], argv[2]);
  return TRUE;
}
