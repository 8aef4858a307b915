/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <string.h>

#include "mbd-port-private.h"

/* mktree DIR NAME VERSION DIST: an unpacked 3.0 (native) source tree DIR/NAME with one
 * changelog entry by "T <t@example.org>". */
static const char mktree_script[]
    = "set -e\n"
      "dir=$1; name=$2; ver=$3; dist=$4\n"
      "mkdir -p \"$dir/$name/debian/source\"\n"
      "cd \"$dir/$name\"\n"
      "echo '3.0 (native)' > debian/source/format\n"
      "printf 'Source: %s\\nSection: misc\\nPriority: optional\\nMaintainer: T "
      "<t@example.org>\\nBuild-Depends: debhelper-compat (= 13)\\nStandards-Version: 4.6.2\\n\\n"
      "Package: %s\\nArchitecture: all\\nDescription: test\\n test package\\n' \"$name\" "
      "\"$name\" > debian/control\n"
      "printf '#!/usr/bin/make -f\\n%%:\\n\\tdh $@\\n' > debian/rules; chmod +x debian/rules\n"
      "printf '%s (%s) %s; urgency=medium\\n\\n  * test\\n\\n -- T <t@example.org>  Mon, 01 "
      "Jan 2024 00:00:00 +0000\\n' \"$name\" \"$ver\" \"$dist\" > debian/changelog\n";

static char *codeversion;
static char *arch;
static char *template_home;

typedef struct
{
  char *tmpdir;
  char *home;
  MbdInstance *instance;
} Fixture;

static void
mktree (const char *dir, const char *name, const char *version, const char *dist)
{
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "sh", "-c", mktree_script, "mktree", dir, name, version, dist, NULL };
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
}

