/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-control.h"
#include "mbd-file-entry.h"
#include "mbd-hash-private.h"
#include "mbd-repository-private.h"
#include "mbd-util-private.h"

/* Read-only views: ls, show, search, sources.list lines, and the consistency check; plus the
 * full pool garbage collection. */

typedef struct
{
  char *version;
  char *component;
  char *architecture;
  char *dsc_path; /* (nullable) */
} EntryInfo;

static void
entry_info_free (EntryInfo *info)
{
  g_free (info->version);
  g_free (info->component);
  g_free (info->architecture);
  g_free (info->dsc_path);
  g_free (info);
}

/* suite path -> EntryInfo of @source in repository @repo_id (snapshots left out) */
static GHashTable *
load_entries (MbdDb *db, gint64 repo_id, const char *source, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT e.suite_path, e.version, e.component, p.path, "
      "(SELECT architecture FROM entry_binaries b WHERE b.entry_id = e.id ORDER BY "
      "architecture = 'all', architecture LIMIT 1) "
      "FROM package_entries e LEFT JOIN pool_files p ON p.id = e.dsc_file_id "
      "WHERE e.source = ?1 AND e.repository_id = ?2 AND instr(e.suite_path, '/') = 0",
      error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, source, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, repo_id);
  g_autoptr (GHashTable) entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                          (GDestroyNotify) entry_info_free);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      EntryInfo *info = g_new0 (EntryInfo, 1);
      info->version = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      info->component = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      info->dsc_path = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      const char *arch = (const char *) sqlite3_column_text (stmt, 4);
      info->architecture = g_strdup (info->dsc_path != NULL || arch == NULL ? "source" : arch);
      g_hash_table_insert (entries, g_strdup ((const char *) sqlite3_column_text (stmt, 0)), info);
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read package entries", error), NULL;
  return g_steal_pointer (&entries);
}

static void
add_entry_members (JsonBuilder *builder, EntryInfo *info)
{
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, info->version);
  json_builder_set_member_name (builder, "component");
  json_builder_add_string_value (builder, info->component);
  json_builder_set_member_name (builder, "architecture");
  json_builder_add_string_value (builder, info->architecture);
}

static void
add_distribution (JsonBuilder *builder,
                  MbdRepository *repo,
                  MbdDistribution *dist,
                  MbdSuite *suite,
                  const char *dist_string,
                  GHashTable *entries,
                  EntryInfo *info,
                  gboolean show)
{
  json_builder_set_member_name (builder, dist_string);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "rollbacks");
  json_builder_begin_object (builder);
  for (guint r = 0; r < mbd_suite_get_rollbacks (suite); r++)
    {
      g_autofree char *path = g_strdup_printf ("%s-rollback%u", dist_string, r);
      EntryInfo *old = g_hash_table_lookup (entries, path);
      if (old == NULL)
        continue;
      json_builder_set_member_name (builder, path);
      json_builder_begin_object (builder);
      add_entry_members (builder, old);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  add_entry_members (builder, info);
  if (show)
    {
      const char *migrates_to = mbd_suite_get_migrates_to (suite);
      g_autofree char *target = migrates_to != NULL ? mbd_distribution_string_format (
                                    mbd_distribution_get_codename (dist),
                                    mbd_repository_get_identity (repo), migrates_to, -1)
                                                    : NULL;
      EntryInfo *migrated = target != NULL ? g_hash_table_lookup (entries, target) : NULL;
      json_builder_set_member_name (builder, "dsc_path");
      if (info->dsc_path != NULL)
        {
          g_autofree char *path
              = g_build_filename (mbd_repository_get_identity (repo), info->dsc_path, NULL);
          json_builder_add_string_value (builder, path);
        }
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "changes_paths");
      json_builder_begin_array (builder);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "uploadable");
      json_builder_add_boolean_value (builder, mbd_suite_get_uploadable (suite));
      json_builder_set_member_name (builder, "migrates_to");
      if (target != NULL)
        json_builder_add_string_value (builder, target);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "is_migrated");
      json_builder_add_boolean_value (
          builder, migrated != NULL && strcmp (migrated->version, info->version) == 0);
    }
  json_builder_end_object (builder);
}

