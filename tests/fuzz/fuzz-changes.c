/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* libFuzzer target for the upload control readers: every input goes to
 * mbd_changes_new_from_bytes() and to mbd_dsc_new_from_bytes().
 *
 * A refusal is an MBD_ERROR with a UTF-8 message that names the input; when the control data
 * itself does not parse, both readers refuse it with the control parser's own error.
 *
 * What is accepted keeps the promises of the getters: one paragraph; Source a valid package
 * name and Version (and a .changes' source version) a valid Debian version; a .changes' Format
 * is 1.x; word lists are non-empty words without blanks; at least one file, every file name safe
 * and listed once, with a lower-case MD5 and SHA256 (and SHA1 exactly when Checksums-Sha1 is
 * there) of the right length, section and priority exactly for a .changes, entries that
 * mbd_file_entry_new() takes back unchanged and that get_file() finds; a .changes' dsc file is
 * its only *.dsc entry. Verifying the files against an empty directory fails with
 * MBD_ERROR_MISSING_FILE for the first one.
 *
 * Seeds (corpus-changes/): source uploads and their .dsc made with dpkg-source -b and
 * dpkg-genchanges -S (3.0 native, and 3.0 quilt with an epoch), a binNMU .changes listing
 * .debs, and a clear-signed one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include "fuzz-common.h"

#define INPUT_NAME "fuzz-input"

/* An empty directory for verify_files(), removed at exit. */
static char *empty_dir;

static void
remove_empty_dir (void)
{
  if (empty_dir != NULL)
    g_rmdir (empty_dir);
  g_clear_pointer (&empty_dir, g_free);
}

static gboolean
is_lower_hex (const char *text, gsize length)
{
  if (text == NULL || strlen (text) != length)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
        return FALSE;
    }
  return TRUE;
}

/* A non-empty word without blanks or line breaks. */
static gboolean
is_word (const char *text)
{
  return text != NULL && *text != '\0' && strpbrk (text, " \t\n") == NULL;
}

static void
check_error (const GError *error)
{
  FUZZ_CHECK (error != NULL);
  FUZZ_CHECK (error->domain == MBD_ERROR);
  FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL));
  if (strstr (error->message, INPUT_NAME) == NULL)
    {
      fprintf (stderr, "error message does not name the input: %s\n", error->message);
      abort ();
    }
}

static void
check_words (char **words, gboolean need_one)
{
  FUZZ_CHECK (words != NULL);
  FUZZ_CHECK (!need_one || words[0] != NULL);
  for (guint i = 0; words[i] != NULL; i++)
    FUZZ_CHECK (is_word (words[i]));
}

static void
check_same_entry (const MbdFileEntry *a, const MbdFileEntry *b)
{
  FUZZ_CHECK (strcmp (mbd_file_entry_get_name (a), mbd_file_entry_get_name (b)) == 0);
  FUZZ_CHECK (mbd_file_entry_get_size (a) == mbd_file_entry_get_size (b));
  FUZZ_CHECK (g_strcmp0 (mbd_file_entry_get_md5 (a), mbd_file_entry_get_md5 (b)) == 0);
  FUZZ_CHECK (g_strcmp0 (mbd_file_entry_get_sha1 (a), mbd_file_entry_get_sha1 (b)) == 0);
  FUZZ_CHECK (g_strcmp0 (mbd_file_entry_get_sha256 (a), mbd_file_entry_get_sha256 (b)) == 0);
  FUZZ_CHECK (g_strcmp0 (mbd_file_entry_get_section (a), mbd_file_entry_get_section (b)) == 0);
  FUZZ_CHECK (g_strcmp0 (mbd_file_entry_get_priority (a), mbd_file_entry_get_priority (b)) == 0);
}

/* The entries of a .changes (@is_changes) or .dsc read from @paragraph; @lookup is the
 * get_file() of the object. */
