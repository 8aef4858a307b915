/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "mbd-event.h"
#include "mbd-repository-private.h"
#include "mbd-util-private.h"

/* Migrate, restore, remove and snapshots: each is one transaction of entry moves and copies. */

static gboolean
run_txn_end (MbdRepoTxn *txn, gboolean ok, GCancellable *cancellable, GError **error)
{
  if (ok)
    ok = mbd_repo_txn_commit (txn, cancellable, error);
  mbd_repo_txn_clear (txn);
  return ok;
}

/* The MIGRATED or REMOVED event of a change that is committed; a failure to store it is only
 * logged (the change is done). */
static void
log_event (MbdRepository *self,
           MbdEventType type,
           const char *distribution,
           const char *source,
           const char *version)
{
  g_autoptr (MbdEvent) event = mbd_event_new (type, distribution, source, version);
  g_autoptr (GError) error = NULL;

  if (!mbd_events_add (mbd_instance_get_events (self->instance), event, &error))
    g_warning ("%s %s %s: %s", mbd_event_type_to_string (type), source, distribution,
               error->message);
}

/* "bookworm-test-stable" of "bookworm-test-stable-rollback3" */
static char *
base_distribution (const char *distribution)
{
  return g_strndup (distribution, g_strrstr (distribution, "-rollback") - distribution);
}

static gboolean
migrate_step (MbdRepoTxn *txn,
              MbdRepository *self,
              MbdDistribution *dist,
              const char *from,
              MbdSuite *from_suite,
              const char *source,
              const char *version,
              gboolean skip_present,
              char **out_to,
              gboolean *out_done,
              GError **error)
{
  const char *to_name = mbd_suite_get_migrates_to (from_suite);
  *out_done = FALSE;
  if (to_name == NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "%s does not migrate anywhere (suite %s has no migration target)", from,
                      mbd_suite_get_name (from_suite));
  gint64 id;
  g_autofree char *have = NULL;
  if (!mbd_repo_entry_lookup (txn, from, source, &id, &have, error))
    return FALSE;
  if (id == 0)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND, "source %s is not in %s", source, from);
  if (version != NULL && strcmp (version, have) != 0)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND, "%s has %s %s, not version %s", from, source,
                      have, version);
  g_autofree char *to = mbd_distribution_string_format (mbd_distribution_get_codename (dist),
                                                        self->identity, to_name, -1);
  gint64 to_id;
  g_autofree char *to_have = NULL;
  if (!mbd_repo_entry_lookup (txn, to, source, &to_id, &to_have, error))
    return FALSE;
  *out_to = g_strdup (to);
  if (to_id != 0 && strcmp (to_have, have) == 0)
    {
      if (skip_present)
        return TRUE;
      return mbd_throw (error, MBD_ERROR_EXISTS, "%s %s is in %s already (migrated before)", source,
                        have, to);
    }
  if (to_id != 0
      && !mbd_repo_shift_into_rollbacks (txn, dist, mbd_layout_lookup_suite (self->layout, to_name),
                                         to, source, to_id, to_have, TRUE, error))
    return FALSE;
  *out_done = TRUE;
  return mbd_repo_entry_copy (txn, dist, id, to, NULL, error);
}

/**
 * mbd_repository_migrate:
 * @self: a stored repository
 * @source: a source package name
 * @distribution: the distribution to migrate from, such as `bookworm-test-unstable`; a rollback
 *   distribution restores that rollback (see [method@Mbd.Repository.restore_rollback])
 * @version: (nullable): the version that must be there, or %NULL for any
 * @full: whether to follow the whole migration chain (unstable → testing → stable)
 * @cancellable: (nullable): a cancellable
 *
 * Copies a source package with its binaries to the suite its suite migrates to, as mini-buildd's
 * migrate call; a version present there moves into its rollbacks first. A %MBD_EVENT_MIGRATED
 * event records it.
 *
 * Returns: %TRUE if migrated; %FALSE with %MBD_ERROR_NOT_FOUND (unknown distribution, source or
 *   version), %MBD_ERROR_INVALID_ARGUMENT (the suite does not migrate) or %MBD_ERROR_EXISTS (the
 *   version was migrated already)
 */
