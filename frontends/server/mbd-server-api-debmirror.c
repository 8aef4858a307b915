/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mbd-server-api.h"

/* mini-buildd's debmirror (ADMIN, C): runs debmirror(1) against the instance's own HTTP
 * repository delivery to make a partial mirror of each repository (mini-buildd uses it to archive
 * the distributions of old codenames), one repository after the other, as a GSubprocess. The
 * Release files are verified with the instance's own key (debmirror --keyring). */

/* mini-buildd's default architectures; only those a distribution has are mirrored. */
static const char *const default_architectures[] = { "amd64",    "i386",  "arm64",   "armhf",
                                                     "armel",    "s390x", "ppc64el", "mipsel",
                                                     "mips64el", NULL };

/* Seconds one debmirror run may take. */
#define DEBMIRROR_TIMEOUT (3 * 3600)

/* Lines of debmirror's output kept for the answer. */
#define SUMMARY_LINES 12

typedef struct
{
  char *repository;     /* (owned) */
  char *destination;    /* (owned) */
  char **argv;          /* (owned) */
  char **distributions; /* (owned) */
  char **architectures; /* (owned) */
  char **components;    /* (owned) */
} Job;

static void
job_free (Job *job)
{
  g_free (job->repository);
  g_free (job->destination);
  g_strfreev (job->argv);
  g_strfreev (job->distributions);
  g_strfreev (job->architectures);
  g_strfreev (job->components);
  g_free (job);
}

typedef struct
{
  MbdServerApiPending *pending;
  GPtrArray *jobs;      /* (owned) (element-type Job) */
  guint next;           /* the job that runs */
  char *tmpdir;         /* (owned): the keyring */
  JsonBuilder *result;  /* (owned) */
  GSubprocess *process; /* (owned) (nullable) */
  guint timeout_id;
  gboolean timed_out;
} DebmirrorCall;

static void
call_free (DebmirrorCall *call)
{
  g_ptr_array_unref (call->jobs);
  if (call->tmpdir != NULL)
    {
      g_autofree char *keyring = g_build_filename (call->tmpdir, "keyring.gpg", NULL);
      g_remove (keyring);
      g_rmdir (call->tmpdir);
      g_free (call->tmpdir);
    }
  g_clear_object (&call->result);
  g_clear_object (&call->process);
  g_free (call);
}

/* The OpenPGP packets of an ASCII-armored block (gpgv reads binary keyrings only). */
static GBytes *
dearmor (const char *armored, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (armored, "\n", -1);
  g_autoptr (GString) base64 = g_string_new (NULL);
  int part = 0; /* 0 before the BEGIN line, 1 headers, 2 data, 3 done */
  for (guint i = 0; lines[i] != NULL && part < 3; i++)
    {
      const char *line = g_strstrip (lines[i]);
      if (part == 0 && g_str_has_prefix (line, "-----BEGIN PGP PUBLIC KEY BLOCK-----"))
        part = 1;
      else if (part == 1 && *line == '\0')
        part = 2;
      else if (part == 2 && (*line == '=' || g_str_has_prefix (line, "-----END")))
        part = 3;
      else if (part == 2)
        g_string_append (base64, line);
    }
  if (part != 3 || base64->len == 0)
    {
      g_set_error_literal (error, MBD_ERROR, MBD_ERROR_PARSE,
                           "the instance key export is not an ASCII-armored public key block");
      return NULL;
    }
  gsize len = 0;
  guchar *data = g_base64_decode (base64->str, &len);
  return g_bytes_new_take (data, len);
}

static void run_next (DebmirrorCall *call);

static void
finish (DebmirrorCall *call, const GError *error)
{
  if (error != NULL)
    mbd_server_api_fail (call->pending->msg, "debmirror", error);
  else
    {
      json_builder_end_object (call->result);
      g_autoptr (JsonNode) root = json_builder_get_root (call->result);
      mbd_server_api_answer (call->pending->msg, call->pending->query, root);
    }
  mbd_server_api_resume (call->pending);
  call_free (call);
}

