/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mbd-chroot-private.h"
#include "mbd-instance-private.h"

typedef struct
{
  char *tmpdir; /* (owned) */
  char *home;   /* (owned) */
  MbdInstance *instance;
  char *fake_tarball; /* (owned): a tiny .tar.zst that looks like a chroot */
  char *schroot_d;    /* (owned): stands in for /etc/schroot/chroot.d */
  char *path;         /* (owned): $PATH before the test, which may put stand-ins first */
} Fixture;

static void
run_ok (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
}

static void
setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->path = g_strdup (g_getenv ("PATH"));
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  /* As root, the build user must reach the chroots: like a daemon home in /var/lib. */
  g_chmod (fx->tmpdir, 0711);
  fx->instance = mbd_test_create_instance (fx->home, "ct");

  g_autofree char *tree = g_build_filename (fx->tmpdir, "tree", NULL);
  g_autofree char *bin = g_build_filename (tree, "usr", "bin", NULL);
  g_assert_cmpint (g_mkdir_with_parents (bin, 0755), ==, 0);
  g_autofree char *etc_apt = g_build_filename (tree, "etc", "apt", NULL);
  g_assert_cmpint (g_mkdir_with_parents (etc_apt, 0755), ==, 0);
  g_autofree char *apt = g_build_filename (bin, "apt-get", NULL);
  g_assert_true (g_file_set_contents (apt, "#!/bin/sh\nexit 1\n", -1, &error));
  g_assert_no_error (error);
  g_chmod (apt, 0755);
  fx->fake_tarball = g_build_filename (fx->tmpdir, "fake.tar.zst", NULL);
  const char *tar[] = { "tar", "--zstd", "-cf", fx->fake_tarball, "-C", tree, ".", NULL };
  run_ok (tar);

  fx->schroot_d = g_build_filename (fx->tmpdir, "chroot.d", NULL);
  g_mkdir (fx->schroot_d, 0755);
  g_setenv ("MBD_SCHROOT_CHROOT_D", fx->schroot_d, TRUE);
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *gnupg = g_build_filename (fx->home, "gnupg", NULL);

  g_clear_object (&fx->instance);
  g_setenv ("PATH", fx->path, TRUE);
  g_free (fx->path);
  mbd_test_kill_agent (gnupg);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->home);
  g_free (fx->fake_tarball);
  g_free (fx->schroot_d);
}

static char *
write_file (const char *dir, const char *name, const char *text)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
  return path;
}

static void
test_host_mirror (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Without a source, the mirror comes from the machine's apt sources: the entry "
                  "serving the codename, else the first that is no security archive");
  g_autofree char *etc_apt = g_build_filename (fx->tmpdir, "etc-apt", NULL);
  g_autofree char *parts = g_build_filename (etc_apt, "sources.list.d", NULL);
  g_assert_cmpint (g_mkdir_with_parents (parts, 0755), ==, 0);
  g_autofree char *a = write_file (parts, "a.sources",
                                   "Types: deb\nURIs: http://sec.example/debian-security\n"
                                   "Suites: bookworm-security\nComponents: main\n\n"
                                   "Types: deb\nURIs: http://mirror.example/debian\n"
                                   "Suites: bookworm bookworm-updates\nComponents: main\n\n"
                                   "Types: deb\nURIs: http://trixie.example/debian\n"
                                   "Suites: trixie\nComponents: main\n");
  g_assert_nonnull (a);
  g_autofree char *m = mbd_chroot_host_mirror (etc_apt, "bookworm", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (m, ==, "http://mirror.example/debian");
  g_autofree char *t = mbd_chroot_host_mirror (etc_apt, "trixie", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (t, ==, "http://trixie.example/debian");
  g_autofree char *other = mbd_chroot_host_mirror (etc_apt, "sid", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (other, ==, "http://mirror.example/debian");

  g_autofree char *empty = g_build_filename (fx->tmpdir, "empty", NULL);
  g_autofree char *none = mbd_chroot_host_mirror (empty, "bookworm", &error);
  g_assert_null (none);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, empty));
}

