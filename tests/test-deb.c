/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include "mbd-deb-private.h"

#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONTROL                                                                                    \
  "Package: mbdtest-bin\n"                                                                         \
  "Source: mbdtest (1.0-1)\n"                                                                      \
  "Version: 2:1.0~rc1-1+b1\n"                                                                      \
  "Architecture: all\n"                                                                            \
  "Maintainer: Test Maintainer <test@example.org>\n"                                               \
  "Description: test package\n"                                                                    \
  " A test package.\n"

/* Size of an incompressible file in the packages built with dpkg-deb */
#define RANDOM_SIZE (512 * 1024)

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *fixture, gconstpointer user_data)
{
  fixture->dir = mbd_test_make_tmpdir ();
}

static void
fixture_teardown (Fixture *fixture, gconstpointer user_data)
{
  mbd_test_rm_rf (fixture->dir);
  g_free (fixture->dir);
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
write_file (const char *path, const char *content, gssize length, int mode)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, content, length, &error);
  g_assert_no_error (error);
  g_assert_no_errno (g_chmod (path, mode));
}

/* Builds a package with dpkg-deb -Z@compression and returns its path. */
static char *
build_with_dpkg_deb (Fixture *fixture, const char *compression)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *root = g_build_filename (fixture->dir, "root", NULL);
  g_autofree char *debian = g_build_filename (root, "DEBIAN", NULL);
  g_autofree char *bin = g_build_filename (root, "usr", "bin", NULL);
  g_autofree char *doc = g_build_filename (root, "usr", "share", "doc", "mbdtest-bin", NULL);

  g_assert_no_errno (g_mkdir_with_parents (debian, 0755));
  g_assert_no_errno (g_mkdir_with_parents (bin, 0755));
  g_assert_no_errno (g_mkdir_with_parents (doc, 0755));
  g_assert_no_errno (g_chmod (root, 0755));

  g_autofree char *control = g_build_filename (debian, "control", NULL);
  write_file (control, CONTROL, -1, 0644);
  g_autofree char *postinst = g_build_filename (debian, "postinst", NULL);
  write_file (postinst, "#!/bin/sh\nexit 0\n", -1, 0755);
  g_autofree char *hello = g_build_filename (bin, "hello", NULL);
  write_file (hello, "#!/bin/sh\necho hello\n", -1, 0755);
  g_autofree char *readme = g_build_filename (doc, "README", NULL);
  write_file (readme, "Read me.\n", -1, 0644);
  /* Incompressible, so that the data member spans many reads of the streaming reader */
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  g_autoptr (GByteArray) noise = g_byte_array_sized_new (RANDOM_SIZE);
  for (guint i = 0; i < RANDOM_SIZE / 4; i++)
    {
      guint32 word = g_rand_int (rand);
      g_byte_array_append (noise, (const guint8 *) &word, 4);
    }
  g_autofree char *random = g_build_filename (doc, "random.bin", NULL);
  write_file (random, (const char *) noise->data, noise->len, 0644);
  g_autofree char *link = g_build_filename (bin, "hi", NULL);
  g_assert_no_errno (symlink ("hello", link));

  g_autofree char *deb = g_strdup_printf ("%s/mbdtest-bin_%s.deb", fixture->dir, compression);
  g_autofree char *z = g_strdup_printf ("-Z%s", compression);
  const char *argv[] = { "dpkg-deb", "--root-owner-group", z, "--build", root, deb, NULL };
  g_autoptr (GSubprocess) proc
             = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check (proc, NULL, &error);
  g_assert_no_error (error);
  mbd_test_rm_rf (root);
  return g_steal_pointer (&deb);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
