/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-server-api.h"
#include "mbd-server.h"

/* mini-buildd's API calls port and port_ext. Arguments as in its GET encoding: lists are
 * comma-separated, the upload options of -O are separated by '|', booleans are "True"; both
 * calls must be confirmed (confirm=<call>) and need the running engine. */

static const char *
arg (GHashTable *query, const char *name)
{
  const char *value = query != NULL ? g_hash_table_lookup (query, name) : NULL;

  return value != NULL && value[0] != '\0' ? value : NULL;
}

static char **
split_list (const char *value, const char *separators)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) parts = g_strsplit_set (value != NULL ? value : "", separators, -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *part = g_strstrip (parts[i]);
      if (part[0] != '\0')
        g_strv_builder_add (builder, part);
    }
  return g_strv_builder_end (builder);
}

/* The answer: [{dsc_url, source, distribution, version, key}], one per target. */
static void
answer (SoupServerMessage *msg,
        const char *dsc_url,
        const char *source,
        const char *const *distributions,
        char **keys,
        char **versions)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_array (builder);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "dsc_url");
      json_builder_add_string_value (builder, dsc_url);
      json_builder_set_member_name (builder, "source");
      json_builder_add_string_value (builder, source);
      json_builder_set_member_name (builder, "distribution");
      json_builder_add_string_value (builder, distributions[i]);
      json_builder_set_member_name (builder, "version");
      json_builder_add_string_value (builder, versions[i]);
      json_builder_set_member_name (builder, "key");
      json_builder_add_string_value (builder, keys[i]);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  char *body = json_to_string (root, FALSE);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, strlen (body));
}

/* The URL of the pool .dsc of @source in @distribution (what gets ported), or "" if unknown. */
static char *
pool_dsc_url (MbdInstance *instance, const char *source, const char *distribution)
{
  g_autofree char *json = mbd_instance_ls_json (instance, source, NULL, NULL, NULL, TRUE, NULL);
  g_autoptr (JsonNode) root = json != NULL ? json_from_string (json, NULL) : NULL;
  g_autofree char *base = mbd_instance_dup_url (instance);

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) || base == NULL)
    return g_strdup ("");
  g_autoptr (GList) repos = json_object_get_members (json_node_get_object (root));
  for (GList *l = repos; l != NULL; l = l->next)
    {
      JsonObject *dists = json_object_get_object_member (json_node_get_object (root), l->data);
      JsonObject *dist = dists != NULL && json_object_has_member (dists, distribution)
                             ? json_object_get_object_member (dists, distribution)
                             : NULL;
      const char *path = dist != NULL
                             ? json_object_get_string_member_with_default (dist, "dsc_path", NULL)
                             : NULL;
      if (path != NULL)
        return g_strdup_printf ("%s/repositories/%s", base, path);
    }
  return g_strdup ("");
}

/* A port or port_ext call while its ports are made. */
typedef struct
{
  SoupServerMessage *msg; /* (owned) */
  char *dsc_url;
  char *source; /* (nullable) port's; port_ext learns it from the .dsc */
  GStrv distributions;
} PortCall;

static void
port_call_free (PortCall *call)
{
  g_object_unref (call->msg);
  g_free (call->dsc_url);
  g_free (call->source);
  g_strfreev (call->distributions);
  g_free (call);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PortCall, port_call_free)

static void
port_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PortCall) call = user_data;
  g_auto (GStrv) keys = NULL;
  g_auto (GStrv) versions = NULL;
  g_autoptr (GError) error = NULL;

  if (!mbd_packager_port_finish (MBD_PACKAGER (object), result, &keys, &versions, &error))
    mbd_server_problem (call->msg, mbd_server_status_for_error (error), error->message);
  else
    answer (call->msg, call->dsc_url, call->source, (const char *const *) call->distributions, keys,
            versions);
  soup_server_message_unpause (call->msg);
}

/* The ported sources are made in a worker thread (dpkg-source, dpkg-genchanges, gpg), the
 * uploads submitted on the main thread afterwards. */
void
mbd_server_api_port (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *const mandatory[] = { "source", "from_distribution", "to_distributions", NULL };
  if (!mbd_server_api_check (msg, instance, query, "port",
                             MBD_SERVER_API_RUNNING | MBD_SERVER_API_CONFIRM, mandatory))
    return;
  PortCall *call = g_new0 (PortCall, 1);
  call->msg = g_object_ref (msg);
  call->source = g_strdup (arg (query, "source"));
  const char *from = arg (query, "from_distribution");
  call->dsc_url = pool_dsc_url (instance, call->source, from);
  call->distributions = split_list (arg (query, "to_distributions"), ", ");
  g_auto (GStrv) options
          = arg (query, "options") != NULL ? split_list (arg (query, "options"), "|") : NULL;

  soup_server_message_pause (msg);
  mbd_packager_port_async (mbd_instance_get_packager (instance), call->source, from,
                           (const char *const *) call->distributions, arg (query, "version"),
                           (const char *const *) options, NULL, port_done, call);
}

static void
port_ext_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PortCall) call = user_data;
  g_autofree char *source = NULL;
  g_auto (GStrv) keys = NULL;
  g_auto (GStrv) versions = NULL;
  g_autoptr (GError) error = NULL;

  if (!mbd_packager_port_ext_finish (MBD_PACKAGER (object), result, &source, &keys, &versions,
                                     &error))
    mbd_server_problem (call->msg, mbd_server_status_for_error (error), error->message);
  else
    answer (call->msg, call->dsc_url, source, (const char *const *) call->distributions, keys,
            versions);
  soup_server_message_unpause (call->msg);
}

/* The download runs in a worker thread (the URL may be this server's own), the uploads on the
 * main thread afterwards. */
void
mbd_server_api_port_ext (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *const mandatory[] = { "dsc_url", "distributions", NULL };
  if (!mbd_server_api_check (msg, instance, query, "port_ext",
                             MBD_SERVER_API_RUNNING | MBD_SERVER_API_CONFIRM, mandatory))
    return;
  PortCall *call = g_new0 (PortCall, 1);
  call->msg = g_object_ref (msg);
  call->dsc_url = g_strdup (arg (query, "dsc_url"));
  call->distributions = split_list (arg (query, "distributions"), ", ");
  g_auto (GStrv) options
          = arg (query, "options") != NULL ? split_list (arg (query, "options"), "|") : NULL;
  const char *allow = arg (query, "allow_unauthenticated");
  gboolean allow_unauthenticated
      = allow != NULL && g_ascii_strcasecmp (allow, "false") != 0 && strcmp (allow, "0") != 0;

  soup_server_message_pause (msg);
  mbd_packager_port_ext_async (mbd_instance_get_packager (instance), call->dsc_url,
                               (const char *const *) call->distributions, allow_unauthenticated,
                               (const char *const *) options, NULL, port_ext_done, call);
}
