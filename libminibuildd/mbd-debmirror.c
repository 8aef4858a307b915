/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-debmirror.h"
#include "mbd-gnupg.h"
#include "mbd-repository.h"
#include "mbd-util-private.h"

/**
 * MbdDebmirror:
 *
 * A run of debmirror(1) against the instance's own HTTP repository delivery (its URL, as
 * mbd-server serves it) that makes a partial mirror of each repository: mini-buildd's
 * `debmirror` call, which archives the distributions of old codenames. The Release signatures
 * are verified with the instance key (`debmirror --keyring`).
 *
 * Set the filters (repositories, codenames, suites, rollbacks, architectures, components) and
 * the destination, then [method@Mbd.Debmirror.run_async]: the repositories are mirrored one
 * after the other, each by a debmirror GSubprocess with a timeout of %MBD_DEBMIRROR_TIMEOUT.
 * Files already in a destination are kept (`--nocleanup`).
 */
struct _MbdDebmirror
{
  GObject parent_instance;

  MbdInstance *instance; /* (owned) */
  char **repositories;   /* (owned) (nullable): NULL = all */
  char **codenames;      /* (owned) (nullable): NULL = all */
  char **suites;         /* (owned) (nullable): NULL = all */
  int rollbacks;
  char **architectures; /* (owned) */
  char **components;    /* (owned) (nullable): NULL = all */
  char *destination;    /* (owned) (nullable): NULL = <home>/debmirror/{} */
};

G_DEFINE_FINAL_TYPE (MbdDebmirror, mbd_debmirror, G_TYPE_OBJECT)

/* Lines of debmirror's output kept for the summary. */
#define SUMMARY_LINES 12

static void
mbd_debmirror_finalize (GObject *object)
{
  MbdDebmirror *self = MBD_DEBMIRROR (object);

  g_clear_object (&self->instance);
  g_strfreev (self->repositories);
  g_strfreev (self->codenames);
  g_strfreev (self->suites);
  g_strfreev (self->architectures);
  g_strfreev (self->components);
  g_free (self->destination);
  G_OBJECT_CLASS (mbd_debmirror_parent_class)->finalize (object);
}

static void
mbd_debmirror_class_init (MbdDebmirrorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_debmirror_finalize;
}

static void
mbd_debmirror_init (MbdDebmirror *self)
{
}

/**
 * mbd_debmirror_new:
 * @instance: an open instance
 *
 * Prepares a debmirror run of every repository, codename, suite and component, without
 * rollbacks, for the architectures of %MBD_DEBMIRROR_DEFAULT_ARCHITECTURES, to
 * `<home>/debmirror/<repository>`.
 *
 * Returns: (transfer full): the new run
 */
MbdDebmirror *
mbd_debmirror_new (MbdInstance *instance)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  MbdDebmirror *self = g_object_new (MBD_TYPE_DEBMIRROR, NULL);
  self->instance = g_object_ref (instance);
  self->architectures = g_strsplit (MBD_DEBMIRROR_DEFAULT_ARCHITECTURES, ",", -1);
  return self;
}

static void
set_list (char ***field, const char *const *values)
{
  g_strfreev (*field);
  *field = values != NULL ? g_strdupv ((char **) values) : NULL;
}

/**
 * mbd_debmirror_set_repositories:
 * @self: a run
 * @repositories: (nullable) (array zero-terminated=1): repository identities, or %NULL for all
 *
 * Mirrors only these repositories; an unknown one fails the run.
 */
void
mbd_debmirror_set_repositories (MbdDebmirror *self, const char *const *repositories)
{
  g_return_if_fail (MBD_IS_DEBMIRROR (self));
  set_list (&self->repositories, repositories);
}

/**
 * mbd_debmirror_set_codenames:
 * @self: a run
 * @codenames: (nullable) (array zero-terminated=1): codenames, or %NULL for all
 *
 * Mirrors only the distributions of these codenames.
 */
void
mbd_debmirror_set_codenames (MbdDebmirror *self, const char *const *codenames)
{
  g_return_if_fail (MBD_IS_DEBMIRROR (self));
  set_list (&self->codenames, codenames);
}

/**
 * mbd_debmirror_set_suites:
 * @self: a run
 * @suites: (nullable) (array zero-terminated=1): suite names of the layout, or %NULL for all
 *
 * Mirrors only these suites.
 */
