/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mbd-instance-private.h"
#include "mbd-repository-private.h"
#include "mbd-util-private.h"

/**
 * MbdRepository:
 *
 * A signed APT repository of an instance, as mini-buildd's Repository model: an identity
 * (`^[a-z0-9]+$`), a [class@Mbd.Layout] giving its suites, and [class@Mbd.Distribution]s. Each
 * distribution × suite is an APT distribution named `<codename>-<identity>-<suite>` (see
 * [func@Mbd.Distribution.string_format]), plus `…-rollback<N>` distributions holding older
 * versions when the suite keeps rollbacks.
 *
 * The repository tree lives in `<home>/repositories/<identity>/` with `dists/` (the published,
 * signed indices) and `pool/` (the package files, `pool/<component>/<prefix>/<source>/`). Its
 * contents are kept in the instance database; every change (include, migrate, remove, snapshot)
 * is one transaction, after which the changed distributions are published. Distributions left
 * unpublished by a crash are published by the next change or [method@Mbd.Repository.publish].
 *
 * Create one with [ctor@Mbd.Repository.new], add distributions, then store it with
 * [method@Mbd.Instance.add_repository]; later look it up with
 * [method@Mbd.Instance.lookup_repository].
 */
G_DEFINE_FINAL_TYPE (MbdRepository, mbd_repository, G_TYPE_OBJECT)

static void
mbd_repository_finalize (GObject *object)
{
  MbdRepository *self = MBD_REPOSITORY (object);

  g_free (self->identity);
  g_clear_object (&self->layout);
  g_ptr_array_unref (self->distributions);
  g_clear_object (&self->instance);
  G_OBJECT_CLASS (mbd_repository_parent_class)->finalize (object);
}

static void
mbd_repository_class_init (MbdRepositoryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_repository_finalize;
}

static void
mbd_repository_init (MbdRepository *self)
{
  self->distributions = g_ptr_array_new_with_free_func (g_object_unref);
}

static gboolean
identity_is_valid (const char *identity)
{
  if (identity == NULL || identity[0] == '\0' || strlen (identity) > 32)
    return FALSE;
  for (const char *p = identity; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

/**
 * mbd_repository_new:
 * @identity: the repository identity, 1 to 32 lower-case letters and digits
 * @layout: its layout
 *
 * Creates a repository object that is not stored yet; add distributions with
 * [method@Mbd.Repository.add_distribution], then store it with
 * [method@Mbd.Instance.add_repository].
 *
 * Returns: (transfer full): the repository, or %NULL with %MBD_ERROR_INVALID_ARGUMENT for a
 *   malformed identity
 */
MbdRepository *
mbd_repository_new (const char *identity, MbdLayout *layout, GError **error)
{
  g_return_val_if_fail (MBD_IS_LAYOUT (layout), NULL);

  if (!identity_is_valid (identity))
    {
      g_autofree char *q
          = mbd_utf8_excerpt (identity ? identity : "", identity ? strlen (identity) : 0, 40);
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "repository identity '%s' is invalid: use 1 to 32 lower-case letters and digits",
                 q);
      return NULL;
    }
  MbdRepository *self = g_object_new (MBD_TYPE_REPOSITORY, NULL);
  self->identity = g_strdup (identity);
  self->layout = g_object_ref (layout);
  return self;
}

/**
 * mbd_repository_get_identity:
 * @self: a repository
 *
 * Gives the repository identity, such as `test`.
 *
 * Returns: the identity
 */
const char *
mbd_repository_get_identity (MbdRepository *self)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), NULL);
  return self->identity;
}

/**
 * mbd_repository_get_layout:
 * @self: a repository
 *
 * Gives the repository's layout.
 *
 * Returns: (transfer none): the layout
 */
MbdLayout *
mbd_repository_get_layout (MbdRepository *self)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), NULL);
  return self->layout;
}

/**
 * mbd_repository_get_allow_unauthenticated_uploads:
 * @self: a repository
 *
 * Tells whether unsigned uploads are accepted into this repository.
 *
 * Returns: the flag
 */
gboolean
mbd_repository_get_allow_unauthenticated_uploads (MbdRepository *self)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), FALSE);
  return self->allow_unauthenticated_uploads;
}

/**
 * mbd_repository_set_allow_unauthenticated_uploads:
 * @self: a repository that is not stored yet
 * @allow: whether unsigned uploads are accepted
 *
 * Sets whether unsigned uploads are accepted (as mini-buildd's `test` repository does).
 */
void
mbd_repository_set_allow_unauthenticated_uploads (MbdRepository *self, gboolean allow)
{
  g_return_if_fail (MBD_IS_REPOSITORY (self));
  self->allow_unauthenticated_uploads = allow;
}

/**
 * mbd_repository_add_distribution:
 * @self: a repository that is not stored yet
 * @distribution: a distribution
 *
 * Adds a distribution.
 *
 * Returns: %TRUE if added, %FALSE with %MBD_ERROR_EXISTS if the repository has a distribution of
 *   that codename already
 */
gboolean
mbd_repository_add_distribution (MbdRepository *self, MbdDistribution *distribution, GError **error)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), FALSE);
  g_return_val_if_fail (MBD_IS_DISTRIBUTION (distribution), FALSE);
  g_return_val_if_fail (self->id == 0, FALSE);

  const char *codename = mbd_distribution_get_codename (distribution);
  if (mbd_repository_lookup_distribution (self, codename) != NULL)
    return mbd_throw (error, MBD_ERROR_EXISTS, "repository %s: distribution %s is given twice",
                      self->identity, codename);
  g_ptr_array_add (self->distributions, g_object_ref (distribution));
  return TRUE;
}

/**
 * mbd_repository_get_distributions:
 * @self: a repository
 *
 * Gives the repository's distributions.
 *
 * Returns: (transfer container) (element-type Mbd.Distribution): the distributions
 */
