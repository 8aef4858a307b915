/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mbd-build-private.h"
#include "mbd-cron-private.h"
#include "mbd-event-private.h"
#include "mbd-gnupg.h"
#include "mbd-instance-private.h"
#include "mbd-packager-private.h"
#include "mbd-repository-private.h"
#include "mbd-status-private.h"
#include "mbd-util-private.h"

/**
 * MbdInstance:
 *
 * One mbd instance: a home directory holding the sqlite database (`mbd.sqlite`, WAL mode, schema
 * version in `PRAGMA user_version`), the GnuPG home with the instance key (`gnupg/`) and the
 * trees `incoming/`, `repositories/`, `chroots/`, `builds/`, `events/` and `packages/`.
 *
 * [method@Mbd.Instance.open] with %MBD_INSTANCE_OPEN_CREATE creates whatever is missing,
 * including the instance key; opening is serialised between processes by a lock file
 * (`mbd.lock`), so two processes opening or creating the same home at once end up with one
 * database and one key. Afterwards sqlite's WAL mode and busy timeout let several processes use
 * the home side by side.
 */
struct _MbdInstance
{
  GObject parent_instance;

  char *home;          /* (owned) */
  char *identity;      /* (owned) (nullable): wanted identity before open, actual after */
  char *key_algorithm; /* (owned) (nullable) */
  char *fingerprint;   /* (owned) (nullable) */
  MbdDb *db;           /* (nullable): the opening thread's connection, owned by db_pool */
  MbdDbPool *db_pool;  /* (owned) (nullable): a connection a thread, see mbd_instance_get_db() */
  MbdGnupg *gnupg;     /* (owned) (nullable) */
  gboolean started;
  int engine_lock_fd; /* (owned): held while started */

  GMutex lock;           /* guards url, which the server may change while workers read it, and the
                * creation of packager and events */
  char *url;             /* (owned) */
  MbdPackager *packager; /* (owned) (nullable): created on first use */
  MbdEvents *events;     /* (owned) (nullable): created on first use */
};

