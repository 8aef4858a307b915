/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <unistd.h>

/* --- A .changes written by the test, with real files and checksums --- */

#define DSC_NAME "foo_1.0-1.dsc"
#define TAR_NAME "foo_1.0-1.tar.xz"
#define DSC_CONTENT "Format: 3.0 (native)\nSource: foo\n"
#define TAR_CONTENT "not really a tarball, but the checksums are real\n"

/* Line numbers of the written .changes, for asserting the positions in messages. */
#define LINE_SHA1_TAR 19
#define LINE_SHA256 20
#define LINE_SHA256_TAR 22
#define LINE_FILES 23
#define LINE_FILES_TAR 25

typedef struct
{
  char *dir;
  char *path; /* dir/foo_1.0-1_source.changes */
  char *text; /* valid .changes listing DSC_NAME and TAR_NAME */
  MbdFileEntry *dsc;
  MbdFileEntry *tar;
} Fixture;

static void
write_file (const char *dir, const char *name, const char *content, gssize length)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, content, length, &error);
  g_assert_no_error (error);
}

static char *
read_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static void
assert_message_contains (const GError *error, const char *needle)
{
  g_assert_nonnull (error);
  g_test_message ("error message: %s", error->message);
  if (strstr (error->message, needle) == NULL)
    g_error ("error message “%s” does not contain “%s”", error->message, needle);
}

/* @text with every @from replaced by @to; @from must occur. */
static char *
replace (const char *text, const char *from, const char *to)
{
  g_autoptr (GString) s = g_string_new (text);

  g_assert_nonnull (strstr (text, from));
  g_string_replace (s, from, to, 0);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
checksum_line (const char *hex, const MbdFileEntry *entry)
{
  return g_strdup_printf (" %s %" G_GUINT64_FORMAT " %s\n", hex, mbd_file_entry_get_size (entry),
                          mbd_file_entry_get_name (entry));
}

static void
fixture_setup (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = mbd_test_make_tmpdir ();
  fixture->path = g_build_filename (fixture->dir, "foo_1.0-1_source.changes", NULL);
  write_file (fixture->dir, DSC_NAME, DSC_CONTENT, -1);
  write_file (fixture->dir, TAR_NAME, TAR_CONTENT, -1);
  fixture->dsc = mbd_file_entry_new_from_file (fixture->dir, DSC_NAME, NULL, &error);
  g_assert_no_error (error);
  fixture->tar = mbd_file_entry_new_from_file (fixture->dir, TAR_NAME, NULL, &error);
  g_assert_no_error (error);

  g_autoptr (GString) text = g_string_new ("Format: 1.8\n"
                                           "Date: Mon, 01 Jan 2024 00:00:00 +0000\n"
                                           "Source: foo\n"
                                           "Binary: foo foo-dev\n"
                                           "Architecture: source all\n"
                                           "Version: 1.0-1\n"
                                           "Distribution: bookworm-test-unstable\n"
                                           "Urgency: medium\n"
                                           "Maintainer: Anna <anna@example.org>\n"
                                           "Changed-By: Bert <bert@example.org>\n"
                                           "Description:\n"
                                           " foo - a test\n"
                                           "Changes:\n"
                                           " foo (1.0-1) unstable; urgency=medium\n"
                                           " .\n"
                                           "   * Initial release.\n");
  const MbdFileEntry *entries[] = { fixture->dsc, fixture->tar };
  g_string_append (text, "Checksums-Sha1:\n");
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      g_autofree char *line = checksum_line (mbd_file_entry_get_sha1 (entries[i]), entries[i]);
      g_string_append (text, line);
    }
  g_string_append (text, "Checksums-Sha256:\n");
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      g_autofree char *line = checksum_line (mbd_file_entry_get_sha256 (entries[i]), entries[i]);
      g_string_append (text, line);
    }
  g_string_append (text, "Files:\n");
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    g_string_append_printf (
        text, " %s %" G_GUINT64_FORMAT " devel optional %s\n", mbd_file_entry_get_md5 (entries[i]),
        mbd_file_entry_get_size (entries[i]), mbd_file_entry_get_name (entries[i]));
  fixture->text = g_string_free (g_steal_pointer (&text), FALSE);
}

static void
fixture_teardown (Fixture *fixture, gconstpointer user_data)
{
  mbd_test_rm_rf (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->path);
  g_free (fixture->text);
  mbd_file_entry_free (fixture->dsc);
  mbd_file_entry_free (fixture->tar);
}

/* Writes @text as the fixture's .changes and reads it back. */
static MbdChanges *
load_changes (Fixture *fixture, const char *text, gssize length, GError **error)
{
  write_file (fixture->dir, "foo_1.0-1_source.changes", text, length);
  return mbd_changes_new_from_file (fixture->path, error);
}

/* The line of the written .changes listing @hex for the tarball. */
static char *
tar_line (Fixture *fixture, const char *hex)
{
  return checksum_line (hex, fixture->tar);
}

