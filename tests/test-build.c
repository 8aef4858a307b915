/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* MbdBuildRequest and MbdBuilder without a chroot: sbuild's summary from real logs, the result
 * rules, the sbuild command line, persistence and the state machine (with a fake sbuild on
 * PATH that prints a summary, fails, or hangs with children). The real sbuild runs in the e2e
 * tests (tests/e2e/test_build.py). */
#include <glib/gstdio.h>
#include <signal.h>
#include <unistd.h>

#include "mbd-build-private.h"
#include "mbd-instance-private.h"
#include "mbd-subprocess-private.h"
#include "mbdtest.h"

/* sbuild logs */

static GHashTable *
parse_data (const char *name)
{
  g_autofree char *text = mbd_test_read_data (name, NULL);
  return mbd_build_parse_summary (text);
}

static void
test_summary_real_logs (void)
{
  g_autoptr (GHashTable) lintian = parse_data ("sbuild/lintian-error.build");
  g_assert_cmpstr (g_hash_table_lookup (lintian, "Status"), ==, "successful");
  g_assert_cmpstr (g_hash_table_lookup (lintian, "Lintian"), ==, "error");
  g_assert_cmpstr (g_hash_table_lookup (lintian, "Build-Time"), ==, "2");
  g_assert_cmpstr (g_hash_table_lookup (lintian, "Space"), ==, "124");
  g_assert_cmpstr (g_hash_table_lookup (lintian, "Package-Time"), ==, "19");
  g_assert_null (g_hash_table_lookup (lintian, "Fail-Stage"));
  /* fields outside the list (Job, Distribution) are not kept */
  g_assert_null (g_hash_table_lookup (lintian, "Job"));

  g_autoptr (GHashTable) failed = parse_data ("sbuild/build-failed.build");
  g_assert_cmpstr (g_hash_table_lookup (failed, "Status"), ==, "attempted");
  g_assert_cmpstr (g_hash_table_lookup (failed, "Fail-Stage"), ==, "build");
  g_assert_null (g_hash_table_lookup (failed, "Lintian"));
}

static void
test_summary_only_after_banner (void)
{
  const char *log = "Status: install ok installed\n"
                    "+-----+\n| Build |\n+-----+\nStatus: bogus\n"
                    "+-----+\n| Summary                     |\n+-----+\n\n"
                    "Status: successful\nAutopkgtest: no tests\nPiuparts: pass\n";
  g_autoptr (GHashTable) summary = mbd_build_parse_summary (log);
  g_assert_cmpstr (g_hash_table_lookup (summary, "Status"), ==, "successful");
  g_assert_cmpstr (g_hash_table_lookup (summary, "Autopkgtest"), ==, "no tests");
  g_assert_cmpstr (g_hash_table_lookup (summary, "Piuparts"), ==, "pass");

  g_autoptr (GHashTable) none = mbd_build_parse_summary ("Status: successful\nkilled\n");
  g_assert_cmpint (g_hash_table_size (none), ==, 0);
}

typedef struct
{
  const char *status, *lintian;
  int exit_status;
  MbdCheckMode mode;
  gboolean built;
  const char *failure_part;
} EvalCase;

static void
test_evaluate (void)
{
  const EvalCase cases[] = {
    { "successful", "pass", 0, MBD_CHECK_MODE_ERRFAIL, TRUE, NULL },
    { "successful", "info", 0, MBD_CHECK_MODE_WARNFAIL, TRUE, NULL },
    { "successful", "warn", 0, MBD_CHECK_MODE_ERRFAIL, TRUE, NULL },
    { "successful", "warn", 0, MBD_CHECK_MODE_WARNFAIL, FALSE, "Lintian: warn" },
    { "successful", "error", 0, MBD_CHECK_MODE_ERRFAIL, FALSE, "Lintian: error" },
    { "successful", "error", 0, MBD_CHECK_MODE_IGNORE, TRUE, NULL },
    { "successful", "fail", 0, MBD_CHECK_MODE_DISABLED, TRUE, NULL },
    { "skipped", NULL, 0, MBD_CHECK_MODE_ERRFAIL, TRUE, NULL },
    { "attempted", NULL, 1, MBD_CHECK_MODE_ERRFAIL, FALSE, "Fail-Stage: build" },
    { NULL, NULL, 143, MBD_CHECK_MODE_ERRFAIL, FALSE, "exit status 143" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GHashTable) summary = g_hash_table_new (g_str_hash, g_str_equal);
      if (cases[i].status != NULL)
        g_hash_table_insert (summary, "Status", (char *) cases[i].status);
      if (cases[i].lintian != NULL)
        g_hash_table_insert (summary, "Lintian", (char *) cases[i].lintian);
      if (cases[i].status != NULL && g_str_equal (cases[i].status, "attempted"))
        g_hash_table_insert (summary, "Fail-Stage", "build");
      g_autofree char *failure = NULL;
      gboolean built
          = mbd_build_evaluate (summary, cases[i].exit_status, cases[i].mode,
                                MBD_CHECK_MODE_DISABLED, MBD_CHECK_MODE_DISABLED, &failure);
      g_test_message ("case %u: %s", i, failure != NULL ? failure : "built");
      g_assert_cmpint (built, ==, cases[i].built);
      if (cases[i].failure_part != NULL)
        g_assert_nonnull (strstr (failure, cases[i].failure_part));
      else
        g_assert_null (failure);
    }
}

