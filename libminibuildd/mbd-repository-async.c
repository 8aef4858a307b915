/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "mbd-repository.h"

/* The _async forms of the repository's changes (migrate, remove, snapshots): each runs the
 * synchronous call in a worker thread. That thread writes through a database connection of its
 * own (see MbdDbPool), so its transaction and those of the caller's thread stay apart; the
 * event a change records is added in that thread. */

typedef enum
{
  OP_MIGRATE,
  OP_REMOVE,
  OP_CREATE_SNAPSHOT,
  OP_DELETE_SNAPSHOT,
} OpKind;

typedef struct
{
  OpKind kind;
  char *source;
  char *distribution;
  char *version; /* or the snapshot's name */
  gboolean flag; /* full, or without_rollback */
} Op;

static void
op_free (Op *op)
{
  g_free (op->source);
  g_free (op->distribution);
  g_free (op->version);
  g_free (op);
}

static void
op_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  MbdRepository *self = source;
  Op *op = task_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;
  MbdSnapshot *snapshot = NULL;

  switch (op->kind)
    {
    case OP_MIGRATE:
      ok = mbd_repository_migrate (self, op->source, op->distribution, op->version, op->flag,
                                   cancellable, &error);
      break;
    case OP_REMOVE:
      ok = mbd_repository_remove (self, op->source, op->distribution, op->version, op->flag,
                                  cancellable, &error);
      break;
    case OP_CREATE_SNAPSHOT:
      snapshot = mbd_repository_create_snapshot (self, op->distribution, op->version, cancellable,
                                                 &error);
      ok = snapshot != NULL;
      break;
    case OP_DELETE_SNAPSHOT:
      ok = mbd_repository_delete_snapshot (self, op->distribution, op->version, cancellable,
                                           &error);
      break;
    }
  if (!ok)
    g_task_return_error (task, g_steal_pointer (&error));
  else if (snapshot != NULL)
    g_task_return_pointer (task, snapshot, g_object_unref);
  else
    g_task_return_boolean (task, TRUE);
}

static void
run_op (MbdRepository *self,
        Op *op,
        gpointer tag,
        const char *name,
        GCancellable *cancellable,
        GAsyncReadyCallback callback,
        gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tag);
  g_task_set_name (task, name);
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);
  g_task_run_in_thread (task, op_thread);
}

static Op *
op_new (OpKind kind,
        const char *source,
        const char *distribution,
        const char *version,
        gboolean flag)
{
  Op *op = g_new0 (Op, 1);
  op->kind = kind;
  op->source = g_strdup (source);
  op->distribution = g_strdup (distribution);
  op->version = g_strdup (version);
  op->flag = flag;
  return op;
}

static gboolean
finish_boolean (MbdRepository *self, GAsyncResult *result, gpointer tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * mbd_repository_migrate_async:
 * @self: a stored repository
 * @source: a source package name
 * @distribution: the distribution to migrate from
 * @version: (nullable): the version that must be there, or %NULL for any
 * @full: whether to follow the whole migration chain
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Migrates in a worker thread; see [method@Mbd.Repository.migrate].
 */
void
mbd_repository_migrate_async (MbdRepository *self,
                              const char *source,
                              const char *distribution,
                              const char *version,
                              gboolean full,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_return_if_fail (MBD_IS_REPOSITORY (self));
  g_return_if_fail (source != NULL && distribution != NULL);
  run_op (self, op_new (OP_MIGRATE, source, distribution, version, full),
          mbd_repository_migrate_async, "[mbd] migrate", cancellable, callback, user_data);
}

/**
 * mbd_repository_migrate_finish:
 * @self: a repository
 * @result: the result passed to the callback
 *
 * Finishes [method@Mbd.Repository.migrate_async].
 *
 * Returns: %TRUE if migrated
 */
gboolean
mbd_repository_migrate_finish (MbdRepository *self, GAsyncResult *result, GError **error)
{
  return finish_boolean (self, result, mbd_repository_migrate_async, error);
}

/**
 * mbd_repository_remove_async:
 * @self: a stored repository
 * @source: a source package name
 * @distribution: the distribution to remove it from
 * @version: (nullable): the version that must be there, or %NULL for any
 * @without_rollback: %TRUE to drop it instead of keeping it in the rollbacks
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Removes in a worker thread; see [method@Mbd.Repository.remove].
 */
void
mbd_repository_remove_async (MbdRepository *self,
                             const char *source,
                             const char *distribution,
                             const char *version,
                             gboolean without_rollback,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_return_if_fail (MBD_IS_REPOSITORY (self));
  g_return_if_fail (source != NULL && distribution != NULL);
  run_op (self, op_new (OP_REMOVE, source, distribution, version, without_rollback),
          mbd_repository_remove_async, "[mbd] remove", cancellable, callback, user_data);
}

/**
 * mbd_repository_remove_finish:
 * @self: a repository
 * @result: the result passed to the callback
 *
 * Finishes [method@Mbd.Repository.remove_async].
 *
 * Returns: %TRUE if removed
 */
gboolean
mbd_repository_remove_finish (MbdRepository *self, GAsyncResult *result, GError **error)
{
  return finish_boolean (self, result, mbd_repository_remove_async, error);
}

/**
 * mbd_repository_create_snapshot_async:
 * @self: a stored repository
 * @distribution: a distribution string
 * @name: the snapshot's name
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Takes a snapshot in a worker thread; see [method@Mbd.Repository.create_snapshot].
 */
void
mbd_repository_create_snapshot_async (MbdRepository *self,
                                      const char *distribution,
                                      const char *name,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  g_return_if_fail (MBD_IS_REPOSITORY (self));
  g_return_if_fail (distribution != NULL && name != NULL);
  run_op (self, op_new (OP_CREATE_SNAPSHOT, NULL, distribution, name, FALSE),
          mbd_repository_create_snapshot_async, "[mbd] create snapshot", cancellable, callback,
          user_data);
}

/**
 * mbd_repository_create_snapshot_finish:
 * @self: a repository
 * @result: the result passed to the callback
 *
 * Finishes [method@Mbd.Repository.create_snapshot_async].
 *
 * Returns: (transfer full): the new snapshot, or %NULL with @error set
 */
MbdSnapshot *
mbd_repository_create_snapshot_finish (MbdRepository *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == mbd_repository_create_snapshot_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * mbd_repository_delete_snapshot_async:
 * @self: a stored repository
 * @distribution: a distribution string
 * @name: the snapshot's name
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Deletes a snapshot in a worker thread; see [method@Mbd.Repository.delete_snapshot].
 */
void
mbd_repository_delete_snapshot_async (MbdRepository *self,
                                      const char *distribution,
                                      const char *name,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  g_return_if_fail (MBD_IS_REPOSITORY (self));
  g_return_if_fail (distribution != NULL && name != NULL);
  run_op (self, op_new (OP_DELETE_SNAPSHOT, NULL, distribution, name, FALSE),
          mbd_repository_delete_snapshot_async, "[mbd] delete snapshot", cancellable, callback,
          user_data);
}

/**
 * mbd_repository_delete_snapshot_finish:
 * @self: a repository
 * @result: the result passed to the callback
 *
 * Finishes [method@Mbd.Repository.delete_snapshot_async].
 *
 * Returns: %TRUE if deleted
 */
gboolean
mbd_repository_delete_snapshot_finish (MbdRepository *self, GAsyncResult *result, GError **error)
{
  return finish_boolean (self, result, mbd_repository_delete_snapshot_async, error);
}
