/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>
#include <libminibuildd/mbd-build-request.h>
#include <libminibuildd/mbd-instance.h>

G_BEGIN_DECLS

#define MBD_TYPE_BUILDER (mbd_builder_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdBuilder, mbd_builder, MBD, BUILDER, GObject)

MBD_AVAILABLE_IN_ALL
MbdBuilder *mbd_builder_new (MbdInstance *instance);
MBD_AVAILABLE_IN_ALL
MbdBuilder *mbd_instance_get_builder (MbdInstance *instance);

MBD_AVAILABLE_IN_ALL
int mbd_builder_get_max_parallel (MbdBuilder *self);
MBD_AVAILABLE_IN_ALL
void mbd_builder_set_max_parallel (MbdBuilder *self, int max_parallel);
MBD_AVAILABLE_IN_ALL
gboolean mbd_builder_get_host_lintian (MbdBuilder *self);
MBD_AVAILABLE_IN_ALL
void mbd_builder_set_host_lintian (MbdBuilder *self, gboolean host_lintian);
MBD_AVAILABLE_IN_ALL
int mbd_builder_get_n_running (MbdBuilder *self);
MBD_AVAILABLE_IN_ALL
double mbd_builder_get_load (MbdBuilder *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_builder_is_started (MbdBuilder *self);

MBD_AVAILABLE_IN_ALL
gboolean mbd_builder_start (MbdBuilder *self, GError **error);
MBD_AVAILABLE_IN_ALL
void mbd_builder_stop (MbdBuilder *self);

MBD_AVAILABLE_IN_ALL
gboolean mbd_builder_submit (MbdBuilder *self, MbdBuildRequest *request, GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_builder_cancel (MbdBuilder *self, const char *key, GError **error);
MBD_AVAILABLE_IN_ALL
MbdBuildRequest *mbd_builder_lookup (MbdBuilder *self, const char *key, GError **error);
MBD_AVAILABLE_IN_ALL
GPtrArray *mbd_builder_list (MbdBuilder *self, GError **error);

G_END_DECLS
