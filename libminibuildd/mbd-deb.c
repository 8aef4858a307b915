/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbd-deb-private.h"
#include "mbd-file-entry-private.h"
#include "mbd-util-private.h"

/* Bytes pulled from the outer ar member per read callback of an inner tar reader. */
#define MEMBER_BUFFER_SIZE (64 * 1024)

/* debian-binary is "2.0\n"; anything much longer is not a Debian package. */
#define MAX_DEBIAN_BINARY_SIZE 64

/**
 * MbdDeb:
 *
 * A Debian binary package (`.deb`), read with libarchive.
 *
 * [ctor@Mbd.Deb.new_from_file] reads the outer `ar` archive member by member: `debian-binary`
 * (format 2.x), `control.tar` (uncompressed, `.gz`, `.xz` or `.zst`) and `data.tar` (uncompressed,
 * `.gz`, `.xz`, `.zst` or `.bz2`); members whose name starts with `_` are skipped. The control
 * archive's `control` file is parsed (exactly one paragraph with `Package`, `Version` and
 * `Architecture`), and the data archive is listed while it streams through, never held in memory
 * as a whole. Reading stops after the data archive; members after it are not looked at, as with
 * dpkg.
 */
struct _MbdDeb
{
  GObject parent_instance;

  char *path;
  MbdControl *control;
  MbdParagraph *paragraph; /* (unowned) owned by control */
  char *source;
  const char *control_compression; /* (unowned) static string */
  const char *data_compression;    /* (unowned) static string */
  char **control_members;
  char **files;
};

G_DEFINE_FINAL_TYPE (MbdDeb, mbd_deb, G_TYPE_OBJECT)

typedef struct archive MbdArchive;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MbdArchive, archive_read_free)

static void
mbd_deb_finalize (GObject *object)
{
  MbdDeb *self = MBD_DEB (object);

  g_free (self->path);
  g_free (self->source);
  g_clear_object (&self->control);
  g_strfreev (self->control_members);
  g_strfreev (self->files);
  G_OBJECT_CLASS (mbd_deb_parent_class)->finalize (object);
}

static void
mbd_deb_class_init (MbdDebClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_deb_finalize;
}

static void
mbd_deb_init (MbdDeb *self)
{
}

typedef enum
{
  COMPRESSION_NONE,
  COMPRESSION_GZIP,
  COMPRESSION_XZ,
  COMPRESSION_ZSTD,
  COMPRESSION_BZIP2,
} Compression;

static const struct
{
  const char *suffix;
  const char *label;
  gboolean control_allowed;
} compressions[] = {
  [COMPRESSION_NONE] = { "", "none", TRUE },        [COMPRESSION_GZIP] = { ".gz", "gzip", TRUE },
  [COMPRESSION_XZ] = { ".xz", "xz", TRUE },         [COMPRESSION_ZSTD] = { ".zst", "zstd", TRUE },
  [COMPRESSION_BZIP2] = { ".bz2", "bzip2", FALSE },
};

/* State of one pass over the outer archive. */
typedef struct
{
  const char *path;
  struct archive *outer;
  GCancellable *cancellable;
  const char *member;    /* name of the current ar member */
  gint64 size;           /* of the whole file, or -1 if unknown */
  gboolean control_only; /* data.tar: check its header and length, do not list it */
  GError *callback_error;
  guchar buffer[MEMBER_BUFFER_SIZE];
} DebReader;

static void
deb_reader_clear (DebReader *reader)
{
  g_clear_error (&reader->callback_error);
}

/* Read callback of an inner (tar) reader: pulls the next bytes of the current ar member. */
static la_ssize_t
member_read_cb (struct archive *inner, void *user_data, const void **out_buffer)
{
  DebReader *reader = user_data;

  if (g_cancellable_set_error_if_cancelled (reader->cancellable, &reader->callback_error))
    {
      archive_set_error (inner, ECANCELED, "Operation was cancelled");
      return -1;
    }

  la_ssize_t n = archive_read_data (reader->outer, reader->buffer, sizeof reader->buffer);
  if (n < 0)
    {
      archive_set_error (inner, archive_errno (reader->outer), "%s",
                         archive_error_string (reader->outer));
      return -1;
    }
  *out_buffer = reader->buffer;
  return n;
}

