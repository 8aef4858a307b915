/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbd-file-entry.h"
#include "mbd-file-entry-private.h"
#include "mbd-util-private.h"

/* How much of a file is read at a time while hashing it. */
#define READ_CHUNK_SIZE (256 * 1024)

/* File names longer than this are cut short (and marked) when quoted in a message. */
#define MESSAGE_NAME_LENGTH 80

struct _MbdFileEntry
{
  char *name;
  guint64 size;
  char *md5;
  char *sha1;
  char *sha256;
  char *section;
  char *priority;
};

G_DEFINE_BOXED_TYPE (MbdFileEntry, mbd_file_entry, mbd_file_entry_copy, mbd_file_entry_free)

/* The checksums a file entry can carry, strongest first: that is the order in which they are
 * compared, so a mismatch is reported for the strongest listed algorithm. */
typedef enum
{
  CHECKSUM_SHA256,
  CHECKSUM_SHA1,
  CHECKSUM_MD5,
  N_CHECKSUMS,
} ChecksumKind;

static const struct
{
  const char *label;
  GChecksumType type;
  gsize hex_length;
} checksum_info[N_CHECKSUMS] = {
  [CHECKSUM_SHA256] = { "SHA256", G_CHECKSUM_SHA256, 64 },
  [CHECKSUM_SHA1] = { "SHA1", G_CHECKSUM_SHA1, 40 },
  [CHECKSUM_MD5] = { "MD5", G_CHECKSUM_MD5, 32 },
};

static char **
entry_checksum_slot (MbdFileEntry *self, ChecksumKind kind)
{
  switch (kind)
    {
    case CHECKSUM_SHA256:
      return &self->sha256;
    case CHECKSUM_SHA1:
      return &self->sha1;
    case CHECKSUM_MD5:
      return &self->md5;
    case N_CHECKSUMS:
    default:
      g_assert_not_reached ();
    }
}

char *
mbd_pkgfile_quote_for_message (const char *text)
{
  gsize length = strlen (text);

  if (length <= MESSAGE_NAME_LENGTH)
    return g_strescape (text, NULL);

  g_autofree char *head = g_strndup (text, MESSAGE_NAME_LENGTH);
  g_autofree char *escaped = g_strescape (head, NULL);
  return g_strdup_printf ("%s…", escaped);
}

static gboolean
checksum_is_hex (const char *hex, gsize expected_length)
{
  gsize i;

  for (i = 0; hex[i] != '\0'; i++)
    {
      if (!g_ascii_isxdigit (hex[i]))
        return FALSE;
    }
  return i == expected_length;
}

/**
 * mbd_filename_is_safe:
 * @name: a file name, as listed in a `.dsc` or `.changes`
 * @error: return location for a #GError
 *
 * Checks that @name can be used as a file name inside an upload or pool directory without
 * escaping it or surprising a tool it is passed to.
 *
 * A safe name is 1 to %MBD_FILENAME_MAX_LENGTH bytes from `A-Z a-z 0-9 . + ~ _ -`, does not
 * start with `.` or `-`, and therefore has no directory part (`/` or `\`), is not `.` or `..`,
 * and contains no white space, control characters or colon.
 *
 * Returns: %TRUE if @name is safe; otherwise %FALSE with @error set to
 *   %MBD_ERROR_UNSAFE_FILENAME, naming @name and the reason
 */