static void
test_mirror_from_source (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A chroot without a mirror of its own takes its codename's MbdSource mirror");
  g_autoptr (MbdSource) source = mbd_source_new ("Debian", "bookworm");
  const char *uris[] = { "http://source.example/debian", NULL };
  mbd_source_set_mirror_uris (source, uris);
  mbd_source_set_keyring_file (source, "/usr/share/keyrings/debian-archive-keyring.gpg");
  g_assert_true (mbd_instance_add_source (fx->instance, source, &error));
  g_assert_no_error (error);

  g_autoptr (MbdChroot) c
             = mbd_chroot_new (fx->instance, "bookworm", "amd64", MBD_CHROOT_BACKEND_UNSHARE);
  g_assert_true (mbd_chroot_create (c, fx->fake_tarball, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (MbdChroot) loaded
             = mbd_instance_lookup_chroot (fx->instance, "bookworm", "amd64", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_chroot_get_mirror (loaded), ==, "http://source.example/debian");
}

static void
test_arguments (Fixture *fx, gconstpointer data)
{
  g_test_summary ("mmdebstrap, sbuild and schroot see the chroot's codename, architecture, "
                  "mirror and path; the build user is mbdbuild only as root with unshare");
  g_autoptr (MbdChroot) c
             = mbd_chroot_new (fx->instance, "bookworm", "i386", MBD_CHROOT_BACKEND_UNSHARE);
  mbd_chroot_set_mirror (c, "http://mirror.example/debian");

  g_auto (GStrv) argv = mbd_chroot_mmdebstrap_argv (c, "/t/x.tar.zst", "/k.gpg");
  g_autofree char *joined = g_strjoinv (" ", argv);
  g_assert_true (g_str_has_prefix (joined, "mmdebstrap --variant=buildd "));
  g_assert_true (g_strv_contains ((const char *const *) argv, "--architectures=i386"));
  g_assert_true (g_strv_contains ((const char *const *) argv, "--format=tar"));
  g_assert_true (g_strv_contains ((const char *const *) argv, "--keyring=/k.gpg"));
  g_assert_true (g_str_has_suffix (
      joined, "bookworm /t/x.tar.zst deb http://mirror.example/debian bookworm main"));
  g_assert_cmpint (g_strv_contains ((const char *const *) argv, "--mode=unshare"), ==,
                   geteuid () != 0);

  g_auto (GStrv) sbuild = mbd_chroot_sbuild_args (c);
  g_autofree char *expected
      = g_strdup_printf ("--chroot=%s/chroots/bookworm/i386/chroot.tar.zst", fx->home);
  g_assert_cmpuint (g_strv_length (sbuild), ==, 2);
  g_assert_cmpstr (sbuild[0], ==, "--chroot-mode=unshare");
  g_assert_cmpstr (sbuild[1], ==, expected);
  g_assert_cmpstr (mbd_chroot_get_build_user (c), ==,
                   geteuid () == 0 ? MBD_CHROOT_BUILD_USER : NULL);

  g_autoptr (MbdChroot) s
             = mbd_chroot_new (fx->instance, "bookworm", "i386", MBD_CHROOT_BACKEND_SCHROOT);
  g_auto (GStrv) sargs = mbd_chroot_sbuild_args (s);
  g_assert_cmpstr (sargs[0], ==, "--chroot-mode=schroot");
  g_assert_cmpstr (sargs[1], ==, "--chroot=mbd-ct-bookworm-i386");
  g_assert_null (mbd_chroot_get_build_user (s));
  g_auto (GStrv) sdeb = mbd_chroot_mmdebstrap_argv (s, "/t/dir", "/k.gpg");
  g_assert_true (g_strv_contains ((const char *const *) sdeb, "--format=directory"));

  g_autofree char *conf = mbd_chroot_schroot_config (s);
  g_autofree char *dir_line
      = g_strdup_printf ("\ndirectory=%s/chroots/bookworm/i386/chroot\n", fx->home);
  g_assert_nonnull (strstr (conf, "\n[mbd-ct-bookworm-i386]\n"));
  g_assert_nonnull (strstr (conf, "\ntype=directory\n"));
  g_assert_nonnull (strstr (conf, dir_line));
  g_assert_nonnull (strstr (conf, "\nunion-type=overlay\n"));
  g_assert_nonnull (strstr (conf, "\nprofile=sbuild\n"));
  g_assert_nonnull (strstr (conf, "\npersonality=linux32\n"));
}

static void
test_progress_and_timeouts (void)
{
  g_test_summary ("mmdebstrap's phases map to growing fractions; apt-get update attempt "
                  "timeouts double and add up to the budget");
  const char *phases[] = { "I: automatically chosen mode: root",
                           "I: running apt-get update...",
                           "I: downloading packages with apt...",
                           "I: extracting archives...",
                           "I: installing essential packages...",
                           "I: installing remaining packages inside the chroot...",
                           "I: cleaning package lists and apt cache...",
                           "I: creating tarball...",
                           "I: done" };
  double last = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (phases); i++)
    {
      double f = mbd_chroot_progress_for_line (phases[i]);
      g_assert_cmpfloat (f, >, last);
      g_assert_cmpfloat (f, <, 1.0);
      last = f;
    }
  g_assert_cmpfloat (mbd_chroot_progress_for_line ("Get:1 http://x bookworm InRelease"), ==, -1);

  g_assert_cmpint (mbd_chroot_attempt_timeout (70, 3, 0), ==, 10);
  g_assert_cmpint (mbd_chroot_attempt_timeout (70, 3, 1), ==, 20);
  g_assert_cmpint (mbd_chroot_attempt_timeout (70, 3, 2), ==, 40);
  g_assert_cmpint (mbd_chroot_attempt_timeout (2, 3, 0), ==, 1);
}

typedef struct
{
  GMainLoop *loop;
  GThread *thread;
  GArray *fractions;
  gboolean wrong_thread;
  gboolean ok;
  GError *error;
} AsyncData;

static void
on_progress (MbdChroot *chroot, double fraction, const char *message, gpointer user_data)
{
  AsyncData *ad = user_data;

  if (g_thread_self () != ad->thread)
    ad->wrong_thread = TRUE;
  g_array_append_val (ad->fractions, fraction);
}

static void
created (GObject *object, GAsyncResult *result, gpointer user_data)
{
  AsyncData *ad = user_data;

  ad->ok = mbd_chroot_create_finish (MBD_CHROOT (object), result, &ad->error);
  g_main_loop_quit (ad->loop);
}

static void
test_create_persist_remove (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GArray) fractions = g_array_new (FALSE, FALSE, sizeof (double));
  AsyncData ad = { loop, g_thread_self (), fractions, FALSE, FALSE, NULL };

  g_test_summary ("A chroot created (async, from a tarball) is active with its progress on the "
                  "caller's thread, survives reopening the instance, shows in status and in the "
                  "list, refuses a second creation, and removing it leaves nothing");
  g_autoptr (MbdChroot) c
             = mbd_chroot_new (fx->instance, "bookworm", "amd64", MBD_CHROOT_BACKEND_UNSHARE);
  mbd_chroot_set_mirror (c, "http://mirror.example/debian");
  g_signal_connect (c, "progress", G_CALLBACK (on_progress), &ad);
  mbd_chroot_create_async (c, fx->fake_tarball, NULL, created, &ad);
  g_main_loop_run (loop);
  g_assert_no_error (ad.error);
  g_assert_true (ad.ok);
  g_assert_false (ad.wrong_thread);
  g_assert_cmpuint (fractions->len, >=, 2);
  g_assert_cmpfloat (g_array_index (fractions, double, fractions->len - 1), ==, 1.0);
  for (guint i = 1; i < fractions->len; i++)
    g_assert_cmpfloat (g_array_index (fractions, double, i), >=,
                       g_array_index (fractions, double, i - 1));
  g_assert_cmpint (mbd_chroot_get_state (c), ==, MBD_CHROOT_STATE_ACTIVE);
  GStatBuf st;
  g_assert_cmpint (g_stat (mbd_chroot_get_path (c), &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);

  /* A fresh instance object reads the same from the database. */
  g_autoptr (MbdInstance) again = mbd_instance_new (fx->home);
  g_assert_true (mbd_instance_open (again, MBD_INSTANCE_OPEN_NONE, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (MbdChroot) loaded = mbd_instance_lookup_chroot (again, "bookworm", "amd64", &error);
  g_assert_no_error (error);
  g_assert_cmpint (mbd_chroot_get_state (loaded), ==, MBD_CHROOT_STATE_ACTIVE);
  g_assert_cmpint (mbd_chroot_get_backend (loaded), ==, MBD_CHROOT_BACKEND_UNSHARE);
  g_assert_cmpstr (mbd_chroot_get_mirror (loaded), ==, "http://mirror.example/debian");
  g_assert_null (mbd_chroot_get_message (loaded));
  g_autoptr (GPtrArray) all = mbd_instance_list_chroots (again, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 1);
  g_autoptr (MbdStatus) status = mbd_instance_get_status (again, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_status_get_chroots (status)[0], ==, "bookworm:amd64");
  g_autoptr (MbdChroot) got = mbd_instance_get_chroot (again, "bookworm", "amd64", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_chroot_get_path (got), ==, mbd_chroot_get_path (c));

  g_autoptr (MbdChroot) twice
             = mbd_chroot_new (fx->instance, "bookworm", "amd64", MBD_CHROOT_BACKEND_UNSHARE);
  g_assert_false (mbd_chroot_create (twice, fx->fake_tarball, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXISTS);
  g_clear_error (&error);

  g_assert_true (mbd_chroot_remove (loaded, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *chroots = g_build_filename (fx->home, "chroots", NULL);
  g_autoptr (GDir) dir = g_dir_open (chroots, 0, &error);
  g_assert_no_error (error);
  g_assert_null (g_dir_read_name (dir));
  g_autoptr (MbdChroot) gone = mbd_instance_lookup_chroot (again, "bookworm", "amd64", &error);
  g_assert_null (gone);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (mbd_chroot_remove (loaded, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
}

static void
test_bad_input (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A bad codename is refused; a tarball that is no chroot fails the creation, "
                  "records failed with the reason and leaves no partial file; an unknown "
                  "backend name is refused");
  g_autoptr (MbdChroot) bad
             = mbd_chroot_new (fx->instance, "../etc", "amd64", MBD_CHROOT_BACKEND_UNSHARE);
  g_assert_false (mbd_chroot_create (bad, fx->fake_tarball, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "../etc"));
  g_clear_error (&error);

  g_autofree char *junk = write_file (fx->tmpdir, "junk.tar.zst", "not a tarball");
  g_autoptr (MbdChroot) c
             = mbd_chroot_new (fx->instance, "bookworm", "amd64", MBD_CHROOT_BACKEND_UNSHARE);
  mbd_chroot_set_mirror (c, "http://mirror.example/debian");
  g_assert_false (mbd_chroot_create (c, junk, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "not a zstd-compressed chroot tarball"));
  g_clear_error (&error);
  g_assert_cmpint (mbd_chroot_get_state (c), ==, MBD_CHROOT_STATE_FAILED);
  g_autoptr (MbdChroot) loaded
             = mbd_instance_lookup_chroot (fx->instance, "bookworm", "amd64", &error);
  g_assert_no_error (error);
  g_assert_cmpint (mbd_chroot_get_state (loaded), ==, MBD_CHROOT_STATE_FAILED);
  g_assert_nonnull (strstr (mbd_chroot_get_message (loaded), "not a zstd-compressed"));
  g_autofree char *dir = g_build_filename (fx->home, "chroots", "bookworm", "amd64", NULL);
  g_autofree char *partial = g_build_filename (dir, "chroot.new.tar.zst", NULL);
  g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (mbd_chroot_get_path (c), G_FILE_TEST_EXISTS));

  /* A failed chroot may be created again. */
  g_assert_true (mbd_chroot_create (c, fx->fake_tarball, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mbd_chroot_get_state (c), ==, MBD_CHROOT_STATE_ACTIVE);
  g_assert_null (mbd_chroot_get_message (c));

  if (geteuid () == 0)
    {
      /* As root, a home the build user cannot reach is refused before any work. */
      g_chmod (fx->tmpdir, 0700);
      g_autoptr (MbdChroot) hidden
                 = mbd_chroot_new (fx->instance, "sid", "amd64", MBD_CHROOT_BACKEND_UNSHARE);
      mbd_chroot_set_mirror (hidden, "http://mirror.example/debian");
      g_assert_false (mbd_chroot_create (hidden, fx->fake_tarball, NULL, &error));
      g_assert_error (error, MBD_ERROR, MBD_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "The build user " MBD_CHROOT_BUILD_USER));
      g_clear_error (&error);
      g_assert_cmpint (mbd_chroot_get_state (hidden), ==, MBD_CHROOT_STATE_FAILED);
      g_chmod (fx->tmpdir, 0711);
    }

  MbdChrootBackend backend;
  g_assert_false (mbd_chroot_backend_from_string ("lxc", &backend, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "lxc"));
}

static void
test_check_failure (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A check whose apt cannot run fails, records failed with the failing command, "
                  "keeps the chroot and removes its work tree; a missing chroot is NOT_FOUND");
  if (geteuid () != 0)
    {
      g_test_skip ("checks enter the chroot and need root");
      return;
    }
  g_autoptr (MbdChroot) missing
             = mbd_chroot_new (fx->instance, "bookworm", "amd64", MBD_CHROOT_BACKEND_UNSHARE);
  g_assert_false (mbd_chroot_check (missing, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autoptr (MbdChroot) c
             = mbd_chroot_new (fx->instance, "bookworm", "amd64", MBD_CHROOT_BACKEND_UNSHARE);
  mbd_chroot_set_mirror (c, "http://127.0.0.1:9/debian");
  mbd_chroot_set_check_timeout (c, 30);
  g_assert_true (mbd_chroot_create (c, fx->fake_tarball, NULL, &error));
  g_assert_no_error (error);
  /* The fake tree has no shell and no libc: apt-get cannot even start in it. */
  g_assert_false (mbd_chroot_check (c, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "apt-get"));
  g_assert_cmpint (mbd_chroot_get_state (c), ==, MBD_CHROOT_STATE_FAILED);
  g_autofree char *work = g_build_filename (fx->home, "chroots/bookworm/amd64/check.tmp", NULL);
  g_assert_false (g_file_test (work, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (mbd_chroot_get_path (c), G_FILE_TEST_EXISTS));
  g_autoptr (MbdChroot) loaded
             = mbd_instance_lookup_chroot (fx->instance, "bookworm", "amd64", NULL);
  g_assert_cmpint (mbd_chroot_get_state (loaded), ==, MBD_CHROOT_STATE_FAILED);
  g_assert_cmpstr (mbd_chroot_get_message (loaded), ==, error->message);
}

/* A stand-in for mmdebstrap in PATH: prints mmdebstrap's phase lines, records its arguments,
 * copies the fake tarball to the target (the second-last argument); with $MBD_FAKE_HANG set it
 * hangs in a background child whose pid it writes there. */
static const char fake_mmdebstrap[]
    = "#!/bin/sh\n"
      "echo \"$@\" > \"$MBD_FAKE_ARGS\"\n"
      "for a; do target=$last; last=$a; done\n"
      "echo 'I: automatically chosen mode: root'\n"
      "if [ -n \"$MBD_FAKE_HANG\" ]; then sleep 100 & echo $! > \"$MBD_FAKE_HANG\"; fi\n"
      "echo 'I: running apt-get update...'\n"
      "wait\n"
      "echo 'I: extracting archives...'\n"
      "cp \"$MBD_FAKE_TARBALL\" \"$target\"\n"
      "echo 'I: done'\n";

static void
install_fake_mmdebstrap (Fixture *fx)
{
  g_autofree char *bin = g_build_filename (fx->tmpdir, "bin", NULL);
  g_mkdir (bin, 0755);
  g_autofree char *script = write_file (bin, "mmdebstrap", fake_mmdebstrap);
  g_chmod (script, 0755);
  g_autofree char *path = g_strdup_printf ("%s:%s", bin, g_getenv ("PATH"));
  g_setenv ("PATH", path, TRUE);
  g_setenv ("MBD_FAKE_TARBALL", fx->fake_tarball, TRUE);
  g_autofree char *args = g_build_filename (fx->tmpdir, "mmdebstrap.args", NULL);
  g_setenv ("MBD_FAKE_ARGS", args, TRUE);
}

typedef struct
{
  GArray *fractions;
  GCancellable *cancel_on_update; /* (nullable) */
} ProgressLog;

static void
log_progress (MbdChroot *chroot, double fraction, const char *message, gpointer user_data)
{
  ProgressLog *log = user_data;

  g_array_append_val (log->fractions, fraction);
  if (log->cancel_on_update != NULL && g_str_has_prefix (message, "I: running apt-get update"))
    g_cancellable_cancel (log->cancel_on_update);
}

static void
test_mmdebstrap_run (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) fractions = g_array_new (FALSE, FALSE, sizeof (double));
  ProgressLog log = { fractions, NULL };

  g_test_summary ("Creation runs mmdebstrap with the chroot's arguments and turns its phase "
                  "lines into growing progress fractions ending at 1");
  install_fake_mmdebstrap (fx);
  g_autoptr (MbdChroot) c
             = mbd_chroot_new (fx->instance, "bookworm", "amd64", MBD_CHROOT_BACKEND_UNSHARE);
  mbd_chroot_set_mirror (c, "http://mirror.example/debian");
  g_signal_connect (c, "progress", G_CALLBACK (log_progress), &log);
  g_assert_true (mbd_chroot_create (c, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mbd_chroot_get_state (c), ==, MBD_CHROOT_STATE_ACTIVE);

  g_autofree char *args = NULL;
  g_assert_true (g_file_get_contents (g_getenv ("MBD_FAKE_ARGS"), &args, NULL, &error));
  g_assert_true (g_str_has_prefix (args, "--variant=buildd "));
  g_assert_nonnull (strstr (args, " bookworm "));
  g_assert_nonnull (strstr (args, "chroot.new.tar.zst deb http://mirror.example/debian bookworm "
                                  "main\n"));
  /* 0.02 (mode), 0.05 (update), 0.35 (extracting), 0.97 (done) and 1 are among them. */
  double seen[] = { 0.02, 0.05, 0.35, 0.97, 1.0 };
  for (gsize i = 0; i < G_N_ELEMENTS (seen); i++)
    {
      gboolean found = FALSE;
      for (guint j = 0; j < fractions->len; j++)
        found = found || g_array_index (fractions, double, j) == seen[i];
      g_assert_true (found);
    }
}

static void
test_cancel_create (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) fractions = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  ProgressLog log = { fractions, cancellable };

  g_test_summary ("Cancelling a creation stops mmdebstrap and what it started, records failed "
                  "and leaves no partial chroot");
  install_fake_mmdebstrap (fx);
  g_autofree char *pidfile = g_build_filename (fx->tmpdir, "hang.pid", NULL);
  g_setenv ("MBD_FAKE_HANG", pidfile, TRUE);
  g_autoptr (MbdChroot) c
             = mbd_chroot_new (fx->instance, "bookworm", "amd64", MBD_CHROOT_BACKEND_UNSHARE);
  mbd_chroot_set_mirror (c, "http://mirror.example/debian");
  g_signal_connect (c, "progress", G_CALLBACK (log_progress), &log);
  gint64 start = g_get_monotonic_time ();
  g_assert_false (mbd_chroot_create (c, NULL, cancellable, &error));
  g_unsetenv ("MBD_FAKE_HANG");
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_cmpint (mbd_chroot_get_state (c), ==, MBD_CHROOT_STATE_FAILED);

  g_autofree char *pid_text = NULL;
  g_assert_true (g_file_get_contents (pidfile, &pid_text, NULL, NULL));
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", atoi (pid_text));
  g_autofree char *stat = NULL;
  if (g_file_get_contents (stat_path, &stat, NULL, NULL))
    g_assert_nonnull (strstr (stat, ") Z ")); /* at most a zombie nobody reaps */
  g_autofree char *partial
      = g_build_filename (fx->home, "chroots/bookworm/amd64/chroot.new.tar.zst", NULL);
  g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (mbd_chroot_get_path (c), G_FILE_TEST_EXISTS));
}

static void
test_schroot_backend (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("The schroot backend unpacks a tarball into chroot/, writes its overlay "
                  "configuration, and removing it deletes both; without root it is refused");
  g_autoptr (MbdChroot) s
             = mbd_chroot_new (fx->instance, "bookworm", "amd64", MBD_CHROOT_BACKEND_SCHROOT);
  mbd_chroot_set_mirror (s, "http://mirror.example/debian");
  if (geteuid () != 0)
    {
      g_assert_false (mbd_chroot_create (s, fx->fake_tarball, NULL, &error));
      g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSUPPORTED);
      return;
    }
  g_assert_true (mbd_chroot_create (s, fx->fake_tarball, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *apt = g_build_filename (mbd_chroot_get_path (s), "usr/bin/apt-get", NULL);
  g_assert_true (g_file_test (apt, G_FILE_TEST_IS_EXECUTABLE));
  g_autofree char *conf_path = g_build_filename (fx->schroot_d, "mbd-ct-bookworm-amd64", NULL);
  g_autofree char *conf = NULL;
  g_assert_true (g_file_get_contents (conf_path, &conf, NULL, &error));
  g_autofree char *expected = mbd_chroot_schroot_config (s);
  g_assert_cmpstr (conf, ==, expected);
  g_autoptr (MbdChroot) loaded
             = mbd_instance_lookup_chroot (fx->instance, "bookworm", "amd64", &error);
  g_assert_no_error (error);
  g_assert_cmpint (mbd_chroot_get_backend (loaded), ==, MBD_CHROOT_BACKEND_SCHROOT);
  g_assert_cmpstr (mbd_chroot_get_path (loaded), ==, mbd_chroot_get_path (s));

  g_assert_true (mbd_chroot_remove (loaded, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (conf_path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (mbd_chroot_get_path (s), G_FILE_TEST_EXISTS));
}

static void
test_get_creates (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("mbd_instance_get_chroot creates a missing chroot on first need (unshare "
                  "backend, the codename's source mirror) and returns the same one afterwards");
  install_fake_mmdebstrap (fx);
  g_autoptr (MbdSource) source = mbd_source_new ("Debian", "bookworm");
  const char *uris[] = { "http://source.example/debian", NULL };
  mbd_source_set_mirror_uris (source, uris);
  mbd_source_set_keyring_file (source, "/usr/share/keyrings/debian-archive-keyring.gpg");
  g_assert_true (mbd_instance_add_source (fx->instance, source, &error));
  g_assert_no_error (error);

  g_autoptr (MbdChroot) c = mbd_instance_get_chroot (fx->instance, "bookworm", "amd64", &error);
  g_assert_no_error (error);
  g_assert_cmpint (mbd_chroot_get_state (c), ==, MBD_CHROOT_STATE_ACTIVE);
  g_assert_cmpint (mbd_chroot_get_backend (c), ==, MBD_CHROOT_BACKEND_UNSHARE);
  g_autofree char *args = NULL;
  g_assert_true (g_file_get_contents (g_getenv ("MBD_FAKE_ARGS"), &args, NULL, &error));
  g_assert_nonnull (strstr (args, "deb http://source.example/debian bookworm main"));
  g_assert_nonnull (strstr (args, "--keyring=/usr/share/keyrings/debian-archive-keyring.gpg"));

  g_assert_cmpint (g_unlink (g_getenv ("MBD_FAKE_ARGS")), ==, 0);
  g_autoptr (MbdChroot) again = mbd_instance_get_chroot (fx->instance, "bookworm", "amd64", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_chroot_get_path (again), ==, mbd_chroot_get_path (c));
  g_assert_false (g_file_test (g_getenv ("MBD_FAKE_ARGS"), G_FILE_TEST_EXISTS));
}

/* A stand-in for unshare(1) in PATH for checks: skips to "chroot ROOT", logs the command and
 * plays apt: the first `update` fails as on a mirror in the middle of a sync, the second
 * passes; `dist-upgrade` upgrades one package (leaving a marker in the tree). Checks run with a
 * fixed environment, so the log is found next to the script, not through a variable. */
static const char fake_unshare[]
    = "#!/bin/sh\n"
      "log=$(dirname \"$0\")/../apt.log\n"
      "while [ \"$1\" != chroot ]; do shift; done; shift; root=$1; shift\n"
      "echo \"$*\" >> \"$log\"\n"
      "case \"$*\" in\n"
      "*update) n=$(grep -c update \"$log\")\n"
      "  if [ $n -lt 2 ]; then echo 'E: Hash Sum mismatch. Mirror sync in progress?'; exit 100; "
      "fi;;\n"
      "*dist-upgrade) echo '1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.'\n"
      "  touch \"$root/upgraded-marker\";;\n"
      "esac\n";

static void
test_check_retry_repack (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A check retries a failed apt-get update, upgrades, repacks the changed tree "
                  "with the chroot's mirror in its sources.list, and makes the chroot active");
  if (geteuid () != 0)
    {
      g_test_skip ("checks enter the chroot and need root");
      return;
    }
  g_autoptr (MbdChroot) c
             = mbd_chroot_new (fx->instance, "bookworm", "amd64", MBD_CHROOT_BACKEND_UNSHARE);
  mbd_chroot_set_mirror (c, "http://mirror.example/debian");
  g_assert_true (mbd_chroot_create (c, fx->fake_tarball, NULL, &error));
  g_assert_no_error (error);

  g_autofree char *bin = g_build_filename (fx->tmpdir, "bin", NULL);
  g_mkdir (bin, 0755);
  g_autofree char *script = write_file (bin, "unshare", fake_unshare);
  g_chmod (script, 0755);
  g_autofree char *path = g_strdup_printf ("%s:%s", bin, g_getenv ("PATH"));
  g_setenv ("PATH", path, TRUE);
  g_autofree char *log = g_build_filename (fx->tmpdir, "apt.log", NULL);

  mbd_chroot_set_check_timeout (c, 60);
  g_assert_true (mbd_chroot_check (c, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mbd_chroot_get_state (c), ==, MBD_CHROOT_STATE_ACTIVE);

  g_autofree char *calls = NULL;
  g_assert_true (g_file_get_contents (log, &calls, NULL, &error));
  g_assert_cmpstr (calls, ==,
                   "apt-get -q --error-on=any -o Acquire::Retries=0 update\n"
                   "apt-get -q --error-on=any -o Acquire::Retries=0 update\n"
                   "apt-get -q -y -o Dpkg::Options::=--force-confold dist-upgrade\n"
                   "apt-get clean\n");
  const char *list[]
      = { "tar", "--zstd", "-tf", mbd_chroot_get_path (c), "./upgraded-marker", NULL };
  run_ok (list);
  g_autofree char *sources = NULL;
  const char *cat[]
      = { "tar", "--zstd", "-xOf", mbd_chroot_get_path (c), "./etc/apt/sources.list", NULL };
  g_assert_true (g_spawn_sync (NULL, (char **) cat, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &sources,
                               NULL, NULL, &error));
  g_assert_cmpstr (sources, ==, "deb http://mirror.example/debian bookworm main\n");
  GStatBuf st;
  g_assert_cmpint (g_stat (mbd_chroot_get_path (c), &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);
  g_autofree char *work = g_build_filename (fx->home, "chroots/bookworm/amd64/check.tmp", NULL);
  g_assert_false (g_file_test (work, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add ("/chroot/host-mirror", Fixture, NULL, setup, test_host_mirror, teardown);
  g_test_add ("/chroot/mirror-from-source", Fixture, NULL, setup, test_mirror_from_source,
              teardown);
  g_test_add ("/chroot/arguments", Fixture, NULL, setup, test_arguments, teardown);
  g_test_add_func ("/chroot/progress-and-timeouts", test_progress_and_timeouts);
  g_test_add ("/chroot/create-persist-remove", Fixture, NULL, setup, test_create_persist_remove,
              teardown);
  g_test_add ("/chroot/bad-input", Fixture, NULL, setup, test_bad_input, teardown);
  g_test_add ("/chroot/mmdebstrap-run", Fixture, NULL, setup, test_mmdebstrap_run, teardown);
  g_test_add ("/chroot/cancel-create", Fixture, NULL, setup, test_cancel_create, teardown);
  g_test_add ("/chroot/schroot-backend", Fixture, NULL, setup, test_schroot_backend, teardown);
  g_test_add ("/chroot/get-creates", Fixture, NULL, setup, test_get_creates, teardown);
  g_test_add ("/chroot/check-retry-repack", Fixture, NULL, setup, test_check_retry_repack,
              teardown);
  g_test_add ("/chroot/check-failure", Fixture, NULL, setup, test_check_failure, teardown);
  return g_test_run ();
}
