/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "mbd-server-api.h"

/* The shared parts of the API calls: checks, arguments and the three outputs. */

const char *
mbd_server_api_arg (GHashTable *query, const char *name)
{
  const char *value = query != NULL ? g_hash_table_lookup (query, name) : NULL;

  return value != NULL && value[0] != '\0' ? value : NULL;
}

char **
mbd_server_api_arg_list (GHashTable *query, const char *name)
{
  const char *value = mbd_server_api_arg (query, name);
  if (value == NULL)
    return NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) parts = g_strsplit (value, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (g_strstrip (parts[i])[0] != '\0')
      g_strv_builder_add (builder, parts[i]);
  g_auto (GStrv) list = g_strv_builder_end (builder);
  return list[0] != NULL ? g_steal_pointer (&list) : NULL;
}

void
mbd_server_api_bad_arg (SoupServerMessage *msg,
                        const char *call,
                        const char *name,
                        const char *what)
{
  g_autofree char *detail = g_strdup_printf ("API call '%s': argument '%s' %s", call, name, what);
  mbd_server_problem (msg, SOUP_STATUS_BAD_REQUEST, detail);
}

gboolean
mbd_server_api_arg_bool (SoupServerMessage *msg,
                         GHashTable *query,
                         const char *call,
                         const char *name,
                         gboolean *out_value)
{
  const char *value = mbd_server_api_arg (query, name);
  const char *const yes[] = { "true", "1", "yes", "on", NULL };
  const char *const no[] = { "false", "0", "no", "off", NULL };

  *out_value = FALSE;
  if (value == NULL)
    return TRUE;
  for (guint i = 0; yes[i] != NULL; i++)
    if (g_ascii_strcasecmp (value, yes[i]) == 0)
      return (*out_value = TRUE);
  for (guint i = 0; no[i] != NULL; i++)
    if (g_ascii_strcasecmp (value, no[i]) == 0)
      return TRUE;
  g_autofree char *what = g_strdup_printf ("is not a boolean: '%s' (use True or False)", value);
  mbd_server_api_bad_arg (msg, call, name, what);
  return FALSE;
}

gboolean
mbd_server_api_arg_int (SoupServerMessage *msg,
                        GHashTable *query,
                        const char *call,
                        const char *name,
                        int fallback,
                        int *out_value)
{
  const char *value = mbd_server_api_arg (query, name);
  gint64 number = 0;

  *out_value = fallback;
  if (value == NULL)
    return TRUE;
  if (!g_ascii_string_to_signed (value, 10, G_MININT, G_MAXINT, &number, NULL))
    {
      g_autofree char *what = g_strdup_printf ("is not an integer: '%s'", value);
      mbd_server_api_bad_arg (msg, call, name, what);
      return FALSE;
    }
  *out_value = (int) number;
  return TRUE;
}

gboolean
mbd_server_api_check (SoupServerMessage *msg,
                      MbdInstance *instance,
                      GHashTable *query,
                      const char *call,
                      MbdServerApiFlags flags,
                      const char *const *mandatory)
{
  if ((flags & MBD_SERVER_API_CONFIRM)
      && g_strcmp0 (mbd_server_api_arg (query, "confirm"), call) != 0)
    {
      g_autofree char *detail
          = g_strdup_printf ("API call '%s' needs to be confirmed: %s", call, call);
      mbd_server_problem (msg, SOUP_STATUS_BAD_REQUEST, detail);
      return FALSE;
    }
  if ((flags & MBD_SERVER_API_RUNNING) && !mbd_instance_is_started (instance))
    {
      g_autofree char *detail
          = g_strdup_printf ("API call '%s' needs the running engine, which is stopped", call);
      mbd_server_problem (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, detail);
      return FALSE;
    }
  for (guint i = 0; mandatory != NULL && mandatory[i] != NULL; i++)
    if (mbd_server_api_arg (query, mandatory[i]) == NULL)
      {
        mbd_server_api_bad_arg (msg, call, mandatory[i], "is missing");
        return FALSE;
      }
  return TRUE;
}

