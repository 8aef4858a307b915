/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* The instance database: one sqlite file in WAL mode with a busy timeout, foreign keys on, and the
 * schema version in PRAGMA user_version. Opened with SQLITE_OPEN_FULLMUTEX, so one MbdDb may be
 * used from GTask worker threads. */
typedef struct _MbdDb MbdDb;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* Opens (creating if missing) and migrates the database at @path to the newest schema. */
MbdDb *mbd_db_open (const char *path, GError **error);
void mbd_db_close (MbdDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MbdDb, mbd_db_close)

/* A database's connections, one a thread. A sqlite transaction belongs to its connection, not to
 * the thread that began it, so threads that share one connection step into each other's
 * transactions ("cannot commit - no transaction is active"). The pool hands each thread a
 * connection of its own: the one it was made with to the thread that made it, and a new one,
 * opened on the thread's first call, to any other. A thread's connection is closed when the thread
 * ends, the rest when the pool is closed. */
typedef struct _MbdDbPool MbdDbPool;

/* Takes @db, the connection of the calling thread. */
MbdDbPool *mbd_db_pool_new (MbdDb *db);
/* The calling thread's connection, opened on first use; NULL only if opening fails. */
MbdDb *mbd_db_pool_get (MbdDbPool *pool, GError **error);
/* The connection the pool was made with. */
MbdDb *mbd_db_pool_get_first (MbdDbPool *pool);
/* How many connections are open (for tests). */
guint mbd_db_pool_count (MbdDbPool *pool);
/* Closes every connection; threads still holding one must have stopped using it. */
void mbd_db_pool_close (MbdDbPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MbdDbPool, mbd_db_pool_close)

/* The schema version this library writes, and the one of the open database. */
int mbd_db_latest_schema_version (void);
int mbd_db_get_schema_version (MbdDb *db);

sqlite3 *mbd_db_get_handle (MbdDb *db);
gboolean mbd_db_exec (MbdDb *db, const char *sql, GError **error);
sqlite3_stmt *mbd_db_prepare (MbdDb *db, const char *sql, GError **error);
/* Steps a statement that returns no rows (or whose rows are not wanted) to completion. */
gboolean mbd_db_step_done (MbdDb *db, sqlite3_stmt *stmt, GError **error);
/* Maps the last sqlite failure to MBD_ERROR_EXISTS (constraints) or MBD_ERROR_DATABASE. */
gboolean mbd_db_throw (MbdDb *db, int rc, const char *what, GError **error);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK: every multi-row change goes into one transaction. */
gboolean mbd_db_begin (MbdDb *db, GError **error);
gboolean mbd_db_commit (MbdDb *db, GError **error);
void mbd_db_rollback (MbdDb *db);

/* Settings (key/value rows). */
/* Looks up a setting: FALSE only when the database fails; *out_value is NULL if the key is unset. */
gboolean mbd_db_lookup_setting (MbdDb *db, const char *key, char **out_value, GError **error);
gboolean mbd_db_set_setting (MbdDb *db, const char *key, const char *value, GError **error);

/* Runs a query and collects the first column of each row as text. */
char **mbd_db_query_strv (MbdDb *db, const char *sql, GError **error);

G_END_DECLS
