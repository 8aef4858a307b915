/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "mbd-gnupg.h"

struct _MbdGnupg
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (MbdGnupg, mbd_gnupg, G_TYPE_OBJECT)

static void
mbd_gnupg_class_init (MbdGnupgClass *klass)
{
}

static void
mbd_gnupg_init (MbdGnupg *self)
{
}