G_DEFINE_FINAL_TYPE (MbdInstance, mbd_instance, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_HOME,
  PROP_IDENTITY,
  PROP_FINGERPRINT,
  PROP_STARTED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const home_subdirs[]
    = { "incoming", "repositories", "chroots", "builds", "events", "packages" };

static void
mbd_instance_dispose (GObject *object)
{
  MbdInstance *self = MBD_INSTANCE (object);

  /* the packager writes events, so it goes first */
  g_clear_object (&self->packager);
  if (self->events != NULL)
    mbd_events_detach (self->events);
  g_clear_object (&self->events);
  G_OBJECT_CLASS (mbd_instance_parent_class)->dispose (object);
}

static void
mbd_instance_finalize (GObject *object)
{
  MbdInstance *self = MBD_INSTANCE (object);

  g_free (self->home);
  g_free (self->identity);
  g_free (self->key_algorithm);
  g_free (self->fingerprint);
  g_free (self->url);
  if (self->engine_lock_fd >= 0)
    close (self->engine_lock_fd);
  mbd_db_pool_close (self->db_pool);
  g_clear_object (&self->gnupg);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (mbd_instance_parent_class)->finalize (object);
}

static void
mbd_instance_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MbdInstance *self = MBD_INSTANCE (object);

  switch (prop_id)
    {
    case PROP_HOME:
      g_value_set_string (value, self->home);
      break;
    case PROP_IDENTITY:
      g_value_set_string (value, self->identity);
      break;
    case PROP_FINGERPRINT:
      g_value_set_string (value, self->fingerprint);
      break;
    case PROP_STARTED:
      g_value_set_boolean (value, self->started);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mbd_instance_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MbdInstance *self = MBD_INSTANCE (object);

  switch (prop_id)
    {
    case PROP_HOME:
      self->home = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mbd_instance_class_init (MbdInstanceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mbd_instance_dispose;
  object_class->finalize = mbd_instance_finalize;
  object_class->get_property = mbd_instance_get_property;
  object_class->set_property = mbd_instance_set_property;

  /**
   * MbdInstance:home:
   *
   * The instance's home directory.
   */
  properties[PROP_HOME]
      = g_param_spec_string ("home", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * MbdInstance:identity:
   *
   * The instance identity (`^[a-zA-Z0-9-]+$`), fixed when the instance is created.
   */
  properties[PROP_IDENTITY] = g_param_spec_string ("identity", NULL, NULL, NULL,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * MbdInstance:fingerprint:
   *
   * The fingerprint of the instance key, once the instance is open.
   */
  properties[PROP_FINGERPRINT] = g_param_spec_string ("fingerprint", NULL, NULL, NULL,
                                                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * MbdInstance:started:
   *
   * Whether the engine runs (see [method@Mbd.Instance.start]).
   */
  properties[PROP_STARTED]
      = g_param_spec_boolean ("started", NULL, NULL, FALSE,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mbd_instance_init (MbdInstance *self)
{
  g_mutex_init (&self->lock);
  self->engine_lock_fd = -1;
  self->url = g_strdup (MBD_INSTANCE_DEFAULT_URL);
}

/**
 * mbd_instance_get_default_home:
 *
 * Gives the home directory used when none is named: `$MBD_HOME` if set, otherwise `mbd` in the
 * user's data directory (`~/.local/share/mbd`).
 *
 * Returns: (transfer full): the default home directory
 */
char *
mbd_instance_get_default_home (void)
{
  const char *env = g_getenv ("MBD_HOME");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "mbd", NULL);
}

/**
 * mbd_instance_new:
 * @home: the home directory
 *
 * Creates an instance object for a home directory; nothing is touched on disk until
 * [method@Mbd.Instance.open].
 *
 * Returns: (transfer full): a new instance
 */
MbdInstance *
mbd_instance_new (const char *home)
{
  g_return_val_if_fail (home != NULL, NULL);
  return g_object_new (MBD_TYPE_INSTANCE, "home", home, NULL);
}

/**
 * mbd_instance_set_identity:
 * @self: an instance that is not open yet
 * @identity: (nullable): the identity for a new instance, or %NULL for one made from the host name
 *
 * Chooses the identity an instance gets when [method@Mbd.Instance.open] creates it. An existing
 * instance keeps its identity.
 */
void
mbd_instance_set_identity (MbdInstance *self, const char *identity)
{
  g_return_if_fail (MBD_IS_INSTANCE (self));
  g_return_if_fail (self->db == NULL);
  g_free (self->identity);
  self->identity = g_strdup (identity);
}

/**
 * mbd_instance_set_key_algorithm:
 * @self: an instance that is not open yet
 * @algorithm: (nullable): a gpg key algorithm such as `rsa4096` or `ed25519`, or %NULL for
 *   %MBD_GNUPG_DEFAULT_KEY_ALGORITHM
 *
 * Chooses the type of the instance key that [method@Mbd.Instance.open] creates for a new instance.
 */
void
mbd_instance_set_key_algorithm (MbdInstance *self, const char *algorithm)
{
  g_return_if_fail (MBD_IS_INSTANCE (self));
  g_return_if_fail (self->db == NULL);
  g_free (self->key_algorithm);
  self->key_algorithm = g_strdup (algorithm);
}

static gboolean
identity_is_valid (const char *identity)
{
  if (identity == NULL || identity[0] == '\0' || strlen (identity) > 63)
    return FALSE;
  for (const char *p = identity; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-')
      return FALSE;
  return TRUE;
}

/* The host name up to the first dot, with anything outside [a-zA-Z0-9-] replaced by '-'. */
static char *
identity_from_host_name (void)
{
  g_autofree char *name = g_strdup (g_get_host_name ());
  char *dot = strchr (name, '.');

  if (dot != NULL)
    *dot = '\0';
  for (char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p))
      *p = '-';
  if (!identity_is_valid (name))
    return g_strdup ("mbd");
  return g_steal_pointer (&name);
}

/* Takes the home's lock file, waiting up to @timeout_s seconds; returns the locked fd. */
static int
lock_home (const char *home, guint timeout_s, GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_build_filename (home, "mbd.lock", NULL);
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot open: %s", path,
                   g_strerror (saved));
      return -1;
    }
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  while (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      if (errno != EWOULDBLOCK && errno != EINTR)
        {
          int saved = errno;
          close (fd);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot lock: %s",
                       path, g_strerror (saved));
          return -1;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          close (fd);
          return -1;
        }
      if (g_get_monotonic_time () > deadline)
        {
          close (fd);
          mbd_throw (error, MBD_ERROR_BUSY,
                     "%s: another process holds the instance lock for more than %u s", path,
                     timeout_s);
          return -1;
        }
      g_usleep (20 * 1000);
    }
  return fd;
}

static gboolean
make_dir (const char *path, int mode, GError **error)
{
  if (g_mkdir_with_parents (path, mode) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* Finds or makes the instance key: the one recorded in the database, else a secret key already in
 * the GnuPG home (left by a creation that was interrupted before it was recorded), else a new one. */
static gboolean
setup_key (MbdInstance *self, gboolean create, GCancellable *cancellable, GError **error)
{
  g_autofree char *gnupg_home = g_build_filename (self->home, "gnupg", NULL);

  self->gnupg = mbd_gnupg_new (gnupg_home, error);
  if (self->gnupg == NULL)
    return FALSE;

  g_autofree char *fingerprint = NULL;
  if (!mbd_db_lookup_setting (self->db, "signing-key", &fingerprint, error))
    return FALSE;
  g_auto (GStrv) secret = mbd_gnupg_list_fingerprints (self->gnupg, TRUE, error);
  if (secret == NULL)
    return FALSE;

  if (fingerprint != NULL)
    {
      if (!g_strv_contains ((const char *const *) secret, fingerprint))
        return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                          "%s: the instance key %s is missing from the GnuPG home", gnupg_home,
                          fingerprint);
    }
  else if (secret[0] != NULL)
    fingerprint = g_strdup (secret[0]);
  else if (create)
    {
      g_autofree char *uid
          = g_strdup_printf ("mbd %s archive key <mbd@%s>", self->identity, self->identity);
      fingerprint
          = mbd_gnupg_generate_key (self->gnupg, uid, self->key_algorithm, cancellable, error);
      if (fingerprint == NULL)
        return mbd_prefix_error (error, "creating the instance key: ");
    }
  else
    return mbd_throw (error, MBD_ERROR_NOT_FOUND, "%s: the instance has no signing key",
                      gnupg_home);

  mbd_gnupg_set_signing_fingerprint (self->gnupg, fingerprint);
  if (!mbd_db_set_setting (self->db, "signing-key", fingerprint, error))
    return FALSE;
  self->fingerprint = g_steal_pointer (&fingerprint);
  return TRUE;
}

static gboolean
setup_identity (MbdInstance *self, GError **error)
{
  g_autofree char *stored = NULL;

  if (!mbd_db_lookup_setting (self->db, "identity", &stored, error))
    return FALSE;
  if (stored != NULL)
    {
      g_free (self->identity);
      self->identity = g_steal_pointer (&stored);
      return TRUE;
    }
  if (self->identity == NULL)
    self->identity = identity_from_host_name ();
  if (!identity_is_valid (self->identity))
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "identity '%s' is invalid: use 1 to 63 letters, digits and '-'",
                      self->identity);
  return mbd_db_set_setting (self->db, "identity", self->identity, error);
}

static gboolean
setup_url (MbdInstance *self, GError **error)
{
  g_autofree char *url = NULL;

  if (!mbd_db_lookup_setting (self->db, "url", &url, error))
    return FALSE;
  if (url == NULL)
    {
      if (!mbd_db_set_setting (self->db, "url", MBD_INSTANCE_DEFAULT_URL, error))
        return FALSE;
      url = g_strdup (MBD_INSTANCE_DEFAULT_URL);
    }
  mbd_instance_set_url (self, url);
  return TRUE;
}

static gboolean
open_locked (MbdInstance *self, gboolean create, GCancellable *cancellable, GError **error)
{
  g_autofree char *db_path = g_build_filename (self->home, "mbd.sqlite", NULL);
  gboolean exists = g_file_test (db_path, G_FILE_TEST_EXISTS);

  if (!exists && !create)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                      "%s is not an mbd instance (it has no mbd.sqlite); create one with "
                      "'mbd init --home %s'",
                      self->home, self->home);

  g_autofree char *gnupg_home = g_build_filename (self->home, "gnupg", NULL);
  if (!make_dir (gnupg_home, 0700, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (home_subdirs); i++)
    {
      g_autofree char *dir = g_build_filename (self->home, home_subdirs[i], NULL);
      if (!make_dir (dir, 0750, error))
        return FALSE;
    }

  self->db = mbd_db_open (db_path, error);
  if (self->db == NULL)
    return FALSE;
  self->db_pool = mbd_db_pool_new (self->db);
  if (!setup_identity (self, error) || !setup_key (self, create, cancellable, error)
      || !setup_url (self, error)
      || (create && !mbd_repository_ensure_default (self, cancellable, error)))
    {
      g_clear_pointer (&self->db_pool, mbd_db_pool_close);
      self->db = NULL;
      g_clear_object (&self->gnupg);
      return FALSE;
    }
  return TRUE;
}

/**
 * mbd_instance_open:
 * @self: an instance
 * @flags: whether to create what is missing
 * @cancellable: (nullable): a cancellable
 *
 * Opens the instance: takes the home's lock, opens and migrates the database and finds the
 * instance key. With %MBD_INSTANCE_OPEN_CREATE a missing home, database or key is created
 * (generating a key may take a few seconds).
 *
 * Errors: %MBD_ERROR_NOT_FOUND if the home is not an instance and @flags does not say create,
 * %MBD_ERROR_SCHEMA_TOO_NEW if a newer libminibuildd wrote the database, %MBD_ERROR_BUSY if
 * another process holds the lock for more than a minute.
 *
 * Returns: %TRUE on success
 */
gboolean
mbd_instance_open (MbdInstance *self,
                   MbdInstanceOpenFlags flags,
                   GCancellable *cancellable,
                   GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), FALSE);
  g_return_val_if_fail (self->db == NULL, FALSE);

  gboolean create = (flags & MBD_INSTANCE_OPEN_CREATE) != 0;
  if (!g_file_test (self->home, G_FILE_TEST_IS_DIR))
    {
      if (!create)
        return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                          "%s does not exist; create an instance with 'mbd init --home %s'",
                          self->home, self->home);
      if (!make_dir (self->home, 0750, error))
        return FALSE;
    }

  int fd = lock_home (self->home, 60, cancellable, error);
  if (fd < 0)
    return FALSE;
  gboolean ok = open_locked (self, create, cancellable, error);
  close (fd);
  if (ok)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDENTITY]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINGERPRINT]);
    }
  return ok;
}

