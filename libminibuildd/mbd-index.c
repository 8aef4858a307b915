/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "mbd-index-private.h"
#include "mbd-util-private.h"

/* Batches and their application to the stored blocks. See mbd-index-private.h for the model. */

static gsize block_target_override;
static gboolean fsync_files;
static MbdIndexStats stats;
G_LOCK_DEFINE_STATIC (stats);

void
mbd_index_get_stats (MbdIndexStats *out)
{
  G_LOCK (stats);
  *out = stats;
  G_UNLOCK (stats);
}

void
mbd_index_reset_stats (void)
{
  G_LOCK (stats);
  memset (&stats, 0, sizeof stats);
  G_UNLOCK (stats);
}

void
mbd_index_note_rendered (guint64 bytes_hashed)
{
  G_LOCK (stats);
  stats.targets_rendered++;
  stats.bytes_hashed += bytes_hashed;
  G_UNLOCK (stats);
}

void
mbd_index_note_blocks_read (guint n)
{
  G_LOCK (stats);
  stats.blocks_read += n;
  G_UNLOCK (stats);
}

void
mbd_index_set_fsync (gboolean enabled)
{
  fsync_files = enabled;
}

gboolean
mbd_index_get_fsync (void)
{
  return fsync_files;
}

void
mbd_index_set_block_target (gsize bytes)
{
  block_target_override = bytes;
}

gsize
mbd_index_get_block_target (void)
{
  return block_target_override != 0 ? block_target_override : MBD_INDEX_BLOCK_TARGET;
}

typedef enum
{
  RESET_NONE,
  RESET_DROP,
  RESET_COPY,
} ResetKind;

typedef struct
{
  char *name;
  ResetKind reset;
  char *copy_from;
  GArray *copy_rows; /* CopyRow: the source's block list, read before the batch changes it */
  GTree *changes;    /* key -> normalized stanza ("...\n\n"), NULL for a delete */
} TargetOps;

typedef struct
{
  GBytes *first_key;
  gint64 block_id;
} CopyRow;

struct _MbdIndexBatch
{
  MbdDb *db;
  GHashTable *targets; /* name -> TargetOps */
  GPtrArray *order;    /* TargetOps in first-mention order, for a deterministic apply */
  char *invalid;       /* the first malformed input, reported by apply */
};

static void
copy_row_clear (gpointer data)
{
  CopyRow *row = data;

  g_bytes_unref (row->first_key);
}

static void
target_ops_free (TargetOps *ops)
{
  g_free (ops->name);
  g_free (ops->copy_from);
  g_clear_pointer (&ops->copy_rows, g_array_unref);
  g_tree_unref (ops->changes);
  g_free (ops);
}

static int
key_compare (gconstpointer a, gconstpointer b, gpointer user_data)
{
  /* strcmp compares as unsigned char: the same order as memcmp */
  return strcmp (a, b);
}

MbdIndexBatch *
mbd_index_batch_new (MbdDb *db)
{
  MbdIndexBatch *batch = g_new0 (MbdIndexBatch, 1);

  batch->db = db;
  batch->targets = g_hash_table_new (g_str_hash, g_str_equal);
  batch->order = g_ptr_array_new_with_free_func ((GDestroyNotify) target_ops_free);
  return batch;
}

void
mbd_index_batch_free (MbdIndexBatch *batch)
{
  if (batch == NULL)
    return;
  g_hash_table_unref (batch->targets);
  g_ptr_array_unref (batch->order);
  g_free (batch->invalid);
  g_free (batch);
}

static void
batch_invalid (MbdIndexBatch *batch, char *message)
{
  if (batch->invalid == NULL)
    batch->invalid = message;
  else
    g_free (message);
}