void
mbd_debmirror_set_suites (MbdDebmirror *self, const char *const *suites)
{
  g_return_if_fail (MBD_IS_DEBMIRROR (self));
  set_list (&self->suites, suites);
}

/**
 * mbd_debmirror_set_rollbacks:
 * @self: a run
 * @rollbacks: how many rollback distributions of each suite to mirror too (0: none, below 0:
 *   all the suite has)
 *
 * Mirrors the first @rollbacks rollback distributions of each suite too.
 */
void
mbd_debmirror_set_rollbacks (MbdDebmirror *self, int rollbacks)
{
  g_return_if_fail (MBD_IS_DEBMIRROR (self));
  self->rollbacks = rollbacks;
}

/**
 * mbd_debmirror_set_architectures:
 * @self: a run
 * @architectures: (nullable) (array zero-terminated=1): architectures, or %NULL for
 *   %MBD_DEBMIRROR_DEFAULT_ARCHITECTURES
 *
 * Mirrors these architectures, as far as a distribution has them.
 */
void
mbd_debmirror_set_architectures (MbdDebmirror *self, const char *const *architectures)
{
  g_return_if_fail (MBD_IS_DEBMIRROR (self));
  if (architectures == NULL)
    {
      g_strfreev (self->architectures);
      self->architectures = g_strsplit (MBD_DEBMIRROR_DEFAULT_ARCHITECTURES, ",", -1);
      return;
    }
  set_list (&self->architectures, architectures);
}

/**
 * mbd_debmirror_set_components:
 * @self: a run
 * @components: (nullable) (array zero-terminated=1): components, or %NULL for all
 *
 * Mirrors these components, as far as a distribution has them.
 */
void
mbd_debmirror_set_components (MbdDebmirror *self, const char *const *components)
{
  g_return_if_fail (MBD_IS_DEBMIRROR (self));
  set_list (&self->components, components);
}

/**
 * mbd_debmirror_set_destination:
 * @self: a run
 * @destination: (nullable) (type filename): the directory, where `{}` stands for the
 *   repository; %NULL for `<home>/debmirror/{}`
 *
 * Sets where the mirrors go. The path must be absolute, without `.`, `..` or empty components,
 * not `/` and not inside the instance home outside `<home>/debmirror`; several repositories
 * need `{}` in it. The run checks this.
 */
