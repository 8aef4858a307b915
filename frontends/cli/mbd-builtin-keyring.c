/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_repository;
static char **opt_distributions;
static gboolean opt_without_migration;
static char *opt_url;
static gboolean opt_no_wait;
static gboolean opt_json;

static const GOptionEntry options[] = {
  { "repository", 0, 0, G_OPTION_ARG_STRING, &opt_repository, "Only this repository", "ID" },
  { "distribution", 'D', 0, G_OPTION_ARG_STRING_ARRAY, &opt_distributions,
    "Build into this distribution (repeatable; default: the suites flagged build_keyring_package)",
    "DIST" },
  { "without-migration", 'M', 0, G_OPTION_ARG_NONE, &opt_without_migration,
    "Do not migrate the installed packages to stable", NULL },
  { "url", 0, 0, G_OPTION_ARG_STRING, &opt_url,
    "The URL the instance is served under (for the package's APT sources and dput configuration)",
    "URL" },
  { "no-wait", 0, 0, G_OPTION_ARG_NONE, &opt_no_wait,
    "Only hand the uploads over; print their keys", NULL },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the events as JSON, one a line", NULL },
  { NULL }
};

/* Seconds to wait for the MIGRATED event once a package is installed (the engine migrates it
 * on its next round, within seconds). */
#define MIGRATION_TIMEOUT 120

typedef struct
{
  char *key;
  MbdEventType final; /* MBD_EVENT_PACKAGING until it ends */
  gboolean wants_migration;
  gboolean migrated;
  char *source;
  char *version;
  char *reason;
  gint64 installed_at;
} Followed;

static void
followed_free (Followed *f)
{
  g_free (f->key);
  g_free (f->source);
  g_free (f->version);
  g_free (f->reason);
  g_free (f);
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
      const char *reason = mbd_event_get_reason (event);
      printf ("%-10s %s %s %s%s%s\n", mbd_event_type_to_string (mbd_event_get_event_type (event)),
              mbd_event_get_source (event), mbd_event_get_version (event),
              mbd_event_get_distribution (event), reason != NULL ? ": " : "",
              reason != NULL ? reason : "");
    }
  fflush (stdout);
}

/* Whether the suite of @distribution migrates (else there is no MIGRATED event to wait for). */
static gboolean
suite_migrates (MbdInstance *instance, const char *distribution)
{
  g_autofree char *suite_name = NULL;
  g_autoptr (MbdRepository) repo
             = mbd_instance_lookup_repository_for_distribution (instance, distribution, NULL);
  if (repo == NULL
      || !mbd_distribution_string_parse (distribution, NULL, NULL, &suite_name, NULL, NULL))
    return FALSE;
  MbdSuite *suite = mbd_layout_lookup_suite (mbd_repository_get_layout (repo), suite_name);
  return suite != NULL && mbd_suite_get_migrates_to (suite) != NULL;
}

static void
take_event (MbdInstance *instance, GPtrArray *followed, MbdEvent *event)
{
  MbdEventType type = mbd_event_get_event_type (event);

  for (guint i = 0; i < followed->len; i++)
    {
      Followed *f = followed->pdata[i];
      if (type == MBD_EVENT_MIGRATED)
        {
          if (f->final != MBD_EVENT_INSTALLED || f->migrated
              || g_strcmp0 (f->source, mbd_event_get_source (event)) != 0
              || g_strcmp0 (f->version, mbd_event_get_version (event)) != 0)
            continue;
          f->migrated = TRUE;
          print_event (event);
          return;
        }
      if (g_strcmp0 (mbd_event_get_extra (event, "timecode"), f->key) != 0)
        continue;
      print_event (event);
      if (type != MBD_EVENT_INSTALLED && type != MBD_EVENT_FAILED && type != MBD_EVENT_REJECTED)
        return;
      f->final = type;
      g_free (f->source);
      g_free (f->version);
      f->source = g_strdup (mbd_event_get_source (event));
      f->version = g_strdup (mbd_event_get_version (event));
      f->reason = g_strdup (mbd_event_get_reason (event));
      f->installed_at = g_get_monotonic_time ();
      f->wants_migration = type == MBD_EVENT_INSTALLED && !opt_without_migration
                           && suite_migrates (instance, mbd_event_get_distribution (event));
      return;
    }
}

