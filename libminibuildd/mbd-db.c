/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "mbd-db-private.h"
#include "mbd-util-private.h"

struct _MbdDb
{
  sqlite3 *handle;
  char *path;
};

/* Schema migrations, applied in order; migration N (1-based) brings user_version from N-1 to N.
 * Never edit a released migration: append a new one.
 *
 * Object status columns follow mini-buildd: 0 removed, 1 prepared, 2 active. */
static const char *const migrations[] = {
  /* 1: the instance's settings, and the chroots and remotes its status reports. */
  "CREATE TABLE settings ("
  "  key TEXT PRIMARY KEY NOT NULL,"
  "  value TEXT NOT NULL"
  ");"
  "CREATE TABLE chroots ("
  "  id INTEGER PRIMARY KEY,"
  "  codename TEXT NOT NULL,"
  "  architecture TEXT NOT NULL,"
  "  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),"
  "  UNIQUE (codename, architecture)"
  ");"
  "CREATE TABLE remotes ("
  "  id INTEGER PRIMARY KEY,"
  "  url TEXT NOT NULL UNIQUE,"
  "  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2))"
  ");",
  /* 2: upstream sources (MbdSource) and their extra sources with APT pin priorities. Lists
   * are stored as text: mirrors and extra identifiers one a line, components and
   * architectures space separated. */
  "CREATE TABLE sources ("
  "  id INTEGER PRIMARY KEY,"
  "  origin TEXT NOT NULL,"
  "  codename TEXT NOT NULL,"
  "  mirrors TEXT NOT NULL,"
  "  keyring TEXT NOT NULL,"
  "  extra_identifiers TEXT NOT NULL DEFAULT '',"
  "  remove_from_component TEXT NOT NULL DEFAULT '',"
  "  codeversion_override TEXT,"
  "  check_valid_until INTEGER NOT NULL DEFAULT 1,"
  "  timeout INTEGER NOT NULL DEFAULT 30,"
  "  status INTEGER NOT NULL DEFAULT 1 CHECK (status IN (0, 1, 2)),"
  "  codeversion TEXT,"
  "  components TEXT NOT NULL DEFAULT '',"
  "  architectures TEXT NOT NULL DEFAULT '',"
  "  description TEXT,"
  "  mirror TEXT,"
  "  check_time INTEGER,"
  "  check_message TEXT,"
  "  UNIQUE (origin, codename)"
  ");"
  "CREATE TABLE source_extras ("
  "  source_id INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,"
  "  extra_codename TEXT NOT NULL,"
  "  priority INTEGER NOT NULL,"
  "  position INTEGER NOT NULL,"
  "  PRIMARY KEY (source_id, extra_codename)"
  ");",
  /* 3: the block-cached APT indices (mbd-index.c). A block is immutable once written (a change
   * writes a new row), so targets share blocks by copying their block lists, and a checkpoint
   * (the SHA256 states after a block) stays valid while the blocks before it are the same ids.
   * Blob columns come last so that reading the sizes does not touch their overflow pages. */
  "CREATE TABLE index_targets ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  suite TEXT NOT NULL,"
  "  generation INTEGER NOT NULL DEFAULT 1,"
  "  published_generation INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX index_targets_by_suite ON index_targets (suite);"
  "CREATE TABLE index_blocks ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  n_stanzas INTEGER NOT NULL,"
  "  text_size INTEGER NOT NULL,"
  "  gz_crc INTEGER NOT NULL,"
  "  gz_size INTEGER NOT NULL,"
  "  xz_unpadded INTEGER NOT NULL,"
  "  xz_size INTEGER NOT NULL,"
  "  keys BLOB NOT NULL,"
  "  text BLOB NOT NULL,"
  "  gz BLOB NOT NULL,"
  "  xz BLOB NOT NULL"
  ");"
  "CREATE TABLE index_target_blocks ("
  "  target_id INTEGER NOT NULL REFERENCES index_targets (id) ON DELETE CASCADE,"
  "  first_key BLOB NOT NULL,"
  "  block_id INTEGER NOT NULL REFERENCES index_blocks (id),"
  "  PRIMARY KEY (target_id, first_key)"
  ") WITHOUT ROWID;"
  "CREATE INDEX index_target_blocks_by_block ON index_target_blocks (block_id);"
  "CREATE TABLE index_checkpoints ("
  "  target_id INTEGER NOT NULL REFERENCES index_targets (id) ON DELETE CASCADE,"
  "  position INTEGER NOT NULL,"
  "  block_id INTEGER NOT NULL,"
  "  text_state BLOB NOT NULL,"
  "  gz_state BLOB NOT NULL,"
  "  xz_state BLOB NOT NULL,"
  "  PRIMARY KEY (target_id, position)"
  ") WITHOUT ROWID;"
  "CREATE TABLE index_suites ("
  "  suite TEXT PRIMARY KEY NOT NULL,"
  "  dirty INTEGER NOT NULL DEFAULT 1"
  ");"
  "CREATE TABLE index_files ("
  "  suite TEXT NOT NULL,"
  "  path TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  sha256 TEXT NOT NULL,"
  "  PRIMARY KEY (suite, path)"
  ") WITHOUT ROWID;"
  "CREATE TABLE index_byhash ("
  "  suite TEXT NOT NULL,"
  "  path TEXT NOT NULL,"
  "  superseded INTEGER,"
  "  PRIMARY KEY (suite, path)"
  ") WITHOUT ROWID;",
  /* 4: repositories: their distributions, pool files and package entries (one source version in
   * one suite path: a distribution, a rollback or a snapshot), each entry's files and binaries
   * with the index stanzas they publish; and snapshots. */
  "CREATE TABLE repositories ("
  "  id INTEGER PRIMARY KEY,"
  "  identity TEXT NOT NULL UNIQUE,"
  "  layout TEXT NOT NULL,"
  "  allow_unauthenticated_uploads INTEGER NOT NULL DEFAULT 0,"
  "  published INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE TABLE repository_distributions ("
  "  id INTEGER PRIMARY KEY,"
  "  repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,"
  "  position INTEGER NOT NULL,"
  "  codename TEXT NOT NULL,"
  "  codeversion TEXT NOT NULL,"
  "  components TEXT NOT NULL,"
  "  spec TEXT NOT NULL,"
  "  UNIQUE (repository_id, codename)"
  ");"
  "CREATE TABLE pool_files ("
  "  id INTEGER PRIMARY KEY,"
  "  repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,"
  "  path TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  md5 TEXT NOT NULL,"
  "  sha256 TEXT NOT NULL,"
  "  UNIQUE (repository_id, path)"
  ");"
  "CREATE TABLE package_entries ("
  "  id INTEGER PRIMARY KEY,"
  "  repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,"
  "  suite_path TEXT NOT NULL,"
  "  source TEXT NOT NULL,"
  "  version TEXT NOT NULL,"
  "  component TEXT NOT NULL,"
  "  dsc_file_id INTEGER REFERENCES pool_files (id),"
  "  source_stanza TEXT,"
  "  UNIQUE (suite_path, source)"
  ");"
  "CREATE INDEX package_entries_source ON package_entries (source);"
  "CREATE TABLE entry_files ("
  "  entry_id INTEGER NOT NULL REFERENCES package_entries (id) ON DELETE CASCADE,"
  "  file_id INTEGER NOT NULL REFERENCES pool_files (id),"
  "  PRIMARY KEY (entry_id, file_id)"
  ") WITHOUT ROWID;"
  "CREATE INDEX entry_files_file ON entry_files (file_id);"
  "CREATE TABLE entry_binaries ("
  "  id INTEGER PRIMARY KEY,"
  "  entry_id INTEGER NOT NULL REFERENCES package_entries (id) ON DELETE CASCADE,"
  "  package TEXT NOT NULL,"
  "  version TEXT NOT NULL,"
  "  architecture TEXT NOT NULL,"
  "  file_id INTEGER NOT NULL REFERENCES pool_files (id),"
  "  stanza TEXT NOT NULL,"
  "  UNIQUE (entry_id, package, architecture)"
  ");"
  "CREATE INDEX entry_binaries_package ON entry_binaries (package);"
  "CREATE TABLE snapshots ("
  "  id INTEGER PRIMARY KEY,"
  "  repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,"
  "  distribution TEXT NOT NULL,"
  "  name TEXT NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  UNIQUE (distribution, name)"
  ");",
  /* 5: chroots get a failed state (3), their backend, the mirror they were made from and the
   * reason of their last failure. SQLite cannot change a CHECK constraint in place. */
  "CREATE TABLE chroots_v2 ("
  "  id INTEGER PRIMARY KEY,"
  "  codename TEXT NOT NULL,"
  "  architecture TEXT NOT NULL,"
  "  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2, 3)),"
  "  backend TEXT NOT NULL DEFAULT 'unshare' CHECK (backend IN ('unshare', 'schroot')),"
  "  mirror TEXT,"
  "  message TEXT,"
  "  UNIQUE (codename, architecture)"
  ");"
  "INSERT INTO chroots_v2 (id, codename, architecture, status)"
  "  SELECT id, codename, architecture, status FROM chroots;"
  "DROP TABLE chroots;"
  "ALTER TABLE chroots_v2 RENAME TO chroots;",
  /* 6: builds (MbdBuildRequest, MbdBuilder). state: 0 queued, 1 building, 2 built, 3 failed,
   * 4 cancelled. owner: "pid:starttime" of the process responsible for a queued or building
   * row (NULL: nobody, the next builder start adopts it); workdir: sbuild's work directory
   * while building; request/result: JSON. */
  "CREATE TABLE builds ("
  "  id INTEGER PRIMARY KEY,"
  "  key TEXT NOT NULL UNIQUE,"
  "  source TEXT NOT NULL,"
  "  version TEXT NOT NULL,"
  "  distribution TEXT NOT NULL,"
  "  codename TEXT NOT NULL,"
  "  architecture TEXT NOT NULL,"
  "  state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 4),"
  "  request TEXT NOT NULL,"
  "  owner TEXT,"
  "  workdir TEXT,"
  "  cancel_requested INTEGER NOT NULL DEFAULT 0,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL,"
  "  started INTEGER,"
  "  finished INTEGER,"
  "  exit_status INTEGER,"
  "  result TEXT"
  ");"
  "CREATE INDEX builds_state ON builds (state);",
  /* 7: events (MbdEvents): one row per event, its mini-buildd JSON in `json`, the time in
   * microseconds since the epoch (UTC); and packages (MbdPackager): one row per accepted upload,
   * stored under packages/<key>/. state: 0 checking, 1 building, 2 installing, 3 installed,
   * 4 failed, 5 rejected. builds: JSON {arch: {"key": build key, "state": last seen state}}. */
  "CREATE TABLE events ("
  "  id INTEGER PRIMARY KEY,"
  "  type TEXT NOT NULL,"
  "  distribution TEXT,"
  "  source TEXT,"
  "  version TEXT,"
  "  package_key TEXT,"
  "  timestamp INTEGER NOT NULL,"
  "  json TEXT NOT NULL"
  ");"
  "CREATE INDEX events_timestamp ON events (timestamp);"
  "CREATE TABLE packages ("
  "  id INTEGER PRIMARY KEY,"
  "  key TEXT NOT NULL UNIQUE,"
  "  changes TEXT NOT NULL,"
  "  state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 5),"
  "  source TEXT,"
  "  version TEXT,"
  "  distribution TEXT,"
  "  builds TEXT,"
  "  reason TEXT,"
  "  created INTEGER NOT NULL,"
  "  updated INTEGER NOT NULL"
  ");"
  "CREATE INDEX packages_state ON packages (state);",
  /* 8: packages.migrate: 1 = migrate the package through its suite's whole migration chain once
   * it is installed (keyring packages; the packager clears it when done). */
  /* (parenthesised: two concatenated literals would look like a missing comma to clang) */
  ("ALTER TABLE packages ADD COLUMN migrate INTEGER NOT NULL DEFAULT 0;"
   "CREATE INDEX packages_migrate ON packages (migrate) WHERE migrate = 1;"),
  /* 9: the cron jobs (MbdCron): since = when the job was first seen (its first window follows),
   * times in seconds since the epoch (UTC), log = the last lines of its runs, one a line. */
  "CREATE TABLE cron_jobs ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  since INTEGER NOT NULL,"
  "  last_run INTEGER,"
  "  last_success INTEGER,"
  "  last_message TEXT,"
  "  log TEXT NOT NULL DEFAULT ''"
  ");",
  /* 10: users (MbdUsers): a yescrypt password hash ('' = no password login), mini-buildd's
   * is_active/is_staff/is_superuser, the uploader key the user set (armored, with its
   * fingerprint; key_active once staff activated it); login sessions and bearer tokens, both
   * stored as the SHA-256 hex of the secret; mail subscriptions ('' = any). Times in seconds
   * since the epoch. */
  "CREATE TABLE users ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  password TEXT NOT NULL DEFAULT '',"
  "  email TEXT NOT NULL DEFAULT '',"
  "  is_active INTEGER NOT NULL DEFAULT 1,"
  "  is_staff INTEGER NOT NULL DEFAULT 0,"
  "  is_superuser INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL,"
  "  key TEXT,"
  "  key_fingerprint TEXT,"
  "  key_active INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE TABLE user_sessions ("
  "  hash TEXT PRIMARY KEY NOT NULL,"
  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  expires INTEGER NOT NULL"
  ") WITHOUT ROWID;"
  "CREATE INDEX user_sessions_user ON user_sessions (user_id);"
  "CREATE TABLE user_tokens ("
  "  hash TEXT PRIMARY KEY NOT NULL,"
  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  created INTEGER NOT NULL"
  ") WITHOUT ROWID;"
  "CREATE INDEX user_tokens_user ON user_tokens (user_id);"
  "CREATE TABLE subscriptions ("
  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  source TEXT NOT NULL,"
  "  distribution TEXT NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  PRIMARY KEY (user_id, source, distribution)"
  ") WITHOUT ROWID;",
  /* 11: remotes (MbdRemote): the remote's armored key as its pub_key call gave it, with its
   * fingerprint (NULL until prepared), the command that wakes it, and its last check (time in
   * seconds since the epoch, message NULL when it succeeded). */
  ("ALTER TABLE remotes ADD COLUMN key TEXT;"
   "ALTER TABLE remotes ADD COLUMN fingerprint TEXT;"
   "ALTER TABLE remotes ADD COLUMN wake_command TEXT;"
   "ALTER TABLE remotes ADD COLUMN check_time INTEGER;"
   "ALTER TABLE remotes ADD COLUMN check_message TEXT;"),
};

