/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_files_from;

static const GOptionEntry options[]
    = { { "files-from", 0, 0, G_OPTION_ARG_FILENAME, &opt_files_from,
          "Read more files to include from FILE, one per line ('-' for standard input)", "FILE" },
        { NULL } };

BUILTINPROTO (include)
{
  g_autoptr (GOptionContext) context
             = g_option_context_new ("DIST FILE... - include .changes, .deb or .dsc files");
  g_autoptr (MbdInstance) instance = NULL;

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation, MBD_BUILTIN_FLAG_ARGS,
                                 &instance, cancellable, error))
    return FALSE;
  if (argc < 2 || (argc < 3 && opt_files_from == NULL))
    return mbd_cli_usage_error (error, "give a distribution and files: mbd include DIST FILE...");

  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  for (int i = 2; i < argc; i++)
    g_ptr_array_add (files, g_strdup (argv[i]));
  if (opt_files_from != NULL)
    {
      g_autofree char *text = NULL;
      if (strcmp (opt_files_from, "-") == 0)
        {
          g_autoptr (GString) in = g_string_new (NULL);
          char buf[65536];
          size_t n;
          while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
            g_string_append_len (in, buf, n);
          text = g_string_free (g_steal_pointer (&in), FALSE);
        }
      else if (!g_file_get_contents (opt_files_from, &text, NULL, error))
        return FALSE;
      g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          char *line = g_strstrip (lines[i]);
          if (line[0] != '\0' && line[0] != '#')
            g_ptr_array_add (files, g_strdup (line));
        }
    }
  g_ptr_array_add (files, NULL);

  g_autoptr (MbdRepository) repo
             = mbd_instance_lookup_repository_for_distribution (instance, argv[1], error);
  if (repo == NULL)
    return FALSE;
  if (!mbd_repository_include (repo, argv[1], (const char *const *) files->pdata, cancellable,
                               error))
    return FALSE;
  printf ("Included %u file%s into %s\n", files->len - 1, files->len == 2 ? "" : "s", argv[1]);
  return TRUE;
}