static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;

  if (!mbd_instance_open (source, GPOINTER_TO_UINT (task_data), cancellable, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * mbd_instance_open_async:
 * @self: an instance
 * @flags: whether to create what is missing
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the instance is open
 * @user_data: data for @callback
 *
 * Opens the instance in a worker thread; see [method@Mbd.Instance.open].
 */
void
mbd_instance_open_async (MbdInstance *self,
                         MbdInstanceOpenFlags flags,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_return_if_fail (MBD_IS_INSTANCE (self));

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_instance_open_async);
  g_task_set_name (task, "[mbd] open instance");
  g_task_set_task_data (task, GUINT_TO_POINTER (flags), NULL);
  g_task_run_in_thread (task, open_thread);
}

/**
 * mbd_instance_open_finish:
 * @self: an instance
 * @result: the result passed to the callback
 *
 * Finishes [method@Mbd.Instance.open_async].
 *
 * Returns: %TRUE on success
 */
gboolean
mbd_instance_open_finish (MbdInstance *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_instance_open_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * mbd_instance_is_open:
 * @self: an instance
 *
 * Tells whether [method@Mbd.Instance.open] has succeeded.
 *
 * Returns: %TRUE if the instance is open
 */
gboolean
mbd_instance_is_open (MbdInstance *self)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), FALSE);
  return self->db != NULL;
}

