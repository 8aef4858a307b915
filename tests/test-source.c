/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libsoup/soup.h>
#include <string.h>

#include "mbd-apt-sources-private.h"
#include "mbd-source-private.h"
#include "mbdtest.h"

/* A fake archive on a loopback HTTP server (SoupServer in a thread of its own, so that
 * synchronous checks in the test thread are answered), signed by a throw-away key; plus a port
 * that accepts connections and never answers, and one that refuses them. */

typedef struct
{
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  GThread *thread;
  GMutex lock;
  GHashTable *files; /* path -> GBytes */
  char *base;        /* http://127.0.0.1:PORT */
} TestServer;

typedef struct
{
  char *tmpdir;
  char *signer_home; /* key the keyring trusts */
  char *other_home;  /* key it does not */
  char *keyring;
  MbdGnupg *signer;
  MbdGnupg *other;
  MbdInstance *instance;
  TestServer http;
  GSocket *silent; /* listens, never accepts */
  char *silent_base;
  char *refused_base;
} Fixture;

static void
handle (SoupServer *server,
        SoupServerMessage *msg,
        const char *path,
        GHashTable *query,
        gpointer data)
{
  TestServer *ts = data;

  g_mutex_lock (&ts->lock);
  GBytes *body = g_hash_table_lookup (ts->files, path);
  if (body != NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    }
  else
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
  g_mutex_unlock (&ts->lock);
}

static gpointer
server_thread (gpointer data)
{
  TestServer *ts = data;

  g_main_context_push_thread_default (ts->context);
  g_main_loop_run (ts->loop);
  g_main_context_pop_thread_default (ts->context);
  return NULL;
}

static void
server_start (TestServer *ts)
{
  g_autoptr (GError) error = NULL;

  g_mutex_init (&ts->lock);
  ts->files
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  ts->context = g_main_context_new ();
  ts->loop = g_main_loop_new (ts->context, FALSE);
  g_main_context_push_thread_default (ts->context);
  ts->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (ts->server, NULL, handle, ts, NULL);
  soup_server_listen_local (ts->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  GSList *uris = soup_server_get_uris (ts->server);
  g_assert_nonnull (uris);
  ts->base = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_main_context_pop_thread_default (ts->context);
  ts->thread = g_thread_new ("test-http", server_thread, ts);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* In the server's thread: close the listener and every client connection, then let the loop
 * dispatch what closing them queued before it stops. */
static gboolean
disconnect_and_quit (gpointer data)
{
  TestServer *ts = data;

  soup_server_disconnect (ts->server);
  GSource *idle = g_idle_source_new ();
  g_source_set_priority (idle, G_PRIORITY_LOW);
  g_source_set_callback (idle, quit_loop, ts->loop, NULL);
  g_source_attach (idle, ts->context);
  g_source_unref (idle);
  return G_SOURCE_REMOVE;
}

static void
server_stop (TestServer *ts)
{
  /* Through the server's context: a quit before the loop runs would be lost. */
  g_main_context_invoke (ts->context, disconnect_and_quit, ts);
  g_thread_join (ts->thread);
  g_main_context_push_thread_default (ts->context);
  g_object_unref (ts->server);
  while (g_main_context_iteration (ts->context, FALSE))
    ;
  g_main_context_pop_thread_default (ts->context);
  g_main_loop_unref (ts->loop);
  g_main_context_unref (ts->context);
  g_hash_table_unref (ts->files);
  g_mutex_clear (&ts->lock);
  g_free (ts->base);
}

static void
serve (Fixture *fx, const char *path, GBytes *body)
{
  g_mutex_lock (&fx->http.lock);
  if (body != NULL)
    g_hash_table_insert (fx->http.files, g_strdup (path), g_bytes_ref (body));
  else
    g_hash_table_remove (fx->http.files, path);
  g_mutex_unlock (&fx->http.lock);
}

static GSocket *
loopback_socket (guint16 *out_port)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_socket_bind (socket, address, TRUE, &error);
  g_assert_no_error (error);
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *out_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return g_steal_pointer (&socket);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->signer_home = g_build_filename (fx->tmpdir, "signer", NULL);
  fx->other_home = g_build_filename (fx->tmpdir, "other", NULL);
  g_autofree char *fpr = mbd_test_make_key (fx->signer_home, "Archive <a@example.org>", NULL, NULL);
  g_free (mbd_test_make_key (fx->other_home, "Other <o@example.org>", NULL, NULL));
  fx->signer = mbd_gnupg_new (fx->signer_home, &error);
  g_assert_no_error (error);
  fx->other = mbd_gnupg_new (fx->other_home, &error);
  g_assert_no_error (error);

  g_autofree char *armored = mbd_gnupg_export_public_key (fx->signer, fpr, NULL, &error);
  g_assert_no_error (error);
  fx->keyring = g_build_filename (fx->tmpdir, "archive-keyring.asc", NULL);
  g_file_set_contents (fx->keyring, armored, -1, &error);
  g_assert_no_error (error);

  g_autofree char *home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->instance = mbd_test_create_instance (home, NULL);

  server_start (&fx->http);

  guint16 port = 0;
  fx->silent = loopback_socket (&port);
  g_socket_listen (fx->silent, &error);
  g_assert_no_error (error);
  fx->silent_base = g_strdup_printf ("http://127.0.0.1:%u", port);
  g_autoptr (GSocket) closed = loopback_socket (&port);
  fx->refused_base = g_strdup_printf ("http://127.0.0.1:%u", port);
  g_socket_close (closed, NULL);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  server_stop (&fx->http);
  g_socket_close (fx->silent, NULL);
  g_clear_object (&fx->silent);
  g_free (fx->silent_base);
  g_free (fx->refused_base);
  g_clear_object (&fx->instance);
  g_clear_object (&fx->signer);
  g_clear_object (&fx->other);
  g_autofree char *instance_gnupg = g_build_filename (fx->tmpdir, "home", "gnupg", NULL);
  mbd_test_kill_agent (instance_gnupg);
  mbd_test_kill_agent (fx->signer_home);
  mbd_test_kill_agent (fx->other_home);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->signer_home);
  g_free (fx->other_home);
  g_free (fx->keyring);
}