int
mbd_db_latest_schema_version (void)
{
  return G_N_ELEMENTS (migrations);
}

gboolean
mbd_db_throw (MbdDb *db, int rc, const char *what, GError **error)
{
  int primary = rc & 0xff;
  MbdError code = MBD_ERROR_DATABASE;

  if (primary == SQLITE_CONSTRAINT)
    code = MBD_ERROR_EXISTS;
  else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    code = MBD_ERROR_BUSY;
  return mbd_throw (error, code, "%s: %s (%s)", db->path, what, sqlite3_errmsg (db->handle));
}

sqlite3 *
mbd_db_get_handle (MbdDb *db)
{
  return db->handle;
}

gboolean
mbd_db_exec (MbdDb *db, const char *sql, GError **error)
{
  char *message = NULL;
  int rc = sqlite3_exec (db->handle, sql, NULL, NULL, &message);

  if (rc != SQLITE_OK)
    {
      g_autofree char *what = g_strdup_printf ("cannot run '%.60s'", sql);
      sqlite3_free (message);
      return mbd_db_throw (db, rc, what, error);
    }
  return TRUE;
}

sqlite3_stmt *
mbd_db_prepare (MbdDb *db, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db->handle, sql, -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    {
      g_autofree char *what = g_strdup_printf ("cannot prepare '%.60s'", sql);
      mbd_db_throw (db, rc, what, error);
      return NULL;
    }
  return stmt;
}

