/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbd-changes.h"
#include "mbd-error.h"
#include "mbd-event.h"
#include "mbd-file-entry.h"
#include "mbd-incoming.h"
#include "mbd-packager.h"
#include "mbd-util-private.h"

/**
 * MbdIncoming:
 *
 * Collects uploads: the `.changes` of an upload and every file it lists, arriving one by one
 * in any order, over HTTP (streamed through [method@Mbd.Incoming.begin_file]) or dropped into
 * the incoming directory by scp, sftp or cp.
 *
 * A file that arrives is first *loose* in the incoming directory. When a `.changes` arrives
 * and parses, the upload gets its own staging directory `.upload-<name>-XXXXXX` inside the
 * incoming directory, and the `.changes` and every loose file it lists (with the listed size)
 * move there; files that arrive later follow. The upload is complete when every listed file is
 * present with its listed size (checksums and the signature are the packager's business); then
 * [signal@Mbd.Incoming::upload-complete] hands the staging directory on.
 *
 * Everything refused is removed and reported through [signal@Mbd.Incoming::upload-failed]: a
 * `.changes` that does not parse, files over [property@Mbd.Incoming:max-file-size], uploads
 * over [property@Mbd.Incoming:max-upload-size], unsafe file names in the incoming directory,
 * uploads still incomplete and loose files nobody claimed after
 * [property@Mbd.Incoming:timeout] seconds without progress.
 *
 * File names are never trusted: a name must pass [func@Mbd.filename_is_safe]. Names starting
 * with `.` in the incoming directory belong to the object (or to a client writing a temporary
 * file) and are left alone.
 */

/* A file dropped into the directory by another program (scp, sftp, cp) is used once the
 * directory monitor reported nothing about it for QUIET_MSEC (the writer may still set its
 * mode or times after closing it), or, when the monitor never reported it, once its
 * modification time is SETTLE_SECONDS old. Files streamed in by the object are used at once. */
#define QUIET_MSEC 1000
#define SETTLE_SECONDS 5
/* A loose file an upload took stays linked in the directory this long, for a concurrent upload
 * that lists the same file (two revisions sharing an orig tarball, whose files dput sent
 * before either .changes). */
#define CLAIM_GRACE_SECONDS 5
#define STAGING_PREFIX ".upload-"
#define PART_PREFIX ".part-"

typedef struct
{
  gint64 time; /* g_get_monotonic_time () */
  guint64 inode;
} Known;

static Known *
known_new (guint64 inode)
{
  Known *known = g_new (Known, 1);
  known->time = g_get_monotonic_time ();
  known->inode = inode;
  return known;
}

typedef struct
{
  char *changes_name;
  char *dir;
  MbdChanges *changes;
  gint64 last_activity; /* g_get_monotonic_time () */
} Upload;

struct _MbdIncoming
{
  GObject parent_instance;

  char *directory;
  MbdInstance *instance; /* (nullable) */
  guint64 max_file_size;
  guint64 max_upload_size;
  guint timeout;

  gboolean started;
  gboolean held; /* files are stored, nothing is processed */
  GFileMonitor *monitor;
  guint tick_id;
  guint scan_id;
  GPtrArray *uploads;     /* (element-type Upload) */
  GHashTable *loose_seen; /* name -> gint64 * monotonic time first seen */
  /* Loose files this object wrote, and copies it kept of files an upload took (for
   * concurrent uploads listing the same file): name -> Known. The monitor reports changes
   * late; one about a file of the same inode is this object's own. */
  GHashTable *own;
  GHashTable *claimed;
  GHashTable *last_event; /* name -> gint64 * monotonic time of the last monitor event */
  GHashTable *in_flight;  /* name -> GUINT_TO_POINTER (count) being streamed */
};

struct _MbdIncomingFile
{
  GObject parent_instance;

  MbdIncoming *incoming;
  char *name;
  char *part_path;
  int fd;
  gint64 expected;
  guint64 written;
  gboolean done;
};

