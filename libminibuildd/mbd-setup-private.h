/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-setup.h"

G_BEGIN_DECLS

/* Reads the machine's apt sources below @etc_apt instead of /etc/apt (tests). */
void mbd_setup_set_etc_apt (MbdSetup *self, const char *etc_apt);

G_END_DECLS