static TargetOps *
batch_target (MbdIndexBatch *batch, const char *target)
{
  TargetOps *ops = g_hash_table_lookup (batch->targets, target);

  if (ops != NULL)
    return ops;
  ops = g_new0 (TargetOps, 1);
  ops->name = g_strdup (target);
  ops->changes = g_tree_new_full (key_compare, NULL, g_free, g_free);
  g_hash_table_insert (batch->targets, ops->name, ops);
  g_ptr_array_add (batch->order, ops);
  return ops;
}

void
mbd_index_batch_put (MbdIndexBatch *batch, const char *target, const char *key, const char *stanza)
{
  gsize len = strlen (stanza);

  while (len > 0 && stanza[len - 1] == '\n')
    len--;
  if (len == 0 || stanza[0] == '\n' || g_strstr_len (stanza, len, "\n\n") != NULL)
    {
      batch_invalid (batch,
                     g_strdup_printf ("index target '%s', key '%s': the stanza is %s", target, key,
                                      len == 0 ? "empty" : "not one paragraph (blank line)"));
      return;
    }
  char *text = g_malloc (len + 3);
  memcpy (text, stanza, len);
  memcpy (text + len, "\n\n", 3);
  g_tree_replace (batch_target (batch, target)->changes, g_strdup (key), text);
}

void
mbd_index_batch_delete (MbdIndexBatch *batch, const char *target, const char *key)
{
  g_tree_replace (batch_target (batch, target)->changes, g_strdup (key), NULL);
}

void
mbd_index_batch_copy (MbdIndexBatch *batch, const char *from_target, const char *to_target)
{
  TargetOps *ops = batch_target (batch, to_target);

  ops->reset = RESET_COPY;
  g_free (ops->copy_from);
  ops->copy_from = g_strdup (from_target);
}

void
mbd_index_batch_drop (MbdIndexBatch *batch, const char *target)
{
  TargetOps *ops = batch_target (batch, target);

  ops->reset = RESET_DROP;
  g_clear_pointer (&ops->copy_from, g_free);
  g_tree_unref (ops->changes);
  ops->changes = g_tree_new_full (key_compare, NULL, g_free, g_free);
}

/* ---- target names ---- */

/* Splits "<suite>/<component>/binary-<arch>" or "<suite>/<component>/source". */
gboolean
mbd_index_parse_target (const char *target,
                        char **out_suite,
                        char **out_component,
                        char **out_kind,
                        GError **error)
{
  const char *last = strrchr (target, '/');
  const char *comp = NULL;

  if (last != NULL)
    for (comp = last - 1; comp >= target && *comp != '/'; comp--)
      ;
  if (last == NULL || comp < target || comp == target || last - comp < 2
      || (strcmp (last + 1, "source") != 0
          && (!g_str_has_prefix (last + 1, "binary-") || last[8] == '\0'
              || strchr (last + 1, ' ') != NULL))
      || strstr (target, "//") != NULL || target[0] == '/' || strstr (target, "..") != NULL
      || strchr (target, '\n') != NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "index target '%s': not '<suite>/<component>/binary-<arch>' or "
                      "'<suite>/<component>/source'",
                      target);
  if (out_suite != NULL)
    *out_suite = g_strndup (target, comp - target);
  if (out_component != NULL)
    *out_component = g_strndup (comp + 1, last - comp - 1);
  if (out_kind != NULL)
    *out_kind = g_strdup (last + 1);
  return TRUE;
}

/* ---- reading stored blocks ---- */

/* The id of @target, 0 if it is not stored; -1 on failure. */
gint64
mbd_index_lookup_target (MbdDb *db, const char *target, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "SELECT id FROM index_targets WHERE name = ?1", error);

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, target, -1, SQLITE_STATIC);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return sqlite3_column_int64 (stmt, 0);
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db, rc, "cannot look up an index target", error);
      return -1;
    }
  return 0;
}

