/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_identity;
static char *opt_key_type;

static const GOptionEntry options[]
    = { { "identity", 0, 0, G_OPTION_ARG_STRING, &opt_identity,
          "Identity of a new instance (default: from the host name)", "ID" },
        { "key-type", 0, 0, G_OPTION_ARG_STRING, &opt_key_type,
          "Algorithm of a new instance key, such as rsa4096 or ed25519 "
          "(default: " MBD_GNUPG_DEFAULT_KEY_ALGORITHM ")",
          "ALGO" },
        { NULL } };

BUILTINPROTO (init)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- create an mbd instance");

  if (!mbd_option_context_parse (context, options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_NO_INSTANCE, NULL, cancellable, error))
    return FALSE;

  g_autoptr (MbdInstance) instance = mbd_instance_new (mbd_cli_get_home ());
  mbd_instance_set_identity (instance, opt_identity);
  mbd_instance_set_key_algorithm (instance, opt_key_type);
  if (!mbd_instance_open (instance, MBD_INSTANCE_OPEN_CREATE, cancellable, error))
    return FALSE;

  printf ("Instance:    %s\n", mbd_instance_get_identity (instance));
  printf ("Home:        %s\n", mbd_instance_get_home (instance));
  printf ("Fingerprint: %s\n", mbd_instance_get_fingerprint (instance));
  return TRUE;
}