static char *
builder_to_string (JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

/**
 * mbd_instance_repositories_json:
 * @instance: an open instance
 *
 * Describes the repositories as mini-buildd's `status` call does with `with_repositories`:
 * `{identity: {codenames: [...], layout: {suite: {uploadable, experimental, migrates_to}}}}`.
 *
 * Returns: (transfer full): the JSON text, or %NULL with @error set
 */
char *
mbd_instance_repositories_json (MbdInstance *instance, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (instance, error);
  if (repos == NULL)
    return NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, i);
      g_autoptr (GPtrArray) dists = mbd_repository_get_distributions (repo);
      g_autoptr (GPtrArray) suites = mbd_layout_get_suites (mbd_repository_get_layout (repo));

      json_builder_set_member_name (builder, mbd_repository_get_identity (repo));
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "codenames");
      json_builder_begin_array (builder);
      for (guint d = 0; d < dists->len; d++)
        json_builder_add_string_value (
            builder, mbd_distribution_get_codename (g_ptr_array_index (dists, d)));
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "layout");
      json_builder_begin_object (builder);
      for (guint s = 0; s < suites->len; s++)
        {
          MbdSuite *suite = g_ptr_array_index (suites, s);
          json_builder_set_member_name (builder, mbd_suite_get_name (suite));
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "uploadable");
          json_builder_add_boolean_value (builder, mbd_suite_get_uploadable (suite));
          json_builder_set_member_name (builder, "experimental");
          json_builder_add_boolean_value (builder, mbd_suite_get_experimental (suite));
          json_builder_set_member_name (builder, "migrates_to");
          if (mbd_suite_get_migrates_to (suite) != NULL)
            json_builder_add_string_value (builder, mbd_suite_get_migrates_to (suite));
          else
            json_builder_add_null_value (builder);
          json_builder_end_object (builder);
        }
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return builder_to_string (builder);
}

/**
 * mbd_instance_ls_json:
 * @instance: an open instance
 * @source: a source package name
 * @repository: (nullable): only this repository
 * @codename: (nullable): only distributions of this codename
 * @version: (nullable): only this version
 * @show: %FALSE for mini-buildd's `ls` shape, %TRUE for its `show` shape
 *
 * Lists where a source package is, as mini-buildd's `ls` and `show` API calls:
 * `{repository: {distribution: {rollbacks: {distribution-rollbackN: {…}}, version, component,
 * architecture}}}`, with `show` adding `dsc_path`, `changes_paths`, `uploadable`, `migrates_to`
 * and `is_migrated`. An unknown source gives `{}`.
 *
 * Returns: (transfer full): the JSON text, or %NULL with @error set
 */
char *
mbd_instance_ls_json (MbdInstance *instance,
                      const char *source,
                      const char *repository,
                      const char *codename,
                      const char *version,
                      gboolean show,
                      GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (source != NULL, NULL);

  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (instance, error);
  if (repos == NULL)
    return NULL;
  MbdDb *db = mbd_instance_get_db (instance);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, i);
      if (repository != NULL && strcmp (repository, repo->identity) != 0)
        continue;
      g_autoptr (GHashTable) entries = load_entries (db, repo->id, source, error);
      if (entries == NULL)
        return NULL;
      gboolean opened = FALSE;
      g_autoptr (GPtrArray) suites = mbd_layout_get_suites (repo->layout);
      for (guint d = 0; d < repo->distributions->len; d++)
        {
          MbdDistribution *dist = g_ptr_array_index (repo->distributions, d);
          if (codename != NULL && strcmp (codename, mbd_distribution_get_codename (dist)) != 0)
            continue;
          for (guint s = 0; s < suites->len; s++)
            {
              MbdSuite *suite = g_ptr_array_index (suites, s);
              g_autofree char *dist_string
                  = mbd_distribution_string_format (mbd_distribution_get_codename (dist),
                                                    repo->identity, mbd_suite_get_name (suite), -1);
              EntryInfo *info = g_hash_table_lookup (entries, dist_string);
              if (info == NULL || (version != NULL && strcmp (version, info->version) != 0))
                continue;
              if (!opened)
                {
                  json_builder_set_member_name (builder, repo->identity);
                  json_builder_begin_object (builder);
                  opened = TRUE;
                }
              add_distribution (builder, repo, dist, suite, dist_string, entries, info, show);
            }
        }
      if (opened)
        json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return builder_to_string (builder);
}