static void
test_changes_valid (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A well-formed .changes gives its fields and merged file list, and its files "
                  "verify");
  g_autoptr (MbdChanges) changes = load_changes (fixture, fixture->text, -1, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (mbd_changes_get_name (changes), ==, fixture->path);
  g_assert_false (mbd_changes_is_signed (changes));
  g_assert_cmpstr (mbd_changes_get_format (changes), ==, "1.8");
  g_assert_cmpstr (mbd_changes_get_date (changes), ==, "Mon, 01 Jan 2024 00:00:00 +0000");
  g_assert_cmpstr (mbd_changes_get_source (changes), ==, "foo");
  g_assert_null (mbd_changes_get_source_version (changes));
  g_assert_cmpstr (mbd_changes_get_version (changes), ==, "1.0-1");
  g_assert_cmpstr (mbd_changes_get_distribution (changes), ==, "bookworm-test-unstable");
  g_assert_cmpstr (mbd_changes_get_urgency (changes), ==, "medium");
  g_assert_cmpstr (mbd_changes_get_maintainer (changes), ==, "Anna <anna@example.org>");
  g_assert_cmpstr (mbd_changes_get_changed_by (changes), ==, "Bert <bert@example.org>");
  g_assert_true (MBD_IS_PARAGRAPH (mbd_changes_get_paragraph (changes)));
  g_assert_cmpuint (mbd_control_get_n_paragraphs (mbd_changes_get_control (changes)), ==, 1);

  g_auto (GStrv) architectures = mbd_changes_get_architectures (changes);
  const char *const expected_architectures[] = { "source", "all", NULL };
  g_assert_cmpstrv (architectures, expected_architectures);
  g_assert_true (mbd_changes_has_architecture (changes, "source"));
  g_assert_false (mbd_changes_has_architecture (changes, "amd64"));
  g_auto (GStrv) binaries = mbd_changes_get_binaries (changes);
  const char *const expected_binaries[] = { "foo", "foo-dev", NULL };
  g_assert_cmpstrv (binaries, expected_binaries);

  g_autoptr (GPtrArray) files = mbd_changes_get_files (changes);
  g_assert_cmpuint (files->len, ==, 2);
  const MbdFileEntry *expected[] = { fixture->dsc, fixture->tar };
  for (guint i = 0; i < files->len; i++)
    {
      MbdFileEntry *entry = g_ptr_array_index (files, i);
      g_assert_cmpstr (mbd_file_entry_get_name (entry), ==, mbd_file_entry_get_name (expected[i]));
      g_assert_cmpuint (mbd_file_entry_get_size (entry), ==, mbd_file_entry_get_size (expected[i]));
      g_assert_cmpstr (mbd_file_entry_get_md5 (entry), ==, mbd_file_entry_get_md5 (expected[i]));
      g_assert_cmpstr (mbd_file_entry_get_sha1 (entry), ==, mbd_file_entry_get_sha1 (expected[i]));
      g_assert_cmpstr (mbd_file_entry_get_sha256 (entry), ==,
                       mbd_file_entry_get_sha256 (expected[i]));
      g_assert_cmpstr (mbd_file_entry_get_section (entry), ==, "devel");
      g_assert_cmpstr (mbd_file_entry_get_priority (entry), ==, "optional");
    }
  g_assert_cmpstr (mbd_file_entry_get_name (mbd_changes_get_dsc_file (changes)), ==, DSC_NAME);
  g_assert_nonnull (mbd_changes_get_file (changes, TAR_NAME));
  g_assert_null (mbd_changes_get_file (changes, "other.deb"));

  g_assert_true (mbd_changes_verify_files (changes, fixture->dir, NULL, &error));
  g_assert_no_error (error);

  /* The same data from memory, under a name of the caller's choosing */
  g_autoptr (GBytes) bytes = g_bytes_new (fixture->text, strlen (fixture->text));
  g_autoptr (MbdChanges) from_bytes = mbd_changes_new_from_bytes (bytes, "upload 42", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_changes_get_name (from_bytes), ==, "upload 42");
  g_assert_cmpstr (mbd_changes_get_version (from_bytes), ==, "1.0-1");
}

static void
test_changes_without_sha1 (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Checksums-Sha1 is optional; without it the entries have no SHA1");
  g_autofree char *sha1_dsc = checksum_line (mbd_file_entry_get_sha1 (fixture->dsc), fixture->dsc);
  g_autofree char *sha1_tar = checksum_line (mbd_file_entry_get_sha1 (fixture->tar), fixture->tar);
  g_autofree char *text1 = replace (fixture->text, "Checksums-Sha1:\n", "");
  g_autofree char *text2 = replace (text1, sha1_dsc, "");
  g_autofree char *text = replace (text2, sha1_tar, "");
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_no_error (error);
  g_assert_null (mbd_file_entry_get_sha1 (mbd_changes_get_file (changes, TAR_NAME)));
  g_assert_nonnull (mbd_file_entry_get_sha256 (mbd_changes_get_file (changes, TAR_NAME)));
  g_assert_true (mbd_changes_verify_files (changes, fixture->dir, NULL, &error));
  g_assert_no_error (error);
}

static void
test_changes_binnmu (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("“Source: name (version)” gives the name and the source version apart");
  g_autofree char *text1 = replace (fixture->text, "Source: foo\n", "Source: foo (1.0-1)\n");
  g_autofree char *text = replace (text1, "Version: 1.0-1\n", "Version: 1.0-1+b1\n");
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_changes_get_source (changes), ==, "foo");
  g_assert_cmpstr (mbd_changes_get_source_version (changes), ==, "1.0-1");
  g_assert_cmpstr (mbd_changes_get_version (changes), ==, "1.0-1+b1");
}

