/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "mbd-deb-version.h"

struct _MbdDebVersion
{
  guint epoch;
  char *upstream;
  char *revision;
};

G_DEFINE_BOXED_TYPE (MbdDebVersion, mbd_deb_version, mbd_deb_version_copy, mbd_deb_version_free)

MbdDebVersion *
mbd_deb_version_copy (const MbdDebVersion *self)
{
  MbdDebVersion *copy = g_new0 (MbdDebVersion, 1);
  copy->epoch = self->epoch;
  copy->upstream = g_strdup (self->upstream);
  copy->revision = g_strdup (self->revision);
  return copy;
}

void
mbd_deb_version_free (MbdDebVersion *self)
{
  g_free (self->upstream);
  g_free (self->revision);
  g_free (self);
}
