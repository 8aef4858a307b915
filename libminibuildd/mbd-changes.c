/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "mbd-changes.h"
#include "mbd-file-entry-private.h"
#include "mbd-util-private.h"

/**
 * MbdChanges:
 *
 * A Debian upload control file (`.changes`), read and checked.
 *
 * Reading it checks that it has exactly one paragraph; that the mandatory fields `Format`,
 * `Date`, `Source`, `Architecture`, `Version`, `Distribution`, `Maintainer`, `Files` and
 * `Checksums-Sha256` are present; that `Format` is a 1.x version; that `Source` is a valid
 * package name (optionally followed by the source version in parentheses) and `Version` a valid
 * Debian version; and that `Files`, `Checksums-Sha1` (if present) and `Checksums-Sha256` list
 * the same safe file names with the same sizes and well-formed checksums, with at most one
 * `.dsc` and with a section and priority on each `Files` line that hold no white space or
 * control characters. The files themselves are checked only by [method@Mbd.Changes.verify_files].
 *
 * An OpenPGP clear-signed `.changes` is read as well; [method@Mbd.Changes.is_signed] tells
 * whether it was, but the signature is not verified here (see [class@Mbd.Gnupg]).
 */
struct _MbdChanges
{
  GObject parent_instance;

  char *name;
  MbdControl *control;
  MbdParagraph *paragraph; /* (unowned) owned by control */
  char *source;
  char *source_version; /* (nullable) */
  GPtrArray *files;     /* (element-type MbdFileEntry) */
  MbdFileEntry *dsc;    /* (unowned) (nullable) in files */
};

G_DEFINE_FINAL_TYPE (MbdChanges, mbd_changes, G_TYPE_OBJECT)

static void
mbd_changes_finalize (GObject *object)
{
  MbdChanges *self = MBD_CHANGES (object);

  g_free (self->name);
  g_free (self->source);
  g_free (self->source_version);
  g_clear_object (&self->control);
  g_clear_pointer (&self->files, g_ptr_array_unref);
  G_OBJECT_CLASS (mbd_changes_parent_class)->finalize (object);
}

static void
mbd_changes_class_init (MbdChangesClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_changes_finalize;
}

static void
mbd_changes_init (MbdChanges *self)
{
}

static gboolean
check_format (MbdParagraph *paragraph, const char *name, GError **error)
{
  const char *format = mbd_paragraph_get (paragraph, "Format");
  const char *p = format;

  if (g_str_has_prefix (p, "1."))
    {
      p += 2;
      while (g_ascii_isdigit (*p))
        p++;
      if (*p == '\0' && p > format + 2)
        return TRUE;
    }
  g_autofree char *quoted = mbd_pkgfile_quote_for_message (format);
  return mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                    "%s:%u: field Format: .changes format “%s” is not supported (only 1.x)", name,
                    mbd_paragraph_get_field_line (paragraph, "Format"), quoted);
}

/* Splits `Source: name` or `Source: name (version)`. */
static gboolean
parse_source (MbdParagraph *paragraph,
              const char *name,
              char **out_source,
              char **out_version,
              GError **error)
{
  g_autofree char *value = g_strstrip (g_strdup (mbd_paragraph_get (paragraph, "Source")));
  char *open = strchr (value, '(');
  g_autofree char *version = NULL;

  if (open != NULL)
    {
      gsize length = strlen (open);
      if (length < 3 || open[length - 1] != ')')
        {
          g_autofree char *quoted = mbd_pkgfile_quote_for_message (value);
          return mbd_throw (error, MBD_ERROR_PARSE,
                            "%s:%u: field Source: “%s” is not “name” or “name (version)”", name,
                            mbd_paragraph_get_field_line (paragraph, "Source"), quoted);
        }
      version = g_strndup (open + 1, length - 2);
      g_strstrip (version);
      *open = '\0';
      g_strstrip (value);
      if (!mbd_pkgfile_check_version_field (paragraph, name, "Source", version, error))
        return FALSE;
    }
  if (!mbd_pkgfile_check_package_field (paragraph, name, "Source", value, error))
    return FALSE;

  *out_source = g_steal_pointer (&value);
  *out_version = g_steal_pointer (&version);
  return TRUE;
}

