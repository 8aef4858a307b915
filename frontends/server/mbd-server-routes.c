/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-server-api.h"

/* mini-buildd's API lives under /mini_buildd/api/<call>/; its clients pass output=json. */
#define API_PREFIX "/mini_buildd/api/"

/* The titles mini-buildd's problem bodies carry: Python's http.HTTPStatus descriptions. */
static const char *
problem_title (guint status)
{
  switch (status)
    {
    case SOUP_STATUS_BAD_REQUEST:
      return "Bad request syntax or unsupported method";
    case SOUP_STATUS_UNAUTHORIZED:
      return "No permission -- see authorization schemes";
    case SOUP_STATUS_FORBIDDEN:
      return "Request forbidden -- authorization will not help";
    case SOUP_STATUS_NOT_FOUND:
      return "Nothing matches the given URI";
    case SOUP_STATUS_METHOD_NOT_ALLOWED:
      return "Specified method is invalid for this resource";
    case SOUP_STATUS_INTERNAL_SERVER_ERROR:
      return "Server got itself in trouble";
    case SOUP_STATUS_NOT_IMPLEMENTED:
      return "Server does not support this operation";
    case SOUP_STATUS_SERVICE_UNAVAILABLE:
      return "The server cannot process the request due to a high load";
    default:
      return soup_status_get_phrase (status);
    }
}

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
  json_builder_add_string_value (builder, problem_title (status));
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
    case MBD_ERROR_UNSUPPORTED:
      return SOUP_STATUS_BAD_REQUEST;
    case MBD_ERROR_PERMISSION_DENIED:
      return SOUP_STATUS_FORBIDDEN;
    case MBD_ERROR_BUSY:
      return SOUP_STATUS_SERVICE_UNAVAILABLE;
    default:
      return SOUP_STATUS_INTERNAL_SERVER_ERROR;
    }
}

typedef void (*ApiHandler) (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

/* All 30 calls of mini-buildd 2.2.8 with the level each needs and its flags C (confirm=<call>)
 * and R (the running engine) from its reference, section 3.2, checked before the handler runs
 * (level, then output, then C, then R); a call without a handler yet answers 501 once the
 * caller passed the checks. */
static const struct
{
  const char *name;
  MbdUserLevel level;
  MbdServerApiFlags flags; /* MBD_SERVER_API_CONFIRM, MBD_SERVER_API_RUNNING */
  ApiHandler handler;      /* NULL: not implemented yet */
  gboolean plain;          /* answers output=plain, html and html-snippet too */
} api_calls[] = {
  /* consumer */
  { "status", MBD_USER_LEVEL_NONE, 0, mbd_server_api_status, TRUE },
  { "pub_key", MBD_USER_LEVEL_NONE, 0, mbd_server_api_pub_key, TRUE },
  { "dput_conf", MBD_USER_LEVEL_NONE, 0, mbd_server_api_dput_conf, TRUE },
  { "sources_list", MBD_USER_LEVEL_NONE, 0, mbd_server_api_sources_list, TRUE },
  { "ls", MBD_USER_LEVEL_NONE, 0, mbd_server_api_ls, TRUE },
  { "show", MBD_USER_LEVEL_NONE, 0, mbd_server_api_show, TRUE },
  { "debdiff", MBD_USER_LEVEL_NONE, 0, mbd_server_api_debdiff, TRUE },
  { "snapshot_ls", MBD_USER_LEVEL_NONE, MBD_SERVER_API_RUNNING, mbd_server_api_snapshot_ls, TRUE },
  { "handshake", MBD_USER_LEVEL_NONE, 0, mbd_server_api_handshake, TRUE },
  /* developer */
  { "migrate", MBD_USER_LEVEL_STAFF, MBD_SERVER_API_CONFIRM, mbd_server_api_migrate, TRUE },
  { "port", MBD_USER_LEVEL_STAFF, MBD_SERVER_API_RUNNING | MBD_SERVER_API_CONFIRM,
    mbd_server_api_port, FALSE },
  { "port_ext", MBD_USER_LEVEL_STAFF, MBD_SERVER_API_RUNNING | MBD_SERVER_API_CONFIRM,
    mbd_server_api_port_ext, FALSE },
  { "retry", MBD_USER_LEVEL_STAFF, MBD_SERVER_API_RUNNING | MBD_SERVER_API_CONFIRM,
    mbd_server_api_retry, FALSE },
  { "cancel", MBD_USER_LEVEL_STAFF, MBD_SERVER_API_RUNNING | MBD_SERVER_API_CONFIRM,
    mbd_server_api_cancel, FALSE },
  { "wake", MBD_USER_LEVEL_STAFF, MBD_SERVER_API_CONFIRM, mbd_server_api_wake, TRUE },
  { "set_user_key", MBD_USER_LEVEL_LOGIN, MBD_SERVER_API_CONFIRM, mbd_server_api_set_user_key,
    FALSE },
  { "subscribe", MBD_USER_LEVEL_LOGIN, 0, mbd_server_api_subscribe, FALSE },
  { "unsubscribe", MBD_USER_LEVEL_LOGIN, 0, mbd_server_api_unsubscribe, FALSE },
  /* administrator */
  { "remove", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_CONFIRM, mbd_server_api_remove, TRUE },
  { "remake_chroots", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_CONFIRM, mbd_server_api_remake_chroots,
    TRUE },
  { "start", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_CONFIRM, mbd_server_api_start, TRUE },
  { "stop", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_CONFIRM, mbd_server_api_stop, TRUE },
  { "cronjob", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_CONFIRM, mbd_server_api_cronjob, FALSE },
  { "uploaders", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_RUNNING, mbd_server_api_uploaders, TRUE },
  { "snapshot_create", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_RUNNING | MBD_SERVER_API_CONFIRM,
    mbd_server_api_snapshot_create, TRUE },
  { "snapshot_delete", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_RUNNING | MBD_SERVER_API_CONFIRM,
    mbd_server_api_snapshot_delete, TRUE },
  { "debmirror", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_CONFIRM, mbd_server_api_debmirror, TRUE },
  { "keyring_packages", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_RUNNING | MBD_SERVER_API_CONFIRM,
    mbd_server_api_keyring_packages, FALSE },
  { "test_packages", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_RUNNING | MBD_SERVER_API_CONFIRM,
    mbd_server_api_test_packages, TRUE },
  { "setup", MBD_USER_LEVEL_ADMIN, MBD_SERVER_API_CONFIRM, mbd_server_api_setup, TRUE },
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
      if (!mbd_server_authorize (msg, call, api_calls[i].level))
        return;
      if (output != NULL && strcmp (output, "json") != 0
          && !(api_calls[i].plain && mbd_server_api_output_is_text (output)))
        {
          g_autofree char *detail = g_strdup_printf (
              "API call '%s': argument 'output' has an unsupported value '%s'; use json%s", call,
              output, api_calls[i].plain ? ", plain, html or html-snippet" : "");
          mbd_server_problem (msg, SOUP_STATUS_BAD_REQUEST, detail);
          return;
        }
      if (!mbd_server_api_check (msg, instance, query, call, api_calls[i].flags, NULL))
        return;
      if (api_calls[i].handler == NULL)
        {
          g_autofree char *detail
              = g_strdup_printf ("API call '%s' is not implemented yet in mbd-server", call);
          mbd_server_problem (msg, SOUP_STATUS_NOT_IMPLEMENTED, detail);
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
  mbd_server_auth_add (server, instance);
  mbd_server_repositories_add (server, instance);
  mbd_server_events_add (server, instance);
  soup_server_add_handler (server, NULL, fallback_handler, NULL, NULL);
}