gboolean
mbd_db_step_done (MbdDb *db, sqlite3_stmt *stmt, GError **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    ;
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "statement failed", error);
  return TRUE;
}

gboolean
mbd_db_begin (MbdDb *db, GError **error)
{
  return mbd_db_exec (db, "BEGIN IMMEDIATE", error);
}

gboolean
mbd_db_commit (MbdDb *db, GError **error)
{
  return mbd_db_exec (db, "COMMIT", error);
}

void
mbd_db_rollback (MbdDb *db)
{
  if (!sqlite3_get_autocommit (db->handle))
    sqlite3_exec (db->handle, "ROLLBACK", NULL, NULL, NULL);
}

static int
read_user_version (MbdDb *db, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db, "PRAGMA user_version", error);

  if (stmt == NULL)
    return -1;
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      mbd_db_throw (db, rc, "cannot read the schema version", error);
      return -1;
    }
  return sqlite3_column_int (stmt, 0);
}

int
mbd_db_get_schema_version (MbdDb *db)
{
  return read_user_version (db, NULL);
}

/* Brings the schema to the newest version. The version is read again inside the write
 * transaction, so two processes migrating at once apply each step exactly once. */
static gboolean
migrate (MbdDb *db, GError **error)
{
  int latest = mbd_db_latest_schema_version ();
  int version = read_user_version (db, error);

  if (version < 0)
    return FALSE;
  if (version > latest)
    return mbd_throw (error, MBD_ERROR_SCHEMA_TOO_NEW,
                      "%s: database schema version %d is newer than the %d this libminibuildd "
                      "knows; use a newer mbd",
                      db->path, version, latest);
  if (version == latest)
    return TRUE;

  if (!mbd_db_begin (db, error))
    return FALSE;
  version = read_user_version (db, error);
  for (int v = version; v >= 0 && v < latest; v++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", v + 1);
      if (!mbd_db_exec (db, migrations[v], error) || !mbd_db_exec (db, bump, error))
        {
          mbd_db_rollback (db);
          return mbd_prefix_error (error, "migrating to schema version %d: ", v + 1);
        }
    }
  if (version < 0)
    {
      mbd_db_rollback (db);
      return FALSE;
    }
  return mbd_db_commit (db, error);
}