static gboolean
on_timeout (gpointer user_data)
{
  DebmirrorCall *call = user_data;
  call->timed_out = TRUE;
  call->timeout_id = 0;
  g_subprocess_force_exit (call->process);
  return G_SOURCE_REMOVE;
}

static void
add_strv (JsonBuilder *builder, const char *name, char **values)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    json_builder_add_string_value (builder, values[i]);
  json_builder_end_array (builder);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DebmirrorCall *call = user_data;
  Job *job = g_ptr_array_index (call->jobs, call->next);
  g_autoptr (GError) error = NULL;
  g_autofree char *output = NULL;

  g_clear_handle_id (&call->timeout_id, g_source_remove);
  gboolean ran
      = g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &output, NULL, &error);
  g_auto (GStrv) lines = g_strsplit (output != NULL ? g_strchomp (output) : "", "\n", -1);
  guint n = g_strv_length (lines);
  g_autoptr (GString) tail = g_string_new (NULL);
  for (guint i = n > SUMMARY_LINES ? n - SUMMARY_LINES : 0; i < n; i++)
    g_string_append_printf (tail, "%s%s", tail->len > 0 ? "\n" : "", lines[i]);
  if (!ran)
    {
      finish (call, error);
      return;
    }
  if (call->timed_out || !g_subprocess_get_if_exited (call->process)
      || g_subprocess_get_exit_status (call->process) != 0)
    {
      g_autoptr (GError) failed = NULL;
      g_set_error (&failed, MBD_ERROR, MBD_ERROR_FAILED,
                   "debmirror of repository '%s' to %s %s: %s", job->repository, job->destination,
                   call->timed_out ? "took too long (killed)" : "failed", tail->str);
      finish (call, failed);
      return;
    }
  json_builder_set_member_name (call->result, job->repository);
  json_builder_begin_object (call->result);
  json_builder_set_member_name (call->result, "destination");
  json_builder_add_string_value (call->result, job->destination);
  add_strv (call->result, "distributions", job->distributions);
  add_strv (call->result, "architectures", job->architectures);
  add_strv (call->result, "components", job->components);
  json_builder_set_member_name (call->result, "summary");
  json_builder_add_string_value (call->result, tail->str);
  json_builder_end_object (call->result);
  g_clear_object (&call->process);
  call->next++;
  run_next (call);
}

static void
run_next (DebmirrorCall *call)
{
  if (call->next == call->jobs->len)
    {
      finish (call, NULL);
      return;
    }
  Job *job = g_ptr_array_index (call->jobs, call->next);
  g_autoptr (GError) error = NULL;
  if (g_mkdir_with_parents (job->destination, 0755) != 0)
    {
      int saved = errno;
      g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot create destination %s: %s", job->destination, g_strerror (saved));
      finish (call, error);
      return;
    }
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  /* our own server: no proxy; debmirror's gpgv needs a writable HOME */
  g_subprocess_launcher_unsetenv (launcher, "http_proxy");
  g_subprocess_launcher_unsetenv (launcher, "https_proxy");
  g_subprocess_launcher_unsetenv (launcher, "HTTP_PROXY");
  g_subprocess_launcher_unsetenv (launcher, "HTTPS_PROXY");
  g_subprocess_launcher_setenv (launcher, "HOME", call->tmpdir, TRUE);
  call->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) job->argv, &error);
  if (call->process == NULL)
    {
      finish (call, error);
      return;
    }
  call->timed_out = FALSE;
  call->timeout_id = g_timeout_add_seconds (DEBMIRROR_TIMEOUT, on_timeout, call);
  g_subprocess_communicate_utf8_async (call->process, NULL, NULL, on_done, call);
}

/* The destination for @repository: @pattern with "{}" replaced, absolute and without ".", ".."
 * or empty components, not the file system root and not inside the instance's home outside
 * <home>/debmirror. */
