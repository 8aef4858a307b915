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
 * MBD_SOURCE_DEFAULT_TIMEOUT:
 *
 * Seconds a source check waits for a mirror, for connecting and for each whole download,
 * unless [method@Mbd.Source.set_timeout] says otherwise.
 */
#define MBD_SOURCE_DEFAULT_TIMEOUT 30

/**
 * MbdSourceState:
 * @MBD_SOURCE_STATE_REMOVED: the source is not (or no longer) in the instance
 * @MBD_SOURCE_STATE_PREPARED: the source is configured but its last check failed or it was
 *   never checked; builds must not use it
 * @MBD_SOURCE_STATE_ACTIVE: the last check succeeded: a mirror serves a Release file of this
 *   source, validly signed by its keyring and not expired
 *
 * The life cycle of a [class@Mbd.Source], after mini-buildd's status of its models.
 */
typedef enum
{
  MBD_SOURCE_STATE_REMOVED,
  MBD_SOURCE_STATE_PREPARED,
  MBD_SOURCE_STATE_ACTIVE,
} MbdSourceState;

#define MBD_TYPE_SOURCE (mbd_source_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdSource, mbd_source, MBD, SOURCE, GObject)

MBD_AVAILABLE_IN_ALL
MbdSource *mbd_source_new (const char *origin, const char *codename);
MBD_AVAILABLE_IN_ALL
MbdSource *mbd_source_new_builtin (const char *codename, const char *origin, GError **error);
MBD_AVAILABLE_IN_ALL
char **mbd_source_list_builtin_codenames (void);

MBD_AVAILABLE_IN_ALL
const char *mbd_source_get_origin (MbdSource *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_source_get_codename (MbdSource *self);
MBD_AVAILABLE_IN_ALL
MbdSourceState mbd_source_get_state (MbdSource *self);

MBD_AVAILABLE_IN_ALL
const char *const *mbd_source_get_mirror_uris (MbdSource *self);
MBD_AVAILABLE_IN_ALL
void mbd_source_set_mirror_uris (MbdSource *self, const char *const *uris);
MBD_AVAILABLE_IN_ALL
const char *mbd_source_get_mirror_uri (MbdSource *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_source_get_keyring_file (MbdSource *self);
MBD_AVAILABLE_IN_ALL
void mbd_source_set_keyring_file (MbdSource *self, const char *path);
MBD_AVAILABLE_IN_ALL
const char *const *mbd_source_get_extra_identifiers (MbdSource *self);
MBD_AVAILABLE_IN_ALL
void mbd_source_set_extra_identifiers (MbdSource *self, const char *const *identifiers);
MBD_AVAILABLE_IN_ALL
const char *mbd_source_get_remove_from_component (MbdSource *self);
MBD_AVAILABLE_IN_ALL
void mbd_source_set_remove_from_component (MbdSource *self, const char *prefix);
MBD_AVAILABLE_IN_ALL
const char *mbd_source_get_codeversion_override (MbdSource *self);
MBD_AVAILABLE_IN_ALL
void mbd_source_set_codeversion_override (MbdSource *self, const char *codeversion);
MBD_AVAILABLE_IN_ALL
gboolean mbd_source_get_check_valid_until (MbdSource *self);
MBD_AVAILABLE_IN_ALL
void mbd_source_set_check_valid_until (MbdSource *self, gboolean check);
MBD_AVAILABLE_IN_ALL
int mbd_source_get_timeout (MbdSource *self);
MBD_AVAILABLE_IN_ALL
void mbd_source_set_timeout (MbdSource *self, int seconds);

MBD_AVAILABLE_IN_ALL
const char *const *mbd_source_get_extras (MbdSource *self);
MBD_AVAILABLE_IN_ALL
int mbd_source_get_extra_priority (MbdSource *self, const char *codename);
MBD_AVAILABLE_IN_ALL
void mbd_source_add_extra (MbdSource *self, const char *codename, int priority);

MBD_AVAILABLE_IN_ALL
const char *mbd_source_get_codeversion (MbdSource *self);
MBD_AVAILABLE_IN_ALL
const char *const *mbd_source_get_components (MbdSource *self);
MBD_AVAILABLE_IN_ALL
const char *const *mbd_source_get_architectures (MbdSource *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_source_get_description (MbdSource *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_source_get_check_message (MbdSource *self);
MBD_AVAILABLE_IN_ALL
GDateTime *mbd_source_get_check_time (MbdSource *self);
MBD_AVAILABLE_IN_ALL
char *mbd_source_get_apt_line (MbdSource *self);
MBD_AVAILABLE_IN_ALL
char *mbd_source_get_apt_pin (MbdSource *self);
MBD_AVAILABLE_IN_ALL
char **mbd_source_get_extra_sources (MbdSource *self, GError **error);

MBD_AVAILABLE_IN_ALL
char *mbd_source_guess_codeversion (const char *origin, const char *codename, const char *version);

MBD_AVAILABLE_IN_ALL
gboolean mbd_source_check (MbdSource *self, GCancellable *cancellable, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_source_check_async (MbdSource *self,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
MBD_AVAILABLE_IN_ALL
gboolean mbd_source_check_finish (MbdSource *self, GAsyncResult *result, GError **error);

MBD_AVAILABLE_IN_ALL
gboolean mbd_instance_add_source (MbdInstance *instance, MbdSource *source, GError **error);
MBD_AVAILABLE_IN_ALL
MbdSource *mbd_instance_lookup_source (MbdInstance *instance, const char *codename, GError **error);
MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_instance_list_sources (MbdInstance *instance, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_instance_remove_source (MbdInstance *instance, const char *codename, GError **error);

G_END_DECLS
