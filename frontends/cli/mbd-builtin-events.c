/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_after;
static char *opt_type;
static gboolean opt_json;
static gboolean opt_follow;

static const GOptionEntry options[]
    = { { "after", 0, 0, G_OPTION_ARG_STRING, &opt_after,
          "Only events later than this ISO 8601 time (UTC unless it names a zone)", "TIME" },
        { "type", 0, 0, G_OPTION_ARG_STRING, &opt_type, "Only events of this type (INSTALLED, ...)",
          "TYPE" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print each event as JSON, one a line",
          NULL },
        { "follow", 'f', 0, G_OPTION_ARG_NONE, &opt_follow,
          "Keep printing new events until interrupted", NULL },
        { NULL } };

static void
print_event (MbdEvent *event)
{
  if (opt_json)
    {
      g_autofree char *json = mbd_event_to_json (event);
      printf ("%s\n", json);
      return;
    }
  g_autofree char *stamp = g_date_time_format_iso8601 (mbd_event_get_timestamp (event));
  const char *arch = mbd_event_get_extra (event, "architecture");
  const char *reason = mbd_event_get_reason (event);
  printf ("%s %-10s %s %s %s %s%s%s\n", stamp,
          mbd_event_type_to_string (mbd_event_get_event_type (event)),
          mbd_event_get_source (event) ? mbd_event_get_source (event) : "-",
          mbd_event_get_version (event) ? mbd_event_get_version (event) : "-",
          mbd_event_get_distribution (event) ? mbd_event_get_distribution (event) : "-",
          arch ? arch : "-", reason ? ": " : "", reason ? reason : "");
}

static gboolean
on_signal (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  gboolean done;
  MbdEvent *event;
  GError *error;
} Next;

static void
next_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Next *next = user_data;

  next->event = mbd_events_next_finish (MBD_EVENTS (source), result, &next->error);
  next->done = TRUE;
}

static gboolean
want (MbdEvent *event, MbdEventType type)
{
  return opt_type == NULL || mbd_event_get_event_type (event) == type;
}

/* Prints each new event as it is stored (by this or another process) until SIGINT or SIGTERM. */
static gboolean
follow (MbdEvents *events, gint64 last_id, GDateTime *after, MbdEventType type, GError **error)
{
  g_autoptr (GCancellable) stop = g_cancellable_new ();
  guint sigint = g_unix_signal_add (SIGINT, on_signal, stop);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, stop);
  gboolean ok = TRUE;

  while (TRUE)
    {
      Next next = { FALSE, NULL, NULL };
      mbd_events_next_async (events, last_id, after, stop, next_done, &next);
      while (!next.done)
        g_main_context_iteration (NULL, TRUE);
      if (next.event == NULL)
        {
          if (!g_error_matches (next.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, next.error);
              ok = FALSE;
            }
          else
            g_error_free (next.error);
          break;
        }
      last_id = mbd_event_get_id (next.event);
      if (want (next.event, type))
        print_event (next.event);
      fflush (stdout);
      g_object_unref (next.event);
    }
  g_source_remove (sigint);
  g_source_remove (sigterm);
  return ok;
}

BUILTINPROTO (events)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- list the events of the instance");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_NONE,
                                 &instance, cancellable, error))
    return FALSE;
  g_autoptr (GDateTime) after = NULL;
  if (opt_after != NULL)
    {
      g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
      after = g_date_time_new_from_iso8601 (opt_after, utc);
      if (after == NULL)
        return mbd_cli_usage_error (
            error, "--after '%s' is not an ISO 8601 time such as 2026-11-24T06:00:00+00:00",
            opt_after);
    }
  MbdEventType type = MBD_EVENT_REJECTED;
  if (opt_type != NULL && !mbd_event_type_from_string (opt_type, &type, error))
    return FALSE;

  MbdEvents *events = mbd_instance_get_events (instance);
  g_autoptr (GPtrArray) list = mbd_events_list_after (events, after, error);
  if (list == NULL)
    return FALSE;
  gint64 last_id = 0;
  for (guint i = 0; i < list->len; i++)
    {
      MbdEvent *event = list->pdata[i];
      last_id = mbd_event_get_id (event);
      if (want (event, type))
        print_event (event);
    }
  fflush (stdout);
  if (!opt_follow)
    return TRUE;
  return follow (events, last_id, after, type, error);
}
