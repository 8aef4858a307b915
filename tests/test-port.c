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

/* Runs @argv (in PATH) in @cwd (NULL: ours) and asserts it exits 0. */
static void
run_ok (const char *cwd, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (cwd, (char **) argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
}

static void
mktree (const char *dir, const char *name, const char *version, const char *dist)
{
  const char *argv[] = { "sh", "-c", mktree_script, "mktree", dir, name, version, dist, NULL };

  run_ok (NULL, argv);
}

static void
make_template (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdInstance) instance = mbd_test_create_instance (template_home, "pt");
  g_autofree char *spec = g_strdup_printf ("bookworm:%s", arch);
  g_autofree char *spec11 = g_strdup_printf ("bullseye:%s", arch);
  g_object_unref (mbd_test_add_repository (instance, "r", MBD_LAYOUT_DEFAULT_NO_ROLLBACKS, spec,
                                           codeversion, spec11, "11", NULL));
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
  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->instance = mbd_test_open_copy (template_home, fx->home);
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
  return mbd_test_run_until_final (fx->instance, key);
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
  run_ok (work, argv);
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

static void
test_version_rules (void)
{
  g_test_summary ("Port and rebuild versions as mini-buildd makes them: the rightmost match of "
                  "the source suite's rule replaced keeping its +N tail, +rebuilt stamps "
                  "appended or replaced, external ports appended");
  const struct
  {
    const char *version, *regex, *to, *expected;
  } cases[] = {
    /* sid -> wheezy */
    { "1.2.3-1~testSID+1", "~testSID\\+[1-9]", "~test70+1", "1.2.3-1~test70+1" },
    { "1.2.3-1~testSID+4", "~testSID\\+[1-9]", "~test70+1", "1.2.3-1~test70+4" },
    { "1.2.3-1~testSID+4fud15", "~testSID\\+[1-9]", "~test70+1", "1.2.3-1~test70+4fud15" },
    { "1.2.3-1~testSID+0", "~testSID\\+0", "~test70+0", "1.2.3-1~test70+0" },
    { "1.2.3-1~testSID+0exp2", "~testSID\\+0", "~test70+0", "1.2.3-1~test70+0exp2" },
    /* wheezy -> squeeze */
    { "1.2.3-1~test70+1", "~test70\\+[1-9]", "~test60+1", "1.2.3-1~test60+1" },
    { "1.2.3-1~test70+4", "~test70\\+[1-9]", "~test60+1", "1.2.3-1~test60+4" },
    { "1.2.3-1~test70+4fud15", "~test70\\+[1-9]", "~test60+1", "1.2.3-1~test60+4fud15" },
    { "1.2.3-1~test70+0", "~test70\\+0", "~test60+0", "1.2.3-1~test60+0" },
    { "1.2.3-1~test70+0exp2", "~test70\\+0", "~test60+0", "1.2.3-1~test60+0exp2" },
    /* the rightmost match only */
    { "1~test12+1-1~test12+2", "~test12\\+[1-9]", "~test11+1", "1~test12+1-1~test11+2" },
    /* no version rule (Debian Developer layout): the default appended */
    { "1.2.3-1", ".*", "~port+1", "1.2.3-1~port+1" },
    /* nothing matches: appended */
    { "1.2.3-1", "~test12\\+[1-9]", "~test11+1", "1.2.3-1~test11+1" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *got
          = mbd_port_version_internal (cases[i].version, cases[i].regex, cases[i].to, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (got, ==, cases[i].expected);
    }

  g_autoptr (GError) error = NULL;
  g_autofree char *bad = mbd_port_version_internal ("1.0", "~test(", "~x+1", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_null (bad);
  g_assert_nonnull (strstr (error->message, "~test("));

  g_autoptr (GDateTime) now = g_date_time_new_utc (2013, 2, 17, 12, 5, 17);
  g_autofree char *rebuilt = mbd_port_version_rebuild ("1.2.3", now);
  g_assert_cmpstr (rebuilt, ==, "1.2.3+rebuilt20130217120517");
  g_autofree char *again = mbd_port_version_rebuild ("1.2.3+rebuilt20130215100453", now);
  g_assert_cmpstr (again, ==, "1.2.3+rebuilt20130217120517");
  g_autofree char *ported_rebuild
      = mbd_port_version_rebuild ("1.0-1~test12+1+rebuilt20130215100453", now);
  g_assert_cmpstr (ported_rebuild, ==, "1.0-1~test12+1+rebuilt20130217120517");
  g_autofree char *external = mbd_port_version_external ("1.2.3-1", "~test12+1");
  g_assert_cmpstr (external, ==, "1.2.3-1~test12+1");
}

static void
test_changelog (void)
{
  g_test_summary ("A port's changelog entry goes on top with the lines, maintainer and an "
                  "English RFC 2822 date; -v is the version below the first entry not by the "
                  "instance, whose author is the original one; a changelog without entries fails");
  const char *original = "p (1.0-2) unstable; urgency=low\n\n  * two\n\n"
                         " -- Ann <ann@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n\n"
                         "p (1.0-1) unstable; urgency=low\n\n  * one\n\n"
                         " -- Bob <bob@example.org>  Sun, 31 Dec 2023 00:00:00 +0000\n";
  const char *lines[] = { "Automated port via mbd (no changes). Original DSC's SHA1: abc",
                          "MINI_BUILDD_OPTION: lintian-mode=ignore", NULL };
  g_autoptr (GDateTime) now = g_date_time_new_utc (2024, 2, 3, 4, 5, 6);
  g_autoptr (GError) error = NULL;
  g_autofree char *since = NULL;
  g_autofree char *author = NULL;

  g_autofree char *once
      = mbd_port_changelog_prepend (original, "p", "1.0-2~t12+1", "bookworm-t-unstable", lines,
                                    "Me <me@t>", "<me@t>", now, &since, &author, &error);
  g_assert_no_error (error);
  g_autofree char *expected
      = g_strconcat ("p (1.0-2~t12+1) bookworm-t-unstable; urgency=medium\n\n"
                     "  * Automated port via mbd (no changes). Original DSC's SHA1: abc\n"
                     "  * MINI_BUILDD_OPTION: lintian-mode=ignore\n\n"
                     " -- Me <me@t>  Sat, 03 Feb 2024 04:05:06 +0000\n\n",
                     original, NULL);
  g_assert_cmpstr (once, ==, expected);
  g_assert_cmpstr (since, ==, "1.0-1");
  g_assert_cmpstr (author, ==, "Ann <ann@example.org>");

  /* a port of the port still finds the original entry */
  g_clear_pointer (&since, g_free);
  g_clear_pointer (&author, g_free);
  g_autofree char *twice
      = mbd_port_changelog_prepend (once, "p", "1.0-2~t11+1", "bullseye-t-unstable", NULL,
                                    "Me <me@t>", "<me@t>", now, &since, &author, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (twice, "p (1.0-2~t11+1) bullseye-t-unstable; urgency=medium\n"
                                          "\n\n -- Me <me@t>"));
  g_assert_cmpstr (since, ==, "1.0-1");
  g_assert_cmpstr (author, ==, "Ann <ann@example.org>");

  /* a single entry: its own version with ~ */
  g_clear_pointer (&since, g_free);
  const char *single = "p (2.0) unstable; urgency=low\n\n  * x\n\n"
                       " -- Ann <ann@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n";
  g_autofree char *one = mbd_port_changelog_prepend (
      single, "p", "2.0~t12+1", "d", lines, "Me <me@t>", "<me@t>", now, &since, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (one);
  g_assert_cmpstr (since, ==, "2.0~");

  g_autofree char *none = mbd_port_changelog_prepend ("garbage\n", "p", "1", "d", NULL, "Me <me@t>",
                                                      "<me@t>", now, NULL, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_assert_null (none);
  g_assert_nonnull (strstr (error->message, "changelog of p"));
}

/* Puts source NAME at VERSION (two changelog entries, by T and by U) into
 * bookworm-r-unstable; returns the work directory's .dsc. */
static char *
install_source (Fixture *fx, const char *name, const char *version)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *work = g_build_filename (fx->tmpdir, "installed", NULL);
  mktree (work, name, "0.9", "bookworm-r-unstable");
  g_autofree char *path = g_build_filename (work, name, "debian", "changelog", NULL);
  g_autofree char *old = NULL;
  g_assert_true (g_file_get_contents (path, &old, NULL, &error));
  g_autofree char *text
      = g_strdup_printf ("%s (%s) bookworm-r-unstable; urgency=medium\n\n  * newer\n\n"
                         " -- U <u@example.org>  Tue, 02 Jan 2024 00:00:00 +0000\n\n%s",
                         name, version, old);
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_autofree char *changes = g_strdup_printf ("%s/%s_%s_source.changes", work, name, version);
  g_autofree char *script = g_strdup_printf (
      "cd '%s' && dpkg-source -b '%s' >/dev/null && cd '%s' && dpkg-genchanges -S > '%s' "
      "2>/dev/null",
      work, name, name, changes);
  const char *argv[] = { "sh", "-c", script, NULL };
  run_ok (NULL, argv);
  g_autoptr (MbdRepository) repo = mbd_instance_lookup_repository (fx->instance, "r", &error);
  g_assert_no_error (error);
  const char *files[] = { changes, NULL };
  gboolean included = mbd_repository_include (repo, "bookworm-r-unstable", files, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (included);
  return g_strdup_printf ("%s/%s_%s.dsc", work, name, version);
}

static MbdChanges *
taken_changes (Fixture *fx, const char *key)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (fx->home, "packages", key, NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".changes"))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        MbdChanges *changes = mbd_changes_new_from_file (path, &error);
        g_assert_no_error (error);
        return changes;
      }
  g_assert_not_reached ();
}

static void
test_port (Fixture *fx, gconstpointer data)
{
  g_test_summary ("port makes a no-change upload per target with the layout's version, the "
                  "changelog entry with the options, -v of the original entries and the original "
                  "author; a port into the same distribution is a rebuild; the uploads pass the "
                  "packager's checks");
  g_autoptr (GError) error = NULL;
  g_autofree char *version = g_strdup_printf ("1.0~r%s+3", codeversion);
  g_autofree char *dsc = install_source (fx, "mbd-ported", version);
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);
  const char *targets[] = { "bullseye-r-unstable", "bookworm-r-unstable", NULL };
  const char *options[] = { "lintian-mode=disabled", "auto-ports=bookworm-r-experimental", NULL };
  g_auto (GStrv) keys = NULL;
  g_auto (GStrv) versions = NULL;

  gboolean ok = mbd_packager_port (packager, "mbd-ported", "bookworm-r-unstable", targets, NULL,
                                   options, &keys, &versions, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (g_strv_length (keys), ==, 2);
  g_assert_cmpuint (g_strv_length (versions), ==, 2);
  g_assert_cmpstr (versions[0], ==, "1.0~r11+3");
  g_autofree char *rebuilt_prefix = g_strdup_printf ("%s+rebuilt", version);
  g_assert_true (g_str_has_prefix (versions[1], rebuilt_prefix));
  g_assert_cmpuint (strlen (versions[1]), ==, strlen (rebuilt_prefix) + 14);

  g_autoptr (MbdChanges) port = taken_changes (fx, keys[0]);
  g_assert_cmpstr (mbd_changes_get_version (port), ==, "1.0~r11+3");
  g_assert_cmpstr (mbd_changes_get_distribution (port), ==, "bullseye-r-unstable");
  g_assert_cmpstr (mbd_changes_get_changed_by (port), ==, "mbd pt archive key <mbd@pt>");
  g_assert_cmpstr (
      mbd_paragraph_get (mbd_changes_get_paragraph (port), "X-Mini-Buildd-Originally-Changed-By"),
      ==, "U <u@example.org>");
  const char *text = mbd_paragraph_get (mbd_changes_get_paragraph (port), "Changes");
  g_autoptr (GFile) file = g_file_new_for_path (dsc);
  g_autoptr (GBytes) content = g_file_load_bytes (file, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *sha1 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA1, content);
  g_autofree char *note
      = g_strdup_printf ("Automated port via mbd (no changes). Original DSC's SHA1: %s", sha1);
  const char *needles[]
      = { note, "* MINI_BUILDD_OPTION: lintian-mode=disabled",
          "* MINI_BUILDD_OPTION: auto-ports=bookworm-r-experimental", "newer", NULL };
  for (guint i = 0; needles[i] != NULL; i++)
    if (strstr (text, needles[i]) == NULL)
      g_error ("'%s' is not in the Changes field:\n%s", needles[i], text);
  g_assert_null (strstr (text, "0.9")); /* -v: the entry of the version below is left out */

  /* both pass the checks (signature, version rule, newer version) up to the missing chroot */
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpint (run_until_final (fx, keys[i]), ==, MBD_PACKAGE_STATE_FAILED);
      g_autofree char *types = event_types (fx, keys[i], NULL);
      g_assert_cmpstr (types, ==, "PACKAGING BUILDING BUILT FAILED");
    }
}

static void
test_port_async (Fixture *fx, gconstpointer data)
{
  g_test_summary ("port_async makes the ports in a worker thread while the calling thread's "
                  "main loop runs on, then submits them there; its errors come through "
                  "port_finish with nothing submitted");
  g_autoptr (GError) error = NULL;
  g_autofree char *version = g_strdup_printf ("1.0~r%s+3", codeversion);
  g_free (install_source (fx, "mbd-ported", version));
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);
  const char *targets[] = { "bullseye-r-unstable", "bookworm-r-unstable", NULL };

  /* a port runs dpkg-source three times and gpg a few times per target: far longer than the
   * 10 ms ticks that must keep coming meanwhile */
  guint ticks = 0;
  guint tick_id = g_timeout_add (10, mbd_test_count_tick, &ticks);
  g_autoptr (GAsyncResult) result = NULL;
  mbd_packager_port_async (packager, "mbd-ported", "bookworm-r-unstable", targets, NULL, NULL, NULL,
                           mbd_test_store_result, &result);
  g_assert_null (result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick_id);
  g_assert_cmpuint (ticks, >=, 5);

  g_auto (GStrv) keys = NULL;
  g_auto (GStrv) versions = NULL;
  gboolean ok = mbd_packager_port_finish (packager, result, &keys, &versions, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (g_strv_length (keys), ==, 2);
  g_assert_cmpstr (versions[0], ==, "1.0~r11+3");
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (MbdChanges) port = taken_changes (fx, keys[i]);
      g_assert_cmpstr (mbd_changes_get_distribution (port), ==, targets[i]);
      g_assert_cmpstr (mbd_changes_get_version (port), ==, versions[i]);
    }

  /* an error of the lookup on the calling thread */
  g_clear_object (&result);
  mbd_packager_port_async (packager, "nope", "bookworm-r-unstable", targets, NULL, NULL, NULL,
                           mbd_test_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_auto (GStrv) no_keys = NULL;
  g_assert_false (mbd_packager_port_finish (packager, result, &no_keys, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_null (no_keys);
  g_clear_error (&error);

  /* only the two ports were submitted */
  g_autofree char *packages = g_build_filename (fx->home, "packages", NULL);
  g_autoptr (GDir) d = g_dir_open (packages, 0, &error);
  g_assert_no_error (error);
  guint n = 0;
  while (g_dir_read_name (d) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 2);
}

static void
test_port_errors (Fixture *fx, gconstpointer data)
{
  g_test_summary ("port refuses an unknown source or version, an unknown distribution, a "
                  "target that is not uploadable, a malformed option and no target, before "
                  "uploading anything");
  g_autofree char *version = g_strdup_printf ("1.0~r%s+1", codeversion);
  g_free (install_source (fx, "mbd-ported", version));
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);
  const char *good[] = { "bullseye-r-unstable", NULL };
  const char *testing[] = { "bullseye-r-unstable", "bullseye-r-testing", NULL };
  const char *unknown[] = { "trixie-r-unstable", NULL };
  const char *bad_option[] = { "lintian.mode=x", NULL };
  const char *none[] = { NULL };
  const struct
  {
    const char *source, *from, *const *to, *version, *const *options;
    int code;
    const char *needle;
  } cases[] = {
    { "nope", "bookworm-r-unstable", good, NULL, NULL, MBD_ERROR_NOT_FOUND, "source nope" },
    { "mbd-ported", "bookworm-r-unstable", good, "0.1", NULL, MBD_ERROR_NOT_FOUND, "0.1" },
    { "mbd-ported", "trixie-r-unstable", good, NULL, NULL, MBD_ERROR_NOT_FOUND, "trixie" },
    { "mbd-ported", "bookworm-r-unstable", unknown, NULL, NULL, MBD_ERROR_NOT_FOUND, "trixie" },
    { "mbd-ported", "bookworm-r-unstable", testing, NULL, NULL, MBD_ERROR_REJECTED,
      "bullseye-r-testing is not uploadable" },
    { "mbd-ported", "bookworm-r-unstable", good, NULL, bad_option, MBD_ERROR_INVALID_ARGUMENT,
      "lintian.mode=x" },
    { "mbd-ported", "bookworm-r-unstable", none, NULL, NULL, MBD_ERROR_INVALID_ARGUMENT,
      "no distribution" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_auto (GStrv) keys = NULL;
      gboolean ok
          = mbd_packager_port (packager, cases[i].source, cases[i].from, cases[i].to,
                               cases[i].version, cases[i].options, &keys, NULL, NULL, &error);
      g_assert_error (error, MBD_ERROR, cases[i].code);
      g_assert_false (ok);
      g_assert_null (keys);
      if (strstr (error->message, cases[i].needle) == NULL)
        g_error ("case %u: '%s' is not in: %s", i, cases[i].needle, error->message);
    }
  /* nothing was submitted */
  g_autofree char *packages = g_build_filename (fx->home, "packages", NULL);
  g_autoptr (GDir) d = g_dir_open (packages, 0, NULL);
  g_assert_true (d == NULL || g_dir_read_name (d) == NULL);
}

/* A built source NAME at VERSION in DIR (3.0 native), optionally clear-signed by @signer_home;
 * returns the file:// URL of its .dsc. */
static char *
external_source (const char *dir, const char *name, const char *version, const char *signer_home)
{
  g_autoptr (GError) error = NULL;
  mktree (dir, name, version, "unstable");
  g_autofree char *script
      = g_strdup_printf ("cd '%s' && dpkg-source -b '%s' >/dev/null", dir, name);
  const char *argv[] = { "sh", "-c", script, NULL };
  run_ok (NULL, argv);
  g_autofree char *dsc = g_strdup_printf ("%s/%s_%s.dsc", dir, name, version);
  if (signer_home != NULL)
    {
      g_autofree char *out = g_strconcat (dsc, ".asc", NULL);
      const char *sign[] = { "--clearsign", "--output", out, dsc, NULL };
      g_free (mbd_test_gpg (signer_home, sign));
      g_assert_cmpint (g_rename (out, dsc), ==, 0);
    }
  return g_filename_to_uri (dsc, NULL, &error);
}

static void
test_port_ext (Fixture *fx, gconstpointer data)
{
  g_test_summary ("port_ext fetches a .dsc signed by an uploader key and its files from a URL "
                  "and uploads it with the target's default version appended and the URL in the "
                  "changelog; the upload passes the packager's checks");
  g_autoptr (GError) error = NULL;
  /* an uploader key of repository r */
  g_autofree char *signer = g_build_filename (fx->tmpdir, "signer", NULL);
  g_autofree char *fingerprint = mbd_test_make_key (signer, "Ext <ext@example.org>", NULL, "never");
  const char *export[] = { "--armor", "--export", fingerprint, NULL };
  g_autofree char *armored = mbd_test_gpg (signer, export);
  g_autofree char *keyrings = g_build_filename (fx->home, "uploaders", "r", NULL);
  g_assert_cmpint (g_mkdir_with_parents (keyrings, 0700), ==, 0);
  g_autofree char *keyring = g_build_filename (keyrings, "ext.asc", NULL);
  g_assert_true (g_file_set_contents (keyring, armored, -1, &error));

  g_autofree char *dir = g_build_filename (fx->tmpdir, "ext dir", NULL);
  g_autofree char *url = external_source (dir, "mbd-ext", "1.2.3", signer);
  const char *targets[] = { "bookworm-r-unstable", NULL };
  g_autofree char *source = NULL;
  g_auto (GStrv) keys = NULL;
  g_auto (GStrv) versions = NULL;
  gboolean ok = mbd_packager_port_ext (mbd_instance_get_packager (fx->instance), url, targets,
                                       FALSE, NULL, &source, &keys, &versions, NULL, &error);
  mbd_test_kill_agent (signer);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpstr (source, ==, "mbd-ext");
  g_autofree char *expected = g_strdup_printf ("1.2.3~r%s+1", codeversion);
  g_assert_cmpstr (versions[0], ==, expected);
  g_assert_null (versions[1]);
  g_autoptr (MbdChanges) changes = taken_changes (fx, keys[0]);
  const char *text = mbd_paragraph_get (mbd_changes_get_paragraph (changes), "Changes");
  g_autofree char *line = g_strconcat ("* External port from: ", url, NULL);
  g_assert_nonnull (strstr (text, line));
  g_assert_nonnull (strstr (text, "* MINI_BUILDD_OPTION: lintian-mode=ignore"));
  g_assert_cmpint (run_until_final (fx, keys[0]), ==, MBD_PACKAGE_STATE_FAILED);
  g_autofree char *types = event_types (fx, keys[0], NULL);
  g_assert_cmpstr (types, ==, "PACKAGING BUILDING BUILT FAILED");
  /* nothing left of the download */
  g_autofree char *uploads = g_build_filename (fx->home, "internal-uploads", NULL);
  g_autoptr (GDir) d = g_dir_open (uploads, 0, NULL);
  g_assert_nonnull (d);
  g_assert_null (g_dir_read_name (d));
}

static void
test_port_ext_errors (Fixture *fx, gconstpointer data)
{
  g_test_summary ("port_ext refuses a bad URL, an unreachable server, a missing file, a file "
                  "whose checksum differs from the .dsc, an unsigned .dsc or one signed by an "
                  "unknown key unless unauthenticated ports are allowed");
  g_autoptr (GError) error = NULL;
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);
  const char *targets[] = { "bookworm-r-unstable", NULL };
  g_autofree char *dir = g_build_filename (fx->tmpdir, "ext", NULL);
  g_autofree char *unsigned_url = external_source (dir, "mbd-ext", "1.0", NULL);
  g_autofree char *stranger = g_build_filename (fx->tmpdir, "stranger", NULL);
  g_free (mbd_test_make_key (stranger, "Stranger <st@example.org>", NULL, "never"));
  g_autofree char *dir2 = g_build_filename (fx->tmpdir, "ext2", NULL);
  g_autofree char *stranger_url = external_source (dir2, "mbd-ext2", "1.0", stranger);
  mbd_test_kill_agent (stranger);
  g_autofree char *dir3 = g_build_filename (fx->tmpdir, "ext3", NULL);
  g_autofree char *tampered_url = external_source (dir3, "mbd-ext3", "1.0", NULL);
  g_autofree char *tarball = g_build_filename (dir3, "mbd-ext3_1.0.tar.xz", NULL);
  g_autofree char *content = NULL;
  gsize length = 0;
  g_assert_true (g_file_get_contents (tarball, &content, &length, &error));
  content[length / 2] ^= 0x55;
  g_assert_true (g_file_set_contents (tarball, content, length, &error));
  g_autofree char *missing_url = g_strconcat (unsigned_url, ".gone.dsc", NULL);

  const struct
  {
    const char *url;
    gboolean allow;
    int code;
    const char *needle;
  } cases[] = {
    { "ftp://example.org/x.dsc", TRUE, MBD_ERROR_INVALID_ARGUMENT, "ftp://example.org/x.dsc" },
    { "http://127.0.0.1:1/x.tar.gz", TRUE, MBD_ERROR_INVALID_ARGUMENT, "does not name a .dsc" },
    { "http://127.0.0.1:1/x.dsc", TRUE, MBD_ERROR_UNREACHABLE, "127.0.0.1:1" },
    { missing_url, TRUE, -1, ".gone.dsc" },
    { tampered_url, TRUE, MBD_ERROR_CHECKSUM_MISMATCH, "mbd-ext3_1.0.tar.xz" },
    { unsigned_url, FALSE, MBD_ERROR_UNSIGNED, "allow unauthenticated" },
    { stranger_url, FALSE, MBD_ERROR_UNKNOWN_SIGNER, "uploader of repository r" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) local_error = NULL;
      g_auto (GStrv) keys = NULL;
      gboolean ok = mbd_packager_port_ext (packager, cases[i].url, targets, cases[i].allow, NULL,
                                           NULL, &keys, NULL, NULL, &local_error);
      if (cases[i].code >= 0)
        g_assert_error (local_error, MBD_ERROR, cases[i].code);
      else
        g_assert_error (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      g_assert_false (ok);
      g_assert_null (keys);
      if (strstr (local_error->message, cases[i].needle) == NULL)
        g_error ("case %u: '%s' is not in: %s", i, cases[i].needle, local_error->message);
    }
  g_autofree char *packages = g_build_filename (fx->home, "packages", NULL);
  g_autoptr (GDir) d = g_dir_open (packages, 0, NULL);
  g_assert_true (d == NULL || g_dir_read_name (d) == NULL);

  /* allowed unauthenticated, the unsigned one goes (the async variant) */
  g_autoptr (GAsyncResult) result = NULL;
  mbd_packager_port_ext_async (packager, unsigned_url, targets, TRUE, NULL, NULL,
                               mbd_test_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_auto (GStrv) keys = NULL;
  g_auto (GStrv) versions = NULL;
  g_autofree char *source = NULL;
  gboolean ok = mbd_packager_port_ext_finish (packager, result, &source, &keys, &versions, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpstr (source, ==, "mbd-ext");
  g_assert_cmpuint (g_strv_length (keys), ==, 1);
  g_autofree char *expected = g_strdup_printf ("1.0~r%s+1", codeversion);
  g_assert_cmpstr (versions[0], ==, expected);
}

static void
test_auto_ports (Fixture *fx, gconstpointer data)
{
  g_test_summary ("auto-ports runs one port per listed distribution and records each outcome "
                  "as [ok, key or reason], a failing one not stopping the others");
  g_autofree char *version = g_strdup_printf ("1.0~r%s+1", codeversion);
  g_free (install_source (fx, "mbd-ported", version));
  MbdPackager *packager = mbd_instance_get_packager (fx->instance);
  g_autoptr (GAsyncResult) result = NULL;
  mbd_port_run_auto_ports_async (packager, "mbd-ported", "bookworm-r-unstable",
                                 "trixie-r-unstable, bullseye-r-unstable,", mbd_test_store_result,
                                 &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_autoptr (JsonObject) results = mbd_port_run_auto_ports_finish (packager, result);
  g_assert_cmpuint (json_object_get_size (results), ==, 2);
  JsonArray *failed = json_object_get_array_member (results, "trixie-r-unstable");
  g_assert_false (json_array_get_boolean_element (failed, 0));
  g_assert_nonnull (strstr (json_array_get_string_element (failed, 1), "trixie-r-unstable"));
  JsonArray *ported = json_object_get_array_member (results, "bullseye-r-unstable");
  g_assert_true (json_array_get_boolean_element (ported, 0));
  const char *key = json_array_get_string_element (ported, 1);
  g_autoptr (MbdChanges) changes = taken_changes (fx, key);
  g_assert_cmpstr (mbd_changes_get_version (changes), ==, "1.0~r11+1");
  g_assert_cmpstr (mbd_changes_get_distribution (changes), ==, "bullseye-r-unstable");
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

  g_test_add_func ("/port/version-rules", test_version_rules);
  g_test_add_func ("/port/changelog", test_changelog);
  g_test_add ("/port/internal-upload/tree", Fixture, NULL, setup, test_internal_upload_tree,
              teardown);
  g_test_add ("/port/internal-upload/dsc", Fixture, NULL, setup, test_internal_upload_dsc,
              teardown);

  g_test_add ("/port/port", Fixture, NULL, setup, test_port, teardown);
  g_test_add ("/port/port-async", Fixture, NULL, setup, test_port_async, teardown);
  g_test_add ("/port/port-errors", Fixture, NULL, setup, test_port_errors, teardown);
  g_test_add ("/port/auto-ports", Fixture, NULL, setup, test_auto_ports, teardown);
  g_test_add ("/port/port-ext", Fixture, NULL, setup, test_port_ext, teardown);
  g_test_add ("/port/port-ext-errors", Fixture, NULL, setup, test_port_ext_errors, teardown);

  int status = g_test_run ();
  mbd_test_rm_rf (datadir);
  g_free (template_home);
  g_free (codeversion);
  g_free (arch);
  return status;
}
