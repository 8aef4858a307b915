/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "mbd-db-private.h"
#include "mbd-index-private.h"

#include <signal.h>

static const char *test_argv0;

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
  /* data: publish with fdatasync/fsync */
  mbd_index_set_fsync (data != NULL);
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

/* Applies @batch in a transaction that it rolls back; asserts the apply fails with @code. */
static void
apply_fails (Fixture *fx, MbdIndexBatch *batch, int code, const char *in_message)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (mbd_db_begin (fx->db, &error));
  g_assert_false (mbd_index_batch_apply (batch, &error));
  g_assert_error (error, MBD_ERROR, code);
  g_assert_nonnull (strstr (error->message, in_message));
  mbd_db_rollback (fx->db);
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

/* The index text the stanzas @model (key -> stanza, sorted) must give. */
static char *
render_model (GTree *model)
{
  GString *out = g_string_new (NULL);
  GTreeNode *node = g_tree_node_first (model);

  for (; node != NULL; node = g_tree_node_next (node))
    g_string_append_printf (out, "%s\n", (const char *) g_tree_node_value (node));
  return g_string_free (out, FALSE);
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
      g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);
      mbd_index_batch_put (batch, bad_targets[i], "a", "Package: a");
      apply_fails (fx, batch, MBD_ERROR_INVALID_ARGUMENT, bad_targets[i]);
    }
  const char *bad_stanzas[] = { "", "\n", "Package: a\n\nPackage: b", "\nPackage: a" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_stanzas); i++)
    {
      g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);
      mbd_index_batch_put (batch, AMD64, "the-key", bad_stanzas[i]);
      apply_fails (fx, batch, MBD_ERROR_INVALID_ARGUMENT, "the-key");
    }
  /* outside a transaction: refused, nothing stored */
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdIndexBatch) loose = mbd_index_batch_new (fx->db);
  mbd_index_batch_put (loose, AMD64, "a", "Package: a");
  g_assert_false (mbd_index_batch_apply (loose, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "transaction"));
  g_clear_error (&error);
  g_assert_cmpint (mbd_index_lookup_target (fx->db, AMD64, &error), ==, 0);

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

/* A stanza of about @size bytes whose content depends on @key and @version. */
static char *
make_stanza (const char *key, guint version, gsize size)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "Package: %s\nVersion: %u\nDescription: test", key, version);
  for (guint line = 0; s->len < size; line++)
    g_string_append_printf (s, "\n %s line %u of version %u: %08x", key, line, version,
                            g_str_hash (key) ^ (line * 2654435761u) ^ version);
  g_string_append_c (s, '\n');
  return g_string_free (s, FALSE);
}

static guint
count_blocks (Fixture *fx, const char *target, gsize *max_size, gsize *min_size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      fx->db,
      "SELECT b.text_size FROM index_target_blocks m JOIN index_blocks b ON b.id = m.block_id "
      "JOIN index_targets t ON t.id = m.target_id WHERE t.name = ?1",
      &error);
  guint n = 0;

  g_assert_no_error (error);
  sqlite3_bind_text (stmt, 1, target, -1, SQLITE_STATIC);
  *max_size = 0;
  *min_size = G_MAXSIZE;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gsize size = sqlite3_column_int64 (stmt, 0);
      *max_size = MAX (*max_size, size);
      *min_size = MIN (*min_size, size);
      n++;
    }
  return n;
}

static void
put_model (MbdIndexBatch *batch, GTree *model, const char *target, const char *key, char *stanza)
{
  mbd_index_batch_put (batch, target, key, stanza);
  g_tree_replace (model, g_strdup (key), stanza);
}

static int
strcmp_tree (gconstpointer a, gconstpointer b, gpointer data)
{
  return strcmp (a, b);
}

static GTree *
model_new (void)
{
  return g_tree_new_full (strcmp_tree, NULL, g_free, g_free);
}

static void
check_stanzas (Fixture *fx, const char *target, GTree *model)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) stanzas = mbd_index_get_stanzas (fx->db, target, &error);
  GTreeNode *node = g_tree_node_first (model);
  guint i = 0;

  g_assert_no_error (error);
  for (; node != NULL; node = g_tree_node_next (node), i++)
    {
      g_assert_nonnull (stanzas[i]);
      g_assert_cmpstr (stanzas[i], ==, g_tree_node_value (node));
    }
  g_assert_null (stanzas[i]);
}

