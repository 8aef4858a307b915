/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

#define MBD_TYPE_STATUS (mbd_status_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdStatus, mbd_status, MBD, STATUS, GObject)

MBD_AVAILABLE_IN_ALL
const char *mbd_status_get_version (MbdStatus *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_status_get_identity (MbdStatus *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_status_get_url (MbdStatus *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_status_get_incoming_url (MbdStatus *self);
MBD_AVAILABLE_IN_ALL
double mbd_status_get_load (MbdStatus *self);
MBD_AVAILABLE_IN_ALL
const char *const *mbd_status_get_chroots (MbdStatus *self);
MBD_AVAILABLE_IN_ALL
const char *const *mbd_status_get_remotes (MbdStatus *self);
MBD_AVAILABLE_IN_ALL
char *mbd_status_to_json (MbdStatus *self);

G_END_DECLS
