/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char **opt_args;
static char *opt_origin;
static char **opt_mirrors;
static char *opt_keyring;
static gboolean opt_no_extras;
static gboolean opt_no_valid_until;
static int opt_timeout;
static gboolean opt_all;
static gboolean opt_json;

static const GOptionEntry add_options[]
    = { { "origin", 0, 0, G_OPTION_ARG_STRING, &opt_origin,
          "Debian or Ubuntu (default: the one that knows CODENAME)", "ORIGIN" },
        { "mirror", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_mirrors,
          "Mirror URI, repeatable (default: from the machine's apt sources)", "URI" },
        { "keyring", 0, 0, G_OPTION_ARG_FILENAME, &opt_keyring,
          "Keyring the Release file must be signed by", "FILE" },
        { "no-extras", 0, 0, G_OPTION_ARG_NONE, &opt_no_extras,
          "Do not add the security, updates and backports sources", NULL },
        { "no-check-valid-until", 0, 0, G_OPTION_ARG_NONE, &opt_no_valid_until,
          "Accept a Release file whose Valid-Until has passed", NULL },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &opt_timeout,
          "Seconds to wait for a mirror (default 30)", "SECONDS" },
        { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_args, NULL, "CODENAME" },
        { NULL } };

static const GOptionEntry check_options[]
    = { { "all", 0, 0, G_OPTION_ARG_NONE, &opt_all, "Check every source", NULL },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &opt_timeout,
          "Seconds to wait for a mirror (default: the source's)", "SECONDS" },
        { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_args, NULL, "CODENAME" },
        { NULL } };

static const GOptionEntry ls_options[]
    = { { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the sources as JSON", NULL },
        { NULL } };

static const GOptionEntry rm_options[]
    = { { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_args, NULL, "CODENAME" },
        { NULL } };

static const char *const state_names[] = { "removed", "prepared", "active" };

static gboolean
usage_error (GError **error, const char *message)
{
  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, message);
  return FALSE;
}

/* Exactly one CODENAME argument. */
static const char *
one_codename (GError **error)
{
  guint n = opt_args != NULL ? g_strv_length (opt_args) : 0;

  if (n != 1)
    {
      usage_error (error, n == 0 ? "a CODENAME is required" : "only one CODENAME, please");
      return NULL;
    }
  return opt_args[0];
}

/* Debian keeps its security archive beside the main one: .../debian -> .../debian-security. */
static gboolean
derive_security_mirrors (MbdSource *extra)
{
  if (strcmp (mbd_source_get_origin (extra), "Debian") != 0
      || !g_str_has_suffix (mbd_source_get_codename (extra), "-security"))
    return FALSE;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (guint i = 0; opt_mirrors[i] != NULL; i++)
    {
      g_autofree char *trimmed = g_strdup (opt_mirrors[i]);
      g_strchomp (trimmed);
      while (g_str_has_suffix (trimmed, "/"))
        trimmed[strlen (trimmed) - 1] = '\0';
      g_autofree char *uri = g_strconcat (trimmed, "-security", NULL);
      g_strv_builder_add (builder, uri);
    }
  g_auto (GStrv) uris = g_strv_builder_end (builder);
  mbd_source_set_mirror_uris (extra, (const char *const *) uris);
  return TRUE;
}

/* --mirror applies to the source and its extras, except Debian's security archive, which lives
 * beside the main one. */
static gboolean
add_one (MbdInstance *instance, MbdSource *source, GError **error)
{
  if (opt_keyring != NULL)
    mbd_source_set_keyring_file (source, opt_keyring);
  if (opt_mirrors != NULL && !derive_security_mirrors (source))
    mbd_source_set_mirror_uris (source, (const char *const *) opt_mirrors);
  if (opt_no_valid_until)
    mbd_source_set_check_valid_until (source, FALSE);
  if (opt_timeout > 0)
    mbd_source_set_timeout (source, opt_timeout);
  if (!mbd_instance_add_source (instance, source, error))
    return FALSE;
  printf ("Added source %s (%s) from %s\n", mbd_source_get_codename (source),
          mbd_source_get_origin (source), mbd_source_get_mirror_uri (source));
  return TRUE;
}