/* Only the blocks a change falls into are recompressed, only changed targets are rendered, and
 * hashing resumes after the unchanged leading blocks. Blocks split when they grow past twice the
 * target size and merge when they shrink below half of it. */
static void
test_incremental (Fixture *fx, gconstpointer data)
{
  g_autoptr (GTree) model = model_new ();
  g_autoptr (MbdIndexBatch) bulk = mbd_index_batch_new (fx->db);
  MbdIndexStats stats;
  gsize max_size, min_size;
  const gsize target = 4096;

  mbd_index_set_block_target (target);
  for (guint i = 0; i < 400; i++)
    {
      g_autofree char *key = g_strdup_printf ("pkg%04u", i);
      put_model (bulk, model, AMD64, key, make_stanza (key, 1, 200));
    }
  mbd_index_batch_put (bulk, SOURCE, "src", "Package: src");
  apply (fx, bulk);
  guint n_blocks = count_blocks (fx, AMD64, &max_size, &min_size);
  g_assert_cmpuint (n_blocks, >=, 15);
  g_assert_cmpuint (max_size, <=, 2 * target);
  g_assert_cmpuint (min_size, >=, target / 2);
  publish (fx, SUITE, 0);
  g_autofree char *text = render_model (model);
  check_index (fx, SUITE, "main/binary-amd64/Packages", text);

  /* a saved hash state after every block */
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) checkpoints
          = mbd_db_query_strv (fx->db,
                               "SELECT c.block_id FROM index_checkpoints c JOIN index_targets t "
                               "ON t.id = c.target_id WHERE t.name = '" AMD64 "'",
                               &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (checkpoints), ==, n_blocks);

  /* one stanza in the middle changes: one block recompressed, one target rendered */
  mbd_index_reset_stats ();
  g_autoptr (MbdIndexBatch) one = mbd_index_batch_new (fx->db);
  put_model (one, model, AMD64, "pkg0300", make_stanza ("pkg0300", 2, 200));
  apply (fx, one);
  mbd_index_get_stats (&stats);
  g_assert_cmpuint (stats.blocks_compressed, ==, 1);
  g_assert_cmpuint (count_blocks (fx, AMD64, &max_size, &min_size), ==, n_blocks);
  publish (fx, SUITE, 0);
  mbd_index_get_stats (&stats);
  g_assert_cmpuint (stats.targets_rendered, ==, 1);
  /* only the changed block is read back; the others are copied from the published files */
  g_assert_cmpuint (stats.blocks_read, ==, 1);
  /* hashing resumed at the changed block, three quarters into the text */
  g_autofree char *text2 = render_model (model);
  g_assert_cmpuint (stats.bytes_hashed, >, 0);
  g_assert_cmpuint (stats.bytes_hashed, <, strlen (text2) / 2);
  check_index (fx, SUITE, "main/binary-amd64/Packages", text2);
  check_release (fx, SUITE, 9);

  /* nothing changed: nothing rendered */
  mbd_index_reset_stats ();
  publish (fx, SUITE, 0);
  mbd_index_get_stats (&stats);
  g_assert_cmpuint (stats.targets_rendered, ==, 0);
  check_release (fx, SUITE, 9);

  /* a block grows past twice the target: it is split */
  mbd_index_reset_stats ();
  g_autoptr (MbdIndexBatch) grow = mbd_index_batch_new (fx->db);
  for (guint i = 0; i < 30; i++)
    {
      g_autofree char *key = g_strdup_printf ("pkg0100-%02u", i);
      put_model (grow, model, AMD64, key, make_stanza (key, 1, 200));
    }
  apply (fx, grow);
  mbd_index_get_stats (&stats);
  g_assert_cmpuint (stats.blocks_compressed, >=, 2);
  g_assert_cmpuint (stats.blocks_compressed, <=, 4);
  guint n_grown = count_blocks (fx, AMD64, &max_size, &min_size);
  g_assert_cmpuint (n_grown, >, n_blocks);
  g_assert_cmpuint (max_size, <=, 2 * target);
  publish (fx, SUITE, 0);
  mbd_index_get_stats (&stats);
  g_assert_cmpuint (stats.blocks_read, ==, stats.blocks_compressed);
  g_autofree char *text_grown = render_model (model);
  check_index (fx, SUITE, "main/binary-amd64/Packages", text_grown);

  /* a block shrinks below half the target: it is merged with a neighbour */
  mbd_index_reset_stats ();
  g_autoptr (MbdIndexBatch) shrink = mbd_index_batch_new (fx->db);
  for (guint i = 200; i < 215; i++)
    {
      g_autofree char *key = g_strdup_printf ("pkg%04u", i);
      mbd_index_batch_delete (shrink, AMD64, key);
      g_tree_remove (model, key);
    }
  apply (fx, shrink);
  mbd_index_get_stats (&stats);
  g_assert_cmpuint (stats.blocks_compressed, <=, 3);
  g_assert_cmpuint (count_blocks (fx, AMD64, &max_size, &min_size), <, n_grown);
  g_assert_cmpuint (min_size, >=, target / 2);
  g_assert_cmpuint (max_size, <=, 2 * target + 400);
  check_stanzas (fx, AMD64, model);
  publish (fx, SUITE, 0);
  g_autofree char *text3 = render_model (model);
  check_index (fx, SUITE, "main/binary-amd64/Packages", text3);
  check_release (fx, SUITE, 9);
}