/* Sets @error from a failed libarchive call: the callback's own error (cancellation) if there is
 * one, else MBD_ERROR_PARSE naming the package, the member and libarchive's message. */
static gboolean
throw_archive (DebReader *reader, struct archive *a, const char *what, GError **error)
{
  if (reader->callback_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&reader->callback_error));
      return FALSE;
    }
  const char *message = archive_error_string (a);
  if (reader->member != NULL)
    return mbd_throw (error, MBD_ERROR_PARSE, "%s: member “%s”: %s: %s", reader->path,
                      reader->member, what, message != NULL ? message : "unknown error");
  return mbd_throw (error, MBD_ERROR_PARSE, "%s: %s: %s", reader->path, what,
                    message != NULL ? message : "unknown error");
}

/* Reads the rest of the current ar member, so a member cut short is noticed. */
static gboolean
drain_member (DebReader *reader, GError **error)
{
  for (;;)
    {
      if (g_cancellable_set_error_if_cancelled (reader->cancellable, error))
        return FALSE;
      la_ssize_t n = archive_read_data (reader->outer, reader->buffer, sizeof reader->buffer);
      if (n == 0)
        return TRUE;
      if (n < 0)
        return throw_archive (reader, reader->outer, "cannot read", error);
    }
}

/* Which compression the member @name (with @prefix, "control.tar" or "data.tar") uses. */
static gboolean
member_compression (DebReader *reader,
                    const char *name,
                    const char *prefix,
                    gboolean is_control,
                    Compression *out_compression,
                    GError **error)
{
  const char *suffix = name + strlen (prefix);

  for (guint c = 0; c < G_N_ELEMENTS (compressions); c++)
    {
      if (strcmp (suffix, compressions[c].suffix) != 0)
        continue;
      if (is_control && !compressions[c].control_allowed)
        break;
      *out_compression = c;
      return TRUE;
    }
  g_autofree char *quoted = mbd_pkgfile_quote_for_message (name);
  return mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                    "%s: member “%s” uses a compression that is not supported (%s)", reader->path,
                    quoted,
                    is_control ? "control.tar may be uncompressed, .gz, .xz or .zst"
                               : "data.tar may be uncompressed, .gz, .xz, .zst or .bz2");
}

/* A tar reader over the current ar member, decompressing with @compression only. */
static struct archive *
open_member_tar (DebReader *reader, Compression compression, GError **error)
{
  g_autoptr (MbdArchive) inner = archive_read_new ();
  int r = ARCHIVE_OK;

  archive_read_support_format_tar (inner);
  switch (compression)
    {
    case COMPRESSION_NONE:
      break;
    case COMPRESSION_GZIP:
      r = archive_read_support_filter_gzip (inner);
      break;
    case COMPRESSION_XZ:
      r = archive_read_support_filter_xz (inner);
      break;
    case COMPRESSION_ZSTD:
      r = archive_read_support_filter_zstd (inner);
      break;
    case COMPRESSION_BZIP2:
      r = archive_read_support_filter_bzip2 (inner);
      break;
    default:
      g_assert_not_reached ();
    }
  /* ARCHIVE_WARN means libarchive falls back to an external program, which still works. */
  if (r < ARCHIVE_WARN)
    {
      mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                 "%s: member “%s”: this libarchive cannot read %s: %s", reader->path,
                 reader->member, compressions[compression].label, archive_error_string (inner));
      return NULL;
    }
  if (archive_read_open (inner, reader, NULL, member_read_cb, NULL) != ARCHIVE_OK)
    {
      throw_archive (reader, inner, "cannot open the tar archive", error);
      return NULL;
    }
  return g_steal_pointer (&inner);
}