static void
test_changes_signed (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *home = g_build_filename (fixture->dir, "gnupg", NULL);
  g_autofree char *plain = g_build_filename (fixture->dir, "plain.changes", NULL);

  g_test_summary ("A clear-signed .changes parses with is_signed TRUE and the same content");
  write_file (fixture->dir, "plain.changes", fixture->text, -1);
  g_autofree char *fingerprint = mbd_test_make_key (home, "Uploader <up@example.org>", NULL, NULL);
  const char *argv[]
      = { "--local-user", fingerprint, "--output", fixture->path, "--clearsign", plain, NULL };
  g_free (mbd_test_gpg (home, argv));
  mbd_test_kill_agent (home);

  g_autofree char *signed_text = read_file (fixture->path);
  g_assert_true (g_str_has_prefix (signed_text, "-----BEGIN PGP SIGNED MESSAGE-----\n"));
  g_autoptr (MbdChanges) changes = mbd_changes_new_from_file (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_true (mbd_changes_is_signed (changes));
  g_assert_cmpstr (mbd_changes_get_source (changes), ==, "foo");
  g_assert_cmpstr (mbd_changes_get_distribution (changes), ==, "bookworm-test-unstable");
  g_autoptr (GPtrArray) files = mbd_changes_get_files (changes);
  g_assert_cmpuint (files->len, ==, 2);
  g_assert_true (mbd_changes_verify_files (changes, fixture->dir, NULL, &error));
  g_assert_no_error (error);

  /* Cut off before the end of the signature: refused, naming the file */
  const char *end = strstr (signed_text, "-----END PGP SIGNATURE-----");
  g_assert_nonnull (end);
  g_autoptr (MbdChanges) truncated = load_changes (fixture, signed_text, end - signed_text, &error);
  g_assert_null (truncated);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  assert_message_contains (error, fixture->path);
  assert_message_contains (error, "truncated");
}

static void
test_changes_truncated (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A .changes cut short inside its last checksum is refused with the line");
  /* Cut in the middle of the MD5 of the last Files line */
  g_autofree char *last_md5 = g_strdup_printf (" %s", mbd_file_entry_get_md5 (fixture->tar));
  const char *cut = strstr (fixture->text, last_md5);
  g_assert_nonnull (cut);
  g_autoptr (MbdChanges) changes
             = load_changes (fixture, fixture->text, cut - fixture->text + 17, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where = g_strdup_printf ("%s:%d: field Files:", fixture->path, LINE_FILES_TAR);
  assert_message_contains (error, where);
  g_clear_error (&error);

  /* Cut before the Files field: a mandatory field is missing */
  const char *files = strstr (fixture->text, "Files:");
  g_autoptr (MbdChanges) no_files
             = load_changes (fixture, fixture->text, files - fixture->text, &error);
  g_assert_null (no_files);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FIELD);
  assert_message_contains (error, fixture->path);
  assert_message_contains (error, "“Files”");
}

static void
test_changes_empty (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("An empty .changes is refused, naming it");
  g_autoptr (MbdChanges) changes = load_changes (fixture, "", 0, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  assert_message_contains (error, fixture->path);
  assert_message_contains (error, "no control paragraph");
}

static void
test_changes_nul (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A NUL byte inside a .changes is refused with its line");
  g_autofree char *text = g_strdup (fixture->text);
  char *urgency = strstr (text, "medium");
  g_assert_nonnull (urgency);
  urgency[2] = '\0';
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, strlen (fixture->text), &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where = g_strdup_printf ("%s:8:", fixture->path);
  assert_message_contains (error, where);
  assert_message_contains (error, "NUL");
}

static void
test_changes_long_line (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A line longer than MBD_CONTROL_MAX_LINE_LENGTH is refused with its line");
  g_autofree char *long_text = g_strnfill (MBD_CONTROL_MAX_LINE_LENGTH + 1, 'x');
  g_autofree char *urgency = g_strdup_printf ("Urgency: %s\n", long_text);
  g_autofree char *text = replace (fixture->text, "Urgency: medium\n", urgency);
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where = g_strdup_printf ("%s:8:", fixture->path);
  assert_message_contains (error, where);
}

static void
test_changes_duplicate_field (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A field given twice is refused with MBD_ERROR_DUPLICATE_FIELD");
  g_autofree char *text
      = replace (fixture->text, "Urgency: medium\n", "Urgency: medium\nVersion: 9.9\n");
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_DUPLICATE_FIELD);
  assert_message_contains (error, fixture->path);
  assert_message_contains (error, "Version");
}

static void
test_changes_two_paragraphs (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A .changes with a second paragraph is refused");
  g_autofree char *text = g_strconcat (fixture->text, "\nSource: bar\n", NULL);
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where = g_strdup_printf ("%s:%d:", fixture->path, LINE_FILES_TAR + 2);
  assert_message_contains (error, where);
  assert_message_contains (error, "paragraph");
}

static void
test_changes_missing_field (Fixture *fixture, gconstpointer user_data)
{
  const char *fields[]
      = { "Format", "Date", "Source", "Architecture", "Version", "Distribution", "Maintainer" };

  g_test_summary ("Each mandatory field, when missing or empty, gives MBD_ERROR_MISSING_FIELD "
                  "naming it");
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *prefix = g_strdup_printf ("\n%s:", fields[i]);
      g_autofree char *renamed = g_strdup_printf ("\nX-Not-%s:", fields[i]);
      g_autofree char *with_newline = g_strconcat ("\n", fixture->text, NULL);
      g_autofree char *text = replace (with_newline, prefix, renamed);

      g_autoptr (MbdChanges) changes = load_changes (fixture, text + 1, -1, &error);
      g_assert_null (changes);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FIELD);
      g_autofree char *quoted = g_strdup_printf ("“%s”", fields[i]);
      assert_message_contains (error, quoted);
      assert_message_contains (error, fixture->path);
    }

  g_autoptr (GError) error = NULL;
  g_autofree char *text
      = replace (fixture->text, "Distribution: bookworm-test-unstable\n", "Distribution:\n");
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FIELD);
  assert_message_contains (error, "“Distribution” is empty");
}

