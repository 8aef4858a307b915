/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONTENT "Hello, Debian!\n"

typedef struct
{
  char *dir;
  MbdFileEntry *entry; /* describes dir/hello.txt holding CONTENT */
} Fixture;

static void
write_file (const char *dir, const char *name, const char *content)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, content, -1, &error);
  g_assert_no_error (error);
}

static char *
checksum (GChecksumType type, const char *content)
{
  return g_compute_checksum_for_string (type, content, -1);
}

static void
fixture_setup (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *md5 = checksum (G_CHECKSUM_MD5, CONTENT);
  g_autofree char *sha1 = checksum (G_CHECKSUM_SHA1, CONTENT);
  g_autofree char *sha256 = checksum (G_CHECKSUM_SHA256, CONTENT);

  fixture->dir = mbd_test_make_tmpdir ();
  write_file (fixture->dir, "hello.txt", CONTENT);
  fixture->entry = mbd_file_entry_new ("hello.txt", strlen (CONTENT), md5, sha1, sha256, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *fixture, gconstpointer user_data)
{
  mbd_test_rm_rf (fixture->dir);
  g_free (fixture->dir);
  mbd_file_entry_free (fixture->entry);
}

static void
assert_message_contains (const GError *error, const char *needle)
{
  g_assert_nonnull (error);
  g_test_message ("error message: %s", error->message);
  if (strstr (error->message, needle) == NULL)
    g_error ("error message “%s” does not contain “%s”", error->message, needle);
}

static void
test_safe_names (void)
{
  const char *const good[] = {
    "hello_1.0-1_amd64.deb", "foo_1.0~rc1+dfsg.orig.tar.xz", "a", "UPPER.lower_0", NULL,
  };

  g_test_summary ("Names from Debian archives pass mbd_filename_is_safe()");
  for (guint i = 0; good[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (mbd_filename_is_safe (good[i], &error));
      g_assert_no_error (error);
    }

  g_autofree char *longest = g_strnfill (MBD_FILENAME_MAX_LENGTH, 'x');
  g_autoptr (GError) error = NULL;
  g_assert_true (mbd_filename_is_safe (longest, &error));
  g_assert_no_error (error);
}

static void
test_unsafe_names (void)
{
  g_autofree char *too_long = g_strnfill (MBD_FILENAME_MAX_LENGTH + 1, 'x');
  const struct
  {
    const char *name;
    const char *in_message; /* the name as it appears (escaped) in the message */
    const char *reason;
  } bad[] = {
    { "", "“”", "empty" },
    { ".", "“.”", "directory" },
    { "..", "“..”", "directory" },
    { "../etc/passwd", "../etc/passwd", "directory part" },
    { "sub/dir", "sub/dir", "directory part" },
    { "/etc/passwd", "/etc/passwd", "directory part" },
    { "back\\slash", "back\\\\slash", "directory part" },
    { ".hidden", ".hidden", "starts with “.”" },
    { "-rf", "-rf", "starts with “-”" },
    { "with space", "with space", "white space" },
    { "tab\tname", "tab\\tname", "white space (0x09)" },
    { "new\nline", "new\\nline", "0x0a" },
    { "bell\a", "bell\\007", "control character 0x07" },
    { "del\x7f", "del\\177", "control character 0x7f" },
    { "foo_1:1.0.dsc", "foo_1:1.0.dsc", "“:”" },
    { "semi;colon", "semi;colon", "“;”" },
    { "dollar$x", "dollar$x", "“$”" },
    { "star*", "star*", "“*”" },
    { "\xc3\xbcmlaut", "\\303\\274mlaut", "non-ASCII" },
    { too_long, "xxxxxxxxxx", "256 bytes" },
  };

  g_test_summary ("Every kind of unsafe name is refused with MBD_ERROR_UNSAFE_FILENAME, and the "
                  "message shows the (escaped) name and the reason");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("name %u: %s", i, bad[i].in_message);
      g_assert_false (mbd_filename_is_safe (bad[i].name, &error));
      g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSAFE_FILENAME);
      assert_message_contains (error, bad[i].in_message);
      assert_message_contains (error, bad[i].reason);
    }
}

static void
test_new (void)
{
  g_autoptr (GError) error = NULL;
  const char *md5 = "D41D8CD98F00B204E9800998ECF8427E";

  g_test_summary (
      "mbd_file_entry_new() stores checksums in lower case and leaves unlisted ones NULL");
  g_autoptr (MbdFileEntry) entry = mbd_file_entry_new ("empty", 0, md5, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_file_entry_get_name (entry), ==, "empty");
  g_assert_cmpuint (mbd_file_entry_get_size (entry), ==, 0);
  g_assert_cmpstr (mbd_file_entry_get_md5 (entry), ==, "d41d8cd98f00b204e9800998ecf8427e");
  g_assert_null (mbd_file_entry_get_sha1 (entry));
  g_assert_null (mbd_file_entry_get_sha256 (entry));
  g_assert_null (mbd_file_entry_get_section (entry));
  g_assert_null (mbd_file_entry_get_priority (entry));

  mbd_file_entry_set_section (entry, "devel");
  mbd_file_entry_set_priority (entry, "optional");
  g_autoptr (MbdFileEntry) copy = g_boxed_copy (MBD_TYPE_FILE_ENTRY, entry);
  g_assert_cmpstr (mbd_file_entry_get_section (copy), ==, "devel");
  g_assert_cmpstr (mbd_file_entry_get_priority (copy), ==, "optional");
  g_assert_cmpstr (mbd_file_entry_get_md5 (copy), ==, mbd_file_entry_get_md5 (entry));
}

