/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "mbd-gnupg-private.h"
#include "mbd-util-private.h"

/**
 * MbdGnupg:
 *
 * One GnuPG home directory, used through gpgme: key generation, signing, verification, key
 * import and export.
 *
 * An instance signs its repository with the key in its own home (see
 * [method@Mbd.Gnupg.generate_key] and [method@Mbd.Gnupg.get_signing_fingerprint]). To check data
 * against a given keyring, make a temporary home with [ctor@Mbd.Gnupg.new_temporary], import the
 * keyring into it and verify there: verification only ever trusts the keys of the object's own
 * home.
 *
 * Create it with [ctor@Mbd.Gnupg.new] or [ctor@Mbd.Gnupg.new_temporary]; it implements
 * [iface@Gio.Initable], so `g_object_new()` alone leaves it unusable.
 *
 * Every operation has a gpgme context to itself while it runs (contexts are kept and reused, one
 * operation at a time), so one object may be used from several threads at once (for example from
 * [class@Gio.Task] worker threads). Keys are expected to have no
 * passphrase; pinentry is never asked.
 *
 * Failures of GnuPG itself are reported as %MBD_ERROR_GPG with gpgme's reason and what was being
 * done; verification failures have their own codes (%MBD_ERROR_UNSIGNED,
 * %MBD_ERROR_BAD_SIGNATURE, %MBD_ERROR_UNKNOWN_SIGNER, %MBD_ERROR_KEY_EXPIRED,
 * %MBD_ERROR_KEY_REVOKED). Cancelling an operation stops the running gpg and reports
 * %G_IO_ERROR_CANCELLED.
 */
struct _MbdGnupg
{
  GObject parent_instance;

  char *homedir;
  /* Created by us: its agent is killed and the directory removed on finalize. */
  gboolean temporary;

  GMutex lock; /* protects signing_fingerprint and idle_contexts */
  char *signing_fingerprint;
  /* Set-up contexts put back after use (see take_context()). */
  GPtrArray *idle_contexts;
};

static void mbd_gnupg_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MbdGnupg,
                               mbd_gnupg,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      mbd_gnupg_initable_iface_init))

enum
{
  PROP_0,
  PROP_HOMEDIR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The longest socket name gpg-agent puts into a home (S.gpg-agent.browser) must fit into
 * sun_path (108 bytes) together with the temporary directory's path. */
#define MAX_TMPDIR_LENGTH 64

/* ------------------------------------------------------------------------------------------ */
/* gpgme plumbing */

static gpointer
init_gpgme_once (gpointer data)
{
  /* Without gpgconf, gpgme finds gpg at its built-in path instead of asking gpgconf for every
   * component's location and version: that saves a handful of process spawns in every process
   * that signs or verifies (a one-package publish from the CLI is one such process). The homedir
   * of each context is set explicitly, so gpgconf's answers are not needed. */
  gpgme_set_global_flag ("disable-gpgconf", "1");
  /* gpgme_check_version initialises the library (and must run before any context exists). */
  if (gpgme_check_version (NULL) == NULL)
    return GUINT_TO_POINTER (gpg_error (GPG_ERR_NOT_SUPPORTED));
  return GUINT_TO_POINTER (gpgme_engine_check_version (GPGME_PROTOCOL_OpenPGP));
}

/* Sets @error from the gpgme error @err: cancellation becomes G_IO_ERROR_CANCELLED, anything
 * else MBD_ERROR_GPG with the formatted description of what was being done and gpgme's reason.
 * Returns FALSE. */
static gboolean throw_gpgme (GError **error, gpgme_error_t err, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
throw_gpgme (GError **error, gpgme_error_t err, const char *fmt, ...)
{
  if (gpgme_err_code (err) == GPG_ERR_CANCELED)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled");
      return FALSE;
    }

  va_list args;
  va_start (args, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, args);
  va_end (args);

  /* gpgme_strerror is not thread safe; the _r variant is. */
  char reason[256];
  gpgme_strerror_r (err, reason, sizeof reason);
  return mbd_throw (error, MBD_ERROR_GPG, "%s: %s", what, reason);
}

gpgme_ctx_t
mbd_gnupg_new_context (MbdGnupg *self, GError **error)
{
  static GOnce init_once = G_ONCE_INIT;
  gpgme_error_t err = GPOINTER_TO_UINT (g_once (&init_once, init_gpgme_once, NULL));

  if (err != 0)
    {
      throw_gpgme (error, err, "GnuPG (OpenPGP engine for gpgme %s) is not usable", GPGME_VERSION);
      return NULL;
    }

  /* Without a home gpg would use the user's own ~/.gnupg: never do that. */
  if (self->homedir == NULL)
    {
      mbd_throw (error, MBD_ERROR_FAILED,
                 "MbdGnupg has no home directory: create it with mbd_gnupg_new(), "
                 "mbd_gnupg_new_temporary() or g_initable_new()");
      return NULL;
    }

  g_auto (gpgme_ctx_t) ctx = NULL;
  err = gpgme_new (&ctx);
  if (err != 0)
    {
      throw_gpgme (error, err, "Cannot create a gpgme context");
      return NULL;
    }
  err = gpgme_set_protocol (ctx, GPGME_PROTOCOL_OpenPGP);
  if (err == 0)
    err = gpgme_ctx_set_engine_info (ctx, GPGME_PROTOCOL_OpenPGP, NULL, self->homedir);
  if (err == 0)
    err = gpgme_set_pinentry_mode (ctx, GPGME_PINENTRY_MODE_LOOPBACK);
  if (err != 0)
    {
      throw_gpgme (error, err, "Cannot set up gpgme for GnuPG home %s", self->homedir);
      return NULL;
    }
  gpgme_set_armor (ctx, 1);
  /* Never fetch keys from the network while verifying: only the home's keys count. */
  gpgme_set_offline (ctx, 1);
  return g_steal_pointer (&ctx);
}

/* Contexts are reused: binding a new context to a home makes gpgme run `gpg --version` (and
 * gpgme_get_key() does that for a context of its own), which was half of all the gpg processes a
 * signature cost. A context serves one operation at a time; take_context() hands it to one
 * caller, and the cleanup of PooledContext puts it back with the settings an operation may have
 * changed reset. At most MAX_IDLE_CONTEXTS wait; more are released. */
#define MAX_IDLE_CONTEXTS 4

typedef struct
{
  MbdGnupg *owner;
  gpgme_ctx_t ctx;
} PooledContext;

static gboolean
take_context (MbdGnupg *self, PooledContext *pooled, GError **error)
{
  g_mutex_lock (&self->lock);
  gpgme_ctx_t ctx
      = self->idle_contexts->len > 0
            ? g_ptr_array_steal_index_fast (self->idle_contexts, self->idle_contexts->len - 1)
            : NULL;
  g_mutex_unlock (&self->lock);

  if (ctx == NULL)
    ctx = mbd_gnupg_new_context (self, error);
  if (ctx == NULL)
    return FALSE;
  pooled->owner = self;
  pooled->ctx = ctx;
  return TRUE;
}

static void
pooled_context_clear (PooledContext *pooled)
{
  gpgme_ctx_t ctx = g_steal_pointer (&pooled->ctx);
  if (ctx == NULL)
    return;

  /* what the operations here change: back to mbd_gnupg_new_context()'s settings */
  gpgme_signers_clear (ctx);
  gpgme_set_status_cb (ctx, NULL, NULL);
  gpgme_set_progress_cb (ctx, NULL, NULL);
  gpgme_set_armor (ctx, 1);
  gpgme_set_textmode (ctx, 0);
  gpgme_set_keylist_mode (ctx, GPGME_KEYLIST_MODE_LOCAL);

  MbdGnupg *self = pooled->owner;
  g_mutex_lock (&self->lock);
  if (self->idle_contexts->len < MAX_IDLE_CONTEXTS)
    {
      g_ptr_array_add (self->idle_contexts, ctx);
      ctx = NULL;
    }
  g_mutex_unlock (&self->lock);
  if (ctx != NULL)
    gpgme_release (ctx);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PooledContext, pooled_context_clear)

/* Stops the running gpg of a context when a GCancellable fires. Declare it after the context it
 * guards so that it is disconnected before the context is released:
 *
 *   g_auto (CancelLink) link = { 0 };
 *   cancel_link_init (&link, ctx, cancellable);
 *
 * gpgme_cancel_async() only marks the context, and gpgme clears that mark when an operation
 * starts; a cancellation that falls between connecting and the start of the operation is
 * therefore caught again from gpg's status and progress lines, which run inside it. */
typedef struct
{
  gpgme_ctx_t ctx;
  GCancellable *cancellable;
  gulong handler_id;
} CancelLink;

static void
on_cancelled (GCancellable *cancellable, gpointer user_data)
{
  CancelLink *link = user_data;

  /* Thread safe; gpgme notices it in its I/O loop and fails the operation with
   * GPG_ERR_CANCELED. */
  gpgme_cancel_async (link->ctx);
}

static gpgme_error_t
on_status (void *user_data, const char *keyword, const char *args)
{
  CancelLink *link = user_data;

  if (g_cancellable_is_cancelled (link->cancellable))
    return gpg_error (GPG_ERR_CANCELED);
  return 0;
}

static void
on_progress (void *user_data, const char *what, int type, int current, int total)
{
  CancelLink *link = user_data;

  if (g_cancellable_is_cancelled (link->cancellable))
    gpgme_cancel_async (link->ctx);
}

static void
cancel_link_init (CancelLink *link, gpgme_ctx_t ctx, GCancellable *cancellable)
{
  link->ctx = ctx;
  link->cancellable = cancellable;
  if (cancellable == NULL)
    return;
  gpgme_set_status_cb (ctx, on_status, link);
  gpgme_set_progress_cb (ctx, on_progress, link);
  link->handler_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), link, NULL);
}

