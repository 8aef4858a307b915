/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mbd-build-private.h"
#include "mbd-changes.h"
#include "mbd-deb-version.h"
#include "mbd-dsc.h"
#include "mbd-event-private.h"
#include "mbd-gnupg.h"
#include "mbd-keyring-package-private.h"
#include "mbd-packager-private.h"
#include "mbd-port-private.h"
#include "mbd-repository-private.h"
#include "mbd-util-private.h"

/**
 * MbdPackager:
 *
 * Turns uploads into installed packages, as mini-buildd's packager does
 * ([method@Mbd.Instance.get_packager]).
 *
 * [method@Mbd.Packager.submit] takes the directory of a complete upload (the `.changes` and every
 * file it lists) into `<home>/packages/<key>/` and records it in the database (table `packages`)
 * before it returns. While the instance's engine runs ([method@Mbd.Instance.start]) each package
 * then goes through its states, each one stored before it is acted on:
 *
 * - *checking*: the `.changes` must be OpenPGP-signed by a key of the repository's uploader
 *   keyring (the instance key plus the keyring files in `<home>/uploaders/` and
 *   `<home>/uploaders/<repository>/`), unless the repository allows unauthenticated uploads;
 *   the files must have the listed sizes and checksums and safe names; the distribution (or a
 *   meta name such as `unstable`) must exist and be uploadable; the version must follow the
 *   layout's rule and be newer than the distribution's; `MINI_BUILDD_OPTION` lines of the top
 *   changelog entry must be known. A failed check ends the package *rejected* with a
 *   %MBD_EVENT_REJECTED event that says why, and its directory is removed;
 * - *building*: one [class@Mbd.BuildRequest] per architecture the source builds on (the
 *   `Architecture: all` packages on the distribution's arch-all architecture), queued with the
 *   instance's [class@Mbd.Builder] in the same database transaction that records them and the
 *   %MBD_EVENT_PACKAGING event;
 * - *installing*: once every mandatory architecture is built (optional ones may fail), the source
 *   and the binaries are included into the distribution in one transaction and published;
 * - *installed* with %MBD_EVENT_INSTALLED, or *failed* with %MBD_EVENT_FAILED and the reason.
 *
 * Nothing is lost when the process dies: on the next start the packages that did not reach a
 * final state carry on from their stored state (the builder adopts their builds), and an
 * installation that was done already is recognised, so each package ends installed once.
 *
 * The packager works on the thread-default main context of the thread that creates it; call
 * [method@Mbd.Packager.submit] from that thread.
 */
struct _MbdPackager
{
  GObject parent_instance;

  MbdInstance *instance; /* (unowned): the instance owns its packager */
  gboolean started;
  GMainContext *context;
  guint tick_id;
  guint timer_id;
  MbdBuilder *builder; /* (owned) (nullable): while started */
  gulong builder_handler;
  gboolean in_tick;
  char *internal_url;
  /* The package being checked and the one being installed, each in a worker thread, or NULL:
   * one at a time each, in the order of the uploads. */
  char *checking;
  char *installing;
  /* mbd_packager_migrate_installed() runs in a worker thread */
  gboolean migrating;
};

G_DEFINE_FINAL_TYPE (MbdPackager, mbd_packager, G_TYPE_OBJECT)

#define MBD_PACKAGER_POLL_SECONDS 2

static const char *const state_names[] = {
  "checking", "building", "installing", "installed", "failed", "rejected",
};

/**
 * mbd_package_state_to_string:
 * @state: a package state
 *
 * Gives the name of a package state, such as `building`.
 *
 * Returns: the name
 */
const char *
mbd_package_state_to_string (MbdPackageState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), NULL);
  return state_names[state];
}

/**
 * mbd_package_state_is_final:
 * @state: a package state
 *
 * Tells whether a package in @state is done with: installed, failed or rejected.
 *
 * Returns: %TRUE for a final state
 */
gboolean
mbd_package_state_is_final (MbdPackageState state)
{
  return state >= MBD_PACKAGE_STATE_INSTALLED;
}

static void
mbd_packager_dispose (GObject *object)
{
  mbd_packager_stop (MBD_PACKAGER (object));
  G_OBJECT_CLASS (mbd_packager_parent_class)->dispose (object);
}

static void
mbd_packager_finalize (GObject *object)
{
  MbdPackager *self = MBD_PACKAGER (object);

  g_free (self->internal_url);
  g_free (self->checking);
  g_free (self->installing);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (mbd_packager_parent_class)->finalize (object);
}

static void
mbd_packager_class_init (MbdPackagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mbd_packager_dispose;
  object_class->finalize = mbd_packager_finalize;
}

static void
mbd_packager_init (MbdPackager *self)
{
  self->context = g_main_context_ref_thread_default ();
}

MbdPackager *
mbd_packager_new_for_instance (MbdInstance *instance)
{
  MbdPackager *self = g_object_new (MBD_TYPE_PACKAGER, NULL);

  self->instance = instance;
  return self;
}

MbdInstance *
mbd_packager_get_instance (MbdPackager *self)
{
  return self->instance;
}

/**
 * mbd_packager_set_internal_url:
 * @self: a packager
 * @url: (nullable): the URL the instance's repositories are served under for the build chroots,
 *   or %NULL for none
 *
 * With a URL, builds get the repository's own suites as APT sources (the upload's suite and the
 * suites it migrates to, signed by the instance key), as mini-buildd does, so packages can
 * build-depend on packages of the repository. mbd-server sets it; without a server nothing
 * would serve them.
 */
void
mbd_packager_set_internal_url (MbdPackager *self, const char *url)
{
  g_return_if_fail (MBD_IS_PACKAGER (self));
  g_free (self->internal_url);
  self->internal_url = g_strdup (url);
}

const char *
mbd_packager_get_internal_url (MbdPackager *self)
{
  return self->internal_url;
}

/* ---- rows ---------------------------------------------------------------------------------- */

typedef struct
{
  gint64 id;
  char *key;
  char *changes; /* file name */
  MbdPackageState state;
  char *source;
  char *version;
  char *distribution;
  JsonObject *builds; /* arch -> {"key", "state"} */
} Package;

static void
package_free (Package *package)
{
  g_free (package->key);
  g_free (package->changes);
  g_free (package->source);
  g_free (package->version);
  g_free (package->distribution);
  g_clear_pointer (&package->builds, json_object_unref);
  g_free (package);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Package, package_free)

static MbdDb *
packager_db (MbdPackager *self)
{
  return mbd_instance_get_db (self->instance);
}

static char *
packages_dir (MbdPackager *self)
{
  return g_build_filename (mbd_instance_get_home (self->instance), "packages", NULL);
}

static char *
package_dir (MbdPackager *self, Package *package)
{
  return g_build_filename (mbd_instance_get_home (self->instance), "packages", package->key, NULL);
}

static char *
dup_column (sqlite3_stmt *stmt, int column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

#define PACKAGE_COLUMNS "id, key, changes, state, source, version, distribution, builds"

static Package *
package_from_row (sqlite3_stmt *stmt)
{
  Package *package = g_new0 (Package, 1);

  package->id = sqlite3_column_int64 (stmt, 0);
  package->key = dup_column (stmt, 1);
  package->changes = dup_column (stmt, 2);
  package->state = sqlite3_column_int (stmt, 3);
  package->source = dup_column (stmt, 4);
  package->version = dup_column (stmt, 5);
  package->distribution = dup_column (stmt, 6);
  const char *builds = (const char *) sqlite3_column_text (stmt, 7);
  g_autoptr (JsonNode) node = builds != NULL ? json_from_string (builds, NULL) : NULL;
  package->builds = node != NULL && JSON_NODE_HOLDS_OBJECT (node)
                        ? json_object_ref (json_node_get_object (node))
                        : json_object_new ();
  return package;
}

static GPtrArray *
load_active (MbdPackager *self, GError **error)
{
  MbdDb *db = packager_db (self);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT " PACKAGE_COLUMNS " FROM packages WHERE state < 3 ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  g_autoptr (GPtrArray) packages = g_ptr_array_new_with_free_func ((GDestroyNotify) package_free);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (packages, package_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db, rc, "cannot list the packages", error);
      return NULL;
    }
  return g_steal_pointer (&packages);
}

static gboolean
require_open (MbdPackager *self, GError **error)
{
  if (packager_db (self) != NULL)
    return TRUE;
  return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s: the instance is not open",
                    mbd_instance_get_home (self->instance));
}

static Package *
load_package (MbdPackager *self, const char *key, GError **error)
{
  if (!require_open (self, error))
    return NULL;
  MbdDb *db = packager_db (self);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT " PACKAGE_COLUMNS " FROM packages WHERE key = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return package_from_row (stmt);
  if (rc == SQLITE_DONE)
    mbd_throw (error, MBD_ERROR_NOT_FOUND, "package '%s' does not exist; see 'mbd events'", key);
  else
    mbd_db_throw (db, rc, "cannot read a package", error);
  return NULL;
}