static gboolean
source_add (MbdInstance *instance, GError **error)
{
  const char *codename = one_codename (error);
  if (codename == NULL)
    return FALSE;

  g_autoptr (GError) builtin_error = NULL;
  g_autoptr (MbdSource) source = mbd_source_new_builtin (codename, opt_origin, &builtin_error);
  if (source == NULL)
    {
      /* Unknown codename: fine if the user says everything. */
      if (opt_origin == NULL || opt_mirrors == NULL || opt_keyring == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&builtin_error));
          return FALSE;
        }
      source = mbd_source_new (opt_origin, codename);
    }
  if (!add_one (instance, source, error))
    return FALSE;
  if (opt_no_extras)
    return TRUE;

  const char *const *extras = mbd_source_get_extras (source);
  for (guint i = 0; extras[i] != NULL; i++)
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (MbdSource) extra = mbd_source_new_builtin (extras[i], opt_origin, error);
      if (extra == NULL)
        return FALSE;
      gboolean ok = add_one (instance, extra, &local_error);
      if (!ok && !g_error_matches (local_error, MBD_ERROR, MBD_ERROR_EXISTS))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (!ok)
        printf ("Source %s exists already\n", extras[i]);
    }
  return TRUE;
}

static gboolean
check_one (MbdSource *source)
{
  g_autoptr (GError) error = NULL;

  if (opt_timeout > 0)
    mbd_source_set_timeout (source, opt_timeout);
  if (!mbd_source_check (source, NULL, &error))
    {
      fprintf (stderr, "error: source %s: %s\n", mbd_source_get_codename (source), error->message);
      return FALSE;
    }
  g_autofree char *arches = g_strjoinv (" ", (char **) mbd_source_get_architectures (source));
  g_autofree char *components = g_strjoinv (" ", (char **) mbd_source_get_components (source));
  printf ("%s: active, codeversion %s, architectures %s, components %s\n",
          mbd_source_get_codename (source), mbd_source_get_codeversion (source), arches,
          components);
  return TRUE;
}

static gboolean
source_check (MbdInstance *instance, GError **error)
{
  g_autoptr (GPtrArray) sources = NULL;

  if (opt_all)
    {
      if (opt_args != NULL)
        return usage_error (error, "give either CODENAME or --all");
      sources = mbd_instance_list_sources (instance, error);
      if (sources == NULL)
        return FALSE;
    }
  else
    {
      const char *codename = one_codename (error);
      if (codename == NULL)
        return FALSE;
      MbdSource *source = mbd_instance_lookup_source (instance, codename, error);
      if (source == NULL)
        return FALSE;
      sources = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (sources, source);
    }

  guint failed = 0;
  for (guint i = 0; i < sources->len; i++)
    if (!check_one (g_ptr_array_index (sources, i)))
      failed++;
  if (failed > 0)
    {
      g_set_error (error, MBD_ERROR, MBD_ERROR_FAILED, "%u of %u source checks failed", failed,
                   sources->len);
      return FALSE;
    }
  return TRUE;
}

static void
add_strv (JsonBuilder *builder, const char *name, const char *const *strv)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; strv[i] != NULL; i++)
    json_builder_add_string_value (builder, strv[i]);
  json_builder_end_array (builder);
}

static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
print_json (GPtrArray *sources)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_array (builder);
  for (guint i = 0; i < sources->len; i++)
    {
      MbdSource *source = g_ptr_array_index (sources, i);
      json_builder_begin_object (builder);
      add_string (builder, "origin", mbd_source_get_origin (source));
      add_string (builder, "codename", mbd_source_get_codename (source));
      add_string (builder, "state", state_names[mbd_source_get_state (source)]);
      add_string (builder, "codeversion", mbd_source_get_codeversion (source));
      add_strv (builder, "mirrors", mbd_source_get_mirror_uris (source));
      add_string (builder, "keyring", mbd_source_get_keyring_file (source));
      add_strv (builder, "components", mbd_source_get_components (source));
      add_strv (builder, "architectures", mbd_source_get_architectures (source));
      add_string (builder, "description", mbd_source_get_description (source));
      add_string (builder, "check_message", mbd_source_get_check_message (source));
      GDateTime *time = mbd_source_get_check_time (source);
      g_autofree char *iso = time != NULL ? g_date_time_format_iso8601 (time) : NULL;
      add_string (builder, "check_time", iso);
      json_builder_set_member_name (builder, "extras");
      json_builder_begin_object (builder);
      const char *const *extras = mbd_source_get_extras (source);
      for (guint e = 0; extras[e] != NULL; e++)
        {
          json_builder_set_member_name (builder, extras[e]);
          json_builder_add_int_value (builder, mbd_source_get_extra_priority (source, extras[e]));
        }
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, TRUE);
  printf ("%s\n", text);
}