void
mbd_debmirror_set_destination (MbdDebmirror *self, const char *destination)
{
  g_return_if_fail (MBD_IS_DEBMIRROR (self));
  g_free (self->destination);
  self->destination = g_strdup (destination);
}

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
                   "destination '%s' is not an absolute path", pattern);
      return NULL;
    }
  g_auto (GStrv) components = g_strsplit (path + 1, "/", -1);
  guint n = g_strv_length (components);
  for (guint i = 0; i < n; i++)
    if (strcmp (components[i], ".") == 0 || strcmp (components[i], "..") == 0
        || (components[i][0] == '\0' && i + 1 < n))
      {
        g_set_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT,
                     "destination '%s' has a '.', '..' or empty path component", pattern);
        return NULL;
      }
  gsize len = strlen (path);
  while (len > 1 && path[len - 1] == '/')
    path[--len] = '\0';
  if (strcmp (path, "/") == 0)
    {
      g_set_error_literal (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT,
                           "the destination must not be the root directory");
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
                   "destination %s is inside the instance home; use a directory "
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
  g_autoptr (GPtrArray) distributions = mbd_repository_get_distributions (repo);

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
      g_auto (GStrv) a
              = pick (mbd_distribution_get_architectures (distribution), req->architectures, NULL);
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

typedef struct
{
  GPtrArray *jobs;      /* (owned) (element-type Job) */
  guint next;           /* the job that runs */
  char *tmpdir;         /* (owned) (nullable): the keyring */
  JsonBuilder *result;  /* (owned) */
  GSubprocess *process; /* (owned) (nullable) */
  GSource *timeout;     /* (owned) (nullable) */
  gboolean timed_out;
} Run;

static void
clear_timeout (Run *run)
{
  if (run->timeout != NULL)
    g_source_destroy (run->timeout);
  g_clear_pointer (&run->timeout, g_source_unref);
}

static void
run_free (Run *run)
{
  g_ptr_array_unref (run->jobs);
  if (run->tmpdir != NULL)
    {
      g_autofree char *keyring = g_build_filename (run->tmpdir, "keyring.gpg", NULL);
      g_remove (keyring);
      g_rmdir (run->tmpdir);
      g_free (run->tmpdir);
    }
  g_clear_object (&run->result);
  g_clear_object (&run->process);
  clear_timeout (run);
  g_free (run);
}

static void run_next (GTask *task);

static void
return_error (GTask *task, GError *error)
{
  g_task_return_error (task, error);
  g_object_unref (task);
}

static gboolean
on_timeout (gpointer user_data)
{
  Run *run = user_data;
  run->timed_out = TRUE;
  g_subprocess_force_exit (run->process);
  return G_SOURCE_REMOVE;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  Job *job = g_ptr_array_index (run->jobs, run->next);
  g_autoptr (GError) error = NULL;
  g_autofree char *output = NULL;

  clear_timeout (run);
  gboolean ran
      = g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &output, NULL, &error);
  if (!ran)
    {
      return_error (task, g_steal_pointer (&error));
      return;
    }
  g_auto (GStrv) lines = g_strsplit (output != NULL ? g_strchomp (output) : "", "\n", -1);
  guint n = g_strv_length (lines);
  g_autoptr (GString) tail = g_string_new (NULL);
  for (guint i = n > SUMMARY_LINES ? n - SUMMARY_LINES : 0; i < n; i++)
    g_string_append_printf (tail, "%s%s", tail->len > 0 ? "\n" : "", lines[i]);
  if (run->timed_out || !g_subprocess_get_if_exited (run->process)
      || g_subprocess_get_exit_status (run->process) != 0)
    {
      return_error (task,
                    g_error_new (MBD_ERROR, MBD_ERROR_FAILED,
                                 "debmirror of repository '%s' to %s %s: %s", job->repository,
                                 job->destination,
                                 run->timed_out ? "took too long (killed)" : "failed", tail->str));
      return;
    }
  json_builder_set_member_name (run->result, job->repository);
  json_builder_begin_object (run->result);
  json_builder_set_member_name (run->result, "destination");
  json_builder_add_string_value (run->result, job->destination);
  mbd_json_add_strv (run->result, "distributions", (const char *const *) job->distributions);
  mbd_json_add_strv (run->result, "architectures", (const char *const *) job->architectures);
  mbd_json_add_strv (run->result, "components", (const char *const *) job->components);
  json_builder_set_member_name (run->result, "summary");
  json_builder_add_string_value (run->result, tail->str);
  json_builder_end_object (run->result);
  g_clear_object (&run->process);
  run->next++;
  run_next (task);
}

static void
run_next (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  if (run->next == run->jobs->len)
    {
      json_builder_end_object (run->result);
      g_autoptr (JsonNode) root = json_builder_get_root (run->result);
      g_task_return_pointer (task, json_to_string (root, FALSE), g_free);
      g_object_unref (task);
      return;
    }
  Job *job = g_ptr_array_index (run->jobs, run->next);
  if (g_mkdir_with_parents (job->destination, 0755) != 0)
    {
      int saved = errno;
      return_error (task, g_error_new (G_IO_ERROR, g_io_error_from_errno (saved),
                                       "cannot create destination %s: %s", job->destination,
                                       g_strerror (saved)));
      return;
    }
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  /* our own server: no proxy; debmirror's gpgv needs a writable HOME */
  const char *const proxies[] = { "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY" };
  for (guint i = 0; i < G_N_ELEMENTS (proxies); i++)
    g_subprocess_launcher_unsetenv (launcher, proxies[i]);
  g_subprocess_launcher_setenv (launcher, "HOME", run->tmpdir, TRUE);
  GError *error = NULL;
  run->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) job->argv, &error);
  if (run->process == NULL)
    {
      return_error (task, error);
      return;
    }
  run->timed_out = FALSE;
  run->timeout = g_timeout_source_new_seconds (MBD_DEBMIRROR_TIMEOUT);
  g_source_set_callback (run->timeout, on_timeout, run, NULL);
  g_source_attach (run->timeout, g_task_get_context (task));
  g_subprocess_communicate_utf8_async (run->process, NULL, g_task_get_cancellable (task), on_done,
                                       task);
}

static gboolean
check_repositories (MbdDebmirror *self, GPtrArray *repos, GError **error)
{
  for (guint i = 0; self->repositories != NULL && self->repositories[i] != NULL; i++)
    {
      gboolean found = FALSE;
      for (guint r = 0; r < repos->len && !found; r++)
        found = strcmp (mbd_repository_get_identity (g_ptr_array_index (repos, r)),
                        self->repositories[i])
                == 0;
      if (!found)
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "repository '%s' does not exist",
                          self->repositories[i]);
    }
  return TRUE;
}