MbdDb *
mbd_db_open (const char *path, GError **error)
{
  g_autoptr (MbdDb) db = g_new0 (MbdDb, 1);

  db->path = g_strdup (path);
  int rc = sqlite3_open_v2 (
      path, &db->handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      mbd_db_throw (db, rc, "cannot open the database", error);
      return NULL;
    }
  sqlite3_extended_result_codes (db->handle, 1);
  sqlite3_busy_timeout (db->handle, 30000);

  /* journal_mode answers with a row; WAL persists in the file once set. */
  g_autoptr (sqlite3_stmt) wal = mbd_db_prepare (db, "PRAGMA journal_mode = WAL", error);
  if (wal == NULL)
    return NULL;
  rc = sqlite3_step (wal);
  if (rc != SQLITE_ROW)
    {
      mbd_db_throw (db, rc, "cannot switch to WAL mode", error);
      return NULL;
    }
  if (g_ascii_strcasecmp ((const char *) sqlite3_column_text (wal, 0), "wal") != 0)
    {
      mbd_throw (error, MBD_ERROR_DATABASE, "%s: the file system does not allow WAL mode", path);
      return NULL;
    }
  /* a statement still in progress would keep the migration's COMMIT from succeeding */
  g_clear_pointer (&wal, sqlite3_finalize);
  if (!mbd_db_exec (db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", error))
    return NULL;
  if (!migrate (db, error))
    return NULL;
  return g_steal_pointer (&db);
}

void
mbd_db_close (MbdDb *db)
{
  if (db == NULL)
    return;
  sqlite3_close_v2 (db->handle);
  g_free (db->path);
  g_free (db);
}

gboolean
mbd_db_lookup_setting (MbdDb *db, const char *key, char **out_value, GError **error)
{
  *out_value = NULL;
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "SELECT value FROM settings WHERE key = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *out_value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  else if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read a setting", error);
  return TRUE;
}

gboolean
mbd_db_set_setting (MbdDb *db, const char *key, const char *value, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db,
                               "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                               error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);
  return mbd_db_step_done (db, stmt, error);
}

char **
mbd_db_query_strv (MbdDb *db, const char *sql, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db, sql, error);
  int rc;

  if (stmt == NULL)
    return NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_strv_builder_add (builder, (const char *) sqlite3_column_text (stmt, 0));
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db, rc, "query failed", error);
      return NULL;
    }
  return g_strv_builder_end (builder);
}

