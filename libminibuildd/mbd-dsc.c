/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "mbd-dsc.h"
#include "mbd-file-entry-private.h"
#include "mbd-util-private.h"

/**
 * MbdDsc:
 *
 * A Debian source control file (`.dsc`), read and checked.
 *
 * Reading it checks that it has exactly one paragraph, that the mandatory fields `Format`,
 * `Source`, `Version`, `Maintainer`, `Files` and `Checksums-Sha256` are present, that `Source`
 * is a valid package name and `Version` a valid Debian version, and that `Files`,
 * `Checksums-Sha1` (if present) and `Checksums-Sha256` list the same safe file names with the same
 * sizes and well-formed checksums. The files themselves are checked only by
 * [method@Mbd.Dsc.verify_files].
 *
 * An OpenPGP clear-signed `.dsc` is read as well; [method@Mbd.Dsc.is_signed] tells whether it
 * was, but the signature is not verified here (see [class@Mbd.Gnupg]).
 */
struct _MbdDsc
{
  GObject parent_instance;

  char *name;
  MbdControl *control;
  MbdParagraph *paragraph; /* (unowned) owned by control */
  GPtrArray *files;        /* (element-type MbdFileEntry) */
};

G_DEFINE_FINAL_TYPE (MbdDsc, mbd_dsc, G_TYPE_OBJECT)

/**
 * mbd_source_name_is_valid:
 * @name: a source package name
 * @error: return location for a #GError
 *
 * Checks a source package name against Debian policy (5.6.1): at least two characters, lower
 * case letters, digits, `+`, `-` and `.`, starting with a letter or digit.
 *
 * Returns: %TRUE if @name is valid; %FALSE with %MBD_ERROR_INVALID_ARGUMENT naming it
 *   otherwise
 */
gboolean
mbd_source_name_is_valid (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, FALSE);

  if (mbd_pkgfile_package_name_is_valid (name))
    return TRUE;
  g_autofree char *quoted = mbd_pkgfile_quote_for_message (name);
  return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                    "'%s' is not a valid source package name (at least two characters: lower case "
                    "letters, digits, '+', '-' and '.', starting with a letter or digit)",
                    quoted);
}

static void
mbd_dsc_finalize (GObject *object)
{
  MbdDsc *self = MBD_DSC (object);

  g_free (self->name);
  g_clear_object (&self->control);
  g_clear_pointer (&self->files, g_ptr_array_unref);
  G_OBJECT_CLASS (mbd_dsc_parent_class)->finalize (object);
}

static void
mbd_dsc_class_init (MbdDscClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_dsc_finalize;
}

static void
mbd_dsc_init (MbdDsc *self)
{
}

static MbdDsc *
dsc_new_from_control (MbdControl *control, const char *name, GError **error)
{
  const char *const mandatory[] = { "Format", "Source", "Version", "Maintainer", NULL };

  MbdParagraph *paragraph = mbd_pkgfile_single_paragraph (control, name, error);
  if (paragraph == NULL)
    return NULL;
  if (!mbd_pkgfile_require_fields (paragraph, name, mandatory, error))
    return NULL;
  if (!mbd_pkgfile_check_package_field (paragraph, name, "Source",
                                        mbd_paragraph_get (paragraph, "Source"), error))
    return NULL;
  if (!mbd_pkgfile_check_version_field (paragraph, name, "Version",
                                        mbd_paragraph_get (paragraph, "Version"), error))
    return NULL;

  g_autoptr (GPtrArray) files = mbd_pkgfile_parse_file_list (paragraph, name, FALSE, error);
  if (files == NULL)
    return NULL;

  MbdDsc *self = g_object_new (MBD_TYPE_DSC, NULL);
  self->name = g_strdup (name);
  self->control = g_object_ref (control);
  self->paragraph = paragraph;
  self->files = g_steal_pointer (&files);
  return self;
}

