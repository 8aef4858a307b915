/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbd-builtins.h"

/* Same options as ls (mbd-builtin-ls.c); adds the dsc path and migration state. */
BUILTINPROTO (show)
{
  return mbd_cli_ls_show (argc, argv, invocation, TRUE, cancellable, error);
}