gboolean
mbd_repository_migrate (MbdRepository *self,
                        const char *source,
                        const char *distribution,
                        const char *version,
                        gboolean full,
                        GCancellable *cancellable,
                        GError **error)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), FALSE);
  g_return_val_if_fail (source != NULL && distribution != NULL, FALSE);

  MbdSuite *suite = NULL;
  int rollback = -1;
  MbdDistribution *dist
      = mbd_repository_lookup_distribution_string (self, distribution, &suite, &rollback, error);
  if (dist == NULL)
    return FALSE;
  if (rollback >= 0)
    {
      g_autofree char *base = base_distribution (distribution);
      return mbd_repository_restore_rollback (self, source, base, rollback, cancellable, error);
    }

  MbdRepoTxn txn;
  if (!mbd_repo_txn_begin (&txn, self, error))
    return run_txn_end (&txn, FALSE, cancellable, error);
  g_autofree char *from = g_strdup (distribution);
  g_autofree char *have = NULL;
  gint64 id;
  gboolean ok = mbd_repo_entry_lookup (&txn, from, source, &id, &have, error);
  gboolean any = FALSE;
  while (ok)
    {
      g_autofree char *to = NULL;
      gboolean done = FALSE;
      ok = migrate_step (&txn, self, dist, from, suite, source, version != NULL ? version : have,
                         full, &to, &done, error);
      any = any || done;
      if (!ok)
        break;
      g_free (from);
      from = g_steal_pointer (&to);
      g_autofree char *suite_name = NULL;
      mbd_distribution_string_parse (from, NULL, NULL, &suite_name, NULL, NULL);
      suite = mbd_layout_lookup_suite (self->layout, suite_name);
      if (!full || mbd_suite_get_migrates_to (suite) == NULL)
        break;
    }
  if (ok && !any)
    ok = mbd_throw (error, MBD_ERROR_EXISTS, "%s %s is migrated through the whole chain already",
                    source, have);
  if (!run_txn_end (&txn, ok, cancellable, error))
    return FALSE;
  log_event (self, MBD_EVENT_MIGRATED, distribution, source, version != NULL ? version : have);
  return TRUE;
}

/**
 * mbd_repository_restore_rollback:
 * @self: a stored repository
 * @source: a source package name
 * @distribution: a (non-rollback) distribution string
 * @rollback: the rollback to restore, 0 for the newest
 * @cancellable: (nullable): a cancellable
 *
 * Copies the version in `<distribution>-rollback<N>` back into @distribution, as mini-buildd does
 * when migrating from a rollback distribution. The source must not be in @distribution (remove it
 * first).
 *
 * Returns: %TRUE if restored; %FALSE with %MBD_ERROR_NOT_FOUND or %MBD_ERROR_EXISTS
 */
gboolean
mbd_repository_restore_rollback (MbdRepository *self,
                                 const char *source,
                                 const char *distribution,
                                 int rollback,
                                 GCancellable *cancellable,
                                 GError **error)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), FALSE);
  g_return_val_if_fail (source != NULL && distribution != NULL, FALSE);

  MbdSuite *suite = NULL;
  int is_rollback = -1;
  MbdDistribution *dist
      = mbd_repository_lookup_distribution_string (self, distribution, &suite, &is_rollback, error);
  if (dist == NULL)
    return FALSE;
  if (is_rollback >= 0)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "%s is a rollback distribution; name the distribution to restore into",
                      distribution);
  if (rollback < 0 || (guint) rollback >= mbd_suite_get_rollbacks (suite))
    return mbd_throw (error, MBD_ERROR_NOT_FOUND, "%s has no rollback %d (it keeps %u)",
                      distribution, rollback, mbd_suite_get_rollbacks (suite));

  g_autofree char *from = g_strdup_printf ("%s-rollback%d", distribution, rollback);
  MbdRepoTxn txn;
  if (!mbd_repo_txn_begin (&txn, self, error))
    return run_txn_end (&txn, FALSE, cancellable, error);
  gint64 id, present;
  g_autofree char *have = NULL, *current = NULL;
  gboolean ok = mbd_repo_entry_lookup (&txn, from, source, &id, &have, error)
                && mbd_repo_entry_lookup (&txn, distribution, source, &present, &current, error);
  if (ok && id == 0)
    ok = mbd_throw (error, MBD_ERROR_NOT_FOUND, "source %s is not in %s", source, from);
  else if (ok && present != 0)
    ok = mbd_throw (error, MBD_ERROR_EXISTS,
                    "%s has %s %s; remove it first ('mbd remove %s %s --without-rollback') to "
                    "restore %s from %s",
                    distribution, source, current, source, distribution, have, from);
  if (ok)
    ok = mbd_repo_entry_copy (&txn, dist, id, distribution, NULL, error);
  return run_txn_end (&txn, ok, cancellable, error);
}