static MbdChanges *
changes_new_from_control (MbdControl *control, const char *name, GError **error)
{
  const char *const mandatory[] = {
    "Format", "Date", "Source", "Architecture", "Version", "Distribution", "Maintainer", NULL,
  };

  MbdParagraph *paragraph = mbd_pkgfile_single_paragraph (control, name, error);
  if (paragraph == NULL)
    return NULL;
  if (!mbd_pkgfile_require_fields (paragraph, name, mandatory, error))
    return NULL;
  if (!check_format (paragraph, name, error))
    return NULL;

  g_autofree char *source = NULL;
  g_autofree char *source_version = NULL;
  if (!parse_source (paragraph, name, &source, &source_version, error))
    return NULL;
  if (!mbd_pkgfile_check_version_field (paragraph, name, "Version",
                                        mbd_paragraph_get (paragraph, "Version"), error))
    return NULL;

  g_autoptr (GPtrArray) files = mbd_pkgfile_parse_file_list (paragraph, name, TRUE, error);
  if (files == NULL)
    return NULL;

  MbdFileEntry *dsc = NULL;
  for (guint i = 0; i < files->len; i++)
    {
      MbdFileEntry *entry = g_ptr_array_index (files, i);
      if (!g_str_has_suffix (mbd_file_entry_get_name (entry), ".dsc"))
        continue;
      if (dsc != NULL)
        {
          mbd_throw (error, MBD_ERROR_PARSE,
                     "%s:%u: field Files lists two .dsc files, “%s” and “%s”", name,
                     mbd_paragraph_get_field_line (paragraph, "Files"),
                     mbd_file_entry_get_name (dsc), mbd_file_entry_get_name (entry));
          return NULL;
        }
      dsc = entry;
    }

  MbdChanges *self = g_object_new (MBD_TYPE_CHANGES, NULL);
  self->name = g_strdup (name);
  self->control = g_object_ref (control);
  self->paragraph = paragraph;
  self->source = g_steal_pointer (&source);
  self->source_version = g_steal_pointer (&source_version);
  self->files = g_steal_pointer (&files);
  self->dsc = dsc;
  return self;
}

/**
 * mbd_changes_new_from_file:
 * @path: the path of a `.changes` file
 * @error: return location for a #GError
 *
 * Reads and checks a `.changes` file; see [class@Mbd.Changes] for what is checked. Error messages
 * name @path.
 *
 * Returns: (transfer full): the upload control data, or %NULL with @error set: a %G_IO_ERROR if
 *   the file cannot be read, %MBD_ERROR_PARSE for malformed data (naming the field and line),
 *   %MBD_ERROR_DUPLICATE_FIELD, %MBD_ERROR_MISSING_FIELD, %MBD_ERROR_INVALID_VERSION,
 *   %MBD_ERROR_UNSAFE_FILENAME or %MBD_ERROR_UNSUPPORTED (a `Format` other than 1.x)
 */
MbdChanges *
mbd_changes_new_from_file (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (MbdControl) control = mbd_control_new_from_file (path, error);
  if (control == NULL)
    return NULL;
  return changes_new_from_control (control, path, error);
}

/**
 * mbd_changes_new_from_bytes:
 * @data: the contents of a `.changes` file
 * @name: the name of the data (a file name or URL), used in error messages
 * @error: return location for a #GError
 *
 * Reads and checks `.changes` data held in memory; see [class@Mbd.Changes] for what is checked.
 *
 * Returns: (transfer full): the upload control data, or %NULL with @error set as for
 *   [ctor@Mbd.Changes.new_from_file]
 */
MbdChanges *
mbd_changes_new_from_bytes (GBytes *data, const char *name, GError **error)
{
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (MbdControl) control = mbd_control_new_from_bytes (data, name, error);
  if (control == NULL)
    return NULL;
  return changes_new_from_control (control, name, error);
}

