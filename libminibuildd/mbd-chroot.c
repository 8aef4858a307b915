/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mbd-apt-sources-private.h"
#include "mbd-chroot-private.h"
#include "mbd-enums.h"
#include "mbd-instance-private.h"
#include "mbd-source.h"
#include "mbd-subprocess-private.h"
#include "mbd-util-private.h"

/**
 * MbdChroot:
 *
 * A build chroot of an instance for one codename and architecture, created by mmdebstrap
 * (`--variant=buildd`) below `<home>/chroots/<codename>/<architecture>/`.
 *
 * With %MBD_CHROOT_BACKEND_UNSHARE (the default) the chroot is the tarball `chroot.tar.zst`,
 * which sbuild's unshare mode unpacks for every build. sbuild refuses to run that mode as root,
 * so when we are root builds run as the user `mbdbuild` (created when missing, with
 * `/etc/subuid` and `/etc/subgid` ranges); the tarball and its directories are made readable
 * for it, and the home directory traversable (mode o+x, no listing).
 *
 * With %MBD_CHROOT_BACKEND_SCHROOT the chroot is the directory `chroot/` plus a schroot
 * configuration `/etc/schroot/chroot.d/mbd-<identity>-<codename>-<architecture>` using an
 * overlay, so builds never change it; this backend needs root.
 *
 * The mirror and keyring come from the instance's [class@Mbd.Source] for the codename when there
 * is one, else from the machine's apt sources and the Debian archive keyring.
 *
 * The state ([enum@Mbd.ChrootState]) and the mirror are kept in the instance database. Creation
 * reports its progress through [signal@Mbd.Chroot::progress]. A check unpacks the chroot, runs
 * `apt-get update` (retried with growing timeouts, as a mirror may be in the middle of a sync)
 * and `dist-upgrade` inside it, and repacks it when something changed; the whole check is
 * bounded by [property@Mbd.Chroot:check-timeout], so a stalled mirror never blocks the caller.
 * Every child process runs in its own process group and is stopped with all its children on
 * timeout or cancellation.
 */
struct _MbdChroot
{
  GObject parent_instance;

  MbdInstance *instance; /* (owned) */
  char *codename;        /* (owned) */
  char *architecture;    /* (owned) */
  MbdChrootBackend backend;
  char *dir;  /* (owned): <home>/chroots/<codename>/<architecture> */
  char *path; /* (owned): the tarball or directory */

  GMutex lock; /* guards the fields below, written by operations in worker threads */
  MbdChrootState state;
  char *message; /* (owned) (nullable) */
  char *mirror;  /* (owned) (nullable): NULL = the machine's mirror */
  int check_timeout;
};

G_DEFINE_FINAL_TYPE (MbdChroot, mbd_chroot, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_INSTANCE,
  PROP_CODENAME,
  PROP_ARCHITECTURE,
  PROP_BACKEND,
  PROP_STATE,
  PROP_MESSAGE,
  PROP_MIRROR,
  PROP_CHECK_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define MMDEBSTRAP_TIMEOUT 3600
#define TAR_TIMEOUT 1800
#define UPDATE_ATTEMPTS 3
#define DEFAULT_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"
#define SCHROOT_CHROOT_D "/etc/schroot/chroot.d"

static void
mbd_chroot_finalize (GObject *object)
{
  MbdChroot *self = MBD_CHROOT (object);

  g_clear_object (&self->instance);
  g_free (self->codename);
  g_free (self->architecture);
  g_free (self->dir);
  g_free (self->path);
  g_free (self->message);
  g_free (self->mirror);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (mbd_chroot_parent_class)->finalize (object);
}

static void
mbd_chroot_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MbdChroot *self = MBD_CHROOT (object);

  g_mutex_lock (&self->lock);
  switch (prop_id)
    {
    case PROP_INSTANCE:
      g_value_set_object (value, self->instance);
      break;
    case PROP_CODENAME:
      g_value_set_string (value, self->codename);
      break;
    case PROP_ARCHITECTURE:
      g_value_set_string (value, self->architecture);
      break;
    case PROP_BACKEND:
      g_value_set_enum (value, self->backend);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    case PROP_MIRROR:
      g_value_set_string (value, self->mirror);
      break;
    case PROP_CHECK_TIMEOUT:
      g_value_set_int (value, self->check_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  g_mutex_unlock (&self->lock);
}

static void
mbd_chroot_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MbdChroot *self = MBD_CHROOT (object);

  switch (prop_id)
    {
    case PROP_INSTANCE:
      self->instance = g_value_dup_object (value);
      break;
    case PROP_CODENAME:
      self->codename = g_value_dup_string (value);
      break;
    case PROP_ARCHITECTURE:
      self->architecture = g_value_dup_string (value);
      break;
    case PROP_BACKEND:
      self->backend = g_value_get_enum (value);
      break;
    case PROP_MIRROR:
      mbd_chroot_set_mirror (self, g_value_get_string (value));
      break;
    case PROP_CHECK_TIMEOUT:
      mbd_chroot_set_check_timeout (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mbd_chroot_constructed (GObject *object)
{
  MbdChroot *self = MBD_CHROOT (object);

  G_OBJECT_CLASS (mbd_chroot_parent_class)->constructed (object);
  self->dir = g_build_filename (mbd_instance_get_home (self->instance), "chroots", self->codename,
                                self->architecture, NULL);
  self->path = g_build_filename (
      self->dir, self->backend == MBD_CHROOT_BACKEND_SCHROOT ? "chroot" : "chroot.tar.zst", NULL);
}

static void
mbd_chroot_class_init (MbdChrootClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mbd_chroot_finalize;
  object_class->get_property = mbd_chroot_get_property;
  object_class->set_property = mbd_chroot_set_property;
  object_class->constructed = mbd_chroot_constructed;

  /**
   * MbdChroot:instance:
   *
   * The (open) instance the chroot belongs to.
   */
  properties[PROP_INSTANCE]
      = g_param_spec_object ("instance", NULL, NULL, MBD_TYPE_INSTANCE, construct);
  /**
   * MbdChroot:codename:
   *
   * The distribution codename, e.g. `bookworm`.
   */
  properties[PROP_CODENAME] = g_param_spec_string ("codename", NULL, NULL, NULL, construct);
  /**
   * MbdChroot:architecture:
   *
   * The Debian architecture, e.g. `amd64` or `i386`.
   */
  properties[PROP_ARCHITECTURE] = g_param_spec_string ("architecture", NULL, NULL, NULL, construct);
  /**
   * MbdChroot:backend:
   *
   * How the chroot is stored and entered.
   */
  properties[PROP_BACKEND] = g_param_spec_enum ("backend", NULL, NULL, MBD_TYPE_CHROOT_BACKEND,
                                                MBD_CHROOT_BACKEND_UNSHARE, construct);
  /**
   * MbdChroot:state:
   *
   * The chroot's state as last loaded from or stored in the database.
   */
  properties[PROP_STATE]
      = g_param_spec_enum ("state", NULL, NULL, MBD_TYPE_CHROOT_STATE, MBD_CHROOT_STATE_ABSENT,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * MbdChroot:message:
   *
   * Why the last creation or check failed, or %NULL.
   */
  properties[PROP_MESSAGE] = g_param_spec_string ("message", NULL, NULL, NULL,
                                                  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * MbdChroot:mirror:
   *
   * The Debian mirror URI the chroot is created and updated from; %NULL means the mirror of
   * the instance's source for the codename, else of the machine's apt sources.
   */
  properties[PROP_MIRROR] = g_param_spec_string ("mirror", NULL, NULL, NULL,
                                                 G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * MbdChroot:check-timeout:
   *
   * Seconds a check may take in total.
   */
  properties[PROP_CHECK_TIMEOUT] = g_param_spec_int ("check-timeout", NULL, NULL, 1, G_MAXINT,
                                                     MBD_CHROOT_DEFAULT_CHECK_TIMEOUT,
                                                     G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MbdChroot::progress:
   * @self: the chroot
   * @fraction: how much of the operation is done, 0 to 1, or -1 when unknown
   * @message: one line of output (from mmdebstrap, apt or tar) or a step description
   *
   * Reports the progress of a creation or check, on the main context of the caller.
   */
  signals[SIGNAL_PROGRESS]
      = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_STRING);
}

static void
mbd_chroot_init (MbdChroot *self)
{
  g_mutex_init (&self->lock);
  self->check_timeout = MBD_CHROOT_DEFAULT_CHECK_TIMEOUT;
}

/**
 * mbd_chroot_new:
 * @instance: an open instance
 * @codename: the distribution codename, e.g. `bookworm`
 * @architecture: the Debian architecture, e.g. `amd64`
 * @backend: how the chroot is stored
 *
 * Makes an object for a chroot of @instance; nothing is created or loaded until an operation
 * runs. Use [method@Mbd.Instance.lookup_chroot] for an existing chroot.
 *
 * Returns: (transfer full): the chroot
 */
MbdChroot *
mbd_chroot_new (MbdInstance *instance,
                const char *codename,
                const char *architecture,
                MbdChrootBackend backend)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (codename != NULL && architecture != NULL, NULL);

  return g_object_new (MBD_TYPE_CHROOT, "instance", instance, "codename", codename, "architecture",
                       architecture, "backend", backend, NULL);
}

/**
 * mbd_chroot_get_instance:
 * @self: a chroot
 *
 * Gets the instance the chroot belongs to.
 *
 * Returns: (transfer none): the instance
 */
MbdInstance *
mbd_chroot_get_instance (MbdChroot *self)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), NULL);
  return self->instance;
}

/**
 * mbd_chroot_get_codename:
 * @self: a chroot
 *
 * Gets the distribution codename.
 *
 * Returns: the codename
 */
const char *
mbd_chroot_get_codename (MbdChroot *self)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), NULL);
  return self->codename;
}