test_dpkg_deb (Fixture *fixture, gconstpointer user_data)
{
  const char *compression = user_data;
  g_autoptr (GError) error = NULL;

  g_test_summary ("A package built by dpkg-deb with each compression gives its control fields, "
                  "control members and file list");
  g_autofree char *path = build_with_dpkg_deb (fixture, compression);
  g_autoptr (MbdDeb) deb = mbd_deb_new_from_file (path, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (mbd_deb_get_path (deb), ==, path);
  g_assert_cmpstr (mbd_deb_get_package (deb), ==, "mbdtest-bin");
  g_assert_cmpstr (mbd_deb_get_version (deb), ==, "2:1.0~rc1-1+b1");
  g_assert_cmpstr (mbd_deb_get_architecture (deb), ==, "all");
  g_assert_cmpstr (mbd_deb_get_source (deb), ==, "mbdtest");
  g_assert_cmpstr (mbd_paragraph_get (mbd_deb_get_control (deb), "Maintainer"), ==,
                   "Test Maintainer <test@example.org>");
  g_assert_cmpstr (mbd_deb_get_control_compression (deb), ==, compression);
  g_assert_cmpstr (mbd_deb_get_data_compression (deb), ==, compression);

  /* the control-only reader gives the same control data and no file list */
  g_autoptr (MbdDeb) control_only = mbd_deb_new_from_file_control_only (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_deb_get_source (control_only), ==, "mbdtest");
  g_assert_cmpstr (mbd_deb_get_version (control_only), ==, "2:1.0~rc1-1+b1");
  g_assert_cmpstr (mbd_deb_get_data_compression (control_only), ==, compression);
  g_auto (GStrv) no_files = mbd_deb_get_files (control_only);
  g_assert_cmpuint (g_strv_length (no_files), ==, 0);

  g_auto (GStrv) members = mbd_deb_get_control_members (deb);
  qsort (members, g_strv_length (members), sizeof (char *), compare_strings);
  const char *const expected_members[] = { "control", "postinst", NULL };
  g_assert_cmpstrv (members, expected_members);

  g_auto (GStrv) files = mbd_deb_get_files (deb);
  qsort (files, g_strv_length (files), sizeof (char *), compare_strings);
  const char *const expected_files[] = {
    "/usr",
    "/usr/bin",
    "/usr/bin/hello",
    "/usr/bin/hi",
    "/usr/share",
    "/usr/share/doc",
    "/usr/share/doc/mbdtest-bin",
    "/usr/share/doc/mbdtest-bin/README",
    "/usr/share/doc/mbdtest-bin/random.bin",
    NULL,
  };
  g_assert_cmpstrv (files, expected_files);
}

/* --- Hand-made packages, to reach what dpkg-deb never writes --- */

typedef struct
{
  const char *path;
  const char *content; /* NULL for a directory */
} TarEntry;

static la_ssize_t
append_cb (struct archive *a, void *user_data, const void *buffer, size_t length)
{
  g_byte_array_append (user_data, buffer, length);
  return length;
}

/* A tar archive of @entries, compressed with libarchive's filter @filter (NULL for none). */
static GBytes *
make_tar (const char *filter, const TarEntry *entries, guint n_entries)
{
  struct archive *a = archive_write_new ();
  GByteArray *out = g_byte_array_new ();

  g_assert_cmpint (archive_write_set_format_gnutar (a), ==, ARCHIVE_OK);
  if (filter != NULL)
    g_assert_cmpint (archive_write_add_filter_by_name (a, filter), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_open (a, out, NULL, append_cb, NULL), ==, ARCHIVE_OK);
  for (guint i = 0; i < n_entries; i++)
    {
      struct archive_entry *entry = archive_entry_new ();
      gsize size = entries[i].content != NULL ? strlen (entries[i].content) : 0;

      archive_entry_set_pathname (entry, entries[i].path);
      archive_entry_set_filetype (entry, entries[i].content != NULL ? AE_IFREG : AE_IFDIR);
      archive_entry_set_perm (entry, entries[i].content != NULL ? 0644 : 0755);
      archive_entry_set_size (entry, size);
      g_assert_cmpint (archive_write_header (a, entry), ==, ARCHIVE_OK);
      if (size > 0)
        g_assert_cmpint (archive_write_data (a, entries[i].content, size), ==, (la_ssize_t) size);
      archive_entry_free (entry);
    }
  g_assert_cmpint (archive_write_close (a), ==, ARCHIVE_OK);
  archive_write_free (a);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
make_control_tar (const char *filter, const char *control)
{
  const TarEntry entries[] = { { "./", NULL }, { "./control", control } };
  return make_tar (filter, entries, G_N_ELEMENTS (entries));
}

static GBytes *
make_data_tar (const char *filter)
{
  const TarEntry entries[] = {
    { "./", NULL },
    { "./usr/", NULL },
    { "./usr/share/", NULL },
    { "./usr/share/mbdtest", "data\n" },
  };
  return make_tar (filter, entries, G_N_ELEMENTS (entries));
}

typedef struct
{
  const char *name;
  GBytes *data;
} ArMember;

/* Writes an ar archive of @members (terminated by a NULL name) to @path; frees the data. */
static void
write_ar (const char *path, ArMember *members)
{
  g_autoptr (GString) ar = g_string_new ("!<arch>\n");

  for (guint i = 0; members[i].name != NULL; i++)
    {
      gsize size = 0;
      const char *data = g_bytes_get_data (members[i].data, &size);

      g_assert_cmpuint (strlen (members[i].name), <=, 16);
      g_string_append_printf (ar, "%-16s%-12s%-6s%-6s%-8s%-10" G_GSIZE_FORMAT "`\n",
                              members[i].name, "0", "0", "0", "100644", size);
      g_string_append_len (ar, data, size);
      if (size % 2 == 1)
        g_string_append_c (ar, '\n');
      g_bytes_unref (members[i].data);
    }
  write_file (path, ar->str, ar->len, 0644);
}

static GBytes *
text (const char *content)
{
  return g_bytes_new (content, strlen (content));
}

static char *
deb_path (Fixture *fixture)
{
  return g_build_filename (fixture->dir, "handmade.deb", NULL);
}

static void
test_bzip2_data (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = deb_path (fixture);

  g_test_summary ("A data.tar.bz2 member (older packages) is read; members starting with _ are "
                  "skipped");
  ArMember members[] = {
    { "debian-binary", text ("2.0\n") },
    { "_gpgorigin", text ("ignored") },
    { "control.tar.gz", make_control_tar ("gzip", CONTROL) },
    { "data.tar.bz2", make_data_tar ("bzip2") },
    { NULL, NULL },
  };
  write_ar (path, members);

  g_autoptr (MbdDeb) deb = mbd_deb_new_from_file (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_deb_get_data_compression (deb), ==, "bzip2");
  g_assert_cmpstr (mbd_deb_get_control_compression (deb), ==, "gzip");
  g_auto (GStrv) files = mbd_deb_get_files (deb);
  const char *const expected[] = { "/usr", "/usr/share", "/usr/share/mbdtest", NULL };
  g_assert_cmpstrv (files, expected);
  g_auto (GStrv) control_members = mbd_deb_get_control_members (deb);
  const char *const expected_members[] = { "control", NULL };
  g_assert_cmpstrv (control_members, expected_members);
}

/* Writes @members as the fixture's .deb and asserts that reading it fails with @code and a
 * message naming the file and containing @needle. */
static void
assert_refused (Fixture *fixture, ArMember *members, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = deb_path (fixture);

  write_ar (path, members);
  g_autoptr (MbdDeb) deb = mbd_deb_new_from_file (path, NULL, &error);
  g_assert_null (deb);
  g_assert_error (error, MBD_ERROR, code);
  assert_message_contains (error, path);
  assert_message_contains (error, needle);
}

static void
test_no_control (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("An ar archive without a control.tar member is refused");
  ArMember members[] = {
    { "debian-binary", text ("2.0\n") },
    { "data.tar.gz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, members, MBD_ERROR_PARSE, "no control.tar member");
}

static void
test_no_data (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("An ar archive without a data.tar member is refused");
  ArMember members[] = {
    { "debian-binary", text ("2.0\n") },
    { "control.tar.xz", make_control_tar ("xz", CONTROL) },
    { NULL, NULL },
  };
  assert_refused (fixture, members, MBD_ERROR_PARSE, "no data.tar member");
}

static void
test_first_member (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("An ar archive that does not start with debian-binary is refused");
  ArMember members[] = {
    { "control.tar.xz", make_control_tar ("xz", CONTROL) },
    { "debian-binary", text ("2.0\n") },
    { "data.tar.gz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, members, MBD_ERROR_PARSE, "the first member is “control.tar.xz”");
}

static void
test_format_version (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("debian-binary other than 2.x is unsupported; one that is no version is "
                  "malformed");
  ArMember future[] = {
    { "debian-binary", text ("3.0\n") },
    { "control.tar.xz", make_control_tar ("xz", CONTROL) },
    { "data.tar.gz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, future, MBD_ERROR_UNSUPPORTED, "format version 3.0");

  ArMember garbage[] = {
    { "debian-binary", text ("hello world\n") },
    { "control.tar.xz", make_control_tar ("xz", CONTROL) },
    { "data.tar.gz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, garbage, MBD_ERROR_PARSE, "“hello world”");
}

static void
test_unknown_compression (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("control.tar and data.tar with a compression the reader does not know are "
                  "MBD_ERROR_UNSUPPORTED");
  ArMember control_lzma[] = {
    { "debian-binary", text ("2.0\n") },
    { "control.tar.lzma", make_control_tar ("lzma", CONTROL) },
    { "data.tar.gz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, control_lzma, MBD_ERROR_UNSUPPORTED, "“control.tar.lzma”");

  ArMember control_bz2[] = {
    { "debian-binary", text ("2.0\n") },
    { "control.tar.bz2", make_control_tar ("bzip2", CONTROL) },
    { "data.tar.gz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, control_bz2, MBD_ERROR_UNSUPPORTED, "“control.tar.bz2”");

  ArMember data_lzma[] = {
    { "debian-binary", text ("2.0\n") },
    { "control.tar.gz", make_control_tar ("gzip", CONTROL) },
    { "data.tar.lzma", make_data_tar ("lzma") },
    { NULL, NULL },
  };
  assert_refused (fixture, data_lzma, MBD_ERROR_UNSUPPORTED, "“data.tar.lzma”");
}

static void
test_compression_mismatch (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A member whose content does not match its compression suffix is refused");
  ArMember members[] = {
    { "debian-binary", text ("2.0\n") },
    { "control.tar.gz", make_control_tar ("gzip", CONTROL) },
    { "data.tar.xz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, members, MBD_ERROR_PARSE, "member “data.tar.xz”");
}

static void
test_unexpected_member (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("An unknown member between control and data is refused");
  ArMember members[] = {
    { "debian-binary", text ("2.0\n") },
    { "control.tar.gz", make_control_tar ("gzip", CONTROL) },
    { "evil", text ("payload") },
    { "data.tar.gz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, members, MBD_ERROR_PARSE, "unexpected member “evil”");
}

static void
test_no_control_file (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A control.tar without ./control is refused");
  const TarEntry entries[] = { { "./", NULL }, { "./postinst", "#!/bin/sh\n" } };
  ArMember members[] = {
    { "debian-binary", text ("2.0\n") },
    { "control.tar.gz", make_tar ("gzip", entries, G_N_ELEMENTS (entries)) },
    { "data.tar.gz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, members, MBD_ERROR_PARSE, "member “control.tar.gz” has no control file");
}

static void
test_control_missing_field (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A control file without Version is refused with MBD_ERROR_MISSING_FIELD");
  ArMember members[] = {
    { "debian-binary", text ("2.0\n") },
    { "control.tar.gz", make_control_tar ("gzip", "Package: foo\nArchitecture: all\n") },
    { "data.tar.gz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, members, MBD_ERROR_MISSING_FIELD, ":control: mandatory field “Version”");
}

static void
test_control_two_paragraphs (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A control file with two paragraphs is refused");
  ArMember members[] = {
    { "debian-binary", text ("2.0\n") },
    { "control.tar.gz", make_control_tar ("gzip", CONTROL "\nPackage: other\n") },
    { "data.tar.gz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, members, MBD_ERROR_PARSE, ":control:9: a second paragraph");
}

static void
test_control_bad_package (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A Package that is not a package name is refused");
  ArMember members[] = {
    { "debian-binary", text ("2.0\n") },
    { "control.tar.gz",
      make_control_tar ("gzip", "Package: ../x\nVersion: 1.0\nArchitecture: all\n") },
    { "data.tar.gz", make_data_tar ("gzip") },
    { NULL, NULL },
  };
  assert_refused (fixture, members, MBD_ERROR_PARSE, ":control:1: field Package: “../x”");
}

static void
test_data_dotdot (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A data.tar path that climbs out of the root is refused");
  const TarEntry entries[] = { { "./", NULL }, { "./usr/../../etc/passwd", "x\n" } };
  ArMember members[] = {
    { "debian-binary", text ("2.0\n") },
    { "control.tar.gz", make_control_tar ("gzip", CONTROL) },
    { "data.tar", make_tar (NULL, entries, G_N_ELEMENTS (entries)) },
    { NULL, NULL },
  };
  assert_refused (fixture, members, MBD_ERROR_PARSE, "“./usr/../../etc/passwd” leaves the root");
}

static void
test_truncated (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A .deb cut short anywhere (in any member or header) is refused with "
                  "MBD_ERROR_PARSE naming it");
  g_autofree char *whole = build_with_dpkg_deb (fixture, "xz");
  g_autofree char *data = NULL;
  gsize length = 0;
  g_file_get_contents (whole, &data, &length, &error);
  g_assert_no_error (error);

  /* 0: empty; 5: inside the magic; 8: magic only; 40: inside the first header; 70: inside
   * debian-binary; 100: inside the control header; then inside control and data. */
  gsize cuts[]
      = { 0, 5, 8, 40, 70, 100, 140, 300, length / 3, length / 2, length - 40, length - 2 };
  g_autofree char *path = deb_path (fixture);
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_test_message ("cut after %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes", cuts[i],
                      length);
      write_file (path, data, cuts[i], 0644);
      g_autoptr (MbdDeb) deb = mbd_deb_new_from_file (path, NULL, &error);
      g_assert_null (deb);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
      assert_message_contains (error, path);
      /* Below 8 bytes there is not even the ar magic; an empty archive has no members */
      if (cuts[i] < 8)
        assert_message_contains (error, "not a Debian binary package");
      else if (cuts[i] > 8)
        g_assert_nonnull (strstr (error->message, "runcated"));
      g_clear_error (&error);

      /* reading the control data only (as an include does) sees every cut, too */
      g_autoptr (MbdDeb) control_only = mbd_deb_new_from_file_control_only (path, NULL, &error);
      g_assert_null (control_only);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
      assert_message_contains (error, path);
      g_clear_error (&error);
    }
}

static void
test_garbage (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = deb_path (fixture);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  guchar noise[4096];

  g_test_summary ("Random bytes and a text file are not Debian packages");
  for (guint i = 0; i < sizeof noise; i++)
    noise[i] = (guchar) g_rand_int_range (rand, 0, 256);
  write_file (path, (const char *) noise, sizeof noise, 0644);
  g_autoptr (MbdDeb) deb = mbd_deb_new_from_file (path, NULL, &error);
  g_assert_null (deb);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  assert_message_contains (error, path);
  assert_message_contains (error, "not a Debian binary package");
  g_clear_error (&error);

  write_file (path, CONTROL, -1, 0644);
  g_autoptr (MbdDeb) text_deb = mbd_deb_new_from_file (path, NULL, &error);
  g_assert_null (text_deb);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  assert_message_contains (error, path);
  assert_message_contains (error, "not a Debian binary package");
}

static void
test_missing_file (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = deb_path (fixture);

  g_test_summary ("A .deb that does not exist gives G_IO_ERROR_NOT_FOUND naming it");
  g_autoptr (MbdDeb) deb = mbd_deb_new_from_file (path, NULL, &error);
  g_assert_null (deb);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  assert_message_contains (error, path);
}

static void
test_cancelled (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  g_test_summary ("Reading stops with G_IO_ERROR_CANCELLED when cancelled");
  g_autofree char *path = build_with_dpkg_deb (fixture, "gzip");
  g_cancellable_cancel (cancellable);
  g_autoptr (MbdDeb) deb = mbd_deb_new_from_file (path, cancellable, &error);
  g_assert_null (deb);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, data, func)                                                                      \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)
  ADD ("/deb/dpkg-deb/gzip", "gzip", test_dpkg_deb);
  ADD ("/deb/dpkg-deb/xz", "xz", test_dpkg_deb);
  ADD ("/deb/dpkg-deb/zstd", "zstd", test_dpkg_deb);
  ADD ("/deb/dpkg-deb/none", "none", test_dpkg_deb);
  ADD ("/deb/bzip2-data", NULL, test_bzip2_data);
  ADD ("/deb/bad/no-control", NULL, test_no_control);
  ADD ("/deb/bad/no-data", NULL, test_no_data);
  ADD ("/deb/bad/first-member", NULL, test_first_member);
  ADD ("/deb/bad/format-version", NULL, test_format_version);
  ADD ("/deb/bad/unknown-compression", NULL, test_unknown_compression);
  ADD ("/deb/bad/compression-mismatch", NULL, test_compression_mismatch);
  ADD ("/deb/bad/unexpected-member", NULL, test_unexpected_member);
  ADD ("/deb/bad/no-control-file", NULL, test_no_control_file);
  ADD ("/deb/bad/control-missing-field", NULL, test_control_missing_field);
  ADD ("/deb/bad/control-two-paragraphs", NULL, test_control_two_paragraphs);
  ADD ("/deb/bad/control-bad-package", NULL, test_control_bad_package);
  ADD ("/deb/bad/data-dotdot", NULL, test_data_dotdot);
  ADD ("/deb/bad/truncated", NULL, test_truncated);
  ADD ("/deb/bad/garbage", NULL, test_garbage);
  ADD ("/deb/missing-file", NULL, test_missing_file);
  ADD ("/deb/cancelled", NULL, test_cancelled);
#undef ADD
  return g_test_run ();
}
