/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst. */
static gboolean opt_staff;
static gboolean opt_admin;
static gboolean opt_no_password;
static gboolean opt_revoke;
static gboolean opt_json;
static char *opt_email;
static char *opt_password_file;

static const GOptionEntry options[] = {
  { "staff", 0, 0, G_OPTION_ARG_NONE, &opt_staff, "add: the user is staff", NULL },
  { "admin", 0, 0, G_OPTION_ARG_NONE, &opt_admin,
    "add: the user is an administrator (superuser and staff)", NULL },
  { "email", 0, 0, G_OPTION_ARG_STRING, &opt_email, "add: the user's mail address", "ADDRESS" },
  { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_password_file,
    "add, passwd: read the password from FILE (first line) instead of standard input", "FILE" },
  { "no-password", 0, 0, G_OPTION_ARG_NONE, &opt_no_password,
    "add: no password login (bearer tokens only)", NULL },
  { "revoke", 0, 0, G_OPTION_ARG_NONE, &opt_revoke, "token: revoke all tokens of the user instead",
    NULL },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "ls: print JSON", NULL },
  { NULL }
};

/* The first line of --password-file or of standard input. */
static char *
read_password (GError **error)
{
  g_autofree char *text = NULL;

  if (opt_password_file != NULL)
    {
      if (!g_file_get_contents (opt_password_file, &text, NULL, error))
        return NULL;
    }
  else
    {
      g_autoptr (GString) input = g_string_new (NULL);
      int c;
      while ((c = getchar ()) != EOF && c != '\n')
        g_string_append_c (input, c);
      text = g_strdup (input->str);
    }
  text[strcspn (text, "\r\n")] = '\0';
  if (*text == '\0')
    {
      g_set_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT,
                   "no password: give it on the first line of %s",
                   opt_password_file != NULL ? opt_password_file : "standard input");
      return NULL;
    }
  return g_steal_pointer (&text);
}

static gboolean
list_users (MbdUsers *users, GError **error)
{
  g_autoptr (GPtrArray) list = mbd_users_list (users, error);
  if (list == NULL)
    return FALSE;
  if (!opt_json)
    {
      for (guint i = 0; i < list->len; i++)
        {
          MbdUser *user = g_ptr_array_index (list, i);
          const char *fpr = mbd_user_get_key_fingerprint (user);
          printf ("%-20s %-6s %-30s key: %s%s\n", mbd_user_get_name (user),
                  mbd_user_get_is_active (user)
                      ? mbd_user_level_to_string (mbd_user_get_level (user))
                      : "INACTIVE",
                  *mbd_user_get_email (user) != '\0' ? mbd_user_get_email (user) : "-",
                  fpr != NULL ? fpr : "-",
                  fpr == NULL || mbd_user_get_key_active (user) ? "" : " (inactive)");
        }
      return TRUE;
    }
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_array (builder);
  for (guint i = 0; i < list->len; i++)
    {
      MbdUser *user = g_ptr_array_index (list, i);
      g_autoptr (GDateTime) created = g_date_time_new_from_unix_utc (mbd_user_get_created (user));
      g_autofree char *created_text = g_date_time_format_iso8601 (created);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, mbd_user_get_name (user));
      json_builder_set_member_name (builder, "email");
      json_builder_add_string_value (builder, mbd_user_get_email (user));
      json_builder_set_member_name (builder, "is_active");
      json_builder_add_boolean_value (builder, mbd_user_get_is_active (user));
      json_builder_set_member_name (builder, "is_staff");
      json_builder_add_boolean_value (builder, mbd_user_get_is_staff (user));
      json_builder_set_member_name (builder, "is_superuser");
      json_builder_add_boolean_value (builder, mbd_user_get_is_superuser (user));
      json_builder_set_member_name (builder, "level");
      json_builder_add_string_value (builder, mbd_user_level_to_string (mbd_user_get_level (user)));
      json_builder_set_member_name (builder, "created");
      json_builder_add_string_value (builder, created_text);
      json_builder_set_member_name (builder, "key_fingerprint");
      if (mbd_user_get_key_fingerprint (user) != NULL)
        json_builder_add_string_value (builder, mbd_user_get_key_fingerprint (user));
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "key_active");
      json_builder_add_boolean_value (builder, mbd_user_get_key_active (user));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autofree char *json = json_to_string (root, TRUE);
  printf ("%s\n", json);
  return TRUE;
}

BUILTINPROTO (user)
{
  const char *const value_options[] = { "--home", "--email", "--password-file", NULL };
  const char *sub = mbd_cli_take_subcommand_full (&argc, argv, value_options);
  g_autoptr (GOptionContext) context
             = g_option_context_new ("add NAME | ls | rm NAME | passwd NAME | token NAME | "
                                     "activate-key NAME - users of mbd-server");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  const char *const named[] = { "add", "rm", "passwd", "token", "activate-key", NULL };
  gboolean ls = g_strcmp0 (sub, "ls") == 0;
  if (sub == NULL || (!ls && !g_strv_contains (named, sub)))
    return mbd_cli_usage_error (error,
                                "give a subcommand: mbd user add|ls|rm|passwd|token|activate-key");
  if (argc != (ls ? 1 : 2))
    return mbd_cli_usage_error (
        error, ls ? "usage: mbd user ls [--json]" : "usage: mbd user %s NAME", sub);
  g_autoptr (MbdUsers) users = mbd_users_new (instance);
  if (ls)
    return list_users (users, error);

  const char *name = argv[1];
  if (strcmp (sub, "add") == 0)
    {
      MbdUserLevel level = opt_admin   ? MBD_USER_LEVEL_ADMIN
                           : opt_staff ? MBD_USER_LEVEL_STAFF
                                       : MBD_USER_LEVEL_LOGIN;
      g_autofree char *password = opt_no_password ? NULL : read_password (error);
      if (!opt_no_password && password == NULL)
        return FALSE;
      if (!mbd_users_add (users, name, password, opt_email, level, error))
        return FALSE;
      printf ("User %s added (%s)\n", name, mbd_user_level_to_string (level));
    }
  else if (strcmp (sub, "rm") == 0)
    {
      if (!mbd_users_remove (users, name, error))
        return FALSE;
      printf ("User %s removed\n", name);
    }
  else if (strcmp (sub, "passwd") == 0)
    {
      g_autofree char *password = read_password (error);
      if (password == NULL || !mbd_users_set_password (users, name, password, error))
        return FALSE;
      printf ("Password of %s changed; the user's sessions are ended\n", name);
    }
  else if (strcmp (sub, "token") == 0 && opt_revoke)
    {
      if (!mbd_users_revoke_tokens (users, name, error))
        return FALSE;
      printf ("Tokens of %s revoked\n", name);
    }
  else if (strcmp (sub, "token") == 0)
    {
      g_autofree char *token = mbd_users_create_token (users, name, error);
      if (token == NULL)
        return FALSE;
      printf ("%s\n", token);
    }
  else
    {
      if (!mbd_users_activate_key (users, name, error))
        return FALSE;
      g_autoptr (MbdUser) user = mbd_users_lookup (users, name, error);
      if (user == NULL)
        return FALSE;
      printf ("Key %s of %s activated: it may upload to every repository\n",
              mbd_user_get_key_fingerprint (user), name);
    }
  return TRUE;
}