GPtrArray *
mbd_repository_get_distributions (MbdRepository *self)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), NULL);

  GPtrArray *copy = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->distributions->len; i++)
    g_ptr_array_add (copy, g_object_ref (g_ptr_array_index (self->distributions, i)));
  return copy;
}

/**
 * mbd_repository_lookup_distribution:
 * @self: a repository
 * @codename: a codename such as `bookworm`
 *
 * Finds the repository's distribution of a codename.
 *
 * Returns: (transfer none) (nullable): the distribution, or %NULL
 */
MbdDistribution *
mbd_repository_lookup_distribution (MbdRepository *self, const char *codename)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), NULL);

  for (guint i = 0; codename != NULL && i < self->distributions->len; i++)
    {
      MbdDistribution *dist = g_ptr_array_index (self->distributions, i);
      if (strcmp (mbd_distribution_get_codename (dist), codename) == 0)
        return dist;
    }
  return NULL;
}

/**
 * mbd_repository_list_distribution_strings:
 * @self: a repository
 * @with_rollbacks: whether to list the rollback distributions too
 *
 * Lists the APT distributions of the repository: each distribution × suite in layout order,
 * each followed by its rollback distributions if @with_rollbacks.
 *
 * Returns: (transfer full) (array zero-terminated=1): the distribution strings
 */
char **
mbd_repository_list_distribution_strings (MbdRepository *self, gboolean with_rollbacks)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), NULL);

  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GPtrArray) suites = mbd_layout_get_suites (self->layout);
  for (guint d = 0; d < self->distributions->len; d++)
    {
      const char *codename
          = mbd_distribution_get_codename (g_ptr_array_index (self->distributions, d));
      for (guint s = 0; s < suites->len; s++)
        {
          MbdSuite *suite = g_ptr_array_index (suites, s);
          const char *name = mbd_suite_get_name (suite);
          mbd_strv_builder_take (
              builder, mbd_distribution_string_format (codename, self->identity, name, -1));
          for (guint r = 0; with_rollbacks && r < mbd_suite_get_rollbacks (suite); r++)
            mbd_strv_builder_take (
                builder, mbd_distribution_string_format (codename, self->identity, name, (int) r));
        }
    }
  return g_strv_builder_end (builder);
}

/**
 * mbd_repository_dup_path:
 * @self: a repository
 *
 * Gives the directory of the repository tree, `<home>/repositories/<identity>`.
 *
 * Returns: (transfer full) (nullable): the path, or %NULL if the repository is not stored
 */
char *
mbd_repository_dup_path (MbdRepository *self)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), NULL);
  if (self->instance == NULL)
    return NULL;
  return g_build_filename (mbd_instance_get_home (self->instance), "repositories", self->identity,
                           NULL);
}

void
mbd_strv_builder_take (GStrvBuilder *builder, char *str)
{
  g_strv_builder_add (builder, str);
  g_free (str);
}

/* The value of KEY=value in os-release text, unquoted. */
static char *
os_release_value (const char *text, const char *key)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gsize key_len = strlen (key);

  for (guint i = 0; lines[i] != NULL; i++)
    if (strncmp (lines[i], key, key_len) == 0 && lines[i][key_len] == '=')
      {
        g_autofree char *value = g_strstrip (g_strdup (lines[i] + key_len + 1));
        gsize len = strlen (value);
        if (len >= 2 && (value[0] == '"' || value[0] == '\'') && value[len - 1] == value[0])
          return g_strndup (value + 1, len - 2);
        return g_steal_pointer (&value);
      }
  return NULL;
}

/**
 * mbd_get_native_architecture:
 * @error: return location for a #GError
 *
 * Gets the architecture of the machine mbd runs on, as `dpkg --print-architecture` prints it
 * (`amd64`, `arm64`...): the default architecture of chroots, builds and distributions.
 *
 * Returns: (transfer full): the architecture, or %NULL with @error set
 */
char *
mbd_get_native_architecture (GError **error)
{
  g_autofree char *out = NULL;
  int status = 0;
  const char *argv[] = { "dpkg", "--print-architecture", NULL };

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, &status, error))
    return NULL;
  if (!g_spawn_check_wait_status (status, error))
    return mbd_prefix_error (error, "dpkg --print-architecture: "), NULL;
  g_strstrip (out);
  if (out[0] == '\0')
    return mbd_throw (error, MBD_ERROR_FAILED, "dpkg --print-architecture printed nothing"), NULL;
  return g_steal_pointer (&out);
}

/**
 * mbd_distribution_new_for_host:
 *
 * Creates the distribution of the machine mbd runs on: the codename from `/etc/os-release`
 * (`VERSION_CODENAME`, `sid` for a Debian without one) and the native architecture from
 * `dpkg --print-architecture`.
 *
 * Returns: (transfer full): the distribution, or %NULL with @error set
 */
MbdDistribution *
mbd_distribution_new_for_host (GError **error)
{
  g_autofree char *text = NULL;
  const char *path = g_getenv ("MBD_OS_RELEASE");

  if (path == NULL)
    path = "/etc/os-release";
  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  g_autofree char *codename = os_release_value (text, "VERSION_CODENAME");
  if (codename == NULL || codename[0] == '\0')
    {
      g_free (codename);
      codename = g_strdup ("sid");
    }

  g_autofree char *arch = mbd_get_native_architecture (error);
  if (arch == NULL)
    return NULL;
  const char *arches[] = { arch, NULL };
  return mbd_distribution_new (codename, arches, error);
}

static MbdDb *
open_db (MbdInstance *instance, GError **error)
{
  MbdDb *db = mbd_instance_get_db (instance);
  if (db == NULL)
    mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s: the instance is not open",
               mbd_instance_get_home (instance));
  return db;
}

