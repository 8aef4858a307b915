/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_repo;

static const GOptionEntry options[]
    = { { "repo", 0, 0, G_OPTION_ARG_STRING, &opt_repo,
          "The settings of repository ID instead of the instance's", "ID" },
        { NULL } };

static gboolean
mail_show (MbdInstance *instance, GError **error)
{
  g_auto (GStrv) names = mbd_mail_setting_names (opt_repo != NULL);

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *value = mbd_instance_dup_mail_setting (instance, opt_repo, names[i], error);
      if (value == NULL)
        return FALSE;
      printf ("%s=%s\n", names[i], value);
    }
  return TRUE;
}

BUILTINPROTO (mail)
{
  const char *const value_options[] = { "--home", "--repo", NULL };
  const char *sub = mbd_cli_take_subcommand_full (&argc, argv, value_options);
  g_autoptr (GOptionContext) context = g_option_context_new (
      "show|set NAME VALUE|unset NAME - e-mail notification settings of the instance or, with "
      "--repo, of a repository");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  if (sub == NULL || strcmp (sub, "show") == 0)
    {
      if (argc != 1)
        return mbd_cli_usage_error (error, "unexpected argument '%s': mbd mail show [--repo ID]",
                                    argv[1]);
      return mail_show (instance, error);
    }
  if (strcmp (sub, "set") == 0)
    {
      if (argc != 3)
        return mbd_cli_usage_error (error,
                                    "give a name and a value: mbd mail set [--repo ID] NAME VALUE");
      return mbd_instance_set_mail_setting (instance, opt_repo, argv[1], argv[2], error);
    }
  if (strcmp (sub, "unset") == 0)
    {
      if (argc != 2)
        return mbd_cli_usage_error (error, "give a name: mbd mail unset [--repo ID] NAME");
      return mbd_instance_set_mail_setting (instance, opt_repo, argv[1], NULL, error);
    }
  return mbd_cli_usage_error (error, "unknown subcommand 'mail %s'; use show, set or unset", sub);
}