/* Reads the next tar header; returns 1 for an entry, 0 at the end, -1 with @error set. */
static int
next_tar_entry (DebReader *reader,
                struct archive *inner,
                struct archive_entry **out_entry,
                GError **error)
{
  if (g_cancellable_set_error_if_cancelled (reader->cancellable, error))
    return -1;

  int r = archive_read_next_header (inner, out_entry);
  if (r == ARCHIVE_EOF)
    return 0;
  if (r < ARCHIVE_WARN)
    {
      throw_archive (reader, inner, "cannot read the tar archive", error);
      return -1;
    }
  if (archive_entry_pathname (*out_entry) == NULL)
    {
      mbd_throw (error, MBD_ERROR_PARSE, "%s: member “%s”: a tar entry has no usable path name",
                 reader->path, reader->member);
      return -1;
    }
  return 1;
}

/* Normalises a tar path ("./usr/bin/x", "usr/bin/x/", "/usr") to "/usr/bin/x"; NULL for the
 * root entry. MBD_ERROR_PARSE for paths with "..". */
static gboolean
normalise_path (DebReader *reader, const char *tar_path, char **out_path, GError **error)
{
  g_auto (GStrv) components = g_strsplit (tar_path, "/", -1);
  g_autoptr (GString) path = g_string_new (NULL);

  for (guint i = 0; components[i] != NULL; i++)
    {
      const char *component = components[i];

      if (*component == '\0' || strcmp (component, ".") == 0)
        continue;
      if (strcmp (component, "..") == 0)
        {
          g_autofree char *quoted = mbd_pkgfile_quote_for_message (tar_path);
          return mbd_throw (error, MBD_ERROR_PARSE, "%s: member “%s”: path “%s” leaves the root",
                            reader->path, reader->member, quoted);
        }
      g_string_append_c (path, '/');
      g_string_append (path, component);
    }
  *out_path = path->len > 0 ? g_string_free (g_steal_pointer (&path), FALSE) : NULL;
  return TRUE;
}

/* Reads the control tarball: the names of its files and the parsed ./control. */
static gboolean
read_control_tar (DebReader *reader,
                  Compression compression,
                  char ***out_members,
                  MbdControl **out_control,
                  GError **error)
{
  g_autoptr (MbdArchive) inner = open_member_tar (reader, compression, error);
  if (inner == NULL)
    return FALSE;

  g_autoptr (GStrvBuilder) members = g_strv_builder_new ();
  g_autoptr (GByteArray) control_data = NULL;
  struct archive_entry *entry = NULL;
  int r;

  while ((r = next_tar_entry (reader, inner, &entry, error)) > 0)
    {
      g_autofree char *path = NULL;

      if (!normalise_path (reader, archive_entry_pathname (entry), &path, error))
        return FALSE;
      if (path == NULL || archive_entry_filetype (entry) == AE_IFDIR)
        continue;
      const char *name = path + 1;
      g_strv_builder_add (members, name);
      if (strcmp (name, "control") != 0)
        continue;

      if (control_data != NULL)
        return mbd_throw (error, MBD_ERROR_PARSE, "%s: member “%s” has two control files",
                          reader->path, reader->member);
      if (archive_entry_filetype (entry) != AE_IFREG)
        return mbd_throw (error, MBD_ERROR_PARSE, "%s: member “%s”: control is not a regular file",
                          reader->path, reader->member);
      if (archive_entry_size (entry) > MBD_DEB_MAX_CONTROL_SIZE)
        return mbd_throw (error, MBD_ERROR_PARSE,
                          "%s: member “%s”: control file has %" G_GINT64_FORMAT
                          " bytes, more than the %d allowed",
                          reader->path, reader->member, (gint64) archive_entry_size (entry),
                          MBD_DEB_MAX_CONTROL_SIZE);

      control_data = g_byte_array_new ();
      char chunk[8192];
      la_ssize_t n;
      while ((n = archive_read_data (inner, chunk, sizeof chunk)) > 0)
        {
          if (control_data->len + (gsize) n > MBD_DEB_MAX_CONTROL_SIZE)
            return mbd_throw (error, MBD_ERROR_PARSE,
                              "%s: member “%s”: control file is larger than the %d bytes allowed",
                              reader->path, reader->member, MBD_DEB_MAX_CONTROL_SIZE);
          g_byte_array_append (control_data, (const guint8 *) chunk, n);
        }
      if (n < 0)
        return throw_archive (reader, inner, "cannot read control", error);
    }
  if (r < 0)
    return FALSE;
  if (!drain_member (reader, error))
    return FALSE;

  if (control_data == NULL)
    return mbd_throw (error, MBD_ERROR_PARSE, "%s: member “%s” has no control file", reader->path,
                      reader->member);

  g_autofree char *control_name = g_strdup_printf ("%s:control", reader->path);
  g_autoptr (GBytes) bytes = g_byte_array_free_to_bytes (g_steal_pointer (&control_data));
  MbdControl *control = mbd_control_new_from_bytes (bytes, control_name, error);
  if (control == NULL)
    return FALSE;

  *out_members = g_strv_builder_end (members);
  *out_control = control;
  return TRUE;
}

