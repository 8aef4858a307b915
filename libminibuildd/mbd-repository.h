/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>
#include <libminibuildd/mbd-distribution.h>
#include <libminibuildd/mbd-instance.h>
#include <libminibuildd/mbd-layout.h>

G_BEGIN_DECLS

/**
 * MBD_REPOSITORY_DEFAULT_IDENTITY:
 *
 * The identity of the repository a new instance gets: `test`, as in mini-buildd.
 */
#define MBD_REPOSITORY_DEFAULT_IDENTITY "test"

#define MBD_TYPE_REPOSITORY (mbd_repository_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdRepository, mbd_repository, MBD, REPOSITORY, GObject)

#define MBD_TYPE_SNAPSHOT (mbd_snapshot_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdSnapshot, mbd_snapshot, MBD, SNAPSHOT, GObject)

MBD_AVAILABLE_IN_ALL
MbdRepository *mbd_repository_new (const char *identity, MbdLayout *layout, GError **error);
MBD_AVAILABLE_IN_ALL
const char *mbd_repository_get_identity (MbdRepository *self);
MBD_AVAILABLE_IN_ALL
MbdLayout *mbd_repository_get_layout (MbdRepository *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_get_allow_unauthenticated_uploads (MbdRepository *self);
MBD_AVAILABLE_IN_ALL
void mbd_repository_set_allow_unauthenticated_uploads (MbdRepository *self, gboolean allow);
MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_add_distribution (MbdRepository *self,
                                          MbdDistribution *distribution,
                                          GError **error);
MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_repository_get_distributions (MbdRepository *self);
MBD_AVAILABLE_IN_ALL
MbdDistribution *mbd_repository_lookup_distribution (MbdRepository *self, const char *codename);
MBD_AVAILABLE_IN_ALL
char **mbd_repository_list_distribution_strings (MbdRepository *self, gboolean with_rollbacks);
MBD_AVAILABLE_IN_ALL
char *mbd_repository_dup_path (MbdRepository *self);

MBD_AVAILABLE_IN_ALL
char *mbd_get_native_architecture (GError **error);
MBD_AVAILABLE_IN_ALL
MbdDistribution *mbd_distribution_new_for_host (GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_instance_add_repository (MbdInstance *instance,
                                      MbdRepository *repository,
                                      GCancellable *cancellable,
                                      GError **error);
MBD_AVAILABLE_IN_ALL
MbdRepository *
mbd_instance_lookup_repository (MbdInstance *instance, const char *identity, GError **error);
MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_instance_list_repositories (MbdInstance *instance, GError **error);
MBD_AVAILABLE_IN_ALL
MbdRepository *mbd_instance_lookup_repository_for_distribution (MbdInstance *instance,
                                                                const char *distribution,
                                                                GError **error);
MBD_AVAILABLE_IN_ALL
char *mbd_instance_resolve_distribution (MbdInstance *instance, const char *name, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_include (MbdRepository *self,
                                 const char *distribution,
                                 const char *const *files,
                                 GCancellable *cancellable,
                                 GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_repository_include_async (MbdRepository *self,
                                   const char *distribution,
                                   const char *const *files,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_include_finish (MbdRepository *self, GAsyncResult *result, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_migrate (MbdRepository *self,
                                 const char *source,
                                 const char *distribution,
                                 const char *version,
                                 gboolean full,
                                 GCancellable *cancellable,
                                 GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_restore_rollback (MbdRepository *self,
                                          const char *source,
                                          const char *distribution,
                                          int rollback,
                                          GCancellable *cancellable,
                                          GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_remove (MbdRepository *self,
                                const char *source,
                                const char *distribution,
                                const char *version,
                                gboolean without_rollback,
                                GCancellable *cancellable,
                                GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_publish (MbdRepository *self,
                                 gboolean all,
                                 GCancellable *cancellable,
                                 GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_check (MbdRepository *self,
                               char ***out_problems,
                               GCancellable *cancellable,
                               GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_collect_garbage (MbdRepository *self,
                                         guint *out_removed,
                                         GCancellable *cancellable,
                                         GError **error);

MBD_AVAILABLE_IN_ALL
MbdSnapshot *mbd_repository_create_snapshot (MbdRepository *self,
                                             const char *distribution,
                                             const char *name,
                                             GCancellable *cancellable,
                                             GError **error);
MBD_AVAILABLE_IN_ALL
GPtrArray *
mbd_repository_list_snapshots (MbdRepository *self, const char *distribution, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_delete_snapshot (MbdRepository *self,
                                         const char *distribution,
                                         const char *name,
                                         GCancellable *cancellable,
                                         GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_repository_migrate_async (MbdRepository *self,
                                   const char *source,
                                   const char *distribution,
                                   const char *version,
                                   gboolean full,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_migrate_finish (MbdRepository *self, GAsyncResult *result, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_repository_remove_async (MbdRepository *self,
                                  const char *source,
                                  const char *distribution,
                                  const char *version,
                                  gboolean without_rollback,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_repository_remove_finish (MbdRepository *self, GAsyncResult *result, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_repository_create_snapshot_async (MbdRepository *self,
                                           const char *distribution,
                                           const char *name,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
MBD_AVAILABLE_IN_ALL
MbdSnapshot *
mbd_repository_create_snapshot_finish (MbdRepository *self, GAsyncResult *result, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_repository_delete_snapshot_async (MbdRepository *self,
                                           const char *distribution,
                                           const char *name,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean
mbd_repository_delete_snapshot_finish (MbdRepository *self, GAsyncResult *result, GError **error);
MBD_AVAILABLE_IN_ALL
const char *mbd_snapshot_get_distribution (MbdSnapshot *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_snapshot_get_name (MbdSnapshot *self);
MBD_AVAILABLE_IN_ALL
GDateTime *mbd_snapshot_get_created (MbdSnapshot *self);
MBD_AVAILABLE_IN_ALL
char *mbd_snapshot_get_suite_path (MbdSnapshot *self);

MBD_AVAILABLE_IN_ALL
char *mbd_instance_repositories_json (MbdInstance *instance, GError **error);
MBD_AVAILABLE_IN_ALL
char *mbd_instance_ls_json (MbdInstance *instance,
                            const char *source,
                            const char *repository,
                            const char *codename,
                            const char *version,
                            gboolean show,
                            GError **error);
MBD_AVAILABLE_IN_ALL
char *mbd_instance_search_json (MbdInstance *instance, const char *pattern, GError **error);
MBD_AVAILABLE_IN_ALL
char **mbd_instance_sources_list (MbdInstance *instance,
                                  const char *repository,
                                  const char *codename,
                                  const char *suite,
                                  const char *const *types,
                                  gboolean with_rollbacks,
                                  const char *snapshot,
                                  const char *mirror,
                                  GError **error);

G_END_DECLS