gint64
mbd_index_ensure_target (MbdDb *db, const char *target, GError **error)
{
  g_autofree char *suite = NULL;
  gint64 id = mbd_index_lookup_target (db, target, error);

  if (id != 0)
    return id;
  if (!mbd_index_parse_target (target, &suite, NULL, NULL, error))
    return -1;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "INSERT INTO index_targets (name, suite) VALUES (?1, ?2)", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, target, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, suite, -1, SQLITE_STATIC);
  if (!mbd_db_step_done (db, stmt, error))
    return -1;
  return sqlite3_last_insert_rowid (mbd_db_get_handle (db));
}

gboolean
mbd_index_mark_suite (MbdDb *db, const char *suite, gboolean dirty, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db,
                               "INSERT INTO index_suites (suite, dirty) VALUES (?1, ?2) "
                               "ON CONFLICT (suite) DO UPDATE SET dirty = excluded.dirty",
                               error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, suite, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, dirty ? 1 : 0);
  return mbd_db_step_done (db, stmt, error);
}

static gboolean
mark_changed (MbdDb *db, gint64 target_id, const char *target, GError **error)
{
  g_autofree char *suite = NULL;

  if (!mbd_index_parse_target (target, &suite, NULL, NULL, error))
    return FALSE;
  g_autoptr (sqlite3_stmt) bump = mbd_db_prepare (
      db, "UPDATE index_targets SET generation = generation + 1 WHERE id = ?1", error);
  if (bump == NULL)
    return FALSE;
  sqlite3_bind_int64 (bump, 1, target_id);
  if (!mbd_db_step_done (db, bump, error))
    return FALSE;
  return mbd_index_mark_suite (db, suite, TRUE, error);
}

/* One block of a target's list. */
typedef struct
{
  GBytes *first_key;
  gint64 block_id;
  gsize text_size;
} BlockRef;

static void
block_ref_clear (gpointer data)
{
  BlockRef *ref = data;

  g_bytes_unref (ref->first_key);
}

static GBytes *
column_bytes (sqlite3_stmt *stmt, int col)
{
  return g_bytes_new (sqlite3_column_blob (stmt, col), sqlite3_column_bytes (stmt, col));
}

static GArray *
load_block_list (MbdDb *db, gint64 target_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT m.first_key, m.block_id, b.text_size FROM index_target_blocks m "
      "JOIN index_blocks b ON b.id = m.block_id WHERE m.target_id = ?1 ORDER BY m.first_key",
      error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, target_id);
  g_autoptr (GArray) list = g_array_new (FALSE, TRUE, sizeof (BlockRef));
  g_array_set_clear_func (list, block_ref_clear);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      BlockRef ref = { column_bytes (stmt, 0), sqlite3_column_int64 (stmt, 1),
                       sqlite3_column_int64 (stmt, 2) };
      g_array_append_val (list, ref);
    }
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db, rc, "cannot read an index target's blocks", error);
      return NULL;
    }
  return g_steal_pointer (&list);
}

/* A stanza inside a loaded block or a batch: pointers stay valid while the owners live. */
typedef struct
{
  const char *key;
  gsize key_len;
  const char *text; /* ends with "\n\n" */
  gsize len;
} Entry;

/* Appends the stanzas of block @block_id to @entries; the block's bytes go to @keep. */
static gboolean
load_block_entries (MbdDb *db, gint64 block_id, GArray *entries, GPtrArray *keep, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "SELECT keys, text FROM index_blocks WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, block_id);
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return mbd_db_throw (db, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, "cannot read an index block",
                         error);
  GBytes *keys = column_bytes (stmt, 0);
  GBytes *text = column_bytes (stmt, 1);
  g_ptr_array_add (keep, keys);
  g_ptr_array_add (keep, text);

  gsize keys_len, text_len;
  const char *k = g_bytes_get_data (keys, &keys_len);
  const char *t = g_bytes_get_data (text, &text_len);
  const char *k_end = k + keys_len, *t_end = t + text_len;
  while (k < k_end && t < t_end)
    {
      const char *nul = memchr (k, '\0', k_end - k);
      const char *sep = g_strstr_len (t, t_end - t, "\n\n");
      if (nul == NULL || sep == NULL)
        break;
      Entry e = { k, nul - k, t, sep + 2 - t };
      g_array_append_val (entries, e);
      k = nul + 1;
      t = sep + 2;
    }
  if (k != k_end || t != t_end)
    return mbd_throw (
        error, MBD_ERROR_DATABASE,
        "index block %" G_GINT64_FORMAT " is corrupt: its keys and stanzas do not match", block_id);
  return TRUE;
}