static char *
destination_for (MbdInstance *instance, const char *pattern, const char *repository, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (pattern, "{}", -1);
  g_autofree char *path = g_strjoinv (repository, parts);
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT,
                   "argument 'destination' must be an absolute path, not '%s'", pattern);
      return NULL;
    }
  g_auto (GStrv) components = g_strsplit (path + 1, "/", -1);
  guint n = g_strv_length (components);
  for (guint i = 0; i < n; i++)
    if (strcmp (components[i], ".") == 0 || strcmp (components[i], "..") == 0
        || (components[i][0] == '\0' && i + 1 < n))
      {
        g_set_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT,
                     "argument 'destination' '%s' has a '.', '..' or empty path component",
                     pattern);
        return NULL;
      }
  gsize len = strlen (path);
  while (len > 1 && path[len - 1] == '/')
    path[--len] = '\0';
  if (strcmp (path, "/") == 0)
    {
      g_set_error_literal (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT,
                           "argument 'destination' must not be the root directory");
      return NULL;
    }
  const char *home = mbd_instance_get_home (instance);
  g_autofree char *mirrors = g_build_filename (home, "debmirror", NULL);
  gsize home_len = strlen (home);
  gboolean in_home
      = strncmp (path, home, home_len) == 0 && (path[home_len] == '/' || path[home_len] == '\0');
  gsize mirrors_len = strlen (mirrors);
  gboolean in_mirrors = strncmp (path, mirrors, mirrors_len) == 0 && path[mirrors_len] == '/';
  if (in_home && !in_mirrors)
    {
      g_set_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT,
                   "argument 'destination' %s is inside the instance home; use a directory "
                   "below %s",
                   path, mirrors);
      return NULL;
    }
  return g_steal_pointer (&path);
}

static void G_GNUC_PRINTF (2, 3) add_printf (GStrvBuilder *builder, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *text = g_strdup_vprintf (format, args);
  va_end (args);
  g_strv_builder_add (builder, text);
}

static gboolean
wanted (char **filter, const char *value)
{
  return filter == NULL || g_strv_contains ((const char *const *) filter, value);
}

/* Intersection of @have with @filter (or with @fallback without a filter), in @have's order. */
static char **
pick (const char *const *have, char **filter, const char *const *fallback)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (guint i = 0; have != NULL && have[i] != NULL; i++)
    if (filter != NULL ? g_strv_contains ((const char *const *) filter, have[i])
                       : (fallback == NULL || g_strv_contains (fallback, have[i])))
      g_strv_builder_add (builder, have[i]);
  return g_strv_builder_end (builder);
}

/* Adds @values not in @set yet to it (keeping the order of first sight). */
static void
merge (GPtrArray *set, char **values)
{
  for (guint i = 0; values[i] != NULL; i++)
    {
      gboolean found = FALSE;
      for (guint k = 0; k < set->len && !found; k++)
        found = strcmp (g_ptr_array_index (set, k), values[i]) == 0;
      if (!found)
        g_ptr_array_add (set, g_strdup (values[i]));
    }
}

static char **
to_strv (GPtrArray *array)
{
  g_ptr_array_add (array, NULL);
  return (char **) g_ptr_array_free (array, FALSE);
}

typedef struct
{
  char **suites;
  int rollbacks;
  char **codenames;
  char **architectures;
  char **components;
  const char *destination;
  GUri *own; /* the instance URL */
  const char *keyring;
} Request;