static void
cancel_link_clear (CancelLink *link)
{
  if (link->handler_id != 0)
    g_cancellable_disconnect (link->cancellable, link->handler_id);
  link->handler_id = 0;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CancelLink, cancel_link_clear)

/* A gpgme data object reading @bytes without copying; @bytes must outlive it. */
static gpgme_data_t
data_from_bytes (GBytes *bytes, const char *what, GError **error)
{
  gsize length = 0;
  const char *buffer = g_bytes_get_data (bytes, &length);
  gpgme_data_t data = NULL;

  gpgme_error_t err = gpgme_data_new_from_mem (&data, buffer != NULL ? buffer : "", length, 0);
  if (err != 0)
    {
      throw_gpgme (error, err, "Cannot pass %s to gpgme", what);
      return NULL;
    }
  return data;
}

static gpgme_data_t
data_new (GError **error)
{
  gpgme_data_t data = NULL;
  gpgme_error_t err = gpgme_data_new (&data);

  if (err != 0)
    {
      throw_gpgme (error, err, "Cannot create a gpgme data buffer");
      return NULL;
    }
  return data;
}

/* Releases the memory data object *@data and returns what was written to it. */
static GBytes *
data_steal_bytes (gpgme_data_t *data)
{
  size_t length = 0;
  char *buffer = gpgme_data_release_and_get_mem (g_steal_pointer (data), &length);

  if (buffer == NULL)
    return g_bytes_new (NULL, 0);
  return g_bytes_new_with_free_func (buffer, length, gpgme_free, buffer);
}

/* ------------------------------------------------------------------------------------------ */
/* Object */

/* Removes @path and everything below it without following symbolic links. */
static void
remove_recursively (const char *path)
{
  GStatBuf buf;

  if (g_lstat (path, &buf) != 0)
    return;
  if (S_ISDIR (buf.st_mode))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_recursively (child);
        }
      if (g_rmdir (path) != 0)
        g_debug ("Cannot remove %s: %s", path, g_strerror (errno));
    }
  else if (g_unlink (path) != 0)
    g_debug ("Cannot remove %s: %s", path, g_strerror (errno));
}

/* Stops the gpg-agent (and any other GnuPG daemon) serving @homedir. */
static void
kill_daemons (const char *homedir)
{
  const char *gpgconf = gpgme_get_dirinfo ("gpgconf-name");
  const char *argv[] = {
    gpgconf != NULL ? gpgconf : "gpgconf", "--homedir", homedir, "--kill", "all", NULL,
  };
  g_autoptr (GError) error = NULL;

  if (!g_spawn_sync (NULL, (char **) argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, NULL, &error))
    g_debug ("Cannot stop the gpg-agent of %s: %s", homedir, error->message);
}

static char *
make_temporary_home (GError **error)
{
  const char *tmpdir = g_getenv ("TMPDIR");

  if (tmpdir == NULL || !g_path_is_absolute (tmpdir) || strlen (tmpdir) > MAX_TMPDIR_LENGTH)
    tmpdir = "/tmp";

  g_autofree char *path = g_build_filename (tmpdir, "mbd-gpg-XXXXXX", NULL);
  if (g_mkdtemp_full (path, 0700) == NULL)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot create a temporary GnuPG home in %s: %s", tmpdir,
                   g_strerror (saved_errno));
      return NULL;
    }
  return g_steal_pointer (&path);
}

static gboolean
mbd_gnupg_initable_init (GInitable *initable, GCancellable *cancellable, GError **error)
{
  MbdGnupg *self = MBD_GNUPG (initable);

  if (self->homedir == NULL)
    {
      self->homedir = make_temporary_home (error);
      if (self->homedir == NULL)
        return FALSE;
      self->temporary = TRUE;
    }
  else
    {
      if (self->homedir[0] == '\0')
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "The GnuPG home directory is empty");
      /* gpg resolves a relative home against its own working directory; pin it down now. */
      char *absolute = g_canonicalize_filename (self->homedir, NULL);
      g_free (self->homedir);
      self->homedir = absolute;

      if (g_mkdir_with_parents (self->homedir, 0700) != 0)
        {
          int saved_errno = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot create GnuPG home %s: %s", self->homedir, g_strerror (saved_errno));
          return FALSE;
        }
    }

  /* Fails early if gpgme or gpg is missing or too old. */
  g_auto (PooledContext) pooled = { 0 };
  return take_context (self, &pooled, error);
}