static void
test_changes_missing_checksums (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A .changes without Checksums-Sha256 is refused: MD5 alone is not trusted");
  g_autofree char *text = replace (fixture->text, "Checksums-Sha256:", "X-Checksums-Sha256:");
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FIELD);
  assert_message_contains (error, fixture->path);
  assert_message_contains (error, "“Checksums-Sha256”");
}

static void
test_changes_bad_version (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("An invalid Version gives MBD_ERROR_INVALID_VERSION with file, line and field");
  g_autofree char *text = replace (fixture->text, "Version: 1.0-1\n", "Version: not!a version\n");
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_VERSION);
  g_autofree char *where = g_strdup_printf ("%s:6: field Version:", fixture->path);
  assert_message_contains (error, where);
}

static void
test_changes_bad_source (Fixture *fixture, gconstpointer user_data)
{
  const char *bad[] = { "Foo", "f", "foo/bar", "../foo", "foo (1.0", "foo bar" };

  g_test_summary ("A Source that is not a package name is refused with the line");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *line = g_strdup_printf ("Source: %s\n", bad[i]);
      g_autofree char *text = replace (fixture->text, "Source: foo\n", line);
      g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
      g_assert_null (changes);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
      g_autofree char *where = g_strdup_printf ("%s:3: field Source:", fixture->path);
      assert_message_contains (error, where);
    }
}

static void
test_changes_format (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A .changes Format other than 1.x gives MBD_ERROR_UNSUPPORTED");
  g_autofree char *text = replace (fixture->text, "Format: 1.8\n", "Format: 2.0\n");
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSUPPORTED);
  g_autofree char *where = g_strdup_printf ("%s:1: field Format:", fixture->path);
  assert_message_contains (error, where);
  assert_message_contains (error, "“2.0”");
}

static void
test_changes_unsafe_names (Fixture *fixture, gconstpointer user_data)
{
  const char *bad[] = { "../etc/passwd", "sub/dir", "/etc/passwd", ".hidden", "-n", "a:b" };

  g_test_summary ("A listed file name with a directory part or unsafe characters gives "
                  "MBD_ERROR_UNSAFE_FILENAME with the file, line and name");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = replace (fixture->text, TAR_NAME, bad[i]);
      g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
      g_assert_null (changes);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSAFE_FILENAME);
      g_autofree char *where
          = g_strdup_printf ("%s:%d: field Files:", fixture->path, LINE_FILES_TAR);
      assert_message_contains (error, where);
      assert_message_contains (error, bad[i]);
    }
}

static void
test_changes_sha256_missing_entry (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A file in Files but not in Checksums-Sha256 is refused");
  g_autofree char *line = tar_line (fixture, mbd_file_entry_get_sha256 (fixture->tar));
  g_autofree char *text = replace (fixture->text, line, "");
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where = g_strdup_printf (
      "%s:%d: field Checksums-Sha256: file “%s” is listed in field Files (line %d)", fixture->path,
      LINE_SHA256, TAR_NAME, LINE_FILES_TAR - 1);
  assert_message_contains (error, where);
}

static void
test_changes_sha256_extra_entry (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A file in Checksums-Sha256 but not in Files is refused");
  g_autofree char *line = tar_line (fixture, mbd_file_entry_get_sha256 (fixture->tar));
  g_autofree char *other = replace (line, TAR_NAME, "foo_1.0-1.other.tar.xz");
  g_autofree char *text = replace (fixture->text, line, other);
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where
      = g_strdup_printf ("%s:%d: field Checksums-Sha256:", fixture->path, LINE_SHA256_TAR);
  assert_message_contains (error, where);
  assert_message_contains (error, "“foo_1.0-1.other.tar.xz” is not listed in field Files");
}

static void
test_changes_bad_hex (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A checksum with a non-hexadecimal digit is refused with its line");
  g_autofree char *bad = g_strdup (mbd_file_entry_get_sha256 (fixture->tar));
  bad[10] = 'z';
  g_autofree char *text = replace (fixture->text, mbd_file_entry_get_sha256 (fixture->tar), bad);
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where = g_strdup_printf ("%s:%d: field Checksums-Sha256: “%s” is not a SHA256",
                                            fixture->path, LINE_SHA256_TAR, bad);
  assert_message_contains (error, where);
}

static void
test_changes_bad_hash_length (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A checksum of the wrong length is refused with its line");
  g_autofree char *short_sha1 = g_strndup (mbd_file_entry_get_sha1 (fixture->tar), 39);
  g_autofree char *text
      = replace (fixture->text, mbd_file_entry_get_sha1 (fixture->tar), short_sha1);
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where
      = g_strdup_printf ("%s:%d: field Checksums-Sha1:", fixture->path, LINE_SHA1_TAR);
  assert_message_contains (error, where);
  assert_message_contains (error, "40 hexadecimal digits");
}

static void
test_changes_bad_size (Fixture *fixture, gconstpointer user_data)
{
  const char *bad[] = { "12x", "-1", "+5", "99999999999999999999999" };

  g_test_summary ("A size that is not a plain decimal number is refused with its line");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *from = g_strdup_printf (" %" G_GUINT64_FORMAT " devel optional " TAR_NAME,
                                               mbd_file_entry_get_size (fixture->tar));
      g_autofree char *to = g_strdup_printf (" %s devel optional " TAR_NAME, bad[i]);
      g_autofree char *text = replace (fixture->text, from, to);
      g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
      g_assert_null (changes);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
      g_autofree char *where = g_strdup_printf ("%s:%d: field Files: size “%s”", fixture->path,
                                                LINE_FILES_TAR, bad[i]);
      assert_message_contains (error, where);
    }
}

