/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* libFuzzer target for the .deb reader. mbd_deb_new_from_file() reads only from a path, so each
 * input is written to one file in a temporary directory (made once, removed at exit) and read
 * from there.
 *
 * A refusal is an MBD_ERROR or G_IO_ERROR with a UTF-8 message that names the file. What is
 * accepted keeps the promises of the getters: Package and Source are valid package names,
 * Version is a valid Debian version, Architecture is there, the compressions are among the
 * documented names, the control members are relative names without "." or ".." components and
 * include "control", and every installed path is absolute, without empty, "." or ".."
 * components and without a trailing slash.
 *
 * Seeds (corpus-deb/): tiny packages built with dpkg-deb --root-owner-group -b: -Zgzip (plain),
 * -Zxz (a symbolic link, a postinst, Source with a version) and -Znone (only a control file, its
 * tar archives cut after the last entry so the seed stays small; dpkg-deb still reads it). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include "fuzz-common.h"

size_t LLVMFuzzerMutate (uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator (uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* For the mutator and its helpers: their branches are no coverage of the code under test, and
 * counting them would fill the corpus with inputs that only made the mutator branch
 * differently. */
#define NO_COVERAGE __attribute__ ((no_sanitize ("coverage")))

static char *input_dir;
static char *input_path;

static void
remove_input (void)
{
  if (input_path != NULL)
    g_unlink (input_path);
  if (input_dir != NULL)
    g_rmdir (input_dir);
  g_clear_pointer (&input_path, g_free);
  g_clear_pointer (&input_dir, g_free);
}

/* @path split at "/" has only non-empty components other than "." and "..". */
static gboolean
has_clean_components (const char *path)
{
  g_auto (GStrv) components = g_strsplit (path, "/", -1);

  for (guint i = 0; components[i] != NULL; i++)
    {
      const char *component = components[i];
      if (*component == '\0' || strcmp (component, ".") == 0 || strcmp (component, "..") == 0)
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_one_of (const char *text, const char *const *choices)
{
  return text != NULL && g_strv_contains (choices, text);
}

static void
check_deb (MbdDeb *deb)
{
  const char *const control_compressions[] = { "none", "gzip", "xz", "zstd", NULL };
  const char *const data_compressions[] = { "none", "gzip", "xz", "zstd", "bzip2", NULL };

  FUZZ_CHECK (strcmp (mbd_deb_get_path (deb), input_path) == 0);
  MbdParagraph *control = mbd_deb_get_control (deb);
  FUZZ_CHECK (control != NULL);
  FUZZ_CHECK (fuzz_is_package_name (mbd_deb_get_package (deb)));
  FUZZ_CHECK (mbd_deb_get_package (deb) == mbd_paragraph_get (control, "Package"));
  const char *version = mbd_deb_get_version (deb);
  FUZZ_CHECK (version != NULL && mbd_deb_version_is_valid (version, NULL));
  FUZZ_CHECK (mbd_deb_get_architecture (deb) != NULL);
  FUZZ_CHECK (fuzz_is_package_name (mbd_deb_get_source (deb)));
  if (!mbd_paragraph_has_field (control, "Source"))
    FUZZ_CHECK (strcmp (mbd_deb_get_source (deb), mbd_deb_get_package (deb)) == 0);
  FUZZ_CHECK (is_one_of (mbd_deb_get_control_compression (deb), control_compressions));
  FUZZ_CHECK (is_one_of (mbd_deb_get_data_compression (deb), data_compressions));

  g_auto (GStrv) members = mbd_deb_get_control_members (deb);
  FUZZ_CHECK (members != NULL);
  FUZZ_CHECK (g_strv_contains ((const char *const *) members, "control"));
  for (guint i = 0; members[i] != NULL; i++)
    FUZZ_CHECK (has_clean_components (members[i]));

  g_auto (GStrv) files = mbd_deb_get_files (deb);
  FUZZ_CHECK (files != NULL);
  for (guint i = 0; files[i] != NULL; i++)
    {
      FUZZ_CHECK (files[i][0] == '/');
      FUZZ_CHECK (has_clean_components (files[i] + 1));
    }
}

/* The value of the unsigned number in @field (@length bytes, digits in @base, leading blanks
 * allowed), or G_MAXUINT64 if it has none or is too large. */
NO_COVERAGE static guint64
parse_field (const uint8_t *field, size_t length, unsigned base)
{
  guint64 value = 0;
  size_t i = 0;
  gboolean any = FALSE;

  while (i < length && field[i] == ' ')
    i++;
  for (; i < length && field[i] >= '0' && field[i] < '0' + base; i++)
    {
      if (value > G_MAXUINT64 / 16)
        return G_MAXUINT64;
      value = value * base + (field[i] - '0');
      any = TRUE;
    }
  return any ? value : G_MAXUINT64;
}

/* Recomputes the header checksum of every entry of the uncompressed tar archive @tar. */
NO_COVERAGE static void
fix_tar_checksums (uint8_t *tar, size_t length)
{
  static const uint8_t zero_block[512];
  size_t offset = 0;

  while (length - offset >= 512 && memcmp (tar + offset, zero_block, 512) != 0)
    {
      uint8_t *header = tar + offset;
      unsigned sum = 0;

      memset (header + 148, ' ', 8);
      for (size_t i = 0; i < 512; i++)
        sum += header[i];
      char digits[8];
      snprintf (digits, sizeof digits, "%06o", sum);
      memcpy (header + 148, digits, 7);

      guint64 size = parse_field (header + 124, 12, 8);
      if (size > length)
        return;
      offset += 512 + (size + 511) / 512 * 512;
      if (offset > length)
        return;
    }
}

/* Whether the 16-byte ar member name @name is @wanted, padded with blanks or ended by "/". */
NO_COVERAGE static gboolean
ar_name_is (const uint8_t *name, const char *wanted)
{
  size_t length = strlen (wanted);

  return memcmp (name, wanted, length) == 0 && (name[length] == ' ' || name[length] == '/');
}

/* One member of an ar archive, for the mutator. */
typedef struct
{
  uint8_t header[60]; /* as read; the size field is rewritten when the archive is written */
  GByteArray *data;
} ArMember;

NO_COVERAGE static void
ar_member_clear (gpointer data)
{
  ArMember *member = data;
  g_byte_array_unref (member->data);
}

/* The members of the ar archive @data, or NULL if it does not start like one. A member whose
 * size runs past the end gets the rest of the input. */
NO_COVERAGE static GArray *
ar_split (const uint8_t *data, size_t size)
{
  if (size < 8 || memcmp (data, "!<arch>\n", 8) != 0)
    return NULL;

  GArray *members = g_array_new (FALSE, TRUE, sizeof (ArMember));
  g_array_set_clear_func (members, ar_member_clear);
  size_t offset = 8;
  while (size - offset >= 60)
    {
      ArMember member;
      memcpy (member.header, data + offset, 60);
      guint64 member_size = MIN (parse_field (data + offset + 48, 10, 10), size - offset - 60);
      member.data = g_byte_array_sized_new (member_size);
      g_byte_array_append (member.data, data + offset + 60, member_size);
      g_array_append_val (members, member);
      offset += 60 + member_size;
      if (offset < size && data[offset] == '\n' && member_size % 2 == 1)
        offset++;
    }
  return members;
}

/* Writes @members as an ar archive to @data with correct member sizes; 0 if it does not fit in
 * @max_size bytes. */
NO_COVERAGE static size_t
ar_join (GArray *members, uint8_t *data, size_t max_size)
{
  size_t offset = 8;

  if (max_size < 8)
    return 0;
  memcpy (data, "!<arch>\n", 8);
  for (guint i = 0; i < members->len; i++)
    {
      ArMember *member = &g_array_index (members, ArMember, i);
      guint length = member->data->len;
      if (max_size - offset < 60 + (size_t) length + length % 2)
        return 0;
      char size_field[11];
      snprintf (size_field, sizeof size_field, "%-10u", length);
      memcpy (member->header + 48, size_field, 10);
      memcpy (member->header + 58, "`\n", 2);
      memcpy (data + offset, member->header, 60);
      if (length > 0)
        memcpy (data + offset + 60, member->data->data, length);
      offset += 60 + length;
      if (length % 2 == 1)
        data[offset++] = '\n';
    }
  return offset;
}

/* libFuzzer's own mutations of a .deb nearly always break its structure: the ar member sizes,
 * and the header checksums of an uncompressed tar member, which libarchive (not instrumented, so
 * the fuzzer cannot learn them) then refuses before mbd-deb.c sees anything. So most mutations
 * take the archive apart, change one member's name or contents, or drop, repeat or swap
 * members, and put it back together with correct sizes and tar checksums. One in eight is a
 * plain byte-level mutation of the whole file, to keep the ar and tar readers' error paths
 * covered. */
NO_COVERAGE size_t
LLVMFuzzerCustomMutator (uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  GArray *members = g_rand_int_range (rand, 0, 8) == 0 ? NULL : ar_split (data, size);

  if (members == NULL || members->len == 0)
    {
      g_rand_free (rand);
      if (members != NULL)
        g_array_unref (members);
      return LLVMFuzzerMutate (data, size, max_size);
    }

  guint index = g_rand_int_range (rand, 0, members->len);
  ArMember *member = &g_array_index (members, ArMember, index);
  switch (g_rand_int_range (rand, 0, 16))
    {
    case 0: /* drop */
      if (members->len > 1)
        g_array_remove_index (members, index);
      break;
    case 1: /* repeat */
      {
        ArMember copy;
        memcpy (copy.header, member->header, 60);
        copy.data = g_byte_array_sized_new (member->data->len);
        g_byte_array_append (copy.data, member->data->data, member->data->len);
        g_array_insert_val (members, index, copy);
      }
      break;
    case 2: /* swap with the next */
      if (index + 1 < members->len)
        {
          ArMember tmp = *member;
          *member = g_array_index (members, ArMember, index + 1);
          g_array_index (members, ArMember, index + 1) = tmp;
        }
      break;
    case 3:
    case 4: /* rename */
      {
        size_t length = 16;
        while (length > 0 && member->header[length - 1] == ' ')
          length--;
        length = LLVMFuzzerMutate (member->header, length, 16);
        memset (member->header + length, ' ', 16 - length);
      }
      break;
    default: /* change the contents */
      {
        size_t length = member->data->len;
        size_t room = max_size > size ? max_size - size : 0;
        if (length + room == 0)
          break;
        g_byte_array_set_size (member->data, length + room);
        length = LLVMFuzzerMutate (member->data->data, length, length + room);
        g_byte_array_set_size (member->data, length);
      }
      break;
    }

  /* The mutated member may now be anywhere; fix every uncompressed tar member. */
  for (guint i = 0; i < members->len; i++)
    {
      ArMember *m = &g_array_index (members, ArMember, i);
      if (ar_name_is (m->header, "control.tar") || ar_name_is (m->header, "data.tar"))
        fix_tar_checksums (m->data->data, m->data->len);
    }

  g_autofree uint8_t *joined = g_malloc (max_size);
  size_t joined_size = ar_join (members, joined, max_size);
  g_array_unref (members);
  g_rand_free (rand);
  if (joined_size == 0)
    return LLVMFuzzerMutate (data, size, max_size);
  memcpy (data, joined, joined_size);
  return joined_size;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* A g_return_if_fail() or warning reached by some input is a bug worth a crash report. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);

  g_autoptr (GError) error = NULL;
  input_dir = g_dir_make_tmp ("mbd-fuzz-deb-XXXXXX", &error);
  if (input_dir == NULL)
    {
      fprintf (stderr, "cannot create a temporary directory: %s\n", error->message);
      abort ();
    }
  input_path = g_build_filename (input_dir, "input.deb", NULL);
  atexit (remove_input);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;

  /* Not g_file_set_contents(): it fsync()s an existing file on every call, and with
   * G_FILE_SET_CONTENTS_NONE it does not truncate, so a longer previous input would leave its
   * tail behind. */
  int fd = open (input_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FUZZ_CHECK (fd >= 0);
  for (size_t done = 0; done < size;)
    {
      ssize_t n = write (fd, data + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      FUZZ_CHECK (n > 0);
      done += n;
    }
  FUZZ_CHECK (close (fd) == 0);

  g_autoptr (MbdDeb) deb = mbd_deb_new_from_file (input_path, NULL, &error);
  if (deb == NULL)
    {
      FUZZ_CHECK (error != NULL);
      FUZZ_CHECK (error->domain == MBD_ERROR || error->domain == G_IO_ERROR);
      FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL));
      if (strstr (error->message, input_path) == NULL)
        {
          fprintf (stderr, "error message does not name the file: %s\n", error->message);
          abort ();
        }
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  check_deb (deb);
  return 0;
}
