/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <string.h>

/* MbdDebmirror's refusals, all before debmirror runs: unknown repositories, destinations with
 * path tricks or inside the home, one destination for several repositories, and filters nothing
 * matches. A real run against mbd-server: tests/frontends/test_server_remotes.py. */

typedef struct
{
  char *tmpdir;
  char *home;
  MbdInstance *instance; /* (owned) */
} Fixture;

static void
add_repository (Fixture *fx, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdLayout) layout = mbd_layout_new_builtin (MBD_LAYOUT_DEFAULT_NO_ROLLBACKS, &error);
  g_assert_no_error (error);
  g_autoptr (MbdRepository) repo = mbd_repository_new (id, layout, &error);
  g_assert_no_error (error);
  g_autoptr (MbdDistribution) dist = mbd_distribution_new_from_spec ("bookworm:amd64", &error);
  g_assert_no_error (error);
  g_assert_true (mbd_repository_add_distribution (repo, dist, &error));
  g_assert_true (mbd_instance_add_repository (fx->instance, repo, NULL, &error));
  g_assert_no_error (error);
}

static void
setup (Fixture *fx, gconstpointer data)
{

  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->instance = mbd_test_create_instance (fx->home, NULL);
  add_repository (fx, "r");
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *gnupg = g_build_filename (fx->home, "gnupg", NULL);

  g_clear_object (&fx->instance);
  mbd_test_kill_agent (gnupg);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->home);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref (result);
}

/* Runs @debmirror and asserts it fails with INVALID_ARGUMENT naming @what. */
static void
assert_refused (MbdDebmirror *debmirror, const char *what)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  mbd_debmirror_run_async (debmirror, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_autofree char *json = mbd_debmirror_run_finish (debmirror, result, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, what));
  g_assert_null (json);
}

static void
test_destinations (Fixture *fx, gconstpointer data)
{
  g_autoptr (MbdDebmirror) debmirror = mbd_debmirror_new (fx->instance);
  g_autofree char *in_home = g_build_filename (fx->home, "repositories", "{}", NULL);
  g_autofree char *home_itself = g_strdup (fx->home);
  const char *const bad[]
      = { "relative/{}", "/tmp/../etc/{}", "/tmp/./{}", "/tmp//{}", "/", in_home, home_itself };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      mbd_debmirror_set_destination (debmirror, bad[i]);
      assert_refused (debmirror, "destination");
    }
  /* nothing may have been made */
  g_autofree char *mirrors = g_build_filename (fx->home, "debmirror", NULL);
  g_assert_false (g_file_test (mirrors, G_FILE_TEST_EXISTS));

  add_repository (fx, "s");
  mbd_debmirror_set_destination (debmirror, "/tmp/mbd-debmirror-one-for-all");
  assert_refused (debmirror, "several repositories");
}

static void
test_filters (Fixture *fx, gconstpointer data)
{
  g_autoptr (MbdDebmirror) debmirror = mbd_debmirror_new (fx->instance);
  const char *const unknown[] = { "r", "nosuchrepo", NULL };
  const char *const s390x[] = { "s390x", NULL };
  const char *const sid[] = { "sid", NULL };
  const char *const nosuite[] = { "nosuchsuite", NULL };

  mbd_debmirror_set_repositories (debmirror, unknown);
  assert_refused (debmirror, "repository 'nosuchrepo' does not exist");
  mbd_debmirror_set_repositories (debmirror, NULL);
  /* the repository has amd64 only */
  mbd_debmirror_set_architectures (debmirror, s390x);
  assert_refused (debmirror, "no repository distribution matches");
  mbd_debmirror_set_architectures (debmirror, NULL);
  mbd_debmirror_set_codenames (debmirror, sid);
  assert_refused (debmirror, "no repository distribution matches");
  mbd_debmirror_set_codenames (debmirror, NULL);
  mbd_debmirror_set_suites (debmirror, nosuite);
  assert_refused (debmirror, "no repository distribution matches");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add ("/debmirror/destinations", Fixture, NULL, setup, test_destinations, teardown);
  g_test_add ("/debmirror/filters", Fixture, NULL, setup, test_filters, teardown);
  return g_test_run ();
}
