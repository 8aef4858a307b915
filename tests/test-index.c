/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "mbd-db-private.h"
#include "mbd-index-private.h"

#define SUITE "bookworm-test-unstable"
#define AMD64 SUITE "/main/binary-amd64"
#define I386 SUITE "/main/binary-i386"
#define SOURCE SUITE "/main/source"

typedef struct
{
  char *tmpdir;
  char *home;    /* GnuPG home with the signing key */
  char *keyring; /* its public key, binary, for gpgv and apt's signed-by */
  char *dists;
  MbdDb *db;
  MbdGnupg *gnupg;
} Fixture;

static const char *const components[] = { "main", NULL };
static const char *const architectures[] = { "amd64", "i386", NULL };

static MbdReleaseInfo
release_info (const char *suite_path)
{
  MbdReleaseInfo info = {
    .suite_path = suite_path,
    .origin = "mbd-test",
    .label = "mbd-test",
    .suite = suite_path,
    .codename = suite_path,
    .description = "index test suite",
    .components = components,
    .architectures = architectures,
  };
  return info;
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "gnupg", NULL);
  fx->keyring = g_build_filename (fx->tmpdir, "key.gpg", NULL);
  fx->dists = g_build_filename (fx->tmpdir, "repo", "dists", NULL);
  g_autofree char *fpr = mbd_test_make_key (fx->home, "Index Test <index@example.org>", NULL, NULL);
  const char *export_argv[] = { "--output", fx->keyring, "--export", fpr, NULL };
  g_free (mbd_test_gpg (fx->home, export_argv));
  fx->gnupg = mbd_gnupg_new (fx->home, &error);
  g_assert_no_error (error);
  mbd_gnupg_set_signing_fingerprint (fx->gnupg, fpr);
  g_autofree char *db_path = g_build_filename (fx->tmpdir, "mbd.sqlite", NULL);
  fx->db = mbd_db_open (db_path, &error);
  g_assert_no_error (error);
  mbd_index_set_block_target (0);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  mbd_db_close (fx->db);
  g_clear_object (&fx->gnupg);
  mbd_test_kill_agent (fx->home);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->home);
  g_free (fx->keyring);
  g_free (fx->dists);
  mbd_index_set_block_target (0);
}

static void
apply (Fixture *fx, MbdIndexBatch *batch)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (mbd_db_begin (fx->db, &error));
  g_assert_no_error (error);
  mbd_index_batch_apply (batch, &error);
  g_assert_no_error (error);
  mbd_db_commit (fx->db, &error);
  g_assert_no_error (error);
}

static void
publish (Fixture *fx, const char *suite_path, gint64 grace)
{
  g_autoptr (GError) error = NULL;
  MbdReleaseInfo info = release_info (suite_path);

  mbd_index_publish (fx->db, fx->gnupg, fx->dists, &info, grace, &error);
  g_assert_no_error (error);
}

/* Runs @argv; returns its standard output and asserts it exited 0. */
static GBytes *
run (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) err = NULL;
  g_autoptr (GSubprocess) proc = g_subprocess_newv (
      argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);

  g_assert_no_error (error);
  g_subprocess_communicate (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (proc))
    g_error ("%s failed: %.*s", argv[0], (int) g_bytes_get_size (err),
             (const char *) g_bytes_get_data (err, NULL));
  return g_steal_pointer (&out);
}

static char *
read_file (const char *path, gsize *len)
{
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, len, &error);
  g_assert_no_error (error);
  return contents;
}

static char *
suite_file (Fixture *fx, const char *suite_path, const char *rel)
{
  return g_build_filename (fx->dists, suite_path, rel, NULL);
}

/* Checks one published index (plain, .gz, .xz) against @expected: the compressed forms pass
 * `xz -t`/`gzip -t` and decompress to exactly the text, the plain file is the text. */
