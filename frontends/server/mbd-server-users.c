/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-server-api.h"

/* The API calls of a logged-in user's profile: set_user_key, subscribe and unsubscribe. The
 * dispatch has checked the level (LOGIN), so the request has a user. */

static const char *
arg (GHashTable *query, const char *name)
{
  const char *value = query != NULL ? g_hash_table_lookup (query, name) : NULL;

  return value != NULL ? value : "";
}

static void
answer_json (SoupServerMessage *msg, JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  char *body = json_to_string (root, FALSE);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, strlen (body));
}

static void
answer_error (SoupServerMessage *msg, const char *call, const GError *error)
{
  g_autofree char *detail = g_strdup_printf ("API call '%s': %s", call, error->message);

  mbd_server_problem (msg, mbd_server_status_for_error (error), detail);
}

static void
set_key_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SoupServerMessage) msg = user_data;
  g_autoptr (GError) error = NULL;

  if (!mbd_users_set_key_finish (MBD_USERS (source), result, &error))
    answer_error (msg, "set_user_key", error);
  else
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
      answer_json (msg, builder);
    }
  soup_server_message_unpause (msg);
}

void
mbd_server_api_set_user_key (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  /* confirm=set_user_key is checked by the dispatch (the call's C flag) */
  const char *key = arg (query, "key");
  if (*key == '\0')
    {
      mbd_server_problem (msg, SOUP_STATUS_BAD_REQUEST,
                          "API call 'set_user_key': the argument key (an ASCII-armored OpenPGP "
                          "public key) is missing");
      return;
    }
  soup_server_message_pause (msg);
  mbd_users_set_key_async (mbd_server_get_users (), mbd_user_get_name (mbd_server_get_user (msg)),
                           key, NULL, set_key_ready, g_object_ref (msg));
}

static void
add_subscription (JsonBuilder *builder, const char *source, const char *distribution)
{
  json_builder_set_member_name (builder, "source");
  json_builder_add_string_value (builder, source);
  json_builder_set_member_name (builder, "distribution");
  json_builder_add_string_value (builder, distribution);
}

/* mini-buildd's subscribe: an empty source or distribution means any; a given one must be a
 * valid source package name, an existing distribution (400 naming it otherwise). */
void
mbd_server_api_subscribe (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  g_autoptr (GError) error = NULL;
  const char *source = arg (query, "source");
  const char *distribution = arg (query, "distribution");
  gboolean created = FALSE;

  if (*source != '\0' && !mbd_source_name_is_valid (source, &error))
    {
      mbd_server_api_bad_arg (msg, "subscribe", "source", error->message);
      return;
    }
  if (*distribution != '\0'
      && !mbd_server_api_check_distribution (msg, instance, "subscribe", "distribution",
                                             distribution))
    return;
  if (!mbd_users_subscribe (mbd_server_get_users (), mbd_user_get_name (mbd_server_get_user (msg)),
                            source, distribution, &created, &error))
    {
      answer_error (msg, "subscribe", error);
      return;
    }
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "created");
  json_builder_add_boolean_value (builder, created);
  add_subscription (builder, source, distribution);
  json_builder_end_object (builder);
  answer_json (msg, builder);
}

void
mbd_server_api_unsubscribe (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  g_autoptr (GError) error = NULL;
  const char *source = arg (query, "source");
  const char *distribution = arg (query, "distribution");
  gboolean removed = FALSE;

  if (!mbd_users_unsubscribe (mbd_server_get_users (),
                              mbd_user_get_name (mbd_server_get_user (msg)), source, distribution,
                              &removed, &error))
    {
      answer_error (msg, "unsubscribe", error);
      return;
    }
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_array (builder);
  if (removed)
    {
      json_builder_begin_object (builder);
      add_subscription (builder, source, distribution);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  answer_json (msg, builder);
}