static void
test_tail_and_modes (void)
{
  g_autofree char *tail = mbd_build_text_tail ("a\nb\nc\nd\n\n", 2);
  g_assert_cmpstr (tail, ==, "c\nd");
  g_autofree char *all = mbd_build_text_tail ("one\ntwo", 5);
  g_assert_cmpstr (all, ==, "one\ntwo");

  MbdCheckMode mode = MBD_CHECK_MODE_DISABLED;
  g_autoptr (GError) error = NULL;
  g_assert_true (mbd_check_mode_from_string ("warnfail", &mode, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mode, ==, MBD_CHECK_MODE_WARNFAIL);
  g_assert_false (mbd_check_mode_from_string ("strict", &mode, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'strict'"));
  g_assert_cmpstr (mbd_build_state_to_string (MBD_BUILD_STATE_CANCELLED), ==, "cancelled");
  g_assert_true (mbd_build_state_is_final (MBD_BUILD_STATE_FAILED));
  g_assert_false (mbd_build_state_is_final (MBD_BUILD_STATE_BUILDING));
}

/* Fixture: a source package made with dpkg-source, an instance, a fake sbuild */

typedef struct
{
  char *tmpdir;
  char *dsc;
  char *bindir;
  char *old_path;
  MbdInstance *instance;
  GPtrArray *states;
} Fixture;

static void
run_checked (const char *const *argv, const char *cwd)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher
             = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_cwd (launcher, cwd);
  g_autoptr (GSubprocess) proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check (proc, NULL, &error);
  g_assert_no_error (error);
}

static void
write_file (const char *path, const char *content, int mode)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, content, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

/* The fake sbuild: MBD_FAKE_SBUILD says what it does. It takes --build-dir like sbuild. */
static const char fake_sbuild[]
    = "#!/bin/sh\n"
      "for a; do case \"$a\" in --build-dir=*) dir=${a#--build-dir=};; esac; done\n"
      "echo \"fake sbuild $*\"\n"
      "echo \"DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS\"\n"
      "summary() { printf '+------+\\n| Summary |\\n+------+\\n\\nStatus: %s\\n' \"$1\"; }\n"
      "case \"$MBD_FAKE_SBUILD\" in\n"
      "success)\n"
      "  printf 'Format: 1.8\\nSource: fake\\nVersion: 1.0\\n' > \"$dir/fake_1.0_amd64.changes\"\n"
      "  echo deb > \"$dir/fake_1.0_amd64.deb\"; echo info > \"$dir/fake_1.0_amd64.buildinfo\"\n"
      "  summary successful; echo 'Build-Time: 1'\n"
      "  case \"$*\" in *--run-lintian*) echo 'Lintian: pass';; esac; exit 0;;\n"
      "fail) summary attempted; echo 'Fail-Stage: build'; exit 1;;\n"
      "hang) sleep 300 & sleep 300 & wait; exit 0;;\n"
      "esac\n"
      "exit 3\n";

/* The fake host lintian: MBD_FAKE_LINTIAN says what it finds. */
static const char fake_lintian[] = "#!/bin/sh\n"
                                   "echo \"fake lintian as $(id -un) in $PWD: $*\"\n"
                                   "case \"$MBD_FAKE_LINTIAN\" in\n"
                                   "warn) echo 'W: fake: some-warning'; exit 0;;\n"
                                   "info) echo 'I: fake: some-info'; exit 0;;\n"
                                   "fail) echo 'E: fake: some-error'; exit 1;;\n"
                                   "crash) exit 2;;\n"
                                   "hang) sleep 300 & sleep 300 & wait; exit 0;;\n"
                                   "esac\n"
                                   "exit 0\n";

static void
setup (Fixture *fx, gconstpointer data)
{
  fx->tmpdir = mbd_test_make_tmpdir ();
  g_assert_cmpint (g_chmod (fx->tmpdir, 0755), ==, 0);

  g_autofree char *src = g_build_filename (fx->tmpdir, "fake-1.0", NULL);
  g_autofree char *debian = g_build_filename (src, "debian", "source", NULL);
  g_assert_cmpint (g_mkdir_with_parents (debian, 0755), ==, 0);
  g_autofree char *format = g_build_filename (debian, "format", NULL);
  write_file (format, "3.0 (native)\n", 0644);
  g_autofree char *control = g_build_filename (src, "debian", "control", NULL);
  write_file (control,
              "Source: fake\nMaintainer: T <t@example.org>\n\nPackage: fake\nArchitecture: any\n"
              "Description: fake\n fake\n",
              0644);
  g_autofree char *changelog = g_build_filename (src, "debian", "changelog", NULL);
  write_file (changelog,
              "fake (1.0) bookworm; urgency=medium\n\n  * Test.\n\n -- T <t@example.org>  Mon, "
              "23 Nov 2026 10:00:00 +0000\n",
              0644);
  const char *argv[] = { "dpkg-source", "-b", "fake-1.0", NULL };
  run_checked (argv, fx->tmpdir);
  fx->dsc = g_build_filename (fx->tmpdir, "fake_1.0.dsc", NULL);

  fx->bindir = g_build_filename (fx->tmpdir, "bin", NULL);
  g_assert_cmpint (g_mkdir (fx->bindir, 0755), ==, 0);
  g_autofree char *sbuild = g_build_filename (fx->bindir, "sbuild", NULL);
  write_file (sbuild, fake_sbuild, 0755);
  g_autofree char *lintian = g_build_filename (fx->bindir, "lintian", NULL);
  write_file (lintian, fake_lintian, 0755);
  fx->old_path = g_strdup (g_getenv ("PATH"));
  g_autofree char *path = g_strconcat (fx->bindir, ":", fx->old_path, NULL);
  g_setenv ("PATH", path, TRUE);
  /* as root, sbuild runs as the build user: any unprivileged one does for the fake */
  g_setenv ("MBD_BUILD_USER", "nobody", TRUE);

  g_autofree char *home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->instance = mbd_test_create_instance (home, NULL);
  fx->states = g_ptr_array_new ();
}

static void
add_fake_chroot (Fixture *fx)
{
  g_autofree char *dir = g_build_filename (mbd_instance_get_home (fx->instance), "chroots",
                                           "bookworm", "amd64", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *tarball = g_build_filename (dir, "chroot.tar.zst", NULL);
  write_file (tarball, "not really a tarball", 0644);
  g_autoptr (GError) error = NULL;
  g_assert_true (mbd_db_exec (mbd_instance_get_db (fx->instance),
                              "INSERT INTO chroots (codename, architecture, status, backend) "
                              "VALUES ('bookworm', 'amd64', 2, 'unshare')",
                              &error));
  g_assert_no_error (error);
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_clear_object (&fx->instance);
  g_autofree char *gnupg = g_build_filename (fx->tmpdir, "home", "gnupg", NULL);
  mbd_test_kill_agent (gnupg);
  g_setenv ("PATH", fx->old_path, TRUE);
  g_unsetenv ("MBD_FAKE_SBUILD");
  g_unsetenv ("MBD_FAKE_LINTIAN");
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->dsc);
  g_free (fx->bindir);
  g_free (fx->old_path);
  g_ptr_array_unref (fx->states);
}

static void
on_state (MbdBuildRequest *request, MbdBuildState state, gpointer user_data)
{
  Fixture *fx = user_data;
  g_ptr_array_add (fx->states, (gpointer) mbd_build_state_to_string (state));
}

static MbdBuildRequest *
new_request (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  MbdBuildRequest *request = mbd_build_request_new_from_dsc (fx->dsc, "bookworm", "amd64", &error);
  g_assert_no_error (error);
  g_signal_connect (request, "state-changed", G_CALLBACK (on_state), fx);
  return request;
}

static void
wait_final (MbdBuildRequest *request)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!mbd_build_state_is_final (mbd_build_request_get_state (request))
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (mbd_build_state_is_final (mbd_build_request_get_state (request)));
}

static char *
states_string (Fixture *fx)
{
  g_ptr_array_add (fx->states, NULL);
  char *joined = g_strjoinv (" ", (char **) fx->states->pdata);
  g_ptr_array_remove_index (fx->states, fx->states->len - 1);
  return joined;
}

static int
count_rows (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) keys = mbd_db_query_strv (mbd_instance_get_db (fx->instance),
                                           "SELECT key FROM builds", &error);
  g_assert_no_error (error);
  return (int) g_strv_length (keys);
}

