/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-cron.h"

G_BEGIN_DECLS

/* The cron if the instance has one yet (for the instance's own start and stop). */
MbdCron *mbd_instance_peek_cron (MbdInstance *instance);

G_END_DECLS