static void
check_index (Fixture *fx, const char *suite_path, const char *rel, const char *expected)
{
  g_autofree char *plain = suite_file (fx, suite_path, rel);
  g_autofree char *gz = g_strconcat (plain, ".gz", NULL);
  g_autofree char *xz = g_strconcat (plain, ".xz", NULL);
  gsize len;
  g_autofree char *text = read_file (plain, &len);

  g_assert_cmpuint (len, ==, strlen (expected));
  g_assert_cmpstr (text, ==, expected);
  const char *xz_test[] = { "xz", "-t", xz, NULL };
  g_bytes_unref (run (xz_test));
  const char *gz_test[] = { "gzip", "-t", gz, NULL };
  g_bytes_unref (run (gz_test));
  const char *xz_cat[] = { "xz", "-dc", xz, NULL };
  const char *gz_cat[] = { "gzip", "-dc", gz, NULL };
  const char *const *cats[] = { xz_cat, gz_cat };
  for (guint i = 0; i < G_N_ELEMENTS (cats); i++)
    {
      g_autoptr (GBytes) out = run (cats[i]);
      gsize got_len;
      const char *got_data = g_bytes_get_data (out, &got_len);
      g_autofree char *got = g_strndup (got_len > 0 ? got_data : "", got_len);
      g_assert_cmpuint (g_bytes_get_size (out), ==, strlen (expected));
      g_assert_cmpstr (got, ==, expected);
    }
}

/* Checks the signatures of Release and InRelease with gpgv against the exported key, and that
 * Release lists every index file with its real size and SHA256, and that each exists by hash. */
static void
check_release (Fixture *fx, const char *suite_path, guint expected_files)
{
  g_autofree char *release = suite_file (fx, suite_path, "Release");
  g_autofree char *release_gpg = suite_file (fx, suite_path, "Release.gpg");
  g_autofree char *inrelease = suite_file (fx, suite_path, "InRelease");
  const char *gpgv_detached[] = { "gpgv", "--keyring", fx->keyring, release_gpg, release, NULL };
  const char *gpgv_clear[] = { "gpgv", "--keyring", fx->keyring, "--output", "-", inrelease, NULL };

  g_bytes_unref (run (gpgv_detached));
  g_autoptr (GBytes) signed_text = run (gpgv_clear);
  g_autofree char *text = read_file (release, NULL);
  g_autofree char *clear_text
      = g_strndup (g_bytes_get_data (signed_text, NULL), g_bytes_get_size (signed_text));
  g_assert_cmpstr (clear_text, ==, text);

  g_assert_true (g_str_has_prefix (text, "Origin: mbd-test\nLabel: mbd-test\n"));
  g_assert_nonnull (strstr (text, "\nAcquire-By-Hash: yes\n"));
  g_assert_nonnull (strstr (text, "\nArchitectures: amd64 i386\nComponents: main\n"));
  g_assert_nonnull (strstr (text, "\nDate: "));
  const char *sha = strstr (text, "\nSHA256:\n");
  g_assert_nonnull (sha);
  g_auto (GStrv) lines = g_strsplit (sha + strlen ("\nSHA256:\n"), "\n", -1);
  guint n = 0;
  for (guint i = 0; lines[i] != NULL && lines[i][0] == ' '; i++, n++)
    {
      g_auto (GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
      g_autoptr (GPtrArray) parts = g_ptr_array_new ();
      for (guint j = 0; f[j] != NULL; j++)
        if (f[j][0] != '\0')
          g_ptr_array_add (parts, f[j]);
      g_assert_cmpuint (parts->len, ==, 3);
      const char *hex = g_ptr_array_index (parts, 0);
      const char *rel = g_ptr_array_index (parts, 2);
      g_autofree char *path = suite_file (fx, suite_path, rel);
      gsize len;
      g_autofree char *contents = read_file (path, &len);
      g_autofree char *real
          = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guint8 *) contents, len);
      g_assert_cmpstr (hex, ==, real);
      g_assert_cmpuint (g_ascii_strtoull (g_ptr_array_index (parts, 1), NULL, 10), ==, len);
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *byhash = g_build_filename (dir, "by-hash", "SHA256", hex, NULL);
      g_assert_true (g_file_test (byhash, G_FILE_TEST_IS_REGULAR));
    }
  g_assert_cmpuint (n, ==, expected_files);
}