gboolean
mbd_filename_is_safe (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  const char *reason = NULL;
  g_autofree char *reason_owned = NULL;
  gsize length = strlen (name);

  if (length == 0)
    reason = "it is empty";
  else if (length > MBD_FILENAME_MAX_LENGTH)
    reason = reason_owned = g_strdup_printf ("it is %" G_GSIZE_FORMAT " bytes long, more than %d",
                                             length, MBD_FILENAME_MAX_LENGTH);
  else if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    reason = "it refers to a directory";
  else if (strpbrk (name, "/\\") != NULL)
    reason = "it has a directory part";
  else if (name[0] == '.')
    reason = "it starts with “.”";
  else if (name[0] == '-')
    reason = "it starts with “-”";
  else
    {
      for (const char *p = name; *p != '\0'; p++)
        {
          guchar c = (guchar) *p;

          if (g_ascii_isalnum (c) || strchr (".+~_-", c) != NULL)
            continue;
          if (g_ascii_isspace (c))
            reason = reason_owned
                = g_strdup_printf ("it contains white space (0x%02x)", (unsigned) c);
          else if (g_ascii_iscntrl (c))
            reason = reason_owned
                = g_strdup_printf ("it contains the control character 0x%02x", (unsigned) c);
          else if (c < 0x80)
            reason = reason_owned
                = g_strdup_printf ("it contains “%c”; only A-Z a-z 0-9 . + ~ _ - are allowed", c);
          else
            reason = reason_owned = g_strdup_printf (
                "it contains the non-ASCII byte 0x%02x; only A-Z a-z 0-9 . + ~ _ - are allowed",
                (unsigned) c);
          break;
        }
    }

  if (reason == NULL)
    return TRUE;

  g_autofree char *quoted = mbd_pkgfile_quote_for_message (name);
  return mbd_throw (error, MBD_ERROR_UNSAFE_FILENAME, "Unsafe file name “%s”: %s", quoted, reason);
}

static gboolean
set_checksum (MbdFileEntry *self, ChecksumKind kind, const char *hex, GError **error)
{
  if (hex == NULL)
    return TRUE;
  if (!checksum_is_hex (hex, checksum_info[kind].hex_length))
    {
      g_autofree char *quoted = mbd_pkgfile_quote_for_message (hex);
      return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                        "%s checksum “%s” of “%s” is not %" G_GSIZE_FORMAT " hexadecimal digits",
                        checksum_info[kind].label, quoted, self->name,
                        checksum_info[kind].hex_length);
    }
  char **slot = entry_checksum_slot (self, kind);
  g_free (*slot);
  *slot = g_ascii_strdown (hex, -1);
  return TRUE;
}

/**
 * mbd_file_entry_new:
 * @name: the file name, without any directory part
 * @size: the size in bytes
 * @md5: (nullable): the MD5 checksum in hexadecimal, or %NULL
 * @sha1: (nullable): the SHA1 checksum in hexadecimal, or %NULL
 * @sha256: (nullable): the SHA256 checksum in hexadecimal, or %NULL
 * @error: return location for a #GError
 *
 * Creates a file entry as a `.dsc` or `.changes` lists it.
 *
 * @name must pass [func@Mbd.filename_is_safe]. The checksums may be given in upper or lower
 * case; they are stored in lower case.
 *
 * Returns: (transfer full): the new entry, or %NULL with %MBD_ERROR_UNSAFE_FILENAME for an unsafe
 *   name or %MBD_ERROR_INVALID_ARGUMENT for a checksum of the wrong length or with non-hexadecimal
 *   digits
 */
MbdFileEntry *
mbd_file_entry_new (const char *name,
                    guint64 size,
                    const char *md5,
                    const char *sha1,
                    const char *sha256,
                    GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!mbd_filename_is_safe (name, error))
    return NULL;

  g_autoptr (MbdFileEntry) self = g_new0 (MbdFileEntry, 1);
  self->name = g_strdup (name);
  self->size = size;
  if (!set_checksum (self, CHECKSUM_MD5, md5, error)
      || !set_checksum (self, CHECKSUM_SHA1, sha1, error)
      || !set_checksum (self, CHECKSUM_SHA256, sha256, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* Opens dir/name for reading without following a symbolic link, and makes sure it is a regular
 * file. Returns the descriptor or -1 with @error set. */
static int
open_listed_file (const char *dir, const char *name, struct stat *out_stat, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd;

  do
    fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  while (fd < 0 && errno == EINTR);

  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOENT)
        {
          mbd_throw (error, MBD_ERROR_MISSING_FILE, "File “%s” is missing from “%s”", name, dir);
          return -1;
        }
      if (saved_errno == ELOOP)
        {
          mbd_throw (error, MBD_ERROR_MISSING_FILE,
                     "File “%s” in “%s” is a symbolic link, not a regular file", name, dir);
          return -1;
        }
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "Cannot open “%s”: %s",
                   path, g_strerror (saved_errno));
      return -1;
    }

  if (fstat (fd, out_stat) != 0)
    {
      int saved_errno = errno;
      close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "Cannot stat “%s”: %s",
                   path, g_strerror (saved_errno));
      return -1;
    }
  if (!S_ISREG (out_stat->st_mode))
    {
      close (fd);
      mbd_throw (error, MBD_ERROR_MISSING_FILE, "File “%s” in “%s” is %s, not a regular file", name,
                 dir, S_ISDIR (out_stat->st_mode) ? "a directory" : "a special file");
      return -1;
    }
  return fd;
}

