/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mbd-server-api.h"

/* mini-buildd's test_packages (ADMIN, R, C): uploads its three test source packages —
 * mbd-test-archall (Architecture: all), mbd-test-cpp (a C++ program, Architecture: any) and
 * mbd-test-ftbfs (fails to build) — to each of distributions (default: every *-experimental
 * distribution), signed by the instance key, into the packager. The answer lists the uploads
 * ({source, distribution, version, key}); the builds follow as events. auto_ports (existing
 * distributions) becomes the uploads' option auto-ports (MINI_BUILDD_OPTION in the changelog),
 * so the packager ports each installed upload there. with_check waits (the message paused) for
 * every upload to end and fails unless mbd-test-archall and mbd-test-cpp are INSTALLED and
 * mbd-test-ftbfs FAILED, as mini-buildd; its answer adds each upload's final state.
 *
 * The sources are written and dpkg-source/dpkg-genchanges run in a worker thread; signing and
 * the hand-over to the packager follow on the main thread. */

static const char *const templates[]
    = { "mbd-test-archall", "mbd-test-cpp", "mbd-test-ftbfs", NULL };

typedef struct
{
  char *source;
  char *distribution;
  char *version;
  char *auto_ports; /* (nullable) comma-separated distributions */
  char *dir;        /* the upload's own directory under <home>/incoming */
  char *changes;    /* set by the thread */
  char *key;        /* the packager's, once submitted */
} Upload;

static void
upload_free (Upload *upload)
{
  g_free (upload->source);
  g_free (upload->distribution);
  g_free (upload->version);
  g_free (upload->auto_ports);
  g_free (upload->dir);
  g_free (upload->changes);
  g_free (upload->key);
  g_free (upload);
}

typedef struct
{
  MbdServerApiPending *pending;
  MbdInstance *instance; /* (owned) */
  GPtrArray *uploads;    /* (owned) (element-type Upload) */
  char *work;            /* the thread's scratch directory */
  gboolean with_check;
  guint poll_id;      /* with_check: the timer looking at the uploads' states */
  gulong finished_id; /* with_check: the client went away */
} TestCall;

static void
test_call_free (TestCall *call)
{
  g_clear_handle_id (&call->poll_id, g_source_remove);
  if (call->pending != NULL)
    {
      g_clear_signal_handler (&call->finished_id, call->pending->msg);
      g_clear_pointer (&call->pending, mbd_server_api_resume);
    }
  g_object_unref (call->instance);
  g_ptr_array_unref (call->uploads);
  g_free (call->work);
  g_free (call);
}

static gboolean
write_file (const char *dir, const char *name, const char *content, int mode, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  if (!g_file_set_contents (path, content, -1, error))
    return FALSE;
  if (mode != 0 && g_chmod (path, mode) != 0)
    return g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: chmod: %s", path,
                        g_strerror (errno)),
           FALSE;
  return TRUE;
}

static gboolean
run_in (const char *dir, const char *const *argv, const char *stdout_file, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      stdout_file != NULL ? G_SUBPROCESS_FLAGS_STDERR_PIPE
                          : G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, dir);
  if (stdout_file != NULL)
    g_subprocess_launcher_set_stdout_file_path (launcher, stdout_file);
  g_autoptr (GSubprocess) proc = g_subprocess_launcher_spawnv (launcher, argv, error);
  g_autofree char *err = NULL;
  if (proc == NULL || !g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, error))
    return FALSE;
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    return g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", argv[0],
                        err != NULL ? g_strstrip (err) : ""),
           FALSE;
  return TRUE;
}

/* Writes the source tree of @upload under @work and builds its source package and .changes
 * into @upload->dir. */
