/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-keyring-package.h"
#include "mbd-repository.h"

G_BEGIN_DECLS

/* The keyring package's version for a suite: @when (UTC) as YYYYmmddHHMMSS followed by the
 * layout's default version suffix of @suite in @distribution (`20260101120000~test12+1`). */
char *mbd_keyring_package_version (MbdRepository *repository,
                                   MbdDistribution *distribution,
                                   MbdSuite *suite,
                                   GDateTime *when);

/* Writes the source tree of `<identity>-archive-keyring` at @version for @distribution (the
 * changelog's distribution) into a new directory `<name>-<version>` under @parent and returns
 * its path. @url is where the instance is served (APT sources and dput configuration point
 * there); NULL fails with MBD_ERROR_INVALID_ARGUMENT. */
char *mbd_keyring_package_write_tree (MbdInstance *instance,
                                      const char *url,
                                      const char *distribution,
                                      const char *version,
                                      const char *parent,
                                      GError **error);

/* Marks package @key to be migrated through its suite's whole migration chain once it is
 * installed (stored in the package's row, so it survives a restart). */
gboolean mbd_packager_mark_migrate (MbdInstance *instance, const char *key, GError **error);

/* Migrates the installed packages marked by mbd_packager_mark_migrate() and clears their mark;
 * the packager calls it on each tick. Failures are logged and clear the mark too. */
void mbd_packager_migrate_installed (MbdInstance *instance);

G_END_DECLS