static char **
get_entries (MbdDb *db, const char *target, gboolean keys, GError **error)
{
  gint64 id = mbd_index_lookup_target (db, target, error);

  if (id < 0)
    return NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  if (id > 0)
    {
      g_autoptr (GArray) list = load_block_list (db, id, error);
      if (list == NULL)
        return NULL;
      for (guint i = 0; i < list->len; i++)
        {
          g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (Entry));
          g_autoptr (GPtrArray) keep
                     = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
          if (!load_block_entries (db, g_array_index (list, BlockRef, i).block_id, entries, keep,
                                   error))
            return NULL;
          for (guint j = 0; j < entries->len; j++)
            {
              Entry *e = &g_array_index (entries, Entry, j);
              /* a stanza comes back with its lines terminated, without the blank line */
              g_autofree char *item
                  = keys ? g_strndup (e->key, e->key_len) : g_strndup (e->text, e->len - 1);
              g_strv_builder_add (builder, item);
            }
        }
    }
  return g_strv_builder_end (builder);
}

char **
mbd_index_get_stanzas (MbdDb *db, const char *target, GError **error)
{
  return get_entries (db, target, FALSE, error);
}

char **
mbd_index_get_keys (MbdDb *db, const char *target, GError **error)
{
  return get_entries (db, target, TRUE, error);
}

/* ---- writing blocks ---- */

typedef struct
{
  GByteArray *keys;
  GByteArray *text;
  guint n_stanzas;
  char *first_key;
  MbdIndexCoded coded;
} Chunk;

static void
chunk_free (Chunk *chunk)
{
  g_byte_array_unref (chunk->keys);
  g_byte_array_unref (chunk->text);
  g_free (chunk->first_key);
  mbd_index_coded_clear (&chunk->coded);
  g_free (chunk);
}

static gboolean
encode_one (guint index, gpointer user_data, GError **error)
{
  Chunk *chunk = g_ptr_array_index ((GPtrArray *) user_data, index);
  return mbd_index_encode_block (chunk->text->data, chunk->text->len, &chunk->coded, error);
}

/* Compresses @chunks on all cores. */
static gboolean
encode_chunks (GPtrArray *chunks, GError **error)
{
  gboolean ok = mbd_parallel_for (chunks->len, encode_one, chunks, error);

  G_LOCK (stats);
  stats.blocks_compressed += chunks->len;
  G_UNLOCK (stats);
  return ok;
}