/* Inserts the repository and its distributions; returns the new row id, 0 on failure. */
static gint64
store_repository (MbdDb *db, MbdRepository *repository, GError **error)
{
  g_autoptr (sqlite3_stmt) insert = mbd_db_prepare (
      db,
      "INSERT INTO repositories (identity, layout, allow_unauthenticated_uploads) "
      "VALUES (?1, ?2, ?3)",
      error);
  if (insert == NULL)
    return 0;
  sqlite3_bind_text (insert, 1, repository->identity, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 2, mbd_layout_get_name (repository->layout), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (insert, 3, repository->allow_unauthenticated_uploads);
  int rc = sqlite3_step (insert);
  if ((rc & 0xff) == SQLITE_CONSTRAINT)
    return mbd_throw (error, MBD_ERROR_EXISTS, "repository %s exists already",
                      repository->identity);
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot store the repository", error);
  gint64 id = sqlite3_last_insert_rowid (mbd_db_get_handle (db));
  g_autoptr (sqlite3_stmt) dist_stmt = mbd_db_prepare (
      db,
      "INSERT INTO repository_distributions (repository_id, position, codename, "
      "codeversion, components, spec) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      error);
  if (dist_stmt == NULL)
    return 0;
  for (guint i = 0; i < repository->distributions->len; i++)
    {
      MbdDistribution *dist = g_ptr_array_index (repository->distributions, i);
      g_autofree char *components
          = g_strjoinv (" ", (char **) mbd_distribution_get_components (dist));
      g_autofree char *spec = mbd_distribution_to_spec (dist);
      sqlite3_reset (dist_stmt);
      sqlite3_bind_int64 (dist_stmt, 1, id);
      sqlite3_bind_int (dist_stmt, 2, (int) i);
      sqlite3_bind_text (dist_stmt, 3, mbd_distribution_get_codename (dist), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (dist_stmt, 4, mbd_distribution_get_codeversion (dist), -1,
                         SQLITE_TRANSIENT);
      sqlite3_bind_text (dist_stmt, 5, components, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (dist_stmt, 6, spec, -1, SQLITE_TRANSIENT);
      if (!mbd_db_step_done (db, dist_stmt, error))
        return 0;
    }
  return id;
}

/**
 * mbd_instance_add_repository:
 * @instance: an open instance
 * @repository: a repository not stored yet, with at least one distribution
 * @cancellable: (nullable): a cancellable
 *
 * Stores a repository in the instance and publishes all its (empty) distributions, rollback
 * distributions included, signed with the instance key, so that APT can use them at once.
 *
 * Returns: %TRUE on success; %FALSE with %MBD_ERROR_EXISTS if the instance has a repository of
 *   that identity, %MBD_ERROR_INVALID_ARGUMENT if it has no distribution
 */
gboolean
mbd_instance_add_repository (MbdInstance *instance,
                             MbdRepository *repository,
                             GCancellable *cancellable,
                             GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), FALSE);
  g_return_val_if_fail (MBD_IS_REPOSITORY (repository), FALSE);
  g_return_val_if_fail (repository->id == 0, FALSE);

  MbdDb *db = open_db (instance, error);
  if (db == NULL)
    return FALSE;
  if (repository->distributions->len == 0)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "repository %s has no distribution",
                      repository->identity);
  if (!mbd_db_begin (db, error))
    return FALSE;
  gint64 id = store_repository (db, repository, error);
  if (id == 0 || !mbd_db_commit (db, error))
    {
      mbd_db_rollback (db);
      return FALSE;
    }
  repository->id = id;
  repository->instance = g_object_ref (instance);
  return mbd_repository_publish (repository, TRUE, cancellable, error);
}

static gboolean
add_repository_unpublished (MbdInstance *instance, MbdRepository *repository, GError **error)
{
  MbdDb *db = open_db (instance, error);
  if (db == NULL || !mbd_db_begin (db, error))
    return FALSE;
  gint64 id = store_repository (db, repository, error);
  if (id == 0 || !mbd_db_commit (db, error))
    {
      mbd_db_rollback (db);
      return FALSE;
    }
  repository->id = id;
  repository->instance = g_object_ref (instance);
  return TRUE;
}

static gboolean
mark_published (MbdRepository *self, GError **error)
{
  MbdDb *db = mbd_instance_get_db (self->instance);
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "UPDATE repositories SET published = 1 WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, self->id);
  if (!mbd_db_step_done (db, stmt, error))
    return FALSE;
  self->published = TRUE;
  return TRUE;
}

gboolean
mbd_instance_publish_dirty_suites (MbdInstance *instance, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (instance, error);
  if (repos == NULL)
    return FALSE;
  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, i);
      /* a repository never published as a whole (the default one of a new instance) is
       * published entirely, so that what the server delivers is an apt source at once */
      if (!mbd_repository_publish (repo, !repo->published, cancellable, error))
        return FALSE;
    }
  return TRUE;
}