/**
 * mbd_instance_search_json:
 * @instance: an open instance
 * @pattern: a source or binary package name, or a shell glob (`*`, `?`, `[…]`); a plain word
 *   matches names containing it
 *
 * Searches the distributions (rollbacks included, snapshots not) of all repositories for source
 * and binary package names.
 *
 * Returns: (transfer full): a JSON array of `{repository, distribution, source, version,
 *   binaries: [name…]}` ordered by source and distribution, or %NULL with @error set
 */
char *
mbd_instance_search_json (MbdInstance *instance, const char *pattern, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (pattern != NULL, NULL);

  MbdDb *db = mbd_instance_get_db (instance);
  if (db == NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "the instance is not open"), NULL;
  g_autofree char *glob
      = strpbrk (pattern, "*?[") != NULL ? g_strdup (pattern) : g_strdup_printf ("*%s*", pattern);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT r.identity, e.suite_path, e.source, e.version, "
      "(SELECT group_concat(package, ' ') FROM (SELECT DISTINCT package FROM entry_binaries b "
      "WHERE b.entry_id = e.id ORDER BY package)) "
      "FROM package_entries e JOIN repositories r ON r.id = e.repository_id "
      "WHERE instr(e.suite_path, '/') = 0 AND (e.source GLOB ?1 OR EXISTS (SELECT 1 FROM "
      "entry_binaries b WHERE b.entry_id = e.id AND b.package GLOB ?1)) "
      "ORDER BY e.source, r.identity, e.suite_path",
      error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, glob, -1, SQLITE_TRANSIENT);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_array (builder);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *keys[] = { "repository", "distribution", "source", "version" };
      json_builder_begin_object (builder);
      for (int k = 0; k < 4; k++)
        {
          json_builder_set_member_name (builder, keys[k]);
          json_builder_add_string_value (builder, (const char *) sqlite3_column_text (stmt, k));
        }
      json_builder_set_member_name (builder, "binaries");
      json_builder_begin_array (builder);
      const char *bins = (const char *) sqlite3_column_text (stmt, 4);
      g_auto (GStrv) names = g_strsplit (bins != NULL ? bins : "", " ", -1);
      for (guint n = 0; names[n] != NULL; n++)
        if (names[n][0] != '\0')
          json_builder_add_string_value (builder, names[n]);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "search failed", error), NULL;
  json_builder_end_array (builder);
  return builder_to_string (builder);
}

static gboolean
has_snapshot (MbdDb *db, const char *distribution, const char *name)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT 1 FROM snapshots WHERE distribution = ?1 AND name = ?2", NULL);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, distribution, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, name, -1, SQLITE_TRANSIENT);
  return sqlite3_step (stmt) == SQLITE_ROW;
}

/**
 * mbd_instance_sources_list:
 * @instance: an open instance
 * @repository: (nullable): only this repository
 * @codename: (nullable): only this codename
 * @suite: (nullable): only this suite
 * @types: (nullable) (array zero-terminated=1): `deb` and/or `deb-src`; %NULL for `deb`
 * @with_rollbacks: whether to add the rollback distributions
 * @snapshot: (nullable): give the lines of this snapshot (of the distributions that have it)
 * @mirror: (nullable): the URL to use instead of the instance URL; the lines point to
 *   `<URL>/repositories/<identity>`, so `file://<home>` gives the local tree
 *
 * Builds APT source lines of the repositories, as mini-buildd's `sources_list` call:
 * `deb [] http://host:8066/repositories/test bookworm-test-unstable main contrib …`.
 *
 * Returns: (transfer full) (array zero-terminated=1): the lines, or %NULL with
 *   %MBD_ERROR_INVALID_ARGUMENT for an unknown type
 */