static gboolean
update_package (MbdPackager *self, Package *package, const char *reason, GError **error)
{
  MbdDb *db = packager_db (self);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "UPDATE packages SET state = ?2, source = ?3, version = ?4, distribution = ?5,"
      " builds = ?6, reason = ?7, updated = strftime('%s', 'now') WHERE id = ?1",
      error);
  if (stmt == NULL)
    return FALSE;
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, package->builds);
  g_autofree char *builds = json_to_string (node, FALSE);
  sqlite3_bind_int64 (stmt, 1, package->id);
  sqlite3_bind_int (stmt, 2, package->state);
  sqlite3_bind_text (stmt, 3, package->source, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, package->version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, package->distribution, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, builds, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 7, reason, -1, SQLITE_TRANSIENT);
  return mbd_db_step_done (db, stmt, error);
}

/* An event about @package with mini-buildd's extra members. */
static MbdEvent *
package_event (MbdPackager *self,
               Package *package,
               MbdEventType type,
               MbdChanges *changes,
               const char *arch)
{
  MbdEvent *event = mbd_event_new (type, package->distribution, package->source, package->version);
  g_autofree char *key = g_strdup_printf ("%s/%s/%s", package->source ? package->source : "-",
                                          package->version ? package->version : "-", package->key);
  g_autofree char *bkey = g_strdup_printf ("%s/%s", key, arch != NULL ? arch : "source");
  g_autofree char *path = g_build_filename ("packages", package->key, package->changes, NULL);

  mbd_event_set_extra (event, "timecode", package->key);
  mbd_event_set_extra (event, "key", key);
  mbd_event_set_extra (event, "bkey", bkey);
  mbd_event_set_extra (event, "changes", path);
  mbd_event_set_extra (event, "architecture", arch != NULL ? arch : "source");
  if (changes != NULL)
    {
      mbd_event_set_extra (event, "maintainer", mbd_changes_get_maintainer (changes));
      mbd_event_set_extra (event, "changed_by", mbd_changes_get_changed_by (changes));
    }
  return event;
}

/* Stores the package's new state and @event in one transaction, then announces the event. */
static gboolean
commit_with_event (MbdPackager *self,
                   Package *package,
                   const char *reason,
                   MbdEvent *event,
                   GError **error)
{
  MbdDb *db = packager_db (self);
  MbdEvents *events = mbd_instance_get_events (self->instance);

  if (!mbd_db_begin (db, error))
    return FALSE;
  if (!update_package (self, package, reason, error)
      || (event != NULL && !mbd_events_store (events, event, package->key, error))
      || !mbd_db_commit (db, error))
    {
      mbd_db_rollback (db);
      return FALSE;
    }
  if (event != NULL)
    mbd_events_publish (events, event);
  return TRUE;
}

/* ---- file helpers -------------------------------------------------------------------------- */

/* ---- submit -------------------------------------------------------------------------------- */

static void schedule_tick (MbdPackager *self);

static char *
new_timecode (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y%m%d:%H%M%S:%f");
}

static gboolean
insert_package (MbdPackager *self, const char *key, const char *changes, GError **error)
{
  MbdDb *db = packager_db (self);
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db,
                               "INSERT INTO packages (key, changes, state, created, updated)"
                               " VALUES (?1, ?2, 0, strftime('%s', 'now'), strftime('%s', 'now'))",
                               error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, changes, -1, SQLITE_TRANSIENT);
  return mbd_db_step_done (db, stmt, error);
}

/**
 * mbd_packager_submit:
 * @self: a packager
 * @changes_path: a `.changes` file; it and every file it lists lie in one directory that holds
 *   nothing else, on the file system of the instance home
 *
 * Takes a complete upload; see [method@Mbd.Packager.submit_full].
 *
 * Returns: %TRUE if the packager took the upload
 */
gboolean
mbd_packager_submit (MbdPackager *self, const char *changes_path, GError **error)
{
  return mbd_packager_submit_full (self, changes_path, NULL, error);
}

/**
 * mbd_packager_submit_full:
 * @self: a packager
 * @changes_path: a `.changes` file; it and every file it lists lie in one directory that holds
 *   nothing else, on the file system of the instance home
 * @out_key: (out) (optional): the package's key (its directory under `<home>/packages/` and the
 *   `timecode` of its events)
 *
 * Takes a complete upload: moves the directory of @changes_path to `<home>/packages/<key>/` and
 * records the package (state checking) before it returns. The checks run later, on the
 * packager's main context once the engine runs; a refused upload ends with a REJECTED event, not
 * with an error here.
 *
 * Errors: %MBD_ERROR_INVALID_ARGUMENT if the file name does not end in `.changes`, the I/O error
 * of moving the directory (such as %G_IO_ERROR_NOT_SUPPORTED for another file system), database
 * errors. On error nothing was taken: the directory is where it was.
 *
 * Returns: %TRUE if the packager took the upload
 */
gboolean
mbd_packager_submit_full (MbdPackager *self,
                          const char *changes_path,
                          char **out_key,
                          GError **error)
{
  g_return_val_if_fail (MBD_IS_PACKAGER (self), FALSE);
  g_return_val_if_fail (changes_path != NULL, FALSE);

  if (!require_open (self, error))
    return FALSE;
  g_autofree char *name = g_path_get_basename (changes_path);
  if (!g_str_has_suffix (name, ".changes") || strcmp (name, ".changes") == 0)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "%s: an upload is submitted by its .changes file", changes_path);
  g_autofree char *dir = g_path_get_dirname (changes_path);
  g_autofree char *packages = packages_dir (self);
  if (g_mkdir_with_parents (packages, 0750) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s",
                   packages, g_strerror (saved));
      return FALSE;
    }
  g_autofree char *key = NULL;
  g_autofree char *target = NULL;
  for (int attempt = 0;; attempt++)
    {
      g_free (key);
      g_free (target);
      g_autofree char *timecode = new_timecode ();
      key = attempt == 0 ? g_steal_pointer (&timecode)
                         : g_strdup_printf ("%s-%d", timecode, attempt);
      target = g_build_filename (packages, key, NULL);
      if (renameat2 (AT_FDCWD, dir, AT_FDCWD, target, RENAME_NOREPLACE) == 0)
        break;
      int saved = errno;
      if (saved == EEXIST && attempt < 100)
        continue;
      if (saved == EXDEV)
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                          "%s: cannot take the upload: it is on another file system than %s", dir,
                          packages);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot move to %s: %s",
                   dir, target, g_strerror (saved));
      return FALSE;
    }
  if (!insert_package (self, key, name, error))
    {
      if (g_rename (target, dir) < 0)
        g_warning ("%s: cannot move back to %s: %s", target, dir, g_strerror (errno));
      return FALSE;
    }
  mbd_debug_kill_point ("submitted");
  schedule_tick (self);
  if (out_key != NULL)
    *out_key = g_steal_pointer (&key);
  return TRUE;
}

/**
 * mbd_packager_lookup_state:
 * @self: a packager
 * @key: a package key from [method@Mbd.Packager.submit_full]
 * @out_state: (out): its state
 *
 * Finds the stored state of a package.
 *
 * Returns: %TRUE on success; %FALSE with %MBD_ERROR_NOT_FOUND for an unknown key
 */
gboolean
mbd_packager_lookup_state (MbdPackager *self,
                           const char *key,
                           MbdPackageState *out_state,
                           GError **error)
{
  g_return_val_if_fail (MBD_IS_PACKAGER (self), FALSE);
  g_return_val_if_fail (key != NULL && out_state != NULL, FALSE);

  g_autoptr (Package) package = load_package (self, key, error);
  if (package == NULL)
    return FALSE;
  *out_state = package->state;
  return TRUE;
}

/* ---- checks -------------------------------------------------------------------------------- */

/* What the checks found out about an upload. */
typedef struct
{
  MbdChanges *changes;
  MbdRepository *repo;
  MbdDistribution *dist; /* (unowned): of repo */
  MbdSuite *suite;       /* (unowned): of repo's layout */
  char *dsc_path;
  GHashTable *options; /* "key" or "key[arch]" -> value */
} Upload;

static void
upload_clear (Upload *upload)
{
  g_clear_object (&upload->changes);
  g_clear_object (&upload->repo);
  g_clear_pointer (&upload->dsc_path, g_free);
  g_clear_pointer (&upload->options, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Upload, upload_clear)

gboolean
mbd_packager_import_keyrings_in (MbdGnupg *gnupg, const char *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return TRUE;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".gpg") || g_str_has_suffix (name, ".asc")
        || g_str_has_suffix (name, ".pgp"))
      g_ptr_array_add (names, g_build_filename (dir, name, NULL));
  for (guint i = 0; i < names->len; i++)
    {
      g_auto (GStrv) imported = mbd_gnupg_import_keyring_file (gnupg, names->pdata[i], NULL, error);
      if (imported == NULL)
        return mbd_prefix_error (error, "uploader keyring %s: ", (char *) names->pdata[i]);
    }
  return TRUE;
}

