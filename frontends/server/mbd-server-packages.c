/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-server.h"

/* The API calls that act on uploads in the packager: retry and cancel. */

/* The package key of the bkey argument, or NULL after answering 400. */
static const char *
require_bkey (SoupServerMessage *msg, GHashTable *query, const char *call)
{
  const char *bkey = query != NULL ? g_hash_table_lookup (query, "bkey") : NULL;

  if (bkey == NULL || *bkey == '\0')
    {
      g_autofree char *detail = g_strdup_printf (
          "API call '%s': the argument bkey (the package key, as in its events' timecode) is "
          "missing",
          call);
      mbd_server_problem (msg, SOUP_STATUS_BAD_REQUEST, detail);
      return NULL;
    }
  return bkey;
}

static void
answer_error (SoupServerMessage *msg, const char *call, const GError *error)
{
  guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;

  if (error->domain == MBD_ERROR && error->code == MBD_ERROR_NOT_FOUND)
    status = SOUP_STATUS_NOT_FOUND;
  else if (error->domain == MBD_ERROR && error->code == MBD_ERROR_INVALID_ARGUMENT)
    status = SOUP_STATUS_BAD_REQUEST;
  g_autofree char *detail = g_strdup_printf ("API call '%s': %s", call, error->message);
  mbd_server_problem (msg, status, detail);
}

static void
answer_bkey (SoupServerMessage *msg, const char *bkey)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "bkey");
  json_builder_add_string_value (builder, bkey);
  json_builder_end_object (builder);
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  char *body = json_to_string (root, FALSE);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, strlen (body));
}

void
mbd_server_api_retry (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL;

  const char *bkey = require_bkey (msg, query, "retry");
  if (bkey == NULL)
    return;
  if (!mbd_packager_retry (mbd_instance_get_packager (instance), bkey, &key, &error))
    {
      answer_error (msg, "retry", error);
      return;
    }
  answer_bkey (msg, key);
}

void
mbd_server_api_cancel (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  g_autoptr (GError) error = NULL;

  const char *bkey = require_bkey (msg, query, "cancel");
  if (bkey == NULL)
    return;
  if (!mbd_packager_cancel (mbd_instance_get_packager (instance), bkey, &error))
    {
      answer_error (msg, "cancel", error);
      return;
    }
  answer_bkey (msg, bkey);
}