/* Reads @fd to its end once, feeding every checksum whose @want flag is set. The hex digests go
 * to @out_hex (g_free them), the number of bytes read to @out_size. */
static gboolean
hash_fd (int fd,
         const char *path,
         const gboolean want[N_CHECKSUMS],
         char *out_hex[N_CHECKSUMS],
         guint64 *out_size,
         GCancellable *cancellable,
         GError **error)
{
  GChecksum *sums[N_CHECKSUMS] = { NULL };
  g_autofree guchar *buffer = g_malloc (READ_CHUNK_SIZE);
  guint64 total = 0;
  gboolean ok = FALSE;

  for (int k = 0; k < N_CHECKSUMS; k++)
    sums[k] = want[k] ? g_checksum_new (checksum_info[k].type) : NULL;

  for (;;)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out;

      ssize_t n = read (fd, buffer, READ_CHUNK_SIZE);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot read “%s”: %s", path, g_strerror (saved_errno));
          goto out;
        }
      if (n == 0)
        break;
      total += (guint64) n;
      for (int k = 0; k < N_CHECKSUMS; k++)
        {
          if (sums[k] != NULL)
            g_checksum_update (sums[k], buffer, n);
        }
    }

  for (int k = 0; k < N_CHECKSUMS; k++)
    out_hex[k] = sums[k] != NULL ? g_strdup (g_checksum_get_string (sums[k])) : NULL;
  *out_size = total;
  ok = TRUE;

out:
  for (int k = 0; k < N_CHECKSUMS; k++)
    g_clear_pointer (&sums[k], g_checksum_free);
  return ok;
}

/**
 * mbd_file_entry_new_from_file:
 * @dir: the directory that holds the file
 * @name: the file name, without any directory part
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Creates a file entry describing the regular file @dir/@name as it is now: its size and its
 * MD5, SHA1 and SHA256 checksums, computed in one pass over the file.
 *
 * Returns: (transfer full): the new entry, or %NULL with %MBD_ERROR_UNSAFE_FILENAME for an unsafe
 *   @name, %MBD_ERROR_MISSING_FILE if the file is missing or is not a regular file (a symbolic
 *   link is not followed), or a %G_IO_ERROR if it cannot be read
 */
MbdFileEntry *
mbd_file_entry_new_from_file (const char *dir,
                              const char *name,
                              GCancellable *cancellable,
                              GError **error)
{
  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!mbd_filename_is_safe (name, error))
    return NULL;

  struct stat st;
  int fd = open_listed_file (dir, name, &st, error);
  if (fd < 0)
    return NULL;

  g_autofree char *path = g_build_filename (dir, name, NULL);
  const gboolean want[N_CHECKSUMS] = { TRUE, TRUE, TRUE };
  char *hex[N_CHECKSUMS] = { NULL };
  guint64 size = 0;
  gboolean ok = hash_fd (fd, path, want, hex, &size, cancellable, error);
  close (fd);
  if (!ok)
    return NULL;

  MbdFileEntry *self = g_new0 (MbdFileEntry, 1);
  self->name = g_strdup (name);
  self->size = size;
  self->md5 = hex[CHECKSUM_MD5];
  self->sha1 = hex[CHECKSUM_SHA1];
  self->sha256 = hex[CHECKSUM_SHA256];
  return self;
}

/**
 * mbd_file_entry_copy:
 * @self: a #MbdFileEntry
 *
 * Makes an independent copy of a file entry.
 *
 * Returns: (transfer full): the copy
 */
MbdFileEntry *
mbd_file_entry_copy (const MbdFileEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  MbdFileEntry *copy = g_new0 (MbdFileEntry, 1);
  copy->name = g_strdup (self->name);
  copy->size = self->size;
  copy->md5 = g_strdup (self->md5);
  copy->sha1 = g_strdup (self->sha1);
  copy->sha256 = g_strdup (self->sha256);
  copy->section = g_strdup (self->section);
  copy->priority = g_strdup (self->priority);
  return copy;
}