MbdGnupg *
mbd_packager_new_uploader_keyring (MbdPackager *self, MbdRepository *repo, GError **error)
{
  g_autoptr (MbdGnupg) keyring = mbd_gnupg_new_temporary (error);
  if (keyring == NULL)
    return NULL;
  MbdGnupg *own = mbd_instance_get_gnupg (self->instance);
  g_autofree char *armored = mbd_gnupg_export_public_key (
      own, mbd_instance_get_fingerprint (self->instance), NULL, error);
  if (armored == NULL)
    return NULL;
  gsize armored_len = strlen (armored); /* before the pointer is stolen: argument order */
  g_autoptr (GBytes) key = g_bytes_new_take (g_steal_pointer (&armored), armored_len);
  g_auto (GStrv) imported = mbd_gnupg_import_keys (keyring, key, NULL, error);
  if (imported == NULL)
    return NULL;
  g_autofree char *all
      = g_build_filename (mbd_instance_get_home (self->instance), "uploaders", NULL);
  g_autofree char *mine = g_build_filename (all, mbd_repository_get_identity (repo), NULL);
  if (!mbd_packager_import_keyrings_in (keyring, all, error)
      || !mbd_packager_import_keyrings_in (keyring, mine, error))
    return NULL;
  return g_steal_pointer (&keyring);
}

/* Verifies the .changes against the repository's uploader keyring: the instance key plus the
 * keyring files of <home>/uploaders/ and <home>/uploaders/<repository>/. */
static gboolean
check_signature (MbdPackager *self,
                 MbdRepository *repo,
                 const char *path,
                 GBytes **out_text,
                 GError **error)
{
  g_autoptr (MbdGnupg) keyring = mbd_packager_new_uploader_keyring (self, repo, error);
  if (keyring == NULL)
    return FALSE;
  g_autofree char *mine = g_build_filename (mbd_instance_get_home (self->instance), "uploaders",
                                            mbd_repository_get_identity (repo), NULL);

  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GBytes) content = g_file_load_bytes (file, NULL, NULL, error);
  if (content == NULL)
    return FALSE;
  g_autofree char *fingerprint = NULL;
  g_autoptr (GBytes) text = mbd_gnupg_verify_clear (keyring, content, &fingerprint, NULL, error);
  if (text == NULL)
    {
      if (g_error_matches (*error, MBD_ERROR, MBD_ERROR_UNSIGNED))
        return mbd_prefix_error (error,
                                 "repository %s requires uploads signed by an uploader key: ",
                                 mbd_repository_get_identity (repo));
      if (g_error_matches (*error, MBD_ERROR, MBD_ERROR_UNKNOWN_SIGNER))
        return mbd_prefix_error (error,
                                 "the signer is not an uploader of repository %s (add the key to "
                                 "%s/): ",
                                 mbd_repository_get_identity (repo), mine);
      return FALSE;
    }
  *out_text = g_steal_pointer (&text);
  return TRUE;
}

static const char *const option_keys[] = {
  "lintian-mode",
  "piuparts-mode",
  "autopkgtest-mode",
  "internal-apt-priority",
  "auto-ports",
  "deb-build-options",
  "deb-build-profiles",
  "add-depends",
  "ignore-lintian",
  "run-lintian",
  NULL,
};

static gboolean
parse_bool (const char *text, gboolean *out)
{
  if (g_ascii_strcasecmp (text, "true") == 0 || strcmp (text, "1") == 0
      || g_ascii_strcasecmp (text, "yes") == 0)
    *out = TRUE;
  else if (g_ascii_strcasecmp (text, "false") == 0 || strcmp (text, "0") == 0
           || g_ascii_strcasecmp (text, "no") == 0)
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

static gboolean
check_option_value (const char *key, const char *value, GError **error)
{
  MbdCheckMode mode;
  gboolean flag;

  if (g_str_has_suffix (key, "-mode"))
    return mbd_check_mode_from_string (value, &mode, error);
  if (strcmp (key, "internal-apt-priority") == 0)
    {
      char *end = NULL;
      g_ascii_strtoll (value, &end, 10);
      if (value[0] == '\0' || *end != '\0')
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "'%s' is not an integer", value);
    }
  if ((strcmp (key, "ignore-lintian") == 0 || strcmp (key, "run-lintian") == 0)
      && !parse_bool (value, &flag))
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "'%s' is not true or false", value);
  return TRUE;
}

/* The MINI_BUILDD_OPTION lines of the top changelog entry (the first block of the Changes
 * field), as mini-buildd reads them: `* MINI_BUILDD_OPTION: key[arch]=value`, whitespace in the
 * value dropped. The deprecated ignore-lintian/run-lintian become lintian-mode. */
static GHashTable *
parse_options (MbdChanges *changes, const char *name_for_errors, GError **error)
{
  g_autoptr (GHashTable) options = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *text = mbd_paragraph_get (mbd_changes_get_paragraph (changes), "Changes");
  if (text == NULL)
    return g_steal_pointer (&options);
  g_autoptr (GRegex) header = g_regex_new ("^\\s*\\S+ \\(\\S+\\) ", 0, 0, NULL);
  g_autoptr (GRegex) option = g_regex_new (
      "\\*\\s*MINI_BUILDD_OPTION:\\s*([^*.\\[\\]=\\s]+)\\s*(?:\\[([^*.\\[\\]=\\s]+)\\])?\\s*=(.*)$",
      0, 0, NULL);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  int headers = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_regex_match (header, lines[i], 0, NULL) && ++headers > 1)
        break;
      g_autoptr (GMatchInfo) match = NULL;
      if (!g_regex_match (option, lines[i], 0, &match))
        continue;
      g_autofree char *key = g_match_info_fetch (match, 1);
      g_autofree char *arch = g_match_info_fetch (match, 2);
      g_autofree char *raw = g_match_info_fetch (match, 3);
      GString *value = g_string_new (NULL);
      for (const char *p = raw; *p != '\0'; p++)
        if (!g_ascii_isspace (*p))
          g_string_append_c (value, *p);
      g_autofree char *v = g_string_free (value, FALSE);
      if (!g_strv_contains (option_keys, key))
        {
          g_autofree char *known = g_strjoinv (", ", (char **) option_keys);
          mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                     "%s: unknown upload option '%s' in the changelog (MINI_BUILDD_OPTION): use "
                     "one of %s",
                     name_for_errors, key, known);
          return NULL;
        }
      g_autoptr (GError) local_error = NULL;
      if (!check_option_value (key, v, &local_error))
        {
          mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s: upload option %s: %s", name_for_errors,
                     key, local_error->message);
          return NULL;
        }
      /* deprecated forms */
      const char *option_name = key;
      gboolean flag = FALSE;
      if (strcmp (key, "ignore-lintian") == 0 && parse_bool (v, &flag))
        {
          option_name = "lintian-mode";
          g_free (v);
          v = g_strdup (flag ? "ignore" : "errfail");
        }
      else if (strcmp (key, "run-lintian") == 0 && parse_bool (v, &flag))
        {
          option_name = "lintian-mode";
          g_free (v);
          v = g_strdup (flag ? "errfail" : "disabled");
        }
      g_autofree char *full = arch != NULL && arch[0] != '\0'
                                  ? g_strdup_printf ("%s[%s]", option_name, arch)
                                  : g_strdup (option_name);
      if (g_hash_table_contains (options, full))
        {
          mbd_throw (error, MBD_ERROR_DUPLICATE_FIELD,
                     "%s: upload option %s is given twice in the changelog", name_for_errors, full);
          return NULL;
        }
      g_hash_table_insert (options, g_steal_pointer (&full), g_steal_pointer (&v));
    }
  return g_steal_pointer (&options);
}

/* The option for @arch: key[arch], then key. */
static const char *
lookup_option (GHashTable *options, const char *key, const char *arch)
{
  g_autofree char *full = g_strdup_printf ("%s[%s]", key, arch);
  const char *value = g_hash_table_lookup (options, full);

  return value != NULL ? value : g_hash_table_lookup (options, key);
}

/* Whether the source version is in a non-rollback distribution of the repository already, or
 * the target distribution has this or a newer version. */
/* Two uploads of one version into one distribution at a time would both build, and the second
 * could only fail when it is installed: it is rejected at once instead. */
