/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static gboolean opt_json;

static const GOptionEntry options[]
    = { { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
          "Print the status as JSON (the shape of mini-buildd's status call)", NULL },
        { NULL } };

static void
print_list (const char *label, const char *const *items)
{
  g_autofree char *joined = g_strjoinv (" ", (char **) items);

  printf ("%-12s %s\n", label, items[0] != NULL ? joined : "(none)");
}

BUILTINPROTO (status)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- show the status of an instance");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_NONE,
                                 &instance, cancellable, error))
    return FALSE;

  g_autoptr (MbdStatus) status = mbd_instance_get_status (instance, cancellable, error);
  if (status == NULL)
    return FALSE;

  if (opt_json)
    {
      g_autofree char *json = mbd_status_to_json (status);
      printf ("%s\n", json);
      return TRUE;
    }

  double load = mbd_status_get_load (status);
  printf ("%-12s %s\n", "Identity:", mbd_status_get_identity (status));
  printf ("%-12s %s\n", "Version:", mbd_status_get_version (status));
  printf ("%-12s %s\n", "Home:", mbd_instance_get_home (instance));
  printf ("%-12s %s\n", "Key:", mbd_instance_get_fingerprint (instance));
  printf ("%-12s %d\n", "Schema:", mbd_instance_get_schema_version (instance));
  printf ("%-12s %s\n", "URL:", mbd_status_get_url (status));
  int engine_pid = mbd_instance_get_engine_pid (instance);
  if (engine_pid > 0)
    printf ("%-12s %s (pid %d)\n", "Engine:", "running", engine_pid);
  else if (engine_pid < 0)
    printf ("%-12s %s\n", "Engine:", "running");
  else
    printf ("%-12s %s\n", "Engine:", "stopped (no mbd-server runs this instance)");
  if (load >= 0)
    printf ("%-12s %.2f\n", "Load:", load);
  print_list ("Chroots:", mbd_status_get_chroots (status));
  print_list ("Remotes:", mbd_status_get_remotes (status));
  return TRUE;
}