static MbdRepository *
load_repository (MbdInstance *instance, MbdDb *db, sqlite3_stmt *row, GError **error)
{
  gint64 id = sqlite3_column_int64 (row, 0);
  const char *identity = (const char *) sqlite3_column_text (row, 1);
  const char *layout_name = (const char *) sqlite3_column_text (row, 2);

  g_autoptr (MbdLayout) layout = mbd_layout_new_builtin (layout_name, error);
  if (layout == NULL)
    return mbd_prefix_error (error, "repository %s: ", identity), NULL;
  g_autoptr (MbdRepository) repo = mbd_repository_new (identity, layout, error);
  if (repo == NULL)
    return NULL;
  repo->allow_unauthenticated_uploads = sqlite3_column_int (row, 3) != 0;
  repo->published = sqlite3_column_int (row, 4) != 0;

  g_autoptr (sqlite3_stmt) dists
             = mbd_db_prepare (db,
                               "SELECT codeversion, components, spec FROM repository_distributions "
                               "WHERE repository_id = ?1 ORDER BY position",
                               error);
  if (dists == NULL)
    return NULL;
  sqlite3_bind_int64 (dists, 1, id);
  int rc;
  while ((rc = sqlite3_step (dists)) == SQLITE_ROW)
    {
      g_autoptr (MbdDistribution) dist = mbd_distribution_new_from_spec (
          (const char *) sqlite3_column_text (dists, 2), error);
      if (dist == NULL)
        return NULL;
      mbd_distribution_set_codeversion (dist, (const char *) sqlite3_column_text (dists, 0));
      g_auto (GStrv) components
              = g_strsplit ((const char *) sqlite3_column_text (dists, 1), " ", -1);
      if (!mbd_distribution_set_components (dist, (const char *const *) components, error))
        return NULL;
      g_ptr_array_add (repo->distributions, g_steal_pointer (&dist));
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read distributions", error), NULL;
  repo->id = id;
  repo->instance = g_object_ref (instance);
  return g_steal_pointer (&repo);
}

#define REPOSITORY_COLUMNS                                                                         \
  "SELECT id, identity, layout, allow_unauthenticated_uploads, published FROM repositories"

/**
 * mbd_instance_lookup_repository:
 * @instance: an open instance
 * @identity: a repository identity
 *
 * Loads a stored repository.
 *
 * Returns: (transfer full): the repository, or %NULL with %MBD_ERROR_NOT_FOUND
 */
MbdRepository *
mbd_instance_lookup_repository (MbdInstance *instance, const char *identity, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (identity != NULL, NULL);

  MbdDb *db = open_db (instance, error);
  if (db == NULL)
    return NULL;
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, REPOSITORY_COLUMNS " WHERE identity = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, identity, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return load_repository (instance, db, stmt, error);
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read repositories", error), NULL;
  g_autofree char *q = mbd_utf8_excerpt (identity, strlen (identity), 40);
  mbd_throw (error, MBD_ERROR_NOT_FOUND, "repository '%s' does not exist (see 'mbd repo ls')", q);
  return NULL;
}

/**
 * mbd_instance_list_repositories:
 * @instance: an open instance
 *
 * Loads all stored repositories, ordered by identity.
 *
 * Returns: (transfer container) (element-type Mbd.Repository): the repositories, or %NULL with
 *   @error set
 */
GPtrArray *
mbd_instance_list_repositories (MbdInstance *instance, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  MbdDb *db = open_db (instance, error);
  if (db == NULL)
    return NULL;
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, REPOSITORY_COLUMNS " ORDER BY identity", error);
  if (stmt == NULL)
    return NULL;
  g_autoptr (GPtrArray) repos = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      MbdRepository *repo = load_repository (instance, db, stmt, error);
      if (repo == NULL)
        return NULL;
      g_ptr_array_add (repos, repo);
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read repositories", error), NULL;
  return g_steal_pointer (&repos);
}

/**
 * mbd_instance_lookup_repository_for_distribution:
 * @instance: an open instance
 * @distribution: a distribution string such as `bookworm-test-unstable`
 *
 * Loads the repository a distribution string names.
 *
 * Returns: (transfer full): the repository, or %NULL with %MBD_ERROR_INVALID_ARGUMENT for a
 *   malformed string or %MBD_ERROR_NOT_FOUND
 */
MbdRepository *
mbd_instance_lookup_repository_for_distribution (MbdInstance *instance,
                                                 const char *distribution,
                                                 GError **error)
{
  g_autofree char *identity = NULL;

  if (!mbd_distribution_string_parse (distribution, NULL, &identity, NULL, NULL, error))
    return NULL;
  MbdRepository *repo = mbd_instance_lookup_repository (instance, identity, error);
  if (repo == NULL)
    mbd_prefix_error (error, "distribution '%s': ", distribution);
  return repo;
}

/**
 * mbd_instance_resolve_distribution:
 * @instance: an open instance
 * @name: a distribution string, or a meta distribution name such as `unstable`
 *
 * Maps a meta distribution (see [method@Mbd.Layout.add_meta_distribution]) to the distribution
 * string it stands for in the one repository whose layout defines it and that has its codename,
 * as mini-buildd does for uploads; a distribution string is given back as it is.
 *
 * Returns: (transfer full): the distribution string, or %NULL with %MBD_ERROR_NOT_FOUND (no
 *   repository maps @name) or %MBD_ERROR_INVALID_ARGUMENT (several do)
 */
char *
mbd_instance_resolve_distribution (MbdInstance *instance, const char *name, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (mbd_distribution_string_parse (name, NULL, NULL, NULL, NULL, NULL))
    return g_strdup (name);
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (instance, error);
  if (repos == NULL)
    return NULL;
  g_autofree char *found = NULL;
  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, i);
      const char *target = mbd_layout_lookup_meta_distribution (repo->layout, name);
      const char *dash = target != NULL ? strchr (target, '-') : NULL;
      if (dash == NULL)
        continue;
      g_autofree char *codename = g_strndup (target, dash - target);
      if (mbd_repository_lookup_distribution (repo, codename) == NULL)
        continue;
      g_autofree char *dist
          = mbd_distribution_string_format (codename, repo->identity, dash + 1, -1);
      if (found != NULL)
        {
          mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                     "meta distribution '%s' is ambiguous: %s or %s; give the distribution", name,
                     found, dist);
          return NULL;
        }
      found = g_steal_pointer (&dist);
    }
  if (found == NULL)
    {
      g_autofree char *q = mbd_utf8_excerpt (name, strlen (name), 80);
      mbd_throw (error, MBD_ERROR_NOT_FOUND,
                 "distribution '%s' is neither <codename>-<repository>-<suite> nor a meta "
                 "distribution of a repository",
                 q);
    }
  return g_steal_pointer (&found);
}