static gboolean
check_not_in_progress (MbdPackager *self,
                       Upload *upload,
                       const char *name,
                       const char *distribution,
                       GError **error)
{
  MbdDb *db = packager_db (self);
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db,
                               "SELECT key FROM packages WHERE source = ?1 AND version = ?2 AND"
                               " distribution = ?3 AND state IN (?4, ?5) ORDER BY id LIMIT 1",
                               error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, mbd_changes_get_source (upload->changes), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, mbd_changes_get_version (upload->changes), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, distribution, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 4, MBD_PACKAGE_STATE_BUILDING);
  sqlite3_bind_int (stmt, 5, MBD_PACKAGE_STATE_INSTALLING);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return mbd_throw (error, MBD_ERROR_REJECTED,
                      "%s: %s %s is being built for %s already (upload %s); wait for its result, "
                      "or upload a higher version",
                      name, mbd_changes_get_source (upload->changes),
                      mbd_changes_get_version (upload->changes), distribution,
                      (const char *) sqlite3_column_text (stmt, 0));
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read packages", error);
  return TRUE;
}

static gboolean
check_version_is_new (MbdPackager *self,
                      Upload *upload,
                      const char *name,
                      const char *distribution,
                      GError **error)
{
  MbdDb *db = packager_db (self);
  const char *source = mbd_changes_get_source (upload->changes);
  const char *version = mbd_changes_get_version (upload->changes);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT suite_path, version FROM package_entries WHERE repository_id ="
      " (SELECT id FROM repositories WHERE identity = ?1) AND source = ?2 ORDER BY suite_path",
      error);
  if (stmt == NULL)
    return FALSE;
  g_auto (GStrv) dists = mbd_repository_list_distribution_strings (upload->repo, FALSE);
  sqlite3_bind_text (stmt, 1, mbd_repository_get_identity (upload->repo), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, source, -1, SQLITE_TRANSIENT);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *path = (const char *) sqlite3_column_text (stmt, 0);
      const char *have = (const char *) sqlite3_column_text (stmt, 1);
      if (strcmp (path, distribution) == 0 && mbd_deb_version_compare_strings (have, version) >= 0)
        return mbd_throw (error, MBD_ERROR_REJECTED,
                          "%s: version %s of %s is not newer than %s, which %s has; upload a "
                          "higher version",
                          name, version, source, have, distribution);
      if (g_strv_contains ((const char *const *) dists, path) && strcmp (have, version) == 0)
        return mbd_throw (error, MBD_ERROR_REJECTED,
                          "%s: %s %s is in %s already; every upload needs a new version", name,
                          source, version, path);
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read package entries", error);
  return check_not_in_progress (self, upload, name, distribution, error);
}

static gboolean
check_upload (MbdPackager *self, Package *package, Upload *upload, GError **error)
{
  g_autofree char *dir = package_dir (self, package);
  g_autofree char *path = g_build_filename (dir, package->changes, NULL);

  upload->changes = mbd_changes_new_from_file (path, error);
  if (upload->changes == NULL)
    return FALSE;
  MbdParagraph *paragraph = mbd_changes_get_paragraph (upload->changes);
  const char *const mandatory[]
      = { "Distribution", "Source", "Version", "Architecture", "Changed-By" };
  for (guint i = 0; i < G_N_ELEMENTS (mandatory); i++)
    if (mbd_paragraph_get (paragraph, mandatory[i]) == NULL)
      return mbd_throw (
          error, MBD_ERROR_MISSING_FIELD, "%s: the field %s is missing%s", package->changes,
          mandatory[i],
          strcmp (mandatory[i], "Changed-By") == 0 ? " (changelog entry not finalised?)" : "");
  package->source = g_strdup (mbd_changes_get_source (upload->changes));
  package->version = g_strdup (mbd_changes_get_version (upload->changes));
  package->distribution = g_strdup (mbd_changes_get_distribution (upload->changes));

  upload->options = parse_options (upload->changes, package->changes, error);
  if (upload->options == NULL)
    return FALSE;

  g_autofree char *resolved
      = mbd_instance_resolve_distribution (self->instance, package->distribution, error);
  if (resolved == NULL)
    return mbd_prefix_error (error, "%s: ", package->changes);
  g_free (package->distribution);
  package->distribution = g_steal_pointer (&resolved);
  upload->repo = mbd_instance_lookup_repository_for_distribution (self->instance,
                                                                  package->distribution, error);
  if (upload->repo == NULL)
    return mbd_prefix_error (error, "%s: ", package->changes);
  int rollback = -1;
  upload->dist = mbd_repository_lookup_distribution_string (upload->repo, package->distribution,
                                                            &upload->suite, &rollback, error);
  if (upload->dist == NULL)
    return mbd_prefix_error (error, "%s: ", package->changes);
  if (rollback >= 0)
    return mbd_throw (error, MBD_ERROR_REJECTED,
                      "%s: %s is a rollback distribution: nothing can be uploaded to it",
                      package->changes, package->distribution);
  if (!mbd_suite_get_uploadable (upload->suite))
    return mbd_throw (error, MBD_ERROR_REJECTED,
                      "%s: %s is not uploadable: packages reach suite %s by migration only",
                      package->changes, package->distribution, mbd_suite_get_name (upload->suite));

  if (!mbd_repository_get_allow_unauthenticated_uploads (upload->repo))
    {
      g_autoptr (GBytes) text = NULL;
      if (!check_signature (self, upload->repo, path, &text, error))
        return mbd_prefix_error (error, "%s: ", package->changes);
      /* from here on only what the signature covers counts */
      g_autoptr (MbdChanges) verified = mbd_changes_new_from_bytes (text, path, error);
      if (verified == NULL)
        return FALSE;
      const char *fields[] = { "Source", "Version", "Distribution", "Files", "Checksums-Sha256" };
      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        if (g_strcmp0 (mbd_paragraph_get (mbd_changes_get_paragraph (verified), fields[i]),
                       mbd_paragraph_get (paragraph, fields[i]))
            != 0)
          return mbd_throw (error, MBD_ERROR_BAD_SIGNATURE,
                            "%s: the field %s differs between the signed text and the file",
                            package->changes, fields[i]);
      g_object_unref (upload->changes);
      upload->changes = g_steal_pointer (&verified);
    }

  g_autoptr (GPtrArray) files = mbd_changes_get_files (upload->changes);
  for (guint i = 0; i < files->len; i++)
    if (!mbd_filename_is_safe (mbd_file_entry_get_name (g_ptr_array_index (files, i)), error))
      return mbd_prefix_error (error, "%s: ", package->changes);
  if (!mbd_changes_verify_files (upload->changes, dir, NULL, error))
    return FALSE;
  const MbdFileEntry *dsc = mbd_changes_get_dsc_file (upload->changes);
  if (dsc == NULL)
    return mbd_throw (error, MBD_ERROR_REJECTED,
                      "%s: the upload has no .dsc (binary-only upload?): upload the source "
                      "(dpkg-buildpackage -S), mbd builds the binaries",
                      package->changes);
  upload->dsc_path = g_build_filename (dir, mbd_file_entry_get_name (dsc), NULL);

  MbdLayout *layout = mbd_repository_get_layout (upload->repo);
  if (!mbd_layout_check_version (layout, upload->suite, mbd_repository_get_identity (upload->repo),
                                 mbd_distribution_get_codeversion (upload->dist), package->version,
                                 error))
    return mbd_prefix_error (error, "%s: ", package->changes);
  return check_version_is_new (self, upload, package->changes, package->distribution, error);
}

static void
reject (MbdPackager *self, Package *package, MbdChanges *changes, const char *reason)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdEvent) event = package_event (self, package, MBD_EVENT_REJECTED, changes, NULL);

  mbd_event_set_reason (event, 400, "The upload was rejected", reason);
  package->state = MBD_PACKAGE_STATE_REJECTED;
  if (!commit_with_event (self, package, reason, event, &error))
    {
      g_warning ("package %s: %s", package->key, error->message);
      return;
    }
  g_autofree char *dir = package_dir (self, package);
  mbd_remove_tree (dir);
}

/* ---- build requests ------------------------------------------------------------------------ */

/* Whether a .dsc Architecture value (any, linux-any, amd64, any-amd64, ...) builds on @arch. */
static gboolean
dsc_arch_matches (const char *wanted, const char *arch)
{
  if (strcmp (wanted, "any") == 0 || strcmp (wanted, arch) == 0)
    return TRUE;
  if (strcmp (wanted, "linux-any") == 0)
    return TRUE;
  if (g_str_has_prefix (wanted, "any-") && strcmp (wanted + 4, arch) == 0)
    return TRUE;
  if (g_str_has_prefix (wanted, "linux-") && strcmp (wanted + 6, arch) == 0)
    return TRUE;
  return FALSE;
}

static gboolean
set_check_mode (MbdBuildRequest *request,
                GHashTable *options,
                const char *key,
                const char *arch,
                void (*setter) (MbdBuildRequest *, MbdCheckMode),
                GError **error)
{
  const char *value = lookup_option (options, key, arch);
  MbdCheckMode mode;

  if (value == NULL)
    return TRUE;
  if (!mbd_check_mode_from_string (value, &mode, error))
    return FALSE;
  setter (request, mode);
  return TRUE;
}

