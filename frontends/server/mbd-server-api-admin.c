/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "mbd-server-api.h"

/* mini-buildd's administration calls: start, stop (ADMIN, C), remake_chroots (ADMIN, C, M),
 * setup (ADMIN, C, M). debmirror is in mbd-server-api-debmirror.c, wake and handshake in
 * mbd-server-api-remotes.c. */

/* -- start, stop -------------------------------------------------------------------------- */

/* The engine (packager and builder) stops; HTTP, the repositories and the read calls stay up.
 * As in mini-buildd, the state is not persisted: a restarted mbd-server starts it again. */
void
mbd_server_api_stop (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  if (!mbd_server_api_check (msg, instance, query, "stop",
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, NULL))
    return;
  mbd_instance_stop (instance);
  mbd_server_api_answer_empty (msg, query);
}

void
mbd_server_api_start (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  if (!mbd_server_api_check (msg, instance, query, "start",
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, NULL))
    return;
  g_autoptr (GError) error = NULL;
  if (!mbd_instance_start (instance, &error))
    {
      mbd_server_api_fail (msg, "start", error);
      return;
    }
  mbd_server_api_answer_empty (msg, query);
}

/* -- maintenance -------------------------------------------------------------------------- */

/* mini-buildd's MAINTENANCE flag: one such call at a time, with the engine stopped. */
static const char *maintenance_call;

static gboolean
maintenance_begin (SoupServerMessage *msg, const char *call)
{
  if (maintenance_call != NULL)
    {
      g_autofree char *detail = g_strdup_printf (
          "API call '%s': the instance is in maintenance (%s runs); try again later", call,
          maintenance_call);
      mbd_server_problem (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, detail);
      return FALSE;
    }
  maintenance_call = call;
  return TRUE;
}

/* -- remake_chroots ----------------------------------------------------------------------- */

typedef struct
{
  MbdServerApiPending *pending;
  MbdInstance *instance; /* (owned) */
  GPtrArray *chroots;    /* (owned): the existing MbdChroot of each key */
  guint next;            /* index into chroots */
  int step;              /* 0 remove, 1 create, 2 check */
  MbdChroot *current;    /* (owned) (nullable): the chroot made anew */
  JsonObject *result;    /* (owned) */
  gboolean restart;      /* whether the engine ran before */
} RemakeCall;

static void remake_step (RemakeCall *call);

static void
remake_finish (RemakeCall *call)
{
  if (call->restart)
    {
      g_autoptr (GError) error = NULL;
      if (!mbd_instance_start (call->instance, &error))
        g_warning ("remake_chroots: cannot restart the engine: %s", error->message);
    }
  maintenance_call = NULL;
  g_autoptr (JsonNode) root = json_node_init_object (json_node_alloc (), call->result);
  mbd_server_api_answer (call->pending->msg, call->pending->query, root);
  mbd_server_api_resume (call->pending);
  g_object_unref (call->instance);
  g_ptr_array_unref (call->chroots);
  g_clear_object (&call->current);
  json_object_unref (call->result);
  g_free (call);
}

static char *
chroot_key (MbdChroot *chroot)
{
  return g_strdup_printf ("%s:%s", mbd_chroot_get_codename (chroot),
                          mbd_chroot_get_architecture (chroot));
}

static void
remake_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  RemakeCall *call = user_data;
  MbdChroot *chroot = MBD_CHROOT (object);
  g_autoptr (GError) error = NULL;
  gboolean ok = call->step == 0   ? mbd_chroot_remove_finish (chroot, result, &error)
                : call->step == 1 ? mbd_chroot_create_finish (chroot, result, &error)
                                  : mbd_chroot_check_finish (chroot, result, &error);
  /* a chroot that is not there any more need not be removed */
  if (!ok && call->step == 0 && g_error_matches (error, MBD_ERROR, MBD_ERROR_NOT_FOUND))
    ok = TRUE;
  g_autofree char *key = chroot_key (chroot);
  if (!ok)
    {
      g_autofree char *failed = g_strdup_printf ("Failed: %s", error->message);
      json_object_set_string_member (call->result, key, failed);
      call->next++;
      call->step = 0;
      g_clear_object (&call->current);
    }
  else if (call->step == 2)
    {
      json_object_set_string_member (call->result, key, "Success");
      call->next++;
      call->step = 0;
      g_clear_object (&call->current);
    }
  else
    call->step++;
  remake_step (call);
}