MbdDistribution *
mbd_repository_lookup_distribution_string (MbdRepository *self,
                                           const char *distribution,
                                           MbdSuite **out_suite,
                                           int *out_rollback,
                                           GError **error)
{
  g_autofree char *codename = NULL, *identity = NULL, *suite_name = NULL;
  int rollback = -1;

  if (!mbd_distribution_string_parse (distribution, &codename, &identity, &suite_name, &rollback,
                                      error))
    return NULL;
  MbdDistribution *dist = mbd_repository_lookup_distribution (self, codename);
  MbdSuite *suite = mbd_layout_lookup_suite (self->layout, suite_name);
  if (strcmp (identity, self->identity) != 0 || dist == NULL || suite == NULL
      || (rollback >= 0 && (guint) rollback >= mbd_suite_get_rollbacks (suite)))
    {
      mbd_throw (error, MBD_ERROR_NOT_FOUND,
                 "distribution %s does not exist in repository %s (see 'mbd sources-list "
                 "--rollbacks' for its distributions)",
                 distribution, self->identity);
      return NULL;
    }
  if (out_suite != NULL)
    *out_suite = suite;
  if (out_rollback != NULL)
    *out_rollback = rollback;
  return dist;
}

static gboolean is_own_suite (MbdRepository *self, const char *suite_path);
static void touch (MbdRepoTxn *txn, const char *suite_path);

/* ---- transactions ---------------------------------------------------------------------- */

static void
staged_file_free (MbdRepoStaged *staged)
{
  g_free (staged->tmp);
  g_free (staged->final);
  g_free (staged);
}

static void
stmt_free (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

gboolean
mbd_repo_txn_begin (MbdRepoTxn *txn, MbdRepository *repo, GError **error)
{
  memset (txn, 0, sizeof *txn);
  g_return_val_if_fail (repo->instance != NULL, FALSE);
  txn->repo = repo;
  txn->db = open_db (repo->instance, error);
  if (txn->db == NULL)
    return FALSE;
  txn->repo_dir = mbd_repository_dup_path (repo);
  txn->touched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  txn->gc = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  txn->staged
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) staged_file_free);
  txn->unlink = g_ptr_array_new_with_free_func (g_free);
  txn->stmts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, stmt_free);
  if (!mbd_db_begin (txn->db, error))
    return FALSE;
  txn->batch = mbd_index_batch_new (txn->db);
  return TRUE;
}

MbdTxnStmt *
mbd_repo_txn_stmt (MbdRepoTxn *txn, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (txn->stmts, sql);

  if (stmt == NULL)
    {
      stmt = mbd_db_prepare (txn->db, sql, error);
      if (stmt != NULL)
        g_hash_table_insert (txn->stmts, (gpointer) sql, stmt);
      return stmt;
    }
  if (sqlite3_stmt_busy (stmt))
    {
      mbd_throw (error, MBD_ERROR_DATABASE, "statement '%.60s' is in use already", sql);
      return NULL;
    }
  return stmt;
}

void
mbd_repo_txn_clear (MbdRepoTxn *txn)
{
  /* statements must be finalized before the rollback can release everything */
  g_clear_pointer (&txn->stmts, g_hash_table_unref);
  if (txn->db != NULL)
    mbd_db_rollback (txn->db);
  if (txn->staged != NULL)
    {
      GHashTableIter iter;
      MbdRepoStaged *staged;
      g_hash_table_iter_init (&iter, txn->staged);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &staged))
        {
          if (staged->placed)
            continue;
          g_unlink (staged->tmp);
        }
    }
  g_clear_pointer (&txn->batch, mbd_index_batch_free);
  g_clear_pointer (&txn->touched, g_hash_table_unref);
  g_clear_pointer (&txn->gc, g_hash_table_unref);
  g_clear_pointer (&txn->staged, g_hash_table_unref);
  g_clear_pointer (&txn->unlink, g_ptr_array_unref);
  g_clear_pointer (&txn->repo_dir, g_free);
  txn->db = NULL;
}

void
mbd_repo_txn_gc_candidate (MbdRepoTxn *txn, gint64 file_id)
{
  g_hash_table_add (txn->gc, g_memdup2 (&file_id, sizeof file_id));
}

/* Deletes the candidate pool files no entry references any more; their paths go to ->unlink. */
static gboolean
collect_garbage (MbdRepoTxn *txn, GError **error)
{
  if (g_hash_table_size (txn->gc) == 0)
    return TRUE;
  g_autoptr (MbdTxnStmt) stmt
             = mbd_repo_txn_stmt (txn,
                                  "DELETE FROM pool_files WHERE id = ?1 AND NOT EXISTS "
                                  "(SELECT 1 FROM entry_files WHERE file_id = ?1) RETURNING path",
                                  error);
  if (stmt == NULL)
    return FALSE;
  GHashTableIter iter;
  gint64 *id;
  g_hash_table_iter_init (&iter, txn->gc);
  while (g_hash_table_iter_next (&iter, (gpointer *) &id, NULL))
    {
      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, *id);
      int rc;
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        g_ptr_array_add (
            txn->unlink,
            g_build_filename (txn->repo_dir, (const char *) sqlite3_column_text (stmt, 0), NULL));
      if (rc != SQLITE_DONE)
        return mbd_db_throw (txn->db, rc, "cannot delete unused pool files", error);
    }
  return TRUE;
}

static gboolean
place_staged (MbdRepoTxn *txn, GError **error)
{
  GHashTableIter iter;
  MbdRepoStaged *staged;

  g_hash_table_iter_init (&iter, txn->staged);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &staged))
    {
      if (g_rename (staged->tmp, staged->final) < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "%s: cannot move into the pool: %s", staged->final, g_strerror (saved));
          return FALSE;
        }
      staged->placed = TRUE;
    }
  return TRUE;
}

