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
 * MBD_DEBMIRROR_DEFAULT_ARCHITECTURES:
 *
 * mini-buildd's default architectures of a debmirror run, comma-separated; only those a
 * distribution has are mirrored.
 */
#define MBD_DEBMIRROR_DEFAULT_ARCHITECTURES                                                        \
  "amd64,i386,arm64,armhf,armel,s390x,ppc64el,mipsel,mips64el"

/**
 * MBD_DEBMIRROR_TIMEOUT:
 *
 * Seconds one debmirror run (one repository) may take before it is killed.
 */
#define MBD_DEBMIRROR_TIMEOUT (3 * 3600)

#define MBD_TYPE_DEBMIRROR (mbd_debmirror_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdDebmirror, mbd_debmirror, MBD, DEBMIRROR, GObject)

MBD_AVAILABLE_IN_ALL
MbdDebmirror *mbd_debmirror_new (MbdInstance *instance);
MBD_AVAILABLE_IN_ALL
void mbd_debmirror_set_repositories (MbdDebmirror *self, const char *const *repositories);
MBD_AVAILABLE_IN_ALL
void mbd_debmirror_set_codenames (MbdDebmirror *self, const char *const *codenames);
MBD_AVAILABLE_IN_ALL
void mbd_debmirror_set_suites (MbdDebmirror *self, const char *const *suites);
MBD_AVAILABLE_IN_ALL
void mbd_debmirror_set_rollbacks (MbdDebmirror *self, int rollbacks);
MBD_AVAILABLE_IN_ALL
void mbd_debmirror_set_architectures (MbdDebmirror *self, const char *const *architectures);
MBD_AVAILABLE_IN_ALL
void mbd_debmirror_set_components (MbdDebmirror *self, const char *const *components);
MBD_AVAILABLE_IN_ALL
void mbd_debmirror_set_destination (MbdDebmirror *self, const char *destination);

MBD_AVAILABLE_IN_ALL
void mbd_debmirror_run_async (MbdDebmirror *self,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
MBD_AVAILABLE_IN_ALL
char *mbd_debmirror_run_finish (MbdDebmirror *self, GAsyncResult *result, GError **error);

G_END_DECLS
