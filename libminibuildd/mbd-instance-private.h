/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-db-private.h"
#include "mbd-instance.h"

G_BEGIN_DECLS

/* The open instance's database, for the library's own objects (and white-box tests). */
MbdDb *mbd_instance_get_db (MbdInstance *self);

/* One connection serves every thread, but a transaction belongs to the connection: two threads
 * writing through it at once would run inside each other's transactions. A worker thread that
 * writes while the main thread may too (the cron's jobs) opens its own connection to the same
 * file for the time of its work; mbd_instance_get_db() on that thread then gives it, and sqlite's
 * locking (with the busy timeout) orders the two writers. */
gboolean mbd_instance_open_thread_db (MbdInstance *self, GError **error);
void mbd_instance_close_thread_db (MbdInstance *self);

G_END_DECLS
