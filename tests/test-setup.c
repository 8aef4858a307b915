/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <string.h>

#include "mbd-setup-private.h"

/* MbdSetup: option parsing and its errors, instance ids, the inspection's statuses and
 * severity, update creating sources, repositories (with their distributions) and chroot
 * entries, pca checking sources and repositories, and the request of a chroot's pca (cancelled
 * there: creating it needs the network). The machine's apt sources are a file of the test naming
 * a closed loopback port, so source checks fail at once. */

typedef struct
{
  char *tmpdir;
  char *home;
  char *etc_apt;
  char *mirror;
  char *native;
  MbdInstance *instance;
} Fixture;

static void
setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->etc_apt = g_build_filename (fx->tmpdir, "etc-apt", NULL);
  g_assert_cmpint (g_mkdir_with_parents (fx->etc_apt, 0755), ==, 0);
  /* port 1 (tcpmux) is closed on test machines: connections are refused at once */
  fx->mirror = g_strdup ("http://127.0.0.1:1/debian");
  g_autofree char *list = g_build_filename (fx->etc_apt, "sources.list", NULL);
  g_autofree char *text = g_strdup_printf (
      "deb %s bookworm main\ndeb %s-security bookworm-security main\n", fx->mirror, fx->mirror);
  g_file_set_contents (list, text, -1, &error);
  g_assert_no_error (error);

  fx->instance = mbd_test_create_instance (fx->home, "setuptest");
  fx->native = mbd_get_native_architecture (&error);
  g_assert_no_error (error);
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
  g_free (fx->etc_apt);
  g_free (fx->mirror);
  g_free (fx->native);
}

static MbdSetup *
new_setup (Fixture *fx, const char *const *options)
{
  g_autoptr (MbdSetup) setup = mbd_setup_new (fx->instance);

  mbd_setup_set_etc_apt (setup, fx->etc_apt);
  for (guint i = 0; options[i] != NULL; i += 2)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = mbd_setup_set_option (setup, options[i], options[i + 1], &error);
      g_assert_no_error (error);
      g_assert_true (ok);
    }
  return g_steal_pointer (&setup);
}

static MbdSetupInstance *
find (GPtrArray *instances, const char *class_name, const char *identity)
{
  for (guint i = 0; i < instances->len; i++)
    {
      MbdSetupInstance *item = g_ptr_array_index (instances, i);
      if (strcmp (mbd_setup_instance_get_class_name (item), class_name) == 0
          && strcmp (mbd_setup_instance_get_identity (item), identity) == 0)
        return item;
    }
  return NULL;
}

static const char *
status_of (GPtrArray *instances, const char *class_name, const char *identity)
{
  MbdSetupInstance *item = find (instances, class_name, identity);
  return item != NULL ? mbd_setup_status_to_string (mbd_setup_instance_get_status (item))
                      : "(none)";
}

static GPtrArray *
inspect (MbdSetup *setup, int *severity)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *instances = mbd_setup_inspect (setup, severity, &error);
  g_assert_no_error (error);
  g_assert_nonnull (instances);
  return instances;
}

/* -- options ------------------------------------------------------------------------------- */