gboolean
mbd_server_api_check_distribution (SoupServerMessage *msg,
                                   MbdInstance *instance,
                                   const char *call,
                                   const char *name,
                                   const char *distribution)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdRepository) repo
             = mbd_instance_lookup_repository_for_distribution (instance, distribution, &error);
  if (repo != NULL)
    {
      g_auto (GStrv) known = mbd_repository_list_distribution_strings (repo, TRUE);
      if (g_strv_contains ((const char *const *) known, distribution))
        return TRUE;
    }
  g_autofree char *what = g_strdup_printf (
      "names no distribution of this instance: '%s'%s%s (see sources_list)", distribution,
      error != NULL ? ": " : "", error != NULL ? error->message : "");
  mbd_server_api_bad_arg (msg, call, name, what);
  return FALSE;
}

void
mbd_server_api_fail (SoupServerMessage *msg, const char *call, const GError *error)
{
  g_autofree char *detail = g_strdup_printf ("API call '%s': %s", call, error->message);
  mbd_server_problem (msg, mbd_server_status_for_error (error), detail);
}

static void
respond (SoupServerMessage *msg, const char *content_type, char *body)
{
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_TAKE, body, strlen (body));
}

gboolean
mbd_server_api_output_is_text (const char *output)
{
  return g_strcmp0 (output, "plain") == 0 || g_strcmp0 (output, "html") == 0
         || g_strcmp0 (output, "html-snippet") == 0;
}

/* The body of the page showing @text (escaped): a heading with the request path and the text. */
static char *
html_snippet (SoupServerMessage *msg, const char *text)
{
  g_autofree char *path
      = g_markup_escape_text (g_uri_get_path (soup_server_message_get_uri (msg)), -1);
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  return g_strdup_printf ("<h1>%s</h1>\n<pre>%s</pre>\n", path, escaped);
}

/* A minimal valid HTML5 page showing @text, escaped. */
static char *
html_page (SoupServerMessage *msg, const char *text)
{
  g_autofree char *path
      = g_markup_escape_text (g_uri_get_path (soup_server_message_get_uri (msg)), -1);
  g_autofree char *body = html_snippet (msg, text);

  return g_strdup_printf ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                          "<title>mbd: %s</title>\n</head>\n<body>\n%s</body>\n</html>\n",
                          path, body);
}

void
mbd_server_api_answer (SoupServerMessage *msg, GHashTable *query, JsonNode *result)
{
  const char *output = mbd_server_api_arg (query, "output");
  gboolean text
      = JSON_NODE_HOLDS_VALUE (result) && json_node_get_value_type (result) == G_TYPE_STRING;

  if (output == NULL || strcmp (output, "json") == 0)
    {
      respond (msg, "application/json", json_to_string (result, FALSE));
      return;
    }
  g_autofree char *pretty = text ? NULL : json_to_string (result, TRUE);
  g_autofree char *shown
      = text ? g_strdup (json_node_get_string (result)) : g_strconcat (pretty, "\n", NULL);
  if (strcmp (output, "plain") == 0)
    respond (msg, "text/plain", g_steal_pointer (&shown));
  else if (strcmp (output, "html-snippet") == 0)
    respond (msg, "text/html; charset=utf-8", html_snippet (msg, shown));
  else
    respond (msg, "text/html; charset=utf-8", html_page (msg, shown));
}

void
mbd_server_api_answer_text (SoupServerMessage *msg, GHashTable *query, const char *text)
{
  g_autoptr (JsonNode) node = json_node_init_string (json_node_alloc (), text);
  mbd_server_api_answer (msg, query, node);
}

void
mbd_server_api_answer_empty (SoupServerMessage *msg, GHashTable *query)
{
  g_autoptr (JsonObject) object = json_object_new ();
  g_autoptr (JsonNode) root = json_node_init_object (json_node_alloc (), object);
  mbd_server_api_answer (msg, query, root);
}

MbdServerApiPending *
mbd_server_api_pause (SoupServerMessage *msg, GHashTable *query)
{
  MbdServerApiPending *pending = g_new0 (MbdServerApiPending, 1);
  pending->msg = g_object_ref (msg);
  pending->query = query != NULL ? g_hash_table_ref (query) : NULL;
  soup_server_message_pause (msg);
  return pending;
}

void
mbd_server_api_resume (MbdServerApiPending *pending)
{
  soup_server_message_unpause (pending->msg);
  g_object_unref (pending->msg);
  g_clear_pointer (&pending->query, g_hash_table_unref);
  g_free (pending);
}
