/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-packager.h"

G_BEGIN_DECLS

/* A packager for @instance (unowned): the instance creates its own one, see
 * mbd_instance_get_packager(). */
MbdPackager *mbd_packager_new_for_instance (MbdInstance *instance);

G_END_DECLS