/* Undoes place_staged() after a failed COMMIT: the files are not referenced. */
static void
unplace_staged (MbdRepoTxn *txn)
{
  GHashTableIter iter;
  MbdRepoStaged *staged;

  g_hash_table_iter_init (&iter, txn->staged);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &staged))
    if (staged->placed)
      g_unlink (staged->final);
}

static gboolean
publish_touched (MbdRepository *repo,
                 GHashTable *touched,
                 GCancellable *cancellable,
                 GError **error)
{
  g_autofree const char **paths = (const char **) g_hash_table_get_keys_as_array (touched, NULL);
  gboolean ok = TRUE;

  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autoptr (GError) local = NULL;
      if (!mbd_repository_publish_suite (repo, paths[i], cancellable, &local))
        {
          if (ok)
            g_propagate_error (error, g_steal_pointer (&local));
          ok = FALSE;
        }
    }
  if (!ok)
    return mbd_prefix_error (error,
                             "the change is stored, but publishing failed (run 'mbd repo publish "
                             "%s' to retry): ",
                             repo->identity);
  return TRUE;
}

gboolean
mbd_repo_txn_commit (MbdRepoTxn *txn, GCancellable *cancellable, GError **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (!collect_garbage (txn, error) || !mbd_index_batch_apply (txn->batch, error))
    return FALSE;
  if (!place_staged (txn, error))
    {
      unplace_staged (txn);
      return FALSE;
    }
  if (!mbd_db_commit (txn->db, error))
    {
      unplace_staged (txn);
      return FALSE;
    }
  for (guint i = 0; i < txn->unlink->len; i++)
    g_unlink (g_ptr_array_index (txn->unlink, i));
  g_clear_pointer (&txn->batch, mbd_index_batch_free);
  /* a repository never published as a whole, or suites left dirty by a crash, go along */
  if (!txn->repo->published)
    return mbd_repository_publish (txn->repo, TRUE, cancellable, error);
  g_auto (GStrv) dirty = mbd_index_dirty_suites (txn->db, error);
  if (dirty == NULL)
    return FALSE;
  for (guint i = 0; dirty[i] != NULL; i++)
    if (is_own_suite (txn->repo, dirty[i]))
      touch (txn, dirty[i]);
  return publish_touched (txn->repo, txn->touched, cancellable, error);
}

/* ---- entries --------------------------------------------------------------------------- */