static gboolean
make_upload (Upload *upload, const char *work, GError **error)
{
  gboolean any = strcmp (upload->source, "mbd-test-cpp") == 0;
  gboolean ftbfs = strcmp (upload->source, "mbd-test-ftbfs") == 0;
  g_autofree char *tree = g_build_filename (work, upload->source, NULL);
  g_autofree char *debian = g_build_filename (tree, "debian", "source", NULL);
  if (g_mkdir_with_parents (debian, 0755) != 0)
    return g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", debian,
                        g_strerror (errno)),
           FALSE;
  g_autofree char *dir = g_build_filename (tree, "debian", NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%a, %d %b %Y %T +0000");
  g_autofree char *option
      = upload->auto_ports != NULL
            ? g_strdup_printf ("  * MINI_BUILDD_OPTION: auto-ports=%s\n", upload->auto_ports)
            : g_strdup ("");
  g_autofree char *changelog = g_strdup_printf (
      "%s (%s) %s; urgency=medium\n\n  * mini-buildd's test package, uploaded by mbd-server's "
      "test_packages.\n%s\n -- mbd test_packages <mbd@localhost>  %s\n",
      upload->source, upload->version, upload->distribution, option, date);
  g_autofree char *control = g_strdup_printf (
      "Source: %s\nSection: misc\nPriority: optional\nMaintainer: mbd test_packages "
      "<mbd@localhost>\nBuild-Depends: debhelper-compat (= 13)%s\nStandards-Version: 4.6.2\n"
      "Rules-Requires-Root: no\n\nPackage: %s\nArchitecture: %s\nDepends: ${misc:Depends}%s\n"
      "Description: mini-buildd test package (%s)\n Uploaded by mbd-server's test_packages call.\n",
      upload->source, any ? ", g++" : "", upload->source, any ? "any" : "all",
      any ? ", ${shlibs:Depends}" : "",
      any ? "C++" : (ftbfs ? "fails to build" : "architecture all"));
  const char *rules
      = ftbfs
            ? "#!/usr/bin/make -f\n%:\n\tdh $@\n\noverride_dh_auto_build:\n\t@echo 'mbd-test-ftbfs "
              "fails to build on purpose' >&2\n\texit 1\n"
        : any ? "#!/usr/bin/make -f\n%:\n\tdh $@\n\noverride_dh_auto_build:\n\t$(CXX) $(CXXFLAGS) "
                "$(CPPFLAGS) $(LDFLAGS) -o mbd-test-cpp hello.cpp\n\noverride_dh_auto_install:\n"
                "\tinstall -D mbd-test-cpp debian/mbd-test-cpp/usr/bin/mbd-test-cpp\n"
              : "#!/usr/bin/make -f\n%:\n\tdh $@\n\noverride_dh_auto_install:\n"
                "\tinstall -D -m 0644 README debian/mbd-test-archall/usr/share/mbd-test-archall/"
                "README\n";
  if (!write_file (dir, "changelog", changelog, 0, error)
      || !write_file (dir, "control", control, 0, error)
      || !write_file (dir, "rules", rules, 0755, error)
      || !write_file (dir, "copyright",
                      "Format: https://www.debian.org/doc/packaging-manuals/"
                      "copyright-format/1.0/\n\nFiles: *\nCopyright: none\n"
                      "License: public-domain\n",
                      0, error)
      || !write_file (debian, "format", "3.0 (native)\n", 0, error)
      || !write_file (tree, "README", "A test package of mini-buildd, made by mbd.\n", 0, error)
      || (any
          && !write_file (tree, "hello.cpp",
                          "#include <iostream>\nint main() { std::cout << \"mbd-test-cpp\" "
                          "<< std::endl; return 0; }\n",
                          0, error)))
    return FALSE;
  g_autofree char *base = g_path_get_basename (tree);
  const char *source_argv[] = { "dpkg-source", "-b", base, NULL };
  if (!run_in (work, source_argv, NULL, error))
    return FALSE;
  upload->changes
      = g_strdup_printf ("%s/%s_%s_source.changes", upload->dir, upload->source, upload->version);
  g_autofree char *dist_arg = g_strdup_printf ("-DDistribution=%s", upload->distribution);
  g_autofree char *files_arg = g_strdup_printf ("-u%s", work);
  const char *argv[] = { "dpkg-genchanges", "-S", "-sa", dist_arg, files_arg, NULL };
  if (!run_in (tree, argv, upload->changes, error))
    return FALSE;
  /* the .dsc and the tarball go next to the .changes, alone in the upload's directory */
  g_autofree char *stem = g_strdup_printf ("%s_%s", upload->source, upload->version);
  const char *suffixes[] = { ".dsc", ".tar.xz", NULL };
  for (guint i = 0; suffixes[i] != NULL; i++)
    {
      g_autofree char *name = g_strconcat (stem, suffixes[i], NULL);
      g_autofree char *from = g_build_filename (work, name, NULL);
      g_autofree char *to = g_build_filename (upload->dir, name, NULL);
      if (g_rename (from, to) != 0)
        return g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", from,
                            g_strerror (errno)),
               FALSE;
    }
  return TRUE;
}

