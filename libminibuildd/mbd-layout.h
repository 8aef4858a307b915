/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <glib-object.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

/**
 * MBD_LAYOUT_DEFAULT:
 *
 * The name of mini-buildd's "Default" layout: experimental, snapshot, unstable, testing, hotfix
 * and stable, with rollbacks.
 */
#define MBD_LAYOUT_DEFAULT "default"

/**
 * MBD_LAYOUT_DEFAULT_NO_ROLLBACKS:
 *
 * The name of mini-buildd's "Default (no rollbacks)" layout: the suites of %MBD_LAYOUT_DEFAULT
 * without rollbacks.
 */
#define MBD_LAYOUT_DEFAULT_NO_ROLLBACKS "default-no-rollbacks"

/**
 * MBD_LAYOUT_DEBIAN_DEVELOPER:
 *
 * The name of mini-buildd's "Debian Developer" layout: stable, testing, unstable and experimental,
 * any version accepted, meta distributions `unstable` and `experimental` for sid.
 */
#define MBD_LAYOUT_DEBIAN_DEVELOPER "debian-developer"

#define MBD_TYPE_SUITE (mbd_suite_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdSuite, mbd_suite, MBD, SUITE, GObject)

MBD_AVAILABLE_IN_ALL
MbdSuite *mbd_suite_new (const char *name, GError **error);
MBD_AVAILABLE_IN_ALL
const char *mbd_suite_get_name (MbdSuite *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_suite_get_uploadable (MbdSuite *self);
MBD_AVAILABLE_IN_ALL
void mbd_suite_set_uploadable (MbdSuite *self, gboolean uploadable);
MBD_AVAILABLE_IN_ALL
gboolean mbd_suite_get_experimental (MbdSuite *self);
MBD_AVAILABLE_IN_ALL
void mbd_suite_set_experimental (MbdSuite *self, gboolean experimental);
MBD_AVAILABLE_IN_ALL
const char *mbd_suite_get_migrates_to (MbdSuite *self);
MBD_AVAILABLE_IN_ALL
void mbd_suite_set_migrates_to (MbdSuite *self, const char *suite);
MBD_AVAILABLE_IN_ALL
guint mbd_suite_get_rollbacks (MbdSuite *self);
MBD_AVAILABLE_IN_ALL
void mbd_suite_set_rollbacks (MbdSuite *self, guint rollbacks);
MBD_AVAILABLE_IN_ALL
gboolean mbd_suite_get_not_automatic (MbdSuite *self);
MBD_AVAILABLE_IN_ALL
void mbd_suite_set_not_automatic (MbdSuite *self, gboolean not_automatic);
MBD_AVAILABLE_IN_ALL
gboolean mbd_suite_get_but_automatic_upgrades (MbdSuite *self);
MBD_AVAILABLE_IN_ALL
void mbd_suite_set_but_automatic_upgrades (MbdSuite *self, gboolean but_automatic_upgrades);
MBD_AVAILABLE_IN_ALL
gboolean mbd_suite_get_build_keyring_package (MbdSuite *self);
MBD_AVAILABLE_IN_ALL
void mbd_suite_set_build_keyring_package (MbdSuite *self, gboolean build_keyring_package);

#define MBD_TYPE_LAYOUT (mbd_layout_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdLayout, mbd_layout, MBD, LAYOUT, GObject)

MBD_AVAILABLE_IN_ALL
MbdLayout *mbd_layout_new (const char *name);
MBD_AVAILABLE_IN_ALL
MbdLayout *mbd_layout_new_builtin (const char *name, GError **error);
MBD_AVAILABLE_IN_ALL
char **mbd_layout_list_builtin (void);
MBD_AVAILABLE_IN_ALL
const char *mbd_layout_get_name (MbdLayout *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_layout_add_suite (MbdLayout *self, MbdSuite *suite, GError **error);
MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_layout_get_suites (MbdLayout *self);
MBD_AVAILABLE_IN_ALL
MbdSuite *mbd_layout_lookup_suite (MbdLayout *self, const char *name);
MBD_AVAILABLE_IN_ALL
void mbd_layout_set_version_rules (MbdLayout *self,
                                   const char *default_version,
                                   const char *mandatory_version_regex,
                                   const char *experimental_default_version,
                                   const char *experimental_mandatory_version_regex);
MBD_AVAILABLE_IN_ALL
char *mbd_layout_get_default_version (MbdLayout *self,
                                      MbdSuite *suite,
                                      const char *identity,
                                      const char *codeversion);
MBD_AVAILABLE_IN_ALL
gboolean mbd_layout_check_version (MbdLayout *self,
                                   MbdSuite *suite,
                                   const char *identity,
                                   const char *codeversion,
                                   const char *version,
                                   GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_layout_add_meta_distribution (MbdLayout *self, const char *meta, const char *target);
MBD_AVAILABLE_IN_ALL
const char *mbd_layout_lookup_meta_distribution (MbdLayout *self, const char *meta);

G_END_DECLS
