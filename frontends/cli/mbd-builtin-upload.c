/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static gboolean opt_no_wait;
static gboolean opt_json;

static const GOptionEntry options[] = { { "no-wait", 0, 0, G_OPTION_ARG_NONE, &opt_no_wait,
                                          "Only hand the upload over; do not follow it", NULL },
                                        { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
                                          "Print the events as JSON, one a line", NULL },
                                        { NULL } };

static gboolean
copy_into (const char *dir, const char *from_dir, const char *name, GError **error)
{
  g_autofree char *from = g_build_filename (from_dir, name, NULL);
  g_autofree char *to = g_build_filename (dir, name, NULL);
  g_autoptr (GFile) source = g_file_new_for_path (from);
  g_autoptr (GFile) dest = g_file_new_for_path (to);

  return g_file_copy (source, dest, G_FILE_COPY_NONE, NULL, NULL, NULL, error);
}

/* Copies the .changes and the files it lists into a new directory under the home's incoming/
 * (the packager takes a directory of its own on the home's file system). A file that cannot be
 * copied is left out: the packager rejects the upload and says which. */
static char *
stage_upload (MbdInstance *instance, const char *changes_path, GError **error)
{
  g_autofree char *template
      = g_build_filename (mbd_instance_get_home (instance), "incoming", "cli-XXXXXX", NULL);
  if (g_mkdtemp (template) == NULL)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: cannot create: %s",
                   template, g_strerror (errno));
      return NULL;
    }
  g_autofree char *from_dir = g_path_get_dirname (changes_path);
  g_autofree char *name = g_path_get_basename (changes_path);
  if (!copy_into (template, from_dir, name, error))
    return NULL;
  g_autoptr (MbdChanges) changes = mbd_changes_new_from_file (changes_path, NULL);
  g_autoptr (GPtrArray) files = changes != NULL ? mbd_changes_get_files (changes) : NULL;
  for (guint i = 0; files != NULL && i < files->len; i++)
    {
      const char *file = mbd_file_entry_get_name (g_ptr_array_index (files, i));
      g_autoptr (GError) local_error = NULL;
      if (mbd_filename_is_safe (file, NULL) && !copy_into (template, from_dir, file, &local_error))
        fprintf (stderr, "mbd: %s\n", local_error->message);
    }
  return g_build_filename (template, name, NULL);
}

static void
print_event (MbdEvent *event)
{
  if (opt_json)
    {
      g_autofree char *json = mbd_event_to_json (event);
      printf ("%s\n", json);
    }
  else
    {
      const char *arch = mbd_event_get_extra (event, "architecture");
      const char *reason = mbd_event_get_reason (event);
      printf ("%-10s %s %s %s%s%s%s%s\n",
              mbd_event_type_to_string (mbd_event_get_event_type (event)),
              mbd_event_get_source (event) ? mbd_event_get_source (event) : "-",
              mbd_event_get_version (event) ? mbd_event_get_version (event) : "-",
              mbd_event_get_distribution (event) ? mbd_event_get_distribution (event) : "-",
              arch != NULL && strcmp (arch, "source") != 0 ? " " : "",
              arch != NULL && strcmp (arch, "source") != 0 ? arch : "", reason ? ": " : "",
              reason ? reason : "");
    }
  fflush (stdout);
}