static void
mbd_gnupg_initable_iface_init (GInitableIface *iface)
{
  iface->init = mbd_gnupg_initable_init;
}

static void
mbd_gnupg_finalize (GObject *object)
{
  MbdGnupg *self = MBD_GNUPG (object);

  /* the contexts first: they belong to the home that may be removed below */
  g_ptr_array_set_size (self->idle_contexts, 0);
  if (self->temporary)
    {
      kill_daemons (self->homedir);
      remove_recursively (self->homedir);
    }
  g_ptr_array_unref (self->idle_contexts);
  g_free (self->homedir);
  g_free (self->signing_fingerprint);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (mbd_gnupg_parent_class)->finalize (object);
}

static void
mbd_gnupg_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MbdGnupg *self = MBD_GNUPG (object);

  switch (prop_id)
    {
    case PROP_HOMEDIR:
      g_value_set_string (value, self->homedir);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mbd_gnupg_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MbdGnupg *self = MBD_GNUPG (object);

  switch (prop_id)
    {
    case PROP_HOMEDIR:
      g_free (self->homedir);
      self->homedir = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mbd_gnupg_class_init (MbdGnupgClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mbd_gnupg_finalize;
  object_class->get_property = mbd_gnupg_get_property;
  object_class->set_property = mbd_gnupg_set_property;

  /**
   * MbdGnupg:homedir:
   *
   * The GnuPG home directory, as an absolute path.
   *
   * It is created (mode 0700) if missing. If no home is given at construction, a temporary one
   * is made; it is removed, and its gpg-agent stopped, when the object is finalized. A home
   * given by the caller is never removed and its agent keeps running.
   */
  properties[PROP_HOMEDIR]
      = g_param_spec_string ("homedir", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mbd_gnupg_init (MbdGnupg *self)
{
  g_mutex_init (&self->lock);
  self->idle_contexts = g_ptr_array_new_with_free_func ((GDestroyNotify) gpgme_release);
}

/**
 * mbd_gnupg_new:
 * @homedir: (type filename): the GnuPG home directory
 * @error: return location for a #GError
 *
 * Opens the GnuPG home @homedir, creating it with mode 0700 if it does not exist.
 *
 * The home, its keys and its gpg-agent stay when the object is finalized.
 *
 * Returns: (transfer full): a new #MbdGnupg, or %NULL if the home cannot be created (a
 *   %G_IO_ERROR) or GnuPG is not usable (%MBD_ERROR_GPG)
 */
MbdGnupg *
mbd_gnupg_new (const char *homedir, GError **error)
{
  g_return_val_if_fail (homedir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (MBD_TYPE_GNUPG, NULL, error, "homedir", homedir, NULL);
}

/**
 * mbd_gnupg_new_temporary:
 * @error: return location for a #GError
 *
 * Creates a new, empty GnuPG home in `$TMPDIR` (or `/tmp` when `$TMPDIR` is unset or too long
 * for gpg-agent's socket path).
 *
 * When the object is finalized, the home's gpg-agent is stopped and the directory removed with
 * everything in it. Use it to verify data against a given keyring: import the keyring with
 * [method@Mbd.Gnupg.import_keyring_file] or [method@Mbd.Gnupg.import_keys], then verify.
 *
 * Returns: (transfer full): a new #MbdGnupg, or %NULL if the directory cannot be created (a
 *   %G_IO_ERROR) or GnuPG is not usable (%MBD_ERROR_GPG)
 */
MbdGnupg *
mbd_gnupg_new_temporary (GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (MBD_TYPE_GNUPG, NULL, error, NULL);
}

/**
 * mbd_gnupg_get_homedir:
 * @self: a #MbdGnupg
 *
 * Gets the GnuPG home directory of @self, see [property@Mbd.Gnupg:homedir].
 *
 * Returns: (transfer none) (type filename): the absolute path of the home directory
 */
const char *
mbd_gnupg_get_homedir (MbdGnupg *self)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), NULL);

  return self->homedir;
}

/* ------------------------------------------------------------------------------------------ */
/* Keys */

/* Whether gpg 2.2 can make a signing key of @algorithm, a --quick-gen-key algorithm name. gpg
 * itself rejects other names without a status line that says why, so they are checked here. */
static gboolean
is_signing_algorithm (const char *algorithm)
{
  static const char *const named[] = {
    "default",  "future-default",  "ed25519",         "nistp256",        "nistp384",
    "nistp521", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1", "secp256k1",
  };
  struct
  {
    const char *prefix;
    guint64 min_bits;
    guint64 max_bits;
  } sized[] = { { "rsa", 1024, 4096 }, { "dsa", 768, 3072 } };

  for (guint i = 0; i < G_N_ELEMENTS (named); i++)
    {
      if (g_ascii_strcasecmp (algorithm, named[i]) == 0)
        return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (sized); i++)
    {
      gsize prefix_length = strlen (sized[i].prefix);
      guint64 bits = 0;

      if (g_ascii_strncasecmp (algorithm, sized[i].prefix, prefix_length) != 0)
        continue;
      if (algorithm[prefix_length] == '\0')
        return TRUE; /* gpg's default size */
      return g_ascii_string_to_unsigned (algorithm + prefix_length, 10, sized[i].min_bits,
                                         sized[i].max_bits, &bits, NULL);
    }
  return FALSE;
}

/**
 * mbd_gnupg_generate_key:
 * @self: a #MbdGnupg
 * @user_id: the user ID of the new key, such as `"mbd instance <mbd@example.org>"`
 * @algorithm: (nullable): a gpg `--quick-gen-key` signing algorithm: `"rsa"` or `"rsaN"` (N
 *   from 1024 to 4096 bits), `"dsa"` or `"dsaN"`, `"ed25519"`, `"nistp256"` (and the other NIST,
 *   Brainpool and secp256k1 curves gpg knows), `"default"` or `"future-default"`; %NULL for
 *   %MBD_GNUPG_DEFAULT_KEY_ALGORITHM
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Generates a new signing key in the home of @self, without a passphrase and without an expiry
 * date, and makes it the signing key (see [method@Mbd.Gnupg.set_signing_fingerprint]).
 *
 * The key can sign (and certify) only; it has no encryption subkey.
 *
 * Returns: (transfer full): the fingerprint of the new key, or %NULL with
 *   %MBD_ERROR_INVALID_ARGUMENT if gpg does not know @algorithm (or @user_id is empty),
 *   %MBD_ERROR_EXISTS if a key with @user_id exists already, or %MBD_ERROR_GPG
 */
char *
mbd_gnupg_generate_key (MbdGnupg *self,
                        const char *user_id,
                        const char *algorithm,
                        GCancellable *cancellable,
                        GError **error)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), NULL);
  g_return_val_if_fail (user_id != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (algorithm == NULL)
    algorithm = MBD_GNUPG_DEFAULT_KEY_ALGORITHM;
  if (user_id[0] == '\0')
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "The user ID of a new key must not be empty");
      return NULL;
    }
  if (!is_signing_algorithm (algorithm))
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "Cannot generate a key for “%s”: “%s” is not a signing key algorithm of gpg "
                 "(use for example rsa3072, rsa4096, ed25519 or default)",
                 user_id, algorithm);
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  g_auto (gpgme_ctx_t) ctx = mbd_gnupg_new_context (self, error);
  if (ctx == NULL)
    return NULL;
  g_auto (CancelLink) link = { 0 };
  cancel_link_init (&link, ctx, cancellable);

  gpgme_error_t err
      = gpgme_op_createkey (ctx, user_id, algorithm, 0, 0, NULL,
                            GPGME_CREATE_SIGN | GPGME_CREATE_NOPASSWD | GPGME_CREATE_NOEXPIRE);
  switch (gpgme_err_code (err))
    {
    case GPG_ERR_NO_ERROR:
      break;
    case GPG_ERR_UNKNOWN_CURVE:
    case GPG_ERR_PUBKEY_ALGO:
    case GPG_ERR_UNKNOWN_ALGORITHM:
    case GPG_ERR_INV_VALUE:
    case GPG_ERR_INV_PARAMETER:
      {
        char reason[256];
        gpgme_strerror_r (err, reason, sizeof reason);
        mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                   "Cannot generate a key for “%s”: gpg does not accept the key algorithm “%s” "
                   "(%s)",
                   user_id, algorithm, reason);
        return NULL;
      }
    case GPG_ERR_USER_ID_EXISTS:
      mbd_throw (error, MBD_ERROR_EXISTS, "A key with user ID “%s” exists already in %s", user_id,
                 self->homedir);
      return NULL;
    default:
      throw_gpgme (error, err, "Cannot generate a %s key for “%s” in %s", algorithm, user_id,
                   self->homedir);
      return NULL;
    }

  gpgme_genkey_result_t result = gpgme_op_genkey_result (ctx);
  if (result == NULL || result->fpr == NULL)
    {
      mbd_throw (error, MBD_ERROR_GPG, "gpg generated a key for “%s” but reported no fingerprint",
                 user_id);
      return NULL;
    }

  mbd_gnupg_set_signing_fingerprint (self, result->fpr);
  return g_strdup (result->fpr);
}