/* Writes the instance key as a binary keyring for gpgv into @run's temporary directory. */
static char *
write_keyring (MbdDebmirror *self, Run *run, GError **error)
{
  run->tmpdir = g_dir_make_tmp ("mbd-debmirror-XXXXXX", error);
  if (run->tmpdir == NULL)
    return NULL;
  g_autofree char *keyring = g_build_filename (run->tmpdir, "keyring.gpg", NULL);
  g_autofree char *armored
      = mbd_gnupg_export_public_key (mbd_instance_get_gnupg (self->instance),
                                     mbd_instance_get_fingerprint (self->instance), NULL, error);
  if (armored == NULL)
    return NULL;
  g_autoptr (GBytes) binary = dearmor (armored, error);
  if (binary == NULL
      || !g_file_set_contents (keyring, g_bytes_get_data (binary, NULL), g_bytes_get_size (binary),
                               error))
    return NULL;
  return g_steal_pointer (&keyring);
}

/* The jobs of @self into @run; FALSE with @error. */
static gboolean
plan (MbdDebmirror *self, Run *run, GError **error)
{
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (self->instance, error);
  if (repos == NULL || !check_repositories (self, repos, error))
    return FALSE;
  g_autofree char *url = mbd_instance_dup_url (self->instance);
  g_autoptr (GUri) own = g_uri_parse (url, G_URI_FLAGS_NONE, error);
  if (own == NULL)
    return mbd_prefix_error (error, "the instance URL %s: ", url);
  g_autofree char *keyring = write_keyring (self, run, error);
  if (keyring == NULL)
    return FALSE;

  g_autofree char *default_destination
      = g_build_filename (mbd_instance_get_home (self->instance), "debmirror", "{}", NULL);
  Request req = { self->suites,
                  self->rollbacks,
                  self->codenames,
                  self->architectures,
                  self->components,
                  self->destination != NULL ? self->destination : default_destination,
                  own,
                  keyring };
  for (guint r = 0; r < repos->len; r++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, r);
      if (!wanted (self->repositories, mbd_repository_get_identity (repo)))
        continue;
      g_autoptr (GError) local = NULL;
      Job *job = make_job (self->instance, repo, &req, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (job == NULL)
        continue;
      for (guint k = 0; k < run->jobs->len; k++)
        if (strcmp (((Job *) g_ptr_array_index (run->jobs, k))->destination, job->destination) == 0)
          {
            job_free (job);
            return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                              "the destination names one directory for several repositories: "
                              "put {} (the repository) into it");
          }
      g_ptr_array_add (run->jobs, job);
    }
  if (run->jobs->len == 0)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "no repository distribution matches the repositories, codenames, suites, "
                      "architectures and components asked for");
  return TRUE;
}

/**
 * mbd_debmirror_run_async:
 * @self: a run
 * @cancellable: (nullable): a cancellable
 * @callback: called on the caller's main context when done
 * @user_data: data for @callback
 *
 * Checks the filters and the destination and runs debmirror for each repository that has a
 * matching distribution, one after the other. debmirror must be installed.
 */
void
mbd_debmirror_run_async (MbdDebmirror *self,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_return_if_fail (MBD_IS_DEBMIRROR (self));

  GTask *task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_debmirror_run_async);
  Run *run = g_new0 (Run, 1);
  run->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) job_free);
  run->result = json_builder_new ();
  g_task_set_task_data (task, run, (GDestroyNotify) run_free);
  GError *error = NULL;
  if (!plan (self, run, &error))
    {
      return_error (task, error);
      return;
    }
  json_builder_begin_object (run->result);
  /* the task holds itself until it returns */
  run_next (task);
}

/**
 * mbd_debmirror_run_finish:
 * @self: a run
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Mbd.Debmirror.run_async].
 *
 * Returns: (transfer full): a JSON object `{REPOSITORY: {destination, distributions,
 *   architectures, components, summary}}` (summary: the last lines of debmirror's output), or
 *   %NULL with %MBD_ERROR_INVALID_ARGUMENT (an unknown repository, a destination refused, no
 *   matching distribution), %MBD_ERROR_FAILED (debmirror failed or took too long; the message
 *   has the end of its output) or a %G_IO_ERROR
 */
char *
mbd_debmirror_run_finish (MbdDebmirror *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_debmirror_run_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
