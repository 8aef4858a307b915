/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-db-private.h"
#include "mbd-index-private.h"
#include "mbd-instance-private.h"
#include "mbd-repository.h"

G_BEGIN_DECLS

/* How long superseded by-hash files stay published after a change (apt clients mid-update). */
#define MBD_REPOSITORY_BY_HASH_GRACE_SECONDS 600

struct _MbdRepository
{
  GObject parent_instance;

  char *identity;
  MbdLayout *layout;
  GPtrArray *distributions; /* (element-type MbdDistribution) */
  gboolean allow_unauthenticated_uploads;
  MbdInstance *instance; /* (owned) (nullable): set once stored */
  gint64 id;             /* row id once stored, else 0 */
  gboolean published;    /* all its distributions were published once */
};

/* A pool file written under a temporary name, renamed to @final just before COMMIT. */
typedef struct
{
  char *tmp;   /* absolute */
  char *final; /* absolute */
  gboolean placed;
} MbdRepoStaged;

/* One change of a repository: one sqlite transaction with one index batch; pool files are staged
 * under temporary names and renamed into place just before COMMIT. */
typedef struct
{
  MbdRepository *repo;
  MbdDb *db;
  MbdIndexBatch *batch;
  GHashTable *touched; /* suite paths to publish */
  GHashTable *gc;      /* candidate pool file ids (gint64 *) */
  GHashTable *staged;  /* relative pool path -> MbdRepoStaged */
  GPtrArray *unlink;   /* pool files to delete after COMMIT */
  GHashTable *stmts;   /* SQL text (by address) -> sqlite3_stmt, kept for the transaction */
  char *repo_dir;
} MbdRepoTxn;

/* A statement from the transaction's cache: a bulk include runs the same few statements for
 * every package, and preparing them each time cost more than running them. Release it with
 * g_autoptr (MbdTxnStmt), which resets it and clears its bindings. */
typedef sqlite3_stmt MbdTxnStmt;

static inline void
mbd_txn_stmt_release (MbdTxnStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MbdTxnStmt, mbd_txn_stmt_release)

/* The cached statement for @sql, which must be a string literal (the cache is keyed by its
 * address). Fails if the statement is still in use by a caller further up. */
MbdTxnStmt *mbd_repo_txn_stmt (MbdRepoTxn *txn, const char *sql, GError **error);

gboolean mbd_repo_txn_begin (MbdRepoTxn *txn, MbdRepository *repo, GError **error);
/* Applies the batch, places staged files, commits, deletes garbage, publishes touched suites. */
gboolean mbd_repo_txn_commit (MbdRepoTxn *txn, GCancellable *cancellable, GError **error);
/* Rolls back and removes staged files; safe after a failed commit and after a commit. */
void mbd_repo_txn_clear (MbdRepoTxn *txn);

MbdDistribution *mbd_repository_lookup_distribution_string (MbdRepository *self,
                                                            const char *distribution,
                                                            MbdSuite **out_suite,
                                                            int *out_rollback,
                                                            GError **error);

/* Marks a pool file as possibly unused: deleted at COMMIT if no entry references it then. */
void mbd_repo_txn_gc_candidate (MbdRepoTxn *txn, gint64 file_id);

/* Entries: one version of one source in one suite path. */
gboolean mbd_repo_entry_lookup (MbdRepoTxn *txn,
                                const char *suite_path,
                                const char *source,
                                gint64 *out_id,
                                char **out_version,
                                GError **error);
gboolean mbd_repo_entry_index (MbdRepoTxn *txn,
                               MbdDistribution *dist,
                               gint64 entry_id,
                               const char *suite_path,
                               gboolean put,
                               GError **error);
gboolean mbd_repo_entry_delete (MbdRepoTxn *txn,
                                MbdDistribution *dist,
                                gint64 entry_id,
                                const char *suite_path,
                                GError **error);
gboolean mbd_repo_entry_move (MbdRepoTxn *txn,
                              MbdDistribution *dist,
                              gint64 entry_id,
                              const char *from,
                              const char *to,
                              GError **error);
gboolean mbd_repo_entry_copy (MbdRepoTxn *txn,
                              MbdDistribution *dist,
                              gint64 entry_id,
                              const char *to,
                              gint64 *out_id,
                              GError **error);
/* Moves the current entry of a source in @base (a distribution string) into the rollbacks. */
gboolean mbd_repo_shift_into_rollbacks (MbdRepoTxn *txn,
                                        MbdDistribution *dist,
                                        MbdSuite *suite,
                                        const char *base,
                                        const char *source,
                                        gint64 entry_id,
                                        const char *version,
                                        gboolean keep_rollbacks,
                                        GError **error);

/* Adds @str to @builder and frees it (g_strv_builder_take is newer than GLib 2.74). */
void mbd_strv_builder_take (GStrvBuilder *builder, char *str);

/* Publishes one suite path of the repository. */
gboolean mbd_repository_publish_suite (MbdRepository *self,
                                       const char *suite_path,
                                       GCancellable *cancellable,
                                       GError **error);

/* Publishes the suites a crash or a failed publish left unpublished (crash recovery at engine
 * start), and every distribution of a repository never published as a whole (the default one of
 * a new instance is stored without publishing, which takes seconds of signing: the engine's
 * first start does it, so the server delivers an apt source at once). */
gboolean mbd_instance_publish_dirty_suites (MbdInstance *instance,
                                            GCancellable *cancellable,
                                            GError **error);

/* Creates the default repository of a new instance (test, Default layout, host distribution). */
gboolean
mbd_repository_ensure_default (MbdInstance *instance, GCancellable *cancellable, GError **error);

G_END_DECLS