static void
test_changes_field_count (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A Files line without section and priority is refused with its line");
  g_autofree char *text = replace (fixture->text, " devel optional " TAR_NAME, " " TAR_NAME);
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where
      = g_strdup_printf ("%s:%d: field Files: expected 5 fields", fixture->path, LINE_FILES_TAR);
  assert_message_contains (error, where);
  assert_message_contains (error, "found 3");
}

static void
test_changes_section_priority (Fixture *fixture, gconstpointer user_data)
{
  /* Found by fuzz-changes: the line is split at blanks only, so these ended up in the entry. */
  const struct
  {
    const char *section_priority;
    const char *label;
    const char *shown;
  } bad[] = {
    { "de\031vel optional", "section", "de\\031vel" },
    { "devel opt\rional", "priority", "opt\\rional" },
    { "devel\vlibs optional", "section", "devel\\vlibs" },
    { "devel optional\x7f", "priority", "optional\\177" },
  };

  g_test_summary ("A Files line whose section or priority holds white space other than blanks "
                  "or a control character is refused, naming the line and the file");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *to = g_strdup_printf (" %s " TAR_NAME, bad[i].section_priority);
      g_autofree char *text = replace (fixture->text, " devel optional " TAR_NAME, to);
      g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
      g_assert_null (changes);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
      g_autofree char *where
          = g_strdup_printf ("%s:%d: field Files: %s “%s” of “%s” contains white space or a "
                             "control character",
                             fixture->path, LINE_FILES_TAR, bad[i].label, bad[i].shown, TAR_NAME);
      assert_message_contains (error, where);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }

  /* Non-ASCII is not white space: such a section is kept as it is. */
  g_autoptr (GError) error = NULL;
  g_autofree char *text
      = replace (fixture->text, " devel optional " TAR_NAME, " d\u00e9vel optional " TAR_NAME);
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_no_error (error);
  const MbdFileEntry *tar = mbd_changes_get_file (changes, TAR_NAME);
  g_assert_nonnull (tar);
  g_assert_cmpstr (mbd_file_entry_get_section (tar), ==, "d\u00e9vel");
}

static void
test_changes_duplicate_file (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A file listed twice in one field is refused, naming both lines");
  g_autofree char *line = tar_line (fixture, mbd_file_entry_get_sha256 (fixture->tar));
  g_autofree char *twice = g_strconcat (line, line, NULL);
  g_autofree char *text = replace (fixture->text, line, twice);
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where
      = g_strdup_printf ("%s:%d: field Checksums-Sha256: file “%s” is listed "
                         "twice (first on line %d)",
                         fixture->path, LINE_SHA256_TAR + 1, TAR_NAME, LINE_SHA256_TAR);
  assert_message_contains (error, where);
}

static void
test_changes_size_differs (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Files and Checksums-Sha256 giving different sizes for a file is refused");
  g_autofree char *line = tar_line (fixture, mbd_file_entry_get_sha256 (fixture->tar));
  g_autofree char *size
      = g_strdup_printf (" %" G_GUINT64_FORMAT " ", mbd_file_entry_get_size (fixture->tar));
  g_autofree char *other = replace (line, size, " 1 ");
  g_autofree char *text = replace (fixture->text, line, other);
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where = g_strdup_printf ("%s:%d: field Checksums-Sha256: file “%s” has size 1",
                                            fixture->path, LINE_SHA256_TAR, TAR_NAME);
  assert_message_contains (error, where);
}

static void
test_changes_two_dsc (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A .changes listing two .dsc files is refused");
  write_file (fixture->dir, "bar_1.0-1.dsc", TAR_CONTENT, -1);
  g_autofree char *text = replace (fixture->text, TAR_NAME, "bar_1.0-1.dsc");
  g_autoptr (MbdChanges) changes = load_changes (fixture, text, -1, &error);
  g_assert_null (changes);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_autofree char *where
      = g_strdup_printf ("%s:%d: field Files lists two .dsc files", fixture->path, LINE_FILES);
  assert_message_contains (error, where);
}

/* Loads the fixture's valid .changes, which must parse. */
static MbdChanges *
load_valid (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;
  MbdChanges *changes = load_changes (fixture, fixture->text, -1, &error);

  g_assert_no_error (error);
  return changes;
}

static void
test_changes_verify_checksum (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdChanges) changes = load_valid (fixture);

  g_test_summary ("A listed file with other content fails verification with "
                  "MBD_ERROR_CHECKSUM_MISMATCH naming the .changes and the file");
  g_autofree char *other = g_strdup (TAR_CONTENT);
  other[0] = 'N';
  write_file (fixture->dir, TAR_NAME, other, -1);
  g_assert_false (mbd_changes_verify_files (changes, fixture->dir, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_CHECKSUM_MISMATCH);
  g_autofree char *prefix
      = g_strdup_printf ("%s: SHA256 checksum mismatch for file “%s”", fixture->path, TAR_NAME);
  assert_message_contains (error, prefix);
  assert_message_contains (error, mbd_file_entry_get_sha256 (fixture->tar));
}

static void
test_changes_verify_size (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdChanges) changes = load_valid (fixture);

  g_test_summary ("A listed file of another size fails verification with "
                  "MBD_ERROR_SIZE_MISMATCH naming the .changes, the file and both sizes");
  write_file (fixture->dir, TAR_NAME, "short", -1);
  g_assert_false (mbd_changes_verify_files (changes, fixture->dir, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_SIZE_MISMATCH);
  g_autofree char *message
      = g_strdup_printf ("%s: File “%s” has 5 bytes, but %" G_GUINT64_FORMAT " are listed",
                         fixture->path, TAR_NAME, mbd_file_entry_get_size (fixture->tar));
  assert_message_contains (error, message);
}

