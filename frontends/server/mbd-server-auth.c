/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "mbd-server.h"

/* Users and roles: the Django-style login flow mini-buildd's client performs at /accounts/login/
 * (GET: a form and a csrftoken cookie; POST: the credentials with the token, answered with a
 * redirect to `next` and a sessionid cookie), logout, and the check of an API call's level
 * against the session cookie or an `Authorization: Bearer` token. */

#define SESSION_COOKIE "sessionid"
#define CSRF_COOKIE "csrftoken"
#define STATUS_TOO_MANY_REQUESTS 429 /* not in libsoup 3.2's SoupStatus */

static MbdUsers *server_users;

/* -- login rate limit ---------------------------------------------------------------------- */

/* Password guessing is throttled: every login attempt counts as a failure (from its start, so
 * that parallel attempts count too) until it succeeds; once a user name has max_failures of
 * them within the last window seconds, or a client address 4 times as many, further attempts
 * for that name (from that address) get 429 with Retry-After until the oldest leaves the
 * window, the right password included. A successful login forgets its name's failures. The
 * tables are pruned as they grow and bounded: past MAX_KEYS names (addresses) with recent
 * failures, new ones are not tracked (the other table still is). */
#define ADDRESS_FACTOR 4
#define MAX_KEYS 8192

static guint max_failures = MBD_SERVER_DEFAULT_LOGIN_FAILURES;
static guint failure_window = MBD_SERVER_DEFAULT_LOGIN_WINDOW;
static GHashTable *failures_by_name;    /* name -> GArray of gint64 monotonic µs */
static GHashTable *failures_by_address; /* address -> the same */

void
mbd_server_auth_set_login_limit (guint failures, guint window)
{
  max_failures = failures;
  failure_window = window;
}

/* Drops the failures of @times older than the window; returns how many are left. */
static guint
prune_times (GArray *times, gint64 now)
{
  gint64 horizon = now - (gint64) failure_window * G_USEC_PER_SEC;
  guint old = 0;

  while (old < times->len && g_array_index (times, gint64, old) <= horizon)
    old++;
  g_array_remove_range (times, 0, old);
  return times->len;
}

/* Seconds until @key may try again in @table (at most @limit failures), or 0. */
static gint64
throttled_for (GHashTable *table, const char *key, guint limit)
{
  GArray *times = g_hash_table_lookup (table, key);
  gint64 now = g_get_monotonic_time ();

  if (times == NULL || prune_times (times, now) < limit)
    return 0;
  gint64 free_at = g_array_index (times, gint64, times->len - limit)
                   + (gint64) failure_window * G_USEC_PER_SEC;
  return MAX ((free_at - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1);
}

static void
record_failure (GHashTable *table, const char *key)
{
  gint64 now = g_get_monotonic_time ();
  GArray *times = g_hash_table_lookup (table, key);

  if (times == NULL)
    {
      if (g_hash_table_size (table) >= MAX_KEYS / 2)
        {
          GHashTableIter iter;
          gpointer value;
          g_hash_table_iter_init (&iter, table);
          while (g_hash_table_iter_next (&iter, NULL, &value))
            if (prune_times (value, now) == 0)
              g_hash_table_iter_remove (&iter);
        }
      if (g_hash_table_size (table) >= MAX_KEYS)
        return;
      times = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_hash_table_insert (table, g_strdup (key), times);
    }
  g_array_append_val (times, now);
}

/* Takes back the failure counted for an attempt of @key that succeeded. */
static void
forget_failure (GHashTable *table, const char *key, gboolean all)
{
  GArray *times = g_hash_table_lookup (table, key);

  if (times == NULL)
    return;
  if (all || times->len <= 1)
    g_hash_table_remove (table, key);
  else
    g_array_remove_index (times, times->len - 1);
}

static void
free_times (gpointer times)
{
  g_array_unref (times);
}

MbdUsers *
mbd_server_get_users (void)
{
  return server_users;
}

MbdUser *
mbd_server_get_user (SoupServerMessage *msg)
{
  return g_object_get_data (G_OBJECT (msg), "mbd-user");
}

/* The value of cookie @name in the request, or NULL. */
static char *
request_cookie (SoupServerMessage *msg, const char *name)
{
  const char *header
      = soup_message_headers_get_list (soup_server_message_get_request_headers (msg), "Cookie");
  if (header == NULL)
    return NULL;
  g_auto (GStrv) pairs = g_strsplit_set (header, ";,", -1);
  for (guint i = 0; pairs[i] != NULL; i++)
    {
      char *pair = g_strstrip (pairs[i]);
      gsize len = strlen (name);
      if (strncmp (pair, name, len) == 0 && pair[len] == '=')
        return g_strdup (pair + len + 1);
    }
  return NULL;
}

/* A CSRF token. */
static char *
random_token (void)
{
  g_autoptr (GError) error = NULL;
  char *token = mbd_users_make_secret (&error);

  if (token == NULL)
    g_error ("%s", error->message);
  return token;
}

static void
add_cookie (SoupServerMessage *msg,
            const char *name,
            const char *value,
            gint64 max_age,
            gboolean http_only)
{
  /* over TLS the browser must not send the cookies over plain HTTP */
  gboolean tls = g_strcmp0 (g_uri_get_scheme (soup_server_message_get_uri (msg)), "https") == 0;
  g_autofree char *cookie
      = g_strdup_printf ("%s=%s; Path=/; Max-Age=%" G_GINT64_FORMAT "; SameSite=Lax%s%s", name,
                         value, max_age, http_only ? "; HttpOnly" : "", tls ? "; Secure" : "");
  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie",
                               cookie);
}

