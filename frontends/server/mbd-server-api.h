/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "mbd-server.h"

G_BEGIN_DECLS

/* The API calls of mbd-server-api-*.c: mini-buildd's argument names (GET encoding: lists
 * comma-separated, booleans "True"/"False", ints decimal), its result shapes, and the outputs
 * json (the default for API clients), plain (text, or pretty JSON), html (a minimal page) and
 * html-snippet (that page's body only, for mini-buildd's JS popup). */

/* What a call needs before it runs (mini-buildd's flags). */
typedef enum
{
  MBD_SERVER_API_CHANGES = 1 << 0, /* changes the instance (who may: the level in api_calls[]) */
  MBD_SERVER_API_CONFIRM = 1 << 1, /* C: needs confirm=<call> */
  MBD_SERVER_API_RUNNING = 1 << 2, /* R: 503 while the engine is stopped */
} MbdServerApiFlags;

/* Checks @flags and the @mandatory arguments (NULL-terminated, may be NULL); answers the problem
 * (400, 503) itself and returns FALSE if something is missing. */
gboolean mbd_server_api_check (SoupServerMessage *msg,
                               MbdInstance *instance,
                               GHashTable *query,
                               const char *call,
                               MbdServerApiFlags flags,
                               const char *const *mandatory);

/* Whether @output is one of the text outputs: plain, html or html-snippet. */
gboolean mbd_server_api_output_is_text (const char *output);

/* Answers 200 with @result in the output the query asks for (see above). */
void mbd_server_api_answer (SoupServerMessage *msg, GHashTable *query, JsonNode *result);
/* Answers the empty object {} (mini-buildd's answer of the calls that only act). */
void mbd_server_api_answer_empty (SoupServerMessage *msg, GHashTable *query);
/* Answers a text result (a JSON string for output=json). */
void mbd_server_api_answer_text (SoupServerMessage *msg, GHashTable *query, const char *text);
/* Answers the problem for a failed call: "API call '<call>': <message>". */
void mbd_server_api_fail (SoupServerMessage *msg, const char *call, const GError *error);

/* A paused message waiting for asynchronous work, with its query. */
typedef struct
{
  SoupServerMessage *msg; /* (owned) */
  GHashTable *query;      /* (owned) (nullable) */
} MbdServerApiPending;

/* Pauses @msg and returns what the answer needs later. */
MbdServerApiPending *mbd_server_api_pause (SoupServerMessage *msg, GHashTable *query);
/* Unpauses the message (answered by now) and frees @pending. */
void mbd_server_api_resume (MbdServerApiPending *pending);

/* The value of argument @name, or NULL if it is missing or empty. */
const char *mbd_server_api_arg (GHashTable *query, const char *name);
/* The comma-separated list argument @name (entries stripped); NULL if it is missing or empty. */
char **mbd_server_api_arg_list (GHashTable *query, const char *name);
/* Parses boolean argument @name (True/False, 1/0, yes/no; missing: FALSE); answers 400 naming
 * the argument and returns FALSE for any other value. */
gboolean mbd_server_api_arg_bool (SoupServerMessage *msg,
                                  GHashTable *query,
                                  const char *call,
                                  const char *name,
                                  gboolean *out_value);
/* Parses integer argument @name (missing: @fallback); answers 400 for a non-integer. */
gboolean mbd_server_api_arg_int (SoupServerMessage *msg,
                                 GHashTable *query,
                                 const char *call,
                                 const char *name,
                                 int fallback,
                                 int *out_value);
/* Whether @distribution (the value of argument @name) is one of the instance's distributions,
 * rollbacks included; answers 400 naming it and returns FALSE if not. */
gboolean mbd_server_api_check_distribution (SoupServerMessage *msg,
                                            MbdInstance *instance,
                                            const char *call,
                                            const char *name,
                                            const char *distribution);
/* Answers 400 "API call '<call>': argument '<name>' <what>". */
void mbd_server_api_bad_arg (SoupServerMessage *msg,
                             const char *call,
                             const char *name,
                             const char *what);

/* Read calls (mbd-server-api-read.c). */
void mbd_server_api_status (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_pub_key (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_sources_list (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_ls (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_show (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_snapshot_ls (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

/* Repository calls (mbd-server-api-repo.c). */
void mbd_server_api_migrate (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_remove (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void
mbd_server_api_snapshot_create (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void
mbd_server_api_snapshot_delete (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_uploaders (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_debdiff (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

/* Administration calls (mbd-server-api-admin.c; debmirror: mbd-server-api-debmirror.c; wake and
 * handshake: mbd-server-api-remotes.c). */
void mbd_server_api_start (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_stop (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void
mbd_server_api_remake_chroots (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_setup (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_debmirror (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_wake (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void
mbd_server_api_test_packages (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);
void mbd_server_api_handshake (SoupServerMessage *msg, MbdInstance *instance, GHashTable *query);

G_END_DECLS
