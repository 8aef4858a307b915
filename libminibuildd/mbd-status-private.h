/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-status.h"

G_BEGIN_DECLS

/* Takes ownership of @chroots and @remotes. */
MbdStatus *mbd_status_new (const char *identity,
                           const char *url,
                           const char *incoming_url,
                           double load,
                           GStrv chroots,
                           GStrv remotes);

G_END_DECLS