static void
remake_step (RemakeCall *call)
{
  if (call->next >= call->chroots->len)
    {
      remake_finish (call);
      return;
    }
  MbdChroot *old = g_ptr_array_index (call->chroots, call->next);
  switch (call->step)
    {
    case 0:
      mbd_chroot_remove_async (old, NULL, remake_done, call);
      break;
    case 1:
      call->current
          = mbd_chroot_new (call->instance, mbd_chroot_get_codename (old),
                            mbd_chroot_get_architecture (old), mbd_chroot_get_backend (old));
      if (mbd_chroot_get_mirror (old) != NULL)
        mbd_chroot_set_mirror (call->current, mbd_chroot_get_mirror (old));
      mbd_chroot_create_async (call->current, NULL, NULL, remake_done, call);
      break;
    default:
      mbd_chroot_check_async (call->current, NULL, remake_done, call);
      break;
    }
}

/* Removes, creates and checks each chroot of keys (codename:arch, comma-separated; default all)
 * in turn, with the engine stopped, in worker threads: the main loop keeps serving; the answer,
 * {key: "Success" | "Failed: …"}, comes when all are done. */
void
mbd_server_api_remake_chroots (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  if (!mbd_server_api_check (msg, instance, query, "remake_chroots",
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, NULL))
    return;
  g_auto (GStrv) keys = mbd_server_api_arg_list (query, "keys");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all = mbd_instance_list_chroots (instance, &error);
  if (all == NULL)
    {
      mbd_server_api_fail (msg, "remake_chroots", error);
      return;
    }
  g_autoptr (GPtrArray) chosen = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
    {
      gboolean found = FALSE;
      for (guint i = 0; i < all->len && !found; i++)
        {
          g_autofree char *key = chroot_key (g_ptr_array_index (all, i));
          found = strcmp (key, keys[k]) == 0;
        }
      if (!found)
        {
          g_autofree char *what
              = g_strdup_printf ("names no chroot: '%s' (use codename:arch)", keys[k]);
          mbd_server_api_bad_arg (msg, "remake_chroots", "keys", what);
          return;
        }
    }
  for (guint i = 0; i < all->len; i++)
    {
      g_autofree char *key = chroot_key (g_ptr_array_index (all, i));
      if (keys == NULL || g_strv_contains ((const char *const *) keys, key))
        g_ptr_array_add (chosen, g_object_ref (g_ptr_array_index (all, i)));
    }
  if (!maintenance_begin (msg, "remake_chroots"))
    return;

  RemakeCall *call = g_new0 (RemakeCall, 1);
  call->instance = g_object_ref (instance);
  call->chroots = g_steal_pointer (&chosen);
  call->result = json_object_new ();
  call->restart = mbd_instance_is_started (instance);
  mbd_instance_stop (instance);
  call->pending = mbd_server_api_pause (msg, query);
  remake_step (call);
}

/* -- setup ------------------------------------------------------------------------------- */

/* {setup: {the arguments}, instances: [{id, class, identity, status, detail}], report:
 * {severity 0-3, messages}} */