/**
 * mbd_chroot_get_architecture:
 * @self: a chroot
 *
 * Gets the Debian architecture.
 *
 * Returns: the architecture
 */
const char *
mbd_chroot_get_architecture (MbdChroot *self)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), NULL);
  return self->architecture;
}

/**
 * mbd_chroot_get_backend:
 * @self: a chroot
 *
 * Gets how the chroot is stored and entered.
 *
 * Returns: the backend
 */
MbdChrootBackend
mbd_chroot_get_backend (MbdChroot *self)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), MBD_CHROOT_BACKEND_UNSHARE);
  return self->backend;
}

/**
 * mbd_chroot_get_state:
 * @self: a chroot
 *
 * Gets the state as last loaded from or stored in the database.
 *
 * Returns: the state
 */
MbdChrootState
mbd_chroot_get_state (MbdChroot *self)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), MBD_CHROOT_STATE_ABSENT);
  g_mutex_lock (&self->lock);
  MbdChrootState state = self->state;
  g_mutex_unlock (&self->lock);
  return state;
}

/**
 * mbd_chroot_get_message:
 * @self: a chroot
 *
 * Gets why the last creation or check failed. Do not call it while an operation runs in
 * another thread.
 *
 * Returns: (nullable): the failure message, or %NULL
 */
const char *
mbd_chroot_get_message (MbdChroot *self)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), NULL);
  return self->message;
}

/**
 * mbd_chroot_get_path:
 * @self: a chroot
 *
 * Gets where the chroot lives: the tarball (unshare backend) or the directory (schroot
 * backend).
 *
 * Returns: the absolute path
 */
const char *
mbd_chroot_get_path (MbdChroot *self)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), NULL);
  return self->path;
}

/**
 * mbd_chroot_dup_schroot_name:
 * @self: a chroot
 *
 * Gets the schroot name of the chroot, `mbd-<identity>-<codename>-<architecture>`; used only by
 * the schroot backend.
 *
 * Returns: (transfer full): the name
 */
char *
mbd_chroot_dup_schroot_name (MbdChroot *self)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), NULL);
  return g_strdup_printf ("mbd-%s-%s-%s", mbd_instance_get_identity (self->instance),
                          self->codename, self->architecture);
}

/**
 * mbd_chroot_get_mirror:
 * @self: a chroot
 *
 * Gets the mirror set with [method@Mbd.Chroot.set_mirror] or stored when the chroot was
 * created.
 *
 * Returns: (nullable): the mirror URI, or %NULL for the machine's mirror
 */
const char *
mbd_chroot_get_mirror (MbdChroot *self)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), NULL);
  return self->mirror;
}

/**
 * mbd_chroot_set_mirror:
 * @self: a chroot
 * @mirror: (nullable): a Debian mirror URI such as `http://host/debian`, or %NULL for the
 *   mirror of the instance's source for the codename, else of the machine's apt sources
 *
 * Sets the mirror the next creation or check uses; it is stored with the chroot.
 */
void
mbd_chroot_set_mirror (MbdChroot *self, const char *mirror)
{
  g_return_if_fail (MBD_IS_CHROOT (self));
  g_mutex_lock (&self->lock);
  gboolean changed = g_strcmp0 (self->mirror, mirror) != 0;
  if (changed)
    {
      g_free (self->mirror);
      self->mirror = g_strdup (mirror);
    }
  g_mutex_unlock (&self->lock);
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIRROR]);
}

/**
 * mbd_chroot_get_check_timeout:
 * @self: a chroot
 *
 * Gets how many seconds a check may take in total.
 *
 * Returns: the timeout in seconds
 */
int
mbd_chroot_get_check_timeout (MbdChroot *self)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), 0);
  return self->check_timeout;
}

/**
 * mbd_chroot_set_check_timeout:
 * @self: a chroot
 * @seconds: the total timeout of a check, at least 1
 *
 * Sets how long a check may take in total before it is stopped and fails with
 * %G_IO_ERROR_TIMED_OUT; the default is %MBD_CHROOT_DEFAULT_CHECK_TIMEOUT.
 */
void
mbd_chroot_set_check_timeout (MbdChroot *self, int seconds)
{
  g_return_if_fail (MBD_IS_CHROOT (self));
  g_return_if_fail (seconds >= 1);
  if (self->check_timeout == seconds)
    return;
  self->check_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHECK_TIMEOUT]);
}

/**
 * mbd_chroot_backend_to_string:
 * @backend: a backend
 *
 * Names a backend as the CLI and the database do.
 *
 * Returns: `unshare` or `schroot`
 */
const char *
mbd_chroot_backend_to_string (MbdChrootBackend backend)
{
  return backend == MBD_CHROOT_BACKEND_SCHROOT ? "schroot" : "unshare";
}

/**
 * mbd_chroot_backend_from_string:
 * @name: `unshare` or `schroot`
 * @out_backend: (out): the backend
 * @error: return location for an error
 *
 * Parses a backend name.
 *
 * Returns: %TRUE on success; %FALSE with %MBD_ERROR_INVALID_ARGUMENT for another name
 */
gboolean
mbd_chroot_backend_from_string (const char *name, MbdChrootBackend *out_backend, GError **error)
{
  if (g_strcmp0 (name, "unshare") == 0)
    *out_backend = MBD_CHROOT_BACKEND_UNSHARE;
  else if (g_strcmp0 (name, "schroot") == 0)
    *out_backend = MBD_CHROOT_BACKEND_SCHROOT;
  else
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "Unknown chroot backend '%s': use 'unshare' or 'schroot'", name);
  return TRUE;
}

/**
 * mbd_chroot_state_to_string:
 * @state: a state
 *
 * Names a state for humans and JSON.
 *
 * Returns: `absent`, `prepared`, `active` or `failed`
 */
const char *
mbd_chroot_state_to_string (MbdChrootState state)
{
  switch (state)
    {
    case MBD_CHROOT_STATE_PREPARED:
      return "prepared";
    case MBD_CHROOT_STATE_ACTIVE:
      return "active";
    case MBD_CHROOT_STATE_FAILED:
      return "failed";
    case MBD_CHROOT_STATE_ABSENT:
    default:
      return "absent";
    }
}

/* ---- operations ---------------------------------------------------------------------------- */

/* One running operation: where its progress goes (the caller's context for async calls, NULL
 * to emit directly) and the tail of the child output for error messages. */