static void
test_new_bad (void)
{
  g_test_summary ("mbd_file_entry_new() refuses unsafe names and malformed checksums, naming them");

  g_autoptr (GError) error = NULL;
  g_autoptr (MbdFileEntry) unsafe = mbd_file_entry_new ("../x", 1, NULL, NULL, NULL, &error);
  g_assert_null (unsafe);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSAFE_FILENAME);
  assert_message_contains (error, "../x");
  g_clear_error (&error);

  g_autoptr (MbdFileEntry) short_md5 = mbd_file_entry_new ("x", 1, "abc", NULL, NULL, &error);
  g_assert_null (short_md5);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  assert_message_contains (error, "MD5");
  assert_message_contains (error, "“abc”");
  g_clear_error (&error);

  g_autofree char *not_hex = g_strnfill (64, 'g');
  g_autoptr (MbdFileEntry) bad_sha = mbd_file_entry_new ("x", 1, NULL, NULL, not_hex, &error);
  g_assert_null (bad_sha);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  assert_message_contains (error, "SHA256");
  assert_message_contains (error, not_hex);
}

static void
test_new_from_file (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("mbd_file_entry_new_from_file() computes size and all three checksums");
  g_autoptr (MbdFileEntry) entry
             = mbd_file_entry_new_from_file (fixture->dir, "hello.txt", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_file_entry_get_name (entry), ==, "hello.txt");
  g_assert_cmpuint (mbd_file_entry_get_size (entry), ==, strlen (CONTENT));
  g_assert_cmpstr (mbd_file_entry_get_md5 (entry), ==, mbd_file_entry_get_md5 (fixture->entry));
  g_assert_cmpstr (mbd_file_entry_get_sha1 (entry), ==, mbd_file_entry_get_sha1 (fixture->entry));
  g_assert_cmpstr (mbd_file_entry_get_sha256 (entry), ==,
                   mbd_file_entry_get_sha256 (fixture->entry));

  g_autoptr (MbdFileEntry) missing
             = mbd_file_entry_new_from_file (fixture->dir, "nope.txt", NULL, &error);
  g_assert_null (missing);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FILE);
  assert_message_contains (error, "nope.txt");
}

static void
test_new_from_large_file (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  gsize size = 3 * 1024 * 1024 + 17; /* several read chunks and a partial one */
  g_autofree guchar *data = g_malloc (size);

  g_test_summary ("Checksums over several read chunks equal those over the whole data");
  for (gsize i = 0; i < size; i++)
    data[i] = (guchar) (i * 7 + i / 251);
  g_autofree char *path = g_build_filename (fixture->dir, "large.bin", NULL);
  g_file_set_contents (path, (const char *) data, size, &error);
  g_assert_no_error (error);

  g_autoptr (MbdFileEntry) entry
             = mbd_file_entry_new_from_file (fixture->dir, "large.bin", NULL, &error);
  g_assert_no_error (error);
  g_autofree char *sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size);
  g_autofree char *md5 = g_compute_checksum_for_data (G_CHECKSUM_MD5, data, size);
  g_assert_cmpuint (mbd_file_entry_get_size (entry), ==, size);
  g_assert_cmpstr (mbd_file_entry_get_sha256 (entry), ==, sha256);
  g_assert_cmpstr (mbd_file_entry_get_md5 (entry), ==, md5);

  g_assert_true (mbd_file_entry_verify (entry, fixture->dir, NULL, &error));
  g_assert_no_error (error);
}

static void
test_verify_ok (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A file with the listed size and checksums verifies");
  g_assert_true (mbd_file_entry_verify (fixture->entry, fixture->dir, NULL, &error));
  g_assert_no_error (error);

  g_autofree char *sha256 = checksum (G_CHECKSUM_SHA256, CONTENT);
  g_autoptr (MbdFileEntry) only_sha256
             = mbd_file_entry_new ("hello.txt", strlen (CONTENT), NULL, NULL, sha256, &error);
  g_assert_no_error (error);
  g_assert_true (mbd_file_entry_verify (only_sha256, fixture->dir, NULL, &error));
  g_assert_no_error (error);
}