/**
 * mbd_gnupg_set_signing_fingerprint:
 * @self: a #MbdGnupg
 * @fingerprint: (nullable): the fingerprint of a secret key in the home, or %NULL to choose
 *   automatically again
 *
 * Chooses the key that [method@Mbd.Gnupg.sign_clear] and [method@Mbd.Gnupg.sign_detached] sign
 * with.
 *
 * The key is not looked up here; signing fails with %MBD_ERROR_NOT_FOUND if the home has no
 * secret key for it.
 */
void
mbd_gnupg_set_signing_fingerprint (MbdGnupg *self, const char *fingerprint)
{
  g_return_if_fail (MBD_IS_GNUPG (self));

  g_mutex_lock (&self->lock);
  g_free (self->signing_fingerprint);
  self->signing_fingerprint = g_strdup (fingerprint);
  g_mutex_unlock (&self->lock);
}

/**
 * mbd_gnupg_get_signing_fingerprint:
 * @self: a #MbdGnupg
 * @error: return location for a #GError
 *
 * Gets the fingerprint of the key that signatures are made with.
 *
 * That is the one chosen with [method@Mbd.Gnupg.set_signing_fingerprint] (or made last by
 * [method@Mbd.Gnupg.generate_key]); without a choice, it is the only secret key in the home.
 *
 * Returns: (transfer full): the fingerprint, or %NULL with %MBD_ERROR_NOT_FOUND if the home has
 *   no secret key, or %MBD_ERROR_INVALID_ARGUMENT if it has several and none was chosen
 */
char *
mbd_gnupg_get_signing_fingerprint (MbdGnupg *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_mutex_lock (&self->lock);
  char *chosen = g_strdup (self->signing_fingerprint);
  g_mutex_unlock (&self->lock);
  if (chosen != NULL)
    return chosen;

  g_auto (GStrv) secret = mbd_gnupg_list_fingerprints (self, TRUE, error);
  if (secret == NULL)
    return NULL;

  guint n_secret = g_strv_length (secret);
  if (n_secret == 0)
    {
      mbd_throw (error, MBD_ERROR_NOT_FOUND, "GnuPG home %s has no secret key to sign with",
                 self->homedir);
      return NULL;
    }
  if (n_secret > 1)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "GnuPG home %s has %u secret keys and none was chosen to sign with", self->homedir,
                 n_secret);
      return NULL;
    }
  return g_strdup (secret[0]);
}

/**
 * mbd_gnupg_list_fingerprints:
 * @self: a #MbdGnupg
 * @secret_only: whether to list only keys whose secret part is in the home
 * @error: return location for a #GError
 *
 * Lists the primary key fingerprints of the keys in the home of @self.
 *
 * Returns: (transfer full) (array zero-terminated=1): the fingerprints, possibly none, or %NULL
 *   with %MBD_ERROR_GPG
 */
char **
mbd_gnupg_list_fingerprints (MbdGnupg *self, gboolean secret_only, GError **error)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_auto (PooledContext) pooled = { 0 };
  if (!take_context (self, &pooled, error))
    return NULL;
  gpgme_ctx_t ctx = pooled.ctx;

  gpgme_error_t err = gpgme_op_keylist_start (ctx, NULL, secret_only ? 1 : 0);
  if (err != 0)
    {
      throw_gpgme (error, err, "Cannot list the keys of %s", self->homedir);
      return NULL;
    }

  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (;;)
    {
      g_auto (gpgme_key_t) key = NULL;

      err = gpgme_op_keylist_next (ctx, &key);
      if (gpgme_err_code (err) == GPG_ERR_EOF)
        break;
      if (err != 0)
        {
          throw_gpgme (error, err, "Cannot list the keys of %s", self->homedir);
          return NULL;
        }
      if (key->fpr != NULL)
        g_strv_builder_add (builder, key->fpr);
    }
  return g_strv_builder_end (builder);
}

/* Looks up the one key that @spec (a fingerprint) names, in a context of its own (so that the
 * result of an operation in the caller's context stays valid). gpgme_get_key() does the same,
 * but with a new context each time. */