static gboolean
store_chunks (MbdDb *db, gint64 target_id, GPtrArray *chunks, GError **error)
{
  g_autoptr (sqlite3_stmt) block = mbd_db_prepare (
      db,
      "INSERT INTO index_blocks (n_stanzas, text_size, gz_crc, gz_size, xz_unpadded, xz_size, "
      "keys, text, gz, xz) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
      error);
  g_autoptr (sqlite3_stmt) map = mbd_db_prepare (
      db, "INSERT INTO index_target_blocks (target_id, first_key, block_id) VALUES (?1, ?2, ?3)",
      error);

  if (block == NULL || map == NULL)
    return FALSE;
  if (!encode_chunks (chunks, error))
    return FALSE;
  for (guint i = 0; i < chunks->len; i++)
    {
      Chunk *c = g_ptr_array_index (chunks, i);
      gsize gz_len, xz_len;
      const void *gz = g_bytes_get_data (c->coded.gz, &gz_len);
      const void *xz = g_bytes_get_data (c->coded.xz, &xz_len);

      sqlite3_reset (block);
      sqlite3_bind_int64 (block, 1, c->n_stanzas);
      sqlite3_bind_int64 (block, 2, c->text->len);
      sqlite3_bind_int64 (block, 3, c->coded.crc);
      sqlite3_bind_int64 (block, 4, gz_len);
      sqlite3_bind_int64 (block, 5, c->coded.xz_unpadded);
      sqlite3_bind_int64 (block, 6, xz_len);
      sqlite3_bind_blob (block, 7, c->keys->data, c->keys->len, SQLITE_STATIC);
      sqlite3_bind_blob (block, 8, c->text->data, c->text->len, SQLITE_STATIC);
      sqlite3_bind_blob (block, 9, gz, gz_len, SQLITE_STATIC);
      sqlite3_bind_blob (block, 10, xz, xz_len, SQLITE_STATIC);
      if (!mbd_db_step_done (db, block, error))
        return FALSE;
      sqlite3_reset (map);
      sqlite3_bind_int64 (map, 1, target_id);
      sqlite3_bind_blob (map, 2, c->first_key, strlen (c->first_key), SQLITE_STATIC);
      sqlite3_bind_int64 (map, 3, sqlite3_last_insert_rowid (mbd_db_get_handle (db)));
      if (!mbd_db_step_done (db, map, error))
        return FALSE;
    }
  return TRUE;
}

static Chunk *
chunk_new (void)
{
  Chunk *chunk = g_new0 (Chunk, 1);

  chunk->keys = g_byte_array_new ();
  chunk->text = g_byte_array_new ();
  return chunk;
}

static void
chunk_add (Chunk *chunk, const Entry *e)
{
  if (chunk->n_stanzas++ == 0)
    chunk->first_key = g_strndup (e->key, e->key_len);
  g_byte_array_append (chunk->keys, (const guint8 *) e->key, e->key_len);
  g_byte_array_append (chunk->keys, (const guint8 *) "", 1);
  g_byte_array_append (chunk->text, (const guint8 *) e->text, e->len);
}

/* Cuts @entries into blocks and stores them, @batch_size blocks at a time to bound memory. A
 * run of at most twice the target size stays one block; a longer one is cut greedily at the
 * target size, and a short tail joins the block before it. */
static gboolean
store_entries (MbdDb *db, gint64 target_id, GArray *entries, GError **error)
{
  gsize target = mbd_index_get_block_target ();
  gsize total = 0;
  const guint batch_size = 64;

  for (guint i = 0; i < entries->len; i++)
    total += g_array_index (entries, Entry, i).len;

  g_autoptr (GPtrArray) chunks = g_ptr_array_new_with_free_func ((GDestroyNotify) chunk_free);
  gsize rest = total;
  Chunk *cur = NULL;
  for (guint i = 0; i < entries->len; i++)
    {
      const Entry *e = &g_array_index (entries, Entry, i);
      if (cur == NULL)
        {
          cur = chunk_new ();
          g_ptr_array_add (chunks, cur);
        }
      chunk_add (cur, e);
      rest -= e->len;
      /* close the block at the target size unless what remains would make a runt */
      if (cur->text->len >= target && total > 2 * target && rest >= target / 2)
        {
          cur = NULL;
          if (chunks->len >= batch_size)
            {
              if (!store_chunks (db, target_id, chunks, error))
                return FALSE;
              g_ptr_array_set_size (chunks, 0);
            }
        }
    }
  return store_chunks (db, target_id, chunks, error);
}

/* Deletes block @block_id unless another target still lists it. */
static gboolean
collect_block (MbdDb *db, gint64 block_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db,
                               "DELETE FROM index_blocks WHERE id = ?1 AND NOT EXISTS "
                               "(SELECT 1 FROM index_target_blocks WHERE block_id = ?1)",
                               error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, block_id);
  return mbd_db_step_done (db, stmt, error);
}

