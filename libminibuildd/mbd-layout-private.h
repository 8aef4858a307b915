/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-layout.h"

G_BEGIN_DECLS

/* The mandatory version regex of @suite with its placeholders expanded (regex-escaped), as
 * mbd_layout_check_version() matches it; for ports, which replace what it matched. */
char *mbd_layout_dup_mandatory_regex (MbdLayout *self,
                                      MbdSuite *suite,
                                      const char *identity,
                                      const char *codeversion);

G_END_DECLS
