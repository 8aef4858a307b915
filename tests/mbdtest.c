/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <stdarg.h>

/* valgrind ships this header; without valgrind there is no valgrind run to adapt to. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <pthread.h>
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND_H 1
#endif
#endif

#ifdef HAVE_VALGRIND_H
/* gpgme (and GSubprocess) start programs through an intermediate child that forks again and
 * exits at once. Under valgrind that child runs the leak check at its exit, where whatever other
 * threads held (GLib's worker thread, GTask threads) looks definitely lost because their stacks
 * are gone after fork(); the child then exits with valgrind's error code and gpgme fails the
 * operation with a meaningless error ("Inappropriate ioctl for device"). The child allocates
 * nothing itself, so its leak check is switched off; the test process itself is checked in full.
 * Every test program links this file, so the hook is installed before main(). */
static void
no_leak_check_in_forked_child (void)
{
  if (RUNNING_ON_VALGRIND)
    VALGRIND_MONITOR_COMMAND ("v.clo --leak-check=no");
}

__attribute__ ((constructor)) static void
install_fork_hook (void)
{
  pthread_atfork (NULL, NULL, no_leak_check_in_forked_child);
}
#endif

char *
mbd_test_make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_mkdtemp (g_build_filename ("/tmp", "mbdt-XXXXXX", NULL));

  g_assert_no_error (error);
  g_assert_nonnull (dir);
  return dir;
}

void
mbd_test_rm_rf (const char *path)
{
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "rm", "-rf", "--", path, NULL };

  if (path == NULL)
    return;
  g_autoptr (GSubprocess) proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check (proc, NULL, &error);
  g_assert_no_error (error);
}

char *
mbd_test_gpg (const char *homedir, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  char *out = NULL;
  g_autofree char *err = NULL;

  g_mkdir_with_parents (homedir, 0700);
  g_ptr_array_add (args, (char *) "gpg");
  g_ptr_array_add (args, (char *) "--homedir");
  g_ptr_array_add (args, (char *) homedir);
  g_ptr_array_add (args, (char *) "--batch");
  g_ptr_array_add (args, (char *) "--quiet");
  g_ptr_array_add (args, (char *) "--pinentry-mode");
  g_ptr_array_add (args, (char *) "loopback");
  g_ptr_array_add (args, (char *) "--passphrase");
  g_ptr_array_add (args, (char *) "");
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (args, (char *) argv[i]);
  g_ptr_array_add (args, NULL);

  g_autoptr (GSubprocess) proc = g_subprocess_newv (
      (const char *const *) args->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (proc))
    g_error ("gpg failed: %s", err);
  return out;
}

char *
mbd_test_make_key (const char *homedir, const char *uid, const char *faked_time, const char *expire)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (faked_time != NULL)
    {
      g_strv_builder_add_many (builder, "--faked-system-time", faked_time, NULL);
    }
  g_strv_builder_add_many (builder, "--quick-gen-key", uid, "ed25519", "sign",
                           expire != NULL ? expire : "never", NULL);
  g_auto (GStrv) argv = g_strv_builder_end (builder);
  g_free (mbd_test_gpg (homedir, (const char *const *) argv));

  const char *list_argv[] = { "--with-colons", "--list-secret-keys", uid, NULL };
  g_autofree char *listing = mbd_test_gpg (homedir, list_argv);
  g_auto (GStrv) lines = g_strsplit (listing, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "fpr:"))
        {
          g_auto (GStrv) fields = g_strsplit (lines[i], ":", -1);
          g_assert_cmpuint (g_strv_length (fields), >, 9);
          return g_strdup (fields[9]);
        }
    }
  g_error ("no fingerprint for new key %s", uid);
}

void
mbd_test_kill_agent (const char *homedir)
{
  const char *argv[] = { "gpgconf", "--homedir", homedir, "--kill", "gpg-agent", NULL };
  g_autoptr (GSubprocess) proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);

  if (proc != NULL)
    g_subprocess_wait (proc, NULL, NULL);
}

MbdInstance *
mbd_test_create_instance (const char *home, const char *identity)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdInstance) instance = mbd_instance_new (home);

  mbd_instance_set_identity (instance, identity);
  mbd_instance_set_key_algorithm (instance, "ed25519");
  gboolean opened = mbd_instance_open (instance, MBD_INSTANCE_OPEN_CREATE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (opened);
  return g_steal_pointer (&instance);
}

char *
mbd_test_read_data (const char *name, gsize *length)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", name, NULL);
  char *contents = NULL;

  g_file_get_contents (path, &contents, length, &error);
  g_assert_no_error (error);
  return contents;
}

MbdPackageState
mbd_test_run_until_final (MbdInstance *instance, const char *key)
{
  g_autoptr (GError) error = NULL;
  MbdPackager *packager = mbd_instance_get_packager (instance);

  if (!mbd_instance_is_started (instance))
    {
      gboolean started = mbd_instance_start (instance, &error);
      g_assert_no_error (error);
      g_assert_true (started);
    }
  /* only a guard against a hang: under valgrind on a busy machine a fake build alone took more
   * than a minute (the test's own meson timeout stays the limit) */
  gint64 deadline = g_get_monotonic_time () + 600 * G_USEC_PER_SEC;
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

MbdRepository *
mbd_test_add_repository (MbdInstance *instance, const char *identity, const char *layout, ...)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdLayout) builtin = mbd_layout_new_builtin (layout, &error);
  g_assert_no_error (error);
  g_autoptr (MbdRepository) repo = mbd_repository_new (identity, builtin, &error);
  g_assert_no_error (error);
  va_list args;
  va_start (args, layout);
  const char *spec;
  while ((spec = va_arg (args, const char *)) != NULL)
    {
      const char *codeversion = va_arg (args, const char *);
      g_autoptr (MbdDistribution) dist = mbd_distribution_new_from_spec (spec, &error);
      g_assert_no_error (error);
      if (codeversion != NULL)
        mbd_distribution_set_codeversion (dist, codeversion);
      gboolean dist_added = mbd_repository_add_distribution (repo, dist, &error);
      g_assert_no_error (error);
      g_assert_true (dist_added);
    }
  va_end (args);
  gboolean added = mbd_instance_add_repository (instance, repo, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (added);
  return g_steal_pointer (&repo);
}

MbdInstance *
mbd_test_open_copy (const char *template_home, const char *home)
{
  g_autoptr (GError) error = NULL;
  const char *cp[] = { "cp", "-a", template_home, home, NULL };
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) cp, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  g_autoptr (MbdInstance) instance = mbd_instance_new (home);
  gboolean opened = mbd_instance_open (instance, MBD_INSTANCE_OPEN_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (opened);
  return g_steal_pointer (&instance);
}

void
mbd_test_store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

gboolean
mbd_test_count_tick (gpointer user_data)
{
  (*(guint *) user_data)++;
  return G_SOURCE_CONTINUE;
}