static void
check_files (GPtrArray *files,
             MbdParagraph *paragraph,
             gboolean is_changes,
             const MbdFileEntry *(*lookup) (gpointer, const char *),
             gpointer object)
{
  gboolean has_sha1 = mbd_paragraph_has_field (paragraph, "Checksums-Sha1");
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  FUZZ_CHECK (files != NULL && files->len > 0);
  for (guint i = 0; i < files->len; i++)
    {
      const MbdFileEntry *entry = g_ptr_array_index (files, i);
      const char *name = mbd_file_entry_get_name (entry);

      FUZZ_CHECK (entry != NULL && name != NULL);
      FUZZ_CHECK (mbd_filename_is_safe (name, NULL));
      FUZZ_CHECK (g_hash_table_add (names, (gpointer) name));
      FUZZ_CHECK (is_lower_hex (mbd_file_entry_get_md5 (entry), 32));
      FUZZ_CHECK (is_lower_hex (mbd_file_entry_get_sha256 (entry), 64));
      if (has_sha1)
        FUZZ_CHECK (is_lower_hex (mbd_file_entry_get_sha1 (entry), 40));
      else
        FUZZ_CHECK (mbd_file_entry_get_sha1 (entry) == NULL);
      if (is_changes)
        {
          FUZZ_CHECK (is_word (mbd_file_entry_get_section (entry)));
          FUZZ_CHECK (is_word (mbd_file_entry_get_priority (entry)));
        }
      else
        {
          FUZZ_CHECK (mbd_file_entry_get_section (entry) == NULL);
          FUZZ_CHECK (mbd_file_entry_get_priority (entry) == NULL);
        }

      const MbdFileEntry *found = lookup (object, name);
      FUZZ_CHECK (found != NULL && found != entry);
      check_same_entry (entry, found);

      g_autoptr (MbdFileEntry) copy = mbd_file_entry_copy (entry);
      check_same_entry (entry, copy);

      /* The constructor takes back what the parser produced. */
      g_autoptr (GError) error = NULL;
      g_autoptr (MbdFileEntry) rebuilt = mbd_file_entry_new (
          name, mbd_file_entry_get_size (entry), mbd_file_entry_get_md5 (entry),
          mbd_file_entry_get_sha1 (entry), mbd_file_entry_get_sha256 (entry), &error);
      FUZZ_CHECK (error == NULL && rebuilt != NULL);
      mbd_file_entry_set_section (rebuilt, mbd_file_entry_get_section (entry));
      mbd_file_entry_set_priority (rebuilt, mbd_file_entry_get_priority (entry));
      check_same_entry (entry, rebuilt);
    }
}

static void
check_verify_fails (gboolean ok, GError *error, const char *first_name)
{
  FUZZ_CHECK (!ok);
  FUZZ_CHECK (g_error_matches (error, MBD_ERROR, MBD_ERROR_MISSING_FILE));
  FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL));
  FUZZ_CHECK (strstr (error->message, first_name) != NULL);
}

static const MbdFileEntry *
changes_lookup (gpointer object, const char *name)
{
  return mbd_changes_get_file (object, name);
}

static const MbdFileEntry *
dsc_lookup (gpointer object, const char *name)
{
  return mbd_dsc_get_file (object, name);
}

static void
check_changes (MbdChanges *changes)
{
  FUZZ_CHECK (strcmp (mbd_changes_get_name (changes), INPUT_NAME) == 0);
  MbdControl *control = mbd_changes_get_control (changes);
  FUZZ_CHECK (control != NULL && mbd_control_get_n_paragraphs (control) == 1);
  MbdParagraph *paragraph = mbd_changes_get_paragraph (changes);
  FUZZ_CHECK (paragraph == mbd_control_get_paragraph (control, 0));
  FUZZ_CHECK (mbd_changes_is_signed (changes) == mbd_control_is_signed (control));

  const char *format = mbd_changes_get_format (changes);
  FUZZ_CHECK (format != NULL && g_str_has_prefix (format, "1.") && format[2] != '\0');
  for (const char *p = format + 2; *p != '\0'; p++)
    FUZZ_CHECK (g_ascii_isdigit (*p));
  FUZZ_CHECK (mbd_changes_get_date (changes) != NULL);
  FUZZ_CHECK (mbd_changes_get_distribution (changes) != NULL);
  FUZZ_CHECK (mbd_changes_get_maintainer (changes) != NULL);
  FUZZ_CHECK (
      g_strcmp0 (mbd_changes_get_urgency (changes), mbd_paragraph_get (paragraph, "Urgency")) == 0);
  FUZZ_CHECK (
      g_strcmp0 (mbd_changes_get_changed_by (changes), mbd_paragraph_get (paragraph, "Changed-By"))
      == 0);

  FUZZ_CHECK (fuzz_is_package_name (mbd_changes_get_source (changes)));
  const char *version = mbd_changes_get_version (changes);
  FUZZ_CHECK (version != NULL && mbd_deb_version_is_valid (version, NULL));
  const char *source_version = mbd_changes_get_source_version (changes);
  FUZZ_CHECK (source_version == NULL || mbd_deb_version_is_valid (source_version, NULL));
  if (source_version == NULL)
    FUZZ_CHECK (strchr (mbd_paragraph_get (paragraph, "Source"), '(') == NULL);

  g_auto (GStrv) architectures = mbd_changes_get_architectures (changes);
  check_words (architectures, TRUE);
  for (guint i = 0; architectures[i] != NULL; i++)
    FUZZ_CHECK (mbd_changes_has_architecture (changes, architectures[i]));
  g_auto (GStrv) binaries = mbd_changes_get_binaries (changes);
  check_words (binaries, FALSE);

  g_autoptr (GPtrArray) files = mbd_changes_get_files (changes);
  check_files (files, paragraph, TRUE, changes_lookup, changes);

  const MbdFileEntry *dsc = mbd_changes_get_dsc_file (changes);
  const MbdFileEntry *expected_dsc = NULL;
  for (guint i = 0; i < files->len; i++)
    {
      const MbdFileEntry *entry = g_ptr_array_index (files, i);
      if (g_str_has_suffix (mbd_file_entry_get_name (entry), ".dsc"))
        {
          FUZZ_CHECK (expected_dsc == NULL);
          expected_dsc = entry;
        }
    }
  FUZZ_CHECK ((dsc == NULL) == (expected_dsc == NULL));
  if (dsc != NULL)
    {
      check_same_entry (dsc, expected_dsc);
      FUZZ_CHECK (dsc == mbd_changes_get_file (changes, mbd_file_entry_get_name (dsc)));
    }

  g_autoptr (GError) error = NULL;
  gboolean ok = mbd_changes_verify_files (changes, empty_dir, NULL, &error);
  check_verify_fails (ok, error, mbd_file_entry_get_name (g_ptr_array_index (files, 0)));
}

