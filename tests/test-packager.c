/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <string.h>

#include "mbd-build-private.h"
#include "mbd-instance-private.h"
#include "mbd-repository-private.h"

/* Real source uploads, made once per run with dpkg-source and dpkg-genchanges -S:
 * mkupload OUT NAME VERSION DIST ARCH [CHANGELOG-LINE] makes the directory OUT holding
 * NAME_VERSION.dsc, NAME_VERSION.tar.xz and NAME_VERSION_source.changes (unsigned). */
static const char mkupload_script[]
    = "set -e\n"
      "out=$1; name=$2; ver=$3; dist=$4; arch=$5; line=${6:-}\n"
      "w=$(mktemp -d)\n"
      "mkdir -p \"$w/$name/debian/source\"\n"
      "cd \"$w/$name\"\n"
      "echo '3.0 (native)' > debian/source/format\n"
      "printf 'Source: %s\\nSection: misc\\nPriority: optional\\nMaintainer: T "
      "<t@example.org>\\nBuild-Depends: debhelper-compat (= 13)\\nStandards-Version: 4.6.2\\n\\n"
      "Package: %s\\nArchitecture: %s\\nDescription: test\\n test package\\n' \"$name\" \"$name\" "
      "\"$arch\" > debian/control\n"
      "printf '#!/usr/bin/make -f\\n%%:\\n\\tdh $@\\n' > debian/rules; chmod +x debian/rules\n"
      "printf '%s (%s) %s; urgency=medium\\n\\n  * test\\n%s\\n -- T <t@example.org>  Mon, 01 "
      "Jan 2024 00:00:00 +0000\\n' \"$name\" \"$ver\" \"$dist\" \"$line\" > debian/changelog\n"
      "cd \"$w\" && dpkg-source -b \"$name\" >/dev/null 2>&1\n"
      "cd \"$w/$name\" && dpkg-genchanges -S > \"$w/${name}_${ver}_source.changes\" 2>/dev/null\n"
      "mkdir -p \"$out\"\n"
      "mv \"$w\"/*.dsc \"$w\"/*.tar.xz \"$w\"/*.changes \"$out/\"\n"
      "rm -rf \"$w\"\n";

static char *datadir;     /* per run: uploads and the uploader GnuPG homes */
static char *uploader;    /* GnuPG home of the uploader key */
static char *uploader_fp; /* its fingerprint */
static char *stranger;    /* GnuPG home of a key nobody knows */
static char *stranger_fp;
static char *codeversion;
static char *arch;

static void
mkupload (const char *out,
          const char *name,
          const char *version,
          const char *dist,
          const char *architecture,
          const char *line)
{
  g_autoptr (GError) error = NULL;
  const char *argv[]
      = { "sh", "-c",         mkupload_script,          "mkupload", out, name, version,
          dist, architecture, line != NULL ? line : "", NULL };
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
}

static void
sign (const char *homedir, const char *fingerprint, const char *path)
{
  g_autofree char *out = g_strconcat (path, ".asc", NULL);
  const char *argv[] = { "--local-user", fingerprint, "--clearsign", "--output", out, path, NULL };

  g_free (mbd_test_gpg (homedir, argv));
  g_assert_cmpint (g_rename (out, path), ==, 0);
}

typedef struct
{
  char *tmpdir;
  char *home;
  MbdInstance *instance;
  MbdRepository *repo; /* "r": bookworm, the native architecture, Default layout without
                        * rollbacks */
  GPtrArray *signalled;
} Fixture;

static void
on_event (MbdEvents *events, MbdEvent *event, gpointer user_data)
{
  Fixture *fx = user_data;
  g_ptr_array_add (fx->signalled, g_object_ref (event));
}

static char *template_home; /* an instance with repository r, made once and copied per test */

static void
make_template (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdInstance) instance = mbd_test_create_instance (template_home, "pk");

  g_autofree char *spec = g_strdup_printf ("bookworm:%s", arch);
  g_object_unref (mbd_test_add_repository (instance, "r", MBD_LAYOUT_DEFAULT_NO_ROLLBACKS, spec,
                                           codeversion, NULL));

  /* the uploader's key is in the repository's uploader keyring */
  g_autofree char *keyring_dir = g_build_filename (template_home, "uploaders", "r", NULL);
  g_assert_cmpint (g_mkdir_with_parents (keyring_dir, 0700), ==, 0);
  const char *argv[] = { "--armor", "--export", uploader_fp, NULL };
  g_autofree char *armored = mbd_test_gpg (uploader, argv);
  g_autofree char *keyring = g_build_filename (keyring_dir, "uploader.asc", NULL);
  g_assert_true (g_file_set_contents (keyring, armored, -1, &error));
  g_assert_no_error (error);

  /* the engine's first start publishes the default repository */
  gboolean started = mbd_instance_start (instance, &error);
  g_assert_no_error (error);
  g_assert_true (started);
  mbd_instance_stop (instance);
  g_clear_object (&instance);
  g_autofree char *gnupg = g_build_filename (template_home, "gnupg", NULL);
  mbd_test_kill_agent (gnupg);
}

static void
setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->signalled = g_ptr_array_new_with_free_func (g_object_unref);
  fx->instance = mbd_test_open_copy (template_home, fx->home);
  fx->repo = mbd_instance_lookup_repository (fx->instance, "r", &error);
  g_assert_no_error (error);
  g_signal_connect (mbd_instance_get_events (fx->instance), "event", G_CALLBACK (on_event), fx);
  gboolean started = mbd_instance_start (fx->instance, &error);
  g_assert_no_error (error);
  g_assert_true (started);
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *gnupg = g_build_filename (fx->home, "gnupg", NULL);

  if (fx->instance != NULL)
    mbd_instance_stop (fx->instance);
  g_clear_object (&fx->repo);
  g_clear_object (&fx->instance);
  g_ptr_array_unref (fx->signalled);
  mbd_test_kill_agent (gnupg);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->home);
}