static void
test_chroot_not_active (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdBuildRequest) request = new_request (fx);

  add_fake_chroot (fx);
  g_assert_true (mbd_db_exec (mbd_instance_get_db (fx->instance),
                              "UPDATE chroots SET status = 3, message = 'mirror down'", &error));
  g_assert_true (mbd_builder_submit (mbd_instance_get_builder (fx->instance), request, &error));
  wait_final (request);
  g_assert_cmpint (mbd_build_request_get_state (request), ==, MBD_BUILD_STATE_FAILED);
  g_assert_nonnull (strstr (mbd_build_request_get_failure (request),
                            "the chroot for bookworm/amd64 is failed, not active: mirror down"));
}

static void
test_request_errors (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_autoptr (MbdBuildRequest) bad_codename
             = mbd_build_request_new_from_dsc (fx->dsc, "../etc", "amd64", &error);
  g_assert_null (bad_codename);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "codename '../etc'"));
  g_clear_error (&error);

  g_autofree char *tarball = g_build_filename (fx->tmpdir, "fake_1.0.tar.xz", NULL);
  g_autofree char *moved = g_build_filename (fx->tmpdir, "moved.tar.xz", NULL);
  g_assert_cmpint (g_rename (tarball, moved), ==, 0);
  g_autoptr (MbdBuildRequest) missing
             = mbd_build_request_new_from_dsc (fx->dsc, "bookworm", "amd64", &error);
  g_assert_null (missing);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_MISSING_FILE);
  g_clear_error (&error);
  g_assert_cmpint (g_rename (moved, tarball), ==, 0);

  g_autoptr (MbdBuildRequest) request = new_request (fx);
  const char *names[] = { "eatmydata", "turbo", NULL };
  g_assert_false (mbd_build_request_set_snippets (request, names, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "'turbo'"));
  g_clear_error (&error);

  /* autopkgtest needs schroot; the unshare chroot refuses it */
  mbd_build_request_set_autopkgtest_mode (request, MBD_CHECK_MODE_ERRFAIL);
  g_autofree char *args[]
      = { g_strdup ("--chroot-mode=unshare"), g_strdup ("--chroot=/x.tar"), NULL };
  MbdBuildChroot chroot = { args, NULL };
  g_auto (GStrv) argv = mbd_build_sbuild_argv (request, &chroot, "/w", TRUE, &error);
  g_assert_null (argv);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSUPPORTED);
  g_free (args[1]);
}