/* Random puts and deletes, applied batch by batch, always give the same index as the model, and
 * the published files decompress to exactly what a from-scratch render of the same stanzas
 * gives. */
static void
test_random (Fixture *fx, gconstpointer data)
{
  g_autoptr (GTree) model = model_new ();
  const gsize target = 1024;

  mbd_index_set_block_target (target);
  for (guint round = 0; round < 40; round++)
    {
      g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);
      guint n = g_test_rand_int_range (1, round == 0 ? 120 : 25);
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *key = g_strdup_printf ("k%03d", g_test_rand_int_range (0, 200));
          if (g_test_rand_int_range (0, 3) == 0)
            {
              mbd_index_batch_delete (batch, AMD64, key);
              g_tree_remove (model, key);
            }
          else
            put_model (batch, model, AMD64, key,
                       make_stanza (key, round, g_test_rand_int_range (30, 400)));
        }
      apply (fx, batch);
      check_stanzas (fx, AMD64, model);
      gsize max_size, min_size;
      count_blocks (fx, AMD64, &max_size, &min_size);
      if (g_tree_nnodes (model) > 0)
        g_assert_cmpuint (max_size, <=, 2 * target + 500);
      if (round % 8 == 7)
        {
          publish (fx, SUITE, 0);
          g_autofree char *text = render_model (model);
          check_index (fx, SUITE, "main/binary-amd64/Packages", text);
        }
    }
  publish (fx, SUITE, 0);
  g_autofree char *text = render_model (model);
  check_index (fx, SUITE, "main/binary-amd64/Packages", text);
  check_release (fx, SUITE, 9);

  /* the same stanzas put at once into a fresh target */
  g_autoptr (MbdIndexBatch) scratch = mbd_index_batch_new (fx->db);
  for (GTreeNode *node = g_tree_node_first (model); node != NULL; node = g_tree_node_next (node))
    mbd_index_batch_put (scratch, "scratch/main/binary-amd64", g_tree_node_key (node),
                         g_tree_node_value (node));
  apply (fx, scratch);
  publish (fx, "scratch", 0);
  g_autofree char *mine = suite_file (fx, SUITE, "main/binary-amd64/Packages");
  g_autofree char *theirs = suite_file (fx, "scratch", "main/binary-amd64/Packages");
  g_autofree char *a = read_file (mine, NULL);
  g_autofree char *b = read_file (theirs, NULL);
  g_assert_cmpstr (a, ==, b);
  check_index (fx, "scratch", "main/binary-amd64/Packages", text);
}

/* Copies share the source's blocks and read it as it was before the batch, so a rollback shift
 * is one batch; a drop empties and forgets a target. */
