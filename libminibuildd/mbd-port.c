/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mbd-changes.h"
#include "mbd-dsc.h"
#include "mbd-file-entry.h"
#include "mbd-gnupg.h"
#include "mbd-packager.h"
#include "mbd-port-private.h"
#include "mbd-subprocess-private.h"
#include "mbd-util-private.h"

/* Internal uploads: a source tree or a built source package becomes a signed source-only upload
 * of the instance key, submitted to the packager as if it had come in through dput. */

#define TOOL_TIMEOUT_SECONDS 600
#define TOOL_OUTPUT_KEEP 2000

static void
keep_output (const char *line, gpointer user_data)
{
  GString *output = user_data;

  g_string_append (output, line);
  g_string_append_c (output, '\n');
  if (output->len > 2 * TOOL_OUTPUT_KEEP)
    g_string_erase (output, 0, output->len - TOOL_OUTPUT_KEEP);
}

/* Runs a dpkg tool in @cwd; fails naming it with its last output lines unless it exits 0.
 * *out_output (optional) gets its (merged) output. */
static gboolean
run_tool (const char *const *argv,
          const char *cwd,
          char **out_output,
          GCancellable *cancellable,
          GError **error)
{
  g_autoptr (GString) output = g_string_new (NULL);
  int status = 0;

  if (!mbd_subprocess_run (argv, NULL, cwd, TOOL_TIMEOUT_SECONDS, cancellable, keep_output, output,
                           &status, error))
    return FALSE;
  if (status != 0)
    {
      g_autofree char *tail = mbd_utf8_excerpt (output->str, output->len, TOOL_OUTPUT_KEEP);
      return mbd_throw (error, MBD_ERROR_FAILED, "%s (in %s) exited with status %d: %s", argv[0],
                        cwd, status, tail);
    }
  if (out_output != NULL)
    *out_output = g_strdup (output->str);
  return TRUE;
}

/* Replaces the file @path by its clear-signed form, made with the instance key. */
static gboolean
sign_in_place (MbdInstance *instance, const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GBytes) content = g_file_load_bytes (file, cancellable, NULL, error);
  if (content == NULL)
    return FALSE;
  g_autoptr (GBytes) signed_content = mbd_gnupg_sign_clear (mbd_instance_get_gnupg (instance),
                                                            content, cancellable, error);
  if (signed_content == NULL)
    return mbd_prefix_error (error, "%s: signing with the instance key: ", path);
  gsize len = 0;
  const char *data = g_bytes_get_data (signed_content, &len);
  return g_file_set_contents (path, data, len, error);
}

/* Moves @from to @to, copying when they are on different file systems. */
static gboolean
move_file (const char *from, const char *to, GError **error)
{
  if (g_rename (from, to) == 0)
    return TRUE;
  int saved = errno;
  if (saved != EXDEV)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot move to %s: %s",
                   from, to, g_strerror (saved));
      return FALSE;
    }
  g_autoptr (GFile) source = g_file_new_for_path (from);
  g_autoptr (GFile) target = g_file_new_for_path (to);
  if (!g_file_copy (source, target, G_FILE_COPY_NONE, NULL, NULL, NULL, error))
    return FALSE;
  (void) g_unlink (from);
  return TRUE;
}

/* The value of @field in dpkg-parsechangelog's output. */
static char *
parsed_field (const char *output, const char *field)
{
  g_auto (GStrv) lines = g_strsplit (output, "\n", -1);
  g_autofree char *prefix = g_strconcat (field, ": ", NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strstrip (g_strdup (lines[i] + strlen (prefix)));
  return NULL;
}

static char *
without_epoch (const char *version)
{
  const char *colon = strchr (version, ':');

  return g_strdup (colon != NULL ? colon + 1 : version);
}

/* A fresh directory `<home>/internal-uploads/<template>` (on the home's file system, so the
 * upload moves into the packager). */
static char *
make_dir_in_home (MbdInstance *instance, const char *template, GError **error)
{
  g_autofree char *uploads
      = g_build_filename (mbd_instance_get_home (instance), "internal-uploads", NULL);
  g_autofree char *dir = g_build_filename (uploads, template, NULL);

  if (g_mkdir_with_parents (uploads, 0750) < 0 || g_mkdtemp_full (dir, 0750) == NULL)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s", dir,
                   g_strerror (saved));
      return NULL;
    }
  return g_steal_pointer (&dir);
}

gboolean
mbd_port_unpack_dsc (MbdInstance *instance,
                     const char *dsc,
                     char **out_work,
                     char **out_tree,
                     GCancellable *cancellable,
                     GError **error)
{
  g_autoptr (MbdDsc) parsed = mbd_dsc_new_from_file (dsc, error);
  if (parsed == NULL)
    return FALSE;
  g_autofree char *work = make_dir_in_home (instance, "work-XXXXXX", error);
  if (work == NULL)
    return FALSE;
  g_autofree char *from_dir = g_path_get_dirname (dsc);
  g_autofree char *dsc_name = g_path_get_basename (dsc);
  g_autoptr (GPtrArray) files = mbd_dsc_get_files (parsed);
  gboolean ok = TRUE;
  for (guint i = 0; ok && i <= files->len; i++)
    {
      const char *name
          = i < files->len ? mbd_file_entry_get_name (g_ptr_array_index (files, i)) : dsc_name;
      g_autofree char *from = g_build_filename (from_dir, name, NULL);
      g_autofree char *to = g_build_filename (work, name, NULL);
      g_autoptr (GFile) source = g_file_new_for_path (from);
      g_autoptr (GFile) target = g_file_new_for_path (to);
      ok = mbd_filename_is_safe (name, error)
           && g_file_copy (source, target, G_FILE_COPY_NONE, cancellable, NULL, NULL, error);
    }
  g_autofree char *tree = g_build_filename (work, "tree", NULL);
  const char *argv[] = { "dpkg-source", "--no-copy", "-x", dsc_name, "tree", NULL };
  if (!ok || !run_tool (argv, work, NULL, cancellable, error))
    {
      mbd_remove_tree (work);
      return FALSE;
    }
  *out_work = g_steal_pointer (&work);
  *out_tree = g_steal_pointer (&tree);
  return TRUE;
}