/**
 * mbd_repository_remove:
 * @self: a stored repository
 * @source: a source package name
 * @distribution: a distribution string; a rollback distribution removes that rollback and moves
 *   the older ones up
 * @version: (nullable): the version that must be there, or %NULL for any
 * @without_rollback: %TRUE to drop the version instead of moving it into the rollbacks
 * @cancellable: (nullable): a cancellable
 *
 * Removes a source package and its binaries from a distribution, as mini-buildd's remove call.
 * Pool files no distribution uses any more are deleted. A %MBD_EVENT_REMOVED event records it.
 *
 * Returns: %TRUE if removed; %FALSE with %MBD_ERROR_NOT_FOUND
 */
gboolean
mbd_repository_remove (MbdRepository *self,
                       const char *source,
                       const char *distribution,
                       const char *version,
                       gboolean without_rollback,
                       GCancellable *cancellable,
                       GError **error)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), FALSE);
  g_return_val_if_fail (source != NULL && distribution != NULL, FALSE);

  MbdSuite *suite = NULL;
  int rollback = -1;
  MbdDistribution *dist
      = mbd_repository_lookup_distribution_string (self, distribution, &suite, &rollback, error);
  if (dist == NULL)
    return FALSE;

  MbdRepoTxn txn;
  if (!mbd_repo_txn_begin (&txn, self, error))
    return run_txn_end (&txn, FALSE, cancellable, error);
  gint64 id;
  g_autofree char *have = NULL;
  gboolean ok = mbd_repo_entry_lookup (&txn, distribution, source, &id, &have, error);
  if (ok && id == 0)
    ok = mbd_throw (error, MBD_ERROR_NOT_FOUND, "source %s is not in %s", source, distribution);
  else if (ok && version != NULL && strcmp (version, have) != 0)
    ok = mbd_throw (error, MBD_ERROR_NOT_FOUND, "%s has %s %s, not version %s", distribution,
                    source, have, version);
  if (ok && rollback < 0)
    ok = mbd_repo_shift_into_rollbacks (&txn, dist, suite, distribution, source, id, have,
                                        !without_rollback, error);
  else if (ok)
    {
      g_autofree char *base = base_distribution (distribution);
      ok = mbd_repo_entry_delete (&txn, dist, id, distribution, error);
      /* the older rollbacks move up into the gap */
      for (guint k = (guint) rollback + 1; ok && k < mbd_suite_get_rollbacks (suite); k++)
        {
          g_autofree char *path = g_strdup_printf ("%s-rollback%u", base, k);
          g_autofree char *up = g_strdup_printf ("%s-rollback%u", base, k - 1);
          gint64 older, taken;
          ok = mbd_repo_entry_lookup (&txn, path, source, &older, NULL, error)
               && mbd_repo_entry_lookup (&txn, up, source, &taken, NULL, error);
          if (ok && older != 0 && taken == 0)
            ok = mbd_repo_entry_move (&txn, dist, older, path, up, error);
        }
    }
  if (!run_txn_end (&txn, ok, cancellable, error))
    return FALSE;
  log_event (self, MBD_EVENT_REMOVED, distribution, source, have);
  return TRUE;
}

/* ---- snapshots --------------------------------------------------------------------------- */

/**
 * MbdSnapshot:
 *
 * An immutable copy of a distribution, published at `dists/<distribution>/snapshots/<name>/`
 * with its own signed Release file; APT uses it with the suite `<distribution>/snapshots/<name>`.
 * Create one with [method@Mbd.Repository.create_snapshot].
 */
struct _MbdSnapshot
{
  GObject parent_instance;

  char *distribution;
  char *name;
  GDateTime *created;
};

G_DEFINE_FINAL_TYPE (MbdSnapshot, mbd_snapshot, G_TYPE_OBJECT)

static void
mbd_snapshot_finalize (GObject *object)
{
  MbdSnapshot *self = MBD_SNAPSHOT (object);

  g_free (self->distribution);
  g_free (self->name);
  g_date_time_unref (self->created);
  G_OBJECT_CLASS (mbd_snapshot_parent_class)->finalize (object);
}