typedef struct
{
  MbdChroot *self;
  GMainContext *context; /* (nullable) */
  double fraction;
  char *last_line; /* (owned) (nullable) */
  int upgraded;    /* from apt's "N upgraded, M newly installed" */
} Op;

typedef struct
{
  MbdChroot *self;
  double fraction;
  char *message;
  gboolean notify_state;
} Emission;

static void
emission_free (gpointer data)
{
  Emission *em = data;

  g_object_unref (em->self);
  g_free (em->message);
  g_free (em);
}

static gboolean
emit_cb (gpointer data)
{
  Emission *em = data;

  if (em->notify_state)
    g_object_notify_by_pspec (G_OBJECT (em->self), properties[PROP_STATE]);
  else
    g_signal_emit (em->self, signals[SIGNAL_PROGRESS], 0, em->fraction, em->message);
  return G_SOURCE_REMOVE;
}

static void
op_emit (Op *op, double fraction, const char *message, gboolean notify_state)
{
  Emission *em = g_new0 (Emission, 1);

  em->self = g_object_ref (op->self);
  em->fraction = fraction;
  em->message = g_strdup (message);
  em->notify_state = notify_state;
  if (op->context == NULL)
    {
      emit_cb (em);
      emission_free (em);
    }
  else
    g_main_context_invoke_full (op->context, G_PRIORITY_DEFAULT, emit_cb, em, emission_free);
}

static void
op_progress (Op *op, double fraction, const char *message)
{
  if (fraction >= 0 && fraction > op->fraction)
    op->fraction = fraction;
  op_emit (op, op->fraction, message, FALSE);
}

static void
op_line (const char *line, gpointer user_data)
{
  Op *op = user_data;
  int upgraded = 0, installed = 0;

  if (line[0] == '\0')
    return;
  g_free (op->last_line);
  op->last_line = g_strdup (line);
  if (sscanf (line, "%d upgraded, %d newly installed", &upgraded, &installed) == 2)
    op->upgraded = upgraded + installed;
  op_progress (op, mbd_chroot_progress_for_line (line), line);
}

static void
op_clear (Op *op)
{
  g_clear_pointer (&op->last_line, g_free);
}

double
mbd_chroot_progress_for_line (const char *line)
{
  static const struct
  {
    const char *prefix;
    double fraction;
  } phases[] = {
    { "I: automatically chosen mode", 0.02 },
    { "I: running apt-get update", 0.05 },
    { "I: downloading packages", 0.15 },
    { "I: extracting archives", 0.35 },
    { "I: installing essential packages", 0.45 },
    { "I: installing remaining packages", 0.65 },
    { "I: cleaning package lists", 0.85 },
    { "I: creating tarball", 0.88 },
    { "I: done", 0.97 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (phases); i++)
    if (g_str_has_prefix (line, phases[i].prefix))
      return phases[i].fraction;
  return -1;
}

int
mbd_chroot_attempt_timeout (int total, int attempts, int attempt)
{
  /* t + 2t + 4t + ... = (2^attempts - 1) t = total */
  int t = total * (1 << attempt) / ((1 << attempts) - 1);
  return MAX (t, 1);
}

static gboolean
valid_name (const char *name)
{
  if (name == NULL || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && strchr ("+-.", *p) == NULL)
      return FALSE;
  return strlen (name) <= 64;
}

static gboolean
check_names (MbdChroot *self, GError **error)
{
  if (!valid_name (self->codename))
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "Invalid codename '%s': use lower case letters, digits, '+', '-' and '.'",
                      self->codename);
  if (!valid_name (self->architecture))
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "Invalid architecture '%s': use a Debian architecture such as amd64",
                      self->architecture);
  if (!mbd_instance_is_open (self->instance))
    return mbd_throw (error, MBD_ERROR_FAILED, "The instance at %s is not open",
                      mbd_instance_get_home (self->instance));
  return TRUE;
}

static void
set_state (Op *op, MbdChrootState state, const char *message)
{
  MbdChroot *self = op->self;

  g_mutex_lock (&self->lock);
  gboolean changed = self->state != state;
  self->state = state;
  g_free (self->message);
  self->message = g_strdup (message);
  g_mutex_unlock (&self->lock);
  if (changed)
    op_emit (op, -1, NULL, TRUE);
}

/* Loads the chroot's row; FALSE only on database failure. A missing row is state ABSENT. */
static gboolean
load (MbdChroot *self, gboolean *out_found, GError **error)
{
  MbdDb *db = mbd_instance_get_db (self->instance);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db,
                                                  "SELECT status, backend, mirror, message FROM "
                                                  "chroots WHERE codename = ? AND architecture = ?",
                                                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, self->codename, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, self->architecture, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      *out_found = FALSE;
      return TRUE;
    }
  if (rc != SQLITE_ROW)
    return mbd_db_throw (db, rc, "cannot read the chroot", error);

  *out_found = TRUE;
  g_mutex_lock (&self->lock);
  self->state = (MbdChrootState) sqlite3_column_int (stmt, 0);
  /* The backend of a stored chroot wins over the one this object was made with. */
  MbdChrootBackend backend = self->backend;
  mbd_chroot_backend_from_string ((const char *) sqlite3_column_text (stmt, 1), &backend, NULL);
  if (backend != self->backend)
    {
      self->backend = backend;
      g_free (self->path);
      self->path = g_build_filename (
          self->dir, backend == MBD_CHROOT_BACKEND_SCHROOT ? "chroot" : "chroot.tar.zst", NULL);
    }
  if (self->mirror == NULL && sqlite3_column_type (stmt, 2) != SQLITE_NULL)
    self->mirror = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  g_free (self->message);
  self->message = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
save (MbdChroot *self, const char *mirror, GError **error)
{
  MbdDb *db = mbd_instance_get_db (self->instance);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "INSERT INTO chroots (codename, architecture, status, backend, mirror, message)"
      " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (codename, architecture) DO UPDATE SET"
      " status = excluded.status, backend = excluded.backend,"
      " mirror = coalesce (excluded.mirror, mirror), message = excluded.message",
      error);
  if (stmt == NULL)
    return FALSE;
  g_mutex_lock (&self->lock);
  sqlite3_bind_text (stmt, 1, self->codename, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, self->architecture, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, self->state);
  sqlite3_bind_text (stmt, 4, mbd_chroot_backend_to_string (self->backend), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, mirror, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, self->message, -1, SQLITE_TRANSIENT);
  g_mutex_unlock (&self->lock);
  return mbd_db_step_done (db, stmt, error);
}

gboolean
mbd_chroot_store (MbdChroot *chroot, GError **error)
{
  gboolean found = FALSE;

  if (!load (chroot, &found, error))
    return FALSE;
  g_mutex_lock (&chroot->lock);
  g_autofree char *mirror = g_strdup (chroot->mirror);
  g_mutex_unlock (&chroot->lock);
  return found || save (chroot, mirror, error);
}

/* Stores @state (and @message, for failures); a failure to store is only logged when the
 * operation already failed, so the original error is what the caller sees. */
static gboolean
store_state (Op *op, MbdChrootState state, const char *message, const char *mirror, GError **error)
{
  set_state (op, state, message);
  return save (op->self, mirror, error);
}

static gboolean
fail (Op *op, GError **error, GError *cause)
{
  g_autoptr (GError) local = NULL;

  if (!store_state (op, MBD_CHROOT_STATE_FAILED, cause->message, NULL, &local))
    g_warning ("Cannot record the failure of chroot %s/%s: %s", op->self->codename,
               op->self->architecture, local->message);
  g_propagate_error (error, cause);
  return FALSE;
}

/* Serialises operations on one chroot between threads and processes. */
static int
take_lock (MbdChroot *self, GError **error)
{
  if (g_mkdir_with_parents (self->dir, 0755) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot create %s: %s",
                   self->dir, g_strerror (saved));
      return -1;
    }
  g_autofree char *path = g_build_filename (self->dir, ".lock", NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      if (saved == EWOULDBLOCK)
        mbd_throw (error, MBD_ERROR_BUSY,
                   "Chroot %s/%s is busy: another creation, check or removal runs; retry later",
                   self->codename, self->architecture);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot lock %s: %s", path,
                     g_strerror (saved));
      return -1;
    }
  return fd;
}

