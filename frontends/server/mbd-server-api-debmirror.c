/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbd-server-api.h"

/* mini-buildd's debmirror (ADMIN, C): a route onto MbdDebmirror, which runs debmirror(1)
 * against this server's own repository delivery as a GSubprocess. */

static void
debmirror_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MbdServerApiPending *pending = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *json = mbd_debmirror_run_finish (MBD_DEBMIRROR (source), result, &error);
  g_autoptr (JsonNode) root = json != NULL ? json_from_string (json, &error) : NULL;

  if (root == NULL)
    mbd_server_api_fail (pending->msg, "debmirror", error);
  else
    mbd_server_api_answer (pending->msg, pending->query, root);
  mbd_server_api_resume (pending);
}

/* Arguments as mini-buildd's: suites, rollbacks, repositories, codenames, architectures,
 * components (lists comma-separated) and destination ("{}": the repository). */
void
mbd_server_api_debmirror (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *call = "debmirror";
  if (!mbd_server_api_check (msg, instance, query, call,
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, NULL))
    return;
  g_autofree char *program = g_find_program_in_path ("debmirror");
  if (program == NULL)
    {
      mbd_server_problem (msg, SOUP_STATUS_NOT_IMPLEMENTED,
                          "API call 'debmirror': debmirror is not installed on the server "
                          "(apt-get install debmirror)");
      return;
    }
  int rollbacks;
  if (!mbd_server_api_arg_int (msg, query, call, "rollbacks", 0, &rollbacks))
    return;
  g_autoptr (MbdDebmirror) debmirror = mbd_debmirror_new (instance);
  struct
  {
    const char *name;
    void (*set) (MbdDebmirror *self, const char *const *values);
  } lists[] = {
    { "suites", mbd_debmirror_set_suites },
    { "repositories", mbd_debmirror_set_repositories },
    { "codenames", mbd_debmirror_set_codenames },
    { "architectures", mbd_debmirror_set_architectures },
    { "components", mbd_debmirror_set_components },
  };
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    {
      g_auto (GStrv) values = mbd_server_api_arg_list (query, lists[i].name);
      lists[i].set (debmirror, (const char *const *) values);
    }
  mbd_debmirror_set_rollbacks (debmirror, rollbacks);
  mbd_debmirror_set_destination (debmirror, mbd_server_api_arg (query, "destination"));
  mbd_debmirror_run_async (debmirror, NULL, debmirror_ready, mbd_server_api_pause (msg, query));
}