/* The debmirror job for @repo; NULL with @error, or NULL without when nothing of it matches. */
static Job *
make_job (MbdInstance *instance, MbdRepository *repo, Request *req, GError **error)
{
  const char *id = mbd_repository_get_identity (repo);
  g_autoptr (GPtrArray) dists = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) archs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) comps = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) suites = mbd_layout_get_suites (mbd_repository_get_layout (repo));
  GPtrArray *distributions = mbd_repository_get_distributions (repo);

  for (guint d = 0; d < distributions->len; d++)
    {
      MbdDistribution *distribution = g_ptr_array_index (distributions, d);
      const char *codename = mbd_distribution_get_codename (distribution);
      if (!wanted (req->codenames, codename))
        continue;
      for (guint s = 0; s < suites->len; s++)
        {
          MbdSuite *suite = g_ptr_array_index (suites, s);
          const char *name = mbd_suite_get_name (suite);
          if (!wanted (req->suites, name))
            continue;
          g_ptr_array_add (dists, g_strdup_printf ("%s-%s-%s", codename, id, name));
          int n = req->rollbacks < 0 ? (int) mbd_suite_get_rollbacks (suite)
                                     : MIN (req->rollbacks, (int) mbd_suite_get_rollbacks (suite));
          for (int r = 0; r < n; r++)
            g_ptr_array_add (dists, g_strdup_printf ("%s-%s-%s-rollback%d", codename, id, name, r));
        }
      g_auto (GStrv) a = pick (mbd_distribution_get_architectures (distribution),
                               req->architectures, default_architectures);
      merge (archs, a);
      g_auto (GStrv) c
              = pick (mbd_distribution_get_components (distribution), req->components, NULL);
      merge (comps, c);
    }
  if (dists->len == 0 || archs->len == 0 || comps->len == 0)
    return NULL;

  Job *job = g_new0 (Job, 1);
  job->repository = g_strdup (id);
  job->destination = destination_for (instance, req->destination, id, error);
  if (job->destination == NULL)
    {
      job_free (job);
      return NULL;
    }
  job->distributions = to_strv (g_steal_pointer (&dists));
  job->architectures = to_strv (g_steal_pointer (&archs));
  job->components = to_strv (g_steal_pointer (&comps));

  g_autofree char *dist_arg = g_strjoinv (",", job->distributions);
  g_autofree char *arch_arg = g_strjoinv (",", job->architectures);
  g_autofree char *section_arg = g_strjoinv (",", job->components);
  const char *path = g_uri_get_path (req->own);
  g_autofree char *root
      = g_strdup_printf ("%s/repositories/%s", path[0] == '/' ? path + 1 : path, id);
  g_autofree char *host
      = g_uri_get_port (req->own) > 0
            ? g_strdup_printf ("%s:%d", g_uri_get_host (req->own), g_uri_get_port (req->own))
            : g_strdup (g_uri_get_host (req->own));
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_strv_builder_add (argv, "debmirror");
  g_strv_builder_add (argv, "--verbose");
  add_printf (argv, "--method=%s", g_uri_get_scheme (req->own));
  add_printf (argv, "--host=%s", host);
  add_printf (argv, "--root=%s", root);
  add_printf (argv, "--dist=%s", dist_arg);
  add_printf (argv, "--arch=%s", arch_arg);
  add_printf (argv, "--section=%s", section_arg);
  add_printf (argv, "--keyring=%s", req->keyring);
  g_strv_builder_add (argv, "--rsync-extra=none");
  g_strv_builder_add (argv, "--diff=none");
  g_strv_builder_add (argv, "--nocleanup");
  g_strv_builder_add (argv, job->destination);
  job->argv = g_strv_builder_end (argv);
  return job;
}

