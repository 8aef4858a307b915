/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-packager.h"

G_BEGIN_DECLS

/* The instance's packager if it has one yet (for the instance's own stop). */
MbdPackager *mbd_instance_peek_packager (MbdInstance *instance);

/* The instance that owns @self. */
MbdInstance *mbd_packager_get_instance (MbdPackager *self);

G_END_DECLS
