/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "mbd-source.h"

G_BEGIN_DECLS

/* mbd_source_new_builtin() reading the apt sources below @etc_apt instead of /etc/apt (tests). */
MbdSource *mbd_source_new_builtin_from (const char *codename,
                                        const char *origin,
                                        const char *etc_apt,
                                        GError **error);

/* The proxy of $http_proxy (and $no_proxy) for a SoupSession, or NULL for none: never GLib's
 * default resolver, which reads desktop settings. */
GProxyResolver *mbd_proxy_resolver_from_environment (void);

G_END_DECLS