static void
release_lock (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

typedef int LockFd;
static inline void
lock_fd_cleanup (LockFd *fd)
{
  release_lock (fd);
}
#define MBD_AUTO_LOCK __attribute__ ((cleanup (lock_fd_cleanup))) LockFd

/* Runs a command to completion; a non-zero exit is an error naming @what and the last line. */
static gboolean
run (Op *op,
     const char *what,
     const char *const *argv,
     const char *const *envp,
     int timeout,
     GCancellable *cancellable,
     GError **error)
{
  int status = 0;

  g_clear_pointer (&op->last_line, g_free);
  if (!mbd_subprocess_run (argv, envp, "/", timeout, cancellable, op_line, op, &status, error))
    return mbd_prefix_error (error, "%s: ", what);
  if (status != 0)
    return mbd_throw (error, MBD_ERROR_FAILED, "%s: %s exited with status %d%s%s", what, argv[0],
                      status, op->last_line ? ": " : "", op->last_line ? op->last_line : "");
  return TRUE;
}

static gboolean
rm_rf (Op *op, const char *path, GCancellable *cancellable, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK))
    return TRUE;
  const char *argv[] = { "rm", "-rf", "--one-file-system", "--", path, NULL };
  g_autofree char *what = g_strdup_printf ("Removing %s", path);
  return run (op, what, argv, NULL, 600, cancellable, error);
}

static gboolean
is_root (void)
{
  return geteuid () == 0;
}

static void builder_add_printf (GStrvBuilder *b, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
builder_add_printf (GStrvBuilder *b, const char *fmt, ...)
{
  va_list args;

  va_start (args, fmt);
  g_autofree char *s = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_strv_builder_add (b, s);
}

/* ---- mirror and command lines -------------------------------------------------------------- */

char *
mbd_chroot_host_mirror (const char *etc_apt, const char *codename, GError **error)
{
  g_autoptr (GPtrArray) entries = mbd_apt_sources_read (etc_apt);
  const char *family[] = { codename, NULL };

  /* The entry serving the codename itself; else, for a codename the machine does not use (a
   * trixie chroot on a bookworm host), the first mirror that is no security archive. */
  char *uri = mbd_apt_sources_find_mirror (entries, codename, family, FALSE);
  if (uri != NULL)
    return uri;
  for (guint i = 0; i < entries->len; i++)
    {
      MbdAptSource *entry = entries->pdata[i];
      gboolean security = FALSE;
      for (char **suite = entry->suites; *suite; suite++)
        security = security || g_str_has_suffix (*suite, "-security");
      if (!security)
        return g_strdup (entry->uri);
    }
  mbd_throw (error, MBD_ERROR_NOT_FOUND,
             "No Debian mirror for %s in the apt sources of %s: add a source (mbd source add) "
             "or give a mirror (mbd chroot create --mirror URI)",
             codename, etc_apt);
  return NULL;
}

/* The mirror and keyring to use: the mirror set on the object (or stored with the chroot),
 * else the instance's source for the codename (MbdSource), else the machine's apt sources with
 * the Debian archive keyring. */
static gboolean
resolve_mirror (MbdChroot *self, char **out_mirror, char **out_keyring, GError **error)
{
  g_autoptr (MbdSource) source = mbd_instance_lookup_source (self->instance, self->codename, NULL);

  g_mutex_lock (&self->lock);
  g_autofree char *mirror = g_strdup (self->mirror);
  g_mutex_unlock (&self->lock);
  if (mirror == NULL && source != NULL)
    mirror = g_strdup (mbd_source_get_mirror_uri (source));
  if (mirror == NULL)
    mirror = mbd_chroot_host_mirror ("/etc/apt", self->codename, error);
  if (mirror == NULL)
    return FALSE;
  *out_mirror = g_steal_pointer (&mirror);
  if (out_keyring != NULL)
    *out_keyring = g_strdup (source != NULL && mbd_source_get_keyring_file (source) != NULL
                                 ? mbd_source_get_keyring_file (source)
                                 : DEFAULT_KEYRING);
  return TRUE;
}

char **
mbd_chroot_mmdebstrap_argv (MbdChroot *chroot, const char *target, const char *keyring)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  const char *mirror = chroot->mirror;

  g_strv_builder_add_many (b, "mmdebstrap", "--variant=buildd", NULL);
  /* As root mmdebstrap's own choice (root mode) is the fastest; otherwise user namespaces. */
  if (!is_root ())
    g_strv_builder_add (b, "--mode=unshare");
  builder_add_printf (b, "--architectures=%s", chroot->architecture);
  g_strv_builder_add (b, chroot->backend == MBD_CHROOT_BACKEND_SCHROOT ? "--format=directory"
                                                                       : "--format=tar");
  builder_add_printf (b, "--keyring=%s", keyring);
  g_strv_builder_add (b, chroot->codename);
  g_strv_builder_add (b, target);
  builder_add_printf (b, "deb %s %s main", mirror ? mirror : "(no mirror)", chroot->codename);
  return g_strv_builder_end (b);
}

char *
mbd_chroot_schroot_config (MbdChroot *chroot)
{
  g_autofree char *name = mbd_chroot_dup_schroot_name (chroot);
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "# Generated by mbd for instance %s; removed by mbd chroot rm.\n",
                          mbd_instance_get_identity (chroot->instance));
  g_string_append_printf (s, "[%s]\n", name);
  g_string_append_printf (s, "description=mbd %s: %s/%s build chroot\n",
                          mbd_instance_get_identity (chroot->instance), chroot->codename,
                          chroot->architecture);
  g_string_append (s, "type=directory\n");
  g_string_append_printf (s, "directory=%s\n", chroot->path);
  g_string_append (s, "groups=root,sbuild\nroot-groups=root,sbuild\nprofile=sbuild\n");
  g_string_append (s, "union-type=overlay\n");
  if (g_str_equal (chroot->architecture, "i386") || g_str_equal (chroot->architecture, "armel")
      || g_str_equal (chroot->architecture, "armhf"))
    g_string_append (s, "personality=linux32\n");
  return g_string_free (s, FALSE);
}

static char *
schroot_config_path (MbdChroot *self)
{
  const char *dir = g_getenv ("MBD_SCHROOT_CHROOT_D");
  g_autofree char *name = mbd_chroot_dup_schroot_name (self);

  return g_build_filename (dir != NULL ? dir : SCHROOT_CHROOT_D, name, NULL);
}

char **
mbd_chroot_sbuild_args (MbdChroot *chroot)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  if (chroot->backend == MBD_CHROOT_BACKEND_SCHROOT)
    {
      g_autofree char *name = mbd_chroot_dup_schroot_name (chroot);
      g_strv_builder_add (b, "--chroot-mode=schroot");
      builder_add_printf (b, "--chroot=%s", name);
    }
  else
    {
      g_strv_builder_add (b, "--chroot-mode=unshare");
      builder_add_printf (b, "--chroot=%s", chroot->path);
    }
  return g_strv_builder_end (b);
}

const char *
mbd_chroot_get_build_user (MbdChroot *chroot)
{
  if (chroot->backend == MBD_CHROOT_BACKEND_UNSHARE && is_root ())
    return MBD_CHROOT_BUILD_USER;
  return NULL;
}

/* ---- build user ---------------------------------------------------------------------------- */

static gboolean
has_subid (const char *file, const char *user)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents (file, &text, NULL, NULL))
    return FALSE;
  g_autofree char *prefix = g_strdup_printf ("%s:", user);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    if (g_str_has_prefix (*l, prefix))
      return TRUE;
  return FALSE;
}

/* The first id after every range in @file (at least 100000), for a new 65536-id range. */
static long
next_subid (const char *file)
{
  g_autofree char *text = NULL;
  long next = 100000;

  if (!g_file_get_contents (file, &text, NULL, NULL))
    return next;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, ":", 3);
      if (g_strv_length (f) == 3)
        next = MAX (next, g_ascii_strtoll (f[1], NULL, 10) + g_ascii_strtoll (f[2], NULL, 10));
    }
  return next;
}