static char *
internal_key_file (MbdPackager *self, GError **error)
{
  g_autofree char *path = g_build_filename (mbd_instance_get_home (self->instance), "gnupg",
                                            "instance-key.asc", NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&path);
  g_autofree char *armored
      = mbd_gnupg_export_public_key (mbd_instance_get_gnupg (self->instance),
                                     mbd_instance_get_fingerprint (self->instance), NULL, error);
  if (armored == NULL || !g_file_set_contents (path, armored, -1, error))
    return NULL;
  return g_steal_pointer (&path);
}

/* The repository's own suites a build of @upload sees: its suite and the suites it migrates
 * to; for an experimental suite, every suite that is not experimental. */
static gboolean
add_internal_sources (MbdPackager *self, Upload *upload, MbdBuildRequest *request, GError **error)
{
  MbdLayout *layout = mbd_repository_get_layout (upload->repo);
  g_autoptr (GPtrArray) suites = mbd_layout_get_suites (layout);
  g_autoptr (GPtrArray) wanted = g_ptr_array_new ();

  if (mbd_suite_get_experimental (upload->suite))
    {
      g_ptr_array_add (wanted, upload->suite);
      for (guint i = 0; i < suites->len; i++)
        if (!mbd_suite_get_experimental (suites->pdata[i]))
          g_ptr_array_add (wanted, suites->pdata[i]);
    }
  else
    for (MbdSuite *s = upload->suite; s != NULL && wanted->len < suites->len;)
      {
        g_ptr_array_add (wanted, s);
        const char *next = mbd_suite_get_migrates_to (s);
        s = next != NULL ? mbd_layout_lookup_suite (layout, next) : NULL;
      }
  for (guint i = 0; i < wanted->len; i++)
    {
      g_auto (GStrv) lines = mbd_instance_sources_list (
          self->instance, mbd_repository_get_identity (upload->repo),
          mbd_distribution_get_codename (upload->dist), mbd_suite_get_name (wanted->pdata[i]), NULL,
          FALSE, NULL, self->internal_url, error);
      if (lines == NULL)
        return FALSE;
      for (guint l = 0; lines[l] != NULL; l++)
        mbd_build_request_add_internal_source (request, lines[l]);
    }
  g_autofree char *key = internal_key_file (self, error);
  if (key == NULL)
    return FALSE;
  mbd_build_request_set_internal_key_file (request, key);
  return TRUE;
}

/* Makes the build request of one architecture with the distribution's settings and the upload
 * options. */
static MbdBuildRequest *
make_request (MbdPackager *self,
              Package *package,
              Upload *upload,
              const char *arch,
              gboolean arch_all,
              GError **error)
{
  g_autoptr (MbdBuildRequest) request = mbd_build_request_new_from_dsc (
      upload->dsc_path, mbd_distribution_get_codename (upload->dist), arch, error);
  if (request == NULL)
    return NULL;
  mbd_build_request_set_distribution (request, package->distribution);
  mbd_build_request_set_arch_all (request, arch_all);
  if (mbd_suite_get_experimental (upload->suite))
    mbd_build_request_set_lintian_mode (request, MBD_CHECK_MODE_IGNORE);
  GHashTable *options = upload->options;
  if (!set_check_mode (request, options, "lintian-mode", arch, mbd_build_request_set_lintian_mode,
                       error)
      || !set_check_mode (request, options, "autopkgtest-mode", arch,
                          mbd_build_request_set_autopkgtest_mode, error)
      || !set_check_mode (request, options, "piuparts-mode", arch,
                          mbd_build_request_set_piuparts_mode, error))
    return NULL;
  const char *value = lookup_option (options, "deb-build-options", arch);
  if (value != NULL)
    mbd_build_request_set_deb_build_options (request, value);
  value = lookup_option (options, "deb-build-profiles", arch);
  if (value != NULL)
    mbd_build_request_set_deb_build_profiles (request, value);
  value = lookup_option (options, "add-depends", arch);
  if (value != NULL)
    {
      g_auto (GStrv) depends = g_strsplit (value, ",", -1);
      mbd_build_request_set_add_depends (request, (const char *const *) depends);
    }
  value = lookup_option (options, "internal-apt-priority", arch);
  if (value != NULL)
    mbd_build_request_set_internal_priority (request, (int) g_ascii_strtoll (value, NULL, 10));
  if (self->internal_url != NULL && !add_internal_sources (self, upload, request, error))
    return NULL;
  return g_steal_pointer (&request);
}

/* The architectures to build: those of the distribution the source builds on, and the arch-all
 * architecture when it has Architecture: all packages. Each value says whether arch-all. */
static GPtrArray *
wanted_architectures (Upload *upload, GHashTable *arch_all_of)
{
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_file (upload->dsc_path, NULL);
  g_auto (GStrv) dsc_arches = dsc != NULL ? mbd_dsc_get_architectures (dsc) : NULL;
  const char *const *arches = mbd_distribution_get_architectures (upload->dist);
  const char *all_arch = mbd_distribution_get_arch_all_architecture (upload->dist);
  gboolean has_all
      = dsc_arches != NULL && g_strv_contains ((const char *const *) dsc_arches, "all");
  GPtrArray *wanted = g_ptr_array_new ();

  for (guint i = 0; arches[i] != NULL; i++)
    {
      gboolean matches = FALSE;
      for (guint d = 0; dsc_arches != NULL && dsc_arches[d] != NULL; d++)
        matches = matches || dsc_arch_matches (dsc_arches[d], arches[i]);
      gboolean all_here = has_all && g_strcmp0 (all_arch, arches[i]) == 0;
      if (matches || all_here)
        {
          g_ptr_array_add (wanted, (gpointer) arches[i]);
          g_hash_table_insert (arch_all_of, (gpointer) arches[i], GINT_TO_POINTER (all_here));
        }
    }
  return wanted;
}

static void fail (MbdPackager *self, Package *package, const char *reason, JsonObject *tails);

/* Submits the builds and records them with the PACKAGING event in one transaction. */
static void
request_builds (MbdPackager *self, Package *package, Upload *upload)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) arch_all_of = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) arches = wanted_architectures (upload, arch_all_of);

  if (arches->len == 0)
    {
      g_autofree char *reason
          = g_strdup_printf ("%s: the source builds on none of the architectures of %s",
                             package->changes, package->distribution);
      reject (self, package, upload->changes, reason);
      return;
    }
  g_autoptr (GPtrArray) requests = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < arches->len; i++)
    {
      const char *arch = arches->pdata[i];
      MbdBuildRequest *request
          = make_request (self, package, upload, arch,
                          GPOINTER_TO_INT (g_hash_table_lookup (arch_all_of, arch)), &error);
      if (request == NULL)
        {
          g_autofree char *reason = g_strdup_printf ("%s: %s", package->changes, error->message);
          reject (self, package, upload->changes, reason);
          return;
        }
      g_ptr_array_add (requests, request);
    }

  MbdDb *db = packager_db (self);
  MbdBuilder *builder = mbd_instance_get_builder (self->instance);
  MbdEvents *events = mbd_instance_get_events (self->instance);
  g_autoptr (MbdEvent) event
             = package_event (self, package, MBD_EVENT_PACKAGING, upload->changes, NULL);
  JsonObject *requested = json_object_new ();
  json_object_set_object_member (mbd_event_get_extra_object (event), "buildrequests", requested);
  if (!mbd_db_begin (db, &error))
    {
      g_warning ("package %s: %s", package->key, error->message);
      return;
    }
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < requests->len; i++)
    {
      MbdBuildRequest *request = requests->pdata[i];
      ok = mbd_builder_submit (builder, request, &error);
      if (!ok)
        break;
      const char *arch = mbd_build_request_get_architecture (request);
      JsonObject *build = json_object_new ();
      json_object_set_string_member (build, "key", mbd_build_request_get_key (request));
      json_object_set_string_member (build, "state", "queued");
      json_object_set_boolean_member (
          build, "optional", mbd_distribution_is_optional_architecture (upload->dist, arch));
      json_object_set_object_member (package->builds, arch, build);
      json_object_set_string_member (requested, arch, mbd_build_request_get_key (request));
    }
  package->state = MBD_PACKAGE_STATE_BUILDING;
  if (ok)
    ok = update_package (self, package, NULL, &error)
         && mbd_events_store (events, event, package->key, &error) && mbd_db_commit (db, &error);
  if (!ok)
    {
      mbd_db_rollback (db);
      g_autofree char *reason = g_strdup_printf ("%s: requesting the builds failed: %s",
                                                 package->changes, error->message);
      package->state = MBD_PACKAGE_STATE_CHECKING;
      fail (self, package, reason, NULL);
      return;
    }
  mbd_events_publish (events, event);
}

