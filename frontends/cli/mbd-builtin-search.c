/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static gboolean opt_json;

static const GOptionEntry options[]
    = { { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the matches as JSON", NULL },
        { NULL } };

BUILTINPROTO (search)
{
  g_autoptr (GOptionContext) context
             = g_option_context_new ("PATTERN - search source and binary package names");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  if (argc != 2)
    return mbd_cli_usage_error (error, "give one pattern: mbd search PATTERN");
  g_autofree char *json = mbd_instance_search_json (instance, argv[1], error);
  if (json == NULL)
    return FALSE;
  if (opt_json)
    {
      printf ("%s\n", json);
      return TRUE;
    }
  g_autoptr (JsonNode) root = json_from_string (json, error);
  if (root == NULL)
    return FALSE;
  JsonArray *matches = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (matches); i++)
    {
      JsonObject *m = json_array_get_object_element (matches, i);
      JsonArray *bins = json_object_get_array_member (m, "binaries");
      g_autoptr (GString) names = g_string_new (NULL);
      for (guint b = 0; b < json_array_get_length (bins); b++)
        g_string_append_printf (names, "%s%s", b > 0 ? " " : "",
                                json_array_get_string_element (bins, b));
      printf ("%-24s %-24s %-40s %s\n", json_object_get_string_member (m, "source"),
              json_object_get_string_member (m, "version"),
              json_object_get_string_member (m, "distribution"), names->str);
    }
  return TRUE;
}