gboolean
mbd_chroot_ensure_build_user (GCancellable *cancellable, GError **error)
{
  if (!is_root ())
    return TRUE;

  Op op = { 0 };
  if (getpwnam (MBD_CHROOT_BUILD_USER) == NULL)
    {
      const char *argv[] = { "useradd",
                             "--create-home",
                             "--shell",
                             "/bin/sh",
                             "--comment",
                             "mbd package builds",
                             MBD_CHROOT_BUILD_USER,
                             NULL };
      if (!run (&op, "Creating the build user " MBD_CHROOT_BUILD_USER, argv, NULL, 60, cancellable,
                error))
        {
          op_clear (&op);
          return FALSE;
        }
    }
  if (!has_subid ("/etc/subuid", MBD_CHROOT_BUILD_USER)
      || !has_subid ("/etc/subgid", MBD_CHROOT_BUILD_USER))
    {
      long start = MAX (next_subid ("/etc/subuid"), next_subid ("/etc/subgid"));
      g_autofree char *range = g_strdup_printf ("%ld-%ld", start, start + 65535);
      const char *argv[] = { "usermod", "--add-subuids",       range, "--add-subgids",
                             range,     MBD_CHROOT_BUILD_USER, NULL };
      if (!run (&op, "Adding subordinate ids to " MBD_CHROOT_BUILD_USER, argv, NULL, 60,
                cancellable, error))
        {
          op_clear (&op);
          return FALSE;
        }
    }
  op_clear (&op);
  return TRUE;
}

/* The build user must reach the tarball: directories o+x up to it, the tarball o+r. */
static void
open_for_build_user (MbdChroot *self)
{
  g_autofree char *chroots
      = g_build_filename (mbd_instance_get_home (self->instance), "chroots", NULL);
  g_autofree char *codename_dir = g_path_get_dirname (self->dir);
  const char *dirs[] = { chroots, codename_dir, self->dir };
  GStatBuf st;

  if (g_stat (mbd_instance_get_home (self->instance), &st) == 0)
    g_chmod (mbd_instance_get_home (self->instance), (st.st_mode & 07777) | S_IXOTH);
  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    g_chmod (dirs[i], 0755);
  if (self->backend == MBD_CHROOT_BACKEND_UNSHARE)
    g_chmod (self->path, 0644);
}

/* sbuild's unshare mode reads the tarball as the build user: every directory above it must be
 * traversable for that user, which we cannot arrange above the instance home (say /root). */
static gboolean
check_build_user_access (Op *op, GCancellable *cancellable, GError **error)
{
  MbdChroot *self = op->self;
  const char *user = mbd_chroot_get_build_user (self);

  if (user == NULL)
    return TRUE;
  open_for_build_user (self);
  const char *argv[] = { "runuser", "-u", user, "--", "test", "-x", self->dir, NULL };
  g_autoptr (GError) local = NULL;
  if (run (op, "Checking the build user's access", argv, NULL, 60, cancellable, &local))
    return TRUE;
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return mbd_throw (error, MBD_ERROR_FAILED,
                    "The build user %s cannot reach %s (as root, sbuild's unshare mode runs as "
                    "that user): make the directories above the instance home traversable "
                    "(chmod o+x), or use a home such as /var/lib/mbd",
                    user, self->dir);
}

/* ---- create -------------------------------------------------------------------------------- */

/* The result must look like a Debian system with apt: catches truncated or foreign tarballs. */
static gboolean
verify_tree (Op *op, const char *path, GCancellable *cancellable, GError **error)
{
  MbdChroot *self = op->self;

  if (self->backend == MBD_CHROOT_BACKEND_SCHROOT)
    {
      g_autofree char *apt = g_build_filename (path, "usr/bin/apt-get", NULL);
      if (!g_file_test (apt, G_FILE_TEST_IS_EXECUTABLE))
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s has no usr/bin/apt-get", path);
      return TRUE;
    }
  const char *argv[] = { "tar", "--zstd", "-tf", path, "./usr/bin/apt-get", NULL };
  g_autofree char *what = g_strdup_printf ("Verifying %s", path);
  g_autoptr (GError) local = NULL;
  if (!run (op, what, argv, NULL, TAR_TIMEOUT, cancellable, &local))
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                        "%s is not a zstd-compressed chroot tarball with ./usr/bin/apt-get (%s)",
                        path, local->message);
    }
  return TRUE;
}

static gboolean
do_create (Op *op, const char *from_tarball, GCancellable *cancellable, GError **error)
{
  MbdChroot *self = op->self;
  gboolean found = FALSE;

  if (!check_names (self, error))
    return FALSE;
  MbdChrootBackend wanted = self->backend;
  MBD_AUTO_LOCK lock = take_lock (self, error);
  if (lock < 0)
    return FALSE;
  if (!load (self, &found, error))
    return FALSE;
  if (found && self->state != MBD_CHROOT_STATE_FAILED
      && g_file_test (self->path, G_FILE_TEST_EXISTS))
    return mbd_throw (error, MBD_ERROR_EXISTS,
                      "Chroot %s/%s exists already (%s, %s): check it, or remove it first",
                      self->codename, self->architecture,
                      mbd_chroot_backend_to_string (self->backend),
                      mbd_chroot_state_to_string (self->state));
  if (found && wanted != self->backend)
    {
      /* A failed chroot of the other backend: clean it up, then create the wanted one. */
      if (!rm_rf (op, self->path, cancellable, error))
        return FALSE;
      self->backend = wanted;
      g_free (self->path);
      self->path = g_build_filename (
          self->dir, wanted == MBD_CHROOT_BACKEND_SCHROOT ? "chroot" : "chroot.tar.zst", NULL);
    }
  if (self->backend == MBD_CHROOT_BACKEND_SCHROOT && !is_root ())
    return mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                      "The schroot backend needs root (it writes %s); use the unshare backend",
                      SCHROOT_CHROOT_D);
  g_autofree char *mirror = NULL;
  g_autofree char *keyring = NULL;
  if (!resolve_mirror (self, &mirror, &keyring, error))
    return FALSE;
  g_mutex_lock (&self->lock);
  if (self->mirror == NULL)
    self->mirror = g_strdup (mirror);
  g_mutex_unlock (&self->lock);
  if (!store_state (op, MBD_CHROOT_STATE_PREPARED, NULL, mirror, error))
    return FALSE;

  GError *local = NULL;
  if (self->backend == MBD_CHROOT_BACKEND_UNSHARE
      && (!mbd_chroot_ensure_build_user (cancellable, &local)
          || !check_build_user_access (op, cancellable, &local)))
    return fail (op, error, local);

  g_autofree char *tmp = g_build_filename (
      self->dir, self->backend == MBD_CHROOT_BACKEND_SCHROOT ? "chroot.new" : "chroot.new.tar.zst",
      NULL);
  if (!rm_rf (op, tmp, cancellable, &local))
    return fail (op, error, local);

  op_progress (op, 0.01, from_tarball ? "Copying the chroot tarball" : "Running mmdebstrap");
  if (from_tarball != NULL && self->backend == MBD_CHROOT_BACKEND_SCHROOT)
    {
      const char *argv[]
          = { "tar", "--zstd", "-xpf", from_tarball, "-C", tmp, "--numeric-owner", NULL };
      g_autofree char *what = g_strdup_printf ("Unpacking %s", from_tarball);
      if (g_mkdir (tmp, 0755) < 0 || !run (op, what, argv, NULL, TAR_TIMEOUT, cancellable, &local))
        {
          g_autoptr (GError) ignored = NULL;
          rm_rf (op, tmp, NULL, &ignored);
          if (local == NULL)
            local = g_error_new (G_IO_ERROR, g_io_error_from_errno (errno), "Cannot create %s: %s",
                                 tmp, g_strerror (errno));
          return fail (op, error, local);
        }
    }
  else if (from_tarball != NULL)
    {
      g_autoptr (GFile) src = g_file_new_for_path (from_tarball);
      g_autoptr (GFile) dst = g_file_new_for_path (tmp);
      if (!g_file_copy (src, dst, G_FILE_COPY_OVERWRITE, cancellable, NULL, NULL, &local))
        {
          g_prefix_error (&local, "Copying %s: ", from_tarball);
          return fail (op, error, local);
        }
    }
  else
    {
      g_auto (GStrv) argv = mbd_chroot_mmdebstrap_argv (self, tmp, keyring);
      g_auto (GStrv) envp = g_environ_setenv (g_get_environ (), "LC_ALL", "C.UTF-8", TRUE);
      g_autofree char *what = g_strdup_printf ("Creating chroot %s/%s with mmdebstrap",
                                               self->codename, self->architecture);
      if (!run (op, what, (const char *const *) argv, (const char *const *) envp,
                MMDEBSTRAP_TIMEOUT, cancellable, &local))
        {
          g_autoptr (GError) ignored = NULL;
          rm_rf (op, tmp, NULL, &ignored);
          return fail (op, error, local);
        }
    }

  op_progress (op, 0.98, "Verifying the chroot");
  if (!verify_tree (op, tmp, cancellable, &local))
    {
      g_autoptr (GError) ignored = NULL;
      rm_rf (op, tmp, NULL, &ignored);
      return fail (op, error, local);
    }
  if (!rm_rf (op, self->path, cancellable, &local))
    return fail (op, error, local);
  if (g_rename (tmp, self->path) < 0)
    {
      int saved = errno;
      local = g_error_new (G_IO_ERROR, g_io_error_from_errno (saved), "Cannot rename %s: %s", tmp,
                           g_strerror (saved));
      return fail (op, error, local);
    }

  if (self->backend == MBD_CHROOT_BACKEND_SCHROOT)
    {
      g_autofree char *conf = mbd_chroot_schroot_config (self);
      g_autofree char *conf_path = schroot_config_path (self);
      if (!g_file_set_contents_full (conf_path, conf, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                     &local))
        return fail (op, error, local);
    }
  open_for_build_user (self);

  if (!store_state (op, MBD_CHROOT_STATE_ACTIVE, NULL, mirror, error))
    return FALSE;
  op_progress (op, 1.0, "Chroot created");
  return TRUE;
}