/* Removes a block from a target's list; the block itself goes to @garbage, collected at the end
 * of the batch (a copy of this batch may still list it). */
static gboolean
unmap_block (MbdDb *db, gint64 target_id, const BlockRef *ref, GArray *garbage, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "DELETE FROM index_target_blocks WHERE target_id = ?1 AND first_key = ?2", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, target_id);
  gsize len;
  const void *key = g_bytes_get_data (ref->first_key, &len);
  sqlite3_bind_blob (stmt, 2, key, len, SQLITE_STATIC);
  g_array_append_val (garbage, ref->block_id);
  return mbd_db_step_done (db, stmt, error);
}

static int
ref_key_compare (const BlockRef *ref, const char *key)
{
  gsize len;
  const char *first = g_bytes_get_data (ref->first_key, &len);
  gsize klen = strlen (key);
  int c = memcmp (first, key, MIN (len, klen));

  return c != 0 ? c : (len < klen ? -1 : len > klen ? 1 : 0);
}

/* Index of the block @key belongs to: the last one whose first key is <= @key, or 0. */
static guint
find_block (GArray *list, const char *key)
{
  guint lo = 0, hi = list->len;

  while (hi - lo > 1)
    {
      guint mid = (lo + hi) / 2;
      if (ref_key_compare (&g_array_index (list, BlockRef, mid), key) <= 0)
        lo = mid;
      else
        hi = mid;
    }
  return lo;
}

typedef struct
{
  const char *key;
  const char *stanza; /* NULL: delete */
} Change;

static gboolean
collect_change (gpointer key, gpointer value, gpointer data)
{
  Change c = { key, value };

  g_array_append_val ((GArray *) data, c);
  return FALSE;
}

/* Merges the sorted @changes into the sorted @old entries. */
static GArray *
merge_entries (GArray *old, const Change *changes, guint n_changes)
{
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (Entry), old->len + n_changes);
  guint i = 0, j = 0;

  while (i < old->len || j < n_changes)
    {
      const Entry *e = i < old->len ? &g_array_index (old, Entry, i) : NULL;
      const Change *c = j < n_changes ? &changes[j] : NULL;
      int cmp;
      if (e == NULL)
        cmp = 1;
      else if (c == NULL)
        cmp = -1;
      else
        {
          gsize clen = strlen (c->key);
          cmp = memcmp (e->key, c->key, MIN (e->key_len, clen));
          if (cmp == 0)
            cmp = e->key_len < clen ? -1 : e->key_len > clen ? 1 : 0;
        }
      if (cmp < 0)
        {
          g_array_append_val (out, *e);
          i++;
          continue;
        }
      if (cmp == 0)
        i++;
      if (c->stanza != NULL)
        {
          Entry n = { c->key, strlen (c->key), c->stanza, strlen (c->stanza) };
          g_array_append_val (out, n);
        }
      j++;
    }
  return out;
}

/* Applies the puts and deletes of @ops to the target's blocks: only the blocks the changed keys
 * fall into are rewritten (with a neighbour when they would shrink below half the target). */