/* Lists the data tarball while it streams through. */
static gboolean
read_data_tar (DebReader *reader, Compression compression, char ***out_files, GError **error)
{
  g_autoptr (MbdArchive) inner = open_member_tar (reader, compression, error);
  if (inner == NULL)
    return FALSE;

  g_autoptr (GStrvBuilder) files = g_strv_builder_new ();
  struct archive_entry *entry = NULL;
  int r;

  while ((r = next_tar_entry (reader, inner, &entry, error)) > 0)
    {
      g_autofree char *path = NULL;

      if (!normalise_path (reader, archive_entry_pathname (entry), &path, error))
        return FALSE;
      if (path != NULL)
        g_strv_builder_add (files, path);
      /* The next archive_read_next_header() skips the entry's data. */
    }
  if (r < 0)
    return FALSE;
  if (!drain_member (reader, error))
    return FALSE;

  *out_files = g_strv_builder_end (files);
  return TRUE;
}

static gboolean
read_debian_binary (DebReader *reader, GError **error)
{
  char data[MAX_DEBIAN_BINARY_SIZE + 1];
  gsize length = 0;

  for (;;)
    {
      la_ssize_t n = archive_read_data (reader->outer, data + length, sizeof data - length);
      if (n < 0)
        return throw_archive (reader, reader->outer, "cannot read", error);
      if (n == 0)
        break;
      length += n;
      if (length == sizeof data)
        return mbd_throw (error, MBD_ERROR_PARSE,
                          "%s: member debian-binary is longer than %d bytes", reader->path,
                          MAX_DEBIAN_BINARY_SIZE);
    }
  data[length] = '\0';

  const char *newline = memchr (data, '\n', length);
  g_autofree char *version = g_strndup (data, newline != NULL ? (gsize) (newline - data) : length);
  g_autofree char *quoted = mbd_pkgfile_quote_for_message (version);

  gboolean well_formed = newline != NULL && g_ascii_isdigit (version[0]);
  const char *p = version;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p == '.')
    p++;
  while (g_ascii_isdigit (*p))
    p++;
  well_formed = well_formed && *p == '\0' && strchr (version, '.') != NULL;

  if (!well_formed)
    return mbd_throw (error, MBD_ERROR_PARSE,
                      "%s: member debian-binary holds “%s”, not a format version such as “2.0”",
                      reader->path, quoted);
  if (!g_str_has_prefix (version, "2."))
    return mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                      "%s: package format version %s is not supported (only 2.x)", reader->path,
                      quoted);
  return TRUE;
}