static void
test_copy_drop (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MbdIndexStats stats;
  const char *main_t = AMD64;
  const char *r0 = SUITE "-rollback0/main/binary-amd64";
  const char *r1 = SUITE "-rollback1/main/binary-amd64";

  mbd_index_set_block_target (1024);
  g_autoptr (MbdIndexBatch) first = mbd_index_batch_new (fx->db);
  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *key = g_strdup_printf ("p%02u", i);
      g_autofree char *stanza = make_stanza (key, 1, 150);
      mbd_index_batch_put (first, main_t, key, stanza);
    }
  apply (fx, first);
  g_auto (GStrv) v1 = mbd_index_get_stanzas (fx->db, main_t, &error);
  g_assert_no_error (error);

  /* version 2 of p10 goes in, version 1 shifts to rollback0 */
  mbd_index_reset_stats ();
  g_autoptr (MbdIndexBatch) second = mbd_index_batch_new (fx->db);
  g_autofree char *p10v2 = make_stanza ("p10", 2, 150);
  mbd_index_batch_put (second, main_t, "p10", p10v2);
  mbd_index_batch_copy (second, main_t, r0);
  apply (fx, second);
  mbd_index_get_stats (&stats);
  g_assert_cmpuint (stats.blocks_compressed, ==, 1);
  g_auto (GStrv) r0_now = mbd_index_get_stanzas (fx->db, r0, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (r0_now, v1);
  g_auto (GStrv) v2 = mbd_index_get_stanzas (fx->db, main_t, &error);
  g_assert_cmpstr (v2[10], ==, p10v2);

  /* the next shift in one batch: rollback0 -> rollback1, main -> rollback0, then a change */
  g_autoptr (MbdIndexBatch) third = mbd_index_batch_new (fx->db);
  mbd_index_batch_copy (third, r0, r1);
  mbd_index_batch_copy (third, main_t, r0);
  mbd_index_batch_delete (third, main_t, "p10");
  apply (fx, third);
  g_auto (GStrv) r1_now = mbd_index_get_stanzas (fx->db, r1, &error);
  g_assert_cmpstrv (r1_now, v1);
  g_auto (GStrv) r0_then = mbd_index_get_stanzas (fx->db, r0, &error);
  g_assert_cmpstrv (r0_then, v2);
  g_auto (GStrv) v3 = mbd_index_get_stanzas (fx->db, main_t, &error);
  g_assert_cmpuint (g_strv_length (v3), ==, 49);

  /* the copies publish like any suite */
  publish (fx, SUITE "-rollback1", 0);
  g_autofree char *v1_text = g_strjoinv ("\n", v1);
  g_autofree char *v1_index = g_strconcat (v1_text, "\n", NULL);
  check_index (fx, SUITE "-rollback1", "main/binary-amd64/Packages", v1_index);
  check_release (fx, SUITE "-rollback1", 9);

  /* drop: empty, and the blocks only it listed are gone */
  g_autoptr (MbdIndexBatch) fourth = mbd_index_batch_new (fx->db);
  mbd_index_batch_drop (fourth, r1);
  mbd_index_batch_drop (fourth, r0);
  mbd_index_batch_drop (fourth, main_t);
  apply (fx, fourth);
  g_assert_cmpint (mbd_index_lookup_target (fx->db, r1, &error), ==, 0);
  g_auto (GStrv) blocks = mbd_db_query_strv (fx->db, "SELECT id FROM index_blocks", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (blocks), ==, 0);
  publish (fx, SUITE "-rollback1", 0);
  check_index (fx, SUITE "-rollback1", "main/binary-amd64/Packages", "");
}

static guint
count_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Superseded by-hash files stay for the grace period and go after it. */
static void
test_grace (Fixture *fx, gconstpointer data)
{
  g_autofree char *byhash = suite_file (fx, SUITE, "main/binary-amd64/by-hash/SHA256");

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);
      g_autofree char *stanza = g_strdup_printf ("Package: a\nVersion: %u", i);
      mbd_index_batch_put (batch, AMD64, "a", stanza);
      apply (fx, batch);
      publish (fx, SUITE, 3600);
      g_assert_cmpuint (count_dir (byhash), ==, 3 * (i + 1));
    }
  g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);
  mbd_index_batch_put (batch, AMD64, "a", "Package: a\nVersion: 9");
  apply (fx, batch);
  publish (fx, SUITE, 0);
  g_assert_cmpuint (count_dir (byhash), ==, 3);
  check_release (fx, SUITE, 9);
}