static void
test_options_errors (Fixture *fx, gconstpointer data)
{
  g_test_summary ("Each malformed option fails with the most specific code, naming the option");
  static const struct
  {
    const char *name;
    const char *value;
    int code;
    const char *message;
  } cases[] = {
    { "sources", "nosuchcodename", MBD_ERROR_NOT_FOUND, "setup option 'sources'" },
    { "distributions", "bookworm", MBD_ERROR_INVALID_ARGUMENT, "codename:arch+arch" },
    { "distributions", "bookworm:", MBD_ERROR_INVALID_ARGUMENT, "setup option 'distributions'" },
    { "distributions", "bookworm:amd64+amd64", MBD_ERROR_INVALID_ARGUMENT,
      "setup option 'distributions'" },
    { "chroots", ":amd64", MBD_ERROR_INVALID_ARGUMENT, "setup option 'chroots'" },
    { "repositories", "test:Default", MBD_ERROR_INVALID_ARGUMENT, "id:layout:codename+codename" },
    { "repositories", "test:Default:a++b", MBD_ERROR_INVALID_ARGUMENT, "empty codename" },
    { "repositories", "test:nolayout:sid", MBD_ERROR_NOT_FOUND, "setup option 'repositories'" },
    { "repositories", "Bad!:Default:sid", MBD_ERROR_INVALID_ARGUMENT,
      "setup option 'repositories'" },
    { "repositories_from_distributions", "a:b:c", MBD_ERROR_INVALID_ARGUMENT, "id[:layout]" },
    { "chroots_backend", "LVM", MBD_ERROR_INVALID_ARGUMENT, "setup option 'chroots_backend'" },
    { "sources_from_origins", "maybe", MBD_ERROR_INVALID_ARGUMENT, "no boolean" },
    { "from_origins", "Gentoo", MBD_ERROR_NOT_FOUND, "origin 'Gentoo'" },
    { "archives", "ftp://x/debian", MBD_ERROR_INVALID_ARGUMENT, "setup option 'archives'" },
    { "update", "abc", MBD_ERROR_INVALID_ARGUMENT, "setup option 'update'" },
    { "pca", "everything", MBD_ERROR_INVALID_ARGUMENT, "setup option 'pca'" },
    { "remotes", "http://other:8066", MBD_ERROR_UNSUPPORTED, "'remotes'" },
    { "nosuchoption", "1", MBD_ERROR_INVALID_ARGUMENT, "unknown setup option 'nosuchoption'" },
  };
  g_autoptr (MbdSetup) setup = mbd_setup_new (fx->instance);
  mbd_setup_set_etc_apt (setup, fx->etc_apt);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = mbd_setup_set_option (setup, cases[i].name, cases[i].value, &error);
      g_assert_error (error, MBD_ERROR, cases[i].code);
      g_assert_false (ok);
      /* on failure, shows the whole message */
      g_assert_cmpstr (strstr (error->message, cases[i].message) ? cases[i].message
                                                                 : error->message,
                       ==, cases[i].message);
    }
  /* accepted: mini-buildd's spellings, empty unsupported options */
  const char *good[] = { "repositories",
                         "a:Debian Developer:sid,b:Default (no rollbacks):sid,c::sid",
                         "ftp-endpoint",
                         "",
                         "archives_from_proxy",
                         "False",
                         "from_origins",
                         "debian:lts",
                         "chroots_backend",
                         "schroot",
                         NULL };
  g_autoptr (MbdSetup) accepted = new_setup (fx, good);
  g_assert_false (mbd_setup_has_run_options (accepted));
  g_autoptr (GPtrArray) instances = inspect (accepted, NULL);
  g_assert_cmpstr (mbd_setup_instance_get_detail (find (instances, "Repository", "a")), ==,
                   "debian-developer:sid");
  g_assert_cmpstr (mbd_setup_instance_get_detail (find (instances, "Repository", "b")), ==,
                   "default-no-rollbacks:sid");
  g_assert_cmpstr (mbd_setup_instance_get_detail (find (instances, "Repository", "c")), ==,
                   "default:sid");
}