static gboolean
check_control (MbdDeb *self, GError **error)
{
  const char *const mandatory[] = { "Package", "Version", "Architecture", NULL };
  g_autofree char *name = g_strdup_printf ("%s:control", self->path);

  self->paragraph = mbd_pkgfile_single_paragraph (self->control, name, error);
  if (self->paragraph == NULL)
    return FALSE;
  if (!mbd_pkgfile_require_fields (self->paragraph, name, mandatory, error))
    return FALSE;
  if (!mbd_pkgfile_check_package_field (self->paragraph, name, "Package",
                                        mbd_paragraph_get (self->paragraph, "Package"), error))
    return FALSE;
  if (!mbd_pkgfile_check_version_field (self->paragraph, name, "Version",
                                        mbd_paragraph_get (self->paragraph, "Version"), error))
    return FALSE;

  const char *source = mbd_paragraph_get (self->paragraph, "Source");
  if (source == NULL)
    {
      self->source = g_strdup (mbd_paragraph_get (self->paragraph, "Package"));
      return TRUE;
    }
  /* `Source: name` or `Source: name (version)` */
  self->source = g_strstrip (g_strndup (source, strcspn (source, "(")));
  return mbd_pkgfile_check_package_field (self->paragraph, name, "Source", self->source, error);
}

static gboolean
read_outer (MbdDeb *self, DebReader *reader, int fd, GError **error)
{
  g_autoptr (MbdArchive) outer = archive_read_new ();
  archive_read_support_format_ar (outer);
  if (archive_read_open_fd (outer, fd, MEMBER_BUFFER_SIZE) != ARCHIVE_OK)
    return throw_archive (reader, outer, "not a Debian binary package (ar archive)", error);
  reader->outer = outer;

  gboolean have_control = FALSE;
  gboolean have_data = FALSE;
  guint index = 0;
  g_autofree char *member = NULL;

  while (!have_data)
    {
      struct archive_entry *entry = NULL;

      if (g_cancellable_set_error_if_cancelled (reader->cancellable, error))
        return FALSE;
      reader->member = NULL;
      int r = archive_read_next_header (outer, &entry);
      if (r == ARCHIVE_EOF)
        {
          /* libarchive ends quietly at an incomplete member header; a file cut short there
           * would otherwise read as one with a member missing. */
          gint64 position = archive_filter_bytes (outer, 0);
          if (reader->size >= 0 && position < reader->size)
            return mbd_throw (error, MBD_ERROR_PARSE,
                              "%s: truncated or damaged: the %" G_GINT64_FORMAT
                              " bytes at offset %" G_GINT64_FORMAT
                              " are not a complete ar member header",
                              self->path, reader->size - position, position);
          break;
        }
      if (r < ARCHIVE_WARN)
        return throw_archive (reader, outer,
                              index == 0 ? "not a Debian binary package (ar archive)"
                                         : "cannot read the ar archive",
                              error);

      const char *pathname = archive_entry_pathname (entry);
      g_free (member);
      member = mbd_pkgfile_quote_for_message (pathname != NULL ? pathname : "");
      reader->member = member;

      if (index++ == 0)
        {
          if (strcmp (member, "debian-binary") != 0)
            return mbd_throw (error, MBD_ERROR_PARSE,
                              "%s: not a Debian binary package: the first member is “%s”, not "
                              "“debian-binary”",
                              self->path, member);
          if (!read_debian_binary (reader, error))
            return FALSE;
        }
      else if (g_str_has_prefix (member, "control.tar"))
        {
          Compression compression;

          if (have_control)
            return mbd_throw (error, MBD_ERROR_PARSE, "%s: a second control member “%s”",
                              self->path, member);
          if (!member_compression (reader, member, "control.tar", TRUE, &compression, error))
            return FALSE;
          self->control_compression = compressions[compression].label;
          if (!read_control_tar (reader, compression, &self->control_members, &self->control,
                                 error))
            return FALSE;
          have_control = TRUE;
        }
      else if (g_str_has_prefix (member, "data.tar"))
        {
          Compression compression;

          if (!have_control)
            return mbd_throw (error, MBD_ERROR_PARSE,
                              "%s: there is no control.tar member before “%s”", self->path, member);
          if (!member_compression (reader, member, "data.tar", FALSE, &compression, error))
            return FALSE;
          self->data_compression = compressions[compression].label;
          if (reader->control_only)
            {
              gint64 end = archive_filter_bytes (outer, 0) + archive_entry_size (entry);
              if (reader->size >= 0 && end > reader->size)
                return mbd_throw (error, MBD_ERROR_PARSE,
                                  "%s: truncated: member “%s” ends at byte %" G_GINT64_FORMAT
                                  " of a %" G_GINT64_FORMAT "-byte file",
                                  self->path, member, end, reader->size);
              self->files = g_new0 (char *, 1);
            }
          else if (!read_data_tar (reader, compression, &self->files, error))
            return FALSE;
          have_data = TRUE;
        }
      else if (member[0] != '_')
        {
          return mbd_throw (error, MBD_ERROR_PARSE, "%s: unexpected member “%s”", self->path,
                            member);
        }
      /* Members starting with "_" are reserved for extensions and skipped. */
    }
  reader->member = NULL;

  if (index == 0)
    return mbd_throw (error, MBD_ERROR_PARSE,
                      "%s: not a Debian binary package: the archive is empty", self->path);
  if (!have_control)
    return mbd_throw (error, MBD_ERROR_PARSE, "%s: there is no control.tar member", self->path);
  if (!have_data)
    return mbd_throw (error, MBD_ERROR_PARSE, "%s: there is no data.tar member", self->path);
  return check_control (self, error);
}

