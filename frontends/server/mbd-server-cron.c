/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-server.h"

/* The cronjob API call (mini-buildd: admin, confirm): runs a cron job now, out of its schedule,
 * and answers {id: success}. The job runs in a worker thread while the message is paused. */

static void
cronjob_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SoupServerMessage) msg = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdCronJob) job = mbd_cron_run_job_finish (MBD_CRON (source), result, &error);

  if (job == NULL)
    {
      g_autofree char *detail = g_strdup_printf ("API call 'cronjob': %s", error->message);
      mbd_server_problem (msg, mbd_server_status_for_error (error), detail);
    }
  else
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, mbd_cron_job_get_id (job));
      json_builder_add_boolean_value (builder, mbd_cron_job_get_last_success (job));
      json_builder_end_object (builder);
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      char *body = json_to_string (root, FALSE);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body,
                                        strlen (body));
    }
  soup_server_message_unpause (msg);
}

void
mbd_server_api_cronjob (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  /* confirm=cronjob is checked by the dispatch (the call's C flag) */
  const char *id = query != NULL ? g_hash_table_lookup (query, "id") : NULL;
  if (id == NULL || *id == '\0')
    {
      mbd_server_problem (msg, SOUP_STATUS_BAD_REQUEST,
                          "API call 'cronjob': the argument 'id' (a job id such as "
                          "'cronjob_snapshots (WEEKLY)') is missing");
      return;
    }
  soup_server_message_pause (msg);
  mbd_cron_run_job_async (mbd_instance_get_cron (instance), id, NULL, cronjob_ready,
                          g_object_ref (msg));
}