/* ---- check --------------------------------------------------------------------------------- */

static int
remaining (gint64 deadline)
{
  gint64 left = (deadline - g_get_monotonic_time ()) / G_USEC_PER_SEC;
  return (int) CLAMP (left, 0, G_MAXINT);
}

static char **
in_chroot_argv (MbdChroot *self, const char *root, const char *const *cmd)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_autofree char *proc = g_build_filename (root, "proc", NULL);

  /* A private mount and pid namespace: /proc is mounted only there and everything in it dies
   * with it, so nothing stays mounted or running in the tree. */
  g_strv_builder_add_many (b, "unshare", "--mount", "--pid", "--fork", "--kill-child",
                           "--propagation", "private", NULL);
  builder_add_printf (b, "--mount-proc=%s", proc);
  if (g_str_equal (self->architecture, "i386"))
    g_strv_builder_add_many (b, "setarch", "i686", NULL);
  g_strv_builder_add_many (b, "chroot", root, NULL);
  g_strv_builder_addv (b, (const char **) cmd);
  return g_strv_builder_end (b);
}

static gboolean
apt_in (Op *op,
        const char *root,
        const char *const *cmd,
        int timeout,
        GCancellable *cancellable,
        GError **error)
{
  g_auto (GStrv) argv = in_chroot_argv (op->self, root, cmd);
  const char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive",
                         "LC_ALL=C", NULL };
  g_autofree char *what
      = g_strdup_printf ("Checking chroot %s/%s: %s %s", op->self->codename, op->self->architecture,
                         cmd[0], cmd[g_strv_length ((char **) cmd) - 1]);
  return run (op, what, (const char *const *) argv, envp, timeout, cancellable, error);
}

static gboolean
check_steps (Op *op,
             const char *root,
             const char *mirror,
             gint64 deadline,
             GCancellable *cancellable,
             GError **error)
{
  MbdChroot *self = op->self;

  g_autofree char *sources = g_build_filename (root, "etc/apt/sources.list", NULL);
  g_autofree char *line = g_strdup_printf ("deb %s %s main\n", mirror, self->codename);
  if (!g_file_set_contents (sources, line, -1, error))
    return mbd_prefix_error (error, "Checking chroot %s/%s: not a usable chroot: ", self->codename,
                             self->architecture);
  g_autofree char *resolv = g_build_filename (root, "etc/resolv.conf", NULL);
  g_autofree char *host_resolv = NULL;
  if (g_file_get_contents ("/etc/resolv.conf", &host_resolv, NULL, NULL))
    {
      g_unlink (resolv); /* may be a dangling symlink */
      if (!g_file_set_contents (resolv, host_resolv, -1, error))
        return FALSE;
    }

  /* apt-get update: a mirror in the middle of a sync fails with hash or size mismatches for a
   * while, a stalled one does not answer: retry with growing timeouts within half the time
   * left, keeping the rest for the upgrade. */
  int budget = MAX (remaining (deadline) / 2, 1);
  gboolean all_timed_out = TRUE;
  g_autoptr (GError) last = NULL;
  for (int attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++)
    {
      int timeout = MIN (mbd_chroot_attempt_timeout (budget, UPDATE_ATTEMPTS, attempt),
                         remaining (deadline));
      if (timeout <= 0)
        break;
      g_autofree char *msg = g_strdup_printf ("apt-get update (attempt %d of %d, timeout %d s)",
                                              attempt + 1, UPDATE_ATTEMPTS, timeout);
      op_progress (op, 0.2 + 0.1 * attempt, msg);
      const char *cmd[]
          = { "apt-get", "-q", "--error-on=any", "-o", "Acquire::Retries=0", "update", NULL };
      g_clear_error (&last);
      if (apt_in (op, root, cmd, timeout, cancellable, &last))
        break;
      if (g_error_matches (last, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&last));
          return FALSE;
        }
      if (!g_error_matches (last, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        all_timed_out = FALSE;
    }
  if (last != NULL)
    {
      if (all_timed_out)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                     "Checking chroot %s/%s: apt-get update from %s did not succeed within %d s "
                     "(%d attempts); the mirror does not answer",
                     self->codename, self->architecture, mirror, budget, UPDATE_ATTEMPTS);
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&last),
                                    "apt-get update failed %d times; last: ", UPDATE_ATTEMPTS);
      return FALSE;
    }

  op_progress (op, 0.6, "apt-get dist-upgrade");
  op->upgraded = 0;
  const char *upgrade[]
      = { "apt-get", "-q", "-y", "-o", "Dpkg::Options::=--force-confold", "dist-upgrade", NULL };
  int timeout = remaining (deadline);
  if (timeout <= 0 || !apt_in (op, root, upgrade, MAX (timeout, 1), cancellable, error))
    return timeout <= 0 ? mbd_throw (error, MBD_ERROR_FAILED, "no time left") : FALSE;
  const char *clean[] = { "apt-get", "clean", NULL };
  if (!apt_in (op, root, clean, MAX (remaining (deadline), 1), cancellable, error))
    return FALSE;
  if (host_resolv != NULL)
    g_unlink (resolv);
  return TRUE;
}