static void
make_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TestCall *call = task_data;
  for (guint i = 0; i < call->uploads->len; i++)
    {
      Upload *upload = g_ptr_array_index (call->uploads, i);
      g_autoptr (GError) error = NULL;
      g_autofree char *work = g_build_filename (call->work, upload->distribution, NULL);
      if (g_mkdir_with_parents (work, 0755) != 0 || !make_upload (upload, work, &error))
        {
          if (error == NULL)
            g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", work,
                         g_strerror (errno));
          g_prefix_error (&error, "making %s for %s: ", upload->source, upload->distribution);
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }
  g_task_return_boolean (task, TRUE);
}

static gboolean
sign_in_place (MbdInstance *instance, const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GBytes) content = g_file_load_bytes (file, NULL, NULL, error);
  g_autoptr (GBytes) signed_content
             = content != NULL
                   ? mbd_gnupg_sign_clear (mbd_instance_get_gnupg (instance), content, NULL, error)
                   : NULL;
  if (signed_content == NULL)
    return FALSE;
  gsize len = 0;
  const char *data = g_bytes_get_data (signed_content, &len);
  return g_file_set_contents (path, data, len, error);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* A package state as mini-buildd names it: INSTALLED, FAILED, ... */
static char *
state_name (MbdPackageState state)
{
  return g_ascii_strup (mbd_package_state_to_string (state), -1);
}

/* The answer: {source, distribution, version, key[, state]} per upload. */
static JsonNode *
uploads_json (TestCall *call, gboolean with_state)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_array (builder);
  for (guint i = 0; i < call->uploads->len; i++)
    {
      Upload *upload = g_ptr_array_index (call->uploads, i);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "source");
      json_builder_add_string_value (builder, upload->source);
      json_builder_set_member_name (builder, "distribution");
      json_builder_add_string_value (builder, upload->distribution);
      json_builder_set_member_name (builder, "version");
      json_builder_add_string_value (builder, upload->version);
      json_builder_set_member_name (builder, "key");
      json_builder_add_string_value (builder, upload->key);
      if (with_state)
        {
          MbdPackageState state = MBD_PACKAGE_STATE_CHECKING;
          mbd_packager_lookup_state (mbd_instance_get_packager (call->instance), upload->key,
                                     &state, NULL);
          g_autofree char *name = state_name (state);
          json_builder_set_member_name (builder, "state");
          json_builder_add_string_value (builder, name);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  return json_builder_get_root (builder);
}

/* The state mini-buildd's check expects of test package @source. */
static MbdPackageState
expected_state (const char *source)
{
  return strcmp (source, "mbd-test-ftbfs") == 0 ? MBD_PACKAGE_STATE_FAILED
                                                : MBD_PACKAGE_STATE_INSTALLED;
}

/* with_check, once a second: answers when every upload has ended (a state lookup that fails
 * counts as an end, and fails the check). */
static gboolean
poll_states (gpointer user_data)
{
  TestCall *call = user_data;
  MbdPackager *packager = mbd_instance_get_packager (call->instance);
  g_autoptr (GString) wrong = g_string_new (NULL);

  for (guint i = 0; i < call->uploads->len; i++)
    {
      Upload *upload = g_ptr_array_index (call->uploads, i);
      MbdPackageState state;
      g_autoptr (GError) error = NULL;
      if (!mbd_packager_lookup_state (packager, upload->key, &state, &error))
        {
          g_string_append_printf (wrong, "%s%s in %s: %s", wrong->len > 0 ? "; " : "",
                                  upload->source, upload->distribution, error->message);
          continue;
        }
      if (!mbd_package_state_is_final (state))
        return G_SOURCE_CONTINUE;
      if (state != expected_state (upload->source))
        {
          g_autofree char *ended = state_name (state);
          g_autofree char *expected = state_name (expected_state (upload->source));
          g_string_append_printf (wrong, "%s%s %s in %s ended %s, not %s (key %s)",
                                  wrong->len > 0 ? "; " : "", upload->source, upload->version,
                                  upload->distribution, ended, expected, upload->key);
        }
    }
  call->poll_id = 0;
  if (wrong->len > 0)
    {
      g_autoptr (GError) error = NULL;
      g_set_error (&error, MBD_ERROR, MBD_ERROR_FAILED, "the check failed: %s", wrong->str);
      mbd_server_api_fail (call->pending->msg, "test_packages", error);
    }
  else
    {
      g_autoptr (JsonNode) root = uploads_json (call, TRUE);
      mbd_server_api_answer (call->pending->msg, call->pending->query, root);
    }
  test_call_free (call);
  return G_SOURCE_REMOVE;
}