G_DEFINE_FINAL_TYPE (MbdIncoming, mbd_incoming, G_TYPE_OBJECT)
G_DEFINE_FINAL_TYPE (MbdIncomingFile, mbd_incoming_file, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_DIRECTORY,
  PROP_MAX_FILE_SIZE,
  PROP_MAX_UPLOAD_SIZE,
  PROP_TIMEOUT,
  PROP_HELD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_UPLOAD_COMPLETE,
  SIGNAL_UPLOAD_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
upload_free (Upload *upload)
{
  g_free (upload->changes_name);
  g_free (upload->dir);
  g_clear_object (&upload->changes);
  g_free (upload);
}

static void
mbd_incoming_init (MbdIncoming *self)
{
  self->max_file_size = MBD_INCOMING_DEFAULT_MAX_FILE_SIZE;
  self->max_upload_size = MBD_INCOMING_DEFAULT_MAX_UPLOAD_SIZE;
  self->timeout = MBD_INCOMING_DEFAULT_TIMEOUT;
  self->uploads = g_ptr_array_new_with_free_func ((GDestroyNotify) upload_free);
  self->loose_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->own = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->claimed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->last_event = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
mbd_incoming_dispose (GObject *object)
{
  mbd_incoming_stop (MBD_INCOMING (object));
  G_OBJECT_CLASS (mbd_incoming_parent_class)->dispose (object);
}

static void
mbd_incoming_finalize (GObject *object)
{
  MbdIncoming *self = MBD_INCOMING (object);

  g_free (self->directory);
  g_clear_object (&self->instance);
  g_ptr_array_unref (self->uploads);
  g_hash_table_unref (self->loose_seen);
  g_hash_table_unref (self->own);
  g_hash_table_unref (self->claimed);
  g_hash_table_unref (self->last_event);
  g_hash_table_unref (self->in_flight);
  G_OBJECT_CLASS (mbd_incoming_parent_class)->finalize (object);
}

static void
mbd_incoming_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MbdIncoming *self = MBD_INCOMING (object);

  switch (prop_id)
    {
    case PROP_DIRECTORY:
      g_value_set_string (value, self->directory);
      break;
    case PROP_MAX_FILE_SIZE:
      g_value_set_uint64 (value, self->max_file_size);
      break;
    case PROP_MAX_UPLOAD_SIZE:
      g_value_set_uint64 (value, self->max_upload_size);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    case PROP_HELD:
      g_value_set_boolean (value, self->held);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mbd_incoming_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MbdIncoming *self = MBD_INCOMING (object);

  switch (prop_id)
    {
    case PROP_DIRECTORY:
      /* absolute, for mbd_remove_tree () and the paths handed on */
      self->directory = g_canonicalize_filename (
          g_value_get_string (value) != NULL ? g_value_get_string (value) : "incoming", NULL);
      break;
    case PROP_MAX_FILE_SIZE:
      mbd_incoming_set_max_file_size (self, g_value_get_uint64 (value));
      break;
    case PROP_MAX_UPLOAD_SIZE:
      mbd_incoming_set_max_upload_size (self, g_value_get_uint64 (value));
      break;
    case PROP_TIMEOUT:
      mbd_incoming_set_timeout (self, g_value_get_uint (value));
      break;
    case PROP_HELD:
      mbd_incoming_set_held (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean
upload_complete_default (MbdIncoming *self, const char *changes_path, const char *directory);

static void
mbd_incoming_class_init (MbdIncomingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mbd_incoming_dispose;
  object_class->finalize = mbd_incoming_finalize;
  object_class->get_property = mbd_incoming_get_property;
  object_class->set_property = mbd_incoming_set_property;

  /**
   * MbdIncoming:directory:
   *
   * The incoming directory: files dropped here form uploads; staging directories live in it.
   * It is made absolute (relative to the current directory; default `incoming`).
   */
  properties[PROP_DIRECTORY]
      = g_param_spec_string ("directory", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * MbdIncoming:max-file-size:
   *
   * The largest file, in bytes, an upload may contain (the `.changes` included).
   */
  properties[PROP_MAX_FILE_SIZE] = g_param_spec_uint64 (
      "max-file-size", NULL, NULL, 1, G_MAXUINT64, MBD_INCOMING_DEFAULT_MAX_FILE_SIZE,
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * MbdIncoming:max-upload-size:
   *
   * The largest sum, in bytes, of the sizes of the `.changes` and the files it lists.
   */
  properties[PROP_MAX_UPLOAD_SIZE] = g_param_spec_uint64 (
      "max-upload-size", NULL, NULL, 1, G_MAXUINT64, MBD_INCOMING_DEFAULT_MAX_UPLOAD_SIZE,
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * MbdIncoming:timeout:
   *
   * Seconds without progress after which an incomplete upload, or a file no `.changes`
   * claims, is removed.
   */
  properties[PROP_TIMEOUT]
      = g_param_spec_uint ("timeout", NULL, NULL, 1, G_MAXUINT, MBD_INCOMING_DEFAULT_TIMEOUT,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * MbdIncoming:held:
   *
   * Whether uploads are held: files still arrive (streamed with
   * [method@Mbd.Incoming.begin_file] or dropped into the directory) and are kept there, but
   * nothing is looked at, handed on, refused or expired until the hold ends; then everything
   * is processed, and the time spent held does not count towards
   * [property@Mbd.Incoming:timeout]. mbd-server holds the uploads while its engine is stopped,
   * as mini-buildd keeps its incoming while stopped.
   */
  properties[PROP_HELD]
      = g_param_spec_boolean ("held", NULL, NULL, FALSE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MbdIncoming::upload-complete:
   * @self: the #MbdIncoming
   * @changes_path: the path of the `.changes`, inside @directory
   * @directory: the staging directory holding the `.changes` and every file it lists
   *
   * Emitted when an upload is complete. A handler that takes the upload moves @directory
   * away (the packager renames it into its own storage) and returns %TRUE; when no handler
   * returns %TRUE the directory is removed after the emission.
   *
   * The default handler of an object made by [ctor@Mbd.Incoming.new_for_instance] submits
   * the upload to the instance's packager ([method@Mbd.Packager.submit]); when the packager
   * does not take it, that is reported like any refusal.
   *
   * Returns: %TRUE if a handler took @directory
   */
  signals[SIGNAL_UPLOAD_COMPLETE] = g_signal_new_class_handler (
      "upload-complete", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
      G_CALLBACK (upload_complete_default), g_signal_accumulator_true_handled, NULL, NULL,
      G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_STRING);

  /**
   * MbdIncoming::upload-failed:
   * @self: the #MbdIncoming
   * @name: the file the failure is about: the `.changes` of an upload, or a single file
   * @error: what was wrong, naming the file and the problem
   *
   * Emitted when files are refused and removed: a `.changes` that does not parse or lists
   * more than the size limits allow, an unsafe file name in the incoming directory, an upload
   * that stayed incomplete, a file no `.changes` claimed within the timeout.
   *
   * With an instance ([ctor@Mbd.Incoming.new_for_instance]), each refused `.changes` is also
   * recorded as a %MBD_EVENT_REJECTED event with the error message as its reason.
   */
  signals[SIGNAL_UPLOAD_FAILED]
      = g_signal_new ("upload-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_ERROR);
}

/**
 * mbd_incoming_new:
 * @directory: the incoming directory; created by [method@Mbd.Incoming.start] if missing
 *
 * Creates an object collecting the uploads in @directory. Nothing happens on disk until
 * [method@Mbd.Incoming.start].
 *
 * Returns: (transfer full): a new #MbdIncoming
 */
MbdIncoming *
mbd_incoming_new (const char *directory)
{
  g_return_val_if_fail (directory != NULL, NULL);

  return g_object_new (MBD_TYPE_INCOMING, "directory", directory, NULL);
}

/**
 * mbd_incoming_new_for_instance:
 * @instance: an open instance
 *
 * Creates the object collecting the uploads of @instance in its home's `incoming/` directory:
 * complete uploads go to the instance's packager, refused ones become REJECTED events (see
 * [signal@Mbd.Incoming::upload-complete] and [signal@Mbd.Incoming::upload-failed]).
 *
 * Returns: (transfer full): a new #MbdIncoming
 */
MbdIncoming *
mbd_incoming_new_for_instance (MbdInstance *instance)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  g_autofree char *directory
      = g_build_filename (mbd_instance_get_home (instance), "incoming", NULL);
  MbdIncoming *self = mbd_incoming_new (directory);
  self->instance = g_object_ref (instance);
  return self;
}

/**
 * mbd_incoming_get_directory:
 * @self: a #MbdIncoming
 *
 * Gets the incoming directory.
 *
 * Returns: (transfer none): the directory given to [ctor@Mbd.Incoming.new]
 */
const char *
mbd_incoming_get_directory (MbdIncoming *self)
{
  g_return_val_if_fail (MBD_IS_INCOMING (self), NULL);

  return self->directory;
}

/**
 * mbd_incoming_get_max_file_size:
 * @self: a #MbdIncoming
 *
 * Gets [property@Mbd.Incoming:max-file-size].
 *
 * Returns: the largest file accepted, in bytes
 */
guint64
mbd_incoming_get_max_file_size (MbdIncoming *self)
{
  g_return_val_if_fail (MBD_IS_INCOMING (self), 0);

  return self->max_file_size;
}

/**
 * mbd_incoming_set_max_file_size:
 * @self: a #MbdIncoming
 * @max_file_size: the largest file accepted, in bytes (at least 1)
 *
 * Sets [property@Mbd.Incoming:max-file-size]; files already received are not checked again.
 */
void
mbd_incoming_set_max_file_size (MbdIncoming *self, guint64 max_file_size)
{
  g_return_if_fail (MBD_IS_INCOMING (self));
  g_return_if_fail (max_file_size > 0);

  if (self->max_file_size == max_file_size)
    return;
  self->max_file_size = max_file_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_FILE_SIZE]);
}

/**
 * mbd_incoming_get_max_upload_size:
 * @self: a #MbdIncoming
 *
 * Gets [property@Mbd.Incoming:max-upload-size].
 *
 * Returns: the largest upload accepted, in bytes
 */
guint64
mbd_incoming_get_max_upload_size (MbdIncoming *self)
{
  g_return_val_if_fail (MBD_IS_INCOMING (self), 0);

  return self->max_upload_size;
}

/**
 * mbd_incoming_set_max_upload_size:
 * @self: a #MbdIncoming
 * @max_upload_size: the largest upload accepted, in bytes (at least 1)
 *
 * Sets [property@Mbd.Incoming:max-upload-size]; it applies to `.changes` arriving from now on.
 */
void
mbd_incoming_set_max_upload_size (MbdIncoming *self, guint64 max_upload_size)
{
  g_return_if_fail (MBD_IS_INCOMING (self));
  g_return_if_fail (max_upload_size > 0);

  if (self->max_upload_size == max_upload_size)
    return;
  self->max_upload_size = max_upload_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_UPLOAD_SIZE]);
}

/**
 * mbd_incoming_get_timeout:
 * @self: a #MbdIncoming
 *
 * Gets [property@Mbd.Incoming:timeout].
 *
 * Returns: the timeout in seconds
 */
guint
mbd_incoming_get_timeout (MbdIncoming *self)
{
  g_return_val_if_fail (MBD_IS_INCOMING (self), 0);

  return self->timeout;
}

static void restart_tick (MbdIncoming *self);

/**
 * mbd_incoming_set_timeout:
 * @self: a #MbdIncoming
 * @timeout: seconds without progress after which incomplete uploads are removed (at least 1)
 *
 * Sets [property@Mbd.Incoming:timeout]. The periodic check runs every quarter of the timeout
 * (at least every second, at most every 30 seconds).
 */
void
mbd_incoming_set_timeout (MbdIncoming *self, guint timeout)
{
  g_return_if_fail (MBD_IS_INCOMING (self));
  g_return_if_fail (timeout > 0);

  if (self->timeout == timeout)
    return;
  self->timeout = timeout;
  if (self->started)
    restart_tick (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

static void schedule_scan (MbdIncoming *self, guint delay_msec);

/**
 * mbd_incoming_get_held:
 * @self: a #MbdIncoming
 *
 * Gets [property@Mbd.Incoming:held].
 *
 * Returns: %TRUE if uploads are held
 */
gboolean
mbd_incoming_get_held (MbdIncoming *self)
{
  g_return_val_if_fail (MBD_IS_INCOMING (self), FALSE);

  return self->held;
}

/**
 * mbd_incoming_set_held:
 * @self: a #MbdIncoming
 * @held: whether to keep the arriving files without processing them
 *
 * Sets [property@Mbd.Incoming:held]. Ending the hold of a started object processes what
 * arrived meanwhile from the main context, right after this returns.
 */
void
mbd_incoming_set_held (MbdIncoming *self, gboolean held)
{
  g_return_if_fail (MBD_IS_INCOMING (self));

  held = !!held;
  if (self->held == held)
    return;
  self->held = held;
  if (!held)
    {
      /* the time held is no time without progress */
      gint64 now = g_get_monotonic_time ();
      for (guint i = 0; i < self->uploads->len; i++)
        ((Upload *) g_ptr_array_index (self->uploads, i))->last_activity = now;
      GHashTableIter iter;
      gpointer seen;
      g_hash_table_iter_init (&iter, self->loose_seen);
      while (g_hash_table_iter_next (&iter, NULL, &seen))
        *(gint64 *) seen = now;
      schedule_scan (self, 0);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HELD]);
}

/* Records a refused .changes @name (parsed as @changes, if it could be) as a REJECTED event. */
static void
add_rejected_event (MbdIncoming *self, const char *name, MbdChanges *changes, const GError *error)
{
  g_autofree char *source = NULL;
  g_autofree char *version = NULL;
  const char *distribution = NULL;

  if (changes != NULL)
    {
      source = g_strdup (mbd_changes_get_source (changes));
      version = g_strdup (mbd_changes_get_version (changes));
      distribution = mbd_changes_get_distribution (changes);
    }
  else
    {
      /* <source>_<version>_<architecture>.changes, as dpkg-genchanges names it */
      g_auto (GStrv) parts = g_strsplit (name, "_", 3);
      if (g_strv_length (parts) == 3)
        {
          source = g_strdup (parts[0]);
          version = g_strdup (parts[1]);
        }
    }

  g_autoptr (MbdEvent) event = mbd_event_new (MBD_EVENT_REJECTED, distribution, source, version);
  mbd_event_set_extra (event, "changes", name);
  mbd_event_set_reason (event, 400, "The upload was rejected", error->message);
  g_autoptr (GError) local_error = NULL;
  if (!mbd_events_add (mbd_instance_get_events (self->instance), event, &local_error))
    g_warning ("%s: cannot record the REJECTED event: %s", name, local_error->message);
}

/* Reports the refusal of @name (@changes: its parsed .changes, if any); @rejected: it was an
 * upload, recorded as a REJECTED event when there is an instance. */
static void
report_failure (MbdIncoming *self,
                const char *name,
                MbdChanges *changes,
                const GError *error,
                gboolean rejected)
{
  if (rejected && self->instance != NULL && g_str_has_suffix (name, ".changes"))
    add_rejected_event (self, name, changes, error);
  g_signal_emit (self, signals[SIGNAL_UPLOAD_FAILED], 0, name, error);
}

static void
emit_failed (MbdIncoming *self, const char *name, const GError *error)
{
  report_failure (self, name, NULL, error, TRUE);
}

static gboolean
upload_complete_default (MbdIncoming *self, const char *changes_path, const char *directory)
{
  if (self->instance == NULL)
    return FALSE;

  g_autoptr (GError) error = NULL;
  if (mbd_packager_submit (mbd_instance_get_packager (self->instance), changes_path, &error))
    return TRUE;
  g_autofree char *name = g_path_get_basename (changes_path);
  g_autoptr (MbdChanges) changes = mbd_changes_new_from_file (changes_path, NULL);
  mbd_prefix_error (&error, "%s: not taken by the packager: ", name);
  report_failure (self, name, changes, error, TRUE);
  return FALSE;
}

static gboolean
is_in_flight (MbdIncoming *self, const char *name)
{
  return g_hash_table_contains (self->in_flight, name);
}

static const MbdFileEntry *
upload_lookup (Upload *upload, const char *name)
{
  return mbd_changes_get_file (upload->changes, name);
}

/* The size of @path, or -1 if it is not a regular file. */
static gint64
regular_file_size (const char *path)
{
  struct stat st;

  if (lstat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return -1;
  return st.st_size;
}

/* Whether the loose file @name (with @st) is finished by its writer; if not, a scan is
 * scheduled for when it may be. */
static gboolean
is_quiet (MbdIncoming *self, const char *name, const struct stat *st)
{
  if (g_hash_table_contains (self->own, name) || g_hash_table_contains (self->claimed, name))
    return TRUE;

  const gint64 *event = g_hash_table_lookup (self->last_event, name);
  gboolean quiet;
  if (event != NULL)
    quiet = g_get_monotonic_time () - *event >= QUIET_MSEC * 1000;
  else
    quiet = g_get_real_time () / G_USEC_PER_SEC - st->st_mtime >= SETTLE_SECONDS;
  if (!quiet)
    schedule_scan (self, event != NULL ? QUIET_MSEC : 1000);
  return quiet;
}

/* Forgets what is known about the loose file @name (it was claimed or removed). */
static void
forget_loose (MbdIncoming *self, const char *name)
{
  g_hash_table_remove (self->loose_seen, name);
  g_hash_table_remove (self->own, name);
  g_hash_table_remove (self->claimed, name);
  g_hash_table_remove (self->last_event, name);
}

/* Seconds a copy of a taken loose file stays: CLAIM_GRACE_SECONDS, never beyond the timeout. */
static gint64
claim_grace (MbdIncoming *self)
{
  return MIN (CLAIM_GRACE_SECONDS, self->timeout);
}

/* Whether another pending upload than @upload lists @name with @size. */
static gboolean
wanted_elsewhere (MbdIncoming *self, Upload *upload, const char *name, guint64 size)
{
  for (guint i = 0; i < self->uploads->len; i++)
    {
      Upload *other = g_ptr_array_index (self->uploads, i);
      if (other == upload)
        continue;
      const MbdFileEntry *entry = upload_lookup (other, name);
      if (entry != NULL && mbd_file_entry_get_size (entry) == size)
        return TRUE;
    }
  return FALSE;
}

/* Moves loose files that @upload lists (with their listed size) into its directory; returns
 * whether every listed file is there now. */
static gboolean
upload_collect (MbdIncoming *self, Upload *upload)
{
  g_autoptr (GPtrArray) files = mbd_changes_get_files (upload->changes);
  gboolean complete = TRUE;

  for (guint i = 0; i < files->len; i++)
    {
      const MbdFileEntry *entry = g_ptr_array_index (files, i);
      const char *name = mbd_file_entry_get_name (entry);
      guint64 size = mbd_file_entry_get_size (entry);
      g_autofree char *target = g_build_filename (upload->dir, name, NULL);

      if (regular_file_size (target) == (gint64) size)
        continue;
      g_autofree char *loose = g_build_filename (self->directory, name, NULL);
      struct stat st;
      if (lstat (loose, &st) != 0 || !S_ISREG (st.st_mode) || (guint64) st.st_size != size
          || is_in_flight (self, name) || !is_quiet (self, name, &st))
        {
          complete = FALSE;
          continue;
        }
      /* two uploads may share a file (an orig tarball): a copy stays for the other one, for
       * CLAIM_GRACE_SECONDS when the periodic check runs to remove it */
      gboolean keep = self->started || wanted_elsewhere (self, upload, name, size);
      if ((keep ? link (loose, target) : rename (loose, target)) != 0)
        {
          complete = FALSE;
          continue;
        }
      forget_loose (self, name);
      if (keep)
        {
          g_hash_table_insert (self->claimed, g_strdup (name), known_new (st.st_ino));
          schedule_scan (self, claim_grace (self) * 1000 + 100);
        }
      upload->last_activity = g_get_monotonic_time ();
    }
  return complete;
}

static void
upload_hand_on (MbdIncoming *self, Upload *upload)
{
  g_autofree char *changes_path = g_build_filename (upload->dir, upload->changes_name, NULL);
  g_autofree char *dir = g_strdup (upload->dir);
  gboolean taken = FALSE;

  g_ptr_array_remove (self->uploads, upload);
  g_signal_emit (self, signals[SIGNAL_UPLOAD_COMPLETE], 0, changes_path, dir, &taken);
  if (!taken)
    mbd_remove_tree (dir);
}

static Upload *
find_upload (MbdIncoming *self, const char *changes_name)
{
  for (guint i = 0; i < self->uploads->len; i++)
    {
      Upload *upload = g_ptr_array_index (self->uploads, i);
      if (strcmp (upload->changes_name, changes_name) == 0)
        return upload;
    }
  return NULL;
}

static gboolean
check_sizes (MbdIncoming *self,
             const char *name,
             MbdChanges *changes,
             guint64 changes_size,
             GError **error)
{
  g_autoptr (GPtrArray) files = mbd_changes_get_files (changes);
  guint64 total = changes_size;

  for (guint i = 0; i < files->len; i++)
    {
      const MbdFileEntry *entry = g_ptr_array_index (files, i);
      guint64 size = mbd_file_entry_get_size (entry);

      if (size > self->max_file_size)
        return mbd_throw (error, MBD_ERROR_TOO_LARGE,
                          "%s: listed file %s has %" G_GUINT64_FORMAT
                          " bytes, more than the file size limit of %" G_GUINT64_FORMAT " bytes",
                          name, mbd_file_entry_get_name (entry), size, self->max_file_size);
      total += size;
    }
  if (total > self->max_upload_size)
    return mbd_throw (error, MBD_ERROR_TOO_LARGE,
                      "%s: the upload has %" G_GUINT64_FORMAT
                      " bytes (the .changes and %u listed files), more than the upload size "
                      "limit of %" G_GUINT64_FORMAT " bytes",
                      name, total, files->len, self->max_upload_size);
  return TRUE;
}

/* Removes the loose files that the refused @changes lists, unless another upload lists them
 * too or they are still arriving. */
static void
remove_listed_loose (MbdIncoming *self, MbdChanges *changes)
{
  g_autoptr (GPtrArray) files = mbd_changes_get_files (changes);

  for (guint i = 0; i < files->len; i++)
    {
      const MbdFileEntry *entry = g_ptr_array_index (files, i);
      const char *name = mbd_file_entry_get_name (entry);
      guint64 size = mbd_file_entry_get_size (entry);
      g_autofree char *loose = g_build_filename (self->directory, name, NULL);

      if (regular_file_size (loose) != (gint64) size || is_in_flight (self, name)
          || wanted_elsewhere (self, NULL, name, size))
        continue;
      g_unlink (loose);
      forget_loose (self, name);
    }
}

/* Creates an upload for the loose .changes @name; removes the .changes when it is refused. */
static gboolean
accept_changes (MbdIncoming *self, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (self->directory, name, NULL);
  gint64 changes_size = regular_file_size (path);
  g_autoptr (MbdChanges) changes = mbd_changes_new_from_file (path, error);

  if (changes == NULL || !check_sizes (self, name, changes, MAX (changes_size, 0), error))
    {
      g_unlink (path);
      forget_loose (self, name);
      if (changes != NULL)
        remove_listed_loose (self, changes);
      /* the uploader learns the file name, not where the server keeps it */
      if (error != NULL && *error != NULL && g_str_has_prefix ((*error)->message, path))
        {
          g_autofree char *message = g_strconcat (name, (*error)->message + strlen (path), NULL);
          g_free ((*error)->message);
          (*error)->message = g_steal_pointer (&message);
        }
      return FALSE;
    }

  /* the same .changes again: the new one replaces the old, incomplete upload */
  Upload *old = find_upload (self, name);
  if (old != NULL)
    {
      g_autoptr (GError) superseded = NULL;
      g_set_error (&superseded, MBD_ERROR, MBD_ERROR_EXISTS,
                   "%s: incomplete upload replaced by a new upload of the same .changes", name);
      mbd_remove_tree (old->dir);
      g_ptr_array_remove (self->uploads, old);
      report_failure (self, name, NULL, superseded, FALSE);
    }

  g_autofree char *stem = g_strndup (name, strlen (name) - strlen (".changes"));
  g_autofree char *template
      = g_strdup_printf ("%s/" STAGING_PREFIX "%s-XXXXXX", self->directory, stem);
  if (g_mkdtemp_full (template, 0755) == NULL)
    {
      int errsv = errno;
      g_unlink (path);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "%s: cannot create a staging directory in %s: %s", name, self->directory,
                   g_strerror (errsv));
      return FALSE;
    }
  g_autofree char *target = g_build_filename (template, name, NULL);
  if (rename (path, target) != 0)
    {
      int errsv = errno;
      g_rmdir (template);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "%s: cannot move it into %s: %s", name, template, g_strerror (errsv));
      return FALSE;
    }

  Upload *upload = g_new0 (Upload, 1);
  upload->changes_name = g_strdup (name);
  upload->dir = g_steal_pointer (&template);
  upload->changes = g_steal_pointer (&changes);
  upload->last_activity = g_get_monotonic_time ();
  g_ptr_array_add (self->uploads, upload);
  forget_loose (self, name);
  if (upload_collect (self, upload))
    upload_hand_on (self, upload);
  return TRUE;
}

/* Gives a loose file @name to the pending upload that lists it, if any; TRUE if one did. */
static gboolean
offer_to_uploads (MbdIncoming *self, const char *name)
{
  for (guint i = 0; i < self->uploads->len; i++)
    {
      Upload *upload = g_ptr_array_index (self->uploads, i);
      if (upload_lookup (upload, name) == NULL)
        continue;
      if (upload_collect (self, upload))
        upload_hand_on (self, upload);
      return TRUE;
    }
  return FALSE;
}

/* Looks at one entry of the incoming directory. Errors are those of a refused .changes or
 * unsafe name (the file is removed then). */
static gboolean
process_entry (MbdIncoming *self, const char *name, GError **error)
{
  if (name[0] == '.')
    return TRUE;

  g_autofree char *path = g_build_filename (self->directory, name, NULL);
  struct stat st;
  if (lstat (path, &st) != 0 || S_ISDIR (st.st_mode))
    return TRUE;
  if (!mbd_filename_is_safe (name, error))
    {
      g_unlink (path);
      return mbd_prefix_error (error, "%s: refused and removed: ", self->directory);
    }
  if (!S_ISREG (st.st_mode))
    {
      g_unlink (path);
      return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                        "%s: not a regular file (a link or a special file); removed", name);
    }
  if (is_in_flight (self, name) || !is_quiet (self, name, &st))
    return TRUE;

  if (g_str_has_suffix (name, ".changes"))
    return accept_changes (self, name, error);

  if (offer_to_uploads (self, name) || g_hash_table_contains (self->claimed, name))
    return TRUE;
  if (!g_hash_table_contains (self->loose_seen, name))
    {
      gint64 *seen = g_new (gint64, 1);
      *seen = g_get_monotonic_time ();
      g_hash_table_insert (self->loose_seen, g_strdup (name), seen);
    }
  return TRUE;
}

static void
process_entry_reporting (MbdIncoming *self, const char *name)
{
  g_autoptr (GError) error = NULL;

  if (!process_entry (self, name, &error))
    emit_failed (self, name, error);
}

/* Removes uploads and loose files that made no progress within the timeout. */
static void
expire (MbdIncoming *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 limit = (gint64) self->timeout * G_USEC_PER_SEC;

  for (guint i = self->uploads->len; i > 0; i--)
    {
      Upload *upload = g_ptr_array_index (self->uploads, i - 1);
      if (now - upload->last_activity < limit)
        continue;

      g_autoptr (GPtrArray) files = mbd_changes_get_files (upload->changes);
      g_autoptr (GString) missing = g_string_new (NULL);
      gboolean busy = FALSE;
      for (guint j = 0; j < files->len; j++)
        {
          const MbdFileEntry *entry = g_ptr_array_index (files, j);
          const char *name = mbd_file_entry_get_name (entry);
          g_autofree char *target = g_build_filename (upload->dir, name, NULL);
          g_autofree char *loose = g_build_filename (self->directory, name, NULL);
          guint64 size = mbd_file_entry_get_size (entry);
          gint64 present = regular_file_size (target);

          busy = busy || is_in_flight (self, name);
          if (present == (gint64) size)
            continue;
          if (present < 0)
            present = regular_file_size (loose);
          if (missing->len > 0)
            g_string_append (missing, ", ");
          if (present < 0)
            g_string_append_printf (missing, "%s (missing)", name);
          else
            g_string_append_printf (missing,
                                    "%s (%" G_GINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes)",
                                    name, present, size);
        }
      if (busy)
        continue;

      g_autoptr (GError) error = NULL;
      g_set_error (&error, MBD_ERROR, MBD_ERROR_MISSING_FILE,
                   "%s: upload incomplete after %u s without progress, removed; still "
                   "missing: %s",
                   upload->changes_name, self->timeout, missing->str);
      g_autofree char *changes_name = g_strdup (upload->changes_name);
      g_autoptr (MbdChanges) changes = g_object_ref (upload->changes);
      mbd_remove_tree (upload->dir);
      g_ptr_array_remove_index (self->uploads, i - 1);
      report_failure (self, changes_name, changes, error, TRUE);
    }

  GHashTableIter iter;
  gpointer key, value;
  g_autoptr (GPtrArray) taken = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_iter_init (&iter, self->claimed);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (now - ((Known *) value)->time >= claim_grace (self) * G_USEC_PER_SEC
          && !is_in_flight (self, key))
        g_ptr_array_add (taken, g_strdup (key));
    }
  for (guint i = 0; i < taken->len; i++)
    {
      const char *name = g_ptr_array_index (taken, i);
      g_autofree char *path = g_build_filename (self->directory, name, NULL);
      forget_loose (self, name);
      g_unlink (path);
    }
  if (g_hash_table_size (self->claimed) > 0)
    schedule_scan (self, 1000);

  g_autoptr (GPtrArray) expired = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_iter_init (&iter, self->loose_seen);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (now - *(gint64 *) value >= limit && !is_in_flight (self, key))
        g_ptr_array_add (expired, g_strdup (key));
    }
  for (guint i = 0; i < expired->len; i++)
    {
      const char *name = g_ptr_array_index (expired, i);
      g_autofree char *path = g_build_filename (self->directory, name, NULL);
      g_autoptr (GError) error = NULL;

      forget_loose (self, name);
      if (g_unlink (path) != 0)
        continue;
      g_set_error (&error, MBD_ERROR, MBD_ERROR_MISSING_FILE,
                   "%s: no .changes listing this file arrived within %u s; removed", name,
                   self->timeout);
      emit_failed (self, name, error);
    }
}

/**
 * mbd_incoming_scan:
 * @self: a #MbdIncoming
 *
 * Looks at every file in the incoming directory now, then removes what timed out. This also
 * runs periodically and whenever the directory changes while the object is started. Does
 * nothing while uploads are [property@Mbd.Incoming:held].
 */
void
mbd_incoming_scan (MbdIncoming *self)
{
  g_return_if_fail (MBD_IS_INCOMING (self));

  if (self->held)
    return;

  g_autoptr (GDir) dir = g_dir_open (self->directory, 0, NULL);
  if (dir != NULL)
    {
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_strdup (name));
      /* .changes first, so that the files they list are claimed in this pass */
      for (guint i = 0; i < names->len; i++)
        if (g_str_has_suffix (g_ptr_array_index (names, i), ".changes"))
          process_entry_reporting (self, g_ptr_array_index (names, i));
      for (guint i = 0; i < names->len; i++)
        if (!g_str_has_suffix (g_ptr_array_index (names, i), ".changes"))
          process_entry_reporting (self, g_ptr_array_index (names, i));
    }
  expire (self);
}

static gboolean
scan_idle (gpointer user_data)
{
  MbdIncoming *self = user_data;

  self->scan_id = 0;
  mbd_incoming_scan (self);
  return G_SOURCE_REMOVE;
}

static gboolean
tick (gpointer user_data)
{
  mbd_incoming_scan (user_data);
  return G_SOURCE_CONTINUE;
}

static void
schedule_scan (MbdIncoming *self, guint delay_msec)
{
  if (self->started && !self->held && self->scan_id == 0)
    self->scan_id = g_timeout_add (delay_msec, scan_idle, self);
}

static void
restart_tick (MbdIncoming *self)
{
  g_clear_handle_id (&self->tick_id, g_source_remove);
  self->tick_id = g_timeout_add_seconds (CLAMP (self->timeout / 4, 1, 30), tick, self);
}

static void
on_changed (GFileMonitor *monitor,
            GFile *file,
            GFile *other,
            GFileMonitorEvent event,
            gpointer user_data)
{
  MbdIncoming *self = user_data;
  g_autofree char *name = g_file_get_basename (file);

  if (event == G_FILE_MONITOR_EVENT_DELETED)
    {
      g_hash_table_remove (self->last_event, name);
      return;
    }
  if (name[0] == '.')
    return;

  Known *known = g_hash_table_lookup (self->own, name);
  if (known == NULL)
    known = g_hash_table_lookup (self->claimed, name);
  g_autofree char *path = g_build_filename (self->directory, name, NULL);
  struct stat st;
  if (known != NULL && lstat (path, &st) == 0 && st.st_ino == known->inode)
    return;
  /* another writer made or replaced it: a new loose file */
  g_hash_table_remove (self->own, name);
  g_hash_table_remove (self->claimed, name);
  gint64 *now = g_new (gint64, 1);
  *now = g_get_monotonic_time ();
  g_hash_table_insert (self->last_event, g_steal_pointer (&name), now);
  schedule_scan (self, QUIET_MSEC);
}

/* Takes up staging directories left by an earlier run, removes its unfinished parts. */
static void
adopt_leftovers (MbdIncoming *self)
{
  g_autoptr (GDir) dir = g_dir_open (self->directory, 0, NULL);
  if (dir == NULL)
    return;

  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (self->directory, name, NULL);
      if (g_str_has_prefix (name, PART_PREFIX))
        {
          g_unlink (path);
          continue;
        }
      if (!g_str_has_prefix (name, STAGING_PREFIX) || !g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;

      g_autoptr (GDir) staging = g_dir_open (path, 0, NULL);
      const char *member;
      g_autofree char *changes_name = NULL;
      while (staging != NULL && (member = g_dir_read_name (staging)) != NULL)
        if (g_str_has_suffix (member, ".changes") && changes_name == NULL)
          changes_name = g_strdup (member);

      g_autoptr (GError) error = NULL;
      g_autofree char *changes_path
          = changes_name != NULL ? g_build_filename (path, changes_name, NULL) : NULL;
      g_autoptr (MbdChanges) changes
                 = changes_path != NULL ? mbd_changes_new_from_file (changes_path, &error) : NULL;
      if (changes == NULL)
        {
          mbd_remove_tree (path);
          continue;
        }
      Upload *upload = g_new0 (Upload, 1);
      upload->changes_name = g_steal_pointer (&changes_name);
      upload->dir = g_steal_pointer (&path);
      upload->changes = g_steal_pointer (&changes);
      upload->last_activity = g_get_monotonic_time ();
      g_ptr_array_add (self->uploads, upload);
    }
}

/**
 * mbd_incoming_start:
 * @self: a #MbdIncoming
 * @error: return location for a #GError
 *
 * Creates the incoming directory if needed, takes up the staging directories an earlier run
 * left, watches the directory for files dropped into it and checks it periodically (also a
 * fallback for file systems without change notification). Uploads already complete are
 * handed on from the main context right after this returns.
 *
 * Returns: %TRUE on success; %FALSE with @error set if the directory cannot be created
 */
gboolean
mbd_incoming_start (MbdIncoming *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_INCOMING (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->started)
    return TRUE;
  if (g_mkdir_with_parents (self->directory, 0755) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot create the incoming directory %s: %s", self->directory,
                   g_strerror (errsv));
      return FALSE;
    }
  adopt_leftovers (self);

  g_autoptr (GFile) file = g_file_new_for_path (self->directory);
  g_autoptr (GError) monitor_error = NULL;
  self->monitor = g_file_monitor_directory (file, G_FILE_MONITOR_NONE, NULL, &monitor_error);
  /* without a monitor the periodic scan still finds everything */
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (on_changed), self);
  self->started = TRUE;
  restart_tick (self);
  schedule_scan (self, 0);
  return TRUE;
}