/* ---- helpers ---- */

static char *
layout_version (const char *base, int n)
{
  return g_strdup_printf ("%s~r%s+%d", base, codeversion, n);
}

/* A fresh copy of a generated upload in its own directory (under the test's directory, on the
 * home's file system); returns the path of its .changes. */
static char *
make_upload (Fixture *fx,
             const char *version,
             const char *dist,
             const char *architecture,
             const char *line,
             const char *signer_home,
             const char *signer_fp)
{
  g_autofree char *dir = g_build_filename (fx->tmpdir, "upXXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (dir));
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  mkupload (dir, "hello", version, dist, architecture, line);
  g_autofree char *name = g_strdup_printf ("hello_%s_source.changes", version);
  char *changes = g_build_filename (dir, name, NULL);
  if (signer_home != NULL)
    sign (signer_home, signer_fp, changes);
  return changes;
}

static char *
default_upload (Fixture *fx, const char *signer_home, const char *signer_fp)
{
  g_autofree char *version = layout_version ("1.0", 1);
  return make_upload (fx, version, "bookworm-r-unstable", "any", NULL, signer_home, signer_fp);
}

static char *
submit (Fixture *fx, const char *changes)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *dir = g_path_get_dirname (changes);

  gboolean ok
      = mbd_packager_submit_full (mbd_instance_get_packager (fx->instance), changes, &key, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_autofree char *taken = g_build_filename (fx->home, "packages", key, NULL);
  g_assert_true (g_file_test (taken, G_FILE_TEST_IS_DIR));
  return g_steal_pointer (&key);
}

static MbdPackageState
run_until_final (Fixture *fx, const char *key)
{
  return mbd_test_run_until_final (fx->instance, key);
}

/* The events of package @key, oldest first. */
static GPtrArray *
events_of (Fixture *fx, const char *key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all
             = mbd_events_list_after (mbd_instance_get_events (fx->instance), NULL, &error);
  g_assert_no_error (error);
  GPtrArray *mine = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < all->len; i++)
    if (g_strcmp0 (mbd_event_get_extra (all->pdata[i], "timecode"), key) == 0)
      g_ptr_array_add (mine, g_object_ref (all->pdata[i]));
  return mine;
}

static gint64
count_rows (Fixture *fx, const char *sql)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) values = mbd_db_query_strv (mbd_instance_get_db (fx->instance), sql, &error);
  g_assert_no_error (error);
  g_assert_nonnull (values[0]);
  return g_ascii_strtoll (values[0], NULL, 10);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
describe_tree (const char *dir, GString *out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
      GStatBuf st;
      g_assert_cmpint (g_lstat (path, &st), ==, 0);
      g_string_append_printf (out, "%s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", path,
                              (gint64) st.st_size, (gint64) st.st_mtime);
      if (S_ISDIR (st.st_mode))
        describe_tree (path, out);
    }
}

/* What a rejection must leave unchanged: the repository tree and the package rows. */
static char *
repository_state (Fixture *fx)
{
  GString *out = g_string_new (NULL);
  g_autofree char *repos = g_build_filename (fx->home, "repositories", "r", NULL);

  describe_tree (repos, out);
  g_string_append_printf (
      out, "entries %" G_GINT64_FORMAT " pool %" G_GINT64_FORMAT " builds %" G_GINT64_FORMAT "\n",
      count_rows (fx, "SELECT count(*) FROM package_entries"),
      count_rows (fx, "SELECT count(*) FROM pool_files"),
      count_rows (fx, "SELECT count(*) FROM builds"));
  return g_string_free (out, FALSE);
}

/* Submits @changes and asserts the package ends rejected with one REJECTED event whose reason
 * contains each of @needles, with the repository unchanged and the upload removed. */
static void
assert_rejected (Fixture *fx, const char *changes, const char *const *needles)
{
  g_autofree char *before = repository_state (fx);
  g_autofree char *key = submit (fx, changes);

  g_assert_cmpint (run_until_final (fx, key), ==, MBD_PACKAGE_STATE_REJECTED);
  g_autoptr (GPtrArray) events = events_of (fx, key);
  g_assert_cmpuint (events->len, ==, 1);
  MbdEvent *event = events->pdata[0];
  g_assert_cmpint (mbd_event_get_event_type (event), ==, MBD_EVENT_REJECTED);
  const char *reason = mbd_event_get_reason (event);
  g_assert_nonnull (reason);
  g_test_message ("reason: %s", reason);
  for (guint i = 0; needles[i] != NULL; i++)
    if (strstr (reason, needles[i]) == NULL)
      g_error ("reason '%s' does not contain '%s'", reason, needles[i]);
  g_autofree char *after = repository_state (fx);
  g_assert_cmpstr (after, ==, before);
  g_autofree char *taken = g_build_filename (fx->home, "packages", key, NULL);
  g_assert_false (g_file_test (taken, G_FILE_TEST_EXISTS));
  /* announced once, and stored as a JSON file */
  guint signalled = 0;
  for (guint i = 0; i < fx->signalled->len; i++)
    if (mbd_event_get_id (fx->signalled->pdata[i]) == mbd_event_get_id (event))
      signalled++;
  g_assert_cmpuint (signalled, ==, 1);
}

/* ---- rejections ---- */