static gboolean
do_check (Op *op, GCancellable *cancellable, GError **error)
{
  MbdChroot *self = op->self;
  gboolean found = FALSE;
  gint64 deadline = g_get_monotonic_time () + (gint64) self->check_timeout * G_USEC_PER_SEC;

  if (!check_names (self, error))
    return FALSE;
  MBD_AUTO_LOCK lock = take_lock (self, error);
  if (lock < 0)
    return FALSE;
  if (!load (self, &found, error))
    return FALSE;
  if (!found || !g_file_test (self->path, G_FILE_TEST_EXISTS))
    return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                      "Chroot %s/%s does not exist (%s): create it first", self->codename,
                      self->architecture, self->path);
  if (!is_root ())
    return mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                      "Checking chroot %s/%s needs root (it enters the chroot to run apt)",
                      self->codename, self->architecture);
  g_autofree char *mirror = NULL;
  if (!resolve_mirror (self, &mirror, NULL, error))
    return FALSE;

  GError *local = NULL;
  const char *root = self->path;
  g_autofree char *work = NULL;
  if (self->backend == MBD_CHROOT_BACKEND_UNSHARE)
    {
      work = g_build_filename (self->dir, "check.tmp", NULL);
      if (!rm_rf (op, work, cancellable, &local))
        return fail (op, error, local);
      g_mkdir (work, 0755);
      op_progress (op, 0.05, "Unpacking the chroot");
      const char *argv[]
          = { "tar", "--zstd", "-xpf", self->path, "-C", work, "--numeric-owner", NULL };
      if (!run (op, "Unpacking the chroot", argv, NULL, MAX (remaining (deadline), 1), cancellable,
                &local))
        goto failed;
      root = work;
    }

  if (!check_steps (op, root, mirror, deadline, cancellable, &local))
    goto failed;

  if (self->backend == MBD_CHROOT_BACKEND_UNSHARE && op->upgraded > 0)
    {
      op_progress (op, 0.85, "Repacking the upgraded chroot");
      g_autofree char *tmp = g_build_filename (self->dir, "chroot.new.tar.zst", NULL);
      const char *argv[]
          = { "tar", "--zstd", "-cf", tmp, "-C", work, "--numeric-owner", ".", NULL };
      if (!run (op, "Repacking the chroot", argv, NULL, MAX (remaining (deadline), 1), cancellable,
                &local))
        {
          g_autoptr (GError) ignored = NULL;
          rm_rf (op, tmp, NULL, &ignored);
          goto failed;
        }
      if (g_rename (tmp, self->path) < 0)
        {
          int saved = errno;
          local = g_error_new (G_IO_ERROR, g_io_error_from_errno (saved), "Cannot rename %s: %s",
                               tmp, g_strerror (saved));
          goto failed;
        }
      open_for_build_user (self);
    }
  if (work != NULL && !rm_rf (op, work, cancellable, &local))
    return fail (op, error, local);
  if (!store_state (op, MBD_CHROOT_STATE_ACTIVE, NULL, mirror, error))
    return FALSE;
  op_progress (op, 1.0, op->upgraded > 0 ? "Chroot upgraded" : "Chroot is up to date");
  return TRUE;

failed:
  if (work != NULL)
    {
      g_autoptr (GError) ignored = NULL;
      rm_rf (op, work, NULL, &ignored);
    }
  return fail (op, error, local);
}

/* ---- remove -------------------------------------------------------------------------------- */

static gboolean
do_remove (Op *op, GCancellable *cancellable, GError **error)
{
  MbdChroot *self = op->self;
  gboolean found = FALSE;

  if (!check_names (self, error))
    return FALSE;
  if (!g_file_test (self->dir, G_FILE_TEST_IS_DIR))
    {
      if (!load (self, &found, error))
        return FALSE;
      if (!found)
        return mbd_throw (error, MBD_ERROR_NOT_FOUND, "Chroot %s/%s does not exist", self->codename,
                          self->architecture);
    }
  MBD_AUTO_LOCK lock = take_lock (self, error);
  if (lock < 0)
    return FALSE;
  if (!load (self, &found, error))
    return FALSE;

  g_autofree char *conf_path = schroot_config_path (self);
  if (g_unlink (conf_path) < 0 && errno != ENOENT)
    {
      int saved = errno;
      return mbd_throw (error, MBD_ERROR_FAILED, "Cannot remove %s: %s", conf_path,
                        g_strerror (saved));
    }
  /* The whole directory: tarball or tree, leftovers of interrupted runs, the lock file. */
  if (!rm_rf (op, self->dir, cancellable, error))
    return FALSE;
  g_autofree char *codename_dir = g_path_get_dirname (self->dir);
  g_rmdir (codename_dir); /* only when empty */

  MbdDb *db = mbd_instance_get_db (self->instance);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "DELETE FROM chroots WHERE codename = ? AND architecture = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, self->codename, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, self->architecture, -1, SQLITE_TRANSIENT);
  if (!mbd_db_step_done (db, stmt, error))
    return FALSE;
  set_state (op, MBD_CHROOT_STATE_ABSENT, NULL);
  return TRUE;
}

/* ---- sync and async entry points ----------------------------------------------------------- */

typedef enum
{
  OP_CREATE,
  OP_CHECK,
  OP_REMOVE,
} OpKind;

typedef struct
{
  OpKind kind;
  char *from_tarball;
  GMainContext *context;
} TaskData;

static void
task_data_free (gpointer data)
{
  TaskData *td = data;

  g_free (td->from_tarball);
  g_main_context_unref (td->context);
  g_free (td);
}

static gboolean
run_op (MbdChroot *self,
        OpKind kind,
        const char *from_tarball,
        GMainContext *context,
        GCancellable *cancellable,
        GError **error)
{
  Op op = { self, context, 0, NULL, 0 };
  gboolean ok = FALSE;

  switch (kind)
    {
    case OP_CREATE:
      ok = do_create (&op, from_tarball, cancellable, error);
      break;
    case OP_CHECK:
      ok = do_check (&op, cancellable, error);
      break;
    case OP_REMOVE:
      ok = do_remove (&op, cancellable, error);
      break;
    }
  op_clear (&op);
  return ok;
}

static void
op_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TaskData *td = task_data;
  GError *error = NULL;

  if (run_op (MBD_CHROOT (source), td->kind, td->from_tarball, td->context, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
start_op (MbdChroot *self,
          OpKind kind,
          const char *from_tarball,
          gpointer tag,
          GCancellable *cancellable,
          GAsyncReadyCallback callback,
          gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  TaskData *td = g_new0 (TaskData, 1);

  g_task_set_source_tag (task, tag);
  td->kind = kind;
  td->from_tarball = g_strdup (from_tarball);
  td->context = g_main_context_ref_thread_default ();
  g_task_set_task_data (task, td, task_data_free);
  g_task_run_in_thread (task, op_thread);
}

static gboolean
finish_op (MbdChroot *self, GAsyncResult *result, gpointer tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * mbd_chroot_create:
 * @self: a chroot
 * @from_tarball: (nullable): an existing chroot tarball (`.tar.zst`) to copy (unshare backend)
 *   or unpack (schroot backend) instead of running mmdebstrap
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Creates the chroot with mmdebstrap from the chroot's mirror (by default the machine's) and
 * the Debian archive keyring, emitting [signal@Mbd.Chroot::progress] on the way. The state is
 * %MBD_CHROOT_STATE_PREPARED while it runs and %MBD_CHROOT_STATE_ACTIVE after it; a failure
 * leaves no partial chroot and stores %MBD_CHROOT_STATE_FAILED with the reason. When we are root
 * and the backend is unshare, the build user `mbdbuild` is created if missing.
 *
 * Returns: %TRUE on success; %FALSE with %MBD_ERROR_EXISTS if the chroot exists (and has not
 *   failed), %MBD_ERROR_BUSY if another operation on it runs, %MBD_ERROR_UNSUPPORTED for the
 *   schroot backend without root, %MBD_ERROR_INVALID_ARGUMENT for a @from_tarball that is no
 *   chroot, %MBD_ERROR_FAILED naming mmdebstrap's last output line,
 *   %G_IO_ERROR_CANCELLED
 */
gboolean
mbd_chroot_create (MbdChroot *self,
                   const char *from_tarball,
                   GCancellable *cancellable,
                   GError **error)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), FALSE);
  return run_op (self, OP_CREATE, from_tarball, NULL, cancellable, error);
}

/**
 * mbd_chroot_create_async:
 * @self: a chroot
 * @from_tarball: (nullable): an existing chroot tarball to copy instead of running mmdebstrap
 * @cancellable: (nullable): a cancellable
 * @callback: called when the chroot is created
 * @user_data: data for @callback
 *
 * Creates the chroot in a worker thread; see [method@Mbd.Chroot.create]. Progress is emitted
 * on the thread-default main context of the caller.
 */
