/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libminibuildd/libminibuildd.h>

G_BEGIN_DECLS

typedef enum
{
  MBD_BUILTIN_FLAG_NONE = 0,
  MBD_BUILTIN_FLAG_NO_INSTANCE = 1 << 0, /* the command opens (or creates) the instance itself */
} MbdBuiltinFlags;

typedef struct
{
  const char *name;        /* the command, "init" */
  const char *description; /* one line for `mbd --help` */
} MbdCommandInvocation;

#define BUILTINPROTO(name)                                                                         \
  gboolean mbd_builtin_##name (int argc, char **argv, MbdCommandInvocation *invocation,            \
                               GCancellable *cancellable, GError **error)

BUILTINPROTO (init);
BUILTINPROTO (status);
BUILTINPROTO (source);
BUILTINPROTO (chroot);
BUILTINPROTO (build);

/* Parses the command's options together with the global ones (--home), and opens the instance
 * into @out_instance unless @flags has MBD_BUILTIN_FLAG_NO_INSTANCE. Handles --help. Fails with
 * G_OPTION_ERROR for usage errors, which main() turns into exit code 2. */
gboolean mbd_option_context_parse (GOptionContext *context,
                                   const GOptionEntry *entries,
                                   int *argc,
                                   char ***argv,
                                   MbdCommandInvocation *invocation,
                                   MbdBuiltinFlags flags,
                                   MbdInstance **out_instance,
                                   GCancellable *cancellable,
                                   GError **error);

/* The home named by --home, or the default one; valid after mbd_option_context_parse(). */
const char *mbd_cli_get_home (void);

G_END_DECLS