gboolean
mbd_internal_upload (MbdInstance *instance,
                     const char *tree,
                     const char *since_version,
                     const char *const *fields,
                     char **out_key,
                     char **out_changes,
                     GCancellable *cancellable,
                     GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), FALSE);
  g_return_val_if_fail (tree != NULL, FALSE);

  g_autofree char *parent = g_path_get_dirname (tree);
  g_autofree char *base = g_path_get_basename (tree);
  g_autofree char *changelog = g_build_filename (tree, "debian", "changelog", NULL);

  const char *parse_argv[] = { "dpkg-parsechangelog", "-l", changelog, NULL };
  g_autofree char *parsed = NULL;
  if (!run_tool (parse_argv, parent, &parsed, cancellable, error))
    return FALSE;
  g_autofree char *source = parsed_field (parsed, "Source");
  g_autofree char *version = parsed_field (parsed, "Version");
  if (source == NULL || version == NULL)
    return mbd_throw (error, MBD_ERROR_MISSING_FIELD,
                      "%s: the top entry has no source name or version", changelog);
  g_autofree char *plain = without_epoch (version);

  const char *build_argv[] = { "dpkg-source", "-b", base, NULL };
  if (!run_tool (build_argv, parent, NULL, cancellable, error))
    return FALSE;
  g_autofree char *dsc_name = g_strdup_printf ("%s_%s.dsc", source, plain);
  g_autofree char *dsc = g_build_filename (parent, dsc_name, NULL);
  if (!sign_in_place (instance, dsc, cancellable, error))
    return FALSE;

  g_autofree char *changes_name = g_strdup_printf ("%s_%s_source.changes", source, plain);
  g_autofree char *changes = g_build_filename (parent, changes_name, NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_strdup ("dpkg-genchanges"));
  g_ptr_array_add (argv, g_strdup ("-S"));
  g_ptr_array_add (argv, g_strdup ("-sa"));
  if (since_version != NULL)
    g_ptr_array_add (argv, g_strconcat ("-v", since_version, NULL));
  for (guint i = 0; fields != NULL && fields[i] != NULL; i++)
    g_ptr_array_add (argv, g_strconcat ("-D", fields[i], NULL));
  g_ptr_array_add (argv, g_strconcat ("-O", changes, NULL));
  g_ptr_array_add (argv, NULL);
  if (!run_tool ((const char *const *) argv->pdata, tree, NULL, cancellable, error))
    return FALSE;
  if (!sign_in_place (instance, changes, cancellable, error))
    return FALSE;

  g_autoptr (MbdChanges) parsed_changes = mbd_changes_new_from_file (changes, error);
  if (parsed_changes == NULL)
    return FALSE;
  g_autofree char *dir = make_dir_in_home (instance, "upload-XXXXXX", error);
  if (dir == NULL)
    return FALSE;
  g_autoptr (GPtrArray) files = mbd_changes_get_files (parsed_changes);
  gboolean moved = TRUE;
  for (guint i = 0; moved && i < files->len; i++)
    {
      const char *name = mbd_file_entry_get_name (g_ptr_array_index (files, i));
      g_autofree char *from = g_build_filename (parent, name, NULL);
      g_autofree char *to = g_build_filename (dir, name, NULL);
      moved = mbd_filename_is_safe (name, error) && move_file (from, to, error);
    }
  g_autofree char *target = g_build_filename (dir, changes_name, NULL);
  g_autofree char *key = NULL;
  if (!moved || !move_file (changes, target, error)
      || !mbd_packager_submit_full (mbd_instance_get_packager (instance), target, &key, error))
    {
      mbd_remove_tree (dir);
      return FALSE;
    }
  if (out_key != NULL)
    *out_key = g_steal_pointer (&key);
  if (out_changes != NULL)
    *out_changes = g_steal_pointer (&changes_name);
  return TRUE;
}

gboolean
mbd_internal_upload_dsc (MbdInstance *instance,
                         const char *dsc,
                         const char *since_version,
                         const char *const *fields,
                         char **out_key,
                         GCancellable *cancellable,
                         GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), FALSE);
  g_return_val_if_fail (dsc != NULL, FALSE);

  g_autofree char *work = NULL;
  g_autofree char *tree = NULL;
  if (!mbd_port_unpack_dsc (instance, dsc, &work, &tree, cancellable, error))
    return FALSE;
  gboolean ok = mbd_internal_upload (instance, tree, since_version, fields, out_key, NULL,
                                     cancellable, error);
  mbd_remove_tree (work);
  return ok;
}