/* The user of the request's bearer token or session cookie, or NULL for an anonymous client.
 * Only a bearer token that does not verify is an error: a stale session cookie is ignored, as
 * Django does. */
static MbdUser *
authenticate (SoupServerMessage *msg, GError **error)
{
  const char *authorization = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    {
      g_autofree char *token = g_strstrip (g_strdup (authorization + 7));
      return mbd_users_verify_token (server_users, token, error);
    }
  g_autofree char *session = request_cookie (msg, SESSION_COOKIE);
  if (session == NULL)
    return NULL;
  return mbd_users_verify_session (server_users, session, NULL);
}

gboolean
mbd_server_authorize (SoupServerMessage *msg, const char *call, MbdUserLevel level)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdUser) user = authenticate (msg, &error);
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);

  if (error != NULL)
    {
      g_autofree char *detail = g_strdup_printf ("API call '%s': %s", call, error->message);
      soup_message_headers_replace (response_headers, "WWW-Authenticate",
                                    "Bearer realm=\"mbd\", error=\"invalid_token\"");
      mbd_server_problem (msg, SOUP_STATUS_UNAUTHORIZED, detail);
      return FALSE;
    }
  if (user != NULL)
    g_object_set_data_full (G_OBJECT (msg), "mbd-user", g_object_ref (user), g_object_unref);
  if (level == MBD_USER_LEVEL_NONE)
    return TRUE;
  if (user == NULL)
    {
      g_autofree char *detail = g_strdup_printf ("API call '%s' needs authorization: %s", call,
                                                 mbd_user_level_to_string (level));
      soup_message_headers_replace (response_headers, "WWW-Authenticate", "Bearer realm=\"mbd\"");
      mbd_server_problem (msg, SOUP_STATUS_UNAUTHORIZED, detail);
      return FALSE;
    }
  if (mbd_user_get_level (user) < level)
    {
      g_autofree char *detail
          = g_strdup_printf ("API call '%s' needs authorization: %s (user '%s' has %s)", call,
                             mbd_user_level_to_string (level), mbd_user_get_name (user),
                             mbd_user_level_to_string (mbd_user_get_level (user)));
      mbd_server_problem (msg, SOUP_STATUS_FORBIDDEN, detail);
      return FALSE;
    }
  return TRUE;
}