/* with_check: the client went away while the builds ran; the message must not be touched. */
static void
on_finished (SoupServerMessage *msg, gpointer user_data)
{
  TestCall *call = user_data;

  g_clear_signal_handler (&call->finished_id, msg);
  g_object_unref (call->pending->msg);
  g_clear_pointer (&call->pending->query, g_hash_table_unref);
  g_clear_pointer (&call->pending, g_free);
  test_call_free (call);
}

static void
made (GObject *object, GAsyncResult *result, gpointer user_data)
{
  TestCall *call = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  for (guint i = 0; ok && i < call->uploads->len; i++)
    {
      Upload *upload = g_ptr_array_index (call->uploads, i);
      ok = sign_in_place (call->instance, upload->changes, &error)
           && mbd_packager_submit_full (mbd_instance_get_packager (call->instance), upload->changes,
                                        &upload->key, &error);
    }
  /* what the packager took was moved away; the rest goes */
  remove_tree (call->work);
  for (guint i = 0; i < call->uploads->len; i++)
    remove_tree (((Upload *) g_ptr_array_index (call->uploads, i))->dir);
  if (!ok)
    mbd_server_api_fail (call->pending->msg, "test_packages", error);
  else if (call->with_check)
    {
      call->finished_id
          = g_signal_connect (call->pending->msg, "finished", G_CALLBACK (on_finished), call);
      call->poll_id = g_timeout_add_seconds (1, poll_states, call);
      return;
    }
  else
    {
      g_autoptr (JsonNode) root = uploads_json (call, FALSE);
      mbd_server_api_answer (call->pending->msg, call->pending->query, root);
    }
  test_call_free (call);
}

/* The experimental distributions of every repository (mini-buildd's default). */
static char **
experimental_distributions (MbdInstance *instance, GError **error)
{
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (instance, error);
  if (repos == NULL)
    return NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, i);
      MbdSuite *suite = mbd_layout_lookup_suite (mbd_repository_get_layout (repo), "experimental");
      GPtrArray *dists = mbd_repository_get_distributions (repo);
      for (guint d = 0; suite != NULL && d < dists->len; d++)
        {
          g_autofree char *name = mbd_distribution_string_format (
              mbd_distribution_get_codename (g_ptr_array_index (dists, d)),
              mbd_repository_get_identity (repo), "experimental", -1);
          g_strv_builder_add (builder, name);
        }
    }
  return g_strv_builder_end (builder);
}

/* The version of a test package in @distribution: 1.0 plus the layout's suffix (~test12+0). */
static char *
test_version (MbdInstance *instance, const char *distribution, GError **error)
{
  g_autofree char *codename = NULL;
  g_autofree char *suite_name = NULL;
  if (!mbd_distribution_string_parse (distribution, &codename, NULL, &suite_name, NULL, error))
    return NULL;
  g_autoptr (MbdRepository) repo
             = mbd_instance_lookup_repository_for_distribution (instance, distribution, error);
  if (repo == NULL)
    return NULL;
  MbdDistribution *dist = mbd_repository_lookup_distribution (repo, codename);
  MbdSuite *suite = mbd_layout_lookup_suite (mbd_repository_get_layout (repo), suite_name);
  if (dist == NULL || suite == NULL)
    return g_set_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND, "no distribution %s", distribution),
           NULL;
  if (!mbd_suite_get_uploadable (suite))
    return g_set_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT, "%s does not take uploads",
                        distribution),
           NULL;
  g_autofree char *suffix = mbd_layout_get_default_version (
      mbd_repository_get_layout (repo), suite, mbd_repository_get_identity (repo),
      mbd_distribution_get_codeversion (dist));
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d%H%M%S");
  return g_strdup_printf ("1.0+%s%s", stamp, suffix);
}