/**
 * mbd_incoming_stop:
 * @self: a #MbdIncoming
 *
 * Stops watching the incoming directory. Files and staging directories stay on disk and are
 * taken up again by the next [method@Mbd.Incoming.start]; files being streamed may still be
 * finished.
 */
void
mbd_incoming_stop (MbdIncoming *self)
{
  g_return_if_fail (MBD_IS_INCOMING (self));

  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->scan_id, g_source_remove);
  g_ptr_array_set_size (self->uploads, 0);
  g_hash_table_remove_all (self->loose_seen);
  g_hash_table_remove_all (self->own);
  /* the copies kept for concurrent uploads are not needed by the uploads taken up again */
  GHashTableIter iter;
  gpointer name;
  g_hash_table_iter_init (&iter, self->claimed);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    {
      g_autofree char *path = g_build_filename (self->directory, name, NULL);
      g_unlink (path);
    }
  g_hash_table_remove_all (self->claimed);
  g_hash_table_remove_all (self->last_event);
  self->started = FALSE;
}

/**
 * mbd_incoming_dup_pending:
 * @self: a #MbdIncoming
 *
 * Lists the uploads whose `.changes` has arrived but which are not complete yet.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names of their `.changes`
 */
char **
mbd_incoming_dup_pending (MbdIncoming *self)
{
  g_return_val_if_fail (MBD_IS_INCOMING (self), NULL);

  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (guint i = 0; i < self->uploads->len; i++)
    g_strv_builder_add (builder, ((Upload *) g_ptr_array_index (self->uploads, i))->changes_name);
  return g_strv_builder_end (builder);
}