/* Removing a suite deletes its indices and Release files but not its snapshots. */
static void
test_remove_suite (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);
  const char *snap = SUITE "/snapshots/s1";

  mbd_index_batch_put (batch, AMD64, "a", "Package: a");
  apply (fx, batch);
  g_autoptr (MbdIndexBatch) snapshot = mbd_index_batch_new (fx->db);
  mbd_index_batch_copy (snapshot, AMD64, SUITE "/snapshots/s1/main/binary-amd64");
  apply (fx, snapshot);
  publish (fx, SUITE, 0);
  publish (fx, snap, 0);
  check_index (fx, snap, "main/binary-amd64/Packages", "Package: a\n\n");
  g_assert_true (mbd_index_remove_suite (fx->db, fx->dists, SUITE, &error));
  g_assert_no_error (error);
  g_autofree char *release = suite_file (fx, SUITE, "Release");
  g_autofree char *main_dir = suite_file (fx, SUITE, "main");
  g_assert_false (g_file_test (release, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (main_dir, G_FILE_TEST_EXISTS));
  check_release (fx, snap, 9);
  g_assert_cmpint (mbd_index_lookup_target (fx->db, AMD64, &error), ==, 0);
  g_auto (GStrv) dirty = mbd_index_dirty_suites (fx->db, &error);
  g_assert_cmpuint (g_strv_length (dirty), ==, 0);
  g_assert_true (mbd_index_remove_suite (fx->db, fx->dists, snap, &error));
  g_autofree char *suite_dir = g_build_filename (fx->dists, SUITE, NULL);
  g_assert_true (g_file_test (suite_dir, G_FILE_TEST_IS_DIR));
  g_autofree char *snap_release = suite_file (fx, snap, "Release");
  g_assert_false (g_file_test (snap_release, G_FILE_TEST_EXISTS));
}

/* Runs `apt-get update` as a client of the published tree (file:, signed-by the exported key,
 * i386 and amd64, deb and deb-src) in a throw-away apt directory; asserts it succeeds without
 * a warning and, with @expected, that apt stored exactly that amd64 Packages text. */

/* Whether @name is apt's stored list ending in @infix, uncompressed or with the extension of a
 * compressor apt stores lists with. */
static gboolean
is_stored_list (const char *name, const char *infix)
{
  const char *const exts[] = { "", ".lz4", ".gz", ".xz", ".zst", ".bz2" };

  for (guint i = 0; i < G_N_ELEMENTS (exts); i++)
    {
      g_autofree char *suffix = g_strconcat (infix, exts[i], NULL);
      if (g_str_has_suffix (name, suffix))
        return TRUE;
    }
  return FALSE;
}

static void
apt_update (Fixture *fx, const char *suite_path, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *apt = g_build_filename (fx->tmpdir, "apt", NULL);
  g_autofree char *lists = g_build_filename (apt, "lists", NULL);
  g_autofree char *etc = g_build_filename (apt, "etc", NULL);
  g_autofree char *cache = g_build_filename (apt, "cache", NULL);
  g_autofree char *status = g_build_filename (apt, "status", NULL);
  g_autofree char *repo = g_path_get_dirname (fx->dists);
  const char *subdirs[] = { "lists/partial", "cache/archives/partial", "etc" };

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *d = g_build_filename (apt, subdirs[i], NULL);
      g_assert_cmpint (g_mkdir_with_parents (d, 0755), ==, 0);
    }
  g_autofree char *sources = g_build_filename (etc, "mbd.sources", NULL);
  g_autofree char *sources_text
      = g_strdup_printf ("Types: deb deb-src\nURIs: file://%s\nSuites: %s\n"
                         "Components: main\nSigned-By: %s\n",
                         repo, suite_path, fx->keyring);
  g_file_set_contents (sources, sources_text, -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (status, "", 0, &error);
  g_assert_no_error (error);

  g_autofree char *o_parts = g_strconcat ("Dir::Etc::sourceparts=", etc, NULL);
  g_autofree char *o_lists = g_strconcat ("Dir::State::Lists=", lists, NULL);
  g_autofree char *o_cache = g_strconcat ("Dir::Cache=", cache, NULL);
  g_autofree char *o_status = g_strconcat ("Dir::State::status=", status, NULL);
  const char *argv[] = { "apt-get", "-q",
                         "-o",      "Dir::Etc::sourcelist=/dev/null",
                         "-o",      o_parts,
                         "-o",      o_lists,
                         "-o",      o_cache,
                         "-o",      o_status,
                         "-o",      "APT::Architecture=amd64",
                         "-o",      "APT::Architectures::=amd64",
                         "-o",      "APT::Architectures::=i386",
                         "-o",      "Acquire::Languages=none",
                         "-o",      "APT::Sandbox::User=root",
                         "-o",      "Debug::NoLocking=1",
                         "update",  NULL };
  g_autoptr (GSubprocess) proc = g_subprocess_newv (
      argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);
  g_autofree char *out = NULL;
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (proc) || strstr (out, "W:") != NULL
      || strstr (out, "E:") != NULL || strstr (out, "Ign:") != NULL)
    g_error ("apt-get update of %s failed or warned:\n%s", suite_path, out);
  if (expected == NULL)
    return;
  g_autoptr (GDir) dir = g_dir_open (lists, 0, &error);
  g_assert_no_error (error);
  g_autofree char *infix = g_strdup_printf ("_dists_%s_main_binary-amd64_Packages", suite_path);
  const char *name;
  gboolean found = FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (is_stored_list (name, infix))
      {
        /* apt keeps its lists as they are or recompressed (lz4, gz with GzipIndexes, as the
         * machine's apt.conf.d says); its helper reads them back */
        g_autofree char *path = g_build_filename (lists, name, NULL);
        const char *cat[] = { "/usr/lib/apt/apt-helper", "cat-file", path, NULL };
        g_autoptr (GBytes) stored = run (cat);
        g_autofree char *got
            = g_strndup (g_bytes_get_data (stored, NULL), g_bytes_get_size (stored));
        g_assert_cmpstr (got, ==, expected);
        found = TRUE;
      }
  if (!found)
    g_error ("apt stored no list ending in %s (compressed or not)", infix);
}