static void
test_sbuild_command (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdBuildRequest) request = new_request (fx);

  mbd_build_request_set_distribution (request, "bookworm-test-unstable");
  mbd_build_request_set_arch_all (request, TRUE);
  mbd_build_request_set_lintian_mode (request, MBD_CHECK_MODE_WARNFAIL);
  mbd_build_request_set_deb_build_profiles (request, "nocheck nodoc");
  const char *depends[] = { "libfoo-dev (>= 1)", NULL };
  mbd_build_request_set_add_depends (request, depends);
  char *args[] = { "--chroot-mode=unshare", "--chroot=/c.tar.zst", NULL };
  MbdBuildChroot chroot = { args, NULL };
  g_auto (GStrv) argv = mbd_build_sbuild_argv (request, &chroot, "/w", TRUE, &error);
  g_assert_no_error (error);
  const char *expected[] = { "sbuild",
                             "--chroot-mode=unshare",
                             "--chroot=/c.tar.zst",
                             "--dist=bookworm-test-unstable",
                             "--arch=amd64",
                             "--arch-all",
                             "--build-dep-resolver=apt",
                             "--build-dir=/w",
                             "--add-depends=libfoo-dev (>= 1)",
                             "--profiles=nocheck,nodoc",
                             "--run-lintian",

                             "--no-run-autopkgtest",
                             "--no-run-piuparts",
                             "/w/fake_1.0.dsc" };
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_test_message ("expect %s", expected[i]);
      g_assert_true (g_strv_contains ((const char *const *) argv, expected[i]));
    }
  g_assert_cmpstr (argv[0], ==, "sbuild");
  /* warnfail is applied to sbuild's "Lintian: warn", not by making lintian fail */
  for (guint i = 0; argv[i] != NULL; i++)
    g_assert_null (strstr (argv[i], "--fail-on"));
  g_assert_cmpstr (argv[g_strv_length (argv) - 1], ==, "/w/fake_1.0.dsc");

  /* lintian left to the host: sbuild must not install it into the session */
  g_auto (GStrv) no_lintian = mbd_build_sbuild_argv (request, &chroot, "/w", FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (g_strv_contains ((const char *const *) no_lintian, "--no-run-lintian"));
  g_assert_false (g_strv_contains ((const char *const *) no_lintian, "--run-lintian"));
  for (guint i = 0; no_lintian[i] != NULL; i++)
    g_assert_false (g_str_has_prefix (no_lintian[i], "--lintian-opts"));

  /* APT setup: extra source pinned, internal suites signed by the instance key */
  g_autofree char *key = g_build_filename (fx->tmpdir, "key.asc", NULL);
  write_file (key, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n", 0644);
  mbd_build_request_add_extra_source (
      request, "deb http://mirror.invalid/debian bookworm-backports main", 100, NULL);
  mbd_build_request_add_internal_source (
      request, "deb http://127.0.0.1:8066/repositories/test bookworm-test-unstable main");
  /* as mbd_instance_sources_list() gives them, with an option list (empty, or not) */
  mbd_build_request_add_internal_source (
      request, "deb [] http://127.0.0.1:8066/repositories/test bookworm-test-testing main");
  mbd_build_request_add_internal_source (
      request,
      "deb [arch=amd64] http://127.0.0.1:8066/repositories/test bookworm-test-stable main");
  mbd_build_request_set_internal_key_file (request, key);
  g_autofree char *script = mbd_build_apt_setup_script (request, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (script, "base64 -d > '/etc/apt/keyrings/mbd-0.asc'"));
  g_autofree char *rc = mbd_build_sbuildrc (request, "/w", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (rc, "$unshare_tmpdir_template = '/w/session.XXXXXXXXXX';"));
  g_assert_nonnull (strstr (rc, "'chroot-setup-commands'"));
  /* the script is valid shell */
  g_autofree char *script_path = g_build_filename (fx->tmpdir, "setup.sh", NULL);
  write_file (script_path, script, 0644);
  const char *check[] = { "sh", "-n", script_path, NULL };
  run_checked (check, fx->tmpdir);
  /* and the sources it writes carry the key */
  g_autofree char *decoded_check = g_strdup_printf (
      "sed -e 's#/etc/apt#%s/apt#g' -e 's#^mkdir -p#mkdir -p#' %s > %s.local && sh %s.local",
      fx->tmpdir, script_path, script_path, script_path);
  const char *run[] = { "sh", "-c", decoded_check, NULL };
  run_checked (run, fx->tmpdir);
  g_autofree char *list_path = g_build_filename (fx->tmpdir, "apt/sources.list.d/mbd.list", NULL);
  g_autofree char *list = NULL;
  g_file_get_contents (list_path, &list, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (list, "deb [signed-by=/etc/apt/keyrings/mbd-0.asc] "
                                  "http://127.0.0.1:8066/repositories/test bookworm-test-unstable "
                                  "main\n"));
  g_assert_nonnull (strstr (list, "deb [signed-by=/etc/apt/keyrings/mbd-0.asc] "
                                  "http://127.0.0.1:8066/repositories/test bookworm-test-testing "
                                  "main\n"));
  g_assert_nonnull (strstr (list, "deb [arch=amd64 signed-by=/etc/apt/keyrings/mbd-0.asc] "
                                  "http://127.0.0.1:8066/repositories/test bookworm-test-stable "
                                  "main\n"));
  g_assert_nonnull (strstr (list, "deb http://mirror.invalid/debian bookworm-backports main\n"));
  g_autofree char *prefs_path = g_build_filename (fx->tmpdir, "apt/preferences.d/mbd", NULL);
  g_autofree char *prefs = NULL;
  g_file_get_contents (prefs_path, &prefs, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (prefs, "Pin: release n=bookworm-backports\nPin-Priority: 100\n"));
  g_assert_nonnull (strstr (prefs, "Pin: origin 127.0.0.1\nPin-Priority: 1\n"));
}

static void
test_no_chroot_fails_and_persists (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdBuildRequest) request = new_request (fx);
  MbdBuilder *builder = mbd_instance_get_builder (fx->instance);

  g_assert_true (mbd_builder_submit (builder, request, &error));
  g_assert_no_error (error);
  /* stored before anything runs */
  const char *key = mbd_build_request_get_key (request);
  g_assert_nonnull (key);
  g_assert_true (g_str_has_prefix (key, "fake_1.0_amd64-"));
  g_autoptr (MbdBuildRequest) stored = mbd_builder_lookup (builder, key, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mbd_build_request_get_state (stored), ==, MBD_BUILD_STATE_QUEUED);
  g_assert_cmpint (mbd_build_request_get_state (request), ==, MBD_BUILD_STATE_QUEUED);
  /* its source was copied into the build directory */
  g_autofree char *copy
      = g_build_filename (mbd_build_request_get_build_dir (request), "fake_1.0.tar.xz", NULL);
  g_assert_true (g_file_test (copy, G_FILE_TEST_IS_REGULAR));

  g_assert_false (mbd_builder_submit (builder, request, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXISTS);
  g_clear_error (&error);

  wait_final (request);
  g_autofree char *states = states_string (fx);
  g_assert_cmpstr (states, ==, "building failed");
  g_assert_nonnull (
      strstr (mbd_build_request_get_failure (request), "no chroot for bookworm/amd64"));
  g_assert_nonnull (strstr (mbd_build_request_get_log_tail (request), "no chroot"));

  /* a new instance object reads the same result */
  g_autoptr (MbdInstance) again = mbd_instance_new (mbd_instance_get_home (fx->instance));
  mbd_instance_open (again, MBD_INSTANCE_OPEN_NONE, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) builds = mbd_builder_list (mbd_instance_get_builder (again), &error);
  g_assert_no_error (error);
  g_assert_cmpint (builds->len, ==, 1);
  g_assert_cmpint (mbd_build_request_get_state (builds->pdata[0]), ==, MBD_BUILD_STATE_FAILED);
  g_assert_cmpstr (mbd_build_request_get_failure (builds->pdata[0]), ==,
                   mbd_build_request_get_failure (request));
  g_autofree char *json = mbd_build_request_to_json (builds->pdata[0]);
  g_assert_nonnull (strstr (json, "\"state\":\"failed\""));

  g_assert_false (mbd_builder_cancel (builder, key, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mbd_builder_cancel (builder, "nope_1_amd64", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
}

static void
test_fake_success_signed (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdBuildRequest) request = new_request (fx);
  MbdBuilder *builder = mbd_instance_get_builder (fx->instance);

  add_fake_chroot (fx);
  g_setenv ("MBD_FAKE_SBUILD", "success", TRUE);
  mbd_build_request_set_deb_build_options (request, "nocheck parallel=3");
  g_assert_true (mbd_builder_submit (builder, request, &error));
  g_assert_no_error (error);
  wait_final (request);
  g_autofree char *states = states_string (fx);
  g_assert_cmpstr (states, ==, "building built");
  g_assert_cmpstr (mbd_build_request_get_summary (request, "Status"), ==, "successful");
  g_assert_cmpstr (mbd_build_request_get_summary (request, "Lintian"), ==, "pass");
  g_assert_null (mbd_build_request_get_failure (request));
  g_auto (GStrv) files = mbd_build_request_dup_result_files (request);
  g_assert_cmpint (g_strv_length (files), ==, 3);

  /* the .changes is signed by the instance key */
  const char *changes = mbd_build_request_get_changes_path (request);
  g_assert_nonnull (changes);
  g_autoptr (GFile) file = g_file_new_for_path (changes);
  g_autoptr (GBytes) content = g_file_load_bytes (file, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *fingerprint = NULL;
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (mbd_instance_get_gnupg (fx->instance), content,
                                                     &fingerprint, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plain);
  g_assert_cmpstr (fingerprint, ==, mbd_instance_get_fingerprint (fx->instance));

  /* the log has sbuild's output and the environment it got */
  g_autofree char *log = NULL;
  g_file_get_contents (mbd_build_request_get_log_path (request), &log, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (log, "DEB_BUILD_OPTIONS=nocheck parallel=3\n"));
  g_assert_nonnull (strstr (log, "--dist=bookworm"));
}

static void
test_fake_fail_keeps_tail (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdBuildRequest) request = new_request (fx);

  add_fake_chroot (fx);
  g_setenv ("MBD_FAKE_SBUILD", "fail", TRUE);
  g_assert_true (mbd_builder_submit (mbd_instance_get_builder (fx->instance), request, &error));
  wait_final (request);
  g_assert_cmpint (mbd_build_request_get_state (request), ==, MBD_BUILD_STATE_FAILED);
  g_assert_cmpstr (mbd_build_request_get_summary (request, "Fail-Stage"), ==, "build");
  g_assert_nonnull (strstr (mbd_build_request_get_failure (request), "Status: attempted"));
  g_assert_nonnull (strstr (mbd_build_request_get_log_tail (request), "Fail-Stage: build"));
  g_assert_null (mbd_build_request_get_changes_path (request));
}

/* The process group of a build while it runs, from its work directory. */
static int
wait_for_group (Fixture *fx, MbdBuildRequest *request)
{
  g_autofree char *sql = g_strdup_printf ("SELECT workdir FROM builds WHERE key = '%s'",
                                          mbd_build_request_get_key (request));
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      g_auto (GStrv) workdir = mbd_db_query_strv (mbd_instance_get_db (fx->instance), sql, NULL);
      if (workdir != NULL && workdir[0] != NULL && workdir[0][0] != '\0')
        {
          g_autofree char *path = g_build_filename (workdir[0], "sbuild.pgid", NULL);
          g_autofree char *text = NULL;
          /* the hanging fake has started its two children once it printed its line; the file
           * may be caught empty while it is written (that read gives no group) */
          int pgid = 0;
          if (g_file_get_contents (path, &text, NULL, NULL))
            pgid = (int) g_ascii_strtoll (text, NULL, 10);
          if (pgid > 1 && mbd_subprocess_count_group (pgid) >= 3)
            return pgid;
        }
      g_usleep (20 * 1000);
    }
  g_assert_not_reached ();
}

static void
test_fake_cancel_kills_group (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdBuildRequest) request = new_request (fx);
  MbdBuilder *builder = mbd_instance_get_builder (fx->instance);

  add_fake_chroot (fx);
  g_setenv ("MBD_FAKE_SBUILD", "hang", TRUE);
  g_assert_true (mbd_builder_submit (builder, request, &error));
  int pgid = wait_for_group (fx, request);
  g_assert_cmpint (mbd_builder_get_n_running (builder), ==, 1);
  g_assert_cmpfloat (mbd_builder_get_load (builder), >, 0.0);

  gint64 start = g_get_monotonic_time ();
  g_assert_true (mbd_builder_cancel (builder, mbd_build_request_get_key (request), &error));
  g_assert_no_error (error);
  wait_final (request);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (mbd_build_request_get_state (request), ==, MBD_BUILD_STATE_CANCELLED);
  g_assert_cmpint (mbd_subprocess_count_group (pgid), ==, 0);
  g_assert_cmpint (mbd_builder_get_n_running (builder), ==, 0);
}

static void
test_fake_stop_requeues_and_start_adopts (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdBuildRequest) request = new_request (fx);
  MbdBuilder *builder = mbd_instance_get_builder (fx->instance);

  add_fake_chroot (fx);
  g_setenv ("MBD_FAKE_SBUILD", "hang", TRUE);
  g_assert_true (mbd_instance_start (fx->instance, &error));
  g_assert_no_error (error);
  g_assert_true (mbd_builder_submit (builder, request, &error));
  int pgid = wait_for_group (fx, request);
  g_autoptr (MbdStatus) status = mbd_instance_get_status (fx->instance, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (mbd_status_get_load (status), ==,
                     1.0 / mbd_builder_get_max_parallel (builder));

  /* stopping the engine cancels the build and puts it back in the queue */
  mbd_instance_stop (fx->instance);
  g_assert_cmpint (mbd_subprocess_count_group (pgid), ==, 0);
  g_assert_cmpint (mbd_build_request_get_state (request), ==, MBD_BUILD_STATE_QUEUED);
  g_autoptr (MbdBuildRequest) stored
             = mbd_builder_lookup (builder, mbd_build_request_get_key (request), &error);
  g_assert_cmpint (mbd_build_request_get_state (stored), ==, MBD_BUILD_STATE_QUEUED);

  /* a row left 'building' by a dead process is adopted as well */
  g_autofree char *sql
      = g_strdup_printf ("UPDATE builds SET state = 1, owner = '999999999:1' WHERE key = '%s'",
                         mbd_build_request_get_key (request));
  g_assert_true (mbd_db_exec (mbd_instance_get_db (fx->instance), sql, &error));

  g_setenv ("MBD_FAKE_SBUILD", "success", TRUE);
  g_autoptr (MbdInstance) again = mbd_instance_new (mbd_instance_get_home (fx->instance));
  g_assert_true (mbd_instance_open (again, MBD_INSTANCE_OPEN_NONE, NULL, &error));
  g_assert_true (mbd_instance_start (again, &error));
  g_assert_no_error (error);
  MbdBuilder *builder2 = mbd_instance_get_builder (again);
  g_autoptr (MbdBuildRequest) adopted
             = mbd_builder_lookup (builder2, mbd_build_request_get_key (request), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_build_request_get_key (adopted), ==, mbd_build_request_get_key (request));
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  MbdBuildState state = MBD_BUILD_STATE_QUEUED;
  while (g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      g_autoptr (MbdBuildRequest) now
                 = mbd_builder_lookup (builder2, mbd_build_request_get_key (request), &error);
      g_assert_no_error (error);
      state = mbd_build_request_get_state (now);
      if (mbd_build_state_is_final (state))
        break;
      g_usleep (20 * 1000);
    }
  g_assert_cmpint (state, ==, MBD_BUILD_STATE_BUILT);
  g_assert_cmpint (count_rows (fx), ==, 1);
  mbd_instance_stop (again);
}

static void
test_host_lintian_rules (void)
{
  g_assert_cmpstr (mbd_build_lintian_status (0, FALSE, FALSE), ==, "pass");
  g_assert_cmpstr (mbd_build_lintian_status (0, TRUE, FALSE), ==, "info");
  g_assert_cmpstr (mbd_build_lintian_status (0, TRUE, TRUE), ==, "warn");
  g_assert_cmpstr (mbd_build_lintian_status (1, TRUE, TRUE), ==, "fail");
  g_assert_cmpstr (mbd_build_lintian_status (2, FALSE, FALSE), ==, "error");
  g_assert_cmpstr (mbd_build_lintian_status (137, FALSE, FALSE), ==, "error");

  g_auto (GStrv) argv
          = mbd_build_host_lintian_argv ("/usr/bin/lintian", "/w/a.changes", "/w/a.dsc");
  const char *expected[]
      = { "/usr/bin/lintian",
          "--suppress-tags=bad-distribution-in-changes-file,distribution-and-changes-mismatch",
          "/w/a.changes", "/w/a.dsc", NULL };
  g_assert_cmpstrv (argv, expected);
}

static void
test_host_lintian_applies (Fixture *fx, gconstpointer data)
{
  g_autoptr (MbdBuildRequest) request = new_request (fx);

  g_assert_true (mbd_build_host_lintian_applies (request, "bookworm"));
  g_assert_false (mbd_build_host_lintian_applies (request, "trixie"));
  g_assert_false (mbd_build_host_lintian_applies (request, NULL));
  mbd_build_request_set_lintian_mode (request, MBD_CHECK_MODE_IGNORE);
  g_assert_true (mbd_build_host_lintian_applies (request, "bookworm"));
  mbd_build_request_set_lintian_mode (request, MBD_CHECK_MODE_DISABLED);
  g_assert_false (mbd_build_host_lintian_applies (request, "bookworm"));
}

/* The fake builds take the host-lintian path only on a bookworm host (the fixture's codename). */
static gboolean
host_is_bookworm (void)
{
  g_autofree char *codename = g_get_os_info (G_OS_INFO_KEY_VERSION_CODENAME);
  if (g_strcmp0 (codename, "bookworm") == 0)
    return TRUE;
  g_test_skip ("lintian runs on the host only when the host is the build's release (bookworm)");
  return FALSE;
}

static char *
read_log (MbdBuildRequest *request)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;
  g_file_get_contents (mbd_build_request_get_log_path (request), &log, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&log);
}