static gboolean
apply_changes (MbdDb *db, gint64 target_id, TargetOps *ops, GArray *garbage, GError **error)
{
  g_autoptr (GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr (GArray) list = load_block_list (db, target_id, error);
  gsize target = mbd_index_get_block_target ();

  if (list == NULL)
    return FALSE;
  g_tree_foreach (ops->changes, collect_change, changes);
  if (changes->len == 0)
    return TRUE;

  /* which block each change falls into; changes are sorted, so these are ascending */
  g_autofree guint *home = g_new (guint, changes->len);
  for (guint j = 0; j < changes->len; j++)
    home[j] = list->len == 0 ? 0 : find_block (list, g_array_index (changes, Change, j).key);

  guint j = 0;
  guint last_end = 0; /* one past the last block rewritten so far */
  while (j < changes->len)
    {
      guint a = home[j], b = a, j_end = j;
      /* a region: consecutive blocks that hold changes */
      while (j_end < changes->len && home[j_end] <= b + 1)
        {
          b = MAX (b, home[j_end]);
          j_end++;
        }
      /* block a-1 may have been taken in by the region before */
      gboolean consumed_prev = a > 0 && a - 1 < last_end;
      g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      g_autoptr (GArray) old = g_array_new (FALSE, FALSE, sizeof (Entry));
      for (guint k = a; k <= b && k < list->len; k++)
        if (!load_block_entries (db, g_array_index (list, BlockRef, k).block_id, old, keep, error))
          return FALSE;
      g_autoptr (GArray) merged
                 = merge_entries (old, &g_array_index (changes, Change, j), j_end - j);
      gsize size = 0;
      for (guint k = 0; k < merged->len; k++)
        size += g_array_index (merged, Entry, k).len;

      /* too small: take in the next block (if no change touches it) or else the previous one */
      if (size < target / 2 && list->len > 0)
        {
          gboolean next_free = b + 1 < list->len && (j_end == changes->len || home[j_end] > b + 1);
          if (next_free)
            {
              b++;
              g_autoptr (GArray) more = g_array_new (FALSE, FALSE, sizeof (Entry));
              if (!load_block_entries (db, g_array_index (list, BlockRef, b).block_id, more, keep,
                                       error))
                return FALSE;
              g_array_append_vals (merged, more->data, more->len);
            }
          else if (a > 0 && !consumed_prev)
            {
              a--;
              g_autoptr (GArray) more = g_array_new (FALSE, FALSE, sizeof (Entry));
              if (!load_block_entries (db, g_array_index (list, BlockRef, a).block_id, more, keep,
                                       error))
                return FALSE;
              g_array_prepend_vals (merged, more->data, more->len);
            }
        }
      for (guint k = a; k <= b && k < list->len; k++)
        if (!unmap_block (db, target_id, &g_array_index (list, BlockRef, k), garbage, error))
          return FALSE;
      if (!store_entries (db, target_id, merged, error))
        return FALSE;
      last_end = b + 1;
      j = j_end;
    }
  return TRUE;
}

static gboolean
read_copy_rows (MbdDb *db, TargetOps *ops, GError **error)
{
  gint64 from = mbd_index_lookup_target (db, ops->copy_from, error);

  if (from < 0)
    return FALSE;
  if (!mbd_index_parse_target (ops->copy_from, NULL, NULL, NULL, error))
    return FALSE;
  ops->copy_rows = g_array_new (FALSE, FALSE, sizeof (CopyRow));
  g_array_set_clear_func (ops->copy_rows, copy_row_clear);
  if (from == 0)
    return TRUE;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT first_key, block_id FROM index_target_blocks WHERE target_id = ?1", error);
  int rc;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, from);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CopyRow row = { column_bytes (stmt, 0), sqlite3_column_int64 (stmt, 1) };
      g_array_append_val (ops->copy_rows, row);
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read an index target's blocks", error);
  return TRUE;
}

/* Empties target @target_id (its blocks are collected when no other target lists them). */
static gboolean
clear_target (MbdDb *db, gint64 target_id, GArray *garbage, GError **error)
{
  g_autoptr (GArray) list = load_block_list (db, target_id, error);

  if (list == NULL)
    return FALSE;
  for (guint i = 0; i < list->len; i++)
    if (!unmap_block (db, target_id, &g_array_index (list, BlockRef, i), garbage, error))
      return FALSE;
  return TRUE;
}