/* Where to go after login or logout: a local path of @next, else "/". Like Django, an absolute
 * URL is accepted when it points at this server (mini-buildd's client sends one); the redirect
 * then uses its path. */
static char *
safe_next (SoupServerMessage *msg, const char *next)
{
  if (next == NULL || *next == '\0' || strchr (next, '\\') != NULL)
    return g_strdup ("/");
  for (const char *p = next; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return g_strdup ("/");
  if (next[0] == '/')
    return g_strdup (next[1] == '/' ? "/" : next);

  g_autoptr (GUri) uri = g_uri_parse (next, G_URI_FLAGS_NONE, NULL);
  const char *host
      = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Host");
  if (uri == NULL || host == NULL || g_uri_get_host (uri) == NULL
      || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0))
    return g_strdup ("/");
  /* the Host header's form: an IPv6 address in brackets, the port only if the URL has one */
  const char *uri_host = g_uri_get_host (uri);
  g_autofree char *bracketed
      = strchr (uri_host, ':') != NULL ? g_strdup_printf ("[%s]", uri_host) : g_strdup (uri_host);
  g_autofree char *authority = g_uri_get_port (uri) > 0
                                   ? g_strdup_printf ("%s:%d", bracketed, g_uri_get_port (uri))
                                   : g_strdup (bracketed);
  if (g_ascii_strcasecmp (authority, host) != 0)
    return g_strdup ("/");
  const char *path = g_uri_get_path (uri);
  if (path[0] != '/' || path[1] == '/')
    return g_strdup ("/");
  return g_uri_get_query (uri) != NULL ? g_strconcat (path, "?", g_uri_get_query (uri), NULL)
                                       : g_strdup (path);
}

/* 302 to the local path @target, which the Location header carries as is (Django's redirect;
 * soup_server_message_set_redirect() would make it absolute). */
static void
redirect (SoupServerMessage *msg, const char *target)
{
  soup_server_message_set_status (msg, SOUP_STATUS_FOUND, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location", target);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_STATIC, "", 0);
}

/* The login page: a form with the CSRF token (also set as cookie), and @problem if not NULL. */
static void
answer_login_form (SoupServerMessage *msg, const char *next, const char *problem)
{
  g_autofree char *token = request_cookie (msg, CSRF_COOKIE);
  gboolean usable = token != NULL && strlen (token) == 64;

  for (const char *p = usable ? token : ""; *p != '\0'; p++)
    usable = usable && g_ascii_isxdigit (*p);
  if (!usable)
    {
      g_free (token);
      token = random_token ();
    }
  add_cookie (msg, CSRF_COOKIE, token, 31449600, FALSE);

  g_autofree char *next_html = g_markup_escape_text (next != NULL ? next : "/", -1);
  g_autofree char *problem_html
      = problem != NULL ? g_markup_printf_escaped ("<p class=\"errornote\">%s</p>\n", problem)
                        : g_strdup ("");
  char *body = g_strdup_printf (
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Log in | mbd</title></head>\n"
      "<body>\n<h1>Log in</h1>\n%s"
      "<form method=\"post\" action=\"/accounts/login/\">\n"
      "<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"%s\">\n"
      "<p><label for=\"id_username\">Username:</label> <input type=\"text\" name=\"username\" "
      "id=\"id_username\" autocomplete=\"username\" required></p>\n"
      "<p><label for=\"id_password\">Password:</label> <input type=\"password\" "
      "name=\"password\" id=\"id_password\" autocomplete=\"current-password\" required></p>\n"
      "<input type=\"hidden\" name=\"next\" value=\"%s\">\n"
      "<input type=\"submit\" value=\"Log in\">\n</form>\n</body></html>\n",
      problem_html, token, next_html);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control",
                                "no-store");
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_TAKE, body,
                                    strlen (body));
}

