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

/* Users and roles (mbd-server-auth.c): serves /accounts/login/, /accounts/logout/ and
 * /accounts/null/ (mini-buildd's client's login target). */
void mbd_server_auth_add (SoupServer *server, MbdInstance *instance);
#define MBD_SERVER_DEFAULT_LOGIN_FAILURES 5
#define MBD_SERVER_DEFAULT_LOGIN_WINDOW 60

/* The login rate limit: after @failures failed (or unfinished) logins for one user name within
 * @window seconds, or 4 times as many from one client address, further logins for it get 429
 * until the oldest failure is @window seconds old; 0 failures: no limit. */
void mbd_server_auth_set_login_limit (guint failures, guint window);
/* The users of the served instance. */
MbdUsers *mbd_server_get_users (void);
/* Authenticates the request (an `Authorization: Bearer` token or the sessionid cookie) and checks
 * that its user has @level for API call @call. Answers 401 (no or bad credentials) or 403 (too
 * low a level) with mini-buildd's problem body and returns FALSE if not. */
gboolean mbd_server_authorize (SoupServerMessage *msg, const char *call, MbdUserLevel level);
/* The user mbd_server_authorize() found for @msg, or NULL for an anonymous client. */
MbdUser *mbd_server_get_user (SoupServerMessage *msg);

/* The LOGIN calls of a user's own profile (mbd-server-users.c). */
void mbd_server_api_set_user_key (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_subscribe (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_unsubscribe (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

/* The retry and cancel API calls (argument bkey: a package key). */
void mbd_server_api_retry (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_cancel (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

/* The HTTP status for a failed call's error: 404 not found, 400 bad input, 503 busy, else 500. */
guint mbd_server_status_for_error (const GError *error);

/* The port and port_ext API calls (mbd-server-port.c). */
void mbd_server_api_port (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_port_ext (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

/* Whether query parameter @name is given and not "false" or "0" (mini-buildd's booleans). */
gboolean mbd_server_query_flag (GHashTable *query, const char *name);

/* The keyring_packages API call: builds the keyring package (mbd-server-keyring.c). */
void
mbd_server_api_keyring_packages (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
/* The cronjob API call: runs a cron job now (argument id, confirm=cronjob); mbd-server-cron.c. */
void mbd_server_api_cronjob (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

#define MBD_SERVER_EVENTS_DEFAULT_MAX_CLIENTS 70
#define MBD_SERVER_EVENTS_DEFAULT_TIMEOUT 0
#define MBD_SERVER_EVENTS_DEFAULT_KEEPALIVE 15

/* Limits of the event followers: at most @max waiting long-polls and streams together, a
 * long-poll waits at most @timeout seconds (then 204; 0: as long as the client is connected), a
 * stream gets a comment every @keepalive seconds. */
void mbd_server_events_set_limits (guint max, guint timeout, guint keepalive);

/* The event log: long-poll GET /static/events.attach[?after=] and Server-Sent Events GET /events. */
void mbd_server_events_add (SoupServer *server, MbdInstance *instance);

/* Answers every waiting long-poll with 503 and ends the streams, as mini-buildd wakes its
 * clients on shutdown; runs the main context until the answers are out (at most 0.3 s). */
void mbd_server_events_shutdown (void);

#define MBD_SERVER_DEFAULT_IDLE_TIMEOUT 60
#define MBD_SERVER_DEFAULT_MAX_BODY (1024 * 1024)

/* Request limits outside uploads: a request's headers (and body) must arrive within @timeout
 * seconds (0: no limit) or the connection is dropped; bodies over @max_body bytes get 413. */
void mbd_server_limits_set (guint timeout, gint64 max_body);

/* Applies those limits to every request of @server (mbd-server-limits.c). */
void mbd_server_limits_add (SoupServer *server);

G_END_DECLS
