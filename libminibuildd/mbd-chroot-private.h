/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-chroot.h"

G_BEGIN_DECLS

/* The user that builds run as when we are root (the unshare backend refuses root: it needs
 * /etc/subuid and /etc/subgid ranges). */
#define MBD_CHROOT_BUILD_USER "mbdbuild"

/* The sbuild options that select @chroot, e.g. {"--chroot-mode=unshare",
 * "--chroot=<home>/chroots/bookworm/amd64/chroot.tar.zst", NULL}. */
char **mbd_chroot_sbuild_args (MbdChroot *chroot);

/* The user to run sbuild as: NULL means ourselves (not root, or the schroot backend);
 * MBD_CHROOT_BUILD_USER when we are root and the backend is unshare. */
const char *mbd_chroot_get_build_user (MbdChroot *chroot);

/* When we are root: makes sure MBD_CHROOT_BUILD_USER exists (useradd --system-less, with a home)
 * with /etc/subuid and /etc/subgid ranges, in group sbuild if it exists. Not root: nothing to
 * do. */
gboolean mbd_chroot_ensure_build_user (GCancellable *cancellable, GError **error);

/* The mmdebstrap command line creating @chroot at @target. */
char **mbd_chroot_mmdebstrap_argv (MbdChroot *chroot, const char *target, const char *keyring);

/* The schroot configuration for the schroot backend. */
char *mbd_chroot_schroot_config (MbdChroot *chroot);

/* The Debian mirror the machine's apt uses for @codename (read from @etc_apt, normally
 * "/etc/apt"): the entry serving the codename, else the first one that is no security archive. */
char *mbd_chroot_host_mirror (const char *etc_apt, const char *codename, GError **error);

/* Maps mmdebstrap's "I: ..." phase lines to a fraction of the creation; -1 for other lines. */
double mbd_chroot_progress_for_line (const char *line);

/* The attempt timeouts of apt-get update within @total seconds: @attempts timeouts doubling
 * each time and adding up to @total. */
int mbd_chroot_attempt_timeout (int total, int attempts, int attempt);

/* Stores @chroot in the instance database in its current state (ABSENT for a new one, which
 * mini-buildd calls a chroot that exists but is not prepared) unless a row exists already. */
gboolean mbd_chroot_store (MbdChroot *chroot, GError **error);

G_END_DECLS