static MbdBuildRequest *
run_fake_lintian (Fixture *fx, const char *finding, MbdCheckMode mode)
{
  g_autoptr (GError) error = NULL;
  MbdBuildRequest *request = new_request (fx);

  g_setenv ("MBD_FAKE_SBUILD", "success", TRUE);
  g_setenv ("MBD_FAKE_LINTIAN", finding, TRUE);
  mbd_build_request_set_lintian_mode (request, mode);
  g_assert_true (mbd_builder_submit (mbd_instance_get_builder (fx->instance), request, &error));
  g_assert_no_error (error);
  wait_final (request);
  return request;
}

static void
test_fake_host_lintian (Fixture *fx, gconstpointer data)
{
  if (!host_is_bookworm ())
    return;
  add_fake_chroot (fx);

  /* a clean run: sbuild was told not to run lintian, the host's ran on the results */
  g_autoptr (MbdBuildRequest) clean = run_fake_lintian (fx, "pass", MBD_CHECK_MODE_ERRFAIL);
  g_assert_cmpint (mbd_build_request_get_state (clean), ==, MBD_BUILD_STATE_BUILT);
  g_assert_cmpstr (mbd_build_request_get_summary (clean, "Lintian"), ==, "pass");
  g_autofree char *log = read_log (clean);
  g_assert_nonnull (strstr (log, "--no-run-lintian"));
  g_assert_null (strstr (log, "--run-lintian"));
  g_assert_nonnull (strstr (log, "| Lintian (run by mbd on the host, after the build)"));
  /* as the build user, in the work directory, on the .changes and the .dsc */
  g_assert_nonnull (
      strstr (log, getuid () == 0 ? "fake lintian as nobody in /" : "fake lintian as "));
  g_assert_nonnull (strstr (log, "/fake_1.0_amd64.changes "));
  g_assert_nonnull (strstr (log, "/fake_1.0.dsc\n"));
  g_assert_nonnull (strstr (log, "mbd: Lintian: pass\n"));
  g_auto (GStrv) files = mbd_build_request_dup_result_files (clean);
  g_assert_cmpint (g_strv_length (files), ==, 3);

  /* each finding meets the mode as sbuild's own run would */
  struct
  {
    const char *finding;
    MbdCheckMode mode;
    const char *status;
    MbdBuildState state;
  } cases[] = {
    { "warn", MBD_CHECK_MODE_ERRFAIL, "warn", MBD_BUILD_STATE_BUILT },
    { "warn", MBD_CHECK_MODE_WARNFAIL, "warn", MBD_BUILD_STATE_FAILED },
    { "info", MBD_CHECK_MODE_WARNFAIL, "info", MBD_BUILD_STATE_BUILT },
    { "fail", MBD_CHECK_MODE_ERRFAIL, "fail", MBD_BUILD_STATE_FAILED },
    { "fail", MBD_CHECK_MODE_IGNORE, "fail", MBD_BUILD_STATE_BUILT },
    { "crash", MBD_CHECK_MODE_ERRFAIL, "error", MBD_BUILD_STATE_FAILED },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("lintian finds %s, mode %s", cases[i].finding,
                      mbd_check_mode_to_string (cases[i].mode));
      g_autoptr (MbdBuildRequest) request = run_fake_lintian (fx, cases[i].finding, cases[i].mode);
      g_assert_cmpint (mbd_build_request_get_state (request), ==, cases[i].state);
      g_assert_cmpstr (mbd_build_request_get_summary (request, "Lintian"), ==, cases[i].status);
      if (cases[i].state == MBD_BUILD_STATE_FAILED)
        {
          g_autofree char *part = g_strdup_printf ("Lintian: %s fails the build", cases[i].status);
          g_assert_nonnull (strstr (mbd_build_request_get_failure (request), part));
          /* the log tail shows what lintian said */
          g_assert_nonnull (strstr (mbd_build_request_get_log_tail (request), "fake lintian"));
        }
    }

  /* switched off, sbuild runs lintian in the session and the host's is not called */
  mbd_builder_set_host_lintian (mbd_instance_get_builder (fx->instance), FALSE);
  g_autoptr (MbdBuildRequest) session = run_fake_lintian (fx, "fail", MBD_CHECK_MODE_ERRFAIL);
  g_assert_cmpint (mbd_build_request_get_state (session), ==, MBD_BUILD_STATE_BUILT);
  g_assert_cmpstr (mbd_build_request_get_summary (session, "Lintian"), ==, "pass");
  g_autofree char *session_log = read_log (session);
  g_assert_nonnull (strstr (session_log, "--run-lintian"));
  g_assert_null (strstr (session_log, "fake lintian"));
}