static void
mbd_snapshot_class_init (MbdSnapshotClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_snapshot_finalize;
}

static void
mbd_snapshot_init (MbdSnapshot *self)
{
}

static MbdSnapshot *
snapshot_new (const char *distribution, const char *name, gint64 created)
{
  MbdSnapshot *self = g_object_new (MBD_TYPE_SNAPSHOT, NULL);
  self->distribution = g_strdup (distribution);
  self->name = g_strdup (name);
  self->created = g_date_time_new_from_unix_utc (created);
  return self;
}

/**
 * mbd_snapshot_get_distribution:
 * @self: a snapshot
 *
 * Gives the distribution the snapshot was taken of.
 *
 * Returns: the distribution string
 */
const char *
mbd_snapshot_get_distribution (MbdSnapshot *self)
{
  g_return_val_if_fail (MBD_IS_SNAPSHOT (self), NULL);
  return self->distribution;
}

/**
 * mbd_snapshot_get_name:
 * @self: a snapshot
 *
 * Gives the snapshot name.
 *
 * Returns: the name
 */
const char *
mbd_snapshot_get_name (MbdSnapshot *self)
{
  g_return_val_if_fail (MBD_IS_SNAPSHOT (self), NULL);
  return self->name;
}

/**
 * mbd_snapshot_get_created:
 * @self: a snapshot
 *
 * Gives the time the snapshot was taken.
 *
 * Returns: (transfer none): the time, in UTC
 */
GDateTime *
mbd_snapshot_get_created (MbdSnapshot *self)
{
  g_return_val_if_fail (MBD_IS_SNAPSHOT (self), NULL);
  return self->created;
}

/**
 * mbd_snapshot_get_suite_path:
 * @self: a snapshot
 *
 * Gives the APT suite of the snapshot, `<distribution>/snapshots/<name>`.
 *
 * Returns: (transfer full): the suite path
 */
char *
mbd_snapshot_get_suite_path (MbdSnapshot *self)
{
  g_return_val_if_fail (MBD_IS_SNAPSHOT (self), NULL);
  return g_strdup_printf ("%s/snapshots/%s", self->distribution, self->name);
}

static gboolean
snapshot_name_is_valid (const char *name)
{
  if (name == NULL || name[0] == '\0' || strlen (name) > 64 || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("._+~-:", *p) == NULL)
      return FALSE;
  return TRUE;
}

static MbdDistribution *
snapshot_distribution (MbdRepository *self, const char *distribution, GError **error)
{
  int rollback = -1;
  MbdDistribution *dist
      = mbd_repository_lookup_distribution_string (self, distribution, NULL, &rollback, error);
  if (dist != NULL && rollback >= 0)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "%s is a rollback distribution: snapshots are taken of distributions",
                 distribution);
      return NULL;
    }
  return dist;
}

static void
for_each_target (MbdDistribution *dist,
                 const char *suite_path,
                 void (*fn) (MbdIndexBatch *, const char *, const char *),
                 MbdIndexBatch *batch,
                 const char *from_suite)
{
  const char *const *components = mbd_distribution_get_components (dist);
  const char *const *arches = mbd_distribution_get_architectures (dist);

  for (guint c = 0; components[c] != NULL; c++)
    for (int a = -1; arches[a < 0 ? 0 : a] != NULL; a++)
      {
        g_autofree char *kind
            = a < 0 ? g_strdup ("source") : g_strdup_printf ("binary-%s", arches[a]);
        g_autofree char *to = g_strdup_printf ("%s/%s/%s", suite_path, components[c], kind);
        g_autofree char *from = from_suite != NULL
                                    ? g_strdup_printf ("%s/%s/%s", from_suite, components[c], kind)
                                    : NULL;
        if (from != NULL)
          mbd_index_batch_copy (batch, from, to);
        else
          fn (batch, to, NULL);
      }
}

static void
drop_target (MbdIndexBatch *batch, const char *target, const char *unused)
{
  mbd_index_batch_drop (batch, target);
}