/* apt 2.6 accepts the published suite with signature checking on, before and after an
 * incremental republish, and stores exactly the expected index. */
static void
test_apt (Fixture *fx, gconstpointer data)
{
  g_autoptr (GTree) model = model_new ();
  g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);

  mbd_index_set_block_target (2048);
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *key = g_strdup_printf ("pkg%03u 1.0 amd64", i);
      g_autofree char *name = g_strdup_printf ("pkg%03u", i);
      g_autofree char *stanza = g_strdup_printf (
          "Package: %s\nVersion: 1.0\nArchitecture: amd64\nMaintainer: T <t@example.org>\n"
          "Filename: pool/main/p/%s/%s_1.0_amd64.deb\nSize: 1000\nSHA256: %064u\n"
          "Description: test package %u\n",
          name, name, name, i, i);
      put_model (batch, model, AMD64, key, g_strdup (stanza));
    }
  mbd_index_batch_put (
      batch, SOURCE, "pkg000 1.0",
      "Package: pkg000\nBinary: pkg000\nVersion: 1.0\nMaintainer: T <t@example.org>\n"
      "Architecture: any\nFormat: 3.0 (native)\nDirectory: pool/main/p/pkg000\n"
      "Files:\n 00000000000000000000000000000000 10 pkg000_1.0.dsc\n"
      "Checksums-Sha256:\n "
      "0000000000000000000000000000000000000000000000000000000000000000 10 "
      "pkg000_1.0.dsc");
  apply (fx, batch);
  publish (fx, SUITE, 0);
  g_autofree char *text = render_model (model);
  apt_update (fx, SUITE, text);

  g_autoptr (MbdIndexBatch) change = mbd_index_batch_new (fx->db);
  put_model (change, model, AMD64, "pkg050 1.0 amd64",
             g_strdup ("Package: pkg050\nVersion: 1.0\nArchitecture: amd64\n"
                       "Maintainer: T <t@example.org>\nFilename: pool/main/p/pkg050/x.deb\n"
                       "Size: 1\nDescription: changed\n"));
  apply (fx, change);
  publish (fx, SUITE, 0);
  g_autofree char *text2 = render_model (model);
  apt_update (fx, SUITE, text2);
}

