/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst. */
static char *opt_wake_command;
static gboolean opt_no_activate;
static gboolean opt_json;
static int opt_sleep = 5;
static int opt_attempts = 3;

static const GOptionEntry options[]
    = { { "wake-command", 0, 0, G_OPTION_ARG_STRING, &opt_wake_command,
          "add, prepare: the command that wakes the remote ('' for none)", "COMMAND" },
        { "no-activate", 0, 0, G_OPTION_ARG_NONE, &opt_no_activate,
          "check: only check, do not activate the remote", NULL },
        { "sleep", 0, 0, G_OPTION_ARG_INT, &opt_sleep, "wake: seconds between attempts (5)",
          "SECONDS" },
        { "attempts", 0, 0, G_OPTION_ARG_INT, &opt_attempts, "wake: status attempts (3)", "N" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "ls: print JSON", NULL },
        { NULL } };

static void
print_remote (JsonBuilder *builder, MbdRemote *remote)
{
  const char *fpr = mbd_remote_get_fingerprint (remote);
  const char *wake = mbd_remote_get_wake_command (remote);
  const char *message = mbd_remote_get_check_message (remote);
  gint64 checked = mbd_remote_get_check_time (remote);
  g_autofree char *checked_text = NULL;
  if (checked != 0)
    {
      g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (checked);
      checked_text = g_date_time_format_iso8601 (time);
    }
  if (builder == NULL)
    {
      printf ("%-40s %-8s key: %s\n", mbd_remote_get_url (remote),
              mbd_remote_state_to_string (mbd_remote_get_state (remote)), fpr != NULL ? fpr : "-");
      if (wake != NULL)
        printf ("  wake command: %s\n", wake);
      if (checked_text != NULL)
        printf ("  checked %s: %s\n", checked_text, message != NULL ? message : "OK");
      return;
    }
  json_builder_begin_object (builder);
  const char *members[][2] = {
    { "url", mbd_remote_get_url (remote) },
    { "state", mbd_remote_state_to_string (mbd_remote_get_state (remote)) },
    { "fingerprint", fpr },
    { "wake_command", wake },
    { "checked", checked_text },
    { "check_message", message },
  };
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      json_builder_set_member_name (builder, members[i][0]);
      if (members[i][1] != NULL)
        json_builder_add_string_value (builder, members[i][1]);
      else
        json_builder_add_null_value (builder);
    }
  json_builder_end_object (builder);
}

static gboolean
list_remotes (MbdInstance *instance, GError **error)
{
  g_autoptr (GPtrArray) list = mbd_instance_list_remotes (instance, error);
  if (list == NULL)
    return FALSE;
  g_autoptr (JsonBuilder) builder = opt_json ? json_builder_new () : NULL;
  if (builder != NULL)
    json_builder_begin_array (builder);
  for (guint i = 0; i < list->len; i++)
    print_remote (builder, g_ptr_array_index (list, i));
  if (builder == NULL)
    return TRUE;
  json_builder_end_array (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autofree char *json = json_to_string (root, TRUE);
  printf ("%s\n", json);
  return TRUE;
}

static gboolean
prepare (MbdRemote *remote, GCancellable *cancellable, GError **error)
{
  if (opt_wake_command != NULL && !mbd_remote_set_wake_command (remote, opt_wake_command, error))
    return FALSE;
  if (!mbd_remote_prepare (remote, cancellable, error))
    return FALSE;
  printf ("Remote %s prepared: key %s\n", mbd_remote_get_url (remote),
          mbd_remote_get_fingerprint (remote));
  return TRUE;
}

BUILTINPROTO (remote)
{
  const char *const value_options[] = { "--home", "--wake-command", "--sleep", "--attempts", NULL };
  const char *sub = mbd_cli_take_subcommand_full (&argc, argv, value_options);
  g_autoptr (GOptionContext) context
             = g_option_context_new ("add URL | prepare URL | check URL | ls | rm URL | "
                                     "deactivate URL | wake URL - other instances");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  const char *const named[] = { "add", "prepare", "check", "rm", "deactivate", "wake", NULL };
  gboolean ls = g_strcmp0 (sub, "ls") == 0;
  if (sub == NULL || (!ls && !g_strv_contains (named, sub)))
    return mbd_cli_usage_error (error, "give a subcommand: mbd remote add|prepare|check|ls|rm|"
                                       "deactivate|wake");
  if (argc != (ls ? 1 : 2))
    return mbd_cli_usage_error (
        error, ls ? "usage: mbd remote ls [--json]" : "usage: mbd remote %s URL", sub);
  if (ls)
    return list_remotes (instance, error);

  const char *url = argv[1];
  if (strcmp (sub, "add") == 0)
    {
      g_autoptr (MbdRemote) remote = mbd_instance_add_remote (instance, url, error);
      if (remote == NULL)
        return FALSE;
      printf ("Remote %s added\n", mbd_remote_get_url (remote));
      if (!prepare (remote, cancellable, error))
        {
          g_prefix_error (error,
                          "remote %s added, but not prepared (retry with 'mbd remote "
                          "prepare %s'): ",
                          mbd_remote_get_url (remote), mbd_remote_get_url (remote));
          return FALSE;
        }
      return TRUE;
    }
  if (strcmp (sub, "rm") == 0)
    {
      if (!mbd_instance_remove_remote (instance, url, error))
        return FALSE;
      printf ("Remote %s removed\n", url);
      return TRUE;
    }
  g_autoptr (MbdRemote) remote = mbd_instance_lookup_remote (instance, url, error);
  if (remote == NULL)
    return FALSE;
  if (strcmp (sub, "prepare") == 0)
    return prepare (remote, cancellable, error);
  if (strcmp (sub, "deactivate") == 0)
    {
      if (!mbd_remote_deactivate (remote, error))
        return FALSE;
      printf ("Remote %s deactivated\n", mbd_remote_get_url (remote));
      return TRUE;
    }
  if (strcmp (sub, "wake") == 0)
    {
      g_autofree char *status
          = mbd_remote_wake (remote, opt_sleep, opt_attempts, cancellable, error);
      if (status == NULL)
        return FALSE;
      printf ("%s\n", status);
      return TRUE;
    }
  if (!mbd_remote_check (remote, cancellable, error))
    return FALSE;
  printf ("Remote %s checked: status and handshake OK\n", mbd_remote_get_url (remote));
  if (opt_no_activate)
    return TRUE;
  if (!mbd_remote_activate (remote, error))
    return FALSE;
  printf ("Remote %s activated\n", mbd_remote_get_url (remote));
  return TRUE;
}