/* A Release file of origin "Test", codename "testing". */
static GBytes *
release_text (const char *version, const char *valid_until)
{
  g_autoptr (GString) text = g_string_new ("Origin: Test\nLabel: Test\nSuite: unstable\n");
  if (version != NULL)
    g_string_append_printf (text, "Version: %s\n", version);
  g_string_append (text, "Codename: testing\nDate: Sat, 21 Nov 2026 00:53:02 UTC\n");
  if (valid_until != NULL)
    g_string_append_printf (text, "Valid-Until: %s\n", valid_until);
  g_string_append (text, "Architectures: all amd64 i386\n"
                         "Components: updates/main updates/contrib\n"
                         "Description: A test archive\n"
                         "SHA256:\n"
                         " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 "
                         "main/binary-amd64/Packages\n");
  gsize len = text->len;
  return g_bytes_new_take (g_string_free (g_steal_pointer (&text), FALSE), len);
}

static void
serve_inrelease (Fixture *fx, const char *archive, MbdGnupg *by, GBytes *release)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) signed_data = mbd_gnupg_sign_clear (by, release, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *path = g_strdup_printf ("/%s/dists/testing/InRelease", archive);
  serve (fx, path, signed_data);
}

static MbdSource *
test_source (Fixture *fx, const char *base, const char *archive)
{
  g_autoptr (MbdSource) source = mbd_source_new ("Test", "testing");
  g_autofree char *uri = g_strdup_printf ("%s/%s/", base, archive);
  const char *uris[] = { uri, NULL };

  mbd_source_set_mirror_uris (source, uris);
  mbd_source_set_keyring_file (source, fx->keyring);
  mbd_source_set_remove_from_component (source, "updates/");
  return g_steal_pointer (&source);
}

static MbdSource *
stored_source (Fixture *fx, const char *base, const char *archive)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdSource) source = test_source (fx, base, archive);

  mbd_instance_add_source (fx->instance, source, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mbd_source_get_state (source), ==, MBD_SOURCE_STATE_PREPARED);
  return g_steal_pointer (&source);
}

static void
assert_strv (const char *const *strv, const char *joined)
{
  g_autofree char *actual = g_strjoinv (" ", (char **) strv);
  g_assert_cmpstr (actual, ==, joined);
}