void
mbd_server_api_debmirror (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query)
{
  const char *call_name = "debmirror";
  if (!mbd_server_api_check (msg, instance, query, call_name,
                             MBD_SERVER_API_CHANGES | MBD_SERVER_API_CONFIRM, NULL))
    return;
  g_autofree char *program = g_find_program_in_path ("debmirror");
  if (program == NULL)
    {
      mbd_server_problem (msg, SOUP_STATUS_NOT_IMPLEMENTED,
                          "API call 'debmirror': debmirror is not installed on the server "
                          "(apt-get install debmirror)");
      return;
    }
  g_auto (GStrv) suites = mbd_server_api_arg_list (query, "suites");
  g_auto (GStrv) repositories = mbd_server_api_arg_list (query, "repositories");
  g_auto (GStrv) codenames = mbd_server_api_arg_list (query, "codenames");
  g_auto (GStrv) architectures = mbd_server_api_arg_list (query, "architectures");
  g_auto (GStrv) components = mbd_server_api_arg_list (query, "components");
  const char *destination = mbd_server_api_arg (query, "destination");
  int rollbacks;
  if (!mbd_server_api_arg_int (msg, query, call_name, "rollbacks", 0, &rollbacks))
    return;
  g_autofree char *default_destination
      = g_build_filename (mbd_instance_get_home (instance), "debmirror", "{}", NULL);
  if (destination == NULL)
    destination = default_destination;

  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (instance, &error);
  if (repos == NULL)
    {
      mbd_server_api_fail (msg, call_name, error);
      return;
    }
  for (guint i = 0; repositories != NULL && repositories[i] != NULL; i++)
    {
      gboolean found = FALSE;
      for (guint r = 0; r < repos->len && !found; r++)
        found = strcmp (mbd_repository_get_identity (g_ptr_array_index (repos, r)), repositories[i])
                == 0;
      if (!found)
        {
          g_autofree char *what = g_strdup_printf ("has an unknown value: '%s'", repositories[i]);
          mbd_server_api_bad_arg (msg, call_name, "repositories", what);
          return;
        }
    }
  g_autofree char *url = mbd_instance_dup_url (instance);
  g_autoptr (GUri) own = g_uri_parse (url, G_URI_FLAGS_NONE, &error);
  if (own == NULL)
    {
      mbd_server_api_fail (msg, call_name, error);
      return;
    }

  DebmirrorCall *call = g_new0 (DebmirrorCall, 1);
  call->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) job_free);
  call->result = json_builder_new ();
  call->tmpdir = g_dir_make_tmp ("mbd-debmirror-XXXXXX", &error);
  g_autofree char *keyring
      = call->tmpdir != NULL ? g_build_filename (call->tmpdir, "keyring.gpg", NULL) : NULL;
  g_autofree char *armored
      = keyring != NULL
            ? mbd_gnupg_export_public_key (mbd_instance_get_gnupg (instance),
                                           mbd_instance_get_fingerprint (instance), NULL, &error)
            : NULL;
  g_autoptr (GBytes) binary = armored != NULL ? dearmor (armored, &error) : NULL;
  if (binary == NULL
      || !g_file_set_contents (keyring, g_bytes_get_data (binary, NULL), g_bytes_get_size (binary),
                               &error))
    {
      mbd_server_api_fail (msg, call_name, error);
      call_free (call);
      return;
    }
  Request req
      = { suites, rollbacks, codenames, architectures, components, destination, own, keyring };
  g_autoptr (GPtrArray) destinations = g_ptr_array_new ();
  for (guint r = 0; r < repos->len; r++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, r);
      if (!wanted (repositories, mbd_repository_get_identity (repo)))
        continue;
      Job *job = make_job (instance, repo, &req, &error);
      if (job == NULL && error != NULL)
        {
          mbd_server_api_fail (msg, call_name, error);
          call_free (call);
          return;
        }
      if (job == NULL)
        continue;
      for (guint k = 0; k < destinations->len; k++)
        if (strcmp (g_ptr_array_index (destinations, k), job->destination) == 0)
          {
            mbd_server_api_bad_arg (msg, call_name, "destination",
                                    "names one directory for several repositories: put {} "
                                    "(the repository) into it");
            job_free (job);
            call_free (call);
            return;
          }
      g_ptr_array_add (destinations, job->destination);
      g_ptr_array_add (call->jobs, job);
    }
  if (call->jobs->len == 0)
    {
      mbd_server_problem (msg, SOUP_STATUS_BAD_REQUEST,
                          "API call 'debmirror': no repository distribution matches the "
                          "arguments (repositories, codenames, suites, architectures, "
                          "components)");
      call_free (call);
      return;
    }
  json_builder_begin_object (call->result);
  call->pending = mbd_server_api_pause (msg, query);
  run_next (call);
}
