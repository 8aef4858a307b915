/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_dist;
static char *opt_arch;
static char *opt_distribution;
static char *opt_lintian_mode;
static char *opt_deb_build_options;
static char *opt_profiles;
static char **opt_add_depends;
static char **opt_snippets;
static char **opt_args;
static gboolean opt_arch_all;
static gboolean opt_quiet;
static gboolean opt_json;
static gboolean opt_no_host_lintian;

static const GOptionEntry build_options[]
    = { { "dist", 0, 0, G_OPTION_ARG_STRING, &opt_dist,
          "Codename of the chroot to build in (required)", "CODENAME" },
        { "arch", 0, 0, G_OPTION_ARG_STRING, &opt_arch, "Architecture (default: the native one)",
          "ARCH" },
        { "arch-all", 0, 0, G_OPTION_ARG_NONE, &opt_arch_all,
          "Also build the Architecture: all packages", NULL },
        { "distribution", 0, 0, G_OPTION_ARG_STRING, &opt_distribution,
          "Distribution string of the results (default: CODENAME)", "DIST" },
        { "lintian-mode", 0, 0, G_OPTION_ARG_STRING, &opt_lintian_mode,
          "disabled, ignore, errfail (default) or warnfail", "MODE" },
        { "no-host-lintian", 0, 0, G_OPTION_ARG_NONE, &opt_no_host_lintian,
          "Run lintian inside the build session even when the host's lintian could run it", NULL },
        { "deb-build-options", 0, 0, G_OPTION_ARG_STRING, &opt_deb_build_options,
          "DEB_BUILD_OPTIONS for the build", "OPTIONS" },
        { "profiles", 0, 0, G_OPTION_ARG_STRING, &opt_profiles,
          "Build profiles (DEB_BUILD_PROFILES)", "PROFILES" },
        { "add-depends", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_add_depends,
          "An extra build dependency (repeatable)", "DEP" },
        { "snippet", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_snippets,
          "A chroot setup snippet: eatmydata or ccache (repeatable)", "NAME" },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, "Do not follow the build log", NULL },
        { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_args, NULL, "DSC" },
        { NULL } };

static const GOptionEntry ls_options[]
    = { { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print a JSON array", NULL }, { NULL } };

static const GOptionEntry cancel_options[]
    = { { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_args, NULL, "KEY" }, { NULL } };

typedef struct
{
  GMainLoop *loop;
  MbdBuilder *builder;
  MbdBuildRequest *request;
} BuildRun;

static void
on_log_line (MbdBuildRequest *request, const char *line, gpointer user_data)
{
  if (!opt_quiet)
    {
      fputs (line, stdout);
      fputc ('\n', stdout);
      fflush (stdout);
    }
}

static void
on_state_changed (MbdBuildRequest *request, MbdBuildState state, gpointer user_data)
{
  BuildRun *run = user_data;

  if (mbd_build_state_is_final (state))
    g_main_loop_quit (run->loop);
}

static gboolean
on_signal (gpointer user_data)
{
  BuildRun *run = user_data;
  g_autoptr (GError) error = NULL;

  fprintf (stderr, "mbd: cancelling build %s\n", mbd_build_request_get_key (run->request));
  if (!mbd_builder_cancel (run->builder, mbd_build_request_get_key (run->request), &error))
    fprintf (stderr, "mbd: %s\n", error->message);
  return G_SOURCE_CONTINUE;
}

/* Creates the chroot of @codename/@arch on first need (the default backend, with the progress
 * bar of 'mbd chroot create'), as the default instance promises. */
static gboolean
ensure_chroot (MbdInstance *instance, const char *codename, const char *arch, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (MbdChroot) existing = mbd_instance_lookup_chroot (instance, codename, arch, &local);

  if (existing != NULL)
    return TRUE;
  if (!g_error_matches (local, MBD_ERROR, MBD_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  fprintf (stderr, "mbd: no chroot for %s/%s yet: creating it first (mmdebstrap)\n", codename,
           arch);
  g_autoptr (MbdChroot) chroot
             = mbd_chroot_new (instance, codename, arch, MBD_CHROOT_BACKEND_UNSHARE);
  return mbd_cli_chroot_run (chroot, TRUE, NULL, error);
}

static void
print_result (MbdBuildRequest *request)
{
  const char *fields[] = { "Status", "Fail-Stage", "Lintian", "Build-Time", "Space" };

  fprintf (stderr, "%-10s %s\n", "Build:", mbd_build_request_get_key (request));
  fprintf (stderr, "%-10s %s\n",
           "State:", mbd_build_state_to_string (mbd_build_request_get_state (request)));
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const char *value = mbd_build_request_get_summary (request, fields[i]);
      if (value != NULL)
        {
          g_autofree char *label = g_strconcat (fields[i], ":", NULL);
          fprintf (stderr, "%-10s %s\n", label, value);
        }
    }
  fprintf (stderr, "%-10s %s\n", "Log:", mbd_build_request_get_log_path (request));
  g_auto (GStrv) files = mbd_build_request_dup_result_files (request);
  for (guint i = 0; files[i] != NULL; i++)
    fprintf (stderr, "%-10s %s\n", i == 0 ? "Files:" : "", files[i]);
}

static gboolean
build_dsc (int argc,
           char **argv,
           MbdCommandInvocation *invocation,
           GCancellable *cancellable,
           GError **error)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("DSC - build a source package");
  g_autoptr (MbdInstance) instance = NULL;

  g_option_context_set_description (context, "Subcommands: 'mbd build ls [--json]', "
                                             "'mbd build cancel KEY'.");
  if (!mbd_option_context_parse (context, build_options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_NONE, &instance, cancellable, error))
    return FALSE;
  if (opt_args == NULL || opt_args[0] == NULL || opt_args[1] != NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "give exactly one .dsc file");
      return FALSE;
    }
  if (opt_dist == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "--dist CODENAME is required (the chroot to build in, such as bookworm)");
      return FALSE;
    }
  MbdCheckMode lintian = MBD_CHECK_MODE_ERRFAIL;
  if (opt_lintian_mode != NULL && !mbd_check_mode_from_string (opt_lintian_mode, &lintian, error))
    {
      g_prefix_error (error, "--lintian-mode: ");
      return FALSE;
    }
  g_autofree char *arch
      = opt_arch != NULL ? g_strdup (opt_arch) : mbd_get_native_architecture (error);
  if (arch == NULL)
    return FALSE;

  g_autoptr (MbdBuildRequest) request
             = mbd_build_request_new_from_dsc (opt_args[0], opt_dist, arch, error);
  if (request == NULL)
    return FALSE;
  if (opt_distribution != NULL)
    mbd_build_request_set_distribution (request, opt_distribution);
  mbd_build_request_set_arch_all (request, opt_arch_all);
  mbd_build_request_set_lintian_mode (request, lintian);
  mbd_build_request_set_deb_build_options (request, opt_deb_build_options);
  mbd_build_request_set_deb_build_profiles (request, opt_profiles);
  mbd_build_request_set_add_depends (request, (const char *const *) opt_add_depends);
  if (!mbd_build_request_set_snippets (request, (const char *const *) opt_snippets, error))
    return FALSE;

  if (!ensure_chroot (instance, opt_dist, arch, error))
    return FALSE;

  MbdBuilder *builder = mbd_instance_get_builder (instance);
  if (opt_no_host_lintian)
    mbd_builder_set_host_lintian (builder, FALSE);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  BuildRun run = { loop, builder, request };
  g_signal_connect (request, "log-line", G_CALLBACK (on_log_line), &run);
  g_signal_connect (request, "state-changed", G_CALLBACK (on_state_changed), &run);
  if (!mbd_builder_submit (builder, request, error))
    return FALSE;
  fprintf (stderr, "mbd: build %s queued\n", mbd_build_request_get_key (request));
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &run);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &run);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_signal_handlers_disconnect_by_data (request, &run);

  if (opt_quiet && mbd_build_request_get_log_tail (request) != NULL)
    fprintf (stderr, "%s\n", mbd_build_request_get_log_tail (request));
  print_result (request);
  if (mbd_build_request_get_state (request) != MBD_BUILD_STATE_BUILT)
    {
      g_set_error (error, MBD_ERROR, MBD_ERROR_BUILD_FAILED, "build %s %s: %s",
                   mbd_build_request_get_key (request),
                   mbd_build_state_to_string (mbd_build_request_get_state (request)),
                   mbd_build_request_get_failure (request));
      return FALSE;
    }
  return TRUE;
}