/* A package's checks or installation while a worker thread does the slow part (signature,
 * checksums; copying and publishing). It keeps the instance and the packager alive. */
typedef struct
{
  MbdPackager *self;     /* (owned) */
  MbdInstance *instance; /* (owned) */
  Package *package;      /* (owned) */
  Upload upload;         /* the checks' findings */
  MbdRepository *repo;   /* (owned) (nullable): where it is installed */
  MbdEvent *event;       /* (owned) (nullable): INSTALLED, while the auto-ports run */
  gboolean ok;
  GError *error;
} PackageJob;

static PackageJob *
package_job_new (MbdPackager *self, Package *package)
{
  PackageJob *job = g_new0 (PackageJob, 1);
  job->self = g_object_ref (self);
  job->instance = g_object_ref (self->instance);
  job->package = package;
  return job;
}

static void
package_job_free (PackageJob *job)
{
  upload_clear (&job->upload);
  g_clear_object (&job->repo);
  g_clear_object (&job->event);
  g_clear_error (&job->error);
  package_free (job->package);
  g_object_unref (job->self);
  g_object_unref (job->instance);
  g_free (job);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PackageJob, package_job_free)

static void
check_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  PackageJob *job = task_data;

  job->ok = check_upload (job->self, job->package, &job->upload, &job->error);
  g_task_return_boolean (task, TRUE);
}

static void
checked (GObject *object, GAsyncResult *result, gpointer user_data)
{
  MbdPackager *self = MBD_PACKAGER (object);
  PackageJob *job = g_task_get_task_data (G_TASK (result));

  g_clear_pointer (&self->checking, g_free);
  /* stopped meanwhile: nothing was recorded, the next start checks it again */
  if (!self->started)
    return;
  if (!job->ok)
    reject (self, job->package, job->upload.changes, job->error->message);
  else
    request_builds (self, job->package, &job->upload);
  schedule_tick (self);
}

/* Checks the upload in a worker thread (signature, checksums of its files, the distribution's
 * rules), then requests its builds or rejects it here. */
static void
process_checking (MbdPackager *self, Package *package)
{
  g_autoptr (GError) error = NULL;

  if (self->checking != NULL)
    return;
  Package *own = load_package (self, package->key, &error);
  if (own == NULL)
    {
      g_warning ("package %s: %s", package->key, error->message);
      return;
    }
  self->checking = g_strdup (package->key);
  g_autoptr (GTask) task = g_task_new (self, NULL, checked, NULL);
  g_task_set_task_data (task, package_job_new (self, own), (GDestroyNotify) package_job_free);
  g_task_run_in_thread (task, check_thread);
}

/* ---- results and installation -------------------------------------------------------------- */

static void
fail (MbdPackager *self, Package *package, const char *reason, JsonObject *tails)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdEvent) event = package_event (self, package, MBD_EVENT_FAILED, NULL, NULL);

  mbd_event_set_reason (event, 500, "The package failed", reason);
  if (tails != NULL)
    json_object_set_object_member (mbd_event_get_extra_object (event), "buildlog_tails",
                                   json_object_ref (tails));
  package->state = MBD_PACKAGE_STATE_FAILED;
  if (!commit_with_event (self, package, reason, event, &error))
    g_warning ("package %s: %s", package->key, error->message);
}

/* Whether the distribution holds the package's source at its version (installed already). */
static gboolean
is_installed (MbdPackager *self, Package *package, gboolean *out, GError **error)
{
  MbdDb *db = packager_db (self);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT count(*) FROM package_entries WHERE suite_path = ?1 AND source = ?2 AND"
      " version = ?3 AND dsc_file_id IS NOT NULL",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, package->distribution, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, package->source, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, package->version, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return mbd_db_throw (db, rc, "cannot read package entries", error);
  *out = sqlite3_column_int (stmt, 0) > 0;
  return TRUE;
}

/* The upload file that brings the source: the .changes if it lists no binaries (its sections
 * give the component), else the .dsc alone (binaries come from the builds only). */
static char *
source_file (MbdPackager *self, Package *package, GError **error)
{
  g_autofree char *dir = package_dir (self, package);
  g_autofree char *path = g_build_filename (dir, package->changes, NULL);
  g_autoptr (MbdChanges) changes = mbd_changes_new_from_file (path, error);
  if (changes == NULL)
    return NULL;
  g_autoptr (GPtrArray) files = mbd_changes_get_files (changes);
  for (guint i = 0; i < files->len; i++)
    {
      const char *name = mbd_file_entry_get_name (g_ptr_array_index (files, i));
      if (g_str_has_suffix (name, ".deb") || g_str_has_suffix (name, ".udeb"))
        {
          const MbdFileEntry *dsc = mbd_changes_get_dsc_file (changes);
          return g_build_filename (dir, mbd_file_entry_get_name (dsc), NULL);
        }
    }
  return g_steal_pointer (&path);
}

/* The targets of the upload's auto-ports option, or NULL. */
static char *
auto_port_targets (MbdPackager *self, Package *package)
{
  g_autofree char *dir = package_dir (self, package);
  g_autofree char *path = g_build_filename (dir, package->changes, NULL);
  g_autoptr (MbdChanges) changes = mbd_changes_new_from_file (path, NULL);
  g_autoptr (GHashTable) options
             = changes != NULL ? parse_options (changes, package->changes, NULL) : NULL;
  return options != NULL ? g_strdup (g_hash_table_lookup (options, "auto-ports")) : NULL;
}

/* Records INSTALLED with the build results (and the auto-ports' outcomes in @event) and frees
 * the installation slot. */
static void
record_installed (MbdPackager *self, PackageJob *job)
{
  g_autoptr (GError) error = NULL;
  Package *package = job->package;
  JsonObject *results = json_object_new ();
  json_object_set_object_member (mbd_event_get_extra_object (job->event), "buildresults", results);
  JsonObjectIter iter;
  const char *arch;
  JsonNode *node;
  json_object_iter_init (&iter, package->builds);
  while (json_object_iter_next (&iter, &arch, &node))
    json_object_set_string_member (
        results, arch, json_object_get_string_member (json_node_get_object (node), "key"));
  package->state = MBD_PACKAGE_STATE_INSTALLED;
  if (!commit_with_event (self, package, NULL, job->event, &error))
    g_warning ("package %s: %s", package->key, error->message);
  g_clear_pointer (&self->installing, g_free);
  schedule_tick (self);
}

static void
auto_ported (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PackageJob) job = user_data;

  /* {distribution: [ok, key or reason]}, as mini-buildd */
  json_object_set_object_member (mbd_event_get_extra_object (job->event), "auto_ports",
                                 mbd_port_run_auto_ports_finish (MBD_PACKAGER (object), result));
  record_installed (job->self, job);
}

/* The package is in its distribution: its auto-ports (if the upload asks for any) are made,
 * then INSTALLED is recorded. */
static void
finish_installing (MbdPackager *self, PackageJob *job)
{
  job->event = package_event (self, job->package, MBD_EVENT_INSTALLED, NULL, NULL);
  g_autofree char *targets = auto_port_targets (self, job->package);
  if (targets == NULL)
    {
      record_installed (self, job);
      package_job_free (job);
      return;
    }
  mbd_port_run_auto_ports_async (self, job->package->source, job->package->distribution, targets,
                                 auto_ported, job);
}

static void
included (GObject *object, GAsyncResult *result, gpointer user_data)
{
  PackageJob *job = user_data;
  MbdPackager *self = job->self;
  g_autoptr (GError) error = NULL;

  if (!mbd_repository_include_finish (MBD_REPOSITORY (object), result, &error))
    {
      g_autofree char *reason = g_strdup_printf ("installing into %s failed: %s",
                                                 job->package->distribution, error->message);
      g_clear_pointer (&self->installing, g_free);
      if (self->started)
        fail (self, job->package, reason, NULL);
      schedule_tick (self);
      package_job_free (job);
      return;
    }
  mbd_debug_kill_point ("included");
  finish_installing (self, job);
}

/* Installs the source and the built binaries into the distribution (copying and publishing run
 * in a worker thread), then records INSTALLED. One package at a time; after a crash in between,
 * the package is found in its distribution and only recorded. */