typedef struct
{
  SoupServerMessage *msg; /* (owned) */
  char *next;             /* (owned) */
  char *name;             /* (owned) */
  char *address;          /* (owned) */
} Login;

static void
login_free (Login *login)
{
  g_object_unref (login->msg);
  g_free (login->next);
  g_free (login->name);
  g_free (login->address);
  g_free (login);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Login, login_free)

static void
login_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Login) login = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdUser) user = mbd_users_authenticate_finish (MBD_USERS (source), result, &error);
  g_autofree char *session = NULL;

  if (user != NULL)
    session = mbd_users_create_session (server_users, mbd_user_get_name (user),
                                        MBD_USERS_SESSION_LIFETIME, &error);
  if (session != NULL)
    {
      forget_failure (failures_by_name, login->name, TRUE);
      forget_failure (failures_by_address, login->address, FALSE);
    }
  if (session == NULL)
    {
      g_message ("login of user '%s' from %s failed: %s", login->name, login->address,
                 error->message);
      const char *problem = error->domain == MBD_ERROR && error->code == MBD_ERROR_PERMISSION_DENIED
                                ? "Please enter a correct username and password. Note that both "
                                  "fields may be case-sensitive."
                                : error->message;
      answer_login_form (login->msg, login->next, problem);
    }
  else
    {
      /* a new CSRF token after login, as Django rotates it */
      g_autofree char *csrf = random_token ();
      add_cookie (login->msg, SESSION_COOKIE, session, MBD_USERS_SESSION_LIFETIME, TRUE);
      add_cookie (login->msg, CSRF_COOKIE, csrf, 31449600, FALSE);
      redirect (login->msg, login->next);
    }
  soup_server_message_unpause (login->msg);
}

/* Answers 429 (the login form saying why, Retry-After) and returns TRUE if logins for @name
 * from @address are throttled now. */
static gboolean
login_throttled (SoupServerMessage *msg, const char *next, const char *name, const char *address)
{
  if (max_failures == 0)
    return FALSE;
  guint limit = max_failures;
  gint64 wait = throttled_for (failures_by_name, name, limit);
  g_autofree char *why = g_strdup_printf ("for user '%s'", name);
  if (wait == 0)
    {
      limit = ADDRESS_FACTOR * max_failures;
      wait = throttled_for (failures_by_address, address, limit);
      g_free (why);
      why = g_strdup_printf ("from %s", address);
    }
  if (wait == 0)
    return FALSE;

  g_autofree char *problem = g_strdup_printf (
      "Too many failed logins %s (%u within %u s); try again in %" G_GINT64_FORMAT " s.", why,
      limit, failure_window, wait);
  g_autofree char *retry = g_strdup_printf ("%" G_GINT64_FORMAT, wait);
  g_message ("login of user '%s' from %s refused: %s", name, address, problem);
  answer_login_form (msg, next, problem);
  soup_server_message_set_status (msg, STATUS_TOO_MANY_REQUESTS, "Too Many Requests");
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                retry);
  return TRUE;
}