/* -- streamed files ---------------------------------------------------------------------- */

static void
in_flight_add (MbdIncoming *self, const char *name)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->in_flight, name));
  g_hash_table_insert (self->in_flight, g_strdup (name), GUINT_TO_POINTER (count + 1));
}

static void
in_flight_remove (MbdIncoming *self, const char *name)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->in_flight, name));
  if (count <= 1)
    g_hash_table_remove (self->in_flight, name);
  else
    g_hash_table_insert (self->in_flight, g_strdup (name), GUINT_TO_POINTER (count - 1));
}

static void
incoming_file_close (MbdIncomingFile *self, gboolean remove_part)
{
  if (self->done)
    return;
  self->done = TRUE;
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
  if (remove_part)
    g_unlink (self->part_path);
  in_flight_remove (self->incoming, self->name);
}

static void
mbd_incoming_file_init (MbdIncomingFile *self)
{
  self->fd = -1;
}

static void
mbd_incoming_file_finalize (GObject *object)
{
  MbdIncomingFile *self = MBD_INCOMING_FILE (object);

  incoming_file_close (self, TRUE);
  g_clear_object (&self->incoming);
  g_free (self->name);
  g_free (self->part_path);
  G_OBJECT_CLASS (mbd_incoming_file_parent_class)->finalize (object);
}