static void
make_template (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdInstance) instance = mbd_instance_new (template_home);

  mbd_instance_set_identity (instance, "pt");
  mbd_instance_set_key_algorithm (instance, "ed25519");
  gboolean opened = mbd_instance_open (instance, MBD_INSTANCE_OPEN_CREATE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (opened);
  g_autoptr (MbdLayout) layout = mbd_layout_new_builtin (MBD_LAYOUT_DEFAULT_NO_ROLLBACKS, &error);
  g_assert_no_error (error);
  g_autoptr (MbdRepository) repo = mbd_repository_new ("r", layout, &error);
  g_assert_no_error (error);
  g_autofree char *spec = g_strdup_printf ("bookworm:%s", arch);
  g_autoptr (MbdDistribution) dist = mbd_distribution_new_from_spec (spec, &error);
  g_assert_no_error (error);
  mbd_distribution_set_codeversion (dist, codeversion);
  g_assert_true (mbd_repository_add_distribution (repo, dist, &error));
  gboolean added = mbd_instance_add_repository (instance, repo, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (added);
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
  const char *cp[] = { "cp", "-a", template_home, fx->home, NULL };
  int status = 0;
  g_assert_true (g_spawn_sync (NULL, (char **) cp, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  fx->instance = mbd_instance_new (fx->home);
  gboolean opened = mbd_instance_open (fx->instance, MBD_INSTANCE_OPEN_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (opened);
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *gnupg = g_build_filename (fx->home, "gnupg", NULL);

  mbd_instance_stop (fx->instance);
  g_clear_object (&fx->instance);
  mbd_test_kill_agent (gnupg);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->home);
}

static MbdPackageState
run_until_final (Fixture *fx, const char *key)
{
  g_autoptr (GError) error = NULL;
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);

  if (!mbd_instance_is_started (fx->instance))
    {
      gboolean started = mbd_instance_start (fx->instance, &error);
      g_assert_no_error (error);
      g_assert_true (started);
    }
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  MbdPackageState state = MBD_PACKAGE_STATE_CHECKING;
  while (g_get_monotonic_time () < deadline)
    {
      gboolean found = mbd_packager_lookup_state (packager, key, &state, &error);
      g_assert_no_error (error);
      g_assert_true (found);
      if (mbd_package_state_is_final (state))
        return state;
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_not_reached ();
}

/* The event types of package @key, oldest first, as "TYPE TYPE ...". */
static char *
event_types (Fixture *fx, const char *key, char **out_first_reason)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all
             = mbd_events_list_after (mbd_instance_get_events (fx->instance), NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GString) out = g_string_new (NULL);
  for (guint i = 0; i < all->len; i++)
    if (g_strcmp0 (mbd_event_get_extra (all->pdata[i], "timecode"), key) == 0)
      {
        MbdEvent *event = all->pdata[i];
        g_string_append_printf (out, "%s%s", out->len > 0 ? " " : "",
                                mbd_event_type_to_string (mbd_event_get_event_type (event)));
        if (out_first_reason != NULL && *out_first_reason == NULL
            && mbd_event_get_reason (event) != NULL)
          *out_first_reason = g_strdup (mbd_event_get_reason (event));
      }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
test_internal_upload_tree (Fixture *fx, gconstpointer data)
{
  g_test_summary ("An internal upload of a source tree is a source-only upload signed by the "
                  "instance key with the extra fields, which the packager accepts (it gets as far "
                  "as the build, which has no chroot here)");
  g_autoptr (GError) error = NULL;
  g_autofree char *work = g_build_filename (fx->tmpdir, "work", NULL);
  g_autofree char *version = g_strdup_printf ("1.0~r%s+1", codeversion);
  mktree (work, "mbd-port-test", version, "bookworm-r-unstable");
  g_autofree char *tree = g_build_filename (work, "mbd-port-test", NULL);
  const char *fields[] = { "X-Mini-Buildd-Originally-Changed-By=T <t@example.org>", NULL };
  g_autofree char *key = NULL;
  g_autofree char *changes_name = NULL;

  gboolean ok
      = mbd_internal_upload (fx->instance, tree, "0.9", fields, &key, &changes_name, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_autofree char *expected_name = g_strdup_printf ("mbd-port-test_%s_source.changes", version);
  g_assert_cmpstr (changes_name, ==, expected_name);

  /* the package directory has the signed .changes with its files, and nothing else */
  g_autofree char *dir = g_build_filename (fx->home, "packages", key, NULL);
  g_autofree char *path = g_build_filename (dir, changes_name, NULL);
  g_autoptr (MbdChanges) changes = mbd_changes_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_true (mbd_changes_is_signed (changes));
  g_assert_cmpstr (mbd_changes_get_distribution (changes), ==, "bookworm-r-unstable");
  g_assert_cmpstr (mbd_paragraph_get (mbd_changes_get_paragraph (changes),
                                      "X-Mini-Buildd-Originally-Changed-By"),
                   ==, "T <t@example.org>");
  gboolean verified = mbd_changes_verify_files (changes, dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (verified);
  g_autofree char *dsc_path
      = g_build_filename (dir, mbd_file_entry_get_name (mbd_changes_get_dsc_file (changes)), NULL);
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_file (dsc_path, &error);
  g_assert_no_error (error);
  g_assert_true (mbd_dsc_is_signed (dsc));
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  guint n = 0;
  while (g_dir_read_name (d) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 3); /* .changes, .dsc, .tar.xz */
  /* the built files left the work directory; the tree stays */
  g_autofree char *left_dsc = g_build_filename (work, mbd_dsc_get_name (dsc), NULL);
  g_assert_false (g_file_test (left_dsc, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (tree, G_FILE_TEST_IS_DIR));

  /* signed by an uploader (the instance key): checked and sent to the builder */
  g_assert_cmpint (run_until_final (fx, key), ==, MBD_PACKAGE_STATE_FAILED);
  g_autofree char *reason = NULL;
  g_autofree char *types = event_types (fx, key, &reason);
  g_assert_cmpstr (types, ==, "PACKAGING BUILDING BUILT FAILED");
  g_assert_nonnull (strstr (reason, "no chroot"));
}

static void
test_internal_upload_dsc (Fixture *fx, gconstpointer data)
{
  g_test_summary ("An internal upload of a built .dsc re-signs it as an instance upload; a "
                  "broken tree fails naming dpkg-source and leaves nothing behind");
  g_autoptr (GError) error = NULL;
  g_autofree char *work = g_build_filename (fx->tmpdir, "work", NULL);
  g_autofree char *version = g_strdup_printf ("2.0~r%s+1", codeversion);
  mktree (work, "mbd-port-dsc", version, "bookworm-r-unstable");
  const char *argv[] = { "dpkg-source", "-b", "mbd-port-dsc", NULL };
  int status = 0;
  g_assert_true (g_spawn_sync (work, (char **) argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  g_autofree char *dsc_name = g_strdup_printf ("mbd-port-dsc_%s.dsc", version);
  g_autofree char *dsc = g_build_filename (work, dsc_name, NULL);

  g_autofree char *key = NULL;
  gboolean ok = mbd_internal_upload_dsc (fx->instance, dsc, NULL, NULL, &key, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_autofree char *taken = g_build_filename (fx->home, "packages", key, dsc_name, NULL);
  g_autoptr (MbdDsc) parsed = mbd_dsc_new_from_file (taken, &error);
  g_assert_no_error (error);
  g_assert_true (mbd_dsc_is_signed (parsed));
  g_assert_cmpstr (mbd_dsc_get_version (parsed), ==, version);
  /* the original stays where it was */
  g_assert_true (g_file_test (dsc, G_FILE_TEST_IS_REGULAR));

  /* a tree without debian/control */
  g_autofree char *control = g_build_filename (work, "mbd-port-dsc", "debian", "control", NULL);
  g_assert_cmpint (g_unlink (control), ==, 0);
  g_autofree char *tree = g_build_filename (work, "mbd-port-dsc", NULL);
  ok = mbd_internal_upload (fx->instance, tree, NULL, NULL, NULL, NULL, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_FAILED);
  g_assert_false (ok);
  g_assert_nonnull (strstr (error->message, "dpkg-source"));
  g_autofree char *uploads = g_build_filename (fx->home, "internal-uploads", NULL);
  g_autoptr (GDir) d = g_dir_open (uploads, 0, NULL);
  g_assert_nonnull (d);
  g_assert_null (g_dir_read_name (d));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_autoptr (GError) error = NULL;
  arch = mbd_get_native_architecture (&error);
  g_assert_no_error (error);
  codeversion = mbd_codename_guess_codeversion ("bookworm");
  g_autofree char *datadir = mbd_test_make_tmpdir ();
  template_home = g_build_filename (datadir, "template", NULL);
  make_template ();

  g_test_add ("/port/internal-upload/tree", Fixture, NULL, setup, test_internal_upload_tree,
              teardown);
  g_test_add ("/port/internal-upload/dsc", Fixture, NULL, setup, test_internal_upload_dsc,
              teardown);

  int status = g_test_run ();
  mbd_test_rm_rf (datadir);
  g_free (template_home);
  g_free (codeversion);
  g_free (arch);
  return status;
}