void
mbd_server_api_test_packages (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *call_name = "test_packages";
  if (!mbd_server_api_check (
          msg, instance, query, call_name,
          MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM | MBD_SERVER_API_RUNNING, NULL))
    return;
  gboolean with_check;
  if (!mbd_server_api_arg_bool (msg, query, call_name, "with_check", &with_check))
    return;
  g_auto (GStrv) auto_ports = mbd_server_api_arg_list (query, "auto_ports");
  for (guint i = 0; auto_ports != NULL && auto_ports[i] != NULL; i++)
    if (!mbd_server_api_check_distribution (msg, instance, call_name, "auto_ports", auto_ports[i]))
      return;
  g_autofree char *auto_ports_option = auto_ports != NULL ? g_strjoinv (",", auto_ports) : NULL;
  g_auto (GStrv) sources = mbd_server_api_arg_list (query, "sources");
  for (guint i = 0; sources != NULL && sources[i] != NULL; i++)
    if (!g_strv_contains (templates, sources[i]))
      {
        g_autofree char *what = g_strdup_printf (
            "has an unknown test package '%s' (use mbd-test-archall, mbd-test-cpp, "
            "mbd-test-ftbfs)",
            sources[i]);
        mbd_server_api_bad_arg (msg, call_name, "sources", what);
        return;
      }
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) dists = mbd_server_api_arg_list (query, "distributions");
  if (dists == NULL && (dists = experimental_distributions (instance, &error)) == NULL)
    {
      mbd_server_api_fail (msg, call_name, error);
      return;
    }

  g_autofree char *incoming = g_build_filename (mbd_instance_get_home (instance), "incoming", NULL);
  g_autoptr (GPtrArray) uploads = g_ptr_array_new_with_free_func ((GDestroyNotify) upload_free);
  for (guint d = 0; dists[d] != NULL; d++)
    {
      g_autofree char *version = test_version (instance, dists[d], &error);
      if (version == NULL)
        {
          mbd_server_api_bad_arg (msg, call_name, "distributions", error->message);
          for (guint i = 0; i < uploads->len; i++)
            remove_tree (((Upload *) g_ptr_array_index (uploads, i))->dir);
          return;
        }
      const char *const *names = sources != NULL ? (const char *const *) sources : templates;
      for (guint s = 0; names[s] != NULL; s++)
        {
          Upload *upload = g_new0 (Upload, 1);
          upload->source = g_strdup (names[s]);
          upload->distribution = g_strdup (dists[d]);
          upload->version = g_strdup (version);
          upload->auto_ports = g_strdup (auto_ports_option);
          g_autofree char *template = g_build_filename (incoming, "test-packages-XXXXXX", NULL);
          upload->dir = g_mkdtemp (g_steal_pointer (&template));
          g_ptr_array_add (uploads, upload);
          if (upload->dir == NULL)
            {
              g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (errno),
                           "%s: cannot make a directory: %s", incoming, g_strerror (errno));
              mbd_server_api_fail (msg, call_name, error);
              for (guint i = 0; i < uploads->len; i++)
                if (((Upload *) g_ptr_array_index (uploads, i))->dir != NULL)
                  remove_tree (((Upload *) g_ptr_array_index (uploads, i))->dir);
              return;
            }
        }
    }
  TestCall *call = g_new0 (TestCall, 1);
  call->instance = g_object_ref (instance);
  call->with_check = with_check;
  call->uploads = g_steal_pointer (&uploads);
  g_autofree char *work_template
      = g_build_filename (g_get_tmp_dir (), "mbd-test-packages-XXXXXX", NULL);
  call->work = g_mkdtemp (g_steal_pointer (&work_template));
  if (call->work == NULL)
    {
      g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "cannot make a scratch directory: %s", g_strerror (errno));
      mbd_server_api_fail (msg, call_name, error);
      for (guint i = 0; i < call->uploads->len; i++)
        remove_tree (((Upload *) g_ptr_array_index (call->uploads, i))->dir);
      test_call_free (call);
      return;
    }
  call->pending = mbd_server_api_pause (msg, query);
  g_autoptr (GTask) task = g_task_new (NULL, NULL, made, NULL);
  /* made() frees the call, or with_check hands it on to the state polls */
  g_task_set_task_data (task, call, NULL);
  g_task_run_in_thread (task, make_thread);
}