static void
test_unsigned (Fixture *fx, gconstpointer data)
{
  g_test_summary ("An unsigned upload to a repository that requires signatures is rejected");
  g_autofree char *changes = default_upload (fx, NULL, NULL);
  const char *needles[]
      = { "hello_", "_source.changes", "not OpenPGP signed", "repository r", NULL };
  assert_rejected (fx, changes, needles);
}

static void
test_unknown_key (Fixture *fx, gconstpointer data)
{
  g_test_summary ("An upload signed by a key outside the uploader keyring is rejected, naming "
                  "the key");
  g_autofree char *changes = default_upload (fx, stranger, stranger_fp);
  g_autofree char *short_fp = g_strdup (stranger_fp + strlen (stranger_fp) - 16);
  const char *needles[] = { "_source.changes", "not an uploader of repository r", short_fp, NULL };
  assert_rejected (fx, changes, needles);
}

static void
test_bad_signature (Fixture *fx, gconstpointer data)
{
  g_test_summary ("A signed .changes altered after signing is rejected with a bad signature");
  g_autoptr (GError) error = NULL;
  g_autofree char *changes = default_upload (fx, uploader, uploader_fp);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (changes, &text, NULL, &error));
  char *urgency = strstr (text, "Urgency: medium");
  g_assert_nonnull (urgency);
  memcpy (urgency, "Urgency: high  ", strlen ("Urgency: medium"));
  g_assert_true (g_file_set_contents (changes, text, -1, &error));
  const char *needles[] = { "_source.changes", "bad signature", NULL };
  assert_rejected (fx, changes, needles);
}

/* Changes one byte of the upload's tarball (same size) or appends one (other size). */
static char *
tamper_tarball (Fixture *fx, gboolean keep_size, gsize *out_size)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *changes = default_upload (fx, uploader, uploader_fp);
  g_autofree char *dir = g_path_get_dirname (changes);
  g_autofree char *version = layout_version ("1.0", 1);
  g_autofree char *name = g_strdup_printf ("hello_%s.tar.xz", version);
  g_autofree char *tarball = g_build_filename (dir, name, NULL);
  g_autofree char *content = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (tarball, &content, &len, &error));
  *out_size = len;
  g_autofree char *changed = g_malloc (len + 1);
  memcpy (changed, content, len);
  if (keep_size)
    changed[len / 2] ^= 0x55;
  else
    changed[len++] = 'x';
  g_assert_true (g_file_set_contents (tarball, changed, len, &error));
  return g_steal_pointer (&changes);
}

static void
test_checksum_mismatch (Fixture *fx, gconstpointer data)
{
  g_test_summary ("A file whose content differs from its checksum is rejected, naming it");
  gsize size;
  g_autofree char *changes = tamper_tarball (fx, TRUE, &size);
  const char *needles[] = { ".tar.xz", "checksum", NULL };
  assert_rejected (fx, changes, needles);
}

static void
test_size_mismatch (Fixture *fx, gconstpointer data)
{
  g_test_summary ("A file whose size differs from the listed one is rejected, naming it");
  gsize size;
  g_autofree char *changes = tamper_tarball (fx, FALSE, &size);
  g_autofree char *sizes = g_strdup_printf (
      "has %" G_GSIZE_FORMAT " bytes, but %" G_GSIZE_FORMAT " are listed", size + 1, size);
  const char *needles[] = { ".tar.xz", sizes, NULL };
  assert_rejected (fx, changes, needles);
}

static void
test_missing_file (Fixture *fx, gconstpointer data)
{
  g_test_summary ("An upload that lacks a listed file is rejected, naming the file");
  g_autofree char *changes = default_upload (fx, uploader, uploader_fp);
  g_autofree char *dir = g_path_get_dirname (changes);
  g_autofree char *version = layout_version ("1.0", 1);
  g_autofree char *name = g_strdup_printf ("hello_%s.dsc", version);
  g_autofree char *dsc = g_build_filename (dir, name, NULL);
  g_assert_cmpint (g_unlink (dsc), ==, 0);
  const char *needles[] = { name, NULL };
  assert_rejected (fx, changes, needles);
}

static void
test_unknown_distribution (Fixture *fx, gconstpointer data)
{
  g_test_summary ("An upload to a distribution no repository has is rejected");
  g_autofree char *version = layout_version ("1.0", 1);
  g_autofree char *changes
      = make_upload (fx, version, "bookworm-nope-unstable", "any", NULL, uploader, uploader_fp);
  const char *needles[] = { "_source.changes", "bookworm-nope-unstable", NULL };
  assert_rejected (fx, changes, needles);
}

static void
test_not_uploadable (Fixture *fx, gconstpointer data)
{
  g_test_summary ("An upload to a suite packages reach by migration only is rejected");
  g_autofree char *version = layout_version ("1.0", 1);
  g_autofree char *changes
      = make_upload (fx, version, "bookworm-r-testing", "any", NULL, uploader, uploader_fp);
  const char *needles[] = { "bookworm-r-testing is not uploadable", NULL };
  assert_rejected (fx, changes, needles);
}

static void
test_version_layout (Fixture *fx, gconstpointer data)
{
  g_test_summary ("A version without the layout's suffix is rejected, naming the rule");
  g_autofree char *changes
      = make_upload (fx, "1.0", "bookworm-r-unstable", "any", NULL, uploader, uploader_fp);
  const char *needles[] = { "_source.changes", "1.0", NULL };
  assert_rejected (fx, changes, needles);
}