/* ------------------------------------------------------------------------------------------ */

static void
test_check_good (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) release = release_text ("12.3", "Sat, 01 Jan 2100 00:00:00 UTC");

  g_test_summary ("A validly signed InRelease makes a stored source active, with codeversion, "
                  "architectures (no 'all') and components (prefix removed) read and stored");
  serve_inrelease (fx, "good", fx->signer, release);
  g_autoptr (MbdSource) source = stored_source (fx, fx->http.base, "good");
  g_assert_true (mbd_source_check (source, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mbd_source_get_state (source), ==, MBD_SOURCE_STATE_ACTIVE);
  g_assert_cmpstr (mbd_source_get_codeversion (source), ==, "12");
  assert_strv (mbd_source_get_architectures (source), "amd64 i386");
  assert_strv (mbd_source_get_components (source), "main contrib");
  g_assert_cmpstr (mbd_source_get_description (source), ==, "A test archive");
  g_assert_nonnull (mbd_source_get_check_time (source));
  g_autofree char *mirror = g_strdup_printf ("%s/good", fx->http.base);
  g_assert_cmpstr (mbd_source_get_mirror_uri (source), ==, mirror);

  g_autoptr (MbdSource) again = mbd_instance_lookup_source (fx->instance, "testing", &error);
  g_assert_no_error (error);
  g_assert_cmpint (mbd_source_get_state (again), ==, MBD_SOURCE_STATE_ACTIVE);
  g_assert_cmpstr (mbd_source_get_codeversion (again), ==, "12");
  assert_strv (mbd_source_get_architectures (again), "amd64 i386");
  g_assert_cmpstr (mbd_source_get_check_message (again), ==, mbd_source_get_check_message (source));
  g_autofree char *line = mbd_source_get_apt_line (again);
  g_autofree char *expected_line = g_strdup_printf ("%s testing main contrib", mirror);
  g_assert_cmpstr (line, ==, expected_line);
}

