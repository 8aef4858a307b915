/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-instance-private.h"
#include "mbd-keyring-package-private.h"

#define URL "http://127.0.0.1:9999"
#define PKG "kr-archive-keyring"
#define DIST "bookworm-r-unstable"

static char *arch;

typedef struct
{
  char *tmpdir;
  char *home;
  MbdInstance *instance;
  MbdRepository *repo; /* "r": bookworm (code version 12) and trixie (13), Default layout
                        * without rollbacks */
} Fixture;

static void
setup (Fixture *fx, gconstpointer data)
{

  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->instance = mbd_test_create_instance (fx->home, "kr");

  g_autofree char *spec = g_strdup_printf ("bookworm:%s", arch);
  g_autofree char *spec2 = g_strdup_printf ("trixie:%s", arch);
  fx->repo = mbd_test_add_repository (fx->instance, "r", MBD_LAYOUT_DEFAULT_NO_ROLLBACKS, spec,
                                      "12", spec2, "13", NULL);
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *gnupg = g_build_filename (fx->home, "gnupg", NULL);

  g_clear_object (&fx->repo);
  g_clear_object (&fx->instance);
  mbd_test_kill_agent (gnupg);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->home);
}

static char *
read_tree_file (const char *tree, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *full = g_build_filename (tree, path, NULL);
  char *text = NULL;

  g_file_get_contents (full, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* Runs @argv in @cwd; asserts it exits 0 and returns its standard output. */
static char *
run (const char *cwd, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = 0;

  g_spawn_sync (cwd, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s%s", argv[0], out, err);
  return out;
}

/* The version for suite @name of the fixture's repository at a fixed time. */
static char *
version_for (Fixture *fx, const char *name)
{
  MbdLayout *layout = mbd_repository_get_layout (fx->repo);
  MbdDistribution *dist = mbd_repository_lookup_distribution (fx->repo, "bookworm");
  g_autoptr (GDateTime) when = g_date_time_new_utc (2026, 1, 2, 3, 4, 5);

  return mbd_keyring_package_version (fx->repo, dist, mbd_layout_lookup_suite (layout, name), when);
}

static char *
write_tree (Fixture *fx, const char *version)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *parent = g_build_filename (fx->tmpdir, "work", NULL);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  char *tree = mbd_keyring_package_write_tree (fx->instance, URL, DIST, version, parent, &error);
  g_assert_no_error (error);
  g_assert_nonnull (tree);
  return tree;
}

static void
test_version (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MbdLayout *layout = mbd_repository_get_layout (fx->repo);
  g_autofree char *unstable = version_for (fx, "unstable");
  g_autofree char *experimental = version_for (fx, "experimental");

  g_test_summary ("The version is the time stamp plus the layout's default suffix, so it "
                  "passes the layout's version check of its suite");
  g_assert_cmpstr (unstable, ==, "20260102030405~r12+1");
  g_assert_cmpstr (experimental, ==, "20260102030405~r12+0");
  gboolean ok = mbd_layout_check_version (layout, mbd_layout_lookup_suite (layout, "unstable"), "r",
                                          "12", unstable, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  ok = mbd_layout_check_version (layout, mbd_layout_lookup_suite (layout, "experimental"), "r",
                                 "12", experimental, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

static void
test_tree (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *version = version_for (fx, "unstable");
  g_autofree char *tree = write_tree (fx, version);
  const char *fpr = mbd_instance_get_fingerprint (fx->instance);

  g_test_summary ("The source tree: control, changelog, rules, the binary key, the sources.list "
                  "library with signed-by, the dput configuration and the postinst");
  g_autofree char *basename = g_path_get_basename (tree);
  g_autofree char *expected_name = g_strdup_printf (PKG "-%s", version);
  g_assert_cmpstr (basename, ==, expected_name);

  g_autofree char *format = read_tree_file (tree, "debian/source/format");
  g_assert_cmpstr (format, ==, "3.0 (native)\n");

  g_autofree char *control_text = read_tree_file (tree, "debian/control");
  g_autoptr (MbdControl) control
             = mbd_control_new_from_string (control_text, "debian/control", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mbd_control_get_n_paragraphs (control), ==, 2);
  MbdParagraph *source = mbd_control_get_paragraph (control, 0);
  MbdParagraph *binary = mbd_control_get_paragraph (control, 1);
  g_assert_cmpstr (mbd_paragraph_get (source, "Source"), ==, PKG);
  g_assert_cmpstr (mbd_paragraph_get (source, "Rules-Requires-Root"), ==, "no");
  g_assert_null (mbd_paragraph_get (source, "Build-Depends"));
  g_assert_cmpstr (mbd_paragraph_get (binary, "Package"), ==, PKG);
  g_assert_cmpstr (mbd_paragraph_get (binary, "Architecture"), ==, "all");

  g_autofree char *changelog = read_tree_file (tree, "debian/changelog");
  g_autofree char *head = g_strdup_printf (PKG " (%s) " DIST "; urgency=medium\n", version);
  g_assert_true (g_str_has_prefix (changelog, head));
  g_assert_nonnull (strstr (changelog, fpr));

  g_autofree char *rules = g_build_filename (tree, "debian", "rules", NULL);
  g_assert_true (g_file_test (rules, G_FILE_TEST_IS_EXECUTABLE));

  /* the key: a binary keyring with exactly the instance key */
  g_autoptr (MbdGnupg) scratch = mbd_gnupg_new_temporary (&error);
  g_assert_no_error (error);
  g_autofree char *keyring = g_build_filename (tree, "keyring", PKG ".gpg", NULL);
  g_autofree char *key_text = read_tree_file (tree, "keyring/" PKG ".gpg");
  g_assert_false (g_str_has_prefix (key_text, "-----BEGIN"));
  g_auto (GStrv) imported = mbd_gnupg_import_keyring_file (scratch, keyring, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (imported), ==, 1);
  g_assert_cmpstr (imported[0], ==, fpr);
  mbd_test_kill_agent (mbd_gnupg_get_homedir (scratch));

  /* the sources.list library: every suite, deb and deb-src, signed-by the packaged key */
  g_autofree char *list = read_tree_file (tree, "sources.list.d/bookworm/r_unstable.list");
  g_assert_nonnull (strstr (list, "\ndeb [signed-by=/usr/share/keyrings/" PKG ".gpg] " URL
                                  "/repositories/r bookworm-r-unstable main"));
  g_autofree char *src = read_tree_file (tree, "sources.list.d/bookworm/r_stable_src.list");
  g_assert_nonnull (strstr (src, "\ndeb-src [signed-by=/usr/share/keyrings/" PKG ".gpg] " URL
                                 "/repositories/r bookworm-r-stable main"));
  g_autofree char *lists_dir = g_build_filename (tree, "sources.list.d", "bookworm", NULL);
  g_autoptr (GDir) dir = g_dir_open (lists_dir, 0, &error);
  g_assert_no_error (error);
  guint n_lists = 0;
  while (g_dir_read_name (dir) != NULL)
    n_lists++;
  /* r and the instance's default repository, both with bookworm */
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (fx->instance, &error);
  g_assert_no_error (error);
  guint expected = 0;
  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = repos->pdata[i];
      g_autoptr (GPtrArray) suites = mbd_layout_get_suites (mbd_repository_get_layout (repo));
      if (mbd_repository_lookup_distribution (repo, "bookworm") != NULL)
        expected += 2 * suites->len;
    }
  g_assert_cmpuint (repos->len, ==, 2);
  g_assert_cmpuint (n_lists, ==, expected);

  /* dput: the dput-ng profile and the dput.cf stanza point to the URL's /upload */
  g_autofree char *profile = read_tree_file (tree, "dput/mini-buildd-kr.json");
  g_autoptr (JsonNode) node = json_from_string (profile, &error);
  g_assert_no_error (error);
  JsonObject *object = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (object, "method"), ==, "http");
  g_assert_cmpstr (json_object_get_string_member (object, "fqdn"), ==, "127.0.0.1:9999");
  g_assert_cmpstr (json_object_get_string_member (object, "incoming"), ==, "/upload");
  g_autofree char *dput_cf = read_tree_file (tree, "dput/dput.cf");
  g_assert_true (g_str_has_prefix (dput_cf, "[mini-buildd-kr]\nmethod   = http\n"
                                            "fqdn     = 127.0.0.1:9999\n"));

  /* the postinst is valid shell and names the key it removes from trusted.gpg */
  g_autofree char *postinst = read_tree_file (tree, "debian/postinst");
  g_assert_nonnull (strstr (postinst, "--delete-keys"));
  g_assert_nonnull (strstr (postinst, fpr));
  g_autofree char *postinst_path = g_build_filename (tree, "debian", "postinst", NULL);
  const char *sh[] = { "sh", "-n", postinst_path, NULL };
  g_free (run (NULL, sh));
}

/* The tree builds with dpkg-buildpackage alone (no debhelper, as in the build chroots) into an
 * Architecture: all package with the promised files. */
static void
test_tree_builds (Fixture *fx, gconstpointer data)
{
  g_autofree char *version = version_for (fx, "unstable");
  g_autofree char *tree = write_tree (fx, version);

  g_test_summary ("The generated tree builds with dpkg-buildpackage -A into the promised .deb");
  const char *build[] = { "dpkg-buildpackage", "--no-sign", "-A", "-d", "--no-pre-clean", NULL };
  g_free (run (tree, build));
  g_autofree char *deb_name = g_strdup_printf (PKG "_%s_all.deb", version);
  g_autofree char *deb = g_build_filename (fx->tmpdir, "work", deb_name, NULL);
  const char *fields[] = { "dpkg-deb", "-f", deb, "Package", "Version", "Architecture", NULL };
  g_autofree char *out = run (NULL, fields);
  g_autofree char *expected
      = g_strdup_printf ("Package: " PKG "\nVersion: %s\nArchitecture: all\n", version);
  g_assert_cmpstr (out, ==, expected);

  const char *contents[] = { "dpkg-deb", "-c", deb, NULL };
  g_autofree char *listing = run (NULL, contents);
  g_auto (GStrv) entries = g_strsplit (listing, "\n", -1);
  for (guint i = 0; entries[i] != NULL && entries[i][0] != '\0'; i++)
    if (strstr (entries[i], " root/root ") == NULL)
      g_error ("not owned by root: %s", entries[i]);
  const char *const files[] = {
    "./usr/share/keyrings/" PKG ".gpg",
    "./etc/apt/trusted.gpg.d/" PKG ".gpg",
    "./etc/dput.d/profiles/mini-buildd-kr.json",
    "./usr/share/" PKG "/dput.cf",
    "./usr/share/" PKG "/sources.list.d/bookworm/r_unstable.list",
    "./usr/share/" PKG "/sources.list.d/bookworm/r_unstable_src.list",
    "./usr/share/doc/" PKG "/copyright",
  };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *needle = g_strdup_printf (" %s\n", files[i]);
      if (strstr (listing, needle) == NULL)
        g_error ("%s is not in the package:\n%s", files[i], listing);
    }
  const char *md5sums[] = { "dpkg-deb", "-I", deb, "md5sums", NULL };
  g_autofree char *sums = run (NULL, md5sums);
  g_assert_nonnull (strstr (sums, "  usr/share/keyrings/" PKG ".gpg\n"));
  g_assert_null (strstr (sums, "etc/"));
  const char *control[] = { "dpkg-deb", "-I", deb, "conffiles", NULL };
  g_autofree char *conffiles = run (NULL, control);
  g_assert_cmpstr (conffiles, ==,
                   "/etc/apt/trusted.gpg.d/" PKG
                   ".gpg\n/etc/dput.d/profiles/mini-buildd-kr.json\n");
}

/* The postinst removes the instance key from the legacy keyring under $DPKG_ROOT and keeps the
 * other keys there. */
static void
test_postinst (Fixture *fx, gconstpointer data)
{
  g_autofree char *version = version_for (fx, "unstable");
  g_autofree char *tree = write_tree (fx, version);
  const char *fpr = mbd_instance_get_fingerprint (fx->instance);

  g_test_summary ("The postinst drops the instance key from $DPKG_ROOT/etc/apt/trusted.gpg");
  g_autofree char *other_home = g_build_filename (fx->tmpdir, "other", NULL);
  g_autofree char *other_fpr = mbd_test_make_key (other_home, "Other <o@example.org>", NULL, NULL);
  g_autofree char *other_key = g_build_filename (other_home, "other.gpg", NULL);
  const char *export[] = { "--export", "--output", other_key, other_fpr, NULL };
  g_free (mbd_test_gpg (other_home, export));

  g_autofree char *root = g_build_filename (fx->tmpdir, "root", NULL);
  g_autofree char *etc_apt = g_build_filename (root, "etc", "apt", NULL);
  g_assert_cmpint (g_mkdir_with_parents (etc_apt, 0755), ==, 0);
  g_autofree char *legacy = g_build_filename (etc_apt, "trusted.gpg", NULL);
  g_autofree char *instance_key = g_build_filename (tree, "keyring", PKG ".gpg", NULL);
  g_autofree char *scratch = g_build_filename (fx->tmpdir, "scratch", NULL);
  const char *import[]
      = { "--no-default-keyring", "--keyring", legacy, "--import", instance_key, other_key, NULL };
  g_free (mbd_test_gpg (scratch, import));
  const char *list[]
      = { "--no-default-keyring", "--keyring", legacy, "--with-colons", "--list-keys", NULL };
  g_autofree char *before = mbd_test_gpg (scratch, list);
  g_assert_nonnull (strstr (before, fpr));

  g_autofree char *postinst = g_build_filename (tree, "debian", "postinst", NULL);
  g_autofree char *dpkg_root = g_strdup_printf ("DPKG_ROOT=%s", root);
  const char *argv[] = { "env", dpkg_root, "sh", postinst, "configure", NULL };
  g_autofree char *out = run (NULL, argv);
  g_assert_nonnull (strstr (out, "removed key"));
  g_autofree char *after = mbd_test_gpg (scratch, list);
  g_assert_null (strstr (after, fpr));
  g_assert_nonnull (strstr (after, other_fpr));

  /* nothing to do the second time, and none without a legacy keyring */
  g_autofree char *again = run (NULL, argv);
  g_assert_cmpstr (again, ==, "");
  g_assert_cmpint (g_remove (legacy), ==, 0);
  g_autofree char *none = run (NULL, argv);
  g_assert_cmpstr (none, ==, "");
  mbd_test_kill_agent (other_home);
  mbd_test_kill_agent (scratch);
}

static void
test_no_url (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *version = version_for (fx, "unstable");

  g_test_summary ("Without a URL there is no tree, and the error says what to give");
  char *tree
      = mbd_keyring_package_write_tree (fx->instance, NULL, DIST, version, fx->tmpdir, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_null (tree);
  g_assert_nonnull (strstr (error->message, "--url"));
  g_autofree char *name = g_strdup_printf (PKG "-%s", version);
  g_autofree char *path = g_build_filename (fx->tmpdir, name, NULL);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_dput_conf_bad_url (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("dput configuration refuses a URL dput cannot upload to, naming it");
  g_autofree char *text = mbd_instance_dput_conf (fx->instance, "ftp://example.org", FALSE, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_null (text);
  g_assert_nonnull (strstr (error->message, "ftp://example.org"));
  g_clear_error (&error);

  g_autofree char *v6 = mbd_instance_dput_conf (fx->instance, "http://[::1]:8066", TRUE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (v6, "\"[::1]:8066\""));
}

static gint64
count_entries (Fixture *fx, const char *suite_path, const char *version)
{
  MbdDb *db = mbd_instance_get_db (fx->instance);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT count(*) FROM package_entries WHERE suite_path = ?1 AND source = ?2 AND"
      " version = ?3",
      NULL);
  g_assert_nonnull (stmt);
  sqlite3_bind_text (stmt, 1, suite_path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, PKG, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, version, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return sqlite3_column_int64 (stmt, 0);
}

static gint64
migrate_mark (Fixture *fx, const char *key)
{
  MbdDb *db = mbd_instance_get_db (fx->instance);
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "SELECT migrate FROM packages WHERE key = ?1", NULL);
  g_assert_nonnull (stmt);
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return sqlite3_column_int64 (stmt, 0);
}

/* Includes the keyring package's source at @version into DIST and records it as package "k1"
 * in @state, as the packager would. */
static void
install_package (Fixture *fx, const char *version, MbdPackageState state)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tree = write_tree (fx, version);
  MbdDb *db = mbd_instance_get_db (fx->instance);

  const char *source[] = { "dpkg-source", "-b", tree, NULL };
  g_autofree char *work = g_path_get_dirname (tree);
  g_free (run (work, source));
  g_autofree char *dsc_name = g_strdup_printf (PKG "_%s.dsc", version);
  g_autofree char *dsc = g_build_filename (work, dsc_name, NULL);
  const char *files[] = { dsc, NULL };
  gboolean included = mbd_repository_include (fx->repo, DIST, files, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (included);

  g_autoptr (sqlite3_stmt) insert = mbd_db_prepare (
      db,
      "INSERT INTO packages (key, changes, state, source, version, distribution, created,"
      " updated) VALUES ('k1', 'x.changes', ?1, ?2, ?3, ?4, 0, 0)",
      &error);
  g_assert_no_error (error);
  sqlite3_bind_int (insert, 1, state);
  sqlite3_bind_text (insert, 2, PKG, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 3, version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 4, DIST, -1, SQLITE_TRANSIENT);
  g_assert_true (mbd_db_step_done (db, insert, &error));
  g_assert_no_error (error);
}

/* An installed package marked for migration goes through the whole chain once; the mark is
 * cleared, and a second run (as after a restart) changes nothing. */
static void
test_migrate_installed (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *version = version_for (fx, "unstable");
  MbdDb *db = mbd_instance_get_db (fx->instance);

  g_test_summary ("A package marked for migration is migrated to stable once installed");
  install_package (fx, version, MBD_PACKAGE_STATE_BUILDING);
  gboolean marked = mbd_packager_mark_migrate (fx->instance, "nope", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_false (marked);
  g_clear_error (&error);
  marked = mbd_packager_mark_migrate (fx->instance, "k1", &error);
  g_assert_no_error (error);
  g_assert_true (marked);

  /* not installed yet: nothing happens */
  mbd_packager_migrate_installed (fx->instance);
  g_assert_cmpint (count_entries (fx, "bookworm-r-stable", version), ==, 0);
  g_assert_cmpint (migrate_mark (fx, "k1"), ==, 1);

  g_assert_true (mbd_db_exec (db, "UPDATE packages SET state = 3 WHERE key = 'k1'", &error));
  g_assert_no_error (error);
  mbd_packager_migrate_installed (fx->instance);
  g_assert_cmpint (count_entries (fx, "bookworm-r-testing", version), ==, 1);
  g_assert_cmpint (count_entries (fx, "bookworm-r-stable", version), ==, 1);
  g_assert_cmpint (migrate_mark (fx, "k1"), ==, 0);

  /* an earlier run that died before clearing the mark: the migration is found done */
  g_assert_true (mbd_db_exec (db, "UPDATE packages SET migrate = 1 WHERE key = 'k1'", &error));
  g_assert_no_error (error);
  mbd_packager_migrate_installed (fx->instance);
  g_assert_cmpint (migrate_mark (fx, "k1"), ==, 0);
  g_assert_cmpint (count_entries (fx, "bookworm-r-stable", version), ==, 1);
}

/* The mark survives a restart: a new instance on the home migrates the package once its
 * engine runs (the packager's tick), without anyone calling for it. */
static void
test_migrate_after_restart (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *version = version_for (fx, "unstable");

  g_test_summary ("The packager's engine migrates a marked package after a restart");
  install_package (fx, version, MBD_PACKAGE_STATE_INSTALLED);
  gboolean marked = mbd_packager_mark_migrate (fx->instance, "k1", &error);
  g_assert_no_error (error);
  g_assert_true (marked);

  g_clear_object (&fx->repo);
  g_clear_object (&fx->instance);
  fx->instance = mbd_instance_new (fx->home);
  gboolean opened = mbd_instance_open (fx->instance, MBD_INSTANCE_OPEN_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (opened);
  g_assert_cmpint (count_entries (fx, "bookworm-r-stable", version), ==, 0);
  gboolean started = mbd_instance_start (fx->instance, &error);
  g_assert_no_error (error);
  g_assert_true (started);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (migrate_mark (fx, "k1") != 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE); /* the packager polls every 2 s */
  mbd_instance_stop (fx->instance);
  g_assert_cmpint (migrate_mark (fx, "k1"), ==, 0);
  g_assert_cmpint (count_entries (fx, "bookworm-r-stable", version), ==, 1);
}

static void
test_build_refusals (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);
  char **keys = NULL;

  g_test_summary ("Building refuses without a URL, for unknown repositories and distributions "
                  "and for suites that are not uploadable, and submits nothing");
  gboolean ok
      = mbd_packager_build_keyring_packages (packager, "r", NULL, NULL, TRUE, &keys, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "URL"));
  g_assert_false (ok);
  g_assert_null (keys);
  g_clear_error (&error);

  mbd_packager_set_internal_url (packager, URL);
  ok = mbd_packager_build_keyring_packages (packager, "nosuch", NULL, NULL, TRUE, &keys, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_false (ok);
  g_clear_error (&error);

  const char *stable[] = { "bookworm-r-stable", NULL };
  ok = mbd_packager_build_keyring_packages (packager, "r", stable, NULL, TRUE, &keys, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "bookworm-r-stable is not uploadable"));
  g_assert_false (ok);
  g_clear_error (&error);

  const char *other[] = { "bookworm-test-unstable", NULL };
  ok = mbd_packager_build_keyring_packages (packager, "r", other, NULL, TRUE, &keys, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "bookworm-test-unstable is not in repository r"));
  g_assert_false (ok);
  g_clear_error (&error);

  const char *unknown[] = { "bookworm-nosuch-unstable", NULL };
  ok = mbd_packager_build_keyring_packages (packager, NULL, unknown, NULL, TRUE, &keys, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "bookworm-nosuch-unstable is not in any repository"));
  g_assert_false (ok);
  g_clear_error (&error);

  g_autofree char *packages = g_build_filename (fx->home, "packages", NULL);
  g_autoptr (GDir) dir = g_dir_open (packages, 0, NULL);
  g_assert_null (dir != NULL ? g_dir_read_name (dir) : NULL);
}

/* One signed source upload per flagged suite (bookworm-r-unstable), taken by the packager with
 * the wish to migrate stored in its row. */
static void
test_build_submits (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);
  g_auto (GStrv) keys = NULL;

  g_test_summary ("Building submits one signed upload per flagged suite and stores the wish "
                  "to migrate");
  gboolean ok = mbd_packager_build_keyring_packages (packager, "r", NULL, URL, TRUE, &keys, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  /* one for each codename, with its code version in the version */
  g_assert_cmpuint (g_strv_length (keys), ==, 2);
  g_autofree char *trixie_dir = g_build_filename (fx->home, "packages", keys[1], NULL);
  g_autoptr (GDir) td = g_dir_open (trixie_dir, 0, &error);
  g_assert_no_error (error);
  gboolean trixie_changes = FALSE;
  const char *file;
  while ((file = g_dir_read_name (td)) != NULL)
    trixie_changes
        = trixie_changes
          || (g_str_has_prefix (file, PKG "_") && strstr (file, "~r13+1_source.changes"));
  g_assert_true (trixie_changes);
  g_assert_cmpint (migrate_mark (fx, keys[1]), ==, 1);
  MbdPackageState state;
  g_assert_true (mbd_packager_lookup_state (packager, keys[0], &state, &error));
  g_assert_no_error (error);
  g_assert_cmpint (state, ==, MBD_PACKAGE_STATE_CHECKING);
  g_assert_cmpint (migrate_mark (fx, keys[0]), ==, 1);

  g_autofree char *dir = g_build_filename (fx->home, "packages", keys[0], NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  g_autofree char *changes_path = NULL;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".changes"))
      changes_path = g_build_filename (dir, name, NULL);
  g_assert_nonnull (changes_path);
  g_autoptr (MbdChanges) changes = mbd_changes_new_from_file (changes_path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_changes_get_source (changes), ==, PKG);
  g_assert_cmpstr (mbd_changes_get_distribution (changes), ==, DIST);
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (changes_path, &contents, NULL, &error));
  g_assert_true (g_str_has_prefix (contents, "-----BEGIN PGP SIGNED MESSAGE-----"));
  g_assert_nonnull (strstr (contents, "~r12+1"));

  /* without migration nothing is marked; the work directories are gone */
  g_auto (GStrv) more = NULL;
  ok = mbd_packager_build_keyring_packages (packager, NULL, NULL, URL, FALSE, &more, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  /* r and the default repository test: both flag unstable */
  g_assert_cmpuint (g_strv_length (more), ==, 3);
  g_assert_cmpint (migrate_mark (fx, more[0]), ==, 0);
  g_autofree char *internal = g_build_filename (fx->home, "internal-uploads", NULL);
  g_autoptr (GDir) work = g_dir_open (internal, 0, &error);
  g_assert_no_error (error);
  g_assert_null (g_dir_read_name (work));
}

/* The async form makes the packages in a worker thread while the caller's loop runs on. */
static void
test_build_async (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);

  g_test_summary ("build_keyring_packages_async makes the sources in a worker thread (the "
                  "calling thread's loop keeps running) and submits them there; its errors come "
                  "through the finish");
  g_autoptr (GAsyncResult) result = NULL;
  mbd_packager_build_keyring_packages_async (packager, "r", NULL, NULL, TRUE, NULL,
                                             mbd_test_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_auto (GStrv) none = NULL;
  g_assert_false (mbd_packager_build_keyring_packages_finish (packager, result, &none, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_null (none);
  g_clear_error (&error);
  g_clear_object (&result);

  /* two packages: dpkg-source, dpkg-genchanges and gpg each, far longer than five 10 ms ticks */
  guint ticks = 0;
  guint tick_id = g_timeout_add (10, mbd_test_count_tick, &ticks);
  mbd_packager_build_keyring_packages_async (packager, "r", NULL, URL, TRUE, NULL,
                                             mbd_test_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick_id);
  g_assert_cmpuint (ticks, >=, 5);
  g_auto (GStrv) keys = NULL;
  g_assert_true (mbd_packager_build_keyring_packages_finish (packager, result, &keys, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (keys), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      MbdPackageState state;
      g_assert_true (mbd_packager_lookup_state (packager, keys[i], &state, &error));
      g_assert_no_error (error);
      g_assert_cmpint (migrate_mark (fx, keys[i]), ==, 1);
    }
  g_autofree char *internal = g_build_filename (fx->home, "internal-uploads", NULL);
  g_autoptr (GDir) work = g_dir_open (internal, 0, &error);
  g_assert_no_error (error);
  g_assert_null (g_dir_read_name (work));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_autoptr (GError) error = NULL;
  arch = mbd_get_native_architecture (&error);
  g_assert_no_error (error);

  g_test_add ("/keyring-package/version", Fixture, NULL, setup, test_version, teardown);
  g_test_add ("/keyring-package/tree", Fixture, NULL, setup, test_tree, teardown);
  g_test_add ("/keyring-package/tree-builds", Fixture, NULL, setup, test_tree_builds, teardown);
  g_test_add ("/keyring-package/postinst", Fixture, NULL, setup, test_postinst, teardown);
  g_test_add ("/keyring-package/no-url", Fixture, NULL, setup, test_no_url, teardown);
  g_test_add ("/keyring-package/dput-conf-bad-url", Fixture, NULL, setup, test_dput_conf_bad_url,
              teardown);
  g_test_add ("/keyring-package/migrate-installed", Fixture, NULL, setup, test_migrate_installed,
              teardown);
  g_test_add ("/keyring-package/migrate-after-restart", Fixture, NULL, setup,
              test_migrate_after_restart, teardown);
  g_test_add ("/keyring-package/build-refusals", Fixture, NULL, setup, test_build_refusals,
              teardown);
  g_test_add ("/keyring-package/build-submits", Fixture, NULL, setup, test_build_submits, teardown);
  g_test_add ("/keyring-package/build-async", Fixture, NULL, setup, test_build_async, teardown);
  int status = g_test_run ();
  g_free (arch);
  return status;
}