/* The calling thread's connection to the database (see MbdDbPool): the thread that opened the
 * instance uses the first one, every other thread one of its own, so that their transactions
 * stay apart and sqlite's locks (with the busy timeout) order the writers. */
MbdDb *
mbd_instance_get_db (MbdInstance *self)
{
  if (self->db_pool == NULL)
    return NULL;

  g_autoptr (GError) error = NULL;
  MbdDb *db = mbd_db_pool_get (self->db_pool, &error);
  if (db != NULL)
    return db;
  /* opening a file that is open already hardly fails; sharing is still better than no database */
  g_warning ("%s: this thread shares the first database connection: %s", self->home,
             error->message);
  return self->db;
}

/**
 * mbd_instance_get_home:
 * @self: an instance
 *
 * Gives the home directory.
 *
 * Returns: the home directory
 */
const char *
mbd_instance_get_home (MbdInstance *self)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), NULL);
  return self->home;
}

/**
 * mbd_instance_get_identity:
 * @self: an instance
 *
 * Gives the instance identity, used in key names, the dput target and the archive Origin.
 *
 * Returns: (nullable): the identity, or %NULL before the instance is open (unless one was set
 *   with [method@Mbd.Instance.set_identity])
 */
const char *
mbd_instance_get_identity (MbdInstance *self)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), NULL);
  return self->identity;
}