static gpgme_key_t
lookup_key (MbdGnupg *self, const char *spec, gboolean secret, GError **error)
{
  g_auto (PooledContext) pooled = { 0 };
  if (!take_context (self, &pooled, error))
    return NULL;

  gpgme_key_t key = NULL;
  gpgme_error_t err = gpgme_op_keylist_start (pooled.ctx, spec, secret ? 1 : 0);
  if (err == 0)
    err = gpgme_op_keylist_next (pooled.ctx, &key);
  if (err == 0)
    {
      g_auto (gpgme_key_t) another = NULL;
      gpgme_error_t next = gpgme_op_keylist_next (pooled.ctx, &another);
      if (next == 0)
        err = gpg_error (GPG_ERR_AMBIGUOUS_NAME);
      else if (gpgme_err_code (next) != GPG_ERR_EOF)
        err = next;
    }
  gpgme_op_keylist_end (pooled.ctx);
  if (err != 0)
    g_clear_pointer (&key, gpgme_key_unref);

  switch (gpgme_err_code (err))
    {
    case GPG_ERR_NO_ERROR:
      return key;
    case GPG_ERR_EOF:
      mbd_throw (error, MBD_ERROR_NOT_FOUND, "GnuPG home %s has no %s key %s", self->homedir,
                 secret ? "secret" : "public", spec);
      return NULL;
    case GPG_ERR_AMBIGUOUS_NAME:
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "“%s” names more than one key in GnuPG home %s; give a full fingerprint", spec,
                 self->homedir);
      return NULL;
    default:
      throw_gpgme (error, err, "Cannot look up key %s in %s", spec, self->homedir);
      return NULL;
    }
}

static char **
import_data (MbdGnupg *self,
             gpgme_data_t keydata,
             const char *what,
             GCancellable *cancellable,
             GError **error)
{
  g_auto (PooledContext) pooled = { 0 };
  if (!take_context (self, &pooled, error))
    return NULL;
  gpgme_ctx_t ctx = pooled.ctx;
  g_auto (CancelLink) link = { 0 };
  cancel_link_init (&link, ctx, cancellable);

  gpgme_error_t err = gpgme_op_import (ctx, keydata);
  gpgme_import_result_t result = gpgme_op_import_result (ctx);
  if (gpgme_err_code (err) == GPG_ERR_NO_DATA
      || (err == 0 && (result == NULL || result->considered == 0)))
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s contains no OpenPGP keys", what);
      return NULL;
    }
  if (err != 0)
    {
      throw_gpgme (error, err, "Cannot import %s into %s", what, self->homedir);
      return NULL;
    }

  /* A key may be listed twice (public and secret part); report each once, in input order. */
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint failed = 0;
  gpgme_error_t first_failure = 0;
  for (gpgme_import_status_t status = result->imports; status != NULL; status = status->next)
    {
      if (status->result != 0)
        {
          if (failed++ == 0)
            first_failure = status->result;
          continue;
        }
      if (status->fpr == NULL || !g_hash_table_add (seen, status->fpr))
        continue;
      g_strv_builder_add (builder, status->fpr);
    }
  if (g_hash_table_size (seen) == 0 && failed > 0)
    {
      throw_gpgme (error, first_failure, "None of the %d keys in %s could be imported",
                   result->considered, what);
      return NULL;
    }
  return g_strv_builder_end (builder);
}

/**
 * mbd_gnupg_import_keys:
 * @self: a #MbdGnupg
 * @keydata: OpenPGP keys, ASCII armored or binary (a keyring)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Imports public keys (and secret keys, if @keydata has any) into the home of @self.
 *
 * Keys already in the home count as imported. Revocation certificates are imported too; they
 * revoke a key already in the home but add no fingerprint to the result, so importing only a
 * revocation certificate returns an empty list.
 *
 * Returns: (transfer full) (array zero-terminated=1): the primary key fingerprints of the keys
 *   imported, in the order of @keydata; %NULL with %MBD_ERROR_INVALID_ARGUMENT if @keydata has
 *   no OpenPGP keys, or %MBD_ERROR_GPG if none could be imported
 */
char **
mbd_gnupg_import_keys (MbdGnupg *self, GBytes *keydata, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), NULL);
  g_return_val_if_fail (keydata != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  g_auto (gpgme_data_t) data = data_from_bytes (keydata, "key data", error);
  if (data == NULL)
    return NULL;
  return import_data (self, data, "The key data", cancellable, error);
}

/**
 * mbd_gnupg_import_keyring_file:
 * @self: a #MbdGnupg
 * @path: (type filename): a file of OpenPGP keys, such as
 *   `/usr/share/keyrings/debian-archive-keyring.gpg`: a binary keyring or ASCII armored keys
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Imports the keys of the file @path into the home of @self, like
 * [method@Mbd.Gnupg.import_keys].
 *
 * Returns: (transfer full) (array zero-terminated=1): the primary key fingerprints of the keys
 *   imported; %NULL with a %G_IO_ERROR if @path cannot be read, %MBD_ERROR_INVALID_ARGUMENT if
 *   it has no OpenPGP keys, or %MBD_ERROR_GPG
 */
char **
mbd_gnupg_import_keyring_file (MbdGnupg *self,
                               const char *path,
                               GCancellable *cancellable,
                               GError **error)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GBytes) contents = g_file_load_bytes (file, cancellable, NULL, error);
  if (contents == NULL)
    return NULL;

  g_auto (gpgme_data_t) data = data_from_bytes (contents, path, error);
  if (data == NULL)
    return NULL;
  g_autofree char *what = g_strdup_printf ("Keyring %s", path);
  return import_data (self, data, what, cancellable, error);
}

/**
 * mbd_gnupg_export_public_key:
 * @self: a #MbdGnupg
 * @fingerprint: the fingerprint of a key in the home
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Exports the public key @fingerprint, with its user IDs and subkeys, as ASCII armored text.
 *
 * Returns: (transfer full): the armored public key block, or %NULL with %MBD_ERROR_NOT_FOUND if
 *   the home has no such key, %MBD_ERROR_INVALID_ARGUMENT if @fingerprint is too short to name
 *   one key, or %MBD_ERROR_GPG
 */
char *
mbd_gnupg_export_public_key (MbdGnupg *self,
                             const char *fingerprint,
                             GCancellable *cancellable,
                             GError **error)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), NULL);
  g_return_val_if_fail (fingerprint != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  g_auto (PooledContext) pooled = { 0 };
  if (!take_context (self, &pooled, error))
    return NULL;
  gpgme_ctx_t ctx = pooled.ctx;
  g_auto (CancelLink) link = { 0 };
  cancel_link_init (&link, ctx, cancellable);

  /* Resolve to exactly one key first: an export pattern would match any user ID substring. */
  g_auto (gpgme_key_t) key = lookup_key (self, fingerprint, FALSE, error);
  if (key == NULL)
    return NULL;

  g_auto (gpgme_data_t) out = data_new (error);
  if (out == NULL)
    return NULL;
  gpgme_key_t keys[] = { key, NULL };
  gpgme_error_t err = gpgme_op_export_keys (ctx, keys, 0, out);
  if (err != 0)
    {
      throw_gpgme (error, err, "Cannot export key %s from %s", fingerprint, self->homedir);
      return NULL;
    }

  g_autoptr (GBytes) bytes = data_steal_bytes (&out);
  gsize length = 0;
  const char *text = g_bytes_get_data (bytes, &length);
  if (length == 0)
    {
      mbd_throw (error, MBD_ERROR_GPG, "gpg exported nothing for key %s", fingerprint);
      return NULL;
    }
  return g_strndup (text, length);
}