static gboolean
source_ls (MbdInstance *instance, GError **error)
{
  g_autoptr (GPtrArray) sources = mbd_instance_list_sources (instance, error);
  if (sources == NULL)
    return FALSE;
  if (opt_json)
    {
      print_json (sources);
      return TRUE;
    }
  for (guint i = 0; i < sources->len; i++)
    {
      MbdSource *source = g_ptr_array_index (sources, i);
      const char *codeversion = mbd_source_get_codeversion (source);
      printf ("%-22s %-16s %-9s %-6s %s\n", mbd_source_get_codename (source),
              mbd_source_get_origin (source), state_names[mbd_source_get_state (source)],
              codeversion != NULL ? codeversion : "-", mbd_source_get_mirror_uri (source));
      const char *message = mbd_source_get_check_message (source);
      if (mbd_source_get_state (source) != MBD_SOURCE_STATE_ACTIVE && message != NULL)
        printf ("  last check: %s\n", message);
    }
  return TRUE;
}

static gboolean
source_rm (MbdInstance *instance, GError **error)
{
  const char *codename = one_codename (error);
  if (codename == NULL || !mbd_instance_remove_source (instance, codename, error))
    return FALSE;
  printf ("Removed source %s\n", codename);
  return TRUE;
}

static const struct
{
  const char *name;
  const GOptionEntry *options;
  gboolean (*run) (MbdInstance *instance, GError **error);
  const char *summary;
} subcommands[] = {
  { "add", add_options, source_add, "CODENAME - add a source (and its extra sources)" },
  { "check", check_options, source_check, "CODENAME|--all - check sources against their mirrors" },
  { "ls", ls_options, source_ls, "- list the sources" },
  { "rm", rm_options, source_rm, "CODENAME - remove a source" },
};

BUILTINPROTO (source)
{
  /* The subcommand is the first argument that is neither an option nor the value of --home
   * (global options may come anywhere). */
  int sub = 0;
  for (int i = 1; i < argc && sub == 0; i++)
    {
      if (strcmp (argv[i], "--home") == 0)
        i++;
      else if (argv[i][0] != '-')
        sub = i;
    }
  if (sub == 0)
    {
      g_autoptr (GString) names = g_string_new (NULL);
      for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
        g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", subcommands[i].name);
      if (g_strv_contains ((const char *const *) argv, "--help")
          || g_strv_contains ((const char *const *) argv, "-h"))
        {
          printf ("Usage: mbd source {%s} ...\n", names->str);
          for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
            printf ("  mbd source %s %s\n", subcommands[i].name, subcommands[i].summary);
          return TRUE;
        }
      g_autofree char *message = g_strdup_printf ("mbd source needs a subcommand: %s", names->str);
      return usage_error (error, message);
    }
  for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
    {
      if (strcmp (argv[sub], subcommands[i].name) != 0)
        continue;
      /* argv without the subcommand, named "mbd source SUB" */
      g_autofree char *prgname = g_strdup_printf ("%s %s", argv[0], argv[sub]);
      g_autoptr (GPtrArray) args = g_ptr_array_new ();
      g_ptr_array_add (args, prgname);
      for (int a = 1; a < argc; a++)
        if (a != sub)
          g_ptr_array_add (args, argv[a]);
      g_ptr_array_add (args, NULL);
      int sub_argc = args->len - 1;
      char **sub_argv = (char **) args->pdata;
      g_autoptr (GOptionContext) context = g_option_context_new (subcommands[i].summary);
      g_autoptr (MbdInstance) instance = NULL;
      if (!mbd_option_context_parse (context, subcommands[i].options, &sub_argc, &sub_argv,
                                     invocation, MBD_BUILTIN_FLAG_NONE, &instance, cancellable,
                                     error))
        return FALSE;
      return subcommands[i].run (instance, error);
    }
  g_autofree char *message = g_strdup_printf ("unknown subcommand '%s' of mbd source", argv[sub]);
  return usage_error (error, message);
}