static void
test_changes_verify_missing (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdChanges) changes = load_valid (fixture);
  g_autofree char *path = g_build_filename (fixture->dir, DSC_NAME, NULL);

  g_test_summary ("A listed file that is missing fails verification with MBD_ERROR_MISSING_FILE");
  g_assert_no_errno (g_unlink (path));
  g_assert_false (mbd_changes_verify_files (changes, fixture->dir, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FILE);
  g_autofree char *message = g_strdup_printf ("%s: File “%s” is missing", fixture->path, DSC_NAME);
  assert_message_contains (error, message);
}

static void
test_changes_verify_symlink (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdChanges) changes = load_valid (fixture);
  g_autofree char *path = g_build_filename (fixture->dir, TAR_NAME, NULL);
  g_autofree char *moved = g_build_filename (fixture->dir, "elsewhere", NULL);

  g_test_summary ("A symbolic link in place of a listed file fails verification even when it "
                  "points to the right content");
  g_assert_no_errno (g_rename (path, moved));
  g_assert_no_errno (symlink (moved, path));
  g_assert_false (mbd_changes_verify_files (changes, fixture->dir, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FILE);
  assert_message_contains (error, fixture->path);
  assert_message_contains (error, "symbolic link");
}

/* --- Real source packages built by dpkg-source and dpkg-genchanges --- */

typedef struct
{
  char *dir;      /* holds the source package files */
  char *dsc_path; /* dir/mbdtest_1.0-1.dsc */
  char *changes_path;
} SourceFixture;

static void
run (const char *cwd, const char *const *argv, char **out_stdout)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_subprocess_launcher_set_cwd (launcher, cwd);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_autoptr (GSubprocess) proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (proc))
    g_error ("%s failed: %s", argv[0], err);
  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);
}

/* Builds the source package once per test program; each test gets a copy. */
static char *source_template;

static void
build_source_template (void)
{
  source_template = mbd_test_make_tmpdir ();
  g_autofree char *tree = g_build_filename (source_template, "mbdtest-1.0", NULL);
  g_autofree char *debian = g_build_filename (tree, "debian", NULL);
  g_autofree char *source = g_build_filename (debian, "source", NULL);
  g_assert_no_errno (g_mkdir_with_parents (source, 0755));
  write_file (tree, "README", "Upstream readme\n", -1);

  const char *tar_argv[] = { "tar",         "--owner=0",
                             "--group=0",   "--mtime=2024-01-01",
                             "-czf",        "mbdtest_1.0.orig.tar.gz",
                             "mbdtest-1.0", NULL };
  run (source_template, tar_argv, NULL);

  write_file (source, "format", "3.0 (quilt)\n", -1);
  write_file (debian, "control",
              "Source: mbdtest\n"
              "Section: devel\n"
              "Priority: optional\n"
              "Maintainer: Test Maintainer <test@example.org>\n"
              "Standards-Version: 4.6.2\n"
              "\n"
              "Package: mbdtest\n"
              "Architecture: any\n"
              "Description: test package\n"
              " A test package.\n"
              "\n"
              "Package: mbdtest-data\n"
              "Architecture: all\n"
              "Description: test package data\n"
              " Its data.\n",
              -1);
  write_file (debian, "changelog",
              "mbdtest (1.0-1) bookworm-test-unstable; urgency=low\n"
              "\n"
              "  * Initial release.\n"
              "\n"
              " -- Test Maintainer <test@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n",
              -1);

  const char *source_argv[] = { "dpkg-source", "-b", ".", NULL };
  run (tree, source_argv, NULL);
  const char *changes_argv[] = { "dpkg-genchanges", "-S", "-sa", NULL };
  g_autofree char *changes = NULL;
  run (tree, changes_argv, &changes);
  write_file (source_template, "mbdtest_1.0-1_source.changes", changes, -1);
  mbd_test_rm_rf (tree);
}

static void
source_fixture_setup (SourceFixture *fixture, gconstpointer user_data)
{
  g_autofree char *dpkg_source = g_find_program_in_path ("dpkg-source");
  g_autofree char *dpkg_genchanges = g_find_program_in_path ("dpkg-genchanges");

  if (dpkg_source == NULL || dpkg_genchanges == NULL)
    {
      g_test_skip ("dpkg-source and dpkg-genchanges (dpkg-dev) are needed");
      return;
    }
  if (source_template == NULL)
    build_source_template ();

  fixture->dir = mbd_test_make_tmpdir ();
  g_autofree char *from = g_build_filename (source_template, ".", NULL);
  const char *cp_argv[] = { "cp", "-a", "--", from, fixture->dir, NULL };
  run (fixture->dir, cp_argv, NULL);
  fixture->dsc_path = g_build_filename (fixture->dir, "mbdtest_1.0-1.dsc", NULL);
  fixture->changes_path = g_build_filename (fixture->dir, "mbdtest_1.0-1_source.changes", NULL);
}

static void
source_fixture_teardown (SourceFixture *fixture, gconstpointer user_data)
{
  mbd_test_rm_rf (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->dsc_path);
  g_free (fixture->changes_path);
}