/**
 * mbd_instance_get_fingerprint:
 * @self: an instance
 *
 * Gives the fingerprint of the instance key, which signs the repositories' Release files.
 *
 * Returns: (nullable): the fingerprint, or %NULL before the instance is open
 */
const char *
mbd_instance_get_fingerprint (MbdInstance *self)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), NULL);
  return self->fingerprint;
}

/**
 * mbd_instance_get_gnupg:
 * @self: an open instance
 *
 * Gives the GnuPG home that holds the instance key.
 *
 * Returns: (transfer none) (nullable): the GnuPG home, or %NULL before the instance is open
 */
MbdGnupg *
mbd_instance_get_gnupg (MbdInstance *self)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), NULL);
  return self->gnupg;
}

/**
 * mbd_instance_get_schema_version:
 * @self: an open instance
 *
 * Gives the schema version of the instance database.
 *
 * Returns: the schema version, or -1 if the instance is not open
 */
int
mbd_instance_get_schema_version (MbdInstance *self)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), -1);
  if (self->db == NULL)
    return -1;
  return mbd_db_get_schema_version (self->db);
}

/**
 * mbd_instance_dup_url:
 * @self: an instance
 *
 * Gives the URL under which clients reach the instance (%MBD_INSTANCE_DEFAULT_URL unless set).
 *
 * Returns: (transfer full): the URL
 */
char *
mbd_instance_dup_url (MbdInstance *self)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), NULL);

  g_mutex_lock (&self->lock);
  char *url = g_strdup (self->url);
  g_mutex_unlock (&self->lock);
  return url;
}

/**
 * mbd_instance_set_url:
 * @self: an instance
 * @url: the URL clients reach the instance under, without a trailing slash
 *
 * Tells the instance the URL it is served under, as mbd-server does once it listens. The status
 * and the URLs the instance hands out (upload, repositories) use it. It is not stored.
 */
void
mbd_instance_set_url (MbdInstance *self, const char *url)
{
  g_return_if_fail (MBD_IS_INSTANCE (self));
  g_return_if_fail (url != NULL);

  g_autofree char *copy = g_strdup (url);
  gsize len = strlen (copy);
  while (len > 0 && copy[len - 1] == '/')
    copy[--len] = '\0';
  g_mutex_lock (&self->lock);
  g_free (self->url);
  self->url = g_steal_pointer (&copy);
  g_mutex_unlock (&self->lock);
}

static char *
engine_lock_path (MbdInstance *self)
{
  return g_build_filename (self->home, "engine.lock", NULL);
}