/* ------------------------------------------------------------------------------------------ */
/* Signing */

gboolean
mbd_gnupg_get_user_id (MbdGnupg *self,
                       const char *fingerprint,
                       char **out_uid,
                       char **out_email,
                       GError **error)
{
  g_auto (gpgme_key_t) key = lookup_key (self, fingerprint, FALSE, error);
  if (key == NULL)
    return FALSE;
  if (key->uids == NULL || key->uids->uid == NULL)
    return mbd_throw (error, MBD_ERROR_GPG, "key %s has no user id", fingerprint);
  *out_uid = g_strdup (key->uids->uid);
  *out_email = g_strdup (key->uids->email != NULL ? key->uids->email : "");
  return TRUE;
}

/* Looks up the signing key; NULL if it is missing or unusable. */
static gpgme_key_t
signing_key (MbdGnupg *self, GError **error)
{
  g_autofree char *fingerprint = mbd_gnupg_get_signing_fingerprint (self, error);
  if (fingerprint == NULL)
    return NULL;

  g_auto (gpgme_key_t) key = lookup_key (self, fingerprint, TRUE, error);
  if (key == NULL)
    return NULL;
  if (key->revoked)
    {
      mbd_throw (error, MBD_ERROR_KEY_REVOKED, "Signing key %s has been revoked", fingerprint);
      return NULL;
    }
  if (key->expired)
    {
      mbd_throw (error, MBD_ERROR_KEY_EXPIRED, "Signing key %s has expired", fingerprint);
      return NULL;
    }
  if (!key->can_sign)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "Key %s has no usable signing key",
                 fingerprint);
      return NULL;
    }
  return g_steal_pointer (&key);
}

/* Signs @data with @key (from signing_key()). */
static GBytes *
sign_with (MbdGnupg *self,
           gpgme_key_t key,
           GBytes *data,
           gpgme_sig_mode_t mode,
           GCancellable *cancellable,
           GError **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  g_auto (PooledContext) pooled = { 0 };
  if (!take_context (self, &pooled, error))
    return NULL;
  gpgme_ctx_t ctx = pooled.ctx;
  g_auto (CancelLink) link = { 0 };
  cancel_link_init (&link, ctx, cancellable);
  gpgme_error_t err = gpgme_signers_add (ctx, key);
  if (err != 0)
    {
      throw_gpgme (error, err, "Cannot sign with key %s", key->fpr);
      return NULL;
    }

  g_auto (gpgme_data_t) in = data_from_bytes (data, "the data to sign", error);
  if (in == NULL)
    return NULL;
  g_auto (gpgme_data_t) out = data_new (error);
  if (out == NULL)
    return NULL;

  err = gpgme_op_sign (ctx, in, out, mode);
  gpgme_sign_result_t result = gpgme_op_sign_result (ctx);
  if (err == 0 && result != NULL && result->invalid_signers != NULL)
    err = result->invalid_signers->reason;
  if (err != 0)
    {
      throw_gpgme (error, err, "Cannot sign with GnuPG home %s", self->homedir);
      return NULL;
    }
  if (result == NULL || result->signatures == NULL)
    {
      mbd_throw (error, MBD_ERROR_GPG, "gpg made no signature with GnuPG home %s", self->homedir);
      return NULL;
    }

  /* apt refuses signatures over SHA-1 (and worse); fail here rather than publish one. */
  switch (result->signatures->hash_algo)
    {
    case GPGME_MD_SHA224:
    case GPGME_MD_SHA256:
    case GPGME_MD_SHA384:
    case GPGME_MD_SHA512:
      break;
    default:
      mbd_throw (error, MBD_ERROR_GPG,
                 "gpg signed with the weak digest %s, which apt rejects; set "
                 "“personal-digest-preferences SHA512” in %s/gpg.conf",
                 gpgme_hash_algo_name (result->signatures->hash_algo), self->homedir);
      return NULL;
    }

  return data_steal_bytes (&out);
}

static GBytes *
sign_data (MbdGnupg *self,
           GBytes *data,
           gpgme_sig_mode_t mode,
           GCancellable *cancellable,
           GError **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  g_auto (gpgme_key_t) key = signing_key (self, error);
  if (key == NULL)
    return NULL;
  return sign_with (self, key, data, mode, cancellable, error);
}

typedef struct
{
  MbdGnupg *self;
  gpgme_key_t key;
  GBytes *data;
  GBytes *signature;
  GError *error;
} DetachedJob;

static gpointer
detached_thread (gpointer data)
{
  DetachedJob *job = data;

  job->signature
      = sign_with (job->self, job->key, job->data, GPGME_SIG_MODE_DETACH, NULL, &job->error);
  return NULL;
}

gboolean
mbd_gnupg_sign_release (MbdGnupg *self,
                        GBytes *data,
                        GBytes **clear,
                        GBytes **detached,
                        GError **error)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), FALSE);
  g_return_val_if_fail (data != NULL && clear != NULL && detached != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_auto (gpgme_key_t) key = signing_key (self, error);
  if (key == NULL)
    return FALSE;

  /* two gpg processes at once: publishing waits for the slower one only */
  DetachedJob job = { self, key, data, NULL, NULL };
  GThread *thread = g_thread_new ("mbd-sign-detached", detached_thread, &job);
  g_autoptr (GBytes) clear_signed = sign_with (self, key, data, GPGME_SIG_MODE_CLEAR, NULL, error);
  g_thread_join (thread);

  g_autoptr (GBytes) detached_signature = job.signature;
  if (clear_signed == NULL)
    {
      g_clear_error (&job.error);
      return mbd_prefix_error (error, "clear signature: ");
    }
  if (detached_signature == NULL)
    {
      g_propagate_error (error, job.error);
      return mbd_prefix_error (error, "detached signature: ");
    }
  *clear = g_steal_pointer (&clear_signed);
  *detached = g_steal_pointer (&detached_signature);
  return TRUE;
}

/**
 * mbd_gnupg_sign_clear:
 * @self: a #MbdGnupg
 * @data: the text to sign, such as the contents of a Release file
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes a clear-signed message of @data (as an InRelease file is) with the signing key of
 * [method@Mbd.Gnupg.get_signing_fingerprint].
 *
 * Returns: (transfer full): the clear-signed text, or %NULL with the errors of
 *   [method@Mbd.Gnupg.get_signing_fingerprint], %MBD_ERROR_NOT_FOUND if the home has no secret
 *   key for the chosen fingerprint, %MBD_ERROR_KEY_EXPIRED or %MBD_ERROR_KEY_REVOKED if that key
 *   is no longer usable, or %MBD_ERROR_GPG
 */
