/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libminibuildd/libminibuildd.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Registers every route on @server, serving @instance. */
void mbd_server_routes_add (SoupServer *server, MbdInstance *instance);

/* Serves the published repositories under /repositories/<id>/ (GET, HEAD, ranges). */
void mbd_server_repositories_add (SoupServer *server, MbdInstance *instance);

/* Answers with an RFC 7807 application/problem+json body, in mini-buildd's shape. */
void mbd_server_problem (SoupServerMessage *msg, guint status, const char *detail);

G_END_DECLS
