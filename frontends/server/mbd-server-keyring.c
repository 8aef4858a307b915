/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-server-api.h"
#include "mbd-server.h"

/* The packages are made (in a worker thread) and submitted: answer {"keys": [...]}. */
static void
keyring_packages_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SoupServerMessage) msg = user_data;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) keys = NULL;

  if (!mbd_packager_build_keyring_packages_finish (MBD_PACKAGER (object), result, &keys, &error))
    {
      mbd_server_problem (msg, mbd_server_status_for_error (error), error->message);
      soup_server_message_unpause (msg);
      return;
    }
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "keys");
  json_builder_begin_array (builder);
  for (guint i = 0; keys[i] != NULL; i++)
    json_builder_add_string_value (builder, keys[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  char *body = json_to_string (root, FALSE);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, strlen (body));
  soup_server_message_unpause (msg);
}

/* mini-buildd's keyring_packages: [distributions (default: the suites flagged
 * build_keyring_package)] [without_migration]; mbd adds repository. As mini-buildd, it must be
 * confirmed (confirm=keyring_packages) and needs the running engine. The uploads are made in a
 * worker thread and handed to the packager before the answer, {"keys": [package key, …]}; the
 * builds, the installation and the migration follow as events (mini-buildd waits for them
 * instead). */
void
mbd_server_api_keyring_packages (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  if (strcmp (soup_server_message_get_method (msg), SOUP_METHOD_HEAD) == 0)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    "GET, POST");
      mbd_server_problem (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
                          "keyring_packages uploads packages: use GET or POST, not HEAD");
      return;
    }
  const char *const mandatory[] = { NULL };
  if (!mbd_server_api_check (msg, instance, query, "keyring_packages",
                             MBD_SERVER_API_RUNNING | MBD_SERVER_API_CONFIRM, mandatory))
    return;
  const char *repository = query != NULL ? g_hash_table_lookup (query, "repository") : NULL;
  const char *distributions = query != NULL ? g_hash_table_lookup (query, "distributions") : NULL;
  g_auto (GStrv) names = NULL;
  if (distributions != NULL && *distributions != '\0')
    {
      g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
      g_auto (GStrv) parts = g_strsplit_set (distributions, " ,", -1);
      for (guint i = 0; parts[i] != NULL; i++)
        if (*parts[i] != '\0')
          g_strv_builder_add (builder, parts[i]);
      names = g_strv_builder_end (builder);
    }

  soup_server_message_pause (msg);
  mbd_packager_build_keyring_packages_async (
      mbd_instance_get_packager (instance), repository != NULL && *repository ? repository : NULL,
      (const char *const *) names, NULL, !mbd_server_query_flag (query, "without_migration"), NULL,
      keyring_packages_done, g_object_ref (msg));
}