GBytes *
mbd_gnupg_sign_clear (MbdGnupg *self, GBytes *data, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), NULL);
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return sign_data (self, data, GPGME_SIG_MODE_CLEAR, cancellable, error);
}

/**
 * mbd_gnupg_sign_detached:
 * @self: a #MbdGnupg
 * @data: the data to sign, such as the contents of a Release file
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes an ASCII armored detached signature of @data (as a Release.gpg file is) with the signing
 * key of [method@Mbd.Gnupg.get_signing_fingerprint].
 *
 * Returns: (transfer full): the armored signature, or %NULL with the errors of
 *   [method@Mbd.Gnupg.sign_clear]
 */
GBytes *
mbd_gnupg_sign_detached (MbdGnupg *self, GBytes *data, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), NULL);
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return sign_data (self, data, GPGME_SIG_MODE_DETACH, cancellable, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Verification */

/* Checks one signature of a verify result; FALSE with the matching MBD_ERROR code if it does
 * not make the data valid. */
static gboolean
check_signature (MbdGnupg *self, gpgme_signature_t sig, const char *what, GError **error)
{
  const char *signer = sig->fpr != NULL ? sig->fpr : "(unknown)";
  gpgme_err_code_t code = gpgme_err_code (sig->status);

  if (code == GPG_ERR_NO_PUBKEY || (sig->summary & GPGME_SIGSUM_KEY_MISSING) != 0)
    return mbd_throw (error, MBD_ERROR_UNKNOWN_SIGNER,
                      "%s is signed by key %s, which is not in the keyring used for "
                      "verification (GnuPG home %s)",
                      what, signer, self->homedir);
  if (code == GPG_ERR_BAD_SIGNATURE)
    return mbd_throw (error, MBD_ERROR_BAD_SIGNATURE,
                      "%s has a bad signature by key %s: the data does not match it", what, signer);
  if (code == GPG_ERR_CERT_REVOKED || (sig->summary & GPGME_SIGSUM_KEY_REVOKED) != 0)
    return mbd_throw (error, MBD_ERROR_KEY_REVOKED, "%s is signed by key %s, which is revoked",
                      what, signer);
  if (code == GPG_ERR_KEY_EXPIRED || (sig->summary & GPGME_SIGSUM_KEY_EXPIRED) != 0)
    return mbd_throw (error, MBD_ERROR_KEY_EXPIRED, "%s is signed by key %s, which has expired",
                      what, signer);
  if (code == GPG_ERR_SIG_EXPIRED || (sig->summary & GPGME_SIGSUM_SIG_EXPIRED) != 0)
    return mbd_throw (error, MBD_ERROR_KEY_EXPIRED, "%s has a signature by key %s that expired",
                      what, signer);
  if (code != GPG_ERR_NO_ERROR && (sig->summary & GPGME_SIGSUM_SYS_ERROR) != 0)
    return throw_gpgme (error, sig->status, "Cannot verify the signature of %s by key %s", what,
                        signer);
  if (code != GPG_ERR_NO_ERROR)
    {
      char reason[256];
      gpgme_strerror_r (sig->status, reason, sizeof reason);
      return mbd_throw (error, MBD_ERROR_BAD_SIGNATURE,
                        "%s has a signature by key %s that is not valid: %s", what, signer, reason);
    }
  if (sig->wrong_key_usage)
    return mbd_throw (error, MBD_ERROR_BAD_SIGNATURE,
                      "%s is signed by key %s, which is not allowed to sign", what, signer);
  if ((sig->summary & GPGME_SIGSUM_RED) != 0)
    return mbd_throw (error, MBD_ERROR_BAD_SIGNATURE,
                      "%s is signed by key %s, which is marked as not valid in %s", what, signer,
                      self->homedir);
  return TRUE;
}

/* Maps the signing (sub)key @fingerprint to the full fingerprint of its primary key. */
static char *
primary_fingerprint (MbdGnupg *self, const char *fingerprint, GError **error)
{
  g_auto (gpgme_key_t) key = lookup_key (self, fingerprint, FALSE, error);
  if (key == NULL)
    return NULL;

  for (gpgme_subkey_t subkey = key->subkeys; subkey != NULL; subkey = subkey->next)
    {
      if (subkey->fpr != NULL && g_ascii_strcasecmp (subkey->fpr, fingerprint) == 0)
        return g_strdup (key->fpr);
    }
  mbd_throw (error, MBD_ERROR_GPG, "gpg reported signing key %s, but key %s has no such subkey",
             fingerprint, key->fpr);
  return NULL;
}

/* Evaluates the result of the verify operation that just ran in @ctx (which returned @err). */
static gboolean
check_verify_result (MbdGnupg *self,
                     gpgme_ctx_t ctx,
                     gpgme_error_t err,
                     MbdGnupgVerifyFlags flags,
                     const char *what,
                     char **out_fingerprint,
                     GError **error)
{
  /* NO_DATA: gpg found no OpenPGP data at all (plain text, or garbage as signature). */
  if (gpgme_err_code (err) == GPG_ERR_NO_DATA)
    return mbd_throw (error, MBD_ERROR_UNSIGNED, "%s is not OpenPGP signed", what);
  if (err != 0)
    return throw_gpgme (error, err, "Cannot verify %s", what);

  gpgme_verify_result_t result = gpgme_op_verify_result (ctx);
  if (result == NULL || result->signatures == NULL)
    return mbd_throw (error, MBD_ERROR_UNSIGNED, "%s carries no OpenPGP signature", what);

  /* All signatures must be valid, or (ANY_GOOD, as apt does) the first valid one is enough; then
   * the error reported when none is valid is the one of the first signature. */
  gpgme_signature_t good = NULL;
  g_autoptr (GError) first_failure = NULL;
  for (gpgme_signature_t sig = result->signatures; sig != NULL; sig = sig->next)
    {
      g_autoptr (GError) failure = NULL;
      if (check_signature (self, sig, what, &failure))
        {
          if (good == NULL)
            good = sig;
          if ((flags & MBD_GNUPG_VERIFY_ANY_GOOD) != 0)
            break;
          continue;
        }
      if ((flags & MBD_GNUPG_VERIFY_ANY_GOOD) == 0)
        {
          g_propagate_error (error, g_steal_pointer (&failure));
          return FALSE;
        }
      if (first_failure == NULL)
        first_failure = g_steal_pointer (&failure);
    }
  if (good == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_failure));
      return FALSE;
    }

  if (good->fpr == NULL)
    return mbd_throw (error, MBD_ERROR_GPG, "gpg verified %s but reported no signing key", what);
  g_autofree char *fingerprint = primary_fingerprint (self, good->fpr, error);
  if (fingerprint == NULL)
    return FALSE;

  if (out_fingerprint != NULL)
    *out_fingerprint = g_steal_pointer (&fingerprint);
  return TRUE;
}