static MbdDeb *
read_deb (const char *path, gboolean control_only, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  int fd;
  do
    fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "Cannot open “%s”: %s",
                   path, g_strerror (saved_errno));
      return NULL;
    }

  g_autoptr (MbdDeb) self = g_object_new (MBD_TYPE_DEB, NULL);
  self->path = g_strdup (path);

  DebReader *reader = g_new0 (DebReader, 1);
  reader->path = path;
  reader->cancellable = cancellable;
  reader->control_only = control_only;
  struct stat st;
  reader->size = fstat (fd, &st) == 0 && S_ISREG (st.st_mode) ? st.st_size : -1;
  gboolean ok = read_outer (self, reader, fd, error);
  deb_reader_clear (reader);
  g_free (reader);
  close (fd);

  if (!ok)
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mbd_deb_new_from_file:
 * @path: the path of a `.deb` file
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads a Debian binary package: its control data and the list of its files. See
 * [class@Mbd.Deb] for what is accepted. The file is read once, front to back.
 *
 * Returns: (transfer full): the package, or %NULL with @error set: a %G_IO_ERROR if the file
 *   cannot be opened; %MBD_ERROR_PARSE (naming @path and the member) if it is not an `ar`
 *   archive, is cut short, lacks a member, has a broken tar archive or a path with `..`;
 *   %MBD_ERROR_UNSUPPORTED for a format other than 2.x or an unknown compression; and the errors
 *   of control parsing (%MBD_ERROR_PARSE, %MBD_ERROR_MISSING_FIELD, %MBD_ERROR_INVALID_VERSION)
 */
MbdDeb *
mbd_deb_new_from_file (const char *path, GCancellable *cancellable, GError **error)
{
  return read_deb (path, FALSE, cancellable, error);
}

MbdDeb *
mbd_deb_new_from_file_control_only (const char *path, GCancellable *cancellable, GError **error)
{
  return read_deb (path, TRUE, cancellable, error);
}

/**
 * mbd_deb_get_path:
 * @self: a #MbdDeb
 *
 * Gets the path the package was read from.
 *
 * Returns: (transfer none): the path
 */
const char *
mbd_deb_get_path (MbdDeb *self)
{
  g_return_val_if_fail (MBD_IS_DEB (self), NULL);
  return self->path;
}

