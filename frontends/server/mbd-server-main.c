/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib-unix.h>
#include <locale.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "mbd-server.h"

/* Keep in step with doc/mbd-server.1.rst. */
static char *opt_home;
static char *opt_address = NULL;
static int opt_port = 8066;
static char *opt_port_file;
static gboolean opt_version;
static int opt_upload_timeout = MBD_INCOMING_DEFAULT_TIMEOUT;
static gint64 opt_max_file_size = (gint64) MBD_INCOMING_DEFAULT_MAX_FILE_SIZE;
static gint64 opt_max_upload_size = (gint64) MBD_INCOMING_DEFAULT_MAX_UPLOAD_SIZE;
static int opt_events_max_clients = MBD_SERVER_EVENTS_DEFAULT_MAX_CLIENTS;
static int opt_events_timeout = MBD_SERVER_EVENTS_DEFAULT_TIMEOUT;
static int opt_events_keepalive = MBD_SERVER_EVENTS_DEFAULT_KEEPALIVE;
static gboolean opt_no_host_lintian;
static int opt_idle_timeout = MBD_SERVER_DEFAULT_IDLE_TIMEOUT;
static gint64 opt_max_request_body = MBD_SERVER_DEFAULT_MAX_BODY;
static int opt_login_failures = MBD_SERVER_DEFAULT_LOGIN_FAILURES;
static int opt_login_window = MBD_SERVER_DEFAULT_LOGIN_WINDOW;
static char *opt_tls_cert;
static char *opt_tls_key;

static const GOptionEntry entries[]
    = { { "home", 0, 0, G_OPTION_ARG_FILENAME, &opt_home,
          "Instance home directory, created if missing (default: $MBD_HOME or ~/.local/share/mbd)",
          "DIR" },
        { "address", 0, 0, G_OPTION_ARG_STRING, &opt_address,
          "Address to listen on (default: 127.0.0.1)", "ADDRESS" },
        { "port", 0, 0, G_OPTION_ARG_INT, &opt_port,
          "Port to listen on; 0 picks a free one (default: 8066)", "PORT" },
        { "port-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_port_file,
          "Write the port actually listened on into FILE once serving", "FILE" },
        { "upload-timeout", 0, 0, G_OPTION_ARG_INT, &opt_upload_timeout,
          "Remove incomplete uploads after SECONDS without progress (default: 3600)", "SECONDS" },
        { "max-file-size", 0, 0, G_OPTION_ARG_INT64, &opt_max_file_size,
          "Refuse uploaded files larger than BYTES (default: 2 GiB)", "BYTES" },
        { "max-upload-size", 0, 0, G_OPTION_ARG_INT64, &opt_max_upload_size,
          "Refuse uploads (.changes and its files) larger than BYTES (default: 4 GiB)", "BYTES" },
        { "events-max-clients", 0, 0, G_OPTION_ARG_INT, &opt_events_max_clients,
          "Let at most N clients follow the events at once (default: 70)", "N" },
        { "events-timeout", 0, 0, G_OPTION_ARG_INT, &opt_events_timeout,
          "Answer an events.attach long-poll with 204 after SECONDS without an event; 0 waits "
          "as long as the client is connected, as mini-buildd does (default: 0)",
          "SECONDS" },
        { "events-keepalive", 0, 0, G_OPTION_ARG_INT, &opt_events_keepalive,
          "Send a comment on event streams every SECONDS (default: 15)", "SECONDS" },
        { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &opt_idle_timeout,
          "Drop a connection whose request has not arrived SECONDS after the server began "
          "waiting for it (uploads: its headers); 0: never (default: 60)",
          "SECONDS" },
        { "max-request-body", 0, 0, G_OPTION_ARG_INT64, &opt_max_request_body,
          "Answer 413 to request bodies larger than BYTES, uploads excepted (default: 1 MiB)",
          "BYTES" },
        { "login-failures", 0, 0, G_OPTION_ARG_INT, &opt_login_failures,
          "Refuse logins (429) for a user name with N failed logins within --login-window, or "
          "from an address with 4 times as many; 0: no limit (default: 5)",
          "N" },
        { "login-window", 0, 0, G_OPTION_ARG_INT, &opt_login_window,
          "The time over which --login-failures counts (default: 60)", "SECONDS" },
        { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_cert,
          "Serve HTTPS with the PEM certificate (chain) in FILE; needs --tls-key", "FILE" },
        { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_key, "The PEM private key of --tls-cert",
          "FILE" },
        { "no-host-lintian", 0, 0, G_OPTION_ARG_NONE, &opt_no_host_lintian,
          "Run lintian inside each build session, not on the host after the build", NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
        { NULL } };

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

/* libsoup 3.2 never closes a kept-alive connection that the client closes while it is idle:
 * every such connection keeps its socket (CLOSE-WAIT) for the life of the process, and apt
 * closes its connections that way. Answering "Connection: close" ends each connection with its
 * response (fixed in libsoup 3.3; a client reconnecting costs little next to a descriptor leak). */
static void
close_after_response (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
}

static gboolean
on_upload_complete (MbdIncoming *incoming,
                    const char *changes_path,
                    const char *directory,
                    gpointer user_data)
{
  /* logged only: the default handler submits it to the packager */
  fprintf (stderr, "mbd-server: upload complete: %s\n", changes_path);
  return FALSE;
}

static void
on_upload_failed (MbdIncoming *incoming, const char *name, GError *error, gpointer user_data)
{
  fprintf (stderr, "mbd-server: upload refused: %s\n", error->message);
}

/* As mini-buildd's, the incoming keeps what arrives while the engine is stopped (the stop
 * call) and processes it when the engine starts again. */
static void
on_engine_started (MbdInstance *instance, GParamSpec *pspec, MbdIncoming *incoming)
{
  mbd_incoming_set_held (incoming, !mbd_instance_is_started (instance));
}

/* mini-buildd has its superuser `admin` from the start: without an administrator, make one
 * with a random password in <home>/admin-password. */
static gboolean
ensure_admin (MbdInstance *instance, GError **error)
{
  g_autoptr (MbdUsers) users = mbd_users_new (instance);
  g_autofree char *path
      = g_build_filename (mbd_instance_get_home (instance), "admin-password", NULL);
  gboolean created = FALSE;

  if (!mbd_users_ensure_admin (users, path, &created, error))
    return FALSE;
  if (created)
    fprintf (stderr, "mbd-server: created the administrator 'admin'; its password is in %s\n",
             path);
  return TRUE;
}

/* Whether the private key in @key_file belongs to the first certificate in @cert_file (GIO
 * loads a mismatched pair without complaint; every handshake would then fail). Both files have
 * been read by GIO already. */
static gboolean
key_matches_certificate (const char *cert_file, const char *key_file)
{
  FILE *f = fopen (cert_file, "r");
  if (f == NULL)
    return FALSE;
  X509 *x509 = PEM_read_X509 (f, NULL, NULL, NULL);
  fclose (f);
  f = fopen (key_file, "r");
  EVP_PKEY *key = f != NULL ? PEM_read_PrivateKey (f, NULL, NULL, NULL) : NULL;
  if (f != NULL)
    fclose (f);
  gboolean matches = x509 != NULL && key != NULL && X509_check_private_key (x509, key) == 1;
  X509_free (x509);
  EVP_PKEY_free (key);
  return matches;
}

/* The certificate of --tls-cert and --tls-key; checked here, at start, so that a wrong file is
 * an error naming it rather than a failed handshake with every client. */
static GTlsCertificate *
load_certificate (const char *cert_file, const char *key_file, GError **error)
{
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "--tls-cert: GLib has no TLS backend (install glib-networking)");
      return NULL;
    }
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GTlsCertificate) cert
             = g_tls_certificate_new_from_files (cert_file, key_file, &local_error);
  if (cert == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "cannot use certificate '%s' with key '%s': %s", cert_file, key_file,
                   local_error->message);
      return NULL;
    }
  if (!key_matches_certificate (cert_file, key_file))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "the key in '%s' does not belong to the certificate in '%s'", key_file,
                   cert_file);
      return NULL;
    }
  return g_steal_pointer (&cert);
}