/**
 * mbd_file_entry_free:
 * @self: (transfer full): a #MbdFileEntry
 *
 * Frees a file entry.
 */
void
mbd_file_entry_free (MbdFileEntry *self)
{
  if (self == NULL)
    return;
  g_free (self->name);
  g_free (self->md5);
  g_free (self->sha1);
  g_free (self->sha256);
  g_free (self->section);
  g_free (self->priority);
  g_free (self);
}

/**
 * mbd_file_entry_get_name:
 * @self: a #MbdFileEntry
 *
 * Gets the file name; it has no directory part and passed [func@Mbd.filename_is_safe].
 *
 * Returns: (transfer none): the file name
 */
const char *
mbd_file_entry_get_name (const MbdFileEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->name;
}

/**
 * mbd_file_entry_get_size:
 * @self: a #MbdFileEntry
 *
 * Gets the size of the file in bytes.
 *
 * Returns: the size in bytes
 */
guint64
mbd_file_entry_get_size (const MbdFileEntry *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->size;
}

/**
 * mbd_file_entry_get_md5:
 * @self: a #MbdFileEntry
 *
 * Gets the MD5 checksum of the file, as listed in the `Files` field.
 *
 * Returns: (transfer none) (nullable): the checksum in lower-case hexadecimal, or %NULL if none
 *   is known
 */
const char *
mbd_file_entry_get_md5 (const MbdFileEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->md5;
}

/**
 * mbd_file_entry_get_sha1:
 * @self: a #MbdFileEntry
 *
 * Gets the SHA1 checksum of the file, as listed in the `Checksums-Sha1` field.
 *
 * Returns: (transfer none) (nullable): the checksum in lower-case hexadecimal, or %NULL if none
 *   is known
 */
const char *
mbd_file_entry_get_sha1 (const MbdFileEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->sha1;
}

/**
 * mbd_file_entry_get_sha256:
 * @self: a #MbdFileEntry
 *
 * Gets the SHA256 checksum of the file, as listed in the `Checksums-Sha256` field.
 *
 * Returns: (transfer none) (nullable): the checksum in lower-case hexadecimal, or %NULL if none
 *   is known
 */
const char *
mbd_file_entry_get_sha256 (const MbdFileEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->sha256;
}

/**
 * mbd_file_entry_get_section:
 * @self: a #MbdFileEntry
 *
 * Gets the section of the file, which only a `.changes` `Files` line gives (for example
 * `devel` or `contrib/net`).
 *
 * Returns: (transfer none) (nullable): the section, or %NULL
 */
const char *
mbd_file_entry_get_section (const MbdFileEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->section;
}

/**
 * mbd_file_entry_get_priority:
 * @self: a #MbdFileEntry
 *
 * Gets the priority of the file, which only a `.changes` `Files` line gives (for example
 * `optional`).
 *
 * Returns: (transfer none) (nullable): the priority, or %NULL
 */
const char *
mbd_file_entry_get_priority (const MbdFileEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->priority;
}

static gboolean
is_token (const char *text)
{
  if (text == NULL)
    return TRUE;
  if (*text == '\0')
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p))
        return FALSE;
    }
  return TRUE;
}

/**
 * mbd_file_entry_set_section:
 * @self: a #MbdFileEntry
 * @section: (nullable): the section, a non-empty word without white space, or %NULL
 *
 * Sets the section written to a `.changes` `Files` line for this file.
 */
void
mbd_file_entry_set_section (MbdFileEntry *self, const char *section)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (is_token (section));

  g_free (self->section);
  self->section = g_strdup (section);
}

/**
 * mbd_file_entry_set_priority:
 * @self: a #MbdFileEntry
 * @priority: (nullable): the priority, a non-empty word without white space, or %NULL
 *
 * Sets the priority written to a `.changes` `Files` line for this file.
 */
void
mbd_file_entry_set_priority (MbdFileEntry *self, const char *priority)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (is_token (priority));

  g_free (self->priority);
  self->priority = g_strdup (priority);
}