gboolean
mbd_repo_entry_lookup (MbdRepoTxn *txn,
                       const char *suite_path,
                       const char *source,
                       gint64 *out_id,
                       char **out_version,
                       GError **error)
{
  *out_id = 0;
  if (out_version != NULL)
    *out_version = NULL;
  g_autoptr (MbdTxnStmt) stmt = mbd_repo_txn_stmt (
      txn,
      "SELECT id, version FROM package_entries WHERE suite_path = ?1 AND "
      "source = ?2",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, suite_path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, source, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *out_id = sqlite3_column_int64 (stmt, 0);
      if (out_version != NULL)
        *out_version = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      return TRUE;
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (txn->db, rc, "cannot read package entries", error);
  return TRUE;
}

static void
touch (MbdRepoTxn *txn, const char *suite_path)
{
  if (!g_hash_table_contains (txn->touched, suite_path))
    g_hash_table_add (txn->touched, g_strdup (suite_path));
}

gboolean
mbd_repo_entry_index (MbdRepoTxn *txn,
                      MbdDistribution *dist,
                      gint64 entry_id,
                      const char *suite_path,
                      gboolean put,
                      GError **error)
{
  g_autoptr (MbdTxnStmt) entry = mbd_repo_txn_stmt (
      txn,
      "SELECT source, version, component, source_stanza FROM package_entries "
      "WHERE id = ?1",
      error);
  if (entry == NULL)
    return FALSE;
  sqlite3_bind_int64 (entry, 1, entry_id);
  int rc = sqlite3_step (entry);
  if (rc != SQLITE_ROW)
    return mbd_db_throw (txn->db, rc, "cannot read a package entry", error);
  const char *component = (const char *) sqlite3_column_text (entry, 2);
  touch (txn, suite_path);
  if (sqlite3_column_type (entry, 3) != SQLITE_NULL)
    {
      g_autofree char *target = g_strdup_printf ("%s/%s/source", suite_path, component);
      g_autofree char *key = g_strdup_printf ("%s %s", sqlite3_column_text (entry, 0),
                                              sqlite3_column_text (entry, 1));
      if (put)
        mbd_index_batch_put (txn->batch, target, key,
                             (const char *) sqlite3_column_text (entry, 3));
      else
        mbd_index_batch_delete (txn->batch, target, key);
    }

  g_autoptr (MbdTxnStmt) bins = mbd_repo_txn_stmt (
      txn,
      "SELECT package, version, architecture, stanza FROM entry_binaries "
      "WHERE entry_id = ?1",
      error);
  if (bins == NULL)
    return FALSE;
  sqlite3_bind_int64 (bins, 1, entry_id);
  const char *const *arches = mbd_distribution_get_architectures (dist);
  while ((rc = sqlite3_step (bins)) == SQLITE_ROW)
    {
      const char *arch = (const char *) sqlite3_column_text (bins, 2);
      g_autofree char *key = g_strdup_printf ("%s %s %s", sqlite3_column_text (bins, 0),
                                              sqlite3_column_text (bins, 1), arch);
      gboolean all = strcmp (arch, "all") == 0;
      for (guint i = 0; arches[i] != NULL; i++)
        {
          if (!all && strcmp (arches[i], arch) != 0)
            continue;
          g_autofree char *target
              = g_strdup_printf ("%s/%s/binary-%s", suite_path, component, arches[i]);
          if (put)
            mbd_index_batch_put (txn->batch, target, key,
                                 (const char *) sqlite3_column_text (bins, 3));
          else
            mbd_index_batch_delete (txn->batch, target, key);
        }
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (txn->db, rc, "cannot read binaries", error);
  return TRUE;
}

gboolean
mbd_repo_entry_delete (MbdRepoTxn *txn,
                       MbdDistribution *dist,
                       gint64 entry_id,
                       const char *suite_path,
                       GError **error)
{
  if (!mbd_repo_entry_index (txn, dist, entry_id, suite_path, FALSE, error))
    return FALSE;
  g_autoptr (MbdTxnStmt) files = mbd_repo_txn_stmt (
      txn, "SELECT file_id FROM entry_files WHERE entry_id = ?1", error);
  if (files == NULL)
    return FALSE;
  sqlite3_bind_int64 (files, 1, entry_id);
  int rc;
  while ((rc = sqlite3_step (files)) == SQLITE_ROW)
    mbd_repo_txn_gc_candidate (txn, sqlite3_column_int64 (files, 0));
  if (rc != SQLITE_DONE)
    return mbd_db_throw (txn->db, rc, "cannot read entry files", error);
  g_autoptr (MbdTxnStmt) del
             = mbd_repo_txn_stmt (txn, "DELETE FROM package_entries WHERE id = ?1", error);
  if (del == NULL)
    return FALSE;
  sqlite3_bind_int64 (del, 1, entry_id);
  return mbd_db_step_done (txn->db, del, error);
}

gboolean
mbd_repo_entry_move (MbdRepoTxn *txn,
                     MbdDistribution *dist,
                     gint64 entry_id,
                     const char *from,
                     const char *to,
                     GError **error)
{
  if (!mbd_repo_entry_index (txn, dist, entry_id, from, FALSE, error))
    return FALSE;
  g_autoptr (MbdTxnStmt) stmt = mbd_repo_txn_stmt (
      txn, "UPDATE package_entries SET suite_path = ?2 WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, entry_id);
  sqlite3_bind_text (stmt, 2, to, -1, SQLITE_TRANSIENT);
  if (!mbd_db_step_done (txn->db, stmt, error))
    return FALSE;
  return mbd_repo_entry_index (txn, dist, entry_id, to, TRUE, error);
}

gboolean
mbd_repo_entry_copy (MbdRepoTxn *txn,
                     MbdDistribution *dist,
                     gint64 entry_id,
                     const char *to,
                     gint64 *out_id,
                     GError **error)
{
  g_autoptr (MbdTxnStmt) entry = mbd_repo_txn_stmt (
      txn,
      "INSERT INTO package_entries (repository_id, suite_path, source, version, component, "
      "dsc_file_id, source_stanza) SELECT repository_id, ?2, source, version, component, "
      "dsc_file_id, source_stanza FROM package_entries WHERE id = ?1",
      error);
  if (entry == NULL)
    return FALSE;
  sqlite3_bind_int64 (entry, 1, entry_id);
  sqlite3_bind_text (entry, 2, to, -1, SQLITE_TRANSIENT);
  if (!mbd_db_step_done (txn->db, entry, error))
    return FALSE;
  gint64 id = sqlite3_last_insert_rowid (mbd_db_get_handle (txn->db));
  g_autoptr (MbdTxnStmt) files = mbd_repo_txn_stmt (
      txn,
      "INSERT INTO entry_files (entry_id, file_id) SELECT ?2, file_id FROM "
      "entry_files WHERE entry_id = ?1",
      error);
  g_autoptr (MbdTxnStmt) bins = mbd_repo_txn_stmt (
      txn,
      "INSERT INTO entry_binaries (entry_id, package, version, architecture, file_id, stanza) "
      "SELECT ?2, package, version, architecture, file_id, stanza FROM entry_binaries "
      "WHERE entry_id = ?1",
      error);
  if (files == NULL || bins == NULL)
    return FALSE;
  sqlite3_bind_int64 (files, 1, entry_id);
  sqlite3_bind_int64 (files, 2, id);
  sqlite3_bind_int64 (bins, 1, entry_id);
  sqlite3_bind_int64 (bins, 2, id);
  if (!mbd_db_step_done (txn->db, files, error) || !mbd_db_step_done (txn->db, bins, error))
    return FALSE;
  if (out_id != NULL)
    *out_id = id;
  return mbd_repo_entry_index (txn, dist, id, to, TRUE, error);
}

static char *
rollback_path (const char *base, guint n)
{
  return g_strdup_printf ("%s-rollback%u", base, n);
}

gboolean
mbd_repo_shift_into_rollbacks (MbdRepoTxn *txn,
                               MbdDistribution *dist,
                               MbdSuite *suite,
                               const char *base,
                               const char *source,
                               gint64 entry_id,
                               const char *version,
                               gboolean keep_rollbacks,
                               GError **error)
{
  guint n = keep_rollbacks ? mbd_suite_get_rollbacks (suite) : 0;

  /* as mini-buildd: a version that is in the rollbacks already is not shifted again */
  for (guint k = 0; k < n; k++)
    {
      g_autofree char *path = rollback_path (base, k);
      g_autofree char *have = NULL;
      gint64 id;
      if (!mbd_repo_entry_lookup (txn, path, source, &id, &have, error))
        return FALSE;
      if (id != 0 && strcmp (have, version) == 0)
        n = 0;
    }
  if (n == 0)
    return mbd_repo_entry_delete (txn, dist, entry_id, base, error);

  for (int k = (int) n - 1; k >= 0; k--)
    {
      g_autofree char *path = rollback_path (base, (guint) k);
      gint64 id;
      if (!mbd_repo_entry_lookup (txn, path, source, &id, NULL, error))
        return FALSE;
      if (id == 0)
        continue;
      if ((guint) k == n - 1)
        {
          if (!mbd_repo_entry_delete (txn, dist, id, path, error))
            return FALSE;
          continue;
        }
      g_autofree char *next = rollback_path (base, (guint) k + 1);
      if (!mbd_repo_entry_move (txn, dist, id, path, next, error))
        return FALSE;
    }
  g_autofree char *first = rollback_path (base, 0);
  return mbd_repo_entry_move (txn, dist, entry_id, base, first, error);
}

/* ---- publishing ------------------------------------------------------------------------ */

gboolean
mbd_repository_publish_suite (MbdRepository *self,
                              const char *suite_path,
                              GCancellable *cancellable,
                              GError **error)
{
  g_autofree char *base = g_strdup (suite_path);
  char *slash = strchr (base, '/');
  if (slash != NULL)
    *slash = '\0';
  MbdSuite *suite = NULL;
  int rollback = -1;
  MbdDistribution *dist
      = mbd_repository_lookup_distribution_string (self, base, &suite, &rollback, error);
  if (dist == NULL)
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  g_autofree char *repo_dir = mbd_repository_dup_path (self);
  g_autofree char *dists_dir = g_build_filename (repo_dir, "dists", NULL);
  g_autofree char *origin
      = g_strdup_printf ("Mini-Buildd archive %s", mbd_instance_get_identity (self->instance));
  MbdReleaseInfo info = {
    .suite_path = suite_path,
    .origin = origin,
    .label = base,
    .suite = suite_path,
    .codename = suite_path,
    .version = NULL,
    .description = suite_path,
    .components = mbd_distribution_get_components (dist),
    .architectures = mbd_distribution_get_architectures (dist),
    .not_automatic = rollback >= 0 ? TRUE : mbd_suite_get_not_automatic (suite),
    .but_automatic_upgrades = rollback >= 0 ? FALSE : mbd_suite_get_but_automatic_upgrades (suite),
    .valid_until = NULL,
  };
  return mbd_index_publish (mbd_instance_get_db (self->instance),
                            mbd_instance_get_gnupg (self->instance), dists_dir, &info,
                            MBD_REPOSITORY_BY_HASH_GRACE_SECONDS, error);
}

static gboolean
is_own_suite (MbdRepository *self, const char *suite_path)
{
  g_autofree char *identity = NULL;
  g_autofree char *base = g_strdup (suite_path);
  char *slash = strchr (base, '/');

  if (slash != NULL)
    *slash = '\0';
  return mbd_distribution_string_parse (base, NULL, &identity, NULL, NULL, NULL)
         && strcmp (identity, self->identity) == 0;
}

/**
 * mbd_repository_publish:
 * @self: a stored repository
 * @all: %TRUE to publish every distribution (rollbacks and snapshots included), %FALSE for only
 *   those left unpublished (after a crash or a failed publish)
 * @cancellable: (nullable): a cancellable
 *
 * Publishes the repository's distributions: the indices, by-hash files and signed Release files
 * under `dists/`. Only indices that changed since their last publish are written again.
 *
 * Returns: %TRUE on success
 */
gboolean
mbd_repository_publish (MbdRepository *self,
                        gboolean all,
                        GCancellable *cancellable,
                        GError **error)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), FALSE);
  g_return_val_if_fail (self->instance != NULL, FALSE);

  MbdDb *db = mbd_instance_get_db (self->instance);
  g_autoptr (GHashTable) suites = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) dirty = mbd_index_dirty_suites (db, error);
  if (dirty == NULL)
    return FALSE;
  for (guint i = 0; dirty[i] != NULL; i++)
    if (is_own_suite (self, dirty[i]))
      g_hash_table_add (suites, g_strdup (dirty[i]));
  if (all)
    {
      g_auto (GStrv) dists = mbd_repository_list_distribution_strings (self, TRUE);
      for (guint i = 0; dists[i] != NULL; i++)
        g_hash_table_add (suites, g_strdup (dists[i]));
      g_autoptr (sqlite3_stmt) snaps = mbd_db_prepare (
          db,
          "SELECT distribution || '/snapshots/' || name FROM snapshots WHERE repository_id = ?1",
          error);
      if (snaps == NULL)
        return FALSE;
      sqlite3_bind_int64 (snaps, 1, self->id);
      while (sqlite3_step (snaps) == SQLITE_ROW)
        g_hash_table_add (suites, g_strdup ((const char *) sqlite3_column_text (snaps, 0)));
    }
  if (!publish_touched (self, suites, cancellable, error))
    return FALSE;
  return !all || self->published || mark_published (self, error);
}