/**
 * mbd_repository_create_snapshot:
 * @self: a stored repository
 * @distribution: a (non-rollback) distribution string
 * @name: the snapshot name: letters, digits and `._+~-:`, starting with a letter or digit (the
 *   cron's are mini-buildd's `WEEKLY_2024-06-02T02:13`)
 * @cancellable: (nullable): a cancellable
 *
 * Takes a snapshot of a distribution and publishes it (see [class@Mbd.Snapshot]). The snapshot
 * keeps its pool files even when the distribution drops them.
 *
 * Returns: (transfer full): the snapshot, or %NULL with %MBD_ERROR_EXISTS for a name taken,
 *   %MBD_ERROR_INVALID_ARGUMENT or %MBD_ERROR_NOT_FOUND
 */
MbdSnapshot *
mbd_repository_create_snapshot (MbdRepository *self,
                                const char *distribution,
                                const char *name,
                                GCancellable *cancellable,
                                GError **error)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), NULL);
  g_return_val_if_fail (distribution != NULL && name != NULL, NULL);

  MbdDistribution *dist = snapshot_distribution (self, distribution, error);
  if (dist == NULL)
    return NULL;
  if (!snapshot_name_is_valid (name))
    {
      g_autofree char *q = mbd_utf8_excerpt (name, strlen (name), 70);
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "snapshot name '%s' is invalid: use up to 64 letters, digits and ._+~-: "
                 "starting with a letter or digit",
                 q);
      return NULL;
    }
  g_autofree char *path = g_strdup_printf ("%s/snapshots/%s", distribution, name);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  MbdRepoTxn txn;
  if (!mbd_repo_txn_begin (&txn, self, error))
    return run_txn_end (&txn, FALSE, cancellable, error), NULL;
  g_autoptr (sqlite3_stmt) insert = mbd_db_prepare (
      txn.db,
      "INSERT INTO snapshots (repository_id, distribution, name, created) VALUES (?1, ?2, ?3, ?4)",
      error);
  gboolean ok = insert != NULL;
  if (ok)
    {
      sqlite3_bind_int64 (insert, 1, self->id);
      sqlite3_bind_text (insert, 2, distribution, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (insert, 3, name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (insert, 4, now);
      int rc = sqlite3_step (insert);
      if ((rc & 0xff) == SQLITE_CONSTRAINT)
        ok = mbd_throw (error, MBD_ERROR_EXISTS, "%s has a snapshot %s already", distribution,
                        name);
      else if (rc != SQLITE_DONE)
        ok = mbd_db_throw (txn.db, rc, "cannot store the snapshot", error);
    }
  /* the entries are copied too, so that their pool files stay referenced */
  const char *const copies[] = {
    "INSERT INTO package_entries (repository_id, suite_path, source, version, component, "
    "dsc_file_id, source_stanza) SELECT repository_id, ?2, source, version, component, "
    "dsc_file_id, source_stanza FROM package_entries WHERE suite_path = ?1",
    "INSERT INTO entry_files (entry_id, file_id) SELECT n.id, f.file_id FROM package_entries n "
    "JOIN package_entries o ON o.suite_path = ?1 AND o.source = n.source "
    "JOIN entry_files f ON f.entry_id = o.id WHERE n.suite_path = ?2",
    "INSERT INTO entry_binaries (entry_id, package, version, architecture, file_id, stanza) "
    "SELECT n.id, b.package, b.version, b.architecture, b.file_id, b.stanza FROM package_entries n "
    "JOIN package_entries o ON o.suite_path = ?1 AND o.source = n.source "
    "JOIN entry_binaries b ON b.entry_id = o.id WHERE n.suite_path = ?2",
  };
  for (guint i = 0; ok && i < G_N_ELEMENTS (copies); i++)
    {
      g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (txn.db, copies[i], error);
      ok = stmt != NULL;
      if (ok)
        {
          sqlite3_bind_text (stmt, 1, distribution, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (stmt, 2, path, -1, SQLITE_TRANSIENT);
          ok = mbd_db_step_done (txn.db, stmt, error);
        }
    }
  if (ok)
    {
      for_each_target (dist, path, NULL, txn.batch, distribution);
      g_hash_table_add (txn.touched, g_strdup (path));
    }
  if (!run_txn_end (&txn, ok, cancellable, error))
    return NULL;
  return snapshot_new (distribution, name, now);
}

/**
 * mbd_repository_list_snapshots:
 * @self: a stored repository
 * @distribution: a distribution string
 *
 * Lists the snapshots of a distribution, oldest first.
 *
 * Returns: (transfer container) (element-type Mbd.Snapshot): the snapshots, or %NULL with
 *   %MBD_ERROR_NOT_FOUND for an unknown distribution
 */
GPtrArray *
mbd_repository_list_snapshots (MbdRepository *self, const char *distribution, GError **error)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), NULL);
  g_return_val_if_fail (distribution != NULL, NULL);

  if (snapshot_distribution (self, distribution, error) == NULL)
    return NULL;
  MbdDb *db = mbd_instance_get_db (self->instance);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT name, created FROM snapshots WHERE distribution = ?1 ORDER BY created, name",
      error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, distribution, -1, SQLITE_TRANSIENT);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, snapshot_new (distribution, (const char *) sqlite3_column_text (stmt, 0),
                                         sqlite3_column_int64 (stmt, 1)));
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read snapshots", error), NULL;
  return g_steal_pointer (&list);
}