char **
mbd_instance_sources_list (MbdInstance *instance,
                           const char *repository,
                           const char *codename,
                           const char *suite,
                           const char *const *types,
                           gboolean with_rollbacks,
                           const char *snapshot,
                           const char *mirror,
                           GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  const char *const default_types[] = { "deb", NULL };
  if (types == NULL || types[0] == NULL)
    types = default_types;
  for (guint t = 0; types[t] != NULL; t++)
    if (strcmp (types[t], "deb") != 0 && strcmp (types[t], "deb-src") != 0)
      return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                        "source type '%s' is invalid: use deb or deb-src", types[t]),
             NULL;
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (instance, error);
  if (repos == NULL)
    return NULL;
  g_autofree char *url = mirror != NULL ? g_strdup (mirror) : mbd_instance_dup_url (instance);
  gsize len = strlen (url);
  while (len > 0 && url[len - 1] == '/')
    url[--len] = '\0';

  g_autoptr (GStrvBuilder) lines = g_strv_builder_new ();
  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = g_ptr_array_index (repos, i);
      if (repository != NULL && strcmp (repository, repo->identity) != 0)
        continue;
      g_autoptr (GPtrArray) suites = mbd_layout_get_suites (repo->layout);
      for (guint d = 0; d < repo->distributions->len; d++)
        {
          MbdDistribution *dist = g_ptr_array_index (repo->distributions, d);
          const char *cn = mbd_distribution_get_codename (dist);
          if (codename != NULL && strcmp (codename, cn) != 0)
            continue;
          g_autofree char *components
              = g_strjoinv (" ", (char **) mbd_distribution_get_components (dist));
          for (guint s = 0; s < suites->len; s++)
            {
              MbdSuite *st = g_ptr_array_index (suites, s);
              if (suite != NULL && strcmp (suite, mbd_suite_get_name (st)) != 0)
                continue;
              int n = with_rollbacks && snapshot == NULL ? (int) mbd_suite_get_rollbacks (st) : 0;
              for (int r = -1; r < n; r++)
                {
                  g_autofree char *ds = mbd_distribution_string_format (cn, repo->identity,
                                                                        mbd_suite_get_name (st), r);
                  if (snapshot != NULL
                      && !has_snapshot (mbd_instance_get_db (instance), ds, snapshot))
                    continue;
                  g_autofree char *apt_suite
                      = snapshot != NULL ? g_strdup_printf ("%s/snapshots/%s", ds, snapshot)
                                         : g_strdup (ds);
                  for (guint t = 0; types[t] != NULL; t++)
                    mbd_strv_builder_take (lines, g_strdup_printf ("%s [] %s/repositories/%s %s %s",
                                                                   types[t], url, repo->identity,
                                                                   apt_suite, components));
                }
            }
        }
    }
  return g_strv_builder_end (lines);
}

/* ---- check and garbage collection --------------------------------------------------------- */

static void problem (GPtrArray *problems, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
problem (GPtrArray *problems, const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  g_ptr_array_add (problems, g_strdup_vprintf (fmt, args));
  va_end (args);
}

static void
check_pool (MbdRepository *self,
            MbdDb *db,
            const char *repo_dir,
            GPtrArray *problems,
            GCancellable *cancellable)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT path, size, sha256 FROM pool_files WHERE repository_id = ?1 ORDER BY path", NULL);
  if (stmt == NULL)
    return;
  sqlite3_bind_int64 (stmt, 1, self->id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *path = (const char *) sqlite3_column_text (stmt, 0);
      g_autofree char *abs = g_build_filename (repo_dir, path, NULL);
      g_autofree char *dir = g_path_get_dirname (abs);
      g_autofree char *name = g_path_get_basename (abs);
      g_autoptr (GError) local = NULL;
      g_autoptr (MbdFileEntry) have = mbd_file_entry_new_from_file (dir, name, cancellable, &local);
      if (have == NULL)
        problem (problems, "%s: pool file is missing: %s", path, local->message);
      else if (mbd_file_entry_get_size (have) != (guint64) sqlite3_column_int64 (stmt, 1)
               || strcmp (mbd_file_entry_get_sha256 (have),
                          (const char *) sqlite3_column_text (stmt, 2))
                      != 0)
        problem (problems,
                 "%s: pool file differs from the database (size %" G_GUINT64_FORMAT
                 ", sha256 %s; recorded %lld, %s)",
                 path, mbd_file_entry_get_size (have), mbd_file_entry_get_sha256 (have),
                 (long long) sqlite3_column_int64 (stmt, 1), sqlite3_column_text (stmt, 2));
    }
}

/* Every Filename/Directory of every published stanza is in the pool table; the stanza counts
 * match the entries. */