/* -- connections a thread ---------------------------------------------------------------- */

struct _MbdDbPool
{
  gatomicrefcount ref; /* the pool's owner, and each thread that has a connection */
  GMutex lock;         /* guards closed and conns */
  gboolean closed;
  GThread *first_thread; /* (unowned): only compared */
  MbdDb *first;          /* (owned) */
  GPtrArray *conns;      /* (element-type MbdDb) (owned): the other threads' connections */
};

static MbdDbPool *
pool_ref (MbdDbPool *pool)
{
  g_atomic_ref_count_inc (&pool->ref);
  return pool;
}

static void
pool_unref (MbdDbPool *pool)
{
  if (!g_atomic_ref_count_dec (&pool->ref))
    return;
  g_mutex_clear (&pool->lock);
  g_ptr_array_unref (pool->conns);
  g_free (pool);
}

/* A thread ends: its connections go. A pool that was closed has closed them already. */
static void
thread_conns_free (gpointer data)
{
  GHashTable *conns = data;
  GHashTableIter iter;
  gpointer pool_ptr, db;

  g_hash_table_iter_init (&iter, conns);
  while (g_hash_table_iter_next (&iter, &pool_ptr, &db))
    {
      MbdDbPool *pool = pool_ptr;
      g_mutex_lock (&pool->lock);
      if (!pool->closed && g_ptr_array_remove_fast (pool->conns, db))
        mbd_db_close (db);
      g_mutex_unlock (&pool->lock);
      pool_unref (pool);
    }
  g_hash_table_unref (conns);
}

