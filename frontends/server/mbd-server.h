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

/* Accepts dput's http upload method: PUT /upload/<file name>, streamed into @incoming. */
void mbd_server_upload_add (SoupServer *server, MbdIncoming *incoming);

/* The dput_conf API call: a dput.cf stanza, or with dput_ng_profile a dput-ng profile. */
void mbd_server_api_dput_conf (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

/* Answers 403 and returns FALSE unless the client connects over loopback: the calls that change
 * the instance, until users and roles exist. */
gboolean mbd_server_require_local (SoupServerMessage *msg, const char *call);

/* The retry and cancel API calls (argument bkey: a package key). */
void mbd_server_api_retry (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_cancel (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

/* The HTTP status for a failed call's error: 404 not found, 400 bad input, 503 busy, else 500. */
guint mbd_server_status_for_error (const GError *error);

/* The port and port_ext API calls (mbd-server-port.c). */
void mbd_server_api_port (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_port_ext (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

G_END_DECLS