static void
process_installing (MbdPackager *self, Package *package)
{
  g_autoptr (GError) error = NULL;
  gboolean installed = FALSE;

  if (self->installing != NULL)
    return;
  if (!is_installed (self, package, &installed, &error))
    {
      g_warning ("package %s: %s", package->key, error->message);
      return;
    }
  Package *own = load_package (self, package->key, &error);
  if (own == NULL)
    {
      g_warning ("package %s: %s", package->key, error->message);
      return;
    }
  g_autoptr (PackageJob) job = package_job_new (self, own);
  self->installing = g_strdup (package->key);
  if (installed)
    {
      finish_installing (self, g_steal_pointer (&job));
      return;
    }

  job->repo = mbd_instance_lookup_repository_for_distribution (self->instance,
                                                               package->distribution, &error);
  g_autofree char *source = job->repo != NULL ? source_file (self, package, &error) : NULL;
  if (source == NULL)
    {
      g_clear_pointer (&self->installing, g_free);
      fail (self, package, error->message, NULL);
      return;
    }
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (files, g_steal_pointer (&source));
  MbdBuilder *builder = mbd_instance_get_builder (self->instance);
  JsonObjectIter iter;
  const char *arch;
  JsonNode *node;
  json_object_iter_init (&iter, package->builds);
  while (json_object_iter_next (&iter, &arch, &node))
    {
      const char *key = json_object_get_string_member (json_node_get_object (node), "key");
      g_autoptr (MbdBuildRequest) request = mbd_builder_lookup (builder, key, &error);
      if (request == NULL)
        {
          g_clear_pointer (&self->installing, g_free);
          fail (self, package, error->message, NULL);
          return;
        }
      const char *changes = mbd_build_request_get_changes_path (request);
      if (mbd_build_request_get_state (request) == MBD_BUILD_STATE_BUILT && changes != NULL)
        g_ptr_array_add (files, g_strdup (changes));
    }
  g_ptr_array_add (files, NULL);
  MbdRepository *repo = job->repo;
  mbd_repository_include_async (repo, package->distribution, (const char *const *) files->pdata,
                                NULL, included, g_steal_pointer (&job));
}

static MbdEvent *
build_event (MbdPackager *self,
             Package *package,
             MbdEventType type,
             const char *arch,
             MbdBuildRequest *request)
{
  MbdEvent *event = package_event (self, package, type, NULL, arch);

  mbd_event_set_extra (event, "buildlog", mbd_build_request_get_log_path (request));
  mbd_event_set_extra (event, "build_key", mbd_build_request_get_key (request));
  if (type == MBD_EVENT_BUILT)
    {
      mbd_event_set_extra (event, "sbuild_status",
                           mbd_build_request_get_summary (request, "Status"));
      mbd_event_set_extra (event, "build_state",
                           mbd_build_state_to_string (mbd_build_request_get_state (request)));
      if (mbd_build_request_get_failure (request) != NULL)
        mbd_event_set_extra (event, "build_failure", mbd_build_request_get_failure (request));
    }
  return event;
}

/* Follows the builds: BUILDING and BUILT events as they change (each recorded with the seen
 * state, so it is announced once); once all ended, installs or fails. */
static void
process_building (MbdPackager *self, Package *package)
{
  g_autoptr (GError) error = NULL;
  MbdBuilder *builder = mbd_instance_get_builder (self->instance);
  g_autoptr (GPtrArray) new_events = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean all_done = TRUE;
  GString *failures = g_string_new (NULL);
  g_autoptr (JsonObject) tails = json_object_new ();
  gboolean any_built = FALSE;

  JsonObjectIter iter;
  const char *arch;
  JsonNode *node;
  json_object_iter_init (&iter, package->builds);
  while (json_object_iter_next (&iter, &arch, &node))
    {
      JsonObject *build = json_node_get_object (node);
      const char *key = json_object_get_string_member (build, "key");
      const char *seen = json_object_get_string_member_with_default (build, "state", "queued");
      g_autoptr (MbdBuildRequest) request = mbd_builder_lookup (builder, key, &error);
      if (request == NULL)
        {
          g_warning ("package %s: %s", package->key, error->message);
          g_string_free (failures, TRUE);
          return;
        }
      MbdBuildState state = mbd_build_request_get_state (request);
      const char *name = mbd_build_state_to_string (state);
      gboolean final = mbd_build_state_is_final (state);
      /* a build taken up again after a restart goes back to queued: it was announced */
      gboolean announced = json_object_get_boolean_member_with_default (
          build, "announced", strcmp (seen, "queued") != 0);
      if (strcmp (seen, name) != 0)
        {
          if (!announced && (state == MBD_BUILD_STATE_BUILDING || final))
            {
              g_ptr_array_add (new_events,
                               build_event (self, package, MBD_EVENT_BUILDING, arch, request));
              announced = TRUE;
            }
          json_object_set_boolean_member (build, "announced", announced);
          if (final)
            g_ptr_array_add (new_events,
                             build_event (self, package, MBD_EVENT_BUILT, arch, request));
          json_object_set_string_member (build, "state", name);
        }
      if (!final)
        {
          all_done = FALSE;
          continue;
        }
      if (state == MBD_BUILD_STATE_BUILT)
        {
          any_built = TRUE;
          continue;
        }
      gboolean optional = json_object_get_boolean_member_with_default (build, "optional", FALSE);
      if (optional)
        continue;
      const char *failure = mbd_build_request_get_failure (request);
      g_string_append_printf (failures, "%sthe build for %s %s: %s (log: %s)",
                              failures->len > 0 ? "; " : "", arch, name,
                              failure != NULL ? failure : "no reason recorded",
                              mbd_build_request_get_log_path (request));
      const char *tail = mbd_build_request_get_log_tail (request);
      if (tail != NULL)
        json_object_set_string_member (tails, arch, tail);
    }
  g_autofree char *failed = g_string_free (failures, failures->len == 0);

  if (all_done && failed == NULL && !any_built)
    failed = g_strdup ("no architecture was built");
  if (all_done && failed == NULL)
    package->state = MBD_PACKAGE_STATE_INSTALLING;
  if (all_done && failed != NULL)
    {
      g_autoptr (MbdEvent) event = package_event (self, package, MBD_EVENT_FAILED, NULL, NULL);
      mbd_event_set_reason (event, 500, "The package failed", failed);
      json_object_set_object_member (mbd_event_get_extra_object (event), "buildlog_tails",
                                     json_object_ref (tails));
      g_ptr_array_add (new_events, g_steal_pointer (&event));
      package->state = MBD_PACKAGE_STATE_FAILED;
    }
  if (new_events->len == 0 && !all_done)
    return;

  MbdDb *db = packager_db (self);
  MbdEvents *events = mbd_instance_get_events (self->instance);
  if (!mbd_db_begin (db, &error))
    {
      g_warning ("package %s: %s", package->key, error->message);
      return;
    }
  gboolean ok = update_package (self, package, failed, &error);
  for (guint i = 0; ok && i < new_events->len; i++)
    ok = mbd_events_store (events, new_events->pdata[i], package->key, &error);
  if (!ok || !mbd_db_commit (db, &error))
    {
      mbd_db_rollback (db);
      g_warning ("package %s: %s", package->key, error->message);
      return;
    }
  for (guint i = 0; i < new_events->len; i++)
    mbd_events_publish (events, new_events->pdata[i]);
  if (package->state == MBD_PACKAGE_STATE_INSTALLING)
    process_installing (self, package);
}

/* ---- retry and cancel ---------------------------------------------------------------------- */

/**
 * mbd_packager_retry:
 * @self: a packager
 * @key: the key of a failed package
 * @out_key: (out) (optional): the key of the new package
 *
 * Submits a failed package's upload again, as mini-buildd's `retry`: its stored files are copied
 * into a new upload that goes through every check and build again (the failed package stays as
 * it is). Rejected uploads are not kept: upload those again.
 *
 * Errors: %MBD_ERROR_NOT_FOUND for an unknown key, %MBD_ERROR_INVALID_ARGUMENT if the package
 * did not fail, and the errors of [method@Mbd.Packager.submit_full].
 *
 * Returns: %TRUE if the new upload was taken
 */
gboolean
mbd_packager_retry (MbdPackager *self, const char *key, char **out_key, GError **error)
{
  g_return_val_if_fail (MBD_IS_PACKAGER (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  g_autoptr (Package) package = load_package (self, key, error);
  if (package == NULL)
    return FALSE;
  if (package->state != MBD_PACKAGE_STATE_FAILED)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "package %s is %s: only a failed package can be retried%s", key,
                      state_names[package->state],
                      package->state == MBD_PACKAGE_STATE_REJECTED
                          ? " (a rejected upload is not kept: upload it again)"
                          : "");
  g_autofree char *dir = package_dir (self, package);
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return FALSE;
  g_autofree char *staging
      = g_build_filename (mbd_instance_get_home (self->instance), "incoming", "retry-XXXXXX", NULL);
  if (g_mkdtemp (staging) == NULL)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s",
                   staging, g_strerror (saved));
      return FALSE;
    }
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *from = g_build_filename (dir, name, NULL);
      g_autofree char *to = g_build_filename (staging, name, NULL);
      g_autoptr (GFile) source = g_file_new_for_path (from);
      g_autoptr (GFile) dest = g_file_new_for_path (to);
      if (!g_file_copy (source, dest, G_FILE_COPY_NONE, NULL, NULL, NULL, error))
        {
          mbd_remove_tree (staging);
          return FALSE;
        }
    }
  g_autofree char *changes = g_build_filename (staging, package->changes, NULL);
  if (!mbd_packager_submit_full (self, changes, out_key, error))
    {
      mbd_remove_tree (staging);
      return FALSE;
    }
  return TRUE;
}