/**
 * mbd_deb_get_control:
 * @self: a #MbdDeb
 *
 * Gets the package's control paragraph (the `control` file of its control archive).
 *
 * Returns: (transfer none): the control paragraph
 */
MbdParagraph *
mbd_deb_get_control (MbdDeb *self)
{
  g_return_val_if_fail (MBD_IS_DEB (self), NULL);
  return self->paragraph;
}

/**
 * mbd_deb_get_package:
 * @self: a #MbdDeb
 *
 * Gets the binary package name; it is a valid Debian package name.
 *
 * Returns: (transfer none): the value of the `Package` field
 */
const char *
mbd_deb_get_package (MbdDeb *self)
{
  g_return_val_if_fail (MBD_IS_DEB (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Package");
}

/**
 * mbd_deb_get_version:
 * @self: a #MbdDeb
 *
 * Gets the package version; it is a valid Debian version.
 *
 * Returns: (transfer none): the value of the `Version` field
 */
const char *
mbd_deb_get_version (MbdDeb *self)
{
  g_return_val_if_fail (MBD_IS_DEB (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Version");
}

/**
 * mbd_deb_get_architecture:
 * @self: a #MbdDeb
 *
 * Gets the architecture of the package, such as `amd64` or `all`.
 *
 * Returns: (transfer none): the value of the `Architecture` field
 */
const char *
mbd_deb_get_architecture (MbdDeb *self)
{
  g_return_val_if_fail (MBD_IS_DEB (self), NULL);
  return mbd_paragraph_get (self->paragraph, "Architecture");
}

/**
 * mbd_deb_get_source:
 * @self: a #MbdDeb
 *
 * Gets the name of the source package this package was built from: the `Source` field without
 * a version in parentheses, or the package name if there is no `Source` field.
 *
 * Returns: (transfer none): the source package name
 */
const char *
mbd_deb_get_source (MbdDeb *self)
{
  g_return_val_if_fail (MBD_IS_DEB (self), NULL);
  return self->source;
}

/**
 * mbd_deb_get_control_compression:
 * @self: a #MbdDeb
 *
 * Gets the compression of the control archive: `none`, `gzip`, `xz` or `zstd`.
 *
 * Returns: (transfer none): the compression name
 */
const char *
mbd_deb_get_control_compression (MbdDeb *self)
{
  g_return_val_if_fail (MBD_IS_DEB (self), NULL);
  return self->control_compression;
}

/**
 * mbd_deb_get_data_compression:
 * @self: a #MbdDeb
 *
 * Gets the compression of the data archive: `none`, `gzip`, `xz`, `zstd` or `bzip2`.
 *
 * Returns: (transfer none): the compression name
 */
const char *
mbd_deb_get_data_compression (MbdDeb *self)
{
  g_return_val_if_fail (MBD_IS_DEB (self), NULL);
  return self->data_compression;
}

/**
 * mbd_deb_get_control_members:
 * @self: a #MbdDeb
 *
 * Gets the names of the files in the control archive, such as `control`, `md5sums` and
 * `postinst`, in archive order, without the leading `./` and without directories.
 *
 * Returns: (transfer full) (array zero-terminated=1): the member names
 */
char **
mbd_deb_get_control_members (MbdDeb *self)
{
  g_return_val_if_fail (MBD_IS_DEB (self), NULL);
  return g_strdupv (self->control_members);
}

/**
 * mbd_deb_get_files:
 * @self: a #MbdDeb
 *
 * Gets the paths of everything the package installs (directories, files, links), in archive
 * order, as absolute paths without a trailing slash: the tar entry `./usr/bin/x` is `/usr/bin/x`,
 * `./usr/` is `/usr`; the root entry `./` is left out. This is the list `dpkg -L` shows, without
 * its `/.`.
 *
 * Returns: (transfer full) (array zero-terminated=1): the paths
 */
char **
mbd_deb_get_files (MbdDeb *self)
{
  g_return_val_if_fail (MBD_IS_DEB (self), NULL);
  return g_strdupv (self->files);
}