/* Not a test of its own: publishes in a loop until /index/crash kills it. */
static void
test_crash_child (void)
{
  g_autoptr (GError) error = NULL;
  const char *dir = g_getenv ("MBD_TEST_INDEX_CRASH_DIR");

  if (dir == NULL)
    {
      g_test_skip ("run by /index/crash only");
      return;
    }
  Fixture fx = { .tmpdir = g_strdup (dir) };
  fx.home = g_build_filename (dir, "gnupg", NULL);
  fx.dists = g_build_filename (dir, "repo", "dists", NULL);
  g_autofree char *db_path = g_build_filename (dir, "mbd.sqlite", NULL);
  fx.db = mbd_db_open (db_path, &error);
  g_assert_no_error (error);
  fx.gnupg = mbd_gnupg_new (fx.home, &error);
  g_assert_no_error (error);
  mbd_gnupg_set_signing_fingerprint (fx.gnupg, g_getenv ("MBD_TEST_INDEX_CRASH_FPR"));
  mbd_index_set_block_target (4096);
  for (guint round = 0;; round++)
    {
      g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx.db);
      for (guint i = 0; i < 5; i++)
        {
          g_autofree char *key = g_strdup_printf ("pkg%03d", g_random_int_range (0, 300));
          g_autofree char *stanza = make_stanza (key, round, g_random_int_range (100, 900));
          mbd_index_batch_put (batch, g_random_boolean () ? AMD64 : SOURCE, key, stanza);
        }
      apply (&fx, batch);
      publish (&fx, SUITE, 0);
    }
}

/* Kills a publishing process (SIGKILL) at random points: after every kill `apt-get update`
 * accepts the tree, and a publish afterwards completes it. */
static void
test_crash (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdIndexBatch) batch = mbd_index_batch_new (fx->db);

  mbd_index_set_block_target (4096);
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *key = g_strdup_printf ("pkg%03u", i);
      g_autofree char *stanza = make_stanza (key, 0, 500);
      mbd_index_batch_put (batch, AMD64, key, stanza);
    }
  apply (fx, batch);
  publish (fx, SUITE, 0);
  apt_update (fx, SUITE, NULL);

  g_autofree char *inrelease = suite_file (fx, SUITE, "InRelease");
  g_autofree char *first_release = read_file (inrelease, NULL);
  g_autofree char *fpr = mbd_gnupg_get_signing_fingerprint (fx->gnupg, &error);
  g_assert_no_error (error);
  for (guint round = 0; round < 12; round++)
    {
      g_autoptr (GSubprocessLauncher) launcher
                 = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
      g_subprocess_launcher_setenv (launcher, "MBD_TEST_INDEX_CRASH_DIR", fx->tmpdir, TRUE);
      g_subprocess_launcher_setenv (launcher, "MBD_TEST_INDEX_CRASH_FPR", fpr, TRUE);
      g_autoptr (GSubprocess) child = g_subprocess_launcher_spawn (
          launcher, &error, test_argv0, "-p", "/index/crash-child", NULL);
      g_assert_no_error (error);
      g_usleep (g_test_rand_int_range (100, 700) * 1000);
      g_subprocess_send_signal (child, SIGKILL);
      g_subprocess_wait (child, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_get_if_signaled (child));
      apt_update (fx, SUITE, NULL);
    }
  /* the killed processes got publishes done */
  g_autofree char *last_release = read_file (inrelease, NULL);
  g_assert_cmpstr (last_release, !=, first_release);
  /* the interrupted publish completes */
  publish (fx, SUITE, 0);
  g_auto (GStrv) dirty = mbd_index_dirty_suites (fx->db, &error);
  g_assert_cmpuint (g_strv_length (dirty), ==, 0);
  g_auto (GStrv) stanzas = mbd_index_get_stanzas (fx->db, AMD64, &error);
  g_assert_no_error (error);
  g_autofree char *joined = g_strjoinv ("\n", stanzas);
  g_autofree char *text = g_strconcat (joined, "\n", NULL);
  check_index (fx, SUITE, "main/binary-amd64/Packages", text);
  check_release (fx, SUITE, 9);
  apt_update (fx, SUITE, text);
}

int
main (int argc, char **argv)
{
  test_argv0 = argv[0];
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_summary ("The block-cached APT index: stanzas in, signed Packages/Sources/Release out");

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/index/publish-basic", test_publish_basic);
  g_test_add ("/index/publish-fsync", Fixture, "fsync", fixture_setup, test_publish_basic,
              fixture_teardown);
  ADD ("/index/stanzas", test_stanzas);
  ADD ("/index/invalid", test_invalid);
  ADD ("/index/dirty", test_dirty);
  ADD ("/index/incremental", test_incremental);
  ADD ("/index/random", test_random);
  ADD ("/index/copy-drop", test_copy_drop);
  ADD ("/index/grace", test_grace);
  ADD ("/index/remove-suite", test_remove_suite);
  ADD ("/index/apt", test_apt);
  ADD ("/index/crash", test_crash);
  g_test_add_func ("/index/crash-child", test_crash_child);
#undef ADD
  return g_test_run ();
}
