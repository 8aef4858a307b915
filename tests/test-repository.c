/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#include "mbd-index-private.h"
#include "mbd-repository-private.h"

/* Small real packages, built once per run with dpkg-deb, dpkg-source and dpkg-genchanges:
 * mkpkg DIR NAME VERSION ARCH [TEXT] makes DIR/NAME_VERSION{.dsc,.tar.xz,_ARCH.deb,_ARCH.changes};
 * TEXT changes the content of the .deb. */
static const char mkpkg_script[]
    = "set -e\n"
      "out=$1; name=$2; ver=$3; arch=$4; text=${5:-hello}\n"
      "w=$(mktemp -d \"$out/w.XXXXXX\")\n"
      "mkdir -p \"$w/$name/debian/source\" \"$w/pkg/DEBIAN\" \"$w/pkg/usr/share/doc/$name\"\n"
      "cd \"$w/$name\"\n"
      "echo '3.0 (native)' > debian/source/format\n"
      "printf 'Source: %s\\nSection: misc\\nPriority: optional\\nMaintainer: T "
      "<t@example.org>\\n\\n"
      "Package: %s\\nArchitecture: %s\\nDescription: test\\n test\\n' \"$name\" \"$name\" "
      "\"$arch\" "
      "> debian/control\n"
      "printf '%s (%s) unstable; urgency=medium\\n\\n  * test\\n\\n -- T <t@example.org>  Mon, 01 "
      "Jan 2024 00:00:00 +0000\\n' \"$name\" \"$ver\" > debian/changelog\n"
      "echo \"$text\" > \"$w/pkg/usr/share/doc/$name/README\"\n"
      "printf 'Package: %s\\nVersion: %s\\nArchitecture: %s\\nMaintainer: T <t@example.org>\\n"
      "Section: misc\\nPriority: optional\\nDescription: test\\n test\\n' \"$name\" \"$ver\" "
      "\"$arch\" > \"$w/pkg/DEBIAN/control\"\n"
      "dpkg-deb -Zgzip --build \"$w/pkg\" \"$w/${name}_${ver}_${arch}.deb\" >/dev/null\n"
      "cd \"$w\" && dpkg-source -b \"$name\" >/dev/null 2>&1\n"
      "cd \"$w/$name\" && echo \"${name}_${ver}_${arch}.deb misc optional\" > debian/files\n"
      "dpkg-genchanges -sa > \"$w/${name}_${ver}_${arch}.changes\" 2>/dev/null\n"
      "mv \"$w\"/*.dsc \"$w\"/*.tar.xz \"$w\"/*.deb \"$w\"/*.changes \"$out/\"\n"
      "rm -rf \"$w\"\n";

static char *pkgdir; /* packages shared by all tests */

static void
mkpkg (const char *dir, const char *name, const char *version, const char *arch, const char *text)
{
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "sh", "-c", mkpkg_script, "mkpkg", dir, name, version, arch, text, NULL };
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
}

static char *
pkg (const char *name)
{
  return g_build_filename (pkgdir, name, NULL);
}

typedef struct
{
  char *tmpdir;
  char *home;
  MbdInstance *instance;
  MbdRepository *repo; /* "r": bookworm amd64 + i386, layout from the test data */
} Fixture;