/**
 * mbd_repository_delete_snapshot:
 * @self: a stored repository
 * @distribution: a distribution string
 * @name: a snapshot name
 * @cancellable: (nullable): a cancellable
 *
 * Deletes a snapshot: its published directory, its entries and the pool files only it used.
 *
 * Returns: %TRUE if deleted; %FALSE with %MBD_ERROR_NOT_FOUND
 */
gboolean
mbd_repository_delete_snapshot (MbdRepository *self,
                                const char *distribution,
                                const char *name,
                                GCancellable *cancellable,
                                GError **error)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), FALSE);
  g_return_val_if_fail (distribution != NULL && name != NULL, FALSE);

  MbdDistribution *dist = snapshot_distribution (self, distribution, error);
  if (dist == NULL)
    return FALSE;
  g_autofree char *path = g_strdup_printf ("%s/snapshots/%s", distribution, name);
  MbdRepoTxn txn;
  if (!mbd_repo_txn_begin (&txn, self, error))
    return run_txn_end (&txn, FALSE, cancellable, error);
  g_autoptr (sqlite3_stmt) del = mbd_db_prepare (
      txn.db, "DELETE FROM snapshots WHERE distribution = ?1 AND name = ?2 RETURNING id", error);
  gboolean ok = del != NULL;
  if (ok)
    {
      sqlite3_bind_text (del, 1, distribution, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (del, 2, name, -1, SQLITE_TRANSIENT);
      int rc = sqlite3_step (del);
      if (rc == SQLITE_DONE)
        ok = mbd_throw (error, MBD_ERROR_NOT_FOUND,
                        "%s has no snapshot %s (see 'mbd snapshot ls %s')", distribution, name,
                        distribution);
      else if (rc != SQLITE_ROW || sqlite3_step (del) != SQLITE_DONE)
        ok = mbd_db_throw (txn.db, rc, "cannot delete the snapshot", error);
    }
  g_autoptr (sqlite3_stmt) files
             = ok ? mbd_db_prepare (txn.db,
                                    "SELECT DISTINCT f.file_id FROM package_entries e JOIN "
                                    "entry_files f ON f.entry_id = e.id "
                                    "WHERE e.suite_path = ?1",
                                    error)
                  : NULL;
  ok = ok && files != NULL;
  if (ok)
    {
      sqlite3_bind_text (files, 1, path, -1, SQLITE_TRANSIENT);
      while (sqlite3_step (files) == SQLITE_ROW)
        mbd_repo_txn_gc_candidate (&txn, sqlite3_column_int64 (files, 0));
      g_autoptr (sqlite3_stmt) entries = mbd_db_prepare (
          txn.db, "DELETE FROM package_entries WHERE suite_path = ?1", error);
      ok = entries != NULL;
      if (ok)
        {
          sqlite3_bind_text (entries, 1, path, -1, SQLITE_TRANSIENT);
          ok = mbd_db_step_done (txn.db, entries, error);
        }
    }
  if (ok)
    {
      g_autofree char *repo_dir = mbd_repository_dup_path (self);
      g_autofree char *dists_dir = g_build_filename (repo_dir, "dists", NULL);
      for_each_target (dist, path, drop_target, txn.batch, NULL);
      ok = mbd_index_batch_apply (txn.batch, error)
           && mbd_index_remove_suite (txn.db, dists_dir, path, error);
      g_clear_pointer (&txn.batch, mbd_index_batch_free);
      txn.batch = mbd_index_batch_new (txn.db);
    }
  return run_txn_end (&txn, ok, cancellable, error);
}