static gboolean
insert_copy_rows (MbdDb *db, gint64 target_id, GArray *rows, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "INSERT INTO index_target_blocks (target_id, first_key, block_id) VALUES (?1, ?2, ?3)",
      error);

  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      CopyRow *row = &g_array_index (rows, CopyRow, i);
      gsize len;
      const void *key = g_bytes_get_data (row->first_key, &len);
      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, target_id);
      sqlite3_bind_blob (stmt, 2, key, len, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, row->block_id);
      if (!mbd_db_step_done (db, stmt, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
forget_target (MbdDb *db, gint64 target_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "DELETE FROM index_targets WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, target_id);
  return mbd_db_step_done (db, stmt, error);
}

static gboolean
apply_one (MbdDb *db, TargetOps *ops, GArray *garbage, GError **error)
{
  gboolean has_changes = g_tree_nnodes (ops->changes) > 0;

  if (ops->reset == RESET_DROP && !has_changes)
    {
      gint64 id = mbd_index_lookup_target (db, ops->name, error);
      if (id < 0)
        return FALSE;
      if (id == 0)
        return TRUE;
      /* the suite needs republishing: the dropped index becomes empty there */
      return mark_changed (db, id, ops->name, error) && clear_target (db, id, garbage, error)
             && forget_target (db, id, error);
    }
  gint64 id = mbd_index_ensure_target (db, ops->name, error);
  if (id < 0)
    return FALSE;
  if (ops->reset != RESET_NONE)
    {
      if (!clear_target (db, id, garbage, error))
        return FALSE;
      if (ops->reset == RESET_COPY && !insert_copy_rows (db, id, ops->copy_rows, error))
        return FALSE;
    }
  if (!apply_changes (db, id, ops, garbage, error))
    return FALSE;
  return mark_changed (db, id, ops->name, error);
}

gboolean
mbd_index_batch_apply (MbdIndexBatch *batch, GError **error)
{
  if (sqlite3_get_autocommit (mbd_db_get_handle (batch->db)))
    return mbd_throw (error, MBD_ERROR_FAILED,
                      "index batch: must be applied inside a transaction (mbd_db_begin)");
  if (batch->invalid != NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s", batch->invalid);
  for (guint i = 0; i < batch->order->len; i++)
    {
      TargetOps *ops = g_ptr_array_index (batch->order, i);
      if (!mbd_index_parse_target (ops->name, NULL, NULL, NULL, error))
        return FALSE;
    }
  /* every copy reads its source as it was before this batch */
  for (guint i = 0; i < batch->order->len; i++)
    {
      TargetOps *ops = g_ptr_array_index (batch->order, i);
      if (ops->reset == RESET_COPY && !read_copy_rows (batch->db, ops, error))
        return FALSE;
    }
  g_autoptr (GArray) garbage = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 start = g_get_monotonic_time ();
  guint compressed_before = stats.blocks_compressed;
  for (guint i = 0; i < batch->order->len; i++)
    if (!apply_one (batch->db, g_ptr_array_index (batch->order, i), garbage, error))
      return mbd_prefix_error (
          error, "index target '%s': ", ((TargetOps *) g_ptr_array_index (batch->order, i))->name);
  for (guint i = 0; i < garbage->len; i++)
    if (!collect_block (batch->db, g_array_index (garbage, gint64, i), error))
      return FALSE;
  g_debug ("applied an index batch of %u targets: %u blocks compressed, %.1f ms", batch->order->len,
           stats.blocks_compressed - compressed_before, (g_get_monotonic_time () - start) / 1e3);
  return TRUE;
}

gboolean
mbd_index_forget_suite_targets (MbdDb *db, const char *suite, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "SELECT id FROM index_targets WHERE suite = ?1", error);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) garbage = g_array_new (FALSE, FALSE, sizeof (gint64));
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, suite, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot list a suite's index targets", error);
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      if (!clear_target (db, id, garbage, error) || !forget_target (db, id, error))
        return FALSE;
    }
  for (guint i = 0; i < garbage->len; i++)
    if (!collect_block (db, g_array_index (garbage, gint64, i), error))
      return FALSE;
  return TRUE;
}