/**
 * mbd_instance_start:
 * @self: an open instance
 *
 * Starts the engine, as mbd-server does: the status then reports a load of 0.0 or more instead
 * of -1.0. Packaging, building and periodic jobs hang off this state as they are added.
 *
 * Only one process at a time may run the engine of a home: the engine holds a lock on
 * `engine.lock` (which records its process id) until [method@Mbd.Instance.stop] or the process
 * ends, and a second start fails with %MBD_ERROR_BUSY naming the process that runs it.
 *
 * Returns: %TRUE if the engine runs (also if it ran already in this object)
 */
gboolean
mbd_instance_start (MbdInstance *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), FALSE);
  g_return_val_if_fail (self->db != NULL, FALSE);

  if (self->started)
    return TRUE;

  g_autofree char *path = engine_lock_path (self);
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot open: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      close (fd);
      int pid = mbd_instance_get_engine_pid (self);
      return mbd_throw (error, MBD_ERROR_BUSY,
                        "%s: the engine of this instance runs in another process (pid %d); stop "
                        "that mbd-server first",
                        self->home, pid);
    }
  g_autofree char *pid = g_strdup_printf ("%d\n", (int) getpid ());
  if (ftruncate (fd, 0) < 0 || write (fd, pid, strlen (pid)) != (ssize_t) strlen (pid))
    {
      int saved = errno;
      close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot write: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  self->engine_lock_fd = fd;
  /* builds interrupted by the end of their process are queued again */
  if (!mbd_builder_start (mbd_instance_get_builder (self), error))
    {
      close (fd);
      self->engine_lock_fd = -1;
      return FALSE;
    }
  self->started = TRUE;
  /* the repositories the server delivers: publish what a crash left out */
  g_autoptr (GError) publish_error = NULL;
  if (!mbd_instance_publish_dirty_suites (self, NULL, &publish_error))
    g_warning ("%s: publishing the repositories failed: %s", self->home, publish_error->message);
  /* uploads a crash interrupted carry on from their stored state */
  if (!mbd_packager_start (mbd_instance_get_packager (self), error))
    {
      mbd_instance_stop (self);
      return FALSE;
    }
  /* snapshots, expiry, chroot checks on their schedules */
  if (!mbd_cron_start (mbd_instance_get_cron (self), error))
    {
      mbd_instance_stop (self);
      return FALSE;
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STARTED]);
  return TRUE;
}

/**
 * mbd_instance_stop:
 * @self: an instance
 *
 * Stops the engine and releases its lock; see [method@Mbd.Instance.start].
 */
void
mbd_instance_stop (MbdInstance *self)
{
  g_return_if_fail (MBD_IS_INSTANCE (self));
  if (!self->started)
    return;
  MbdCron *cron = mbd_instance_peek_cron (self);
  if (cron != NULL)
    mbd_cron_stop (cron);
  if (self->packager != NULL)
    mbd_packager_stop (self->packager);
  MbdBuilder *builder = mbd_instance_peek_builder (self);
  if (builder != NULL)
    mbd_builder_stop (builder);
  /* The pid stays in the file; it only counts while the lock is held. */
  close (self->engine_lock_fd);
  self->engine_lock_fd = -1;
  self->started = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STARTED]);
}

/**
 * mbd_instance_get_engine_pid:
 * @self: an instance
 *
 * Finds the process that runs the engine of this home, such as an mbd-server serving it, so that
 * a tool working on the home in-process can tell whether a server is up.
 *
 * Returns: the process id, this process's own if this object started the engine, or 0 if no
 *   process runs it
 */
int
mbd_instance_get_engine_pid (MbdInstance *self)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), 0);

  if (self->started)
    return (int) getpid ();
  g_autofree char *path = engine_lock_path (self);
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  int pid = 0;
  if (flock (fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
    {
      char buf[32] = { 0 };
      ssize_t n = read (fd, buf, sizeof buf - 1);
      pid = n > 0 ? (int) g_ascii_strtoll (buf, NULL, 10) : 0;
      /* locked by a process that has not written its pid yet: still running */
      if (pid <= 0)
        pid = -1;
    }
  close (fd);
  return pid;
}

/**
 * mbd_instance_is_started:
 * @self: an instance
 *
 * Tells whether the engine runs.
 *
 * Returns: %TRUE if started
 */
gboolean
mbd_instance_is_started (MbdInstance *self)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), FALSE);
  return self->started;
}