static void
check_indices (MbdRepository *self, MbdDb *db, GPtrArray *problems)
{
  g_autoptr (GHashTable) expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (sqlite3_stmt) rows = mbd_db_prepare (
      db,
      "SELECT e.suite_path, e.component, NULL FROM package_entries e WHERE e.repository_id = ?1 "
      "AND e.source_stanza IS NOT NULL UNION ALL SELECT e.suite_path, e.component, "
      "b.architecture FROM package_entries e JOIN entry_binaries b ON b.entry_id = e.id "
      "WHERE e.repository_id = ?1",
      NULL);
  if (rows == NULL)
    return;
  sqlite3_bind_int64 (rows, 1, self->id);
  while (sqlite3_step (rows) == SQLITE_ROW)
    {
      const char *suite_path = (const char *) sqlite3_column_text (rows, 0);
      const char *component = (const char *) sqlite3_column_text (rows, 1);
      const char *arch = (const char *) sqlite3_column_text (rows, 2);
      g_autofree char *base = g_strdup (suite_path);
      char *slash = strchr (base, '/');
      if (slash != NULL)
        *slash = '\0';
      MbdDistribution *dist
          = mbd_repository_lookup_distribution_string (self, base, NULL, NULL, NULL);
      if (dist == NULL)
        {
          problem (problems, "%s: entries of an unknown distribution", suite_path);
          continue;
        }
      const char *const *arches = mbd_distribution_get_architectures (dist);
      for (guint a = 0; arches[a] != NULL; a++)
        {
          if (arch != NULL && strcmp (arch, "all") != 0 && strcmp (arch, arches[a]) != 0)
            continue;
          g_autofree char *target
              = arch == NULL
                    ? g_strdup_printf ("%s/%s/source", suite_path, component)
                    : g_strdup_printf ("%s/%s/binary-%s", suite_path, component, arches[a]);
          gpointer key, value;
          guint n = g_hash_table_lookup_extended (expected, target, &key, &value)
                        ? GPOINTER_TO_UINT (value)
                        : 0;
          g_hash_table_insert (expected, g_steal_pointer (&target), GUINT_TO_POINTER (n + 1));
          if (arch == NULL)
            break;
        }
    }
  g_autoptr (sqlite3_stmt) pool = mbd_db_prepare (
      db, "SELECT 1 FROM pool_files WHERE repository_id = ?1 AND path = ?2", NULL);
  if (pool == NULL)
    return;
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, expected);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autoptr (GError) local = NULL;
      g_auto (GStrv) stanzas = mbd_index_get_stanzas (db, key, &local);
      if (stanzas == NULL)
        {
          problem (problems, "%s: cannot read the index: %s", (char *) key, local->message);
          continue;
        }
      if (g_strv_length (stanzas) != GPOINTER_TO_UINT (value))
        problem (problems, "%s: the index has %u stanzas, the database %u entries", (char *) key,
                 g_strv_length (stanzas), GPOINTER_TO_UINT (value));
      for (guint i = 0; stanzas[i] != NULL; i++)
        {
          g_autoptr (MbdControl) control = mbd_control_new_from_string (stanzas[i], key, NULL);
          MbdParagraph *p = control != NULL && mbd_control_get_n_paragraphs (control) == 1
                                ? mbd_control_get_paragraph (control, 0)
                                : NULL;
          const char *filename = p != NULL ? mbd_paragraph_get (p, "Filename") : NULL;
          const char *directory = p != NULL ? mbd_paragraph_get (p, "Directory") : NULL;
          if (filename == NULL && directory == NULL)
            {
              problem (problems, "%s: stanza %u has neither Filename nor Directory", (char *) key,
                       i);
              continue;
            }
          if (filename == NULL)
            continue;
          sqlite3_reset (pool);
          sqlite3_bind_text (pool, 2, filename, -1, SQLITE_TRANSIENT);
          sqlite3_bind_int64 (pool, 1, self->id);
          if (sqlite3_step (pool) != SQLITE_ROW)
            problem (problems, "%s: %s is not in the pool", (char *) key, filename);
        }
    }
}

/* Whether @path holds @size bytes with SHA256 @sum. */
static gboolean
file_matches (const char *path, const char *sum, guint64 size, gboolean *out_missing)
{
  g_autofree char *data = NULL;
  gsize len;

  *out_missing = !g_file_get_contents (path, &data, &len, NULL);
  if (*out_missing)
    return FALSE;
  if (len != size)
    return FALSE;
  char have[MBD_SHA256_HEX_LEN + 1];
  mbd_sha256_hex_of (data, len, have);
  return strcmp (have, sum) == 0;
}