static JsonNode *
setup_result (GHashTable *query, GPtrArray *instances, int severity)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "setup");
  json_builder_begin_object (builder);
  GHashTableIter iter;
  gpointer name, value;
  if (query != NULL)
    {
      g_hash_table_iter_init (&iter, query);
      while (g_hash_table_iter_next (&iter, &name, &value))
        if (strcmp (name, "confirm") != 0 && strcmp (name, "output") != 0)
          {
            json_builder_set_member_name (builder, name);
            json_builder_add_string_value (builder, value);
          }
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "instances");
  json_builder_begin_array (builder);
  for (guint i = 0; i < instances->len; i++)
    {
      MbdSetupInstance *item = g_ptr_array_index (instances, i);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, mbd_setup_instance_get_id (item));
      json_builder_set_member_name (builder, "class");
      json_builder_add_string_value (builder, mbd_setup_instance_get_class_name (item));
      json_builder_set_member_name (builder, "identity");
      json_builder_add_string_value (builder, mbd_setup_instance_get_identity (item));
      json_builder_set_member_name (builder, "status");
      json_builder_add_string_value (
          builder, mbd_setup_status_to_string (mbd_setup_instance_get_status (item)));
      json_builder_set_member_name (builder, "detail");
      json_builder_add_string_value (builder, mbd_setup_instance_get_detail (item));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "report");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "severity");
  json_builder_add_int_value (builder, severity);
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  for (guint i = 0; i < instances->len; i++)
    {
      MbdSetupInstance *item = g_ptr_array_index (instances, i);
      if (mbd_setup_status_get_severity (mbd_setup_instance_get_status (item)) == 0)
        continue;
      g_autofree char *line = mbd_setup_instance_dup_message (item);
      json_builder_add_string_value (builder, line);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* Inspects and answers (200 with the report, or the problem). */
static void
setup_answer (SoupServerMessage *msg, GHashTable *query, MbdSetup *setup)
{
  g_autoptr (GError) error = NULL;
  int severity = 0;
  g_autoptr (GPtrArray) instances = mbd_setup_inspect (setup, &severity, &error);
  if (instances == NULL)
    {
      mbd_server_api_fail (msg, "setup", error);
      return;
    }
  g_autoptr (JsonNode) root = setup_result (query, instances, severity);
  mbd_server_api_answer (msg, query, root);
}

typedef struct
{
  MbdServerApiPending *pending;
  MbdInstance *instance; /* (owned) */
  gboolean restart;      /* whether the engine ran before */
} SetupCall;

static void
setup_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  SetupCall *call = user_data;
  MbdSetup *setup = MBD_SETUP (object);
  g_autoptr (GError) error = NULL;

  gboolean ok = mbd_setup_run_finish (setup, result, &error);
  if (call->restart)
    {
      g_autoptr (GError) start_error = NULL;
      if (!mbd_instance_start (call->instance, &start_error))
        g_warning ("setup: cannot restart the engine: %s", start_error->message);
    }
  maintenance_call = NULL;
  if (ok)
    setup_answer (call->pending->msg, call->pending->query, setup);
  else
    mbd_server_api_fail (call->pending->msg, "setup", error);
  mbd_server_api_resume (call->pending);
  g_object_unref (call->instance);
  g_free (call);
  g_object_unref (setup);
}

/* mini-buildd's setup: the arguments are MbdSetup's options. Without update and pca it only
 * inspects; with them, the engine stops, the run goes on in worker threads (a chroot takes
 * minutes) while the main loop serves others, and the answer is the inspection afterwards. */
void
mbd_server_api_setup (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  if (!mbd_server_api_check (msg, instance, query, "setup",
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, NULL))
    return;
  g_autoptr (MbdSetup) setup = mbd_setup_new (instance);
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer name, value;
  if (query != NULL)
    {
      g_hash_table_iter_init (&iter, query);
      while (g_hash_table_iter_next (&iter, &name, &value))
        if (strcmp (name, "confirm") != 0 && strcmp (name, "output") != 0
            && !mbd_setup_set_option (setup, name, value, &error))
          {
            g_autofree char *what = g_strdup_printf ("is wrong: %s", error->message);
            mbd_server_api_bad_arg (msg, "setup", name, what);
            return;
          }
    }
  /* unknown ids in update or pca: 400 before anything changes */
  g_autoptr (GPtrArray) instances = mbd_setup_inspect (setup, NULL, &error);
  if (instances == NULL)
    {
      mbd_server_api_fail (msg, "setup", error);
      return;
    }
  if (!maintenance_begin (msg, "setup"))
    return;
  if (!mbd_setup_has_run_options (setup))
    {
      setup_answer (msg, query, setup);
      maintenance_call = NULL;
      return;
    }
  SetupCall *call = g_new0 (SetupCall, 1);
  call->instance = g_object_ref (instance);
  call->restart = mbd_instance_is_started (instance);
  mbd_instance_stop (instance);
  call->pending = mbd_server_api_pause (msg, query);
  mbd_setup_run_async (g_steal_pointer (&setup), NULL, setup_done, call);
}