static void
setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *layout_name = data != NULL ? data : MBD_LAYOUT_DEFAULT_NO_ROLLBACKS;

  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->instance = mbd_test_create_instance (fx->home, "repotest");

  g_autoptr (MbdLayout) layout = mbd_layout_new_builtin (layout_name, &error);
  g_assert_no_error (error);
  fx->repo = mbd_repository_new ("r", layout, &error);
  g_assert_no_error (error);
  g_autoptr (MbdDistribution) dist
             = mbd_distribution_new_from_spec ("bookworm:amd64,i386?", &error);
  g_assert_no_error (error);
  g_assert_true (mbd_repository_add_distribution (fx->repo, dist, &error));
  gboolean added = mbd_instance_add_repository (fx->instance, fx->repo, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (added);
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

static void
include (Fixture *fx, const char *dist, const char *file)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = pkg (file);
  const char *files[] = { path, NULL };

  gboolean ok = mbd_repository_include (fx->repo, dist, files, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

static char **
stanzas (Fixture *fx, const char *target)
{
  g_autoptr (GError) error = NULL;
  char **list = mbd_index_get_stanzas (mbd_instance_get_db (fx->instance), target, &error);

  g_assert_no_error (error);
  return list;
}

static char *
file_in_repo (Fixture *fx, const char *rel)
{
  g_autofree char *dir = mbd_repository_dup_path (fx->repo);
  return g_build_filename (dir, rel, NULL);
}

static void
assert_consistent (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) problems = NULL;

  gboolean ok = mbd_repository_check (fx->repo, &problems, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (g_strv_length (problems), ==, 0);
}

/* The version of @source in @dist per ls, or NULL. */
static char *
version_in (Fixture *fx, const char *source, const char *dist)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json
      = mbd_instance_ls_json (fx->instance, source, "r", NULL, NULL, FALSE, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) root = json_from_string (json, &error);
  g_assert_no_error (error);
  JsonObject *repos = json_node_get_object (root);
  if (!json_object_has_member (repos, "r"))
    return NULL;
  JsonObject *dists = json_object_get_object_member (repos, "r");
  g_autofree char *base = g_strdup (dist);
  char *rb = g_strrstr (base, "-rollback");
  if (rb != NULL)
    *rb = '\0';
  if (!json_object_has_member (dists, base))
    return NULL;
  JsonObject *entry = json_object_get_object_member (dists, base);
  if (rb != NULL)
    {
      JsonObject *rollbacks = json_object_get_object_member (entry, "rollbacks");
      if (!json_object_has_member (rollbacks, dist))
        return NULL;
      entry = json_object_get_object_member (rollbacks, dist);
    }
  return g_strdup (json_object_get_string_member (entry, "version"));
}

/* Everything under the repository tree with size and mtime, and the package rows: what a
 * refusal must not change. */
static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
describe_tree (const char *dir, const char *rel, GString *out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *abs = g_build_filename (dir, names->pdata[i], NULL);
      g_autofree char *sub = g_build_filename (rel, names->pdata[i], NULL);
      GStatBuf st;
      g_assert_cmpint (g_lstat (abs, &st), ==, 0);
      /* a directory only by name: creating and removing an entry in it changes its mtime */
      if (S_ISDIR (st.st_mode))
        {
          g_string_append_printf (out, "%s/\n", sub);
          describe_tree (abs, sub, out);
        }
      else
        g_string_append_printf (out, "%s %lld %lld\n", sub, (long long) st.st_size,
                                (long long) st.st_mtime);
    }
}

static char *
state (Fixture *fx)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *dir = mbd_repository_dup_path (fx->repo);

  describe_tree (dir, "", out);
  g_auto (GStrv) rows = mbd_db_query_strv (
      mbd_instance_get_db (fx->instance),
      "SELECT suite_path || ' ' || source || ' ' || version FROM package_entries UNION ALL "
      "SELECT path || ' ' || sha256 FROM pool_files ORDER BY 1",
      NULL);
  for (guint i = 0; rows[i] != NULL; i++)
    g_string_append_printf (out, "%s\n", rows[i]);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