/**
 * mbd_dsc_new_from_file:
 * @path: the path of a `.dsc` file
 * @error: return location for a #GError
 *
 * Reads and checks a `.dsc` file; see [class@Mbd.Dsc] for what is checked. Error messages name
 * @path.
 *
 * Returns: (transfer full): the source control data, or %NULL with @error set: a %G_IO_ERROR if
 *   the file cannot be read, %MBD_ERROR_PARSE for malformed data (naming the field and line),
 *   %MBD_ERROR_DUPLICATE_FIELD, %MBD_ERROR_MISSING_FIELD, %MBD_ERROR_INVALID_VERSION or
 *   %MBD_ERROR_UNSAFE_FILENAME
 */
MbdDsc *
mbd_dsc_new_from_file (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (MbdControl) control = mbd_control_new_from_file (path, error);
  if (control == NULL)
    return NULL;
  return dsc_new_from_control (control, path, error);
}

/**
 * mbd_dsc_new_from_bytes:
 * @data: the contents of a `.dsc` file
 * @name: the name of the data (a file name or URL), used in error messages
 * @error: return location for a #GError
 *
 * Reads and checks `.dsc` data held in memory; see [class@Mbd.Dsc] for what is checked.
 *
 * Returns: (transfer full): the source control data, or %NULL with @error set as for
 *   [ctor@Mbd.Dsc.new_from_file]
 */
MbdDsc *
mbd_dsc_new_from_bytes (GBytes *data, const char *name, GError **error)
{
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (MbdControl) control = mbd_control_new_from_bytes (data, name, error);
  if (control == NULL)
    return NULL;
  return dsc_new_from_control (control, name, error);
}

/**
 * mbd_dsc_get_name:
 * @self: a #MbdDsc
 *
 * Gets the name the `.dsc` was read under: the path given to [ctor@Mbd.Dsc.new_from_file] or the
 * name given to [ctor@Mbd.Dsc.new_from_bytes].
 *
 * Returns: (transfer none): the name
 */
const char *
mbd_dsc_get_name (MbdDsc *self)
{
  g_return_val_if_fail (MBD_IS_DSC (self), NULL);
  return self->name;
}

/**
 * mbd_dsc_get_control:
 * @self: a #MbdDsc
 *
 * Gets the parsed control data of the `.dsc`.
 *
 * Returns: (transfer none): the control data
 */
MbdControl *
mbd_dsc_get_control (MbdDsc *self)
{
  g_return_val_if_fail (MBD_IS_DSC (self), NULL);
  return self->control;
}

/**
 * mbd_dsc_get_paragraph:
 * @self: a #MbdDsc
 *
 * Gets the one paragraph of the `.dsc`, to read fields that have no getter of their own.
 *
 * Returns: (transfer none): the paragraph
 */
MbdParagraph *
mbd_dsc_get_paragraph (MbdDsc *self)
{
  g_return_val_if_fail (MBD_IS_DSC (self), NULL);
  return self->paragraph;
}

/**
 * mbd_dsc_is_signed:
 * @self: a #MbdDsc
 *
 * Tells whether the `.dsc` was OpenPGP clear-signed. The signature is not verified here.
 *
 * Returns: %TRUE if the data was clear-signed
 */
gboolean
mbd_dsc_is_signed (MbdDsc *self)
{
  g_return_val_if_fail (MBD_IS_DSC (self), FALSE);
  return mbd_control_is_signed (self->control);
}

/**
 * mbd_dsc_get_format:
 * @self: a #MbdDsc
 *
 * Gets the source package format, such as `3.0 (quilt)`.
 *
 * Returns: (transfer none): the value of the `Format` field
 */