static gboolean
wake (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Prints the events of the packages until each ended (and, if wanted, was migrated); runs the
 * engine in this process unless another process (mbd-server) runs it. */
static gboolean
follow (MbdInstance *instance, GPtrArray *followed, GDateTime *since, GError **error)
{
  MbdEvents *events = mbd_instance_get_events (instance);

  if (mbd_instance_get_engine_pid (instance) == 0 && !mbd_instance_start (instance, error))
    return FALSE;
  guint timer = g_timeout_add (300, wake, NULL);
  gint64 last_id = 0;
  gboolean done = FALSE;
  gboolean ok = TRUE;
  while (ok && !done)
    {
      g_main_context_iteration (NULL, TRUE);
      g_autoptr (GPtrArray) list = mbd_events_list_after (events, since, error);
      ok = list != NULL;
      for (guint i = 0; ok && i < list->len; i++)
        if (mbd_event_get_id (list->pdata[i]) > last_id)
          {
            last_id = mbd_event_get_id (list->pdata[i]);
            take_event (instance, followed, list->pdata[i]);
          }
      done = TRUE;
      for (guint i = 0; i < followed->len; i++)
        {
          Followed *f = followed->pdata[i];
          gboolean waiting
              = f->wants_migration && !f->migrated
                && g_get_monotonic_time () - f->installed_at < MIGRATION_TIMEOUT * G_USEC_PER_SEC;
          done = done && f->final != MBD_EVENT_PACKAGING && !waiting;
        }
    }
  g_source_remove (timer);
  mbd_instance_stop (instance);
  if (!ok)
    return FALSE;

  g_autoptr (GString) failures = g_string_new (NULL);
  for (guint i = 0; i < followed->len; i++)
    {
      Followed *f = followed->pdata[i];
      if (f->final != MBD_EVENT_INSTALLED)
        g_string_append_printf (failures, "%spackage %s %s: %s", failures->len > 0 ? "; " : "",
                                f->key, f->final == MBD_EVENT_REJECTED ? "rejected" : "failed",
                                f->reason != NULL ? f->reason : "no reason given");
      else if (f->wants_migration && !f->migrated)
        g_string_append_printf (failures,
                                "%spackage %s was installed but not migrated within %d s (see "
                                "the engine's log)",
                                failures->len > 0 ? "; " : "", f->key, MIGRATION_TIMEOUT);
    }
  if (failures->len > 0)
    return g_set_error_literal (error, MBD_ERROR, MBD_ERROR_BUILD_FAILED, failures->str), FALSE;
  return TRUE;
}

BUILTINPROTO (keyring_packages)
{
  g_autoptr (GOptionContext) context = g_option_context_new (
      "- build the instance's keyring package into the flagged suites and migrate it");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_NONE,
                                 &instance, cancellable, error))
    return FALSE;
  /* their events come after this (a second of margin for clocks that step) */
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) since = g_date_time_add_seconds (now, -1);
  g_auto (GStrv) keys = NULL;
  if (!mbd_packager_build_keyring_packages (mbd_instance_get_packager (instance), opt_repository,
                                            (const char *const *) opt_distributions, opt_url,
                                            !opt_without_migration, &keys, error))
    return FALSE;
  g_autoptr (GPtrArray) followed = g_ptr_array_new_with_free_func ((GDestroyNotify) followed_free);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      fprintf (stderr, "mbd: keyring package submitted as package %s\n", keys[i]);
      if (opt_no_wait)
        printf ("%s\n", keys[i]);
      Followed *f = g_new0 (Followed, 1);
      f->key = g_strdup (keys[i]);
      f->final = MBD_EVENT_PACKAGING;
      g_ptr_array_add (followed, f);
    }
  if (opt_no_wait)
    return TRUE;
  return follow (instance, followed, since, error);
}