static void
test_version_not_newer (Fixture *fx, gconstpointer data)
{
  g_test_summary ("A version not newer than the distribution's is rejected, naming both");
  g_autoptr (GError) error = NULL;
  g_autofree char *newer = layout_version ("1.0", 2);
  g_autofree char *present
      = make_upload (fx, newer, "bookworm-r-unstable", "any", NULL, NULL, NULL);
  const char *files[] = { present, NULL };
  gboolean included = mbd_repository_include (fx->repo, "bookworm-r-unstable", files, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (included);

  g_autofree char *changes = default_upload (fx, uploader, uploader_fp);
  const char *needles[] = { "not newer", newer, "bookworm-r-unstable", NULL };
  assert_rejected (fx, changes, needles);
}

static void
test_garbage (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Garbage instead of a .changes is rejected, naming the file");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (fx->tmpdir, "garbage", NULL);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_autofree char *changes = g_build_filename (dir, "junk_1_source.changes", NULL);
  g_assert_true (
      g_file_set_contents (changes, "\x01\x02 not a control file\n\n\n:::\n", -1, &error));
  const char *needles[] = { "junk_1_source.changes", NULL };
  assert_rejected (fx, changes, needles);
}

static void
test_unsafe_name (Fixture *fx, gconstpointer data)
{
  g_test_summary ("A .changes listing a file outside its directory is rejected");
  g_autoptr (GError) error = NULL;
  g_autofree char *changes = default_upload (fx, NULL, NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (changes, &text, NULL, &error));
  g_autofree char *version = layout_version ("1.0", 1);
  g_autofree char *dsc = g_strdup_printf (" hello_%s.dsc", version);
  g_autofree char *evil = g_strdup_printf (" ../../hello_%s.dsc", version);
  g_autoptr (GString) edited = g_string_new (text);
  g_string_replace (edited, dsc, evil, 0);
  g_assert_true (g_file_set_contents (changes, edited->str, -1, &error));
  sign (uploader, uploader_fp, changes);
  const char *needles[] = { "_source.changes", "../../hello_", NULL };
  assert_rejected (fx, changes, needles);
}

static void
test_unknown_option (Fixture *fx, gconstpointer data)
{
  g_test_summary ("An unknown MINI_BUILDD_OPTION in the changelog rejects the upload");
  g_autofree char *version = layout_version ("1.0", 1);
  g_autofree char *changes
      = make_upload (fx, version, "bookworm-r-unstable", "any",
                     "  * MINI_BUILDD_OPTION: frobnicate=yes", uploader, uploader_fp);
  const char *needles[] = { "unknown upload option 'frobnicate'", "lintian-mode", NULL };
  assert_rejected (fx, changes, needles);
}

/* ---- accepted uploads ---- */

static void
test_accepted_build_fails (Fixture *fx, gconstpointer data)
{
  g_test_summary ("A good upload through a meta distribution gets a build request per "
                  "architecture with the upload options, a PACKAGING event, and ends FAILED "
                  "with the builder's reason when the build cannot run (no chroot)");
  g_autoptr (GError) error = NULL;
  g_autofree char *version = layout_version ("1.0", 1);
  g_autofree char *line = g_strdup_printf ("  * MINI_BUILDD_OPTION: lintian-mode[%s]=warnfail\n"
                                           "  * MINI_BUILDD_OPTION: lintian-mode=disabled",
                                           arch);
  g_autofree char *changes
      = make_upload (fx, version, "bookworm-r-unstable", "any", line, uploader, uploader_fp);
  g_autofree char *key = submit (fx, changes);

  g_assert_cmpint (run_until_final (fx, key), ==, MBD_PACKAGE_STATE_FAILED);
  g_autoptr (GPtrArray) events = events_of (fx, key);
  g_assert_cmpuint (events->len, ==, 4);
  const MbdEventType expected[]
      = { MBD_EVENT_PACKAGING, MBD_EVENT_BUILDING, MBD_EVENT_BUILT, MBD_EVENT_FAILED };
  for (guint i = 0; i < events->len; i++)
    {
      MbdEvent *event = events->pdata[i];
      g_assert_cmpint (mbd_event_get_event_type (event), ==, expected[i]);
      g_assert_cmpstr (mbd_event_get_source (event), ==, "hello");
      g_assert_cmpstr (mbd_event_get_version (event), ==, version);
      g_assert_cmpstr (mbd_event_get_distribution (event), ==, "bookworm-r-unstable");
      g_assert_cmpstr (mbd_event_get_extra (event, "changed_by"), ==,
                       i == 0 ? "T <t@example.org>" : NULL);
    }
  const char *reason = mbd_event_get_reason (events->pdata[3]);
  g_assert_nonnull (strstr (reason, "no chroot"));
  g_assert_nonnull (strstr (reason, arch));

  /* one build request, with the per-architecture option winning over the general one */
  g_autoptr (GPtrArray) builds = mbd_builder_list (mbd_instance_get_builder (fx->instance), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (builds->len, ==, 1);
  MbdBuildRequest *request = builds->pdata[0];
  g_assert_cmpstr (mbd_build_request_get_architecture (request), ==, arch);
  g_assert_cmpstr (mbd_build_request_get_distribution (request), ==, "bookworm-r-unstable");
  g_assert_cmpint (mbd_build_request_get_lintian_mode (request), ==, MBD_CHECK_MODE_WARNFAIL);
  g_assert_cmpstr (mbd_event_get_extra (events->pdata[2], "build_key"), ==,
                   mbd_build_request_get_key (request));

  /* nothing installed; the upload is kept for a retry */
  g_autofree char *after = repository_state (fx);
  g_assert_cmpuint (strlen (after), !=, 0);
  g_autofree char *taken = g_build_filename (fx->home, "packages", key, NULL);
  g_assert_true (g_file_test (taken, G_FILE_TEST_IS_DIR));
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM package_entries"), ==, 0);
}

static void
test_submit_refusals (Fixture *fx, gconstpointer data)
{
  g_test_summary ("submit takes nothing when it cannot take the upload");
  g_autoptr (GError) error = NULL;
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);
  g_autofree char *changes = default_upload (fx, NULL, NULL);
  g_autofree char *dir = g_path_get_dirname (changes);
  g_autofree char *dsc = g_build_filename (dir, "x.dsc", NULL);

  g_assert_false (mbd_packager_submit (packager, dsc, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_file_test (changes, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  g_autofree char *missing = g_build_filename (fx->tmpdir, "nowhere", "a.changes", NULL);
  g_assert_false (mbd_packager_submit (packager, missing, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM packages"), ==, 0);
  g_clear_error (&error);

  /* an instance that is not open takes nothing */
  g_autoptr (MbdInstance) closed = mbd_instance_new (fx->home);
  g_assert_false (mbd_packager_submit (mbd_instance_get_packager (closed), changes, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_file_test (changes, G_FILE_TEST_EXISTS));
}

static void
test_recover_unrecorded (Fixture *fx, gconstpointer data)
{
  g_test_summary ("An upload moved into packages/ but not recorded (the process died between "
                  "the two) is recorded and processed at the next start");
  g_autofree char *changes = default_upload (fx, NULL, NULL);
  g_autofree char *dir = g_path_get_dirname (changes);
  g_autofree char *target = g_build_filename (fx->home, "packages", "20240101:000000:000001", NULL);
  mbd_instance_stop (fx->instance);
  g_assert_cmpint (g_rename (dir, target), ==, 0);

  g_assert_cmpint (run_until_final (fx, "20240101:000000:000001"), ==, MBD_PACKAGE_STATE_REJECTED);
  g_autoptr (GPtrArray) events = events_of (fx, "20240101:000000:000001");
  g_assert_cmpuint (events->len, ==, 1);
  g_assert_nonnull (strstr (mbd_event_get_reason (events->pdata[0]), "not OpenPGP signed"));
}

static void
test_cancel_and_retry (Fixture *fx, gconstpointer data)
{
  g_test_summary ("cancel ends a package that waits for its checks as FAILED; retry submits a "
                  "failed package's upload again as a new package; both refuse what they "
                  "cannot do");
  g_autoptr (GError) error = NULL;
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);
  mbd_instance_stop (fx->instance);
  g_autofree char *changes = default_upload (fx, uploader, uploader_fp);
  g_autofree char *key = submit (fx, changes);

  g_assert_true (mbd_packager_cancel (packager, key, &error));
  g_assert_no_error (error);
  g_assert_cmpint (run_until_final (fx, key), ==, MBD_PACKAGE_STATE_FAILED);
  g_autoptr (GPtrArray) events = events_of (fx, key);
  g_assert_cmpuint (events->len, ==, 1);
  g_assert_cmpstr (mbd_event_get_reason (events->pdata[0]), ==, "cancelled before its checks");
  g_assert_false (mbd_packager_cancel (packager, key, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_autofree char *again = NULL;
  g_assert_true (mbd_packager_retry (packager, key, &again, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (again, !=, key);
  /* the same upload passes its checks this time and fails for want of a chroot */
  g_assert_cmpint (run_until_final (fx, again), ==, MBD_PACKAGE_STATE_FAILED);
  g_autoptr (GPtrArray) retried = events_of (fx, again);
  g_assert_cmpint (mbd_event_get_event_type (retried->pdata[0]), ==, MBD_EVENT_PACKAGING);
  g_assert_nonnull (strstr (mbd_event_get_reason (retried->pdata[retried->len - 1]), "no chroot"));

  g_assert_false (mbd_packager_retry (packager, "nope", NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autofree char *bad = default_upload (fx, NULL, NULL);
  g_autofree char *rejected = submit (fx, bad);
  g_assert_cmpint (run_until_final (fx, rejected), ==, MBD_PACKAGE_STATE_REJECTED);
  g_assert_false (mbd_packager_retry (packager, rejected, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "upload it again"));
}

static char *
copy_upload (Fixture *fx, const char *changes, guint n)
{
  g_autofree char *dir = g_path_get_dirname (changes);
  g_autofree char *name = g_path_get_basename (changes);
  g_autofree char *copy = g_strdup_printf ("%s-%u", dir, n);
  const char *argv[] = { "cp", "-a", dir, copy, NULL };
  int status = 0;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  return g_build_filename (copy, name, NULL);
}

/* Iterates the main context while @key is in @state; returns how many 1 ms ticks came. Work
 * done on the main loop lets none through: the state has changed when the loop is next asked. */
static guint
ticks_while_in_state (Fixture *fx, const char *key, MbdPackageState state)
{
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);
  guint ticks = 0;
  guint id = g_timeout_add (1, mbd_test_count_tick, &ticks);
  for (;;)
    {
      g_autoptr (GError) error = NULL;
      MbdPackageState now;
      g_assert_true (mbd_packager_lookup_state (packager, key, &now, &error));
      g_assert_no_error (error);
      if (now != state)
        break;
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (id);
  return ticks;
}

static void
test_worker_threads (Fixture *fx, gconstpointer data)
{
  g_test_summary ("The checks of an upload (signature, checksums) and the installation "
                  "(copying, publishing, signing) run in worker threads: the main loop keeps "
                  "running meanwhile");
  /* checking: a temporary GnuPG home, key imports and a verification take far longer than the
   * few 1 ms ticks asked for */
  g_autofree char *changes = default_upload (fx, uploader, uploader_fp);
  g_autofree char *key = submit (fx, changes);
  guint ticks = ticks_while_in_state (fx, key, MBD_PACKAGE_STATE_CHECKING);
  g_test_message ("%u ticks while checking", ticks);
  g_assert_cmpuint (ticks, >=, 3);
  g_assert_cmpint (run_until_final (fx, key), ==, MBD_PACKAGE_STATE_FAILED); /* no chroot */

  /* installing: a source-only upload recorded as built without binaries, as after its builds;
   * copying, publishing and signing take 10 ms at the very least */
  g_autofree char *version = layout_version ("1.1", 1);
  g_autofree char *second
      = make_upload (fx, version, "bookworm-r-unstable", "all", NULL, uploader, uploader_fp);
  g_autofree char *key2 = submit (fx, second);
  g_autoptr (GError) error = NULL;
  g_autoptr (sqlite3_stmt) update = mbd_db_prepare (
      mbd_instance_get_db (fx->instance),
      "UPDATE packages SET state = ?1, source = 'hello', version = ?2,"
      " distribution = 'bookworm-r-unstable', builds = '{}' WHERE key = ?3",
      &error);
  g_assert_no_error (error);
  sqlite3_bind_int (update, 1, MBD_PACKAGE_STATE_INSTALLING);
  sqlite3_bind_text (update, 2, version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (update, 3, key2, -1, SQLITE_TRANSIENT);
  g_assert_true (mbd_db_step_done (mbd_instance_get_db (fx->instance), update, &error));
  g_assert_no_error (error);
  ticks = ticks_while_in_state (fx, key2, MBD_PACKAGE_STATE_INSTALLING);
  g_test_message ("%u ticks while installing", ticks);
  g_assert_cmpuint (ticks, >=, 3);
  g_assert_cmpint (run_until_final (fx, key2), ==, MBD_PACKAGE_STATE_INSTALLED);
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM package_entries WHERE source = 'hello'"),
                   ==, 1);
}

static void
test_many_at_once (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Twenty uploads submitted at once all end as they should, each with one "
                  "final event: the unsigned ones REJECTED, the signed ones built (and FAILED "
                  "here for want of a chroot); none is lost");
  g_autofree char *bad = default_upload (fx, NULL, NULL);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);

  /* the signed ones with a version each: one version is built once at a time */
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *version = layout_version ("1.0", i + 1);
      g_autofree char *changes = i % 2 == 0 ? make_upload (fx, version, "bookworm-r-unstable",
                                                           "any", NULL, uploader, uploader_fp)
                                            : copy_upload (fx, bad, i);
      g_ptr_array_add (keys, submit (fx, changes));
    }
  for (guint i = 0; i < keys->len; i++)
    {
      MbdPackageState expected = i % 2 == 0 ? MBD_PACKAGE_STATE_FAILED : MBD_PACKAGE_STATE_REJECTED;
      g_assert_cmpint (run_until_final (fx, keys->pdata[i]), ==, expected);
      g_autoptr (GPtrArray) events = events_of (fx, keys->pdata[i]);
      guint finals = 0;
      for (guint e = 0; e < events->len; e++)
        {
          MbdEventType type = mbd_event_get_event_type (events->pdata[e]);
          finals += type == MBD_EVENT_FAILED || type == MBD_EVENT_REJECTED
                    || type == MBD_EVENT_INSTALLED;
        }
      g_assert_cmpuint (finals, ==, 1);
      if (i % 2 == 0)
        g_assert_cmpint (mbd_event_get_event_type (events->pdata[0]), ==, MBD_EVENT_PACKAGING);
    }
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM packages"), ==, 20);
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM builds"), ==, 10);
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM package_entries"), ==, 0);
}

static void
test_same_version_in_progress (Fixture *fx, gconstpointer data)
{
  g_test_summary ("A second upload of a version that is being built for the same distribution "
                  "is REJECTED at once, naming the upload in progress, instead of building twice "
                  "and failing at installation");
  g_autofree char *first = default_upload (fx, uploader, uploader_fp);
  g_autofree char *second = copy_upload (fx, first, 1);
  g_autofree char *key1 = submit (fx, first);
  g_autofree char *key2 = submit (fx, second);

  g_assert_cmpint (run_until_final (fx, key2), ==, MBD_PACKAGE_STATE_REJECTED);
  g_autoptr (GPtrArray) events = events_of (fx, key2);
  g_assert_cmpuint (events->len, ==, 1);
  const char *reason = mbd_event_get_reason (events->pdata[0]);
  g_assert_nonnull (strstr (reason, "is being built for bookworm-r-unstable already"));
  g_assert_nonnull (strstr (reason, key1));
  /* the first is built (and fails for want of a chroot), once */
  g_assert_cmpint (run_until_final (fx, key1), ==, MBD_PACKAGE_STATE_FAILED);
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM builds"), ==, 1);

  /* once the first has ended, the same version may come again */
  g_autofree char *third = default_upload (fx, uploader, uploader_fp);
  g_autofree char *key3 = submit (fx, third);
  g_assert_cmpint (run_until_final (fx, key3), ==, MBD_PACKAGE_STATE_FAILED);
  g_assert_cmpint (count_rows (fx, "SELECT count(*) FROM builds"), ==, 2);
}

/* ---- events ---- */

static void
test_events (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Events keep mini-buildd's JSON shape, are rows and files, and list after a "
                  "time");
  g_autoptr (GError) error = NULL;
  MbdEvents *events = mbd_instance_get_events (fx->instance);
  g_autoptr (MbdEvent) first
             = mbd_event_new (MBD_EVENT_MIGRATED, "bookworm-r-testing", "hello", "1.0~r12+1");
  mbd_event_set_extra (first, "architecture", "source");
  g_assert_true (mbd_events_add (events, first, &error));
  g_assert_no_error (error);
  g_usleep (2000);
  g_autoptr (GDateTime) between = g_date_time_new_now_utc ();
  g_usleep (2000);
  g_autoptr (MbdEvent) second
             = mbd_event_new (MBD_EVENT_REMOVED, "bookworm-r-unstable", "hello", "1.0~r12+1");
  mbd_event_set_reason (second, 400, "t", "why");
  g_assert_true (mbd_events_add (events, second, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mbd_event_get_id (second), >, mbd_event_get_id (first));
  g_assert_cmpuint (fx->signalled->len, ==, 2);

  g_autoptr (GPtrArray) all = mbd_events_list_after (events, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 2);
  g_autoptr (GPtrArray) later = mbd_events_list_after (events, between, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (later->len, ==, 1);
  g_assert_cmpint (mbd_event_get_event_type (later->pdata[0]), ==, MBD_EVENT_REMOVED);
  g_assert_cmpstr (mbd_event_get_reason (later->pdata[0]), ==, "why");

  /* the JSON shape, and a round trip */
  g_autofree char *json = mbd_event_to_json (second);
  g_assert_true (g_str_has_prefix (json, "{\"type\":\"REMOVED\",\"distribution\":"
                                         "\"bookworm-r-unstable\",\"source\":\"hello\","
                                         "\"version\":\"1.0~r12+1\",\"timestamp\":\""));
  g_assert_nonnull (strstr (json, "+00:00\",\"extra\":{\"error\":{\"type\":\"about:blank\","
                                  "\"status\":400,\"title\":\"t\",\"detail\":\"why\""));
  g_autoptr (MbdEvent) back = mbd_event_new_from_json (json, &error);
  g_assert_no_error (error);
  g_autofree char *again = mbd_event_to_json (back);
  g_assert_cmpstr (again, ==, json);
  g_assert_true (
      g_date_time_equal (mbd_event_get_timestamp (back), mbd_event_get_timestamp (second)));

  /* the file */
  g_autofree char *stamp = g_date_time_format (mbd_event_get_timestamp (first), "%Y%m%d:%H%M%S:%f");
  g_autofree char *file = g_build_filename (fx->home, "events", "hello", "1.0~r12+1", stamp,
                                            "source", "hello_1.0~r12+1_MIGRATED_source.json", NULL);
  g_autofree char *stored = NULL;
  g_assert_true (g_file_get_contents (file, &stored, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *first_json = mbd_event_to_json (first);
  g_assert_cmpstr (stored, ==, first_json);

  /* bad input */
  g_assert_null (mbd_event_new_from_json ("[]", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_null (mbd_event_new_from_json ("{\"type\":\"EXPLODED\",\"timestamp\":\"x\"}", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mbd_event_new_from_json ("{\"type\":\"BUILT\"}", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FIELD);
  g_clear_error (&error);
  MbdEventType type;
  g_assert_true (mbd_event_type_from_string ("installed", &type, NULL));
  g_assert_cmpint (type, ==, MBD_EVENT_INSTALLED);
  g_assert_cmpstr (mbd_event_type_to_string (MBD_EVENT_PACKAGING), ==, "PACKAGING");
}

static void
test_migrate_remove_events (Fixture *fx, gconstpointer data)
{
  g_test_summary ("migrate and remove record MIGRATED and REMOVED events");
  g_autoptr (GError) error = NULL;
  g_autofree char *version = layout_version ("1.0", 1);
  g_autofree char *changes
      = make_upload (fx, version, "bookworm-r-unstable", "any", NULL, NULL, NULL);
  const char *files[] = { changes, NULL };
  g_assert_true (mbd_repository_include (fx->repo, "bookworm-r-unstable", files, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (
      mbd_repository_migrate (fx->repo, "hello", "bookworm-r-unstable", NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (
      mbd_repository_remove (fx->repo, "hello", "bookworm-r-testing", NULL, TRUE, NULL, &error));
  g_assert_no_error (error);
  /* a refused remove records nothing */
  g_assert_false (
      mbd_repository_remove (fx->repo, "hello", "bookworm-r-testing", NULL, TRUE, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autoptr (GPtrArray) events
             = mbd_events_list_after (mbd_instance_get_events (fx->instance), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 2);
  g_assert_cmpint (mbd_event_get_event_type (events->pdata[0]), ==, MBD_EVENT_MIGRATED);
  g_assert_cmpstr (mbd_event_get_distribution (events->pdata[0]), ==, "bookworm-r-unstable");
  g_assert_cmpstr (mbd_event_get_version (events->pdata[0]), ==, version);
  g_assert_cmpint (mbd_event_get_event_type (events->pdata[1]), ==, MBD_EVENT_REMOVED);
  g_assert_cmpstr (mbd_event_get_distribution (events->pdata[1]), ==, "bookworm-r-testing");
  g_assert_cmpstr (mbd_event_get_source (events->pdata[1]), ==, "hello");
  g_assert_cmpuint (fx->signalled->len, ==, 2);
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

static void
test_event_hooks (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Each event runs the executables of etc/event-hooks/ in name order with the "
                  "event's JSON file; names starting with _ or . or ending with ~ do not run");
  g_autoptr (GError) error = NULL;
  g_autofree char *hooks = g_build_filename (fx->home, "etc", "event-hooks", NULL);
  g_autofree char *out = g_build_filename (fx->tmpdir, "hooks.out", NULL);
  g_assert_cmpint (g_mkdir_with_parents (hooks, 0755), ==, 0);
  const char *names[]
      = { "20-second", "10-first", "_off", ".hidden", "backup~", "30-failing", "40-last" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (hooks, names[i], NULL);
      g_autofree char *script
          = g_strdup_printf ("#!/bin/sh\necho \"%s $1\" >> %s\n%s", names[i], out,
                             g_str_has_prefix (names[i], "30") ? "exit 3\n" : "");
      g_assert_true (g_file_set_contents (path, script, -1, &error));
      g_assert_cmpint (g_chmod (path, 0755), ==, 0);
    }
  /* logged when 30-failing has ended, before 40-last starts */
  g_test_expect_message ("Mbd", G_LOG_LEVEL_WARNING,
                         "event hook */30-failing: Child process exited with code 3");
  g_autoptr (MbdEvent) event
             = mbd_event_new (MBD_EVENT_INSTALLED, "bookworm-r-unstable", "hello", "1.0");
  g_assert_true (mbd_events_add (mbd_instance_get_events (fx->instance), event, &error));
  g_assert_no_error (error);

  /* the hooks run on their own: wait until the four wrote their line */
  g_autofree char *text = NULL;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_clear_pointer (&text, g_free);
      if (g_file_get_contents (out, &text, NULL, NULL) && count_lines (text) >= 4)
        break;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  g_test_assert_expected_messages ();
  g_autofree char *stamp = g_date_time_format (mbd_event_get_timestamp (event), "%Y%m%d:%H%M%S:%f");
  g_autofree char *file = g_build_filename (fx->home, "events", "hello", "1.0", stamp, "source",
                                            "hello_1.0_INSTALLED.json", NULL);
  g_autofree char *expected = g_strdup_printf (
      "10-first %s\n20-second %s\n30-failing %s\n40-last %s\n", file, file, file, file);
  g_assert_cmpstr (text, ==, expected);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_autoptr (GError) error = NULL;
  arch = mbd_get_native_architecture (&error);
  g_assert_no_error (error);
  codeversion = mbd_codename_guess_codeversion ("bookworm");
  datadir = mbd_test_make_tmpdir ();
  uploader = g_build_filename (datadir, "uploader", NULL);
  uploader_fp = mbd_test_make_key (uploader, "Uploader <up@example.org>", NULL, "never");
  stranger = g_build_filename (datadir, "stranger", NULL);
  stranger_fp = mbd_test_make_key (stranger, "Stranger <st@example.org>", NULL, "never");
  template_home = g_build_filename (datadir, "template", NULL);
  make_template ();

  g_test_add ("/packager/reject/unsigned", Fixture, NULL, setup, test_unsigned, teardown);
  g_test_add ("/packager/reject/unknown-key", Fixture, NULL, setup, test_unknown_key, teardown);
  g_test_add ("/packager/reject/bad-signature", Fixture, NULL, setup, test_bad_signature, teardown);
  g_test_add ("/packager/reject/checksum", Fixture, NULL, setup, test_checksum_mismatch, teardown);
  g_test_add ("/packager/reject/size", Fixture, NULL, setup, test_size_mismatch, teardown);
  g_test_add ("/packager/reject/missing-file", Fixture, NULL, setup, test_missing_file, teardown);
  g_test_add ("/packager/reject/unsafe-name", Fixture, NULL, setup, test_unsafe_name, teardown);
  g_test_add ("/packager/reject/unknown-distribution", Fixture, NULL, setup,
              test_unknown_distribution, teardown);
  g_test_add ("/packager/reject/not-uploadable", Fixture, NULL, setup, test_not_uploadable,
              teardown);
  g_test_add ("/packager/reject/version-layout", Fixture, NULL, setup, test_version_layout,
              teardown);
  g_test_add ("/packager/reject/version-not-newer", Fixture, NULL, setup, test_version_not_newer,
              teardown);
  g_test_add ("/packager/reject/garbage", Fixture, NULL, setup, test_garbage, teardown);
  g_test_add ("/packager/reject/unknown-option", Fixture, NULL, setup, test_unknown_option,
              teardown);
  g_test_add ("/packager/accepted/build-fails", Fixture, NULL, setup, test_accepted_build_fails,
              teardown);
  g_test_add ("/packager/cancel-retry", Fixture, NULL, setup, test_cancel_and_retry, teardown);
  g_test_add ("/packager/many-at-once", Fixture, NULL, setup, test_many_at_once, teardown);
  g_test_add ("/packager/worker-threads", Fixture, NULL, setup, test_worker_threads, teardown);
  g_test_add ("/packager/reject/same-version-in-progress", Fixture, NULL, setup,
              test_same_version_in_progress, teardown);
  g_test_add ("/packager/submit-refusals", Fixture, NULL, setup, test_submit_refusals, teardown);
  g_test_add ("/packager/recover-unrecorded", Fixture, NULL, setup, test_recover_unrecorded,
              teardown);
  g_test_add ("/events/basics", Fixture, NULL, setup, test_events, teardown);
  g_test_add ("/events/migrate-remove", Fixture, NULL, setup, test_migrate_remove_events, teardown);
  g_test_add ("/events/hooks", Fixture, NULL, setup, test_event_hooks, teardown);

  int status = g_test_run ();
  mbd_test_kill_agent (uploader);
  mbd_test_kill_agent (stranger);
  mbd_test_rm_rf (datadir);
  g_free (datadir);
  g_free (uploader);
  g_free (uploader_fp);
  g_free (stranger);
  g_free (stranger_fp);
  g_free (template_home);
  g_free (codeversion);
  g_free (arch);
  return status;
}