/**
 * mbd_file_entry_verify:
 * @self: a #MbdFileEntry
 * @dir: the directory that should hold the file
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Checks that @dir holds the listed file as a regular file with the listed size and every
 * listed checksum. The file is read once, all checksums computed in the same pass; a symbolic
 * link is not followed.
 *
 * Returns: %TRUE if the file matches; otherwise %FALSE with @error set to
 *   %MBD_ERROR_MISSING_FILE (missing, or a symbolic link, directory or special file in its
 *   place), %MBD_ERROR_SIZE_MISMATCH, %MBD_ERROR_CHECKSUM_MISMATCH (naming the algorithm and both
 *   values), %MBD_ERROR_UNSAFE_FILENAME, or a %G_IO_ERROR if the file cannot be read
 */
gboolean
mbd_file_entry_verify (const MbdFileEntry *self,
                       const char *dir,
                       GCancellable *cancellable,
                       GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* The constructors check this already; an entry is never used to reach outside @dir. */
  if (!mbd_filename_is_safe (self->name, error))
    return FALSE;

  struct stat st;
  int fd = open_listed_file (dir, self->name, &st, error);
  if (fd < 0)
    return FALSE;

  if ((guint64) st.st_size != self->size)
    {
      close (fd);
      return mbd_throw (error, MBD_ERROR_SIZE_MISMATCH,
                        "File “%s” has %" G_GUINT64_FORMAT " bytes, but %" G_GUINT64_FORMAT
                        " are listed",
                        self->name, (guint64) st.st_size, self->size);
    }

  g_autofree char *path = g_build_filename (dir, self->name, NULL);
  MbdFileEntry *mutable_self = (MbdFileEntry *) self;
  gboolean want[N_CHECKSUMS];
  char *hex[N_CHECKSUMS] = { NULL };
  guint64 size = 0;

  for (int k = 0; k < N_CHECKSUMS; k++)
    want[k] = *entry_checksum_slot (mutable_self, k) != NULL;
  gboolean ok = hash_fd (fd, path, want, hex, &size, cancellable, error);
  close (fd);
  if (!ok)
    return FALSE;

  if (size != self->size)
    {
      ok = mbd_throw (error, MBD_ERROR_SIZE_MISMATCH,
                      "File “%s” has %" G_GUINT64_FORMAT " bytes, but %" G_GUINT64_FORMAT
                      " are listed (it changed while being read)",
                      self->name, size, self->size);
    }
  for (int k = 0; ok && k < N_CHECKSUMS; k++)
    {
      const char *expected = *entry_checksum_slot (mutable_self, k);

      if (expected != NULL && strcmp (expected, hex[k]) != 0)
        ok = mbd_throw (error, MBD_ERROR_CHECKSUM_MISMATCH,
                        "%s checksum mismatch for file “%s”: expected %s, got %s",
                        checksum_info[k].label, self->name, expected, hex[k]);
    }

  for (int k = 0; k < N_CHECKSUMS; k++)
    g_free (hex[k]);
  return ok;
}

/* --- Private helpers shared by the .dsc, .changes and .deb readers --- */

gboolean
mbd_pkgfile_package_name_is_valid (const char *name)
{
  /* Debian policy 5.6.1 / 5.6.7: lower case letters, digits, + - . ; at least two characters,
   * starting with a letter or digit. */
  if (name == NULL || strlen (name) < 2
      || !(g_ascii_islower (name[0]) || g_ascii_isdigit (name[0])))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '+' || *p == '-' || *p == '.'))
        return FALSE;
    }
  return TRUE;
}

char **
mbd_pkgfile_split_words (const char *value, const char *separators)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (value != NULL)
    {
      g_auto (GStrv) words = g_strsplit_set (value, separators, -1);
      for (guint i = 0; words[i] != NULL; i++)
        {
          g_strstrip (words[i]);
          if (words[i][0] != '\0')
            g_strv_builder_add (builder, words[i]);
        }
    }
  return g_strv_builder_end (builder);
}

MbdParagraph *
mbd_pkgfile_single_paragraph (MbdControl *control, const char *control_name, GError **error)
{
  guint n = mbd_control_get_n_paragraphs (control);

  if (n == 0)
    {
      mbd_throw (error, MBD_ERROR_PARSE, "%s: no control paragraph found", control_name);
      return NULL;
    }
  if (n > 1)
    {
      MbdParagraph *second = mbd_control_get_paragraph (control, 1);
      mbd_throw (error, MBD_ERROR_PARSE,
                 "%s:%u: a second paragraph starts here; exactly one is allowed", control_name,
                 mbd_paragraph_get_start_line (second));
      return NULL;
    }
  return mbd_control_get_paragraph (control, 0);
}