static void
test_ids (Fixture *fx, gconstpointer data)
{
  g_test_summary ("An instance id is the SHA256 of its class, a newline and its identity");
  g_autofree char *id = mbd_setup_compute_id ("Source", "bookworm");
  g_autofree char *expected
      = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "Source\nbookworm", -1);
  g_assert_cmpstr (id, ==, expected);

  const char *options[] = { "sources", "bookworm", NULL };
  g_autoptr (MbdSetup) setup = new_setup (fx, options);
  g_autoptr (GPtrArray) instances = inspect (setup, NULL);
  g_assert_cmpstr (mbd_setup_instance_get_id (find (instances, "Source", "bookworm")), ==, id);
  g_autofree char *message
      = mbd_setup_instance_dup_message (find (instances, "Source", "bookworm"));
  g_assert_cmpstr (message, ==, "Source bookworm: MISSING");

  /* an id no instance has */
  g_autoptr (GError) error = NULL;
  g_autofree char *other = mbd_setup_compute_id ("Source", "trixie");
  g_assert_true (mbd_setup_set_option (setup, "pca", other, NULL));
  g_autoptr (GPtrArray) none = mbd_setup_inspect (setup, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_null (none);
  g_assert_nonnull (strstr (error->message, "setup option 'pca'"));
  g_assert_nonnull (strstr (error->message, other));
  g_clear_error (&error);
  g_assert_false (mbd_setup_run (setup, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
}

/* -- inspect and update -------------------------------------------------------------------- */

static const char *const wanted_options[] = { "archives_from_apt_sources",
                                              "True",
                                              "sources",
                                              "bookworm",
                                              "distributions",
                                              "bookworm:amd64+i386",
                                              "repositories",
                                              "ours:Default:bookworm",
                                              "chroots",
                                              "bookworm:amd64",
                                              NULL };

static void
test_inspect (Fixture *fx, gconstpointer data)
{
  g_test_summary ("A fresh instance: what the options want is MISSING, severity 2");
  g_autoptr (MbdSetup) setup = new_setup (fx, (const char *const *) wanted_options);
  int severity = -1;
  g_autoptr (GPtrArray) instances = inspect (setup, &severity);

  g_assert_cmpint (severity, ==, 2);
  g_assert_cmpstr (status_of (instances, "Daemon", "setuptest"), ==, "EXISTS");
  g_assert_cmpstr (status_of (instances, "Archive", fx->mirror), ==, "EXISTS");
  g_autofree char *security = g_strconcat (fx->mirror, "-security", NULL);
  g_assert_cmpstr (status_of (instances, "Archive", security), ==, "EXISTS");
  const char *sources[]
      = { "bookworm", "bookworm-security", "bookworm-updates", "bookworm-backports" };
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    g_assert_cmpstr (status_of (instances, "Source", sources[i]), ==, "MISSING");
  /* the default repository has bookworm with the machine's architecture only */
  g_assert_cmpstr (status_of (instances, "Distribution", "bookworm"), ==, "CHANGED");
  g_assert_nonnull (strstr (
      mbd_setup_instance_get_detail (find (instances, "Distribution", "bookworm")), "test"));
  g_assert_cmpstr (status_of (instances, "Repository", "ours"), ==, "MISSING");
  /* the default repository of a new instance is listed as it is */
  g_assert_cmpstr (status_of (instances, "Repository", "test"), ==, "ACTIVE");
  g_assert_cmpstr (status_of (instances, "Chroot", "bookworm:amd64"), ==, "MISSING");
  g_assert_cmpint (mbd_setup_status_get_severity (MBD_SETUP_STATUS_FAILED), ==, 3);

  /* another identity */
  const char *identity[] = { "identity", "other", NULL };
  g_autoptr (MbdSetup) changed = new_setup (fx, identity);
  g_autoptr (GPtrArray) daemon = inspect (changed, &severity);
  g_assert_cmpstr (status_of (daemon, "Daemon", "setuptest"), ==, "CHANGED");
  g_assert_cmpint (severity, ==, 2);
}

static void
test_update (Fixture *fx, gconstpointer data)
{
  g_test_summary ("update=all creates the sources, the repository with its distribution and "
                  "the chroot entry; a changed repository cannot be updated: FAILED");
  g_autoptr (MbdSetup) setup = new_setup (fx, (const char *const *) wanted_options);
  g_autoptr (GError) error = NULL;
  g_assert_true (mbd_setup_set_option (setup, "update", "all", NULL));
  g_assert_true (mbd_setup_has_run_options (setup));
  gboolean ok = mbd_setup_run (setup, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  g_autoptr (GPtrArray) instances = inspect (setup, NULL);
  g_assert_cmpstr (status_of (instances, "Source", "bookworm"), ==, "EXISTS");
  g_assert_cmpstr (status_of (instances, "Source", "bookworm-backports"), ==, "EXISTS");
  g_assert_cmpstr (status_of (instances, "Archive", fx->mirror), ==, "ACTIVE");
  g_assert_cmpstr (status_of (instances, "Distribution", "bookworm"), ==, "ACTIVE");
  g_assert_cmpstr (status_of (instances, "Repository", "ours"), ==, "ACTIVE");
  g_assert_cmpstr (status_of (instances, "Chroot", "bookworm:amd64"), ==, "EXISTS");

  g_autoptr (MbdSource) source = mbd_instance_lookup_source (fx->instance, "bookworm", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_source_get_mirror_uri (source), ==, fx->mirror);
  g_autoptr (MbdRepository) repo = mbd_instance_lookup_repository (fx->instance, "ours", &error);
  g_assert_no_error (error);
  g_assert_false (mbd_repository_get_allow_unauthenticated_uploads (repo));
  MbdDistribution *dist = mbd_repository_lookup_distribution (repo, "bookworm");
  g_assert_nonnull (dist);
  g_autofree char *arches = g_strjoinv ("+", (char **) mbd_distribution_get_architectures (dist));
  g_assert_cmpstr (arches, ==, "amd64+i386");
  g_autoptr (MbdChroot) chroot
             = mbd_instance_lookup_chroot (fx->instance, "bookworm", "amd64", &error);
  g_assert_no_error (error);
  g_assert_cmpint (mbd_chroot_get_state (chroot), ==, MBD_CHROOT_STATE_ABSENT);

  /* changed: another layout; the update of just that id fails, named in the detail */
  const char *other_layout[] = { "repositories", "ours:Debian Developer:bookworm", NULL };
  g_autoptr (MbdSetup) changed = new_setup (fx, other_layout);
  g_autoptr (GPtrArray) before = inspect (changed, NULL);
  MbdSetupInstance *ours = find (before, "Repository", "ours");
  g_assert_cmpstr (status_of (before, "Repository", "ours"), ==, "CHANGED");
  g_assert_nonnull (strstr (mbd_setup_instance_get_detail (ours), "layout default"));
  g_assert_true (mbd_setup_set_option (changed, "update", mbd_setup_instance_get_id (ours), NULL));
  ok = mbd_setup_run (changed, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  int severity = -1;
  g_autoptr (GPtrArray) after = inspect (changed, &severity);
  g_assert_cmpstr (status_of (after, "Repository", "ours"), ==, "FAILED");
  g_assert_nonnull (
      strstr (mbd_setup_instance_get_detail (find (after, "Repository", "ours")), "cannot change"));
  g_assert_cmpint (severity, ==, 3);
}

static void
test_update_selected (Fixture *fx, gconstpointer data)
{
  g_test_summary ("update=<id> creates only that instance; distributions_from_sources and "
                  "repositories_from_distributions give the machine's architecture");
  const char *options[] = { "sources",
                            "bookworm",
                            "distributions_from_sources",
                            "True",
                            "repositories_from_distributions",
                            "mine",
                            "chroots_from_sources",
                            "True",
                            NULL };
  g_autoptr (MbdSetup) setup = new_setup (fx, options);
  g_autofree char *id = mbd_setup_compute_id ("Repository", "mine");
  g_assert_true (mbd_setup_set_option (setup, "update", id, NULL));
  g_autoptr (GError) error = NULL;
  gboolean ok = mbd_setup_run (setup, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  g_autoptr (GPtrArray) instances = inspect (setup, NULL);
  g_assert_cmpstr (status_of (instances, "Repository", "mine"), ==, "ACTIVE");
  g_assert_cmpstr (status_of (instances, "Source", "bookworm"), ==, "MISSING");
  g_autofree char *chroot = g_strdup_printf ("bookworm:%s", fx->native);
  g_assert_cmpstr (status_of (instances, "Chroot", chroot), ==, "MISSING");
  g_autoptr (MbdRepository) repo = mbd_instance_lookup_repository (fx->instance, "mine", &error);
  g_assert_no_error (error);
  MbdDistribution *dist = mbd_repository_lookup_distribution (repo, "bookworm");
  g_assert_nonnull (dist);
  g_assert_cmpstr (mbd_distribution_get_architectures (dist)[0], ==, fx->native);
}

/* -- pca ----------------------------------------------------------------------------------- */

typedef struct
{
  GPtrArray *seen; /* "action Class identity" */
  GCancellable *cancellable;
  GAsyncResult *result;
} PcaRun;

static void
on_progress (MbdSetup *setup, MbdSetupInstance *item, const char *action, gpointer user_data)
{
  PcaRun *run = user_data;

  g_ptr_array_add (run->seen,
                   g_strdup_printf ("%s %s %s", action, mbd_setup_instance_get_class_name (item),
                                    mbd_setup_instance_get_identity (item)));
  /* a chroot's pca runs mmdebstrap: stop before it */
  if (strcmp (action, "pca") == 0
      && strcmp (mbd_setup_instance_get_class_name (item), "Chroot") == 0)
    g_cancellable_cancel (run->cancellable);
}

static void
on_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  PcaRun *run = user_data;
  run->result = g_object_ref (result);
}

static void
test_pca (Fixture *fx, gconstpointer data)
{
  g_test_summary ("pca=all asynchronously: the sources are checked (FAILED: the mirror refuses "
                  "connections), the repository is checked (ACTIVE), the chroot's pca is "
                  "requested last (cancelled there)");
  g_autoptr (MbdSetup) setup = new_setup (fx, (const char *const *) wanted_options);
  g_assert_true (mbd_setup_set_option (setup, "update", "all", NULL));
  g_assert_true (mbd_setup_set_option (setup, "pca", "all", NULL));
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  PcaRun run = { seen, cancellable, NULL };
  g_signal_connect (setup, "progress", G_CALLBACK (on_progress), &run);

  mbd_setup_run_async (setup, cancellable, on_done, &run);
  while (run.result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_autoptr (GError) error = NULL;
  gboolean ok = mbd_setup_run_finish (setup, run.result, &error);
  g_clear_object (&run.result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (ok);

  g_ptr_array_add (seen, NULL);
  g_autofree char *steps = g_strjoinv ("\n", (char **) seen->pdata);
  g_assert_nonnull (strstr (steps, "update Source bookworm\n"));
  g_assert_nonnull (strstr (steps, "update Repository ours\n"));
  g_assert_nonnull (strstr (steps, "update Chroot bookworm:amd64\n"));
  g_assert_nonnull (strstr (steps, "pca Source bookworm-security\n"));
  g_assert_nonnull (strstr (steps, "pca Repository ours\n"));
  g_assert_nonnull (strstr (steps, "pca Repository test\n"));
  g_assert_true (g_str_has_suffix (steps, "pca Chroot bookworm:amd64"));

  int severity = -1;
  g_autoptr (GPtrArray) instances = inspect (setup, &severity);
  g_assert_cmpint (severity, ==, 3);
  MbdSetupInstance *source = find (instances, "Source", "bookworm");
  g_assert_cmpstr (status_of (instances, "Source", "bookworm"), ==, "FAILED");
  g_assert_nonnull (strstr (mbd_setup_instance_get_detail (source), "pca: "));
  g_assert_cmpstr (status_of (instances, "Repository", "ours"), ==, "ACTIVE");
  /* the default repository, unpublished so far, is published by its pca */
  g_assert_cmpstr (status_of (instances, "Repository", "test"), ==, "ACTIVE");
  g_assert_cmpstr (status_of (instances, "Chroot", "bookworm:amd64"), ==, "EXISTS");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add ("/setup/options-errors", Fixture, NULL, setup, test_options_errors, teardown);
  g_test_add ("/setup/ids", Fixture, NULL, setup, test_ids, teardown);
  g_test_add ("/setup/inspect", Fixture, NULL, setup, test_inspect, teardown);
  g_test_add ("/setup/update", Fixture, NULL, setup, test_update, teardown);
  g_test_add ("/setup/update-selected", Fixture, NULL, setup, test_update_selected, teardown);
  g_test_add ("/setup/pca", Fixture, NULL, setup, test_pca, teardown);
  return g_test_run ();
}
