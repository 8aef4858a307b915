/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-packager.h"

G_BEGIN_DECLS

/* The instance's packager if it has one yet (for the instance's own stop). */
MbdPackager *mbd_instance_peek_packager (MbdInstance *instance);

/* The instance the packager belongs to, and its internal URL (NULL unless set). */
MbdInstance *mbd_packager_get_instance (MbdPackager *self);
const char *mbd_packager_get_internal_url (MbdPackager *self);

G_END_DECLS