/**
 * mbd_packager_cancel:
 * @self: a packager
 * @key: the key of a package that is checking or building
 *
 * Cancels a package: a package waiting for its checks ends failed at once; the running and
 * queued builds of a building package are cancelled, and the package then ends failed.
 *
 * Errors: %MBD_ERROR_NOT_FOUND for an unknown key, %MBD_ERROR_INVALID_ARGUMENT for a package
 * that has ended or is being installed.
 *
 * Returns: %TRUE if the package is or will be cancelled
 */
gboolean
mbd_packager_cancel (MbdPackager *self, const char *key, GError **error)
{
  g_return_val_if_fail (MBD_IS_PACKAGER (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  g_autoptr (Package) package = load_package (self, key, error);
  if (package == NULL)
    return FALSE;
  if (mbd_package_state_is_final (package->state) || package->state == MBD_PACKAGE_STATE_INSTALLING)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "package %s is %s: it cannot be cancelled any more", key,
                      state_names[package->state]);
  if (package->state == MBD_PACKAGE_STATE_CHECKING)
    {
      fail (self, package, "cancelled before its checks", NULL);
      return TRUE;
    }
  MbdBuilder *builder = mbd_instance_get_builder (self->instance);
  JsonObjectIter iter;
  const char *arch;
  JsonNode *node;
  json_object_iter_init (&iter, package->builds);
  while (json_object_iter_next (&iter, &arch, &node))
    {
      const char *build_key = json_object_get_string_member (json_node_get_object (node), "key");
      g_autoptr (GError) local_error = NULL;
      if (!mbd_builder_cancel (builder, build_key, &local_error)
          && !g_error_matches (local_error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  schedule_tick (self);
  return TRUE;
}

/* ---- the engine ---------------------------------------------------------------------------- */

static void
migrate_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  mbd_packager_migrate_installed (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
migrated (GObject *object, GAsyncResult *result, gpointer user_data)
{
  MBD_PACKAGER (object)->migrating = FALSE;
}

/* Installed packages marked to migrate (keyring packages) are migrated through their chain in
 * a worker thread (each migration publishes), one run at a time. */
static void
start_migrations (MbdPackager *self)
{
  g_autoptr (GError) error = NULL;

  if (self->migrating)
    return;
  g_autofree char *sql
      = g_strdup_printf ("SELECT 1 FROM packages WHERE migrate = 1 AND state = %d LIMIT 1",
                         MBD_PACKAGE_STATE_INSTALLED);
  g_auto (GStrv) marked = mbd_db_query_strv (packager_db (self), sql, &error);
  if (marked == NULL)
    {
      g_warning ("packager: %s", error->message);
      return;
    }
  if (marked[0] == NULL)
    return;
  self->migrating = TRUE;
  g_autoptr (GTask) task = g_task_new (self, NULL, migrated, NULL);
  g_task_set_task_data (task, g_object_ref (self->instance), g_object_unref);
  g_task_run_in_thread (task, migrate_thread);
}

static gboolean
tick (gpointer user_data)
{
  MbdPackager *self = user_data;
  g_autoptr (GError) error = NULL;

  self->tick_id = 0;
  if (!self->started || self->in_tick || packager_db (self) == NULL)
    return G_SOURCE_REMOVE;
  self->in_tick = TRUE;
  g_autoptr (GPtrArray) packages = load_active (self, &error);
  if (packages == NULL)
    g_warning ("packager: %s", error->message);
  /* The oldest unchecked upload is checked first. While a check runs, builds and
   * installations wait: an upload is checked against the packages as they were when its turn
   * came (a second upload of a version that is being built is refused, even when that build
   * ends meanwhile). */
  for (guint i = 0; packages != NULL && i < packages->len && self->started; i++)
    {
      Package *package = packages->pdata[i];
      if (package->state == MBD_PACKAGE_STATE_CHECKING)
        process_checking (self, package);
    }
  for (guint i = 0;
       packages != NULL && i < packages->len && self->started && self->checking == NULL; i++)
    {
      Package *package = packages->pdata[i];
      if (package->state == MBD_PACKAGE_STATE_BUILDING)
        process_building (self, package);
      else if (package->state == MBD_PACKAGE_STATE_INSTALLING)
        process_installing (self, package);
    }
  if (self->started)
    start_migrations (self);
  self->in_tick = FALSE;
  return G_SOURCE_REMOVE;
}

static void
schedule_tick (MbdPackager *self)
{
  if (!self->started || self->tick_id != 0)
    return;
  GSource *source = g_idle_source_new ();
  g_source_set_callback (source, tick, self, NULL);
  g_source_set_static_name (source, "[mbd] packager");
  self->tick_id = g_source_attach (source, self->context);
  g_source_unref (source);
}

static gboolean
on_timer (gpointer user_data)
{
  schedule_tick (user_data);
  return G_SOURCE_CONTINUE;
}

static void
on_builds_changed (GObject *builder, GParamSpec *pspec, gpointer user_data)
{
  schedule_tick (user_data);
}

/* Directories under packages/ without a row: the process died between moving an upload in and
 * recording it. They are recorded now. Rejected packages whose directory is left are cleaned. */
static gboolean
adopt_directories (MbdPackager *self, GError **error)
{
  g_autofree char *dir = packages_dir (self);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  MbdDb *db = packager_db (self);

  if (d == NULL)
    return TRUE;
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "SELECT state FROM packages WHERE key = ?1", error);
  if (stmt == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
      int rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          if (sqlite3_column_int (stmt, 0) == MBD_PACKAGE_STATE_REJECTED)
            mbd_remove_tree (path);
          continue;
        }
      if (rc != SQLITE_DONE)
        return mbd_db_throw (db, rc, "cannot read a package", error);
      /* the .changes: the one file of that name in the directory */
      g_autoptr (GDir) pd = g_dir_open (path, 0, NULL);
      const char *file;
      g_autofree char *changes = NULL;
      while (pd != NULL && (file = g_dir_read_name (pd)) != NULL)
        if (g_str_has_suffix (file, ".changes") && changes == NULL)
          changes = g_strdup (file);
      if (changes == NULL)
        {
          g_warning ("%s: no .changes in an unrecorded upload: removed", path);
          mbd_remove_tree (path);
          continue;
        }
      if (!insert_package (self, name, changes, error))
        return FALSE;
    }
  return TRUE;
}

/**
 * mbd_packager_start:
 * @self: a packager
 *
 * Starts processing packages: records uploads a crash left unrecorded, then carries every
 * package that is not in a final state on from its stored state. [method@Mbd.Instance.start]
 * calls it after starting the builder.
 *
 * Returns: %TRUE on success
 */
gboolean
mbd_packager_start (MbdPackager *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_PACKAGER (self), FALSE);

  if (self->started)
    return TRUE;
  if (!require_open (self, error))
    return FALSE;
  if (!adopt_directories (self, error))
    return FALSE;
  self->started = TRUE;
  self->builder = g_object_ref (mbd_instance_get_builder (self->instance));
  self->builder_handler
      = g_signal_connect (self->builder, "notify::n-running", G_CALLBACK (on_builds_changed), self);
  GSource *source = g_timeout_source_new_seconds (MBD_PACKAGER_POLL_SECONDS);
  g_source_set_callback (source, on_timer, self, NULL);
  g_source_set_static_name (source, "[mbd] packager poll");
  self->timer_id = g_source_attach (source, self->context);
  g_source_unref (source);
  schedule_tick (self);
  return TRUE;
}

/**
 * mbd_packager_stop:
 * @self: a packager
 *
 * Stops processing packages; their states stay stored for the next start.
 */
void
mbd_packager_stop (MbdPackager *self)
{
  g_return_if_fail (MBD_IS_PACKAGER (self));

  if (!self->started)
    return;
  self->started = FALSE;
  if (self->tick_id != 0)
    g_source_destroy (g_main_context_find_source_by_id (self->context, self->tick_id));
  if (self->timer_id != 0)
    g_source_destroy (g_main_context_find_source_by_id (self->context, self->timer_id));
  self->tick_id = self->timer_id = 0;
  if (self->builder != NULL)
    g_clear_signal_handler (&self->builder_handler, self->builder);
  g_clear_object (&self->builder);
}

/**
 * mbd_packager_is_started:
 * @self: a packager
 *
 * Tells whether the packager processes packages.
 *
 * Returns: %TRUE if started
 */
gboolean
mbd_packager_is_started (MbdPackager *self)
{
  g_return_val_if_fail (MBD_IS_PACKAGER (self), FALSE);
  return self->started;
}