/**
 * mbd_changes_get_name:
 * @self: a #MbdChanges
 *
 * Gets the name the `.changes` was read under: the path given to
 * [ctor@Mbd.Changes.new_from_file] or the name given to [ctor@Mbd.Changes.new_from_bytes].
 *
 * Returns: (transfer none): the name
 */
const char *
mbd_changes_get_name (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return self->name;
}

/**
 * mbd_changes_get_control:
 * @self: a #MbdChanges
 *
 * Gets the parsed control data of the `.changes`.
 *
 * Returns: (transfer none): the control data
 */
MbdControl *
mbd_changes_get_control (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return self->control;
}

/**
 * mbd_changes_get_paragraph:
 * @self: a #MbdChanges
 *
 * Gets the one paragraph of the `.changes`, to read fields that have no getter of their own.
 *
 * Returns: (transfer none): the paragraph
 */
MbdParagraph *
mbd_changes_get_paragraph (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return self->paragraph;
}

/**
 * mbd_changes_is_signed:
 * @self: a #MbdChanges
 *
 * Tells whether the `.changes` was OpenPGP clear-signed. The signature is not verified here.
 *
 * Returns: %TRUE if the data was clear-signed
 */
gboolean
mbd_changes_is_signed (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), FALSE);
  return mbd_control_is_signed (self->control);
}

/**
 * mbd_changes_get_format:
 * @self: a #MbdChanges
 *
 * Gets the `.changes` format version, such as `1.8`.
 *
 * Returns: (transfer none): the value of the `Format` field
 */
const char *
mbd_changes_get_format (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Format");
}

/**
 * mbd_changes_get_date:
 * @self: a #MbdChanges
 *
 * Gets the date of the upload as written (RFC 2822 format).
 *
 * Returns: (transfer none): the value of the `Date` field
 */
const char *
mbd_changes_get_date (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Date");
}

/**
 * mbd_changes_get_source:
 * @self: a #MbdChanges
 *
 * Gets the source package name, without the source version a binary-only upload may add in
 * parentheses; see [method@Mbd.Changes.get_source_version].
 *
 * Returns: (transfer none): the source package name
 */
const char *
mbd_changes_get_source (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return self->source;
}

/**
 * mbd_changes_get_source_version:
 * @self: a #MbdChanges
 *
 * Gets the source version given in parentheses after the source name (`Source: foo (1.0-1)`),
 * which binary-only uploads such as binNMUs carry when it differs from `Version`.
 *
 * Returns: (transfer none) (nullable): the source version, or %NULL if the `Source` field has
 *   none (then it is the same as [method@Mbd.Changes.get_version])
 */
const char *
mbd_changes_get_source_version (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return self->source_version;
}

/**
 * mbd_changes_get_version:
 * @self: a #MbdChanges
 *
 * Gets the version of the upload; it is a valid Debian version.
 *
 * Returns: (transfer none): the value of the `Version` field
 */
const char *
mbd_changes_get_version (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Version");
}

/**
 * mbd_changes_get_distribution:
 * @self: a #MbdChanges
 *
 * Gets the target distribution of the upload, such as `bookworm-test-unstable`.
 *
 * Returns: (transfer none): the value of the `Distribution` field
 */
const char *
mbd_changes_get_distribution (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Distribution");
}

/**
 * mbd_changes_get_urgency:
 * @self: a #MbdChanges
 *
 * Gets the urgency of the upload, such as `medium`.
 *
 * Returns: (transfer none) (nullable): the value of the `Urgency` field, or %NULL if missing
 */
const char *
mbd_changes_get_urgency (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Urgency");
}

/**
 * mbd_changes_get_maintainer:
 * @self: a #MbdChanges
 *
 * Gets the maintainer of the package, as `Name <address>`.
 *
 * Returns: (transfer none): the value of the `Maintainer` field
 */
const char *
mbd_changes_get_maintainer (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Maintainer");
}