gboolean
mbd_pkgfile_require_fields (MbdParagraph *paragraph,
                            const char *control_name,
                            const char *const *fields,
                            GError **error)
{
  for (guint i = 0; fields[i] != NULL; i++)
    {
      const char *value = mbd_paragraph_get (paragraph, fields[i]);
      if (value == NULL)
        return mbd_throw (error, MBD_ERROR_MISSING_FIELD, "%s: mandatory field “%s” is missing",
                          control_name, fields[i]);
      g_autofree char *folded = mbd_paragraph_get_folded (paragraph, fields[i]);
      if (folded == NULL || *g_strstrip (folded) == '\0')
        return mbd_throw (error, MBD_ERROR_MISSING_FIELD, "%s:%u: mandatory field “%s” is empty",
                          control_name, mbd_paragraph_get_field_line (paragraph, fields[i]),
                          fields[i]);
    }
  return TRUE;
}

gboolean
mbd_pkgfile_check_package_field (MbdParagraph *paragraph,
                                 const char *control_name,
                                 const char *field,
                                 const char *value,
                                 GError **error)
{
  if (mbd_pkgfile_package_name_is_valid (value))
    return TRUE;

  g_autofree char *quoted = mbd_pkgfile_quote_for_message (value);
  return mbd_throw (error, MBD_ERROR_PARSE,
                    "%s:%u: field %s: “%s” is not a valid package name (lower case letters, "
                    "digits, “+”, “-” and “.”, at least two characters, starting with a letter "
                    "or digit)",
                    control_name, mbd_paragraph_get_field_line (paragraph, field), field, quoted);
}

gboolean
mbd_pkgfile_check_version_field (MbdParagraph *paragraph,
                                 const char *control_name,
                                 const char *field,
                                 const char *value,
                                 GError **error)
{
  if (mbd_deb_version_is_valid (value, error))
    return TRUE;
  return mbd_prefix_error (error, "%s:%u: field %s: ", control_name,
                           mbd_paragraph_get_field_line (paragraph, field), field);
}

static gboolean
parse_size (const char *text, guint64 *out_size)
{
  if (*text == '\0' || strlen (text) > 20)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
    }
  return g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, out_size, NULL);
}

/* Splits one list line at runs of blanks. */
static char **
split_list_line (const char *line)
{
  return mbd_pkgfile_split_words (line, " \t");
}

/* Calls @func for each non-empty line of @field's value with its line number in the control
 * file. The raw value keeps one line per physical line, so the offset in it gives the number. */
typedef gboolean (*ListLineFunc) (const char *line,
                                  guint line_number,
                                  gpointer user_data,
                                  GError **error);

