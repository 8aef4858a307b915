/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-db-private.h"
#include "mbd-instance.h"

G_BEGIN_DECLS

/* The open instance's database, for the library's own objects (and white-box tests): the calling
 * thread's own connection (see MbdDbPool). Do not hand it to another thread. */
MbdDb *mbd_instance_get_db (MbdInstance *self);

G_END_DECLS