static void
mbd_incoming_file_class_init (MbdIncomingFileClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_incoming_file_finalize;
}

/**
 * MbdIncomingFile:
 *
 * One file of an upload being received, from [method@Mbd.Incoming.begin_file]: the data goes
 * into a temporary file in the incoming directory, which [method@Mbd.IncomingFile.finish]
 * renames to the file's name. A file dropped before it is finished is removed.
 */

/**
 * mbd_incoming_begin_file:
 * @self: a #MbdIncoming
 * @name: the file's name as the client gives it (untrusted)
 * @size: the announced size in bytes, or -1 if unknown
 * @error: return location for a #GError
 *
 * Starts receiving one file of an upload, such as the body of an HTTP PUT. Feed the data with
 * [method@Mbd.IncomingFile.write] and end with [method@Mbd.IncomingFile.finish]; nothing is
 * held in memory.
 *
 * Returns: (transfer full): the file being received, or %NULL with @error set:
 *   %MBD_ERROR_UNSAFE_FILENAME if @name is not a plain safe file name (a directory part, `..`,
 *   a leading `.`, control characters), %MBD_ERROR_TOO_LARGE if @size exceeds
 *   [property@Mbd.Incoming:max-file-size], or a %G_IO_ERROR if the temporary file cannot be
 *   created
 */