static void
test_publish_basic (Fixture *fx, gconstpointer data)
{
  g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);

  mbd_index_batch_put (batch, AMD64, "hello 1.0 amd64", "Package: hello\nVersion: 1.0\n");
  mbd_index_batch_put (batch, AMD64, "bar 2 amd64", "Package: bar\nVersion: 2");
  mbd_index_batch_put (batch, AMD64, "zed 3 all", "Package: zed\nVersion: 3\n\n");
  mbd_index_batch_put (batch, SOURCE, "hello 1.0", "Package: hello\nVersion: 1.0\nFiles:\n x y z");
  apply (fx, batch);
  publish (fx, SUITE, 0);

  check_index (fx, SUITE, "main/binary-amd64/Packages",
               "Package: bar\nVersion: 2\n\nPackage: hello\nVersion: 1.0\n\n"
               "Package: zed\nVersion: 3\n\n");
  check_index (fx, SUITE, "main/source/Sources",
               "Package: hello\nVersion: 1.0\nFiles:\n x y z\n\n");
  check_index (fx, SUITE, "main/binary-i386/Packages", "");
  check_release (fx, SUITE, 9);
}

static void
test_stanzas (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);

  mbd_index_batch_put (batch, AMD64, "b", "Package: b\n");
  mbd_index_batch_put (batch, AMD64, "a", "Package: a");
  mbd_index_batch_put (batch, AMD64, "c", "Package: c");
  mbd_index_batch_delete (batch, AMD64, "c");
  apply (fx, batch);
  g_auto (GStrv) stanzas = mbd_index_get_stanzas (fx->db, AMD64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (stanzas), ==, 2);
  g_assert_cmpstr (stanzas[0], ==, "Package: a\n");
  g_assert_cmpstr (stanzas[1], ==, "Package: b\n");

  g_autoptr (MbdIndexBatch) second = mbd_index_batch_new (fx->db);
  mbd_index_batch_put (second, AMD64, "a", "Package: a\nVersion: 2");
  mbd_index_batch_delete (second, AMD64, "b");
  mbd_index_batch_delete (second, AMD64, "never-there");
  apply (fx, second);
  g_auto (GStrv) after = mbd_index_get_stanzas (fx->db, AMD64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (after), ==, 1);
  g_assert_cmpstr (after[0], ==, "Package: a\nVersion: 2\n");

  g_auto (GStrv) unknown = mbd_index_get_stanzas (fx->db, SUITE "/contrib/source", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (unknown), ==, 0);
}

static void
test_invalid (Fixture *fx, gconstpointer data)
{
  const char *bad_targets[] = { "main/binary-amd64", SUITE "/main/amd64",   "/x/main/source",
                                "x/../main/source",  SUITE "/main/binary-", "x//main/source" };

  for (guint i = 0; i < G_N_ELEMENTS (bad_targets); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);
      mbd_index_batch_put (batch, bad_targets[i], "a", "Package: a");
      g_assert_false (mbd_index_batch_apply (batch, &error));
      g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, bad_targets[i]));
    }
  const char *bad_stanzas[] = { "", "\n", "Package: a\n\nPackage: b", "\nPackage: a" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_stanzas); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);
      mbd_index_batch_put (batch, AMD64, "the-key", bad_stanzas[i]);
      g_assert_false (mbd_index_batch_apply (batch, &error));
      g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "the-key"));
    }
  g_autoptr (GError) error = NULL;
  MbdReleaseInfo info = release_info ("../escape");
  g_assert_false (mbd_index_publish (fx->db, fx->gnupg, fx->dists, &info, 0, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_false (g_file_test (fx->dists, G_FILE_TEST_EXISTS));
}

static void
test_dirty (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);

  g_auto (GStrv) none = mbd_index_dirty_suites (fx->db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (none), ==, 0);
  mbd_index_batch_put (batch, AMD64, "a", "Package: a");
  mbd_index_batch_put (batch, "other/main/source", "a", "Package: a");
  apply (fx, batch);
  g_auto (GStrv) dirty = mbd_index_dirty_suites (fx->db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (dirty), ==, 2);
  g_assert_cmpstr (dirty[0], ==, SUITE);
  g_assert_cmpstr (dirty[1], ==, "other");
  publish (fx, SUITE, 0);
  g_auto (GStrv) left = mbd_index_dirty_suites (fx->db, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (left), ==, 1);
  g_assert_cmpstr (left[0], ==, "other");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_summary ("The block-cached APT index: stanzas in, signed Packages/Sources/Release out");

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/index/publish-basic", test_publish_basic);
  ADD ("/index/stanzas", test_stanzas);
  ADD ("/index/invalid", test_invalid);
  ADD ("/index/dirty", test_dirty);
#undef ADD
  return g_test_run ();
}