/**
 * mbd_gnupg_verify_clear_full:
 * @self: a #MbdGnupg
 * @signed_data: a clear-signed (or inline signed) OpenPGP message, such as an InRelease file
 * @flags: how several signatures are judged
 * @out_fingerprint: (out) (optional) (transfer full): return location for the primary key
 *   fingerprint of the signer
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Verifies @signed_data against the keys in the home of @self and returns the text that is
 * signed.
 *
 * Parse only the returned text, never @signed_data itself: text outside the signed part of the
 * message (before its header, for example) is not covered by the signature and is not
 * returned.
 *
 * A signature is valid when gpg reports it good and made by a key in the home that is neither
 * expired nor revoked, and the signature itself has not expired. The owner trust of the key
 * does not matter: keys imported into a fresh home have unknown trust, and the home is the
 * keyring that is trusted. If there is more than one signature, all of them must be valid, and
 * @out_fingerprint is the signer of the first; with %MBD_GNUPG_VERIFY_ANY_GOOD one valid
 * signature is enough (as apt requires of a Release file), @out_fingerprint is its signer, and
 * when none is valid the error is the one of the first signature.
 *
 * @out_fingerprint is always the full fingerprint of the primary key, also when the signature
 * was made by a signing subkey.
 *
 * Returns: (transfer full): the signed text, or %NULL with %MBD_ERROR_UNSIGNED if
 *   @signed_data is not signed (or not OpenPGP at all), %MBD_ERROR_BAD_SIGNATURE if a signature
 *   does not match, %MBD_ERROR_UNKNOWN_SIGNER if a signing key is not in the home (the message
 *   names it), %MBD_ERROR_KEY_EXPIRED if a signing key or a signature has expired,
 *   %MBD_ERROR_KEY_REVOKED if a signing key is revoked, or %MBD_ERROR_GPG
 */
GBytes *
mbd_gnupg_verify_clear_full (MbdGnupg *self,
                             GBytes *signed_data,
                             MbdGnupgVerifyFlags flags,
                             char **out_fingerprint,
                             GCancellable *cancellable,
                             GError **error)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), NULL);
  g_return_val_if_fail (signed_data != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  g_auto (PooledContext) pooled = { 0 };
  if (!take_context (self, &pooled, error))
    return NULL;
  gpgme_ctx_t ctx = pooled.ctx;
  g_auto (CancelLink) link = { 0 };
  cancel_link_init (&link, ctx, cancellable);

  g_auto (gpgme_data_t) in = data_from_bytes (signed_data, "the signed data", error);
  if (in == NULL)
    return NULL;
  g_auto (gpgme_data_t) plain = data_new (error);
  if (plain == NULL)
    return NULL;

  gpgme_error_t err = gpgme_op_verify (ctx, in, NULL, plain);
  if (!check_verify_result (self, ctx, err, flags, "The signed data", out_fingerprint, error))
    return NULL;
  return data_steal_bytes (&plain);
}

/**
 * mbd_gnupg_verify_clear:
 * @self: a #MbdGnupg
 * @signed_data: a clear-signed (or inline signed) OpenPGP message, such as an InRelease file
 * @out_fingerprint: (out) (optional) (transfer full): return location for the primary key
 *   fingerprint of the signer
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Verifies @signed_data against the keys in the home of @self, requiring every signature to be
 * valid, and returns the text that is signed.
 *
 * This is [method@Mbd.Gnupg.verify_clear_full] with %MBD_GNUPG_VERIFY_NONE; see there for
 * what makes a signature valid.
 *
 * Returns: (transfer full): the signed text, or %NULL with the errors of
 *   [method@Mbd.Gnupg.verify_clear_full]
 */
GBytes *
mbd_gnupg_verify_clear (MbdGnupg *self,
                        GBytes *signed_data,
                        char **out_fingerprint,
                        GCancellable *cancellable,
                        GError **error)
{
  return mbd_gnupg_verify_clear_full (self, signed_data, MBD_GNUPG_VERIFY_NONE, out_fingerprint,
                                      cancellable, error);
}

/**
 * mbd_gnupg_verify_detached_full:
 * @self: a #MbdGnupg
 * @data: the signed data, such as a Release file
 * @signature: the detached signature of @data (ASCII armored or binary), such as Release.gpg
 * @flags: how several signatures are judged
 * @out_fingerprint: (out) (optional) (transfer full): return location for the primary key
 *   fingerprint of the signer
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Verifies the detached @signature of @data against the keys in the home of @self.
 *
 * Validity, several signatures, @flags and @out_fingerprint are handled as in
 * [method@Mbd.Gnupg.verify_clear_full].
 *
 * Returns: %TRUE if @data is validly signed; %FALSE with %MBD_ERROR_UNSIGNED if @signature is
 *   not an OpenPGP signature, or the other errors of [method@Mbd.Gnupg.verify_clear_full]
 */
gboolean
mbd_gnupg_verify_detached_full (MbdGnupg *self,
                                GBytes *data,
                                GBytes *signature,
                                MbdGnupgVerifyFlags flags,
                                char **out_fingerprint,
                                GCancellable *cancellable,
                                GError **error)
{
  g_return_val_if_fail (MBD_IS_GNUPG (self), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (signature != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  g_auto (PooledContext) pooled = { 0 };
  if (!take_context (self, &pooled, error))
    return FALSE;
  gpgme_ctx_t ctx = pooled.ctx;
  g_auto (CancelLink) link = { 0 };
  cancel_link_init (&link, ctx, cancellable);

  g_auto (gpgme_data_t) sig = data_from_bytes (signature, "the signature", error);
  if (sig == NULL)
    return FALSE;
  g_auto (gpgme_data_t) signed_text = data_from_bytes (data, "the signed data", error);
  if (signed_text == NULL)
    return FALSE;

  gpgme_error_t err = gpgme_op_verify (ctx, sig, signed_text, NULL);
  return check_verify_result (self, ctx, err, flags, "The data", out_fingerprint, error);
}

/**
 * mbd_gnupg_verify_detached:
 * @self: a #MbdGnupg
 * @data: the signed data, such as a Release file
 * @signature: the detached signature of @data (ASCII armored or binary), such as Release.gpg
 * @out_fingerprint: (out) (optional) (transfer full): return location for the primary key
 *   fingerprint of the signer
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Verifies the detached @signature of @data against the keys in the home of @self, requiring
 * every signature to be valid: [method@Mbd.Gnupg.verify_detached_full] with
 * %MBD_GNUPG_VERIFY_NONE.
 *
 * Returns: %TRUE if @data is validly signed; %FALSE with the errors of
 *   [method@Mbd.Gnupg.verify_detached_full]
 */
gboolean
mbd_gnupg_verify_detached (MbdGnupg *self,
                           GBytes *data,
                           GBytes *signature,
                           char **out_fingerprint,
                           GCancellable *cancellable,
                           GError **error)
{
  return mbd_gnupg_verify_detached_full (self, data, signature, MBD_GNUPG_VERIFY_NONE,
                                         out_fingerprint, cancellable, error);
}