static gboolean
build_ls (int argc,
          char **argv,
          MbdCommandInvocation *invocation,
          GCancellable *cancellable,
          GError **error)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- list the builds");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, ls_options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_NONE, &instance, cancellable, error))
    return FALSE;
  g_autoptr (GPtrArray) builds = mbd_builder_list (mbd_instance_get_builder (instance), error);
  if (builds == NULL)
    return FALSE;
  if (opt_json)
    {
      printf ("[");
      for (guint i = 0; i < builds->len; i++)
        {
          g_autofree char *json = mbd_build_request_to_json (builds->pdata[i]);
          printf ("%s%s", i > 0 ? ",\n " : "", json);
        }
      printf ("]\n");
      return TRUE;
    }
  for (guint i = 0; i < builds->len; i++)
    {
      MbdBuildRequest *request = builds->pdata[i];
      const char *status = mbd_build_request_get_summary (request, "Status");
      printf ("%-10s %-50s %s %s\n",
              mbd_build_state_to_string (mbd_build_request_get_state (request)),
              mbd_build_request_get_key (request), mbd_build_request_get_distribution (request),
              status != NULL ? status : "-");
    }
  return TRUE;
}

static gboolean
build_cancel (int argc,
              char **argv,
              MbdCommandInvocation *invocation,
              GCancellable *cancellable,
              GError **error)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("KEY - cancel a build");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, cancel_options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_NONE, &instance, cancellable, error))
    return FALSE;
  if (opt_args == NULL || opt_args[0] == NULL || opt_args[1] != NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "give exactly one build key");
      return FALSE;
    }
  if (!mbd_builder_cancel (mbd_instance_get_builder (instance), opt_args[0], error))
    return FALSE;
  printf ("build %s cancelled\n", opt_args[0]);
  return TRUE;
}

/* The first argument that is neither an option nor the value of --home: "ls", "cancel" or the
 * .dsc; a subcommand is taken out of argv. */
static const char *
take_subcommand (int *argc, char **argv)
{
  for (int i = 1; i < *argc; i++)
    {
      if (strcmp (argv[i], "--home") == 0)
        {
          i++;
          continue;
        }
      if (argv[i][0] == '-')
        continue;
      if (strcmp (argv[i], "ls") != 0 && strcmp (argv[i], "cancel") != 0)
        return NULL;
      const char *subcommand = argv[i];
      memmove (argv + i, argv + i + 1, (*argc - i) * sizeof (char *));
      (*argc)--;
      return subcommand;
    }
  return NULL;
}

BUILTINPROTO (build)
{
  const char *subcommand = take_subcommand (&argc, argv);

  if (g_strcmp0 (subcommand, "ls") == 0)
    return build_ls (argc, argv, invocation, cancellable, error);
  if (g_strcmp0 (subcommand, "cancel") == 0)
    return build_cancel (argc, argv, invocation, cancellable, error);
  return build_dsc (argc, argv, invocation, cancellable, error);
}