static void
login_post (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) flat = soup_message_body_flatten (body);
  g_autofree char *text = g_strndup (g_bytes_get_data (flat, NULL), g_bytes_get_size (flat));
  g_autoptr (GHashTable) form = soup_form_decode (text);
  g_autofree char *cookie = request_cookie (msg, CSRF_COOKIE);
  const char *field = g_hash_table_lookup (form, "csrfmiddlewaretoken");
  g_autofree char *next = safe_next (msg, g_hash_table_lookup (form, "next"));

  if (cookie == NULL || *cookie == '\0' || g_strcmp0 (cookie, field) != 0)
    {
      mbd_server_problem (msg, SOUP_STATUS_FORBIDDEN,
                          cookie == NULL
                              ? "CSRF verification failed: the csrftoken cookie is missing "
                                "(GET /accounts/login/ first)"
                              : "CSRF verification failed: csrfmiddlewaretoken does not match "
                                "the csrftoken cookie");
      return;
    }
  const char *name = g_hash_table_lookup (form, "username");
  const char *password = g_hash_table_lookup (form, "password");
  if (name == NULL || *name == '\0' || password == NULL || *password == '\0')
    {
      answer_login_form (msg, next, "Please enter your username and password.");
      return;
    }
  const char *address = soup_server_message_get_remote_host (msg);
  if (address == NULL)
    address = "";
  if (login_throttled (msg, next, name, address))
    return;
  if (max_failures > 0)
    {
      record_failure (failures_by_name, name);
      record_failure (failures_by_address, address);
    }

  Login *login = g_new0 (Login, 1);
  login->msg = g_object_ref (msg);
  login->next = g_steal_pointer (&next);
  login->name = g_strdup (name);
  login->address = g_strdup (address);
  soup_server_message_pause (msg);
  mbd_users_authenticate_async (server_users, name, password, NULL, login_ready, login);
}

static void
logout (SoupServerMessage *msg, GHashTable *query)
{
  g_autofree char *session = request_cookie (msg, SESSION_COOKIE);
  g_autoptr (GError) error = NULL;

  if (session != NULL && !mbd_users_delete_session (server_users, session, &error))
    {
      mbd_server_problem (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
      return;
    }
  add_cookie (msg, SESSION_COOKIE, "\"\"", 0, TRUE);
  const char *next = query != NULL ? g_hash_table_lookup (query, "next") : NULL;
  if (next != NULL)
    {
      g_autofree char *target = safe_next (msg, next);
      redirect (msg, target);
      return;
    }
  const char *body = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Logged out | "
                     "mbd</title></head>\n<body><h1>Logged out</h1>\n"
                     "<p><a href=\"/accounts/login/\">Log in again</a></p></body></html>\n";
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_STATIC, body,
                                    strlen (body));
}

static void
accounts_handler (SoupServer *server,
                  SoupServerMessage *msg,
                  const char *path,
                  GHashTable *query,
                  gpointer user_data)
{
  const char *method = soup_server_message_get_method (msg);
  gboolean get = strcmp (method, SOUP_METHOD_GET) == 0 || strcmp (method, SOUP_METHOD_HEAD) == 0;
  gboolean post = strcmp (method, SOUP_METHOD_POST) == 0;

  if (!get && !post)
    {
      g_autofree char *detail = g_strdup_printf ("Method %s is not allowed on %s", method, path);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    "GET, HEAD, POST");
      mbd_server_problem (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, detail);
      return;
    }
  if (strcmp (path, "/accounts/login/") == 0 || strcmp (path, "/accounts/login") == 0)
    {
      if (post)
        login_post (msg);
      else
        {
          g_autofree char *next
              = safe_next (msg, query != NULL ? g_hash_table_lookup (query, "next") : NULL);
          answer_login_form (msg, next, NULL);
        }
      return;
    }
  if (strcmp (path, "/accounts/logout/") == 0 || strcmp (path, "/accounts/logout") == 0)
    {
      logout (msg, query);
      return;
    }
  if (strcmp (path, "/accounts/null/") == 0 && get)
    {
      /* where mini-buildd's client asks to be sent after login: an empty page */
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "", 0);
      return;
    }
  g_autofree char *detail = g_strdup_printf ("No such resource: %s", path);
  mbd_server_problem (msg, SOUP_STATUS_NOT_FOUND, detail);
}

void
mbd_server_auth_add (SoupServer *server, MbdInstance *instance)
{
  g_clear_object (&server_users);
  server_users = mbd_users_new (instance);
  g_clear_pointer (&failures_by_name, g_hash_table_unref);
  g_clear_pointer (&failures_by_address, g_hash_table_unref);
  failures_by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_times);
  failures_by_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_times);
  soup_server_add_handler (server, "/accounts/", accounts_handler, NULL, NULL);
}