static void
test_verify_missing (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_autofree char *path = g_build_filename (fixture->dir, "hello.txt", NULL);

  g_test_summary ("A listed file that is not there gives MBD_ERROR_MISSING_FILE naming it");
  g_assert_no_errno (g_unlink (path));
  g_assert_false (mbd_file_entry_verify (fixture->entry, fixture->dir, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FILE);
  assert_message_contains (error, "“hello.txt”");
  assert_message_contains (error, fixture->dir);
}

static void
test_verify_size (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A file of another size gives MBD_ERROR_SIZE_MISMATCH with both sizes");
  write_file (fixture->dir, "hello.txt", CONTENT "more");
  g_assert_false (mbd_file_entry_verify (fixture->entry, fixture->dir, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_SIZE_MISMATCH);
  assert_message_contains (error, "“hello.txt”");
  assert_message_contains (error, "has 19 bytes");
  assert_message_contains (error, "but 15 are listed");
}

static void
test_verify_checksum (Fixture *fixture, gconstpointer user_data)
{
  const char *other = "Hello, Debian?\n"; /* same size */
  const struct
  {
    const char *label;
    GChecksumType type;
  } algorithms[] = {
    { "MD5", G_CHECKSUM_MD5 },
    { "SHA1", G_CHECKSUM_SHA1 },
    { "SHA256", G_CHECKSUM_SHA256 },
  };

  g_test_summary ("Each listed checksum is compared; a mismatch names the algorithm, the file, "
                  "the expected and the actual value");
  write_file (fixture->dir, "hello.txt", other);
  for (guint i = 0; i < G_N_ELEMENTS (algorithms); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *expected = checksum (algorithms[i].type, CONTENT);
      g_autofree char *actual = checksum (algorithms[i].type, other);
      g_autoptr (MbdFileEntry) entry
                 = mbd_file_entry_new ("hello.txt", strlen (CONTENT), i == 0 ? expected : NULL,
                                       i == 1 ? expected : NULL, i == 2 ? expected : NULL, &error);
      g_assert_no_error (error);

      g_assert_false (mbd_file_entry_verify (entry, fixture->dir, NULL, &error));
      g_assert_error (error, MBD_ERROR, MBD_ERROR_CHECKSUM_MISMATCH);
      g_autofree char *label = g_strdup_printf ("%s checksum mismatch", algorithms[i].label);
      assert_message_contains (error, label);
      assert_message_contains (error, "“hello.txt”");
      assert_message_contains (error, expected);
      assert_message_contains (error, actual);
    }

  g_autoptr (GError) error = NULL;
  g_assert_false (mbd_file_entry_verify (fixture->entry, fixture->dir, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_CHECKSUM_MISMATCH);
  assert_message_contains (error, "SHA256"); /* the strongest is reported first */
}

static void
test_verify_symlink (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fixture->dir, "hello.txt", NULL);
  g_autofree char *target = g_build_filename (fixture->dir, "target.txt", NULL);

  g_test_summary ("A symbolic link in place of a listed file is refused even if its target "
                  "matches");
  g_assert_no_errno (g_rename (path, target));
  g_assert_no_errno (symlink ("target.txt", path));
  g_assert_false (mbd_file_entry_verify (fixture->entry, fixture->dir, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FILE);
  assert_message_contains (error, "“hello.txt”");
  assert_message_contains (error, "symbolic link");
  g_clear_error (&error);

  g_autoptr (MbdFileEntry) entry
             = mbd_file_entry_new_from_file (fixture->dir, "hello.txt", NULL, &error);
  g_assert_null (entry);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FILE);
}

static void
test_verify_not_regular (Fixture *fixture, gconstpointer user_data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "hello.txt", NULL);

  g_test_summary ("A directory or a FIFO in place of a listed file is refused (and a FIFO does "
                  "not block)");
  g_assert_no_errno (g_unlink (path));
  g_assert_no_errno (g_mkdir (path, 0700));
  g_autoptr (GError) error = NULL;
  g_assert_false (mbd_file_entry_verify (fixture->entry, fixture->dir, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FILE);
  assert_message_contains (error, "“hello.txt”");
  assert_message_contains (error, "a directory");
  g_clear_error (&error);

  g_assert_no_errno (g_rmdir (path));
  g_assert_no_errno (mkfifo (path, 0600));
  g_assert_false (mbd_file_entry_verify (fixture->entry, fixture->dir, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FILE);
  assert_message_contains (error, "a special file");
}

static void
test_verify_cancelled (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  g_test_summary ("Verification stops with G_IO_ERROR_CANCELLED when cancelled");
  g_cancellable_cancel (cancellable);
  g_assert_false (mbd_file_entry_verify (fixture->entry, fixture->dir, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/file-entry/safe-names", test_safe_names);
  g_test_add_func ("/file-entry/unsafe-names", test_unsafe_names);
  g_test_add_func ("/file-entry/new", test_new);
  g_test_add_func ("/file-entry/new-bad", test_new_bad);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/file-entry/new-from-file", test_new_from_file);
  ADD ("/file-entry/new-from-large-file", test_new_from_large_file);
  ADD ("/file-entry/verify/ok", test_verify_ok);
  ADD ("/file-entry/verify/missing", test_verify_missing);
  ADD ("/file-entry/verify/size-mismatch", test_verify_size);
  ADD ("/file-entry/verify/checksum-mismatch", test_verify_checksum);
  ADD ("/file-entry/verify/symlink", test_verify_symlink);
  ADD ("/file-entry/verify/not-regular", test_verify_not_regular);
  ADD ("/file-entry/verify/cancelled", test_verify_cancelled);
#undef ADD
  return g_test_run ();
}
