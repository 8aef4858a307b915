/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mbd-instance.h"
#include "mbd-util-private.h"

/* A repository identity as the layout rules define it: ^[a-z0-9]+$ */
static gboolean
repository_id_is_valid (const char *id)
{
  if (*id == '\0')
    return FALSE;
  for (const char *p = id; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

/* @text for an error message: valid UTF-8, control characters escaped, bounded. */
static char *
printable (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  return mbd_utf8_excerpt (valid, strlen (valid), 200);
}

static gboolean
is_below (const char *path, const char *root)
{
  gsize len = strlen (root);
  return strncmp (path, root, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/**
 * mbd_instance_resolve_repository_path:
 * @self: an instance
 * @repository: a repository identity (lower-case letters and digits)
 * @path: a '/' separated path below the repository's published tree, as taken from a URL after
 *   percent-decoding; empty (or "/") for the tree itself
 * @error: return location for a #GError
 *
 * Resolves a path below `<home>/repositories/<repository>/` to the file or directory it names,
 * for serving the published tree. Empty components are skipped. A component that is `.`, `..`
 * or starts with a dot (temporary files of a publish in progress) is refused with
 * %MBD_ERROR_UNSAFE_FILENAME, and so is a path whose symbolic links lead outside the
 * repository's tree. A repository identity that is not one fails with
 * %MBD_ERROR_INVALID_ARGUMENT; a file that does not exist with %MBD_ERROR_NOT_FOUND.
 *
 * The instance need not be open: only its home directory is used.
 *
 * Returns: (transfer full) (type filename): the canonical absolute path (no symbolic links) of
 *   the existing file or directory, or %NULL with @error set
 */
char *
mbd_instance_resolve_repository_path (MbdInstance *self,
                                      const char *repository,
                                      const char *path,
                                      GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), NULL);
  g_return_val_if_fail (repository != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!repository_id_is_valid (repository))
    {
      g_autofree char *shown = printable (repository);
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "'%s' is not a repository identity (lower-case letters and digits only)", shown);
      return NULL;
    }

  g_auto (GStrv) components = g_strsplit (path, "/", -1);
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();
  for (char **c = components; *c != NULL; c++)
    {
      if (**c == '\0')
        continue;
      if (**c == '.')
        {
          g_autofree char *shown = printable (path);
          g_autofree char *component = printable (*c);
          mbd_throw (error, MBD_ERROR_UNSAFE_FILENAME,
                     "path '%s' in repository '%s': component '%s' is not allowed (no "
                     "component may start with a dot)",
                     shown, repository, component);
          return NULL;
        }
      g_ptr_array_add (kept, *c);
    }
  g_ptr_array_add (kept, NULL);

  g_autofree char *root_dir
      = g_build_filename (mbd_instance_get_home (self), "repositories", repository, NULL);
  g_autofree char *root = realpath (root_dir, NULL);
  if (root == NULL)
    {
      int saved = errno;
      if (saved == ENOENT || saved == ENOTDIR)
        {
          mbd_throw (error, MBD_ERROR_NOT_FOUND, "repository '%s' has no published tree in %s",
                     repository, root_dir);
          return NULL;
        }
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", root_dir,
                   g_strerror (saved));
      return NULL;
    }

  g_autofree char *relative = g_strjoinv ("/", (char **) kept->pdata);
  g_autofree char *joined = g_build_filename (root, relative, NULL);
  g_autofree char *resolved = realpath (joined, NULL);
  if (resolved == NULL)
    {
      int saved = errno;
      g_autofree char *shown = printable (path);
      if (saved == ENOENT || saved == ENOTDIR)
        mbd_throw (error, MBD_ERROR_NOT_FOUND, "repository '%s' has no file '%s'", repository,
                   shown);
      else if (saved == ELOOP)
        mbd_throw (error, MBD_ERROR_UNSAFE_FILENAME,
                   "path '%s' in repository '%s': too many levels of symbolic links", shown,
                   repository);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                     "path '%s' in repository '%s': %s", shown, repository, g_strerror (saved));
      return NULL;
    }
  if (!is_below (resolved, root))
    {
      g_autofree char *shown = printable (path);
      mbd_throw (error, MBD_ERROR_UNSAFE_FILENAME,
                 "path '%s' in repository '%s' leads outside the repository's tree (through a "
                 "symbolic link)",
                 shown, repository);
      return NULL;
    }
  return g_steal_pointer (&resolved);
}