static void
test_dsc_dpkg_source (SourceFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (fixture->dir == NULL)
    return;
  g_test_summary ("A .dsc written by dpkg-source parses, and its files verify");
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_file (fixture->dsc_path, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (mbd_dsc_get_name (dsc), ==, fixture->dsc_path);
  g_assert_false (mbd_dsc_is_signed (dsc));
  g_assert_cmpstr (mbd_dsc_get_format (dsc), ==, "3.0 (quilt)");
  g_assert_cmpstr (mbd_dsc_get_source (dsc), ==, "mbdtest");
  g_assert_cmpstr (mbd_dsc_get_version (dsc), ==, "1.0-1");
  g_assert_cmpstr (mbd_dsc_get_maintainer (dsc), ==, "Test Maintainer <test@example.org>");
  g_assert_cmpstr (mbd_paragraph_get (mbd_dsc_get_paragraph (dsc), "Standards-Version"), ==,
                   "4.6.2");
  g_assert_true (MBD_IS_CONTROL (mbd_dsc_get_control (dsc)));
  g_auto (GStrv) binaries = mbd_dsc_get_binaries (dsc);
  const char *const expected_binaries[] = { "mbdtest", "mbdtest-data", NULL };
  g_assert_cmpstrv (binaries, expected_binaries);
  g_auto (GStrv) architectures = mbd_dsc_get_architectures (dsc);
  const char *const expected_architectures[] = { "any", "all", NULL };
  g_assert_cmpstrv (architectures, expected_architectures);

  g_autoptr (GPtrArray) files = mbd_dsc_get_files (dsc);
  const char *names[] = { "mbdtest_1.0.orig.tar.gz", "mbdtest_1.0-1.debian.tar.xz" };
  g_assert_cmpuint (files->len, ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < files->len; i++)
    {
      MbdFileEntry *entry = g_ptr_array_index (files, i);
      g_autoptr (MbdFileEntry) actual
                 = mbd_file_entry_new_from_file (fixture->dir, names[i], NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (mbd_file_entry_get_name (entry), ==, names[i]);
      g_assert_cmpuint (mbd_file_entry_get_size (entry), ==, mbd_file_entry_get_size (actual));
      g_assert_cmpstr (mbd_file_entry_get_md5 (entry), ==, mbd_file_entry_get_md5 (actual));
      g_assert_cmpstr (mbd_file_entry_get_sha1 (entry), ==, mbd_file_entry_get_sha1 (actual));
      g_assert_cmpstr (mbd_file_entry_get_sha256 (entry), ==, mbd_file_entry_get_sha256 (actual));
      g_assert_null (mbd_file_entry_get_section (entry));
      g_assert_true (mbd_dsc_get_file (dsc, names[i]) != NULL);
    }
  g_assert_null (mbd_dsc_get_file (dsc, "mbdtest_1.0-1.dsc"));

  g_assert_true (mbd_dsc_verify_files (dsc, fixture->dir, NULL, &error));
  g_assert_no_error (error);
}

static void
test_dsc_corrupted (SourceFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (fixture->dir == NULL)
    return;
  g_test_summary ("A changed orig tarball fails .dsc verification, naming the .dsc and the file");
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_file (fixture->dsc_path, &error);
  g_assert_no_error (error);

  g_autofree char *orig = g_build_filename (fixture->dir, "mbdtest_1.0.orig.tar.gz", NULL);
  g_autofree char *data = NULL;
  gsize length = 0;
  g_file_get_contents (orig, &data, &length, &error);
  g_assert_no_error (error);
  data[length / 2] ^= 0x20;
  g_file_set_contents (orig, data, length, &error);
  g_assert_no_error (error);

  g_assert_false (mbd_dsc_verify_files (dsc, fixture->dir, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_CHECKSUM_MISMATCH);
  g_autofree char *message = g_strdup_printf ("%s: SHA256 checksum mismatch for file "
                                              "“mbdtest_1.0.orig.tar.gz”",
                                              fixture->dsc_path);
  assert_message_contains (error, message);
}

static void
test_dsc_missing_field (SourceFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (fixture->dir == NULL)
    return;
  g_test_summary ("A .dsc without Version gives MBD_ERROR_MISSING_FIELD naming field and file");
  g_autofree char *text = read_file (fixture->dsc_path);
  g_autofree char *broken = replace (text, "\nVersion:", "\nX-Version:");
  g_autoptr (GBytes) bytes = g_bytes_new (broken, strlen (broken));
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_bytes (bytes, "broken.dsc", &error);
  g_assert_null (dsc);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FIELD);
  assert_message_contains (error, "broken.dsc: mandatory field “Version” is missing");
}

static void
test_dsc_files_mismatch (SourceFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (fixture->dir == NULL)
    return;
  g_test_summary ("A .dsc whose Checksums-Sha256 names another file than Files is refused");
  g_autofree char *text = read_file (fixture->dsc_path);
  /* Rename the tarball in the last field (Files) only */
  const char *files = strstr (text, "\nFiles:");
  g_assert_nonnull (files);
  g_autofree char *head = g_strndup (text, files - text);
  g_autofree char *tail = replace (files, "debian.tar.xz", "debian.tar.gz");
  g_autofree char *broken = g_strconcat (head, tail, NULL);
  g_autoptr (GBytes) bytes = g_bytes_new (broken, strlen (broken));
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_bytes (bytes, "broken.dsc", &error);
  g_assert_null (dsc);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  assert_message_contains (error, "broken.dsc:");
  assert_message_contains (error, "“mbdtest_1.0-1.debian.tar.xz” is not listed in field Files");
}

static void
test_dsc_signed (SourceFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (fixture->dir == NULL)
    return;
  g_test_summary ("A clear-signed .dsc parses with is_signed TRUE");
  g_autofree char *home = g_build_filename (fixture->dir, "gnupg", NULL);
  g_autofree char *signed_path = g_build_filename (fixture->dir, "signed.dsc", NULL);
  g_autofree char *fingerprint = mbd_test_make_key (home, "Maint <m@example.org>", NULL, NULL);
  const char *argv[] = { "--local-user", fingerprint,       "--output", signed_path,
                         "--clearsign",  fixture->dsc_path, NULL };
  g_free (mbd_test_gpg (home, argv));
  mbd_test_kill_agent (home);

  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_file (signed_path, &error);
  g_assert_no_error (error);
  g_assert_true (mbd_dsc_is_signed (dsc));
  g_assert_cmpstr (mbd_dsc_get_source (dsc), ==, "mbdtest");
  g_assert_true (mbd_dsc_verify_files (dsc, fixture->dir, NULL, &error));
  g_assert_no_error (error);
}

static void
test_changes_dpkg_genchanges (SourceFixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (fixture->dir == NULL)
    return;
  g_test_summary ("A .changes written by dpkg-genchanges parses; its files, and the files of the "
                  ".dsc it lists, verify");
  g_autoptr (MbdChanges) changes = mbd_changes_new_from_file (fixture->changes_path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_changes_get_source (changes), ==, "mbdtest");
  g_assert_cmpstr (mbd_changes_get_version (changes), ==, "1.0-1");
  g_assert_cmpstr (mbd_changes_get_distribution (changes), ==, "bookworm-test-unstable");
  g_assert_cmpstr (mbd_changes_get_urgency (changes), ==, "low");
  g_assert_true (mbd_changes_has_architecture (changes, "source"));
  g_autoptr (GPtrArray) files = mbd_changes_get_files (changes);
  g_assert_cmpuint (files->len, ==, 3);
  for (guint i = 0; i < files->len; i++)
    {
      g_assert_cmpstr (mbd_file_entry_get_section (g_ptr_array_index (files, i)), ==, "devel");
      g_assert_cmpstr (mbd_file_entry_get_priority (g_ptr_array_index (files, i)), ==, "optional");
    }
  const MbdFileEntry *dsc_entry = mbd_changes_get_dsc_file (changes);
  g_assert_nonnull (dsc_entry);
  g_assert_cmpstr (mbd_file_entry_get_name (dsc_entry), ==, "mbdtest_1.0-1.dsc");
  g_assert_true (mbd_changes_verify_files (changes, fixture->dir, NULL, &error));
  g_assert_no_error (error);

  g_autofree char *dsc_path
      = g_build_filename (fixture->dir, mbd_file_entry_get_name (dsc_entry), NULL);
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_file (dsc_path, &error);
  g_assert_no_error (error);
  g_assert_true (mbd_dsc_verify_files (dsc, fixture->dir, NULL, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/changes/valid", test_changes_valid);
  ADD ("/changes/without-sha1", test_changes_without_sha1);
  ADD ("/changes/binnmu", test_changes_binnmu);
  ADD ("/changes/signed", test_changes_signed);
  ADD ("/changes/bad/truncated", test_changes_truncated);
  ADD ("/changes/bad/empty", test_changes_empty);
  ADD ("/changes/bad/nul-byte", test_changes_nul);
  ADD ("/changes/bad/long-line", test_changes_long_line);
  ADD ("/changes/bad/duplicate-field", test_changes_duplicate_field);
  ADD ("/changes/bad/two-paragraphs", test_changes_two_paragraphs);
  ADD ("/changes/bad/missing-field", test_changes_missing_field);
  ADD ("/changes/bad/missing-checksums", test_changes_missing_checksums);
  ADD ("/changes/bad/version", test_changes_bad_version);
  ADD ("/changes/bad/source", test_changes_bad_source);
  ADD ("/changes/bad/format", test_changes_format);
  ADD ("/changes/bad/unsafe-names", test_changes_unsafe_names);
  ADD ("/changes/bad/sha256-missing-entry", test_changes_sha256_missing_entry);
  ADD ("/changes/bad/sha256-extra-entry", test_changes_sha256_extra_entry);
  ADD ("/changes/bad/hex", test_changes_bad_hex);
  ADD ("/changes/bad/hash-length", test_changes_bad_hash_length);
  ADD ("/changes/bad/size", test_changes_bad_size);
  ADD ("/changes/bad/field-count", test_changes_field_count);
  ADD ("/changes/bad/section-priority", test_changes_section_priority);
  ADD ("/changes/bad/duplicate-file", test_changes_duplicate_file);
  ADD ("/changes/bad/size-differs", test_changes_size_differs);
  ADD ("/changes/bad/two-dsc", test_changes_two_dsc);
  ADD ("/changes/verify/checksum-mismatch", test_changes_verify_checksum);
  ADD ("/changes/verify/size-mismatch", test_changes_verify_size);
  ADD ("/changes/verify/missing-file", test_changes_verify_missing);
  ADD ("/changes/verify/symlink", test_changes_verify_symlink);
#undef ADD

#define ADD(path, func)                                                                            \
  g_test_add (path, SourceFixture, NULL, source_fixture_setup, func, source_fixture_teardown)
  ADD ("/dsc/dpkg-source", test_dsc_dpkg_source);
  ADD ("/dsc/corrupted", test_dsc_corrupted);
  ADD ("/dsc/missing-field", test_dsc_missing_field);
  ADD ("/dsc/files-mismatch", test_dsc_files_mismatch);
  ADD ("/dsc/signed", test_dsc_signed);
  ADD ("/changes/dpkg-genchanges", test_changes_dpkg_genchanges);
#undef ADD

  int status = g_test_run ();
  mbd_test_rm_rf (source_template);
  g_free (source_template);
  return status;
}