const char *
mbd_dsc_get_format (MbdDsc *self)
{
  g_return_val_if_fail (MBD_IS_DSC (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Format");
}

/**
 * mbd_dsc_get_source:
 * @self: a #MbdDsc
 *
 * Gets the source package name; it is a valid Debian package name.
 *
 * Returns: (transfer none): the value of the `Source` field
 */
const char *
mbd_dsc_get_source (MbdDsc *self)
{
  g_return_val_if_fail (MBD_IS_DSC (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Source");
}

/**
 * mbd_dsc_get_version:
 * @self: a #MbdDsc
 *
 * Gets the source package version; it is a valid Debian version.
 *
 * Returns: (transfer none): the value of the `Version` field
 */
const char *
mbd_dsc_get_version (MbdDsc *self)
{
  g_return_val_if_fail (MBD_IS_DSC (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Version");
}

/**
 * mbd_dsc_get_maintainer:
 * @self: a #MbdDsc
 *
 * Gets the maintainer, as `Name <address>`.
 *
 * Returns: (transfer none): the value of the `Maintainer` field
 */
const char *
mbd_dsc_get_maintainer (MbdDsc *self)
{
  g_return_val_if_fail (MBD_IS_DSC (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Maintainer");
}

/**
 * mbd_dsc_get_binaries:
 * @self: a #MbdDsc
 *
 * Gets the names of the binary packages built from this source, from the comma-separated
 * `Binary` field.
 *
 * Returns: (transfer full) (array zero-terminated=1): the binary package names; empty if the
 *   field is missing
 */
char **
mbd_dsc_get_binaries (MbdDsc *self)
{
  g_return_val_if_fail (MBD_IS_DSC (self), NULL);

  g_autofree char *folded = mbd_paragraph_get_folded (self->paragraph, "Binary");
  return mbd_pkgfile_split_words (folded, ", \t\n");
}

/**
 * mbd_dsc_get_architectures:
 * @self: a #MbdDsc
 *
 * Gets the architectures (or wildcards such as `any` and `all`) the source builds for, from
 * the space-separated `Architecture` field.
 *
 * Returns: (transfer full) (array zero-terminated=1): the architectures; empty if the field is
 *   missing
 */
char **
mbd_dsc_get_architectures (MbdDsc *self)
{
  g_return_val_if_fail (MBD_IS_DSC (self), NULL);

  g_autofree char *folded = mbd_paragraph_get_folded (self->paragraph, "Architecture");
  return mbd_pkgfile_split_words (folded, " \t\n");
}

/**
 * mbd_dsc_get_files:
 * @self: a #MbdDsc
 *
 * Gets the files the `.dsc` lists (the `.dsc` itself is not among them), in the order of the
 * `Files` field, each with its size and MD5, SHA1 (if listed) and SHA256 checksums.
 *
 * Returns: (transfer container) (element-type Mbd.FileEntry): a new array of copies of the
 *   entries; it frees them with itself
 */
GPtrArray *
mbd_dsc_get_files (MbdDsc *self)
{
  g_return_val_if_fail (MBD_IS_DSC (self), NULL);
  return mbd_pkgfile_copy_entries (self->files);
}

/**
 * mbd_dsc_get_file:
 * @self: a #MbdDsc
 * @name: a file name
 *
 * Looks up the entry of one listed file.
 *
 * Returns: (transfer none) (nullable): the entry named @name, or %NULL if the `.dsc` does not
 *   list it
 */
const MbdFileEntry *
mbd_dsc_get_file (MbdDsc *self, const char *name)
{
  g_return_val_if_fail (MBD_IS_DSC (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return mbd_pkgfile_find_entry (self->files, name);
}

/**
 * mbd_dsc_verify_files:
 * @self: a #MbdDsc
 * @dir: the directory that should hold the listed files
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Verifies every listed file in @dir with [method@Mbd.FileEntry.verify], in the order of the
 * `Files` field. The first failure is returned, its message prefixed with the name of the `.dsc`.
 *
 * Returns: %TRUE if all files are present and match; otherwise %FALSE with @error set as
 *   [method@Mbd.FileEntry.verify] sets it
 */
gboolean
mbd_dsc_verify_files (MbdDsc *self, const char *dir, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_DSC (self), FALSE);
  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return mbd_pkgfile_verify_entries (self->files, dir, self->name, cancellable, error);
}
