/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One `deb` entry of the machine's apt sources: a URI with the suites and components it serves.
 * A deb822 stanza with several URIs gives one entry per URI. */
typedef struct
{
  char *uri;         /* without trailing slash */
  char **suites;     /* (array zero-terminated=1) */
  char **components; /* (array zero-terminated=1) */
  char *signed_by;   /* (nullable) a path, or NULL when absent or inline */
} MbdAptSource;

void mbd_apt_source_free (MbdAptSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MbdAptSource, mbd_apt_source_free)

/* Reads the `deb` entries of @etc_apt (normally "/etc/apt"): sources.list, then
 * sources.list.d/ *.list and *.sources in name order. deb-src entries, `Enabled: no` stanzas and
 * files that cannot be parsed are skipped (a broken file of the host must not stop us; the
 * caller reports "no mirror found" naming @etc_apt). Never fails: a missing directory gives an
 * empty array. (element-type MbdAptSource) */
GPtrArray *mbd_apt_sources_read (const char *etc_apt);

/* The mirror URI for @suite (such as "bookworm-security") among @entries: the URI of the first
 * entry serving @suite itself; otherwise of the first entry serving a suite of the same family
 * (its part before the first '-' is in @family, such as {"bookworm", "trixie", "stable", NULL})
 * that is a security suite (ends in "-security") exactly when @suite is one. Otherwise, for a
 * security suite, the family's main mirror: with @security_beside, with "-security" appended to
 * its path (Debian's layout: .../debian and .../debian-security), else as it is (Ubuntu's
 * archive serves -security too). NULL if nothing fits. */
char *mbd_apt_sources_find_mirror (GPtrArray *entries,
                                   const char *suite,
                                   const char *const *family,
                                   gboolean security_beside);

G_END_DECLS
