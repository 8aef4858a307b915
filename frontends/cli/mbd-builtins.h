/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libminibuildd/libminibuildd.h>

G_BEGIN_DECLS

typedef enum
{
  MBD_BUILTIN_FLAG_NONE = 0,
  MBD_BUILTIN_FLAG_NO_INSTANCE = 1 << 0, /* the command opens (or creates) the instance itself */
  MBD_BUILTIN_FLAG_ARGS = 1 << 1,        /* the command takes positional arguments */
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
BUILTINPROTO (setup);
BUILTINPROTO (source);
BUILTINPROTO (repo);
BUILTINPROTO (include);
BUILTINPROTO (ls);
BUILTINPROTO (show);
BUILTINPROTO (search);
BUILTINPROTO (migrate);
BUILTINPROTO (remove);
BUILTINPROTO (snapshot);
BUILTINPROTO (sources_list);
BUILTINPROTO (chroot);
BUILTINPROTO (build);
BUILTINPROTO (upload);
BUILTINPROTO (events);
BUILTINPROTO (cron);
BUILTINPROTO (retry);
BUILTINPROTO (cancel);
BUILTINPROTO (port);
BUILTINPROTO (port_ext);
BUILTINPROTO (keyring_packages);
BUILTINPROTO (mail);
BUILTINPROTO (user);
BUILTINPROTO (remote);

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

/* ls and show share their options and output (mbd-builtin-ls.c). */
gboolean mbd_cli_ls_show (int argc,
                          char **argv,
                          MbdCommandInvocation *invocation,
                          gboolean show,
                          GCancellable *cancellable,
                          GError **error);

/* Removes the first non-option argument (a subcommand such as "create") from @argv, skipping
 * the value of --home; returns it (transfer none), or NULL if there is none. */
const char *mbd_cli_take_subcommand (int *argc, char **argv);
/* The same, skipping the value of each option in @value_options (which must name --home). */
const char *mbd_cli_take_subcommand_full (int *argc, char **argv, const char *const *value_options);

/* A usage error (exit code 2) naming the command. */
gboolean mbd_cli_usage_error (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* Creates (@create) or checks @chroot with a progress bar on a terminal (progress lines
 * otherwise); ^C or SIGTERM cancel it. @from: a tarball to copy instead of running mmdebstrap. */
gboolean mbd_cli_chroot_run (MbdChroot *chroot, gboolean create, const char *from, GError **error);

/* The home named by --home, or the default one; valid after mbd_option_context_parse(). */
const char *mbd_cli_get_home (void);

G_END_DECLS