static gboolean
foreach_list_line (MbdParagraph *paragraph,
                   const char *field,
                   ListLineFunc func,
                   gpointer user_data,
                   GError **error)
{
  const char *value = mbd_paragraph_get (paragraph, field);
  guint first_line = mbd_paragraph_get_field_line (paragraph, field);
  g_auto (GStrv) lines = g_strsplit (value, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      if (*line == '\0')
        continue;
      if (!func (line, first_line + i, user_data, error))
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  const char *control_name;
  const char *field;
  gboolean with_section;
  ChecksumKind kind;
  GPtrArray *entries;      /* (element-type MbdFileEntry) (owned) */
  GHashTable *by_name;     /* name -> MbdFileEntry (unowned) */
  GHashTable *seen;        /* name -> line number, for this field */
  GHashTable *files_lines; /* name -> line number in Files */
} ListParser;

static gboolean
parse_checksum_token (ListParser *parser, guint line_number, const char *token, GError **error)
{
  if (checksum_is_hex (token, checksum_info[parser->kind].hex_length))
    return TRUE;
  g_autofree char *quoted = mbd_pkgfile_quote_for_message (token);
  return mbd_throw (error, MBD_ERROR_PARSE,
                    "%s:%u: field %s: “%s” is not a %s checksum (%" G_GSIZE_FORMAT
                    " hexadecimal digits)",
                    parser->control_name, line_number, parser->field, quoted,
                    checksum_info[parser->kind].label, checksum_info[parser->kind].hex_length);
}

static gboolean
parse_common (ListParser *parser,
              guint line_number,
              char **tokens,
              guint64 *out_size,
              const char **out_name,
              GError **error)
{
  guint n_expected = parser->with_section ? 5 : 3;
  guint n = g_strv_length (tokens);

  if (n != n_expected)
    return mbd_throw (
        error, MBD_ERROR_PARSE, "%s:%u: field %s: expected %u fields (%s), found %u",
        parser->control_name, line_number, parser->field, n_expected,
        parser->with_section ? "checksum size section priority name" : "checksum size name", n);
  if (!parse_checksum_token (parser, line_number, tokens[0], error))
    return FALSE;
  if (!parse_size (tokens[1], out_size))
    {
      g_autofree char *quoted = mbd_pkgfile_quote_for_message (tokens[1]);
      return mbd_throw (error, MBD_ERROR_PARSE,
                        "%s:%u: field %s: size “%s” is not a number of bytes", parser->control_name,
                        line_number, parser->field, quoted);
    }
  const char *name = tokens[n - 1];
  if (!mbd_filename_is_safe (name, error))
    return mbd_prefix_error (error, "%s:%u: field %s: ", parser->control_name, line_number,
                             parser->field);
  gpointer first_line = g_hash_table_lookup (parser->seen, name);
  if (first_line != NULL)
    return mbd_throw (
        error, MBD_ERROR_PARSE, "%s:%u: field %s: file “%s” is listed twice (first on line %u)",
        parser->control_name, line_number, parser->field, name, GPOINTER_TO_UINT (first_line));
  g_hash_table_insert (parser->seen, g_strdup (name), GUINT_TO_POINTER (line_number));
  *out_name = name;
  return TRUE;
}

static gboolean
parse_files_line (const char *line, guint line_number, gpointer user_data, GError **error)
{
  ListParser *parser = user_data;
  g_auto (GStrv) tokens = split_list_line (line);
  guint64 size = 0;
  const char *name = NULL;

  if (!parse_common (parser, line_number, tokens, &size, &name, error))
    return FALSE;

  /* The line is split at blanks only; other white space or control characters would end up in
   * a section or priority that mbd_file_entry_set_section() refuses and a written Files line
   * cannot carry. */
  if (parser->with_section)
    {
      const char *const labels[] = { "section", "priority" };
      for (guint t = 0; t < G_N_ELEMENTS (labels); t++)
        {
          if (is_token (tokens[2 + t]))
            continue;
          g_autofree char *quoted = mbd_pkgfile_quote_for_message (tokens[2 + t]);
          return mbd_throw (error, MBD_ERROR_PARSE,
                            "%s:%u: field %s: %s “%s” of “%s” contains white space or a control "
                            "character",
                            parser->control_name, line_number, parser->field, labels[t], quoted,
                            name);
        }
    }

  g_autoptr (MbdFileEntry) entry = mbd_file_entry_new (name, size, tokens[0], NULL, NULL, error);
  if (entry == NULL)
    return FALSE;
  if (parser->with_section)
    {
      entry->section = g_strdup (tokens[2]);
      entry->priority = g_strdup (tokens[3]);
    }
  g_hash_table_insert (parser->files_lines, g_strdup (name), GUINT_TO_POINTER (line_number));
  g_hash_table_insert (parser->by_name, entry->name, entry);
  g_ptr_array_add (parser->entries, g_steal_pointer (&entry));
  return TRUE;
}

static gboolean
parse_checksums_line (const char *line, guint line_number, gpointer user_data, GError **error)
{
  ListParser *parser = user_data;
  g_auto (GStrv) tokens = split_list_line (line);
  guint64 size = 0;
  const char *name = NULL;

  if (!parse_common (parser, line_number, tokens, &size, &name, error))
    return FALSE;

  MbdFileEntry *entry = g_hash_table_lookup (parser->by_name, name);
  if (entry == NULL)
    return mbd_throw (error, MBD_ERROR_PARSE,
                      "%s:%u: field %s: file “%s” is not listed in field Files",
                      parser->control_name, line_number, parser->field, name);
  if (entry->size != size)
    return mbd_throw (error, MBD_ERROR_PARSE,
                      "%s:%u: field %s: file “%s” has size %" G_GUINT64_FORMAT
                      " here but %" G_GUINT64_FORMAT " in field Files (line %u)",
                      parser->control_name, line_number, parser->field, name, size, entry->size,
                      GPOINTER_TO_UINT (g_hash_table_lookup (parser->files_lines, name)));
  return set_checksum (entry, parser->kind, tokens[0], error);
}

GPtrArray *
mbd_pkgfile_parse_file_list (MbdParagraph *paragraph,
                             const char *control_name,
                             gboolean with_section,
                             GError **error)
{
  const char *const mandatory[] = { "Files", "Checksums-Sha256", NULL };

  if (!mbd_pkgfile_require_fields (paragraph, control_name, mandatory, error))
    return NULL;

  g_autoptr (GPtrArray) entries
             = g_ptr_array_new_with_free_func ((GDestroyNotify) mbd_file_entry_free);
  g_autoptr (GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) files_lines
             = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ListParser parser = {
    .control_name = control_name,
    .field = "Files",
    .with_section = with_section,
    .kind = CHECKSUM_MD5,
    .entries = entries,
    .by_name = by_name,
    .files_lines = files_lines,
  };

  parser.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean ok = foreach_list_line (paragraph, "Files", parse_files_line, &parser, error);
  g_hash_table_unref (parser.seen);
  if (!ok)
    return NULL;

  const struct
  {
    const char *field;
    ChecksumKind kind;
  } checksum_fields[] = {
    { "Checksums-Sha1", CHECKSUM_SHA1 },
    { "Checksums-Sha256", CHECKSUM_SHA256 },
  };
  for (guint f = 0; f < G_N_ELEMENTS (checksum_fields); f++)
    {
      const char *field = checksum_fields[f].field;

      if (!mbd_paragraph_has_field (paragraph, field))
        continue;
      parser.field = field;
      parser.kind = checksum_fields[f].kind;
      parser.with_section = FALSE;
      parser.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      ok = foreach_list_line (paragraph, field, parse_checksums_line, &parser, error);
      g_hash_table_unref (parser.seen);
      if (!ok)
        return NULL;

      for (guint i = 0; i < entries->len; i++)
        {
          MbdFileEntry *entry = g_ptr_array_index (entries, i);
          if (*entry_checksum_slot (entry, parser.kind) == NULL)
            {
              mbd_throw (error, MBD_ERROR_PARSE,
                         "%s:%u: field %s: file “%s” is listed in field Files (line %u) "
                         "but not here",
                         control_name, mbd_paragraph_get_field_line (paragraph, field), field,
                         entry->name,
                         GPOINTER_TO_UINT (g_hash_table_lookup (files_lines, entry->name)));
              return NULL;
            }
        }
    }

  if (entries->len == 0)
    {
      mbd_throw (error, MBD_ERROR_PARSE, "%s:%u: field Files lists no file", control_name,
                 mbd_paragraph_get_field_line (paragraph, "Files"));
      return NULL;
    }
  return g_steal_pointer (&entries);
}

MbdFileEntry *
mbd_pkgfile_find_entry (GPtrArray *entries, const char *name)
{
  for (guint i = 0; i < entries->len; i++)
    {
      MbdFileEntry *entry = g_ptr_array_index (entries, i);
      if (strcmp (entry->name, name) == 0)
        return entry;
    }
  return NULL;
}

GPtrArray *
mbd_pkgfile_copy_entries (GPtrArray *entries)
{
  GPtrArray *copy = g_ptr_array_new_full (entries->len, (GDestroyNotify) mbd_file_entry_free);

  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add (copy, mbd_file_entry_copy (g_ptr_array_index (entries, i)));
  return copy;
}

gboolean
mbd_pkgfile_verify_entries (GPtrArray *entries,
                            const char *dir,
                            const char *control_name,
                            GCancellable *cancellable,
                            GError **error)
{
  for (guint i = 0; i < entries->len; i++)
    {
      g_autoptr (GError) local_error = NULL;

      if (mbd_file_entry_verify (g_ptr_array_index (entries, i), dir, cancellable, &local_error))
        continue;
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&local_error, "%s: ", control_name);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}