static void
test_check_release_gpg (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) release = release_text (NULL, NULL);

  g_test_summary ("Without InRelease, Release + Release.gpg are fetched and verified; no Version "
                  "gives the ~CODENAME codeversion");
  g_autoptr (GBytes) signature = mbd_gnupg_sign_detached (fx->signer, release, NULL, &error);
  g_assert_no_error (error);
  serve (fx, "/detached/dists/testing/Release", release);
  g_autoptr (MbdSource) source = stored_source (fx, fx->http.base, "detached");
  g_assert_false (mbd_source_check (source, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSIGNED);
  g_assert_nonnull (strstr (error->message, "/detached/dists/testing/Release.gpg"));
  g_clear_error (&error);

  serve (fx, "/detached/dists/testing/Release.gpg", signature);
  g_assert_true (mbd_source_check (source, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_source_get_codeversion (source), ==, "~TESTING");
}

static void
test_check_unknown_signer (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) release = release_text ("12.3", NULL);

  g_test_summary ("An InRelease signed by a key outside the keyring fails with UNKNOWN_SIGNER "
                  "naming the file and keyring, and deactivates an active source");
  serve_inrelease (fx, "archive", fx->signer, release);
  g_autoptr (MbdSource) source = stored_source (fx, fx->http.base, "archive");
  g_assert_true (mbd_source_check (source, NULL, &error));
  g_assert_cmpint (mbd_source_get_state (source), ==, MBD_SOURCE_STATE_ACTIVE);

  serve_inrelease (fx, "archive", fx->other, release);
  g_assert_false (mbd_source_check (source, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNKNOWN_SIGNER);
  g_assert_nonnull (strstr (error->message, "/archive/dists/testing/InRelease"));
  g_assert_nonnull (strstr (error->message, fx->keyring));
  g_assert_cmpint (mbd_source_get_state (source), ==, MBD_SOURCE_STATE_PREPARED);
  g_assert_cmpstr (mbd_source_get_check_message (source), ==, error->message);

  g_autoptr (GError) lookup_error = NULL;
  g_autoptr (MbdSource) stored
             = mbd_instance_lookup_source (fx->instance, "testing", &lookup_error);
  g_assert_no_error (lookup_error);
  g_assert_cmpint (mbd_source_get_state (stored), ==, MBD_SOURCE_STATE_PREPARED);
  g_assert_cmpstr (mbd_source_get_check_message (stored), ==, error->message);

  /* A tampered file: the signature no longer matches. */
  g_autoptr (GBytes) signed_data = mbd_gnupg_sign_clear (fx->signer, release, NULL, NULL);
  g_autofree char *tampered
      = g_strndup (g_bytes_get_data (signed_data, NULL), g_bytes_get_size (signed_data));
  char *version = strstr (tampered, "Version: 12.3");
  g_assert_nonnull (version);
  version[strlen ("Version: 1")] = '3';
  g_autoptr (GBytes) tampered_bytes = g_bytes_new (tampered, strlen (tampered));
  serve (fx, "/archive/dists/testing/InRelease", tampered_bytes);
  g_clear_error (&error);
  g_assert_false (mbd_source_check (source, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_BAD_SIGNATURE);
  g_assert_nonnull (strstr (error->message, "/archive/dists/testing/InRelease"));
}

static void
test_check_expired (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) release = release_text ("12.3", "Sat, 01 Jan 2000 00:00:00 UTC");

  g_test_summary ("A Valid-Until in the past fails with EXPIRED naming the file, unless the "
                  "check is turned off");
  serve_inrelease (fx, "old", fx->signer, release);
  g_autoptr (MbdSource) source = test_source (fx, fx->http.base, "old");
  g_assert_false (mbd_source_check (source, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXPIRED);
  g_assert_nonnull (strstr (error->message, "/old/dists/testing/InRelease"));
  g_assert_nonnull (strstr (error->message, "01 Jan 2000"));
  /* Not stored: stays removed whatever the check says. */
  g_assert_cmpint (mbd_source_get_state (source), ==, MBD_SOURCE_STATE_REMOVED);
  g_clear_error (&error);

  mbd_source_set_check_valid_until (source, FALSE);
  g_assert_true (mbd_source_check (source, NULL, &error));
  g_assert_no_error (error);
}

static void
test_check_mismatch (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) release = release_text ("12.3", NULL);

  g_test_summary ("Another Origin, an extra identifier that does not match, or no archive at "
                  "all fail with NOT_FOUND naming the file");
  serve_inrelease (fx, "a", fx->signer, release);
  g_autoptr (MbdSource) other_origin = mbd_source_new ("Debian", "testing");
  g_autofree char *uri = g_strdup_printf ("%s/a", fx->http.base);
  const char *uris[] = { uri, NULL };
  mbd_source_set_mirror_uris (other_origin, uris);
  mbd_source_set_keyring_file (other_origin, fx->keyring);
  g_assert_false (mbd_source_check (other_origin, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "Origin “Test”, not “Debian”"));
  g_clear_error (&error);

  g_autoptr (MbdSource) source = test_source (fx, fx->http.base, "a");
  const char *suite[] = { "Suite: stable", NULL };
  mbd_source_set_extra_identifiers (source, suite);
  g_assert_false (mbd_source_check (source, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "Suite “unstable”, not “stable”"));
  g_clear_error (&error);

  g_autoptr (MbdSource) missing = test_source (fx, fx->http.base, "nothing-here");
  g_assert_false (mbd_source_check (missing, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nothing-here/dists/testing/Release (HTTP 404)"));
}

static void
test_check_refused (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A closed port fails at once with UNREACHABLE naming the URL and time waited");
  g_autoptr (MbdSource) source = stored_source (fx, fx->refused_base, "debian");
  gint64 start = g_get_monotonic_time ();
  g_assert_false (mbd_source_check (source, NULL, &error));
  gint64 elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNREACHABLE);
  g_autofree char *url = g_strdup_printf ("%s/debian/dists/testing/InRelease", fx->refused_base);
  g_assert_nonnull (strstr (error->message, url));
  g_assert_nonnull (strstr (error->message, " s: "));
  g_assert_cmpint (elapsed, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (mbd_source_get_state (source), ==, MBD_SOURCE_STATE_PREPARED);
}

static void
test_check_timeout (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) release = release_text ("12.3", NULL);

  g_test_summary ("A server that accepts and never answers fails with UNREACHABLE within the "
                  "timeout + 2 s; the next check in the same process succeeds");
  g_autoptr (MbdSource) source = stored_source (fx, fx->silent_base, "debian");
  mbd_source_set_timeout (source, 2);
  gint64 start = g_get_monotonic_time ();
  g_assert_false (mbd_source_check (source, NULL, &error));
  gint64 elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, fx->silent_base));
  g_assert_nonnull (strstr (error->message, "timeout of 2 s"));
  g_assert_cmpint (elapsed, >=, 2 * G_USEC_PER_SEC - G_USEC_PER_SEC / 10);
  g_assert_cmpint (elapsed, <, 4 * G_USEC_PER_SEC);

  serve_inrelease (fx, "good", fx->signer, release);
  g_autoptr (MbdSource) good = test_source (fx, fx->http.base, "good");
  g_clear_error (&error);
  g_assert_true (mbd_source_check (good, NULL, &error));
  g_assert_no_error (error);
}

