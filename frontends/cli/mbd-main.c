/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

typedef struct
{
  const char *name;
  gboolean (*fn) (int argc,
                  char **argv,
                  MbdCommandInvocation *invocation,
                  GCancellable *cancellable,
                  GError **error);
  const char *description;
} MbdCommand;

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static const MbdCommand commands[] = {
  { "init", mbd_builtin_init, "Create an instance (home, database, signing key)" },
  { "status", mbd_builtin_status, "Show the status of an instance" },
  { "setup", mbd_builtin_setup,
    "Inspect the instance; create and activate sources, repositories, chroots" },
  { "source", mbd_builtin_source, "Upstream archives: add, check, ls, rm" },
  { "repo", mbd_builtin_repo, "Create, list, publish and check repositories" },
  { "include", mbd_builtin_include, "Include .changes, .deb or .dsc files into a distribution" },
  { "ls", mbd_builtin_ls, "List where a source package is" },
  { "show", mbd_builtin_show, "Show a source package in detail" },
  { "search", mbd_builtin_search, "Search source and binary package names" },
  { "migrate", mbd_builtin_migrate, "Migrate a source package, or restore a rollback" },
  { "remove", mbd_builtin_remove, "Remove a source package from a distribution" },
  { "snapshot", mbd_builtin_snapshot, "Create, list and delete snapshots of a distribution" },
  { "sources-list", mbd_builtin_sources_list, "Print APT source lines of the repositories" },
  { "chroot", mbd_builtin_chroot, "Create, check, list and remove build chroots" },
  { "build", mbd_builtin_build, "Build a source package locally; list or cancel builds" },
  { "upload", mbd_builtin_upload, "Upload a package: check, build for each architecture, install" },
  { "events", mbd_builtin_events, "List or follow the events (REJECTED, BUILT, INSTALLED, ...)" },
  { "retry", mbd_builtin_retry, "Upload a failed package again" },
  { "cancel", mbd_builtin_cancel, "Cancel a package that is checking or building" },
  { "port", mbd_builtin_port, "Port a source package to other distributions (or rebuild it)" },
  { "port-ext", mbd_builtin_port_ext, "Port a source package from a .dsc URL" },
  { "keyring-packages", mbd_builtin_keyring_packages,
    "Build the instance's keyring package into the flagged suites and migrate it" },
  { "mail", mbd_builtin_mail, "Show or change the e-mail notification of events" },
  { "user", mbd_builtin_user, "Users of mbd-server: add, ls, rm, passwd, token, activate-key" },
  { "cron", mbd_builtin_cron, "List the internal cron's jobs or run one now" },
  { "remote", mbd_builtin_remote,
    "Other instances: add, prepare, check, ls, rm, deactivate, wake" },
};

static char *opt_home;

static const GOptionEntry global_entries[]
    = { { "home", 0, 0, G_OPTION_ARG_FILENAME, &opt_home,
          "Instance home directory (default: $MBD_HOME or ~/.local/share/mbd)", "DIR" },
        { NULL } };

const char *
mbd_cli_get_home (void)
{
  if (opt_home == NULL)
    opt_home = mbd_instance_get_default_home ();
  return opt_home;
}

gboolean
mbd_option_context_parse (GOptionContext *context,
                          const GOptionEntry *entries,
                          int *argc,
                          char ***argv,
                          MbdCommandInvocation *invocation,
                          MbdBuiltinFlags flags,
                          MbdInstance **out_instance,
                          GCancellable *cancellable,
                          GError **error)
{
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_main_entries (context, global_entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc > 1 && (flags & MBD_BUILTIN_FLAG_ARGS) == 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "unexpected argument '%s'",
                   (*argv)[1]);
      return FALSE;
    }

  if ((flags & MBD_BUILTIN_FLAG_NO_INSTANCE) == 0)
    {
      g_autoptr (MbdInstance) instance = mbd_instance_new (mbd_cli_get_home ());
      if (!mbd_instance_open (instance, MBD_INSTANCE_OPEN_NONE, cancellable, error))
        return FALSE;
      *out_instance = g_steal_pointer (&instance);
    }
  return TRUE;
}

const char *
mbd_cli_take_subcommand (int *argc, char **argv)
{
  const char *const value_options[] = { "--home", NULL };

  return mbd_cli_take_subcommand_full (argc, argv, value_options);
}

const char *
mbd_cli_take_subcommand_full (int *argc, char **argv, const char *const *value_options)
{
  for (int i = 1; i < *argc; i++)
    {
      if (g_strv_contains (value_options, argv[i]))
        {
          i++;
          continue;
        }
      if (argv[i][0] == '-')
        continue;
      const char *sub = argv[i];
      memmove (argv + i, argv + i + 1, (*argc - i) * sizeof (char *));
      (*argc)--;
      return sub;
    }
  return NULL;
}

gboolean
mbd_cli_usage_error (GError **error, const char *fmt, ...)
{
  va_list args;

  va_start (args, fmt);
  g_autofree char *message = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, message);
  return FALSE;
}

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: mbd [--home DIR] COMMAND [OPTION...]\n\n"
                "mbd drives a mini-buildd compatible build daemon and APT repository.\n\n"
                "Commands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-13s %s\n", commands[i].name, commands[i].description);
  fprintf (out, "\nOptions:\n"
                "  --home DIR   instance home (default: $MBD_HOME or ~/.local/share/mbd)\n"
                "  --version    print the version and exit\n"
                "  --help       show this help; 'mbd COMMAND --help' for a command's options\n");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");
  g_set_prgname ("mbd");

  /* Global options may come before the command: move them behind it for the command's parser. */
  int command_index = 0;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--version") == 0)
        {
          printf ("mbd %s\n", MBD_VERSION_S);
          return 0;
        }
      if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        {
          if (command_index == 0)
            {
              print_usage (stdout);
              return 0;
            }
          continue;
        }
      if (strcmp (argv[i], "--home") == 0)
        {
          i++;
          continue;
        }
      if (argv[i][0] != '-' && command_index == 0)
        command_index = i;
    }
  if (command_index == 0)
    {
      print_usage (stderr);
      return 2;
    }

  const MbdCommand *command = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, argv[command_index]) == 0)
      command = &commands[i];
  if (command == NULL)
    {
      fprintf (stderr, "error: unknown command '%s'; see 'mbd --help'\n", argv[command_index]);
      return 2;
    }

  /* argv for the builtin: "mbd COMMAND" as argv[0], then every other argument in order. */
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autofree char *prgname = g_strdup_printf ("mbd %s", command->name);
  g_ptr_array_add (args, prgname);
  for (int i = 1; i < argc; i++)
    if (i != command_index)
      g_ptr_array_add (args, argv[i]);
  g_ptr_array_add (args, NULL);
  int sub_argc = args->len - 1;
  char **sub_argv = (char **) args->pdata;

  MbdCommandInvocation invocation = { command->name, command->description };
  if (!command->fn (sub_argc, sub_argv, &invocation, NULL, &error))
    {
      fprintf (stderr, "error: %s\n", error->message);
      return error->domain == G_OPTION_ERROR ? 2 : 1;
    }
  return 0;
}