/* (element-type MbdDbPool MbdDb): each thread's connections, by pool */
static GPrivate thread_conns = G_PRIVATE_INIT (thread_conns_free);

MbdDbPool *
mbd_db_pool_new (MbdDb *db)
{
  MbdDbPool *pool = g_new0 (MbdDbPool, 1);

  g_atomic_ref_count_init (&pool->ref);
  g_mutex_init (&pool->lock);
  pool->first_thread = g_thread_self ();
  pool->first = db;
  pool->conns = g_ptr_array_new ();
  return pool;
}

MbdDb *
mbd_db_pool_get_first (MbdDbPool *pool)
{
  return pool->first;
}

MbdDb *
mbd_db_pool_get (MbdDbPool *pool, GError **error)
{
  if (g_thread_self () == pool->first_thread)
    return pool->first;

  GHashTable *conns = g_private_get (&thread_conns);
  if (conns == NULL)
    {
      conns = g_hash_table_new (NULL, NULL);
      g_private_set (&thread_conns, conns);
    }
  MbdDb *db = g_hash_table_lookup (conns, pool);
  if (db != NULL)
    return db;

  /* the schema is migrated already: this only opens */
  db = mbd_db_open (pool->first->path, error);
  if (db == NULL)
    return NULL;
  g_mutex_lock (&pool->lock);
  g_ptr_array_add (pool->conns, db);
  g_mutex_unlock (&pool->lock);
  g_hash_table_insert (conns, pool_ref (pool), db);
  return db;
}

guint
mbd_db_pool_count (MbdDbPool *pool)
{
  g_mutex_lock (&pool->lock);
  guint n = pool->conns->len + 1;
  g_mutex_unlock (&pool->lock);
  return n;
}

void
mbd_db_pool_close (MbdDbPool *pool)
{
  if (pool == NULL)
    return;
  g_mutex_lock (&pool->lock);
  pool->closed = TRUE;
  for (guint i = 0; i < pool->conns->len; i++)
    mbd_db_close (g_ptr_array_index (pool->conns, i));
  g_ptr_array_set_size (pool->conns, 0);
  g_clear_pointer (&pool->first, mbd_db_close);
  g_mutex_unlock (&pool->lock);
  pool_unref (pool);
}
