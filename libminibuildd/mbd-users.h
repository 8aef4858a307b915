/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>
#include <libminibuildd/mbd-instance.h>

G_BEGIN_DECLS

/**
 * MbdUserLevel:
 * @MBD_USER_LEVEL_NONE: anybody, also without credentials (and an inactive user)
 * @MBD_USER_LEVEL_LOGIN: an authenticated, active user
 * @MBD_USER_LEVEL_STAFF: an active user with the staff flag
 * @MBD_USER_LEVEL_ADMIN: an active user with the superuser flag
 *
 * The authorization levels of mini-buildd's API calls, ordered: a user of one level may do
 * everything the lower levels may.
 */
typedef enum
{
  MBD_USER_LEVEL_NONE,
  MBD_USER_LEVEL_LOGIN,
  MBD_USER_LEVEL_STAFF,
  MBD_USER_LEVEL_ADMIN,
} MbdUserLevel;

/**
 * MBD_USERS_SESSION_LIFETIME:
 *
 * The lifetime in seconds of a login session unless told otherwise: two weeks, as Django's.
 */
#define MBD_USERS_SESSION_LIFETIME (14 * 24 * 3600)

MBD_AVAILABLE_IN_ALL
const char *mbd_user_level_to_string (MbdUserLevel level);

#define MBD_TYPE_USER (mbd_user_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdUser, mbd_user, MBD, USER, GObject)

MBD_AVAILABLE_IN_ALL
const char *mbd_user_get_name (MbdUser *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_user_get_email (MbdUser *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_user_get_is_active (MbdUser *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_user_get_is_staff (MbdUser *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_user_get_is_superuser (MbdUser *self);
MBD_AVAILABLE_IN_ALL
gint64 mbd_user_get_created (MbdUser *self);
MBD_AVAILABLE_IN_ALL
MbdUserLevel mbd_user_get_level (MbdUser *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_user_get_key_fingerprint (MbdUser *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_user_get_key_active (MbdUser *self);

#define MBD_TYPE_USERS (mbd_users_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdUsers, mbd_users, MBD, USERS, GObject)

MBD_AVAILABLE_IN_ALL
MbdUsers *mbd_users_new (MbdInstance *instance);
MBD_AVAILABLE_IN_ALL
char *mbd_users_make_secret (GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_users_add (MbdUsers *self,
                        const char *name,
                        const char *password,
                        const char *email,
                        MbdUserLevel level,
                        GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_users_remove (MbdUsers *self, const char *name, GError **error);
MBD_AVAILABLE_IN_ALL
MbdUser *mbd_users_lookup (MbdUsers *self, const char *name, GError **error);
MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_users_list (MbdUsers *self, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_users_has_admin (MbdUsers *self, gboolean *out_has_admin, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_users_ensure_admin (MbdUsers *self,
                                 const char *password_file,
                                 gboolean *out_created,
                                 GError **error);
MBD_AVAILABLE_IN_ALL
gboolean
mbd_users_set_password (MbdUsers *self, const char *name, const char *password, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_users_set_level (MbdUsers *self, const char *name, MbdUserLevel level, GError **error);

MBD_AVAILABLE_IN_ALL
MbdUser *
mbd_users_authenticate (MbdUsers *self, const char *name, const char *password, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_users_authenticate_async (MbdUsers *self,
                                   const char *name,
                                   const char *password,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
MBD_AVAILABLE_IN_ALL
MbdUser *mbd_users_authenticate_finish (MbdUsers *self, GAsyncResult *result, GError **error);

MBD_AVAILABLE_IN_ALL
char *mbd_users_create_session (MbdUsers *self, const char *name, gint64 lifetime, GError **error);
MBD_AVAILABLE_IN_ALL
MbdUser *mbd_users_verify_session (MbdUsers *self, const char *session, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_users_delete_session (MbdUsers *self, const char *session, GError **error);

MBD_AVAILABLE_IN_ALL
char *mbd_users_create_token (MbdUsers *self, const char *name, GError **error);
MBD_AVAILABLE_IN_ALL
MbdUser *mbd_users_verify_token (MbdUsers *self, const char *token, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_users_revoke_tokens (MbdUsers *self, const char *name, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_users_subscribe (MbdUsers *self,
                              const char *name,
                              const char *source,
                              const char *distribution,
                              gboolean *out_created,
                              GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_users_unsubscribe (MbdUsers *self,
                                const char *name,
                                const char *source,
                                const char *distribution,
                                gboolean *out_removed,
                                GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_users_list_subscriptions (MbdUsers *self,
                                       const char *name,
                                       char ***out_sources,
                                       char ***out_distributions,
                                       GError **error);
MBD_AVAILABLE_IN_ALL
char **mbd_users_get_subscribers (MbdUsers *self,
                                  const char *source,
                                  const char *distribution,
                                  GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_users_set_key (MbdUsers *self,
                            const char *name,
                            const char *armored_key,
                            GCancellable *cancellable,
                            GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_users_set_key_async (MbdUsers *self,
                              const char *name,
                              const char *armored_key,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_users_set_key_finish (MbdUsers *self, GAsyncResult *result, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_users_activate_key (MbdUsers *self, const char *name, GError **error);

G_END_DECLS