static void
test_check_several_mirrors (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) release = release_text ("12.3", NULL);

  g_test_summary ("Mirrors are tried in order; the first that passes is used for APT lines; "
                  "when all fail the message lists each");
  g_autoptr (MbdSource) source = test_source (fx, fx->http.base, "good");
  g_autofree char *refused = g_strdup_printf ("%s/debian", fx->refused_base);
  g_autofree char *good = g_strdup_printf ("%s/good", fx->http.base);
  const char *uris[] = { refused, good, NULL };
  mbd_source_set_mirror_uris (source, uris);
  g_assert_false (mbd_source_check (source, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, refused));
  g_assert_nonnull (strstr (error->message, good));
  g_clear_error (&error);

  serve_inrelease (fx, "good", fx->signer, release);
  g_assert_true (mbd_source_check (source, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_source_get_mirror_uri (source), ==, good);
}

typedef struct
{
  GMainLoop *loop;
  GError *error;
  gboolean ok;
  guint ticks;
} AsyncData;

static void
on_checked (GObject *object, GAsyncResult *result, gpointer user_data)
{
  AsyncData *ad = user_data;

  ad->ok = mbd_source_check_finish (MBD_SOURCE (object), result, &ad->error);
  g_main_loop_quit (ad->loop);
}

static gboolean
on_tick (gpointer user_data)
{
  AsyncData *ad = user_data;

  ad->ticks++;
  return G_SOURCE_CONTINUE;
}

static void
test_check_async (Fixture *fx, gconstpointer data)
{
  g_autoptr (GBytes) release = release_text ("24.04", NULL);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  AsyncData ad = { .loop = loop };

  g_test_summary ("check_async leaves the caller's main loop running while a mirror does not "
                  "answer, reports the timeout, and a later async check succeeds");
  g_autoptr (MbdSource) silent = stored_source (fx, fx->silent_base, "debian");
  mbd_source_set_timeout (silent, 1);
  guint tick = g_timeout_add (100, on_tick, &ad);
  mbd_source_check_async (silent, NULL, on_checked, &ad);
  g_main_loop_run (loop);
  g_source_remove (tick);
  g_assert_false (ad.ok);
  g_assert_error (ad.error, MBD_ERROR, MBD_ERROR_UNREACHABLE);
  g_assert_cmpuint (ad.ticks, >=, 5);
  g_assert_cmpint (mbd_source_get_state (silent), ==, MBD_SOURCE_STATE_PREPARED);
  g_clear_error (&ad.error);

  serve_inrelease (fx, "good", fx->signer, release);
  g_autoptr (MbdSource) good = test_source (fx, fx->http.base, "good");
  mbd_source_check_async (good, NULL, on_checked, &ad);
  g_main_loop_run (loop);
  g_assert_no_error (ad.error);
  g_assert_true (ad.ok);
  g_assert_cmpstr (mbd_source_get_codeversion (good), ==, "24");
}

