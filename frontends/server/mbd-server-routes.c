/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-server-api.h"

/* mini-buildd's API lives under /mini_buildd/api/<call>/; its clients pass output=json. */
#define API_PREFIX "/mini_buildd/api/"

void
mbd_server_problem (SoupServerMessage *msg, guint status, const char *detail)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  /* details quote request paths and headers, which need not be UTF-8; JSON must be */
  g_autofree char *valid_detail = g_utf8_make_valid (detail, -1);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "about:blank");
  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, status);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, soup_status_get_phrase (status));
  json_builder_set_member_name (builder, "detail");
  json_builder_add_string_value (builder, valid_detail);
  json_builder_set_member_name (builder, "instance");
  json_builder_add_string_value (builder, "about:blank");
  json_builder_end_object (builder);

  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  char *body = json_to_string (root, FALSE);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/problem+json", SOUP_MEMORY_TAKE, body,
                                    strlen (body));
}

guint
mbd_server_status_for_error (const GError *error)
{
  if (error->domain != MBD_ERROR)
    return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  switch (error->code)
    {
    case MBD_ERROR_NOT_FOUND:
      return SOUP_STATUS_NOT_FOUND;
    case MBD_ERROR_INVALID_ARGUMENT:
    case MBD_ERROR_REJECTED:
    case MBD_ERROR_SIZE_MISMATCH:
    case MBD_ERROR_CHECKSUM_MISMATCH:
    case MBD_ERROR_UNSIGNED:
    case MBD_ERROR_BAD_SIGNATURE:
    case MBD_ERROR_UNKNOWN_SIGNER:
    case MBD_ERROR_TOO_LARGE:
      return SOUP_STATUS_BAD_REQUEST;
    case MBD_ERROR_BUSY:
      return SOUP_STATUS_SERVICE_UNAVAILABLE;
    default:
      return SOUP_STATUS_INTERNAL_SERVER_ERROR;
    }
}

typedef void (*ApiHandler) (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

static const struct
{
  const char *name;
  ApiHandler handler;
  gboolean plain; /* answers output=plain and output=html too */
} api_calls[] = {
  { "status", mbd_server_api_status, TRUE },
  { "dput_conf", mbd_server_api_dput_conf, TRUE },
  { "retry", mbd_server_api_retry, FALSE },
  { "cancel", mbd_server_api_cancel, FALSE },
  { "port", mbd_server_api_port, FALSE },
  { "port_ext", mbd_server_api_port_ext, FALSE },
  { "keyring_packages", mbd_server_api_keyring_packages, FALSE },
  { "pub_key", mbd_server_api_pub_key, TRUE },
  { "sources_list", mbd_server_api_sources_list, TRUE },
  { "ls", mbd_server_api_ls, TRUE },
  { "show", mbd_server_api_show, TRUE },
  { "snapshot_ls", mbd_server_api_snapshot_ls, TRUE },
  { "migrate", mbd_server_api_migrate, TRUE },
  { "remove", mbd_server_api_remove, TRUE },
  { "snapshot_create", mbd_server_api_snapshot_create, TRUE },
  { "snapshot_delete", mbd_server_api_snapshot_delete, TRUE },
  { "uploaders", mbd_server_api_uploaders, TRUE },
  { "debdiff", mbd_server_api_debdiff, TRUE },
  { "start", mbd_server_api_start, TRUE },
  { "stop", mbd_server_api_stop, TRUE },
  { "remake_chroots", mbd_server_api_remake_chroots, TRUE },
  { "setup", mbd_server_api_setup, TRUE },
  { "debmirror", mbd_server_api_debmirror, TRUE },
  { "wake", mbd_server_api_wake, TRUE },
  { "handshake", mbd_server_api_handshake, TRUE },
  { "test_packages", mbd_server_api_test_packages, TRUE },
};

static void
api_handler (SoupServer *server,
             SoupServerMessage *msg,
             const char *path,
             GHashTable *query,
             gpointer user_data)
{
  MbdInstance *instance = user_data;
  const char *method = soup_server_message_get_method (msg);

  if (strcmp (method, SOUP_METHOD_GET) != 0 && strcmp (method, SOUP_METHOD_HEAD) != 0
      && strcmp (method, SOUP_METHOD_POST) != 0)
    {
      g_autofree char *detail = g_strdup_printf ("Method %s is not allowed on %s", method, path);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    "GET, HEAD, POST");
      mbd_server_problem (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, detail);
      return;
    }

  /* "/mini_buildd/api/<call>/" with the trailing slash optional */
  g_autofree char *call = g_strdup (path + strlen (API_PREFIX));
  char *slash = strchr (call, '/');
  if (slash != NULL && slash[1] == '\0')
    *slash = '\0';

  const char *output = query != NULL ? g_hash_table_lookup (query, "output") : NULL;
  for (guint i = 0; i < G_N_ELEMENTS (api_calls); i++)
    {
      if (strcmp (api_calls[i].name, call) != 0)
        continue;
      if (output != NULL && strcmp (output, "json") != 0
          && !(api_calls[i].plain
               && (strcmp (output, "plain") == 0 || strcmp (output, "html") == 0)))
        {
          g_autofree char *detail = g_strdup_printf (
              "API call '%s': argument 'output' has an unsupported value '%s'; use json%s", call,
              output, api_calls[i].plain ? ", plain or html" : "");
          mbd_server_problem (msg, SOUP_STATUS_BAD_REQUEST, detail);
          return;
        }
      api_calls[i].handler (msg, instance, query);
      return;
    }

  g_autofree char *detail = g_strdup_printf ("Unknown API call '%s'", call);
  mbd_server_problem (msg, SOUP_STATUS_NOT_FOUND, detail);
}

static void
fallback_handler (SoupServer *server,
                  SoupServerMessage *msg,
                  const char *path,
                  GHashTable *query,
                  gpointer user_data)
{
  g_autofree char *detail = g_strdup_printf ("No such resource: %s", path);

  mbd_server_problem (msg, SOUP_STATUS_NOT_FOUND, detail);
}

void
mbd_server_routes_add (SoupServer *server, MbdInstance *instance)
{
  soup_server_add_handler (server, API_PREFIX, api_handler, g_object_ref (instance),
                           g_object_unref);
  mbd_server_repositories_add (server, instance);
  mbd_server_events_add (server, instance);
  soup_server_add_handler (server, NULL, fallback_handler, NULL, NULL);
}