static MbdInstance *
open_instance (const char *home, GError **error)
{
  g_autoptr (MbdInstance) instance = mbd_instance_new (home);
  g_autoptr (GError) local_error = NULL;

  if (mbd_instance_open (instance, MBD_INSTANCE_OPEN_NONE, NULL, &local_error))
    return g_steal_pointer (&instance);
  if (!g_error_matches (local_error, MBD_ERROR, MBD_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  g_clear_object (&instance);
  instance = mbd_instance_new (home);
  fprintf (stderr, "mbd-server: creating a new instance in %s (generating its signing key)...\n",
           home);
  if (!mbd_instance_open (instance, MBD_INSTANCE_OPEN_CREATE, NULL, error))
    return NULL;
  fprintf (stderr, "mbd-server: instance '%s' created, key %s\n",
           mbd_instance_get_identity (instance), mbd_instance_get_fingerprint (instance));
  return g_steal_pointer (&instance);
}

static gboolean
run (int argc, char **argv, GError **error)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- serve an mbd instance over HTTP");

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, error))
    return FALSE;
  if (opt_version)
    {
      printf ("mbd-server %s\n", MBD_VERSION_S);
      return TRUE;
    }
  if (argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "unexpected argument '%s'",
                   argv[1]);
      return FALSE;
    }
  if (opt_port < 0 || opt_port > 65535)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--port %d is out of range 0..65535", opt_port);
      return FALSE;
    }

  const char *address = opt_address != NULL ? opt_address : "127.0.0.1";
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (address);
  if (inet == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--address '%s' is not an IP address", address);
      return FALSE;
    }

  if (opt_upload_timeout < 1 || opt_max_file_size < 1 || opt_max_upload_size < 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--upload-timeout, --max-file-size and --max-upload-size must be positive");
      return FALSE;
    }

  if (opt_events_max_clients < 1 || opt_events_timeout < 0 || opt_events_keepalive < 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--events-max-clients and --events-keepalive must be positive, "
                   "--events-timeout 0 or more");
      return FALSE;
    }
  if (opt_idle_timeout < 0 || opt_max_request_body < 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--idle-timeout and --max-request-body must be 0 or more");
      return FALSE;
    }
  mbd_server_limits_set (opt_idle_timeout, opt_max_request_body);
  if (opt_login_failures < 0 || opt_login_window < 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--login-failures must be 0 or more, --login-window positive");
      return FALSE;
    }
  mbd_server_auth_set_login_limit (opt_login_failures, opt_login_window);
  mbd_server_events_set_limits (opt_events_max_clients, opt_events_timeout, opt_events_keepalive);

  if ((opt_tls_cert == NULL) != (opt_tls_key == NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--tls-cert and --tls-key must be given together");
      return FALSE;
    }
  g_autoptr (GTlsCertificate) certificate = NULL;
  if (opt_tls_cert != NULL)
    {
      certificate = load_certificate (opt_tls_cert, opt_tls_key, error);
      if (certificate == NULL)
        return FALSE;
    }

  g_autofree char *home = opt_home != NULL ? g_strdup (opt_home) : mbd_instance_get_default_home ();
  g_autoptr (MbdInstance) instance = open_instance (home, error);
  if (instance == NULL)
    return FALSE;
  if (!ensure_admin (instance, error))
    return FALSE;

  g_autoptr (GSocketAddress) socket_address = g_inet_socket_address_new (inet, opt_port);
  g_autofree char *server_header = g_strdup_printf ("mbd-server/%s ", MBD_VERSION_S);
  g_autoptr (SoupServer) server = soup_server_new ("server-header", server_header,
                                                   "tls-certificate", certificate, NULL);
  if (!soup_check_version (3, 3, 0))
    g_signal_connect (server, "request-read", G_CALLBACK (close_after_response), NULL);
  g_autoptr (MbdIncoming) incoming = mbd_incoming_new_for_instance (instance);
  mbd_incoming_set_timeout (incoming, opt_upload_timeout);
  mbd_incoming_set_max_file_size (incoming, opt_max_file_size);
  mbd_incoming_set_max_upload_size (incoming, opt_max_upload_size);
  g_signal_connect (incoming, "upload-complete", G_CALLBACK (on_upload_complete), instance);
  g_signal_connect (incoming, "upload-failed", G_CALLBACK (on_upload_failed), instance);
  g_signal_connect_object (instance, "notify::started", G_CALLBACK (on_engine_started), incoming,
                           0);
  mbd_server_limits_add (server);
  mbd_server_upload_add (server, incoming);
  mbd_server_routes_add (server, instance);
  if (!soup_server_listen (server, socket_address,
                           certificate != NULL ? SOUP_SERVER_LISTEN_HTTPS : 0, error))
    return FALSE;

  GSList *uris = soup_server_get_uris (server);
  g_assert (uris != NULL);
  int port = g_uri_get_port (uris->data);
  g_autofree char *url = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  gsize url_len = strlen (url);
  if (url_len > 0 && url[url_len - 1] == '/')
    url[url_len - 1] = '\0';
  mbd_instance_set_url (instance, url);
  /* builds get the repository's own suites from here (<url>/repositories/<id>), as
   * mini-buildd's do */
  mbd_packager_set_internal_url (mbd_instance_get_packager (instance), url);
  if (opt_no_host_lintian)
    mbd_builder_set_host_lintian (mbd_instance_get_builder (instance), FALSE);
  if (!mbd_instance_start (instance, error) || !mbd_incoming_start (incoming, error))
    return FALSE;

  /* the signal handlers before the port file: whoever waits for that file may send SIGTERM at
   * once, and it must stop the server cleanly, not kill it */
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint term = g_unix_signal_add (SIGTERM, on_signal, loop);
  guint intr = g_unix_signal_add (SIGINT, on_signal, loop);
  if (opt_port_file != NULL)
    {
      g_autofree char *text = g_strdup_printf ("%d\n", port);
      if (!g_file_set_contents (opt_port_file, text, -1, error))
        {
          g_source_remove (term);
          g_source_remove (intr);
          return FALSE;
        }
    }
  fprintf (stderr, "mbd-server: serving instance '%s' (%s) on %s\n",
           mbd_instance_get_identity (instance), home, url);

  g_main_loop_run (loop);
  g_source_remove (term);
  g_source_remove (intr);

  fprintf (stderr, "mbd-server: stopping\n");
  mbd_server_events_shutdown ();
  mbd_incoming_stop (incoming);
  mbd_instance_stop (instance);
  soup_server_disconnect (server);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");
  g_set_prgname ("mbd-server");
  if (!run (argc, argv, &error))
    {
      fprintf (stderr, "mbd-server: error: %s\n", error->message);
      return error->domain == G_OPTION_ERROR ? 2 : 1;
    }
  return 0;
}
