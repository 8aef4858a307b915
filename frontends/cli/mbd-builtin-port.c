/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_version;
static char **opt_options;
static gboolean opt_allow_unauthenticated;

static const GOptionEntry port_options[]
    = { { "version", 'V', 0, G_OPTION_ARG_STRING, &opt_version,
          "Port this version (from FROM or its rollbacks) instead of FROM's", "VERSION" },
        { "options", 'O', 0, G_OPTION_ARG_STRING_ARRAY, &opt_options,
          "Upload options of the ports, separated by '|' (default: " MBD_PORT_DEFAULT_OPTIONS
          "); repeatable",
          "OPT|OPT" },
        { NULL } };

static const GOptionEntry port_ext_options[]
    = { { "allow-unauthenticated", 'u', 0, G_OPTION_ARG_NONE, &opt_allow_unauthenticated,
          "Take a .dsc that is unsigned or signed by an unknown key", NULL },
        { "options", 'O', 0, G_OPTION_ARG_STRING_ARRAY, &opt_options,
          "Upload options of the ports, separated by '|' (default: " MBD_PORT_DEFAULT_OPTIONS
          "); repeatable",
          "OPT|OPT" },
        { NULL } };

/* The -O values split at '|', or NULL for the default options. */
static char **
split_options (void)
{
  if (opt_options == NULL)
    return NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (guint i = 0; opt_options[i] != NULL; i++)
    {
      g_auto (GStrv) parts = g_strsplit (opt_options[i], "|", -1);
      for (guint j = 0; parts[j] != NULL; j++)
        if (g_strstrip (parts[j])[0] != '\0')
          g_strv_builder_add (builder, parts[j]);
    }
  return g_strv_builder_end (builder);
}

static void
print_ports (MbdInstance *instance,
             const char *source,
             const char *const *distributions,
             char **keys,
             char **versions)
{
  for (guint i = 0; keys[i] != NULL; i++)
    printf ("%s %s %s %s\n", distributions[i], source, versions[i], keys[i]);
  if (mbd_instance_get_engine_pid (instance) == 0)
    fprintf (stderr, "mbd: no engine runs: the ports are processed when mbd-server (or the next "
                     "'mbd upload') starts it\n");
}

BUILTINPROTO (port)
{
  g_autoptr (GOptionContext) context = g_option_context_new (
      "SOURCE FROM TO... - port a source package of FROM to other distributions (TO = FROM: "
      "rebuild)");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, port_options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_ARGS, &instance, cancellable, error))
    return FALSE;
  if (argc < 4)
    return mbd_cli_usage_error (
        error, "give a source and the distributions: mbd port SOURCE FROM TO... [-V VERSION]");
  g_auto (GStrv) options = split_options ();
  g_auto (GStrv) keys = NULL;
  g_auto (GStrv) versions = NULL;
  const char *const *targets = (const char *const *) argv + 3;
  if (!mbd_packager_port (mbd_instance_get_packager (instance), argv[1], argv[2], targets,
                          opt_version, (const char *const *) options, &keys, &versions, cancellable,
                          error))
    return FALSE;
  print_ports (instance, argv[1], targets, keys, versions);
  return TRUE;
}

BUILTINPROTO (port_ext)
{
  g_autoptr (GOptionContext) context = g_option_context_new (
      "DSC_URL DIST... - port a source package from a .dsc URL (http, https, file)");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, port_ext_options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_ARGS, &instance, cancellable, error))
    return FALSE;
  if (argc < 3)
    return mbd_cli_usage_error (
        error, "give a .dsc URL and the distributions: mbd port-ext DSC_URL DIST... [-u]");
  g_auto (GStrv) options = split_options ();
  g_autofree char *source = NULL;
  g_auto (GStrv) keys = NULL;
  g_auto (GStrv) versions = NULL;
  const char *const *targets = (const char *const *) argv + 2;
  if (!mbd_packager_port_ext (mbd_instance_get_packager (instance), argv[1], targets,
                              opt_allow_unauthenticated, (const char *const *) options, &source,
                              &keys, &versions, cancellable, error))
    return FALSE;
  print_ports (instance, source, targets, keys, versions);
  return TRUE;
}