/* The published Release of every suite exists, and every file it lists is there as listed
 * under by-hash/SHA256/ (what apt fetches with Acquire-By-Hash). The plain names are checked
 * too, except for a suite whose publish was interrupted: that one already has its new indices
 * at their plain names and still its old Release, which apt reads consistently through by-hash;
 * the next change or `mbd repo publish` completes it. */
static void
check_published (MbdRepository *self, MbdDb *db, const char *repo_dir, GPtrArray *problems)
{
  g_auto (GStrv) suites = mbd_repository_list_distribution_strings (self, TRUE);
  g_auto (GStrv) dirty = mbd_index_dirty_suites (db, NULL);

  for (guint i = 0; suites[i] != NULL; i++)
    {
      gboolean pending = dirty != NULL && g_strv_contains ((const char *const *) dirty, suites[i]);
      g_autofree char *dir = g_build_filename (repo_dir, "dists", suites[i], NULL);
      g_autofree char *release = g_build_filename (dir, "Release", NULL);
      g_autoptr (GError) local = NULL;
      g_autoptr (MbdControl) control = mbd_control_new_from_file (release, &local);
      if (control == NULL)
        {
          problem (problems, "%s: %s", suites[i], local->message);
          continue;
        }
      MbdParagraph *p = mbd_control_get_paragraph (control, 0);
      g_auto (GStrv) lines = p != NULL ? mbd_paragraph_get_lines (p, "SHA256") : NULL;
      for (guint l = 0; lines != NULL && lines[l] != NULL; l++)
        {
          g_auto (GStrv) f = g_strsplit_set (g_strstrip (lines[l]), " \t", -1);
          g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
          for (guint w = 0; f[w] != NULL; w++)
            if (f[w][0] != '\0')
              g_strv_builder_add (b, f[w]);
          g_auto (GStrv) w = g_strv_builder_end (b);
          if (g_strv_length (w) != 3)
            continue;
          guint64 size = g_ascii_strtoull (w[1], NULL, 10);
          g_autofree char *parent = g_path_get_dirname (w[2]);
          g_autofree char *byhash = g_build_filename (dir, parent, "by-hash", "SHA256", w[0], NULL);
          gboolean missing;
          if (!file_matches (byhash, w[0], size, &missing))
            problem (problems, "%s: %s is listed in Release but %s under by-hash", suites[i], w[2],
                     missing ? "missing" : "different");
          if (pending)
            continue;
          g_autofree char *file = g_build_filename (dir, w[2], NULL);
          if (!file_matches (file, w[0], size, &missing))
            problem (problems, "%s: %s is listed in Release but %s", suites[i], w[2],
                     missing ? "missing" : "does not match its entry");
        }
    }
}

/**
 * mbd_repository_check:
 * @self: a stored repository
 * @out_problems: (out) (optional) (transfer full) (array zero-terminated=1): the problems found
 * @cancellable: (nullable): a cancellable
 *
 * Checks the repository's consistency: the database's integrity, every pool file it records is
 * there with its size and SHA256, every published stanza's file is in the pool and the indices
 * hold as many stanzas as the database has entries, and every distribution's published Release
 * matches the files it lists (under `by-hash/`, and at their plain names unless a publish of the
 * distribution was interrupted and is still pending: apt reads such a tree consistently, and the
 * next change or [method@Mbd.Repository.publish] completes it).
 *
 * Returns: %TRUE if consistent; %FALSE with %MBD_ERROR_FAILED summarising the problems (listed
 *   in @out_problems), or another error if the check could not run
 */