/* ---- the default repository ------------------------------------------------------------ */

gboolean
mbd_repository_ensure_default (MbdInstance *instance, GCancellable *cancellable, GError **error)
{
  MbdDb *db = open_db (instance, error);
  g_autofree char *done = NULL;

  if (db == NULL || !mbd_db_lookup_setting (db, "default-repository-created", &done, error))
    return FALSE;
  if (done != NULL)
    return TRUE;
  g_autoptr (MbdLayout) layout = mbd_layout_new_builtin (MBD_LAYOUT_DEFAULT, error);
  g_autoptr (MbdDistribution) dist = mbd_distribution_new_for_host (error);
  if (layout == NULL || dist == NULL)
    return FALSE;
  g_autoptr (MbdRepository) repo
             = mbd_repository_new (MBD_REPOSITORY_DEFAULT_IDENTITY, layout, error);
  if (repo == NULL || !mbd_repository_add_distribution (repo, dist, error))
    return FALSE;
  mbd_repository_set_allow_unauthenticated_uploads (repo, TRUE);
  /* published by the first change, 'mbd repo publish' or the start of mbd-server's engine */
  g_autoptr (GError) local = NULL;
  if (!add_repository_unpublished (instance, repo, &local)
      && !g_error_matches (local, MBD_ERROR, MBD_ERROR_EXISTS))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return mbd_prefix_error (error, "creating the default repository: ");
    }
  return mbd_db_set_setting (db, "default-repository-created", "1", error);
}