static void
test_check_cancel (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  g_test_summary ("A cancelled check fails with G_IO_ERROR_CANCELLED and changes nothing");
  g_autoptr (MbdSource) source = stored_source (fx, fx->silent_base, "debian");
  g_cancellable_cancel (cancellable);
  g_assert_false (mbd_source_check (source, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (mbd_source_get_state (source), ==, MBD_SOURCE_STATE_PREPARED);
  g_assert_null (mbd_source_get_check_message (source));
}

static void
test_store (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Sources are stored once, listed, looked up with their extras and removed; "
                  "invalid ones are refused naming the problem");
  g_autoptr (MbdSource) source = test_source (fx, fx->http.base, "x");
  mbd_source_add_extra (source, "testing-security", 500);
  mbd_source_add_extra (source, "testing-backports", 1);
  g_assert_true (mbd_instance_add_source (fx->instance, source, &error));
  g_assert_no_error (error);

  g_autoptr (MbdSource) twice = test_source (fx, fx->http.base, "x");
  g_assert_false (mbd_instance_add_source (fx->instance, twice, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "testing"));
  g_clear_error (&error);

  g_autoptr (MbdSource) no_mirror = mbd_source_new ("Test", "nomirror");
  mbd_source_set_keyring_file (no_mirror, fx->keyring);
  g_assert_false (mbd_instance_add_source (fx->instance, no_mirror, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "--mirror"));
  g_clear_error (&error);

  g_autoptr (MbdSource) renamed = mbd_source_new ("Test", "other");
  const char *uris[] = { "ftp://example.org/debian", NULL };
  mbd_source_set_mirror_uris (renamed, uris);
  mbd_source_set_keyring_file (renamed, fx->keyring);
  g_assert_false (mbd_instance_add_source (fx->instance, renamed, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "ftp://example.org/debian"));
  g_clear_error (&error);

  g_autoptr (MbdSource) missing_keyring = mbd_source_new ("Test", "testing-security");
  const char *sec_uris[] = { "http://127.0.0.1:9/x", NULL };
  mbd_source_set_mirror_uris (missing_keyring, sec_uris);
  mbd_source_set_keyring_file (missing_keyring, "/nonexistent/keyring.gpg");
  g_assert_false (mbd_instance_add_source (fx->instance, missing_keyring, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/keyring.gpg"));
  g_clear_error (&error);

  g_autoptr (MbdSource) found = mbd_instance_lookup_source (fx->instance, "testing", &error);
  g_assert_no_error (error);
  assert_strv (mbd_source_get_extras (found), "testing-security testing-backports");
  g_assert_cmpint (mbd_source_get_extra_priority (found, "testing-security"), ==, 500);
  g_assert_cmpint (mbd_source_get_extra_priority (found, "testing-backports"), ==, 1);
  g_assert_cmpint (mbd_source_get_extra_priority (found, "sid"), ==, 0);
  g_assert_cmpstr (mbd_source_get_keyring_file (found), ==, fx->keyring);
  g_assert_cmpstr (mbd_source_get_remove_from_component (found), ==, "updates/");
  /* Extras that are not stored (or not active) give no APT line. */
  g_auto (GStrv) lines = mbd_source_get_extra_sources (found, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (lines), ==, 0);

  g_autoptr (GPtrArray) all = mbd_instance_list_sources (fx->instance, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 1);
  g_assert_cmpstr (mbd_source_get_codename (g_ptr_array_index (all, 0)), ==, "testing");

  g_assert_true (mbd_instance_remove_source (fx->instance, "testing", &error));
  g_assert_no_error (error);
  g_autoptr (MbdSource) gone = mbd_instance_lookup_source (fx->instance, "testing", &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_null (gone);
  g_clear_error (&error);
  g_assert_false (mbd_instance_remove_source (fx->instance, "testing", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
}

static void
test_extra_sources (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) release = release_text ("12.3", NULL);

  g_test_summary ("A stored, active extra source gives an APT line of its mirror, suite and "
                  "components; before its check it gives none");
  g_autoptr (MbdSource) base = mbd_source_new ("Test", "base");
  const char *uris[] = { "http://127.0.0.1:9/unused", NULL };
  mbd_source_set_mirror_uris (base, uris);
  mbd_source_set_keyring_file (base, fx->keyring);
  mbd_source_add_extra (base, "testing", 500);
  mbd_instance_add_source (fx->instance, base, &error);
  g_assert_no_error (error);

  serve_inrelease (fx, "good", fx->signer, release);
  g_autoptr (MbdSource) extra = stored_source (fx, fx->http.base, "good");
  g_auto (GStrv) before = mbd_source_get_extra_sources (base, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (before), ==, 0);

  g_assert_true (mbd_source_check (extra, NULL, &error));
  g_assert_no_error (error);
  g_auto (GStrv) after = mbd_source_get_extra_sources (base, &error);
  g_assert_no_error (error);
  g_autofree char *expected = g_strdup_printf ("%s/good testing main contrib", fx->http.base);
  g_assert_cmpuint (g_strv_length (after), ==, 1);
  g_assert_cmpstr (after[0], ==, expected);
}

static void
test_codeversion (void)
{
  static const struct
  {
    const char *origin, *codename, *version, *expected;
  } cases[] = {
    { "Debian", "bookworm", "12.8", "12" },
    { "Debian", "trixie", "13", "13" },
    { "Debian", "bookworm-updates", "12-updates", "12" },
    { "Debian", "squeeze", "6.0.10", "60" },
    { "Debian", "sarge", "3.1", "31" },
    { "Debian", "wheezy", "7.11", "7" },
    { "Debian", "sid", NULL, "~SID" },
    { "Debian", "forky", "", "~FORKY" },
    { "Ubuntu", "jammy", "22.04", "2204" },
    { "Ubuntu", "quantal", "12.10", "1210" },
    { "Ubuntu", "noble", "24.04.3 LTS", "2404" },
  };

  g_test_summary ("mini-buildd's codeversion rule: Debian major (major+minor up to 6), "
                  "Ubuntu YYMM, ~CODENAME without a version");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *actual
          = mbd_source_guess_codeversion (cases[i].origin, cases[i].codename, cases[i].version);
      g_assert_cmpstr (actual, ==, cases[i].expected);
    }
}

static char *
write_apt_dir (const char *tmpdir, const char *sources, const char *list)
{
  g_autoptr (GError) error = NULL;
  char *etc_apt = g_build_filename (tmpdir, "etc-apt", NULL);
  g_autofree char *parts = g_build_filename (etc_apt, "sources.list.d", NULL);
  g_autofree char *deb822 = g_build_filename (parts, "debian.sources", NULL);
  g_autofree char *one_line = g_build_filename (etc_apt, "sources.list", NULL);

  g_mkdir_with_parents (parts, 0755);
  if (sources != NULL)
    g_file_set_contents (deb822, sources, -1, &error);
  g_assert_no_error (error);
  if (list != NULL)
    g_file_set_contents (one_line, list, -1, &error);
  g_assert_no_error (error);
  return etc_apt;
}

static void
test_builtin (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmpdir = mbd_test_make_tmpdir ();

  g_test_summary ("Built-in codenames take the mirror from the apt sources (deb822 and one-line), "
                  "with keyrings, extras and their priorities");
  g_autofree char *etc_apt = write_apt_dir (
      tmpdir,
      "# comment\n"
      "Types: deb deb-src\n"
      "URIs: http://mirror.invalid/debian/\n"
      "Suites: bookworm bookworm-updates\n"
      "Components: main\n"
      "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
      "\n"
      "Types: deb\n"
      "URIs: http://security.invalid/debian-security\n"
      "Suites: bookworm-security\n"
      "Components: main\n"
      "\n"
      "Types: deb\n"
      "URIs: http://disabled.invalid/debian\n"
      "Suites: trixie\n"
      "Enabled: no\n",
      "deb [arch=amd64 signed-by=/k.gpg] http://oneline.invalid/ubuntu noble main # x\n");

  g_autoptr (MbdSource) bookworm = mbd_source_new_builtin_from ("bookworm", NULL, etc_apt, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_source_get_origin (bookworm), ==, "Debian");
  assert_strv (mbd_source_get_mirror_uris (bookworm), "http://mirror.invalid/debian");
  g_assert_cmpstr (mbd_source_get_keyring_file (bookworm), ==,
                   "/usr/share/keyrings/debian-archive-keyring.gpg");
  g_assert_cmpstr (mbd_source_get_codeversion (bookworm), ==, "12");
  assert_strv (mbd_source_get_extras (bookworm),
               "bookworm-security bookworm-updates bookworm-backports");
  g_assert_cmpint (mbd_source_get_extra_priority (bookworm, "bookworm-security"), ==, 500);
  g_assert_cmpint (mbd_source_get_extra_priority (bookworm, "bookworm-backports"), ==, 1);

  g_autoptr (MbdSource) security
             = mbd_source_new_builtin_from ("bookworm-security", "Debian", etc_apt, &error);
  g_assert_no_error (error);
  assert_strv (mbd_source_get_mirror_uris (security), "http://security.invalid/debian-security");
  g_assert_cmpstr (mbd_source_get_remove_from_component (security), ==, "updates/");
  assert_strv (mbd_source_get_extras (security), "");
  g_autofree char *pin = mbd_source_get_apt_pin (security);
  g_assert_cmpstr (pin, ==, "release o=Debian,n=bookworm-security");

  g_autoptr (MbdSource) backports
             = mbd_source_new_builtin_from ("bookworm-backports", NULL, etc_apt, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_source_get_origin (backports), ==, "Debian Backports");
  assert_strv (mbd_source_get_mirror_uris (backports), "http://mirror.invalid/debian");

  /* trixie is only in a disabled stanza: the Debian family's mirror serves it. */
  g_autoptr (MbdSource) trixie_security
             = mbd_source_new_builtin_from ("trixie-security", NULL, etc_apt, &error);
  g_assert_no_error (error);
  assert_strv (mbd_source_get_mirror_uris (trixie_security),
               "http://security.invalid/debian-security");
  g_autoptr (MbdSource) sid = mbd_source_new_builtin_from ("sid", NULL, etc_apt, &error);
  g_assert_no_error (error);
  assert_strv (mbd_source_get_mirror_uris (sid), "http://mirror.invalid/debian");
  assert_strv (mbd_source_get_extras (sid), "");
  g_assert_cmpstr (mbd_source_get_codeversion (sid), ==, "~SID");

  g_autoptr (MbdSource) noble
             = mbd_source_new_builtin_from ("noble-security", NULL, etc_apt, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_source_get_origin (noble), ==, "Ubuntu");
  assert_strv (mbd_source_get_mirror_uris (noble), "http://oneline.invalid/ubuntu");
  g_assert_cmpstr (mbd_source_get_keyring_file (noble), ==,
                   "/usr/share/keyrings/ubuntu-archive-keyring.gpg");

  g_autoptr (MbdSource) unknown = mbd_source_new_builtin_from ("hamm", NULL, etc_apt, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "hamm"));
  g_assert_nonnull (strstr (error->message, "bookworm"));
  g_assert_null (unknown);
  g_clear_error (&error);
  g_autoptr (MbdSource) wrong_origin
             = mbd_source_new_builtin_from ("bookworm", "Ubuntu", etc_apt, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_null (wrong_origin);
  g_clear_error (&error);

  /* No apt sources at all: no mirror, to be given by hand. */
  g_autofree char *empty = write_apt_dir (tmpdir, NULL, NULL);
  g_assert_nonnull (empty);
  g_autofree char *nowhere = g_build_filename (tmpdir, "nowhere", NULL);
  g_autoptr (MbdSource) bare = mbd_source_new_builtin_from ("trixie", NULL, nowhere, &error);
  g_assert_no_error (error);
  assert_strv (mbd_source_get_mirror_uris (bare), "");
  mbd_test_rm_rf (tmpdir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/source/check/good", test_check_good);
  ADD ("/source/check/release-gpg", test_check_release_gpg);
  ADD ("/source/check/unknown-signer", test_check_unknown_signer);
  ADD ("/source/check/expired", test_check_expired);
  ADD ("/source/check/mismatch", test_check_mismatch);
  ADD ("/source/check/refused", test_check_refused);
  ADD ("/source/check/timeout", test_check_timeout);
  ADD ("/source/check/several-mirrors", test_check_several_mirrors);
  ADD ("/source/check/async", test_check_async);
  ADD ("/source/check/cancel", test_check_cancel);
  ADD ("/source/store", test_store);
  ADD ("/source/extra-sources", test_extra_sources);
#undef ADD
  g_test_add_func ("/source/codeversion", test_codeversion);
  g_test_add_func ("/source/builtin", test_builtin);
  return g_test_run ();
}