/**
 * mbd_changes_get_changed_by:
 * @self: a #MbdChanges
 *
 * Gets who prepared this version, as `Name <address>`.
 *
 * Returns: (transfer none) (nullable): the value of the `Changed-By` field, or %NULL if missing
 */
const char *
mbd_changes_get_changed_by (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Changed-By");
}

/**
 * mbd_changes_get_architectures:
 * @self: a #MbdChanges
 *
 * Gets the architectures of the upload from the space-separated `Architecture` field; `source`
 * stands for a source upload.
 *
 * Returns: (transfer full) (array zero-terminated=1): the architectures
 */
char **
mbd_changes_get_architectures (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);

  g_autofree char *folded = mbd_paragraph_get_folded (self->paragraph, "Architecture");
  return mbd_pkgfile_split_words (folded, " \t\n");
}

/**
 * mbd_changes_has_architecture:
 * @self: a #MbdChanges
 * @architecture: an architecture name, or `source`
 *
 * Tells whether the `Architecture` field lists @architecture.
 *
 * Returns: %TRUE if @architecture is listed
 */
gboolean
mbd_changes_has_architecture (MbdChanges *self, const char *architecture)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), FALSE);
  g_return_val_if_fail (architecture != NULL, FALSE);

  g_auto (GStrv) architectures = mbd_changes_get_architectures (self);
  return g_strv_contains ((const char *const *) architectures, architecture);
}

/**
 * mbd_changes_get_binaries:
 * @self: a #MbdChanges
 *
 * Gets the names of the binary packages in the upload, from the space-separated `Binary` field.
 *
 * Returns: (transfer full) (array zero-terminated=1): the binary package names; empty for a
 *   source-only upload without the field
 */
char **
mbd_changes_get_binaries (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);

  g_autofree char *folded = mbd_paragraph_get_folded (self->paragraph, "Binary");
  return mbd_pkgfile_split_words (folded, " \t\n");
}

/**
 * mbd_changes_get_files:
 * @self: a #MbdChanges
 *
 * Gets the files of the upload, in the order of the `Files` field, each with its size, section,
 * priority and MD5, SHA1 (if listed) and SHA256 checksums.
 *
 * Returns: (transfer container) (element-type Mbd.FileEntry): a new array of copies of the
 *   entries; it frees them with itself
 */
GPtrArray *
mbd_changes_get_files (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return mbd_pkgfile_copy_entries (self->files);
}

/**
 * mbd_changes_get_file:
 * @self: a #MbdChanges
 * @name: a file name
 *
 * Looks up the entry of one listed file.
 *
 * Returns: (transfer none) (nullable): the entry named @name, or %NULL if the `.changes` does not
 *   list it
 */
const MbdFileEntry *
mbd_changes_get_file (MbdChanges *self, const char *name)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return mbd_pkgfile_find_entry (self->files, name);
}

/**
 * mbd_changes_get_dsc_file:
 * @self: a #MbdChanges
 *
 * Gets the entry of the `.dsc` in the upload; a `.changes` lists at most one.
 *
 * Returns: (transfer none) (nullable): the `.dsc` entry, or %NULL for a binary-only upload
 */
const MbdFileEntry *
mbd_changes_get_dsc_file (MbdChanges *self)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), NULL);
  return self->dsc;
}

/**
 * mbd_changes_verify_files:
 * @self: a #MbdChanges
 * @dir: the directory that should hold the listed files
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Verifies every listed file in @dir with [method@Mbd.FileEntry.verify], in the order of the
 * `Files` field. The first failure is returned, its message prefixed with the name of the
 * `.changes`.
 *
 * Returns: %TRUE if all files are present and match; otherwise %FALSE with @error set as
 *   [method@Mbd.FileEntry.verify] sets it
 */
gboolean
mbd_changes_verify_files (MbdChanges *self,
                          const char *dir,
                          GCancellable *cancellable,
                          GError **error)
{
  g_return_val_if_fail (MBD_IS_CHANGES (self), FALSE);
  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return mbd_pkgfile_verify_entries (self->files, dir, self->name, cancellable, error);
}