static void
check_dsc (MbdDsc *dsc)
{
  FUZZ_CHECK (strcmp (mbd_dsc_get_name (dsc), INPUT_NAME) == 0);
  MbdControl *control = mbd_dsc_get_control (dsc);
  FUZZ_CHECK (control != NULL && mbd_control_get_n_paragraphs (control) == 1);
  MbdParagraph *paragraph = mbd_dsc_get_paragraph (dsc);
  FUZZ_CHECK (paragraph == mbd_control_get_paragraph (control, 0));
  FUZZ_CHECK (mbd_dsc_is_signed (dsc) == mbd_control_is_signed (control));

  FUZZ_CHECK (mbd_dsc_get_format (dsc) != NULL);
  FUZZ_CHECK (mbd_dsc_get_maintainer (dsc) != NULL);
  FUZZ_CHECK (fuzz_is_package_name (mbd_dsc_get_source (dsc)));
  const char *version = mbd_dsc_get_version (dsc);
  FUZZ_CHECK (version != NULL && mbd_deb_version_is_valid (version, NULL));

  g_auto (GStrv) architectures = mbd_dsc_get_architectures (dsc);
  check_words (architectures, FALSE);
  g_auto (GStrv) binaries = mbd_dsc_get_binaries (dsc);
  check_words (binaries, FALSE);

  g_autoptr (GPtrArray) files = mbd_dsc_get_files (dsc);
  check_files (files, paragraph, FALSE, dsc_lookup, dsc);

  g_autoptr (GError) error = NULL;
  gboolean ok = mbd_dsc_verify_files (dsc, empty_dir, NULL, &error);
  check_verify_fails (ok, error, mbd_file_entry_get_name (g_ptr_array_index (files, 0)));
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* A g_return_if_fail() or warning reached by some input is a bug worth a crash report. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);

  g_autoptr (GError) error = NULL;
  empty_dir = g_dir_make_tmp ("mbd-fuzz-changes-XXXXXX", &error);
  if (empty_dir == NULL)
    {
      fprintf (stderr, "cannot create a temporary directory: %s\n", error->message);
      abort ();
    }
  atexit (remove_empty_dir);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (GError) control_error = NULL;
  g_autoptr (GError) changes_error = NULL;
  g_autoptr (GError) dsc_error = NULL;

  g_autoptr (MbdControl) control = mbd_control_new_from_bytes (bytes, INPUT_NAME, &control_error);
  g_autoptr (MbdChanges) changes = mbd_changes_new_from_bytes (bytes, INPUT_NAME, &changes_error);
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_bytes (bytes, INPUT_NAME, &dsc_error);

  if (changes == NULL)
    check_error (changes_error);
  else
    FUZZ_CHECK (changes_error == NULL);
  if (dsc == NULL)
    check_error (dsc_error);
  else
    FUZZ_CHECK (dsc_error == NULL);

  if (control == NULL)
    {
      /* Both readers pass the control parser's error on as it is. */
      check_error (control_error);
      FUZZ_CHECK (changes == NULL && dsc == NULL);
      FUZZ_CHECK (g_error_matches (changes_error, control_error->domain, control_error->code));
      FUZZ_CHECK (g_error_matches (dsc_error, control_error->domain, control_error->code));
      FUZZ_CHECK (strcmp (changes_error->message, control_error->message) == 0);
      FUZZ_CHECK (strcmp (dsc_error->message, control_error->message) == 0);
      return 0;
    }

  if (changes != NULL)
    check_changes (changes);
  if (dsc != NULL)
    check_dsc (dsc);
  return 0;
}