static void
test_fake_cancel_during_host_lintian (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdBuildRequest) request = new_request (fx);
  MbdBuilder *builder = mbd_instance_get_builder (fx->instance);

  if (!host_is_bookworm ())
    return;
  add_fake_chroot (fx);
  g_setenv ("MBD_FAKE_SBUILD", "success", TRUE);
  g_setenv ("MBD_FAKE_LINTIAN", "hang", TRUE);
  g_assert_true (mbd_builder_submit (builder, request, &error));
  /* sbuild.pgid now names lintian's group */
  int pgid = wait_for_group (fx, request);
  g_assert_true (mbd_builder_cancel (builder, mbd_build_request_get_key (request), &error));
  g_assert_no_error (error);
  wait_final (request);
  g_assert_cmpint (mbd_build_request_get_state (request), ==, MBD_BUILD_STATE_CANCELLED);
  g_assert_nonnull (strstr (mbd_build_request_get_failure (request), "while lintian ran"));
  g_assert_cmpint (mbd_subprocess_count_group (pgid), ==, 0);
  g_assert_cmpint (mbd_builder_get_n_running (builder), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_summary ("Build requests and the builder: sbuild summary, result rules, command line, "
                  "persistence, cancel and requeue (with a fake sbuild)");

  g_test_add_func ("/build/summary/real-logs", test_summary_real_logs);
  g_test_add_func ("/build/summary/only-after-banner", test_summary_only_after_banner);
  g_test_add_func ("/build/evaluate", test_evaluate);
  g_test_add_func ("/build/tail-and-modes", test_tail_and_modes);
  g_test_add ("/build/request-errors", Fixture, NULL, setup, test_request_errors, teardown);
  g_test_add ("/build/sbuild-command", Fixture, NULL, setup, test_sbuild_command, teardown);
  g_test_add ("/build/no-chroot", Fixture, NULL, setup, test_no_chroot_fails_and_persists,
              teardown);
  g_test_add ("/build/chroot-not-active", Fixture, NULL, setup, test_chroot_not_active, teardown);
  g_test_add ("/build/fake/success-signed", Fixture, NULL, setup, test_fake_success_signed,
              teardown);
  g_test_add ("/build/fake/fail", Fixture, NULL, setup, test_fake_fail_keeps_tail, teardown);
  g_test_add ("/build/fake/cancel", Fixture, NULL, setup, test_fake_cancel_kills_group, teardown);
  g_test_add_func ("/build/host-lintian/rules", test_host_lintian_rules);
  g_test_add ("/build/host-lintian/applies", Fixture, NULL, setup, test_host_lintian_applies,
              teardown);
  g_test_add ("/build/fake/host-lintian", Fixture, NULL, setup, test_fake_host_lintian, teardown);
  g_test_add ("/build/fake/host-lintian-cancel", Fixture, NULL, setup,
              test_fake_cancel_during_host_lintian, teardown);
  g_test_add ("/build/fake/stop-and-adopt", Fixture, NULL, setup,
              test_fake_stop_requeues_and_start_adopts, teardown);
  return g_test_run ();
}