void
mbd_chroot_create_async (MbdChroot *self,
                         const char *from_tarball,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_return_if_fail (MBD_IS_CHROOT (self));
  start_op (self, OP_CREATE, from_tarball, mbd_chroot_create_async, cancellable, callback,
            user_data);
}

/**
 * mbd_chroot_create_finish:
 * @self: a chroot
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Mbd.Chroot.create_async].
 *
 * Returns: %TRUE if the chroot was created
 */
gboolean
mbd_chroot_create_finish (MbdChroot *self, GAsyncResult *result, GError **error)
{
  return finish_op (self, result, mbd_chroot_create_async, error);
}

/**
 * mbd_chroot_check:
 * @self: a chroot
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Checks and updates the chroot: unpacks it (unshare backend), points its apt at the chroot's
 * mirror, runs `apt-get update` (up to three attempts with doubling timeouts, as a mirror may be
 * in the middle of a sync), `apt-get dist-upgrade` and `apt-get clean` inside it, and repacks it
 * if packages changed. Everything is bounded by [property@Mbd.Chroot:check-timeout]. Success
 * makes the chroot %MBD_CHROOT_STATE_ACTIVE, failure %MBD_CHROOT_STATE_FAILED with the reason;
 * the chroot itself is only replaced after a successful upgrade. Needs root.
 *
 * Returns: %TRUE on success; %FALSE with %G_IO_ERROR_TIMED_OUT when the mirror did not answer
 *   in time, %MBD_ERROR_NOT_FOUND for a chroot that does not exist, %MBD_ERROR_BUSY,
 *   %MBD_ERROR_UNSUPPORTED without root, %MBD_ERROR_FAILED naming the failed command and its last
 *   output line, %G_IO_ERROR_CANCELLED
 */
gboolean
mbd_chroot_check (MbdChroot *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), FALSE);
  return run_op (self, OP_CHECK, NULL, NULL, cancellable, error);
}

/**
 * mbd_chroot_check_async:
 * @self: a chroot
 * @cancellable: (nullable): a cancellable
 * @callback: called when the check is done
 * @user_data: data for @callback
 *
 * Checks the chroot in a worker thread; see [method@Mbd.Chroot.check].
 */
void
mbd_chroot_check_async (MbdChroot *self,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_return_if_fail (MBD_IS_CHROOT (self));
  start_op (self, OP_CHECK, NULL, mbd_chroot_check_async, cancellable, callback, user_data);
}

/**
 * mbd_chroot_check_finish:
 * @self: a chroot
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Mbd.Chroot.check_async].
 *
 * Returns: %TRUE if the check passed
 */
gboolean
mbd_chroot_check_finish (MbdChroot *self, GAsyncResult *result, GError **error)
{
  return finish_op (self, result, mbd_chroot_check_async, error);
}

/**
 * mbd_chroot_remove:
 * @self: a chroot
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Removes the chroot without leftovers: its directory below `chroots/` (tarball or tree, and
 * remains of interrupted operations), the schroot configuration and the database row.
 *
 * Returns: %TRUE on success; %FALSE with %MBD_ERROR_NOT_FOUND if there is nothing to remove,
 *   %MBD_ERROR_BUSY if another operation on it runs
 */
gboolean
mbd_chroot_remove (MbdChroot *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_CHROOT (self), FALSE);
  return run_op (self, OP_REMOVE, NULL, NULL, cancellable, error);
}

/**
 * mbd_chroot_remove_async:
 * @self: a chroot
 * @cancellable: (nullable): a cancellable
 * @callback: called when the chroot is removed
 * @user_data: data for @callback
 *
 * Removes the chroot in a worker thread; see [method@Mbd.Chroot.remove].
 */
void
mbd_chroot_remove_async (MbdChroot *self,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_return_if_fail (MBD_IS_CHROOT (self));
  start_op (self, OP_REMOVE, NULL, mbd_chroot_remove_async, cancellable, callback, user_data);
}

/**
 * mbd_chroot_remove_finish:
 * @self: a chroot
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Mbd.Chroot.remove_async].
 *
 * Returns: %TRUE if the chroot was removed
 */
gboolean
mbd_chroot_remove_finish (MbdChroot *self, GAsyncResult *result, GError **error)
{
  return finish_op (self, result, mbd_chroot_remove_async, error);
}

/* ---- instance look-ups --------------------------------------------------------------------- */

/**
 * mbd_instance_lookup_chroot:
 * @instance: an open instance
 * @codename: the distribution codename
 * @architecture: the Debian architecture
 * @error: return location for an error
 *
 * Loads a chroot of the instance from its database.
 *
 * Returns: (transfer full): the chroot, or %NULL with %MBD_ERROR_NOT_FOUND if it was never
 *   created (or was removed), or %MBD_ERROR_DATABASE
 */
MbdChroot *
mbd_instance_lookup_chroot (MbdInstance *instance,
                            const char *codename,
                            const char *architecture,
                            GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_autoptr (MbdChroot) chroot
             = mbd_chroot_new (instance, codename, architecture, MBD_CHROOT_BACKEND_UNSHARE);
  gboolean found = FALSE;

  if (!check_names (chroot, error) || !load (chroot, &found, error))
    return NULL;
  if (!found)
    {
      mbd_throw (error, MBD_ERROR_NOT_FOUND, "No chroot %s/%s: create it with mbd chroot create",
                 codename, architecture);
      return NULL;
    }
  return g_steal_pointer (&chroot);
}

/**
 * mbd_instance_get_chroot:
 * @instance: an open instance
 * @codename: the distribution codename
 * @architecture: the Debian architecture
 * @error: return location for an error
 *
 * Gets a usable chroot: loads it, and creates it (unshare backend, the machine's mirror) when
 * it does not exist yet or its last creation failed. This may take minutes; call it from a
 * worker thread in a daemon.
 *
 * Returns: (transfer full): the chroot, or %NULL with the error of its creation
 */
MbdChroot *
mbd_instance_get_chroot (MbdInstance *instance,
                         const char *codename,
                         const char *architecture,
                         GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (MbdChroot) chroot
             = mbd_instance_lookup_chroot (instance, codename, architecture, &local);
  if (chroot == NULL && !g_error_matches (local, MBD_ERROR, MBD_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (chroot != NULL && mbd_chroot_get_state (chroot) == MBD_CHROOT_STATE_ACTIVE
      && g_file_test (chroot->path, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&chroot);
  if (chroot == NULL)
    chroot = mbd_chroot_new (instance, codename, architecture, MBD_CHROOT_BACKEND_UNSHARE);
  if (!mbd_chroot_create (chroot, NULL, NULL, error))
    return NULL;
  return g_steal_pointer (&chroot);
}

/**
 * mbd_instance_list_chroots:
 * @instance: an open instance
 * @error: return location for an error
 *
 * Lists the chroots of the instance, sorted by codename and architecture.
 *
 * Returns: (transfer container) (element-type Mbd.Chroot): the chroots, or %NULL on a
 *   database failure
 */
GPtrArray *
mbd_instance_list_chroots (MbdInstance *instance, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  MbdDb *db = mbd_instance_get_db (instance);
  if (db == NULL)
    {
      mbd_throw (error, MBD_ERROR_FAILED, "The instance at %s is not open",
                 mbd_instance_get_home (instance));
      return NULL;
    }
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT codename, architecture FROM chroots ORDER BY codename, architecture", error);
  if (stmt == NULL)
    return NULL;
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      MbdChroot *chroot = mbd_chroot_new (instance, (const char *) sqlite3_column_text (stmt, 0),
                                          (const char *) sqlite3_column_text (stmt, 1),
                                          MBD_CHROOT_BACKEND_UNSHARE);
      gboolean found = FALSE;
      g_ptr_array_add (list, chroot);
      if (!load (chroot, &found, error))
        return NULL;
    }
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db, rc, "cannot list the chroots", error);
      return NULL;
    }
  return g_steal_pointer (&list);
}
