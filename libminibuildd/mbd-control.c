/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "mbd-control.h"

struct _MbdParagraph
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (MbdParagraph, mbd_paragraph, G_TYPE_OBJECT)

static void
mbd_paragraph_class_init (MbdParagraphClass *klass)
{
}

static void
mbd_paragraph_init (MbdParagraph *self)
{
}

struct _MbdControl
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (MbdControl, mbd_control, G_TYPE_OBJECT)

static void
mbd_control_class_init (MbdControlClass *klass)
{
}

static void
mbd_control_init (MbdControl *self)
{
}