static gboolean
wake (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Prints the events of package @key as they come until it ends; runs the engine in this
 * process unless another process (mbd-server) runs it. */
static gboolean
follow (MbdInstance *instance, const char *key, GDateTime *since, GError **error)
{
  MbdPackager *packager = mbd_instance_get_packager (instance);
  MbdEvents *events = mbd_instance_get_events (instance);

  if (mbd_instance_get_engine_pid (instance) == 0 && !mbd_instance_start (instance, error))
    return FALSE;
  guint timer = g_timeout_add (300, wake, NULL);
  gint64 last_id = 0;
  MbdPackageState state = MBD_PACKAGE_STATE_CHECKING;
  g_autofree char *reason = NULL;
  gboolean done = FALSE;
  while (!done)
    {
      g_main_context_iteration (NULL, TRUE);
      if (!mbd_packager_lookup_state (packager, key, &state, error))
        break;
      done = mbd_package_state_is_final (state);
      g_autoptr (GPtrArray) list = mbd_events_list_after (events, since, error);
      if (list == NULL)
        break;
      for (guint i = 0; i < list->len; i++)
        {
          MbdEvent *event = list->pdata[i];
          if (mbd_event_get_id (event) <= last_id
              || g_strcmp0 (mbd_event_get_extra (event, "timecode"), key) != 0)
            continue;
          last_id = mbd_event_get_id (event);
          print_event (event);
          if (mbd_event_get_reason (event) != NULL)
            {
              g_free (reason);
              reason = g_strdup (mbd_event_get_reason (event));
            }
        }
    }
  g_source_remove (timer);
  mbd_instance_stop (instance);
  if (!done)
    return FALSE;
  if (state == MBD_PACKAGE_STATE_REJECTED)
    return g_set_error (error, MBD_ERROR, MBD_ERROR_REJECTED, "upload %s rejected: %s", key,
                        reason),
           FALSE;
  if (state == MBD_PACKAGE_STATE_FAILED)
    return g_set_error (error, MBD_ERROR, MBD_ERROR_BUILD_FAILED, "package %s failed: %s", key,
                        reason),
           FALSE;
  return TRUE;
}

BUILTINPROTO (upload)
{
  g_autoptr (GOptionContext) context
             = g_option_context_new ("CHANGES - upload a package: check, build, install");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  if (argc != 2)
    return mbd_cli_usage_error (error, "give one .changes file: mbd upload CHANGES");
  if (!g_file_test (argv[1], G_FILE_TEST_IS_REGULAR))
    return g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no such file", argv[1]),
           FALSE;

  g_autofree char *staged = stage_upload (instance, argv[1], error);
  if (staged == NULL)
    return FALSE;
  g_autofree char *key = NULL;
  /* its events come after this (a second of margin for clocks that step) */
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) since = g_date_time_add_seconds (now, -1);
  if (!mbd_packager_submit_full (mbd_instance_get_packager (instance), staged, &key, error))
    {
      g_autofree char *dir = g_path_get_dirname (staged);
      const char *argv_rm[] = { "rm", "-rf", "--", dir, NULL };
      g_spawn_sync (NULL, (char **) argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                    NULL, NULL);
      return FALSE;
    }
  fprintf (stderr, "mbd: upload %s accepted as package %s\n", argv[1], key);
  if (opt_no_wait)
    {
      printf ("%s\n", key);
      return TRUE;
    }
  return follow (instance, key, since, error);
}

BUILTINPROTO (retry)
{
  g_autoptr (GOptionContext) context
             = g_option_context_new ("KEY - upload a failed package again and follow it");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  if (argc != 2)
    return mbd_cli_usage_error (error, "give one package key: mbd retry KEY");
  g_autofree char *key = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) since = g_date_time_add_seconds (now, -1);
  if (!mbd_packager_retry (mbd_instance_get_packager (instance), argv[1], &key, error))
    return FALSE;
  fprintf (stderr, "mbd: package %s retried as package %s\n", argv[1], key);
  if (opt_no_wait)
    {
      printf ("%s\n", key);
      return TRUE;
    }
  return follow (instance, key, since, error);
}

BUILTINPROTO (cancel)
{
  g_autoptr (GOptionContext) context
             = g_option_context_new ("KEY - cancel a package that is checking or building");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, NULL, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  if (argc != 2)
    return mbd_cli_usage_error (error, "give one package key: mbd cancel KEY");
  if (!mbd_packager_cancel (mbd_instance_get_packager (instance), argv[1], error))
    return FALSE;
  printf ("package %s cancelled\n", argv[1]);
  return TRUE;
}