MbdIncomingFile *
mbd_incoming_begin_file (MbdIncoming *self, const char *name, gint64 size, GError **error)
{
  g_return_val_if_fail (MBD_IS_INCOMING (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!mbd_filename_is_safe (name, error))
    return NULL;
  if (size >= 0 && (guint64) size > self->max_file_size)
    {
      mbd_throw (error, MBD_ERROR_TOO_LARGE,
                 "%s: %" G_GINT64_FORMAT
                 " bytes is more than the file size limit of %" G_GUINT64_FORMAT " bytes",
                 name, size, self->max_file_size);
      return NULL;
    }
  if (g_mkdir_with_parents (self->directory, 0755) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot create the incoming directory %s: %s", self->directory,
                   g_strerror (errsv));
      return NULL;
    }

  g_autofree char *part_path = g_strdup_printf ("%s/" PART_PREFIX "XXXXXX", self->directory);
  int fd = g_mkstemp_full (part_path, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "%s: cannot create a temporary file in %s: %s", name, self->directory,
                   g_strerror (errsv));
      return NULL;
    }

  MbdIncomingFile *file = g_object_new (MBD_TYPE_INCOMING_FILE, NULL);
  file->incoming = g_object_ref (self);
  file->name = g_strdup (name);
  file->part_path = g_steal_pointer (&part_path);
  file->fd = fd;
  file->expected = size;
  in_flight_add (self, name);
  return file;
}

