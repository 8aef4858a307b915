/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst. */
static gboolean opt_json;

static const GOptionEntry options[]
    = { { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
          "ls: print the jobs as a JSON array (with their last log lines)", NULL },
        { NULL } };

static char *
format_time (GDateTime *t)
{
  return t != NULL ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
print_json (GPtrArray *jobs)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < jobs->len; i++)
    {
      MbdCronJob *job = jobs->pdata[i];
      g_autofree char *next = format_time (mbd_cron_job_get_next_run (job));
      g_autofree char *last = format_time (mbd_cron_job_get_last_run (job));
      json_builder_begin_object (b);
      add_string (b, "id", mbd_cron_job_get_id (job));
      add_string (b, "schedule", mbd_cron_job_get_schedule (job));
      add_string (b, "next_run", next);
      add_string (b, "last_run", last);
      json_builder_set_member_name (b, "last_success");
      if (last != NULL)
        json_builder_add_boolean_value (b, mbd_cron_job_get_last_success (job));
      else
        json_builder_add_null_value (b);
      add_string (b, "last_message", mbd_cron_job_get_last_message (job));
      json_builder_set_member_name (b, "log");
      json_builder_begin_array (b);
      for (const char *const *line = mbd_cron_job_get_log (job); *line != NULL; line++)
        json_builder_add_string_value (b, *line);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, TRUE);
  printf ("%s\n", text);
}

static void
print_table (GPtrArray *jobs)
{
  printf ("%-32s %-32s %-20s %-20s %s\n", "ID", "SCHEDULE", "NEXT RUN", "LAST RUN", "LAST RESULT");
  for (guint i = 0; i < jobs->len; i++)
    {
      MbdCronJob *job = jobs->pdata[i];
      g_autofree char *next = format_time (mbd_cron_job_get_next_run (job));
      g_autofree char *last = format_time (mbd_cron_job_get_last_run (job));
      g_autofree char *result
          = last == NULL
                ? g_strdup ("-")
                : g_strdup_printf ("%s: %s", mbd_cron_job_get_last_success (job) ? "ok" : "FAILED",
                                   mbd_cron_job_get_last_message (job));
      printf ("%-32s %-32s %-20s %-20s %s\n", mbd_cron_job_get_id (job),
              mbd_cron_job_get_schedule (job), next, last != NULL ? last : "never", result);
    }
}

BUILTINPROTO (cron)
{
  const char *sub = mbd_cli_take_subcommand (&argc, argv);
  g_autoptr (GOptionContext) context
             = g_option_context_new ("ls [--json] | run ID - the internal cron's jobs");
  g_autoptr (MbdInstance) instance = NULL;

  g_option_context_set_description (
      context, "Job ids are mini-buildd's, e.g. 'cronjob_snapshots (WEEKLY)': quote them.");
  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  MbdCron *cron = mbd_instance_get_cron (instance);
  if (g_strcmp0 (sub, "ls") == 0)
    {
      if (argc != 1)
        return mbd_cli_usage_error (error, "unexpected argument '%s': mbd cron ls [--json]",
                                    argv[1]);
      g_autoptr (GPtrArray) jobs = mbd_cron_list_jobs (cron, error);
      if (jobs == NULL)
        return FALSE;
      if (opt_json)
        print_json (jobs);
      else
        print_table (jobs);
      return TRUE;
    }
  if (g_strcmp0 (sub, "run") == 0)
    {
      if (argc != 2)
        return mbd_cli_usage_error (error,
                                    "give one job id: mbd cron run 'cronjob_snapshots (WEEKLY)'");
      g_autoptr (MbdCronJob) job = mbd_cron_run_job (cron, argv[1], cancellable, error);
      if (job == NULL)
        return FALSE;
      if (!mbd_cron_job_get_last_success (job))
        return g_set_error (error, MBD_ERROR, MBD_ERROR_FAILED, "%s %s", argv[1],
                            mbd_cron_job_get_last_message (job)),
               FALSE;
      printf ("%s: %s\n", argv[1], mbd_cron_job_get_last_message (job));
      return TRUE;
    }
  return mbd_cli_usage_error (error, "give a subcommand: mbd cron ls|run");
}