gboolean
mbd_repository_check (MbdRepository *self,
                      char ***out_problems,
                      GCancellable *cancellable,
                      GError **error)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), FALSE);
  g_return_val_if_fail (self->instance != NULL, FALSE);

  if (out_problems != NULL)
    *out_problems = NULL;
  MbdDb *db = mbd_instance_get_db (self->instance);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) integrity = mbd_db_query_strv (db, "PRAGMA quick_check", error);
  if (integrity == NULL)
    return FALSE;
  if (integrity[0] == NULL || strcmp (integrity[0], "ok") != 0)
    problem (problems, "database: %s", integrity[0] != NULL ? integrity[0] : "no answer");
  g_autofree char *repo_dir = mbd_repository_dup_path (self);
  check_pool (self, db, repo_dir, problems, cancellable);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  check_indices (self, db, problems);
  check_published (self, db, repo_dir, problems);

  guint n = problems->len;
  g_ptr_array_add (problems, NULL);
  g_auto (GStrv) list = (char **) g_ptr_array_steal (problems, NULL);
  if (n > 0)
    mbd_throw (error, MBD_ERROR_FAILED, "repository %s has %u problem%s, the first: %s",
               self->identity, n, n == 1 ? "" : "s", list[0]);
  if (out_problems != NULL)
    *out_problems = g_steal_pointer (&list);
  return n == 0;
}

/* A pool file being staged by a running include (".<name>.mbd-XXXXXX", under an hour old). */
static gboolean
is_fresh_staged (const char *abs, const char *name)
{
  GStatBuf st;

  return name[0] == '.' && strstr (name, ".mbd-") != NULL && g_stat (abs, &st) == 0
         && (gint64) st.st_mtime > g_get_real_time () / G_USEC_PER_SEC - 3600;
}

static void
remove_strays (const char *dir, const char *rel, GHashTable *known, guint *removed)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *abs = g_build_filename (dir, name, NULL);
      g_autofree char *sub = g_build_filename (rel, name, NULL);
      if (g_file_test (abs, G_FILE_TEST_IS_DIR))
        {
          remove_strays (abs, sub, known, removed);
          g_rmdir (abs); /* only when empty */
        }
      else if (!g_hash_table_contains (known, sub) && !is_fresh_staged (abs, name)
               && g_unlink (abs) == 0)
        (*removed)++;
    }
}

/**
 * mbd_repository_collect_garbage:
 * @self: a stored repository
 * @out_removed: (out) (optional): the number of files deleted
 * @cancellable: (nullable): a cancellable
 *
 * Deletes pool files no distribution, rollback or snapshot uses, and files in `pool/` the
 * database does not know (left by an interrupted include). Changes delete the files they make
 * unused themselves; this is the full sweep.
 *
 * Returns: %TRUE on success
 */
gboolean
mbd_repository_collect_garbage (MbdRepository *self,
                                guint *out_removed,
                                GCancellable *cancellable,
                                GError **error)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), FALSE);
  g_return_val_if_fail (self->instance != NULL, FALSE);

  MbdRepoTxn txn;
  if (!mbd_repo_txn_begin (&txn, self, error))
    {
      mbd_repo_txn_clear (&txn);
      return FALSE;
    }
  g_autoptr (sqlite3_stmt) unused = mbd_db_prepare (
      txn.db,
      "SELECT id FROM pool_files p WHERE repository_id = ?1 AND NOT EXISTS (SELECT 1 FROM "
      "entry_files f WHERE f.file_id = p.id)",
      error);
  gboolean ok = unused != NULL;
  if (ok)
    {
      sqlite3_bind_int64 (unused, 1, self->id);
      while (sqlite3_step (unused) == SQLITE_ROW)
        mbd_repo_txn_gc_candidate (&txn, sqlite3_column_int64 (unused, 0));
    }
  guint removed = g_hash_table_size (txn.gc);
  if (ok)
    ok = mbd_repo_txn_commit (&txn, cancellable, error);
  g_autofree char *repo_dir = g_strdup (txn.repo_dir);
  mbd_repo_txn_clear (&txn);
  if (!ok)
    return FALSE;

  /* strays: files under pool/ the database does not list */
  g_autoptr (GHashTable) known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  MbdDb *db = mbd_instance_get_db (self->instance);
  g_autoptr (sqlite3_stmt) paths
             = mbd_db_prepare (db, "SELECT path FROM pool_files WHERE repository_id = ?1", error);
  if (paths == NULL)
    return FALSE;
  sqlite3_bind_int64 (paths, 1, self->id);
  while (sqlite3_step (paths) == SQLITE_ROW)
    g_hash_table_add (known, g_strdup ((const char *) sqlite3_column_text (paths, 0)));
  g_autofree char *pool = g_build_filename (repo_dir, "pool", NULL);
  remove_strays (pool, "pool", known, &removed);
  if (out_removed != NULL)
    *out_removed = removed;
  return TRUE;
}