/**
 * mbd_instance_get_status:
 * @self: an open instance
 * @cancellable: (nullable): a cancellable
 *
 * Collects the instance's status from its database: identity, URLs, load, the active chroots and
 * the active remotes.
 *
 * The load is the share of build slots in use ([method@Mbd.Builder.get_load]) while the engine
 * runs, and -1.0 when it is stopped.
 *
 * Returns: (transfer full): the status, or %NULL with @error set
 */
MbdStatus *
mbd_instance_get_status (MbdInstance *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), NULL);

  if (self->db == NULL)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s: the instance is not open", self->home);
      return NULL;
    }
  MbdDb *db = mbd_instance_get_db (self);
  g_auto (GStrv) chroots = mbd_db_query_strv (
      db,
      "SELECT codename || ':' || architecture FROM chroots WHERE status = 2 "
      "ORDER BY codename, architecture",
      error);
  if (chroots == NULL)
    return NULL;
  g_auto (GStrv) remotes
          = mbd_db_query_strv (db, "SELECT url FROM remotes WHERE status = 2 ORDER BY url", error);
  if (remotes == NULL)
    return NULL;

  g_autofree char *url = mbd_instance_dup_url (self);
  g_autofree char *incoming = g_strconcat (url, "/upload/", NULL);
  MbdBuilder *builder = mbd_instance_peek_builder (self);
  double load = -1.0;
  if (self->started)
    load = builder != NULL ? mbd_builder_get_load (builder) : 0.0;
  return mbd_status_new (self->identity, url, incoming, load, g_steal_pointer (&chroots),
                         g_steal_pointer (&remotes));
}

static void
status_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  MbdStatus *status = mbd_instance_get_status (source, cancellable, &error);

  if (status == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, status, g_object_unref);
}

/**
 * mbd_instance_get_status_async:
 * @self: an open instance
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called with the status
 * @user_data: data for @callback
 *
 * Collects the status in a worker thread; see [method@Mbd.Instance.get_status].
 */
void
mbd_instance_get_status_async (MbdInstance *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_return_if_fail (MBD_IS_INSTANCE (self));

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_instance_get_status_async);
  g_task_set_name (task, "[mbd] get status");
  g_task_run_in_thread (task, status_thread);
}

/**
 * mbd_instance_get_status_finish:
 * @self: an instance
 * @result: the result passed to the callback
 *
 * Finishes [method@Mbd.Instance.get_status_async].
 *
 * Returns: (transfer full): the status, or %NULL with @error set
 */
MbdStatus *
mbd_instance_get_status_finish (MbdInstance *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_instance_get_status_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * mbd_instance_get_packager:
 * @instance: an open instance
 *
 * Gives the instance's packager, creating it on first use (on the calling thread's
 * thread-default main context). [method@Mbd.Instance.start] starts it and
 * [method@Mbd.Instance.stop] stops it.
 *
 * Returns: (transfer none): the packager
 */
MbdPackager *
mbd_instance_get_packager (MbdInstance *instance)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  g_mutex_lock (&instance->lock);
  if (instance->packager == NULL)
    instance->packager = mbd_packager_new_for_instance (instance);
  g_mutex_unlock (&instance->lock);
  return instance->packager;
}

/**
 * mbd_instance_get_events:
 * @instance: an open instance
 *
 * Gives the instance's event log, creating the object on first use.
 *
 * Returns: (transfer none): the event log
 */
MbdEvents *
mbd_instance_get_events (MbdInstance *instance)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  g_mutex_lock (&instance->lock);
  if (instance->events == NULL)
    instance->events = mbd_events_new_for_instance (instance);
  g_mutex_unlock (&instance->lock);
  return instance->events;
}