test_layouts (void)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("The built-in layouts have mini-buildd's suites, options and version rules");
  g_autoptr (MbdLayout) layout = mbd_layout_new_builtin ("Default", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_layout_get_name (layout), ==, MBD_LAYOUT_DEFAULT);
  g_autoptr (GPtrArray) suites = mbd_layout_get_suites (layout);
  const char *names[] = { "stable", "hotfix", "testing", "unstable", "snapshot", "experimental" };
  const guint rollbacks[] = { 6, 4, 3, 9, 12, 6 };
  g_assert_cmpuint (suites->len, ==, 6);
  for (guint i = 0; i < 6; i++)
    {
      g_assert_cmpstr (mbd_suite_get_name (suites->pdata[i]), ==, names[i]);
      g_assert_cmpuint (mbd_suite_get_rollbacks (suites->pdata[i]), ==, rollbacks[i]);
    }
  MbdSuite *unstable = mbd_layout_lookup_suite (layout, "unstable");
  MbdSuite *experimental = mbd_layout_lookup_suite (layout, "experimental");
  g_assert_cmpstr (mbd_suite_get_migrates_to (unstable), ==, "testing");
  g_assert_false (mbd_suite_get_uploadable (mbd_layout_lookup_suite (layout, "testing")));
  g_assert_true (mbd_suite_get_build_keyring_package (unstable));
  g_assert_false (mbd_suite_get_but_automatic_upgrades (experimental));

  g_assert_true (
      mbd_layout_check_version (layout, unstable, "test", "12", "1.0-1~test12+1", &error));
  g_assert_no_error (error);
  g_assert_false (mbd_layout_check_version (layout, unstable, "test", "12", "1.0-1", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_VERSION);
  g_assert_nonnull (strstr (error->message, "~test12+1"));
  g_clear_error (&error);
  g_assert_false (
      mbd_layout_check_version (layout, unstable, "test", "12", "1.0~test12+0", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_VERSION);
  g_clear_error (&error);
  g_assert_true (
      mbd_layout_check_version (layout, experimental, "test", "~SID", "1.0~test~SID+0", &error));
  g_assert_no_error (error);
  g_autofree char *suggested = mbd_layout_get_default_version (layout, experimental, "x", "13");
  g_assert_cmpstr (suggested, ==, "~x13+0");

  g_autoptr (MbdLayout) no_rb = mbd_layout_new_builtin (MBD_LAYOUT_DEFAULT_NO_ROLLBACKS, &error);
  g_assert_cmpuint (mbd_suite_get_rollbacks (mbd_layout_lookup_suite (no_rb, "unstable")), ==, 0);
  g_autoptr (MbdLayout) dd = mbd_layout_new_builtin ("Debian Developer", &error);
  g_assert_cmpstr (mbd_layout_lookup_meta_distribution (dd, "unstable"), ==, "sid-unstable");
  g_assert_null (mbd_layout_new_builtin ("nope", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* mini-buildd's rules on suites */
  g_autoptr (MbdLayout) custom = mbd_layout_new ("custom");
  g_autoptr (MbdSuite) a = mbd_suite_new ("a", &error);
  mbd_suite_set_migrates_to (a, "b");
  g_assert_false (mbd_layout_add_suite (custom, a, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mbd_suite_new ("Bad1", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
}

static void
test_distributions (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *codename = NULL, *repo = NULL, *suite = NULL;
  int rollback = 0;

  g_test_summary ("Distribution strings and specs parse and format as mini-buildd's");
  g_assert_true (mbd_distribution_string_parse ("bookworm-test-stable-rollback3", &codename, &repo,
                                                &suite, &rollback, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (codename, ==, "bookworm");
  g_assert_cmpstr (repo, ==, "test");
  g_assert_cmpstr (suite, ==, "stable");
  g_assert_cmpint (rollback, ==, 3);
  g_autofree char *formatted = mbd_distribution_string_format ("sid", "x1", "unstable", -1);
  g_assert_cmpstr (formatted, ==, "sid-x1-unstable");
  const char *bad[] = { "bookworm-test",
                        "bookworm-test-unstable-rb1",
                        "Bookworm-test-unstable",
                        "bookworm-test-unstable-rollback",
                        "a-b-c-d-e",
                        "bookworm-test-stable2" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (mbd_distribution_string_parse (bad[i], NULL, NULL, NULL, NULL, &error));
      g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, bad[i]));
      g_clear_error (&error);
    }

  g_autoptr (MbdDistribution) dist = mbd_distribution_new_from_spec ("trixie:arm64,armhf?", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_distribution_get_codeversion (dist), ==, "13");
  g_assert_cmpstr (mbd_distribution_get_arch_all_architecture (dist), ==, "arm64");
  g_assert_true (mbd_distribution_is_optional_architecture (dist, "armhf"));
  g_autofree char *spec = mbd_distribution_to_spec (dist);
  g_assert_cmpstr (spec, ==, "trixie:arm64,armhf?");
  g_autoptr (MbdDistribution) sid = mbd_distribution_new_from_spec ("sid:amd64", &error);
  g_assert_cmpstr (mbd_distribution_get_codeversion (sid), ==, "~SID");
  const char *no_main[] = { "contrib", NULL };
  g_assert_false (mbd_distribution_set_components (sid, no_main, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mbd_distribution_new_from_spec ("sid:amd64?,i386", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "arch-all"));
  g_clear_error (&error);
  g_assert_null (mbd_distribution_new_from_spec ("sid:amd64,amd64", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
}

static void
test_stored (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Repositories persist; a new instance has 'test' for the host; identities are "
                  "checked and unique");
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (fx->instance, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (repos->len, ==, 2);
  g_assert_cmpstr (mbd_repository_get_identity (repos->pdata[0]), ==, "r");
  MbdRepository *test = repos->pdata[1];
  g_assert_cmpstr (mbd_repository_get_identity (test), ==, "test");
  g_assert_true (mbd_repository_get_allow_unauthenticated_uploads (test));
  g_assert_cmpstr (mbd_layout_get_name (mbd_repository_get_layout (test)), ==, MBD_LAYOUT_DEFAULT);

  g_autoptr (MbdRepository) again = mbd_instance_lookup_repository (fx->instance, "r", &error);
  g_assert_no_error (error);
  MbdDistribution *dist = mbd_repository_lookup_distribution (again, "bookworm");
  g_assert_nonnull (dist);
  g_assert_true (mbd_distribution_is_optional_architecture (dist, "i386"));
  g_assert_null (mbd_instance_lookup_repository (fx->instance, "nope", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autoptr (MbdLayout) layout = mbd_layout_new_builtin (MBD_LAYOUT_DEFAULT, &error);
  g_assert_null (mbd_repository_new ("Bad-Id", layout, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* meta distributions map to the one repository whose layout has them */
  g_autoptr (MbdLayout) dd_layout = mbd_layout_new_builtin (MBD_LAYOUT_DEBIAN_DEVELOPER, &error);
  g_autoptr (MbdRepository) dd = mbd_repository_new ("dd", dd_layout, &error);
  g_autoptr (MbdDistribution) sid = mbd_distribution_new_from_spec ("sid:amd64", &error);
  g_assert_true (mbd_repository_add_distribution (dd, sid, &error));
  gboolean added = mbd_instance_add_repository (fx->instance, dd, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (added);
  g_autofree char *meta = mbd_instance_resolve_distribution (fx->instance, "unstable", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (meta, ==, "sid-dd-unstable");
  g_autofree char *plain
      = mbd_instance_resolve_distribution (fx->instance, "bookworm-r-stable", &error);
  g_assert_cmpstr (plain, ==, "bookworm-r-stable");
  g_assert_null (mbd_instance_resolve_distribution (fx->instance, "stable", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autoptr (MbdRepository) dup = mbd_repository_new ("r", layout, &error);
  g_autoptr (MbdDistribution) d2 = mbd_distribution_new_from_spec ("sid:amd64", &error);
  mbd_repository_add_distribution (dup, d2, &error);
  g_assert_false (mbd_instance_add_repository (fx->instance, dup, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXISTS);

  /* the creation published every suite with a signed InRelease */
  g_autofree char *inrelease = file_in_repo (fx, "dists/bookworm-r-stable/InRelease");
  g_assert_true (g_file_test (inrelease, G_FILE_TEST_IS_REGULAR));
}

static void
test_include_changes (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Including a .changes stores its files once in the pool and publishes Packages "
                  "(arch all for every architecture) and Sources stanzas");
  include (fx, "bookworm-r-unstable", "hello_1.0~r12+1_all.changes");

  g_autofree char *deb = file_in_repo (fx, "pool/main/h/hello/hello_1.0~r12+1_all.deb");
  g_autofree char *dsc = file_in_repo (fx, "pool/main/h/hello/hello_1.0~r12+1.dsc");
  g_assert_true (g_file_test (deb, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (dsc, G_FILE_TEST_IS_REGULAR));
  const char *arches[] = { "amd64", "i386" };
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *target = g_strdup_printf ("bookworm-r-unstable/main/binary-%s", arches[i]);
      g_auto (GStrv) list = stanzas (fx, target);
      g_assert_cmpuint (g_strv_length (list), ==, 1);
      g_assert_true (g_str_has_prefix (list[0], "Package: hello\n"));
      g_assert_nonnull (
          strstr (list[0], "\nFilename: pool/main/h/hello/hello_1.0~r12+1_all.deb\n"));
      g_assert_nonnull (strstr (list[0], "\nSHA256: "));
      g_assert_nonnull (strstr (list[0], "\nMD5sum: "));
      g_assert_nonnull (strstr (list[0], "\nSection: misc\n"));
    }
  g_auto (GStrv) sources = stanzas (fx, "bookworm-r-unstable/main/source");
  g_assert_cmpuint (g_strv_length (sources), ==, 1);
  g_assert_true (g_str_has_prefix (sources[0], "Package: hello\n"));
  g_assert_nonnull (strstr (sources[0], "\nDirectory: pool/main/h/hello\n"));
  g_assert_nonnull (strstr (sources[0], " hello_1.0~r12+1.dsc\n"));
  g_assert_nonnull (strstr (sources[0], " hello_1.0~r12+1.tar.xz"));
  g_assert_null (strstr (sources[0], "\nSource:"));

  /* published: the Packages file apt reads holds the stanza */
  g_autofree char *packages
      = file_in_repo (fx, "dists/bookworm-r-unstable/main/binary-i386/Packages");
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (packages, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "Package: hello\n"));
  assert_consistent (fx);

  /* the same files in another suite are shared, not copied */
  include (fx, "bookworm-r-hotfix", "hello_1.0~r12+1_all.changes");
  g_auto (GStrv) pool = mbd_db_query_strv (mbd_instance_get_db (fx->instance),
                                           "SELECT path FROM pool_files ORDER BY path", NULL);
  g_assert_cmpuint (g_strv_length (pool), ==, 3);
  assert_consistent (fx);
}

static void
test_include_refusals (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Unknown distribution, same version twice, same file name with other content, "
                  "version off the layout and non-uploadable suite are refused and change nothing");
  include (fx, "bookworm-r-unstable", "hello_1.0~r12+1_all.changes");
  g_autofree char *before = state (fx);
  g_autofree char *changes = pkg ("hello_1.0~r12+1_all.changes");
  g_autofree char *other = pkg ("other/hello_1.0~r12+1_all.deb");
  g_autofree char *bad_version = pkg ("bad_1.0_all.changes");
  const struct
  {
    const char *dist;
    const char *file;
    int code;
    const char *says;
  } cases[] = {
    { "bookworm-r-nope", changes, MBD_ERROR_NOT_FOUND, "bookworm-r-nope" },
    { "sid-r-unstable", changes, MBD_ERROR_NOT_FOUND, "sid-r-unstable" },
    { "bookworm-r-unstable", changes, MBD_ERROR_EXISTS, "is in bookworm-r-unstable already" },
    { "bookworm-r-hotfix", other, MBD_ERROR_EXISTS, "hello_1.0~r12+1_all.deb" },
    { "bookworm-r-unstable", bad_version, MBD_ERROR_INVALID_VERSION, "1.0" },
    { "bookworm-r-testing", changes, MBD_ERROR_REJECTED, "not uploadable" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *files[] = { cases[i].file, NULL };
      g_assert_false (mbd_repository_include (fx->repo, cases[i].dist, files, NULL, &error));
      g_assert_error (error, MBD_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].says));
      g_clear_error (&error);
      g_autofree char *after = state (fx);
      if (g_strcmp0 (after, before) != 0)
        {
          g_autofree char *b = g_build_filename (fx->tmpdir, "before", NULL);
          g_autofree char *a = g_build_filename (fx->tmpdir, "after", NULL);
          g_file_set_contents (b, before, -1, NULL);
          g_file_set_contents (a, after, -1, NULL);
          g_autofree char *cmd = g_strdup_printf ("diff %s %s >&2", b, a);
          g_test_message ("refusal %u (%s) changed the repository:", i, cases[i].dist);
          g_assert_cmpint (system (cmd), >=, 0);
        }
      g_assert_cmpstr (after, ==, before);
    }

  /* a bulk include fails as a whole: the new source staged before the refused file leaves no
   * file and no directory behind; the refused file is named, whatever thread read it */
  g_autofree char *libfoo = pkg ("libfoo_2.0~r12+1_amd64.deb");
  const char *bulk[] = { libfoo, other, NULL };
  g_assert_false (mbd_repository_include (fx->repo, "bookworm-r-hotfix", bulk, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "hello_1.0~r12+1_all.deb"));
  g_clear_error (&error);
  g_autofree char *after_bulk = state (fx);
  g_assert_cmpstr (after_bulk, ==, before);
  g_autofree char *libfoo_dir = file_in_repo (fx, "pool/main/libf");
  g_assert_false (g_file_test (libfoo_dir, G_FILE_TEST_EXISTS));

  /* of several unreadable files, the first given is the one reported */
  g_autofree char *garbage1 = g_build_filename (fx->tmpdir, "garbage1_1.0_all.deb", NULL);
  g_autofree char *garbage2 = g_build_filename (fx->tmpdir, "garbage2_1.0_all.deb", NULL);
  g_assert_true (g_file_set_contents (garbage1, "not a deb", -1, NULL));
  g_assert_true (g_file_set_contents (garbage2, "not a deb either", -1, NULL));
  for (guint round = 0; round < 20; round++)
    {
      const char *several[] = { libfoo, garbage1, libfoo, garbage2, NULL };
      g_assert_false (
          mbd_repository_include (fx->repo, "bookworm-r-hotfix", several, NULL, &error));
      g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
      g_assert_nonnull (strstr (error->message, "garbage1_1.0_all.deb"));
      g_clear_error (&error);
    }
  g_autofree char *after_garbage = state (fx);
  g_assert_cmpstr (after_garbage, ==, before);
  assert_consistent (fx);
}

static void
test_debs_and_gc (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Single .debs go to lib* prefixes and their architecture only; removing drops "
                  "the pool files nothing uses any more");
  include (fx, "bookworm-r-unstable", "libfoo_2.0~r12+1_amd64.deb");
  g_autofree char *deb = file_in_repo (fx, "pool/main/libf/libfoo/libfoo_2.0~r12+1_amd64.deb");
  g_assert_true (g_file_test (deb, G_FILE_TEST_IS_REGULAR));
  g_auto (GStrv) amd64 = stanzas (fx, "bookworm-r-unstable/main/binary-amd64");
  g_auto (GStrv) i386 = stanzas (fx, "bookworm-r-unstable/main/binary-i386");
  g_assert_cmpuint (g_strv_length (amd64), ==, 1);
  g_assert_cmpuint (g_strv_length (i386), ==, 0);
  g_autofree char *version = version_in (fx, "libfoo", "bookworm-r-unstable");
  g_assert_cmpstr (version, ==, "2.0~r12+1");
  assert_consistent (fx);

  g_assert_true (
      mbd_repository_remove (fx->repo, "libfoo", "bookworm-r-unstable", NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (deb, G_FILE_TEST_EXISTS));
  g_auto (GStrv) after = stanzas (fx, "bookworm-r-unstable/main/binary-amd64");
  g_assert_cmpuint (g_strv_length (after), ==, 0);
  g_assert_false (
      mbd_repository_remove (fx->repo, "libfoo", "bookworm-r-unstable", NULL, FALSE, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* a stray file in the pool (an interrupted include) is swept */
  g_autofree char *stray = file_in_repo (fx, "pool/main/h/stray.deb");
  g_autofree char *stray_dir = g_path_get_dirname (stray);
  g_mkdir_with_parents (stray_dir, 0755);
  g_assert_true (g_file_set_contents (stray, "x", 1, NULL));
  guint removed = 0;
  g_assert_true (mbd_repository_collect_garbage (fx->repo, &removed, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (removed, ==, 1);
  g_assert_false (g_file_test (stray, G_FILE_TEST_EXISTS));
  assert_consistent (fx);
}

static void
test_migrate (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("migrate copies one step or the whole chain; twice is refused; ls and show "
                  "have mini-buildd's shapes");
  include (fx, "bookworm-r-unstable", "hello_1.0~r12+1_all.changes");
  g_assert_true (
      mbd_repository_migrate (fx->repo, "hello", "bookworm-r-unstable", NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *testing = version_in (fx, "hello", "bookworm-r-testing");
  g_autofree char *stable = version_in (fx, "hello", "bookworm-r-stable");
  g_assert_cmpstr (testing, ==, "1.0~r12+1");
  g_assert_null (stable);
  g_assert_false (
      mbd_repository_migrate (fx->repo, "hello", "bookworm-r-unstable", NULL, FALSE, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_true (mbd_repository_migrate (fx->repo, "hello", "bookworm-r-unstable", "1.0~r12+1",
                                         TRUE, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *stable2 = version_in (fx, "hello", "bookworm-r-stable");
  g_assert_cmpstr (stable2, ==, "1.0~r12+1");
  g_assert_false (
      mbd_repository_migrate (fx->repo, "hello", "bookworm-r-stable", NULL, FALSE, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (
      mbd_repository_migrate (fx->repo, "hello", "bookworm-r-unstable", "9", FALSE, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_auto (GStrv) stable_bins = stanzas (fx, "bookworm-r-stable/main/binary-amd64");
  g_assert_cmpuint (g_strv_length (stable_bins), ==, 1);

  g_autofree char *show
      = mbd_instance_ls_json (fx->instance, "hello", NULL, "bookworm", NULL, TRUE, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) root = json_from_string (show, &error);
  g_assert_no_error (error);
  JsonObject *unstable = json_object_get_object_member (
      json_object_get_object_member (json_node_get_object (root), "r"), "bookworm-r-unstable");
  g_assert_cmpstr (json_object_get_string_member (unstable, "dsc_path"), ==,
                   "r/pool/main/h/hello/hello_1.0~r12+1.dsc");
  g_assert_cmpstr (json_object_get_string_member (unstable, "migrates_to"), ==,
                   "bookworm-r-testing");
  g_assert_true (json_object_get_boolean_member (unstable, "is_migrated"));
  g_assert_true (json_object_get_boolean_member (unstable, "uploadable"));
  g_assert_cmpstr (json_object_get_string_member (unstable, "architecture"), ==, "source");
  g_autofree char *none
      = mbd_instance_ls_json (fx->instance, "nothing", NULL, NULL, NULL, FALSE, &error);
  g_assert_cmpstr (none, ==, "{}");
  assert_consistent (fx);
}

static void
test_rollbacks (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("New versions shift old ones into -rollback0.., removal keeps a rollback, a "
                  "rollback can be restored and removed, and rollback suites are published");
  include (fx, "bookworm-r-unstable", "hello_1.0~r12+1_all.changes");
  include (fx, "bookworm-r-unstable", "hello_1.0~r12+2_all.changes");
  g_autofree char *v2 = version_in (fx, "hello", "bookworm-r-unstable");
  g_autofree char *rb0 = version_in (fx, "hello", "bookworm-r-unstable-rollback0");
  g_assert_cmpstr (v2, ==, "1.0~r12+2");
  g_assert_cmpstr (rb0, ==, "1.0~r12+1");
  g_auto (GStrv) rb_packages = stanzas (fx, "bookworm-r-unstable-rollback0/main/binary-amd64");
  g_assert_cmpuint (g_strv_length (rb_packages), ==, 1);
  g_assert_nonnull (strstr (rb_packages[0], "Version: 1.0~r12+1\n"));
  g_autofree char *release = file_in_repo (fx, "dists/bookworm-r-unstable-rollback0/Release");
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (release, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "NotAutomatic: yes"));

  /* an older version than the current one is refused */
  g_autofree char *old = pkg ("hello_1.0~r12+1_all.changes");
  const char *files[] = { old, NULL };
  g_assert_false (mbd_repository_include (fx->repo, "bookworm-r-unstable", files, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_REJECTED);
  g_clear_error (&error);

  g_assert_true (
      mbd_repository_remove (fx->repo, "hello", "bookworm-r-unstable", NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *gone = version_in (fx, "hello", "bookworm-r-unstable");
  g_assert_null (gone); /* ls lists distributions holding it, not rollbacks alone */
  g_auto (GStrv) main_after = stanzas (fx, "bookworm-r-unstable/main/binary-amd64");
  g_assert_cmpuint (g_strv_length (main_after), ==, 0);

  g_assert_true (
      mbd_repository_restore_rollback (fx->repo, "hello", "bookworm-r-unstable", 1, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *restored = version_in (fx, "hello", "bookworm-r-unstable");
  g_assert_cmpstr (restored, ==, "1.0~r12+1");
  g_autofree char *rb0_now = version_in (fx, "hello", "bookworm-r-unstable-rollback0");
  g_autofree char *rb1_now = version_in (fx, "hello", "bookworm-r-unstable-rollback1");
  g_assert_cmpstr (rb0_now, ==, "1.0~r12+2");
  g_assert_cmpstr (rb1_now, ==, "1.0~r12+1");
  g_assert_false (
      mbd_repository_restore_rollback (fx->repo, "hello", "bookworm-r-unstable", 0, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXISTS);
  g_clear_error (&error);

  /* removing rollback0 moves rollback1 up */
  g_assert_true (mbd_repository_remove (fx->repo, "hello", "bookworm-r-unstable-rollback0", NULL,
                                        FALSE, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *rb0_last = version_in (fx, "hello", "bookworm-r-unstable-rollback0");
  g_autofree char *rb1_last = version_in (fx, "hello", "bookworm-r-unstable-rollback1");
  g_assert_cmpstr (rb0_last, ==, "1.0~r12+1");
  g_assert_null (rb1_last);
  /* 1.0~r12+2's files are unused now */
  g_autofree char *deb2 = file_in_repo (fx, "pool/main/h/hello/hello_1.0~r12+2_all.deb");
  g_assert_false (g_file_test (deb2, G_FILE_TEST_EXISTS));
  assert_consistent (fx);
}

static void
test_snapshots (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A snapshot is an immutable published copy that keeps its pool files until "
                  "it is deleted");
  include (fx, "bookworm-r-unstable", "hello_1.0~r12+1_all.changes");
  g_autoptr (MbdSnapshot) snap
             = mbd_repository_create_snapshot (fx->repo, "bookworm-r-unstable", "s1", NULL, &error);
  g_assert_no_error (error);
  g_autofree char *suite = mbd_snapshot_get_suite_path (snap);
  g_assert_cmpstr (suite, ==, "bookworm-r-unstable/snapshots/s1");
  g_autofree char *inrelease
      = file_in_repo (fx, "dists/bookworm-r-unstable/snapshots/s1/InRelease");
  g_assert_true (g_file_test (inrelease, G_FILE_TEST_IS_REGULAR));
  g_assert_null (
      mbd_repository_create_snapshot (fx->repo, "bookworm-r-unstable", "s1", NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_null (
      mbd_repository_create_snapshot (fx->repo, "bookworm-r-unstable", "../x", NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (
      mbd_repository_remove (fx->repo, "hello", "bookworm-r-unstable", NULL, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_auto (GStrv) kept = stanzas (fx, "bookworm-r-unstable/snapshots/s1/main/binary-amd64");
  g_assert_cmpuint (g_strv_length (kept), ==, 1);
  g_autofree char *deb = file_in_repo (fx, "pool/main/h/hello/hello_1.0~r12+1_all.deb");
  g_assert_true (g_file_test (deb, G_FILE_TEST_IS_REGULAR));
  g_autoptr (GPtrArray) list
             = mbd_repository_list_snapshots (fx->repo, "bookworm-r-unstable", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (mbd_snapshot_get_name (list->pdata[0]), ==, "s1");
  assert_consistent (fx);

  g_assert_true (
      mbd_repository_delete_snapshot (fx->repo, "bookworm-r-unstable", "s1", NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (inrelease, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (deb, G_FILE_TEST_EXISTS));
  g_assert_false (
      mbd_repository_delete_snapshot (fx->repo, "bookworm-r-unstable", "s1", NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  assert_consistent (fx);
}

static void
test_async_concurrent (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) migrated = NULL;
  g_autoptr (GAsyncResult) snapped = NULL;

  g_test_summary ("migrate, remove and the snapshot calls run in worker threads while the "
                  "calling thread changes the same repository; each change commits on its own "
                  "and the published repository stays consistent");
  include (fx, "bookworm-r-unstable", "hello_1.0~r12+1_all.changes");
  mbd_repository_migrate_async (fx->repo, "hello", "bookworm-r-unstable", NULL, TRUE, NULL,
                                mbd_test_store_result, &migrated);
  mbd_repository_create_snapshot_async (fx->repo, "bookworm-r-unstable", "worker", NULL,
                                        mbd_test_store_result, &snapped);
  /* meanwhile this thread takes and deletes snapshots of another suite; with pauses, as sqlite's
   * busy handler is not fair to a writer that polls while another takes the lock back at once */
  for (guint rounds = 0; rounds < 6; rounds++)
    {
      g_autofree char *name = g_strdup_printf ("main%u", rounds);
      g_autoptr (MbdSnapshot) snap = mbd_repository_create_snapshot (
          fx->repo, "bookworm-r-experimental", name, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (mbd_snapshot_get_name (snap), ==, name);
      g_assert_true (
          mbd_repository_delete_snapshot (fx->repo, "bookworm-r-experimental", name, NULL, &error));
      g_assert_no_error (error);
      g_usleep (20 * 1000);
    }
  while (migrated == NULL || snapped == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (mbd_repository_migrate_finish (fx->repo, migrated, &error));
  g_assert_no_error (error);
  g_autoptr (MbdSnapshot) worker
             = mbd_repository_create_snapshot_finish (fx->repo, snapped, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_snapshot_get_name (worker), ==, "worker");
  g_autofree char *stable = version_in (fx, "hello", "bookworm-r-stable");
  g_assert_cmpstr (stable, ==, "1.0~r12+1");
  assert_consistent (fx);

  /* failures come back through _finish */
  g_clear_object (&migrated);
  mbd_repository_migrate_async (fx->repo, "hello", "bookworm-r-unstable", "9", FALSE, NULL,
                                mbd_test_store_result, &migrated);
  while (migrated == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (mbd_repository_migrate_finish (fx->repo, migrated, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autoptr (GAsyncResult) removed = NULL;
  g_autoptr (GAsyncResult) deleted = NULL;
  mbd_repository_remove_async (fx->repo, "hello", "bookworm-r-stable", NULL, TRUE, NULL,
                               mbd_test_store_result, &removed);
  mbd_repository_delete_snapshot_async (fx->repo, "bookworm-r-unstable", "worker", NULL,
                                        mbd_test_store_result, &deleted);
  while (removed == NULL || deleted == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (mbd_repository_remove_finish (fx->repo, removed, &error));
  g_assert_no_error (error);
  g_assert_true (mbd_repository_delete_snapshot_finish (fx->repo, deleted, &error));
  g_assert_no_error (error);
  g_autofree char *gone = version_in (fx, "hello", "bookworm-r-stable");
  g_assert_null (gone);
  assert_consistent (fx);
}

static void
test_sources_list (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *types[] = { "deb", "deb-src", NULL };

  g_test_summary ("sources_list lines follow mini-buildd's form and filters");
  g_auto (GStrv) lines = mbd_instance_sources_list (fx->instance, "r", NULL, "unstable", types,
                                                    FALSE, NULL, "file:///x/", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (lines), ==, 2);
  g_assert_cmpstr (lines[0], ==,
                   "deb [] file:///x/repositories/r bookworm-r-unstable main contrib non-free "
                   "non-free-firmware");
  g_assert_true (g_str_has_prefix (lines[1], "deb-src [] file:///x/repositories/r "));
  g_auto (GStrv) all = mbd_instance_sources_list (fx->instance, NULL, NULL, NULL, NULL, TRUE, NULL,
                                                  NULL, &error);
  /* r (6 suites, no rollbacks) and test (6 suites + 40 rollbacks) */
  g_assert_cmpuint (g_strv_length (all), ==, 6 + 46);
  g_assert_true (g_str_has_prefix (all[0], "deb [] http://127.0.0.1:8066/repositories/r "));
  const char *bad[] = { "rpm", NULL };
  g_assert_null (
      mbd_instance_sources_list (fx->instance, NULL, NULL, NULL, bad, FALSE, NULL, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
}

static void
build_packages (void)
{
  pkgdir = mbd_test_make_tmpdir ();
  g_autofree char *other = g_build_filename (pkgdir, "other", NULL);
  g_mkdir (other, 0755);
  mkpkg (pkgdir, "hello", "1.0~r12+1", "all", NULL);
  mkpkg (pkgdir, "hello", "1.0~r12+2", "all", NULL);
  mkpkg (pkgdir, "bad", "1.0", "all", NULL);
  mkpkg (pkgdir, "libfoo", "2.0~r12+1", "amd64", NULL);
  mkpkg (other, "hello", "1.0~r12+1", "all", "other content");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  build_packages ();

  g_test_add_func ("/repository/layouts", test_layouts);
  g_test_add_func ("/repository/distributions", test_distributions);
#define ADD(path, fn, layout) g_test_add (path, Fixture, layout, setup, fn, teardown)
  ADD ("/repository/stored", test_stored, NULL);
  ADD ("/repository/include-changes", test_include_changes, NULL);
  ADD ("/repository/include-refusals", test_include_refusals, NULL);
  ADD ("/repository/debs-and-gc", test_debs_and_gc, NULL);
  ADD ("/repository/migrate", test_migrate, NULL);
  ADD ("/repository/rollbacks", test_rollbacks, MBD_LAYOUT_DEFAULT);
  ADD ("/repository/snapshots", test_snapshots, NULL);
  ADD ("/repository/async-concurrent", test_async_concurrent, NULL);
  ADD ("/repository/sources-list", test_sources_list, NULL);
#undef ADD

  int ret = g_test_run ();
  mbd_test_rm_rf (pkgdir);
  g_free (pkgdir);
  return ret;
}
