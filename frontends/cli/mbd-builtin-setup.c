/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst. The options are MbdSetup's (mini-buildd's setup call's),
 * collected as name/value pairs and given to the setup once the instance is open. */
static GPtrArray *opt_pairs;

static gboolean
collect (const char *option_name, const char *value, gpointer data, GError **error)
{
  const char *name = option_name;
  while (*name == '-')
    name++;
  g_ptr_array_add (opt_pairs, g_strdup (name));
  g_ptr_array_add (opt_pairs, g_strdup (value != NULL ? value : "True"));
  return TRUE;
}

#define VALUE_OPTION(name, help, arg)                                                              \
  {                                                                                                \
    name, 0, 0, G_OPTION_ARG_CALLBACK, (gpointer) collect, help, arg                               \
  }
#define FLAG_OPTION(name, help)                                                                    \
  {                                                                                                \
    name, 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) collect, help, NULL           \
  }

static const GOptionEntry options[] = {
  VALUE_OPTION ("update", "Create or change these instances: all or ids (comma-separated)", "IDS"),
  VALUE_OPTION ("pca", "Prepare, check and activate these instances: all or ids", "IDS"),
  VALUE_OPTION ("identity", "The identity the instance should have", "ID"),
  VALUE_OPTION ("from-origins", "Origins for --sources-from-origins: Debian, Ubuntu", "ORIGINS"),
  VALUE_OPTION ("archives", "Mirror URLs of new sources (comma-separated)", "URLS"),
  FLAG_OPTION ("archives-from-apt-sources", "List the machine's apt sources as archives"),
  VALUE_OPTION ("sources", "Codenames, each with its extra sources", "CODENAMES"),
  FLAG_OPTION ("sources-from-origins", "All codenames mbd knows of the origins"),
  VALUE_OPTION ("distributions", "codename:arch+arch (native: the machine's), repeatable", "SPECS"),
  FLAG_OPTION ("distributions-from-sources", "codename:native for each source"),
  VALUE_OPTION ("repositories", "id:layout:codename+codename, repeatable", "SPECS"),
  VALUE_OPTION ("repositories-from-distributions", "id[:layout] with every distribution", "SPEC"),
  VALUE_OPTION ("chroots", "codename:arch+arch, repeatable", "SPECS"),
  FLAG_OPTION ("chroots-from-sources", "A chroot per architecture of each source's codename"),
  VALUE_OPTION ("chroots-backend", "unshare (default) or schroot", "BACKEND"),
  { NULL }
};

static void
on_progress (MbdSetup *setup, MbdSetupInstance *item, const char *action, gpointer user_data)
{
  fprintf (stderr, "%s %s %s ...\n", action, mbd_setup_instance_get_class_name (item),
           mbd_setup_instance_get_identity (item));
}

BUILTINPROTO (setup)
{
  g_autoptr (GOptionContext) context = g_option_context_new (
      "- inspect the instance, or create and activate what it needs");
  g_autoptr (MbdInstance) instance = NULL;
  g_autoptr (GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);

  opt_pairs = pairs;
  gboolean parsed = mbd_option_context_parse (context, options, &argc, &argv, invocation,
                                              MBD_BUILTIN_FLAG_NONE, &instance, cancellable, error);
  opt_pairs = NULL;
  if (!parsed)
    return FALSE;

  g_autoptr (MbdSetup) setup = mbd_setup_new (instance);
  for (guint i = 0; i + 1 < pairs->len; i += 2)
    if (!mbd_setup_set_option (setup, g_ptr_array_index (pairs, i),
                               g_ptr_array_index (pairs, i + 1), error))
      return FALSE;
  if (mbd_setup_has_run_options (setup))
    {
      g_signal_connect (setup, "progress", G_CALLBACK (on_progress), NULL);
      if (!mbd_setup_run (setup, cancellable, error))
        return FALSE;
    }
  int severity = 0;
  g_autoptr (GPtrArray) instances = mbd_setup_inspect (setup, &severity, error);
  if (instances == NULL)
    return FALSE;
  for (guint i = 0; i < instances->len; i++)
    {
      MbdSetupInstance *item = g_ptr_array_index (instances, i);
      const char *detail = mbd_setup_instance_get_detail (item);
      printf ("%-8s %-12s %-24s %s\n",
              mbd_setup_status_to_string (mbd_setup_instance_get_status (item)),
              mbd_setup_instance_get_class_name (item), mbd_setup_instance_get_identity (item),
              mbd_setup_instance_get_id (item));
      if (detail[0] != '\0')
        printf ("         %s\n", detail);
    }
  printf ("Severity: %d\n", severity);
  return TRUE;
}