/**
 * mbd_incoming_file_get_name:
 * @self: a #MbdIncomingFile
 *
 * Gets the name of the file being received.
 *
 * Returns: (transfer none): the file name given to [method@Mbd.Incoming.begin_file]
 */
const char *
mbd_incoming_file_get_name (MbdIncomingFile *self)
{
  g_return_val_if_fail (MBD_IS_INCOMING_FILE (self), NULL);

  return self->name;
}

/**
 * mbd_incoming_file_get_written:
 * @self: a #MbdIncomingFile
 *
 * Gets how much of the file has been received.
 *
 * Returns: the number of bytes written so far
 */
guint64
mbd_incoming_file_get_written (MbdIncomingFile *self)
{
  g_return_val_if_fail (MBD_IS_INCOMING_FILE (self), 0);

  return self->written;
}

/**
 * mbd_incoming_file_write:
 * @self: a #MbdIncomingFile
 * @data: the next bytes of the file
 * @error: return location for a #GError
 *
 * Appends @data to the file being received. On failure the temporary file is removed and
 * later calls fail.
 *
 * Returns: %TRUE on success; %FALSE with @error set: %MBD_ERROR_TOO_LARGE when the file
 *   grows beyond [property@Mbd.Incoming:max-file-size], %MBD_ERROR_INVALID_ARGUMENT beyond
 *   its announced size or after it was finished or aborted, a %G_IO_ERROR if writing failed
 */
gboolean
mbd_incoming_file_write (MbdIncomingFile *self, GBytes *data, GError **error)
{
  g_return_val_if_fail (MBD_IS_INCOMING_FILE (self), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->done)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "%s: the upload of this file has already ended", self->name);

  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);
  guint64 max = self->incoming->max_file_size;
  if (self->written + len > max)
    {
      incoming_file_close (self, TRUE);
      return mbd_throw (error, MBD_ERROR_TOO_LARGE,
                        "%s: more than the file size limit of %" G_GUINT64_FORMAT " bytes",
                        self->name, max);
    }
  if (self->expected >= 0 && self->written + len > (guint64) self->expected)
    {
      incoming_file_close (self, TRUE);
      return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                        "%s: more data than the announced %" G_GINT64_FORMAT " bytes", self->name,
                        self->expected);
    }

  while (len > 0)
    {
      ssize_t n = write (self->fd, bytes, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          incoming_file_close (self, TRUE);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       "%s: cannot write to %s: %s", self->name, self->incoming->directory,
                       g_strerror (errsv));
          return FALSE;
        }
      bytes += n;
      len -= n;
      self->written += n;
    }
  return TRUE;
}

/**
 * mbd_incoming_file_finish:
 * @self: a #MbdIncomingFile
 * @error: return location for a #GError
 *
 * Ends the file: it is synced to disk and renamed to its name in the incoming directory
 * (replacing a file of the same name), then processed at once. If it is a `.changes`, the
 * upload is created, collects its files and is handed on when complete. While uploads are
 * [property@Mbd.Incoming:held], the file is only stored.
 *
 * Returns: %TRUE on success; %FALSE with @error set and the file removed: a %G_IO_ERROR,
 *   %MBD_ERROR_INVALID_ARGUMENT if fewer bytes arrived than announced, or for a `.changes`
 *   the errors of [ctor@Mbd.Changes.new_from_file] and %MBD_ERROR_TOO_LARGE when the
 *   upload it describes exceeds the size limits (these are also emitted as
 *   [signal@Mbd.Incoming::upload-failed])
 */
gboolean
mbd_incoming_file_finish (MbdIncomingFile *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_INCOMING_FILE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->done)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "%s: the upload of this file has already ended", self->name);
  if (self->expected >= 0 && self->written != (guint64) self->expected)
    {
      incoming_file_close (self, TRUE);
      return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                        "%s: only %" G_GUINT64_FORMAT " of the announced %" G_GINT64_FORMAT
                        " bytes arrived",
                        self->name, self->written, self->expected);
    }

  MbdIncoming *incoming = self->incoming;
  g_autofree char *path = g_build_filename (incoming->directory, self->name, NULL);
  if (fsync (self->fd) != 0 || close (self->fd) != 0 || rename (self->part_path, path) != 0)
    {
      int errsv = errno;
      self->fd = -1;
      incoming_file_close (self, TRUE);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "%s: cannot store it in %s: %s", self->name, incoming->directory,
                   g_strerror (errsv));
      return FALSE;
    }
  self->fd = -1;
  incoming_file_close (self, FALSE);
  forget_loose (incoming, self->name);
  struct stat st;
  if (lstat (path, &st) == 0)
    g_hash_table_insert (incoming->own, g_strdup (self->name), known_new (st.st_ino));

  if (incoming->held)
    return TRUE;
  g_autoptr (GError) local_error = NULL;
  if (!process_entry (incoming, self->name, &local_error))
    {
      emit_failed (incoming, self->name, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

/**
 * mbd_incoming_file_abort:
 * @self: a #MbdIncomingFile
 *
 * Drops the file being received (the client went away): the temporary file is removed. Does
 * nothing after [method@Mbd.IncomingFile.finish].
 */
void
mbd_incoming_file_abort (MbdIncomingFile *self)
{
  g_return_if_fail (MBD_IS_INCOMING_FILE (self));

  incoming_file_close (self, TRUE);
}
