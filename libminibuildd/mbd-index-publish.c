/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <lzma.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mbd-gnupg-private.h"
#include "mbd-hash-private.h"
#include "mbd-index-private.h"
#include "mbd-util-private.h"

/* Publishing a suite: render the changed targets from their cached blocks, then sign and rename
 * the Release files into place. Order on disk, so that a kill at any point leaves a tree apt
 * accepts: (1) each index file is written to a temporary name and renamed to
 * by-hash/SHA256/<hex>, then hard-linked to a temporary name renamed over its plain name (apt
 * fetches by hash, so the old InRelease stays valid meanwhile); (2) Release, Release.gpg,
 * InRelease renamed last; (3) only then are by-hash files that no Release names any more marked
 * superseded, and deleted once the grace period has passed. The database records what was
 * published in the same savepoint, so after a crash the next publish renders again. */

enum
{
  FILE_TEXT,
  FILE_GZ,
  FILE_XZ,
  N_FILES
};

static const char *const suffixes[N_FILES] = { "", ".gz", ".xz" };

/* One index of the suite being published. */
typedef struct
{
  char *target;   /* "<suite>/main/binary-amd64" */
  char *rel_dir;  /* "main/binary-amd64" */
  char *basename; /* "Packages" or "Sources" */
  gint64 id;
  gboolean render;
  guint64 size[N_FILES];
  char hex[N_FILES][MBD_SHA256_HEX_LEN + 1];
} PubTarget;

static void
pub_target_free (PubTarget *t)
{
  g_free (t->target);
  g_free (t->rel_dir);
  g_free (t->basename);
  g_free (t);
}

static char *
file_rel_path (const PubTarget *t, int f)
{
  return g_strdup_printf ("%s/%s%s", t->rel_dir, t->basename, suffixes[f]);
}

static char *
byhash_rel_path (const PubTarget *t, int f)
{
  return g_strdup_printf ("%s/by-hash/SHA256/%s", t->rel_dir, t->hex[f]);
}

static gboolean
throw_errno (GError **error, int saved, const char *what, const char *path)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s '%s': %s", what, path,
               g_strerror (saved));
  return FALSE;
}

/* Writes all of @iov (which it modifies) to @fd. */
static gboolean
write_all (int fd, struct iovec *iov, int n, const char *path, GError **error)
{
  while (n > 0)
    {
      ssize_t done = writev (fd, iov, MIN (n, IOV_MAX));
      if (done < 0 && errno == EINTR)
        continue;
      if (done < 0)
        return throw_errno (error, errno, "cannot write", path);
      while (n > 0 && (size_t) done >= iov->iov_len)
        {
          done -= iov->iov_len;
          iov++;
          n--;
        }
      if (n > 0)
        {
          iov->iov_base = (char *) iov->iov_base + done;
          iov->iov_len -= done;
        }
    }
  return TRUE;
}

typedef struct
{
  gint64 id;
  guint64 size[N_FILES]; /* of the text, the deflate chunk, the xz block */
  guint64 xz_unpadded;
  guint32 gz_crc;
} BlockMeta;

static gboolean
load_metas (MbdDb *db, gint64 target_id, GArray *metas, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT b.id, b.text_size, b.gz_size, b.xz_size, b.xz_unpadded, b.gz_crc "
      "FROM index_target_blocks m JOIN index_blocks b ON b.id = m.block_id "
      "WHERE m.target_id = ?1 ORDER BY m.first_key",
      error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, target_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      BlockMeta m = { sqlite3_column_int64 (stmt, 0),
                      { sqlite3_column_int64 (stmt, 1), sqlite3_column_int64 (stmt, 2),
                        sqlite3_column_int64 (stmt, 3) },
                      sqlite3_column_int64 (stmt, 4),
                      (guint32) sqlite3_column_int64 (stmt, 5) };
      g_array_append_val (metas, m);
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read an index target's blocks", error);
  return TRUE;
}

/* What the last completed publish of a target was made of: its block ids in order, and the
 * SHA256 states after each of the leading blocks whose state could be restored. */
typedef struct
{
  GArray *ids;    /* gint64 */
  GArray *states; /* MbdSha256, N_FILES per block */
} Previous;

static void
previous_clear (Previous *prev)
{
  g_clear_pointer (&prev->ids, g_array_unref);
  g_clear_pointer (&prev->states, g_array_unref);
}

static gboolean
load_previous (MbdDb *db, gint64 target_id, Previous *prev, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT position, block_id, text_state, gz_state, xz_state FROM index_checkpoints "
      "WHERE target_id = ?1 ORDER BY position",
      error);
  gboolean states_ok = TRUE;
  int rc;

  prev->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  prev->states = g_array_new (FALSE, FALSE, sizeof (MbdSha256));
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, target_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (sqlite3_column_int64 (stmt, 0) != prev->ids->len)
        {
          /* not the complete list of a publish: nothing to reuse */
          g_array_set_size (prev->ids, 0);
          g_array_set_size (prev->states, 0);
          return TRUE;
        }
      gint64 id = sqlite3_column_int64 (stmt, 1);
      g_array_append_val (prev->ids, id);
      MbdSha256 sha[N_FILES];
      for (int f = 0; f < N_FILES && states_ok; f++)
        states_ok = mbd_sha256_restore (&sha[f], sqlite3_column_blob (stmt, 2 + f),
                                        sqlite3_column_bytes (stmt, 2 + f));
      if (states_ok)
        g_array_append_vals (prev->states, sha, N_FILES);
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read an index target's hash states", error);
  return TRUE;
}

static gboolean
save_checkpoints (MbdDb *db,
                  gint64 target_id,
                  guint from,
                  GArray *states,
                  GArray *metas,
                  GError **error)
{
  g_autoptr (sqlite3_stmt) del = mbd_db_prepare (
      db, "DELETE FROM index_checkpoints WHERE target_id = ?1 AND position >= ?2", error);
  g_autoptr (sqlite3_stmt) ins = mbd_db_prepare (
      db,
      "INSERT INTO index_checkpoints (target_id, position, block_id, text_state, gz_state, "
      "xz_state) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      error);

  if (del == NULL || ins == NULL)
    return FALSE;
  sqlite3_bind_int64 (del, 1, target_id);
  sqlite3_bind_int64 (del, 2, from);
  if (!mbd_db_step_done (db, del, error))
    return FALSE;
  g_assert (states->len % N_FILES == 0 && from + states->len / N_FILES == metas->len);
  for (guint i = 0; i < states->len / N_FILES; i++)
    {
      MbdSha256 *sha = &g_array_index (states, MbdSha256, i * N_FILES);
      sqlite3_reset (ins);
      sqlite3_bind_int64 (ins, 1, target_id);
      sqlite3_bind_int64 (ins, 2, from + i);
      sqlite3_bind_int64 (ins, 3, g_array_index (metas, BlockMeta, from + i).id);
      for (int f = 0; f < N_FILES; f++)
        {
          g_autoptr (GBytes) saved = mbd_sha256_save (&sha[f]);
          sqlite3_bind_blob (ins, 4 + f, g_bytes_get_data (saved, NULL), g_bytes_get_size (saved),
                             SQLITE_TRANSIENT);
        }
      if (!mbd_db_step_done (db, ins, error))
        return FALSE;
    }
  return TRUE;
}

/* With mbd_index_set_fsync(), makes the renames in @path durable. */
static gboolean
sync_dir (const char *path, GError **error)
{
  if (!mbd_index_get_fsync ())
    return TRUE;
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync (fd) != 0)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      return throw_errno (error, saved, "cannot sync", path);
    }
  close (fd);
  return TRUE;
}

static gboolean
ensure_dir (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0755) != 0)
    return throw_errno (error, errno, "cannot create the directory", path);
  return TRUE;
}

/* Moves the finished temporary file to by-hash/SHA256/<hex> (unless that exists already: its
 * name is its content) and hard-links it to the plain name through a temporary link. */
static gboolean
install_file (const char *dir, PubTarget *t, int f, const char *tmp, GError **error)
{
  g_autofree char *byhash_dir = g_build_filename (dir, "by-hash", "SHA256", NULL);
  g_autofree char *byhash = g_build_filename (byhash_dir, t->hex[f], NULL);
  g_autofree char *name = g_strconcat (t->basename, suffixes[f], NULL);
  g_autofree char *plain = g_build_filename (dir, name, NULL);
  g_autofree char *link_tmp = g_strdup_printf ("%s/.%s.link", dir, name);
  struct stat st;

  if (!ensure_dir (byhash_dir, error))
    return FALSE;
  if (lstat (byhash, &st) == 0 && S_ISREG (st.st_mode) && (guint64) st.st_size == t->size[f])
    g_unlink (tmp);
  else if (rename (tmp, byhash) != 0)
    return throw_errno (error, errno, "cannot rename into", byhash);
  g_unlink (link_tmp);
  if (link (byhash, link_tmp) != 0)
    return throw_errno (error, errno, "cannot link", link_tmp);
  if (rename (link_tmp, plain) != 0)
    return throw_errno (error, errno, "cannot rename into", plain);
  return TRUE;
}

/* One piece of an output file: the gzip/xz header, a block, or the trailer. */
typedef struct
{
  const guint8 *data;
  gsize len;
} Piece;

/* Writing and hashing one of the three files of a target (run on its own thread). */
typedef struct
{
  int f;
  int fd;
  char *tmp;
  GArray *pieces; /* [0] header, [1..n] the blocks, [n+1] trailer */
  guint resume;   /* the blocks before it are not hashed: @sha holds the state after them */
  MbdSha256 sha;
  MbdSha256 *states; /* out: the state after block resume + k at states[k * N_FILES + f] */
  guint64 size;
  guint64 hashed;
  double cpu_ms;
  GError *error;
} FileJob;

static gboolean
run_file_job (FileJob *job, gboolean do_hash, gboolean do_write)
{
  struct iovec iov[256];
  guint n_iov = 0;
  gsize pending = 0;
  guint n_blocks = job->pieces->len - 2;

  for (guint p = 0; p < job->pieces->len; p++)
    {
      const Piece *piece = &g_array_index (job->pieces, Piece, p);
      gboolean is_block = p >= 1 && p <= n_blocks;
      gboolean hash = do_hash && (p == 0 ? job->resume == 0 : !is_block || p - 1 >= job->resume);
      if (hash)
        {
          mbd_sha256_update (&job->sha, piece->data, piece->len);
          job->hashed += piece->len;
        }
      if (do_hash && is_block && p - 1 >= job->resume)
        job->states[(p - 1 - job->resume) * N_FILES + job->f] = job->sha;
      if (!do_write)
        continue;
      job->size += piece->len;
      if (piece->len > 0)
        {
          iov[n_iov].iov_base = (void *) piece->data;
          iov[n_iov].iov_len = piece->len;
          n_iov++;
          pending += piece->len;
        }
      if (n_iov > 0
          && (n_iov == G_N_ELEMENTS (iov) || pending >= 4 * 1024 * 1024
              || p + 1 == job->pieces->len))
        {
          if (!write_all (job->fd, iov, n_iov, job->tmp, &job->error))
            return FALSE;
          n_iov = 0;
          pending = 0;
        }
    }
  return TRUE;
}

static double
thread_cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static gpointer
file_job_thread (gpointer data)
{
  FileJob *job = data;
  double start = thread_cpu_ms ();

  run_file_job (job, FALSE, TRUE);
  job->cpu_ms = thread_cpu_ms () - start;
  return NULL;
}

/* A previously published file of the target, mapped to copy its unchanged blocks from. */
typedef struct
{
  guint8 *map;
  gsize len;
} OldFile;

/* Everything one render holds, released by render_clear(). */
typedef struct
{
  FileJob jobs[N_FILES];
  OldFile old[N_FILES];
  GPtrArray *loaded; /* GBytes of the blocks read from the database */
  GArray *metas;
  Previous prev;
  GArray *states;
  guint prefix, suffix; /* blocks copied from the old files */
} Render;

static void
render_clear (Render *r)
{
  for (int f = 0; f < N_FILES; f++)
    {
      FileJob *job = &r->jobs[f];
      if (job->fd >= 0)
        close (job->fd);
      if (job->tmp != NULL)
        g_unlink (job->tmp);
      g_free (job->tmp);
      g_clear_pointer (&job->pieces, g_array_unref);
      g_clear_error (&job->error);
      if (r->old[f].map != NULL)
        munmap (r->old[f].map, r->old[f].len);
    }
  g_clear_pointer (&r->loaded, g_ptr_array_unref);
  g_clear_pointer (&r->metas, g_array_unref);
  g_clear_pointer (&r->states, g_array_unref);
  previous_clear (&r->prev);
}

/* Maps the published file @rel of the suite if the database records it and it is intact. */
static gboolean
map_old_file (MbdDb *db,
              const char *suite,
              const char *dir,
              const char *rel,
              OldFile *old,
              GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT size, sha256 FROM index_files WHERE suite = ?1 AND path = ?2", error);
  struct stat st;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, suite, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, rel, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return TRUE;
  guint64 size = sqlite3_column_int64 (stmt, 0);
  const char *hex = (const char *) sqlite3_column_text (stmt, 1);
  if (size == 0 || hex == NULL || strlen (hex) != MBD_SHA256_HEX_LEN || strchr (hex, '/'))
    return TRUE;
  /* by hash: the plain name may already hold a newer file of a killed publish */
  g_autofree char *path = g_build_filename (dir, "by-hash", "SHA256", hex, NULL);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return TRUE;
  if (fstat (fd, &st) == 0 && (guint64) st.st_size == size)
    {
      void *map = mmap (NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
      if (map != MAP_FAILED)
        {
          old->map = map;
          old->len = size;
        }
    }
  close (fd);
  return TRUE;
}

/* The size of the xz index and stream footer at the end of @old, 0 if it is not one. */
static gsize
xz_trailer_size (const OldFile *old)
{
  lzma_stream_flags flags;

  if (old->len < 2 * LZMA_STREAM_HEADER_SIZE
      || lzma_stream_footer_decode (&flags, old->map + old->len - LZMA_STREAM_HEADER_SIZE)
             != LZMA_OK)
    return 0;
  return flags.backward_size + LZMA_STREAM_HEADER_SIZE;
}

static const guint64 header_size[N_FILES] = { 0, MBD_INDEX_GZ_HEADER_LEN, 12 };

/* Loads the blocks [from, to) of @r->metas from the database into @r->loaded. */
static gboolean
load_blocks (MbdDb *db, Render *r, guint from, guint to, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "SELECT text, gz, xz FROM index_blocks WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  for (guint i = from; i < to; i++)
    {
      BlockMeta *m = &g_array_index (r->metas, BlockMeta, i);
      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, m->id);
      int rc = sqlite3_step (stmt);
      if (rc != SQLITE_ROW)
        return mbd_db_throw (db, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc,
                             "cannot read an index block", error);
      for (int f = 0; f < N_FILES; f++)
        {
          if ((guint64) sqlite3_column_bytes (stmt, f) != m->size[f])
            return mbd_throw (error, MBD_ERROR_DATABASE,
                              "index block %" G_GINT64_FORMAT " is corrupt: wrong size", m->id);
          g_ptr_array_add (r->loaded, g_bytes_new (sqlite3_column_blob (stmt, f), m->size[f]));
        }
    }
  mbd_index_note_blocks_read (to - from);
  return TRUE;
}

/* Renders the three files of @t into temporary files: unchanged leading and trailing blocks are
 * copied from the previously published files (mapped), only the others are read from the
 * database; hashing resumes from the saved state after the unchanged leading blocks. */
static gboolean
render_files (MbdDb *db,
              const char *suite,
              const char *dir,
              PubTarget *t,
              Render *r,
              guint8 *gz_trailer,
              GError **error)
{
  r->metas = g_array_new (FALSE, FALSE, sizeof (BlockMeta));
  r->loaded = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  if (!ensure_dir (dir, error) || !load_metas (db, t->id, r->metas, error)
      || !load_previous (db, t->id, &r->prev, error))
    return FALSE;
  GArray *old_ids = r->prev.ids;
  guint n = r->metas->len, n_old = old_ids->len;
#define NEW_ID(i) (g_array_index (r->metas, BlockMeta, (i)).id)
#define OLD_ID(i) (g_array_index (old_ids, gint64, (i)))
  guint prefix = 0, suffix = 0;
  while (prefix < n && prefix < n_old && NEW_ID (prefix) == OLD_ID (prefix))
    prefix++;
  while (prefix + suffix < n && prefix + suffix < n_old
         && NEW_ID (n - 1 - suffix) == OLD_ID (n_old - 1 - suffix))
    suffix++;
#undef NEW_ID
#undef OLD_ID
  guint resume = MIN (prefix, r->prev.states->len / N_FILES);

  /* where the unchanged blocks sit in the old files */
  guint64 old_suffix_start[N_FILES] = { 0 };
  gboolean reuse = prefix + suffix > 0;
  for (int f = 0; f < N_FILES && reuse; f++)
    {
      g_autofree char *rel = file_rel_path (t, f);
      if (!map_old_file (db, suite, dir, rel, &r->old[f], error))
        return FALSE;
      guint64 prefix_end = header_size[f], suffix_len = 0;
      for (guint i = 0; i < prefix; i++)
        prefix_end += g_array_index (r->metas, BlockMeta, i).size[f];
      for (guint i = n - suffix; i < n; i++)
        suffix_len += g_array_index (r->metas, BlockMeta, i).size[f];
      guint64 trailer = f == FILE_TEXT ? 0 : f == FILE_GZ ? 10 : xz_trailer_size (&r->old[f]);
      reuse = r->old[f].map != NULL && (f != FILE_XZ || trailer > 0)
              && r->old[f].len >= trailer + suffix_len
              && prefix_end <= r->old[f].len - trailer - suffix_len;
      if (reuse)
        old_suffix_start[f] = r->old[f].len - trailer - suffix_len;
    }
  if (!reuse)
    prefix = suffix = 0;
  r->prefix = prefix;
  r->suffix = suffix;
  if (!load_blocks (db, r, prefix, n - suffix, error))
    return FALSE;

  /* the pieces of each file, and the trailers computed from the block sizes */
  g_autofree guint64 *unpadded = g_new (guint64, n + 1);
  g_autofree guint64 *uncompressed = g_new (guint64, n + 1);
  guint32 crc = 0;
  guint64 text_size = 0;
  for (guint i = 0; i < n; i++)
    {
      BlockMeta *m = &g_array_index (r->metas, BlockMeta, i);
      crc = mbd_index_crc32_combine (crc, m->gz_crc, m->size[FILE_TEXT]);
      unpadded[i] = m->xz_unpadded;
      uncompressed[i] = m->size[FILE_TEXT];
      text_size += m->size[FILE_TEXT];
    }
  mbd_index_gz_trailer (crc, text_size, gz_trailer);
  GBytes *xz_trailer = mbd_index_xz_trailer (unpadded, uncompressed, n, error);
  if (xz_trailer == NULL)
    return FALSE;
  g_ptr_array_add (r->loaded, xz_trailer);
  static guint8 xz_header[12];
  mbd_index_xz_header (xz_header);
  const guint8 *headers[N_FILES] = { NULL, mbd_index_gz_header, xz_header };
  const Piece trailers[N_FILES]
      = { { NULL, 0 },
          { gz_trailer, 10 },
          { g_bytes_get_data (xz_trailer, NULL), g_bytes_get_size (xz_trailer) } };

  r->states = g_array_new (FALSE, TRUE, sizeof (MbdSha256));
  g_array_set_size (r->states, (n - resume) * N_FILES);
  for (int f = 0; f < N_FILES; f++)
    {
      FileJob *job = &r->jobs[f];
      job->f = f;
      job->resume = resume;
      job->states = (MbdSha256 *) r->states->data;
      job->pieces = g_array_sized_new (FALSE, FALSE, sizeof (Piece), n + 2);
      Piece header = { headers[f], header_size[f] };
      g_array_append_val (job->pieces, header);
      guint64 offset = header_size[f], old_offset = old_suffix_start[f];
      for (guint i = 0; i < n; i++)
        {
          BlockMeta *m = &g_array_index (r->metas, BlockMeta, i);
          Piece piece = { NULL, m->size[f] };
          if (i < prefix)
            piece.data = r->old[f].map + offset;
          else if (i >= n - suffix)
            {
              piece.data = r->old[f].map + old_offset;
              old_offset += m->size[f];
            }
          else
            piece.data = g_bytes_get_data (
                g_ptr_array_index (r->loaded, (i - prefix) * N_FILES + f), NULL);
          g_array_append_val (job->pieces, piece);
          offset += m->size[f];
        }
      g_array_append_val (job->pieces, trailers[f]);
      if (resume > 0)
        job->sha = g_array_index (r->prev.states, MbdSha256, (resume - 1) * N_FILES + f);
      else
        mbd_sha256_init (&job->sha);
      job->tmp = g_strdup_printf ("%s/.%s%s.new", dir, t->basename, suffixes[f]);
      job->fd = open (job->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (job->fd < 0)
        return throw_errno (error, errno, "cannot create", job->tmp);
    }
  return TRUE;
}
static gboolean
render_target (MbdDb *db, const char *suite, const char *suite_dir, PubTarget *t, GError **error)
{
  g_autofree char *dir = g_build_filename (suite_dir, t->rel_dir, NULL);
  g_autofree char *byhash_dir = g_build_filename (dir, "by-hash", "SHA256", NULL);
  Render r = { .jobs = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 } } };
  guint8 gz_trailer[10];
  gboolean ok = render_files (db, suite, dir, t, &r, gz_trailer, error);

  if (ok)
    {
      /* the plain text (the bulk of the bytes) is written on a thread while this one writes
       * and hashes the compressed files and then hashes the text */
      GThread *thread = g_thread_new ("mbd-index-text", file_job_thread, &r.jobs[FILE_TEXT]);
      double start = thread_cpu_ms ();
      if (run_file_job (&r.jobs[FILE_GZ], TRUE, TRUE))
        run_file_job (&r.jobs[FILE_XZ], TRUE, TRUE);
      run_file_job (&r.jobs[FILE_TEXT], TRUE, FALSE);
      double compressed_ms = thread_cpu_ms () - start;
      g_thread_join (thread);
      g_debug ("rendered %s: %u blocks, %u unchanged before and %u after the changes, CPU "
               "%.1f ms writing the text, %.1f ms .gz/.xz and hashing the text",
               t->target, r.metas->len, r.prefix, r.suffix, r.jobs[FILE_TEXT].cpu_ms,
               compressed_ms);
      guint64 hashed = 0;
      for (int f = 0; f < N_FILES && ok; f++)
        {
          FileJob *job = &r.jobs[f];
          if (job->error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&job->error));
              ok = FALSE;
              break;
            }
          t->size[f] = job->size;
          mbd_sha256_hex (&job->sha, t->hex[f]);
          hashed += job->hashed;
          if (mbd_index_get_fsync () && fdatasync (job->fd) != 0)
            {
              ok = throw_errno (error, errno, "cannot write", job->tmp);
              break;
            }
          int rc = close (job->fd);
          job->fd = -1;
          if (rc != 0)
            ok = throw_errno (error, errno, "cannot write", job->tmp);
        }
      mbd_index_note_rendered (hashed);
    }
  /* the old files stay mapped until the new ones are complete: install may delete nothing */
  for (int f = 0; f < N_FILES && ok; f++)
    {
      ok = install_file (dir, t, f, r.jobs[f].tmp, error);
      if (ok)
        g_clear_pointer (&r.jobs[f].tmp, g_free);
    }
  ok = ok && sync_dir (byhash_dir, error) && sync_dir (dir, error)
       && save_checkpoints (db, t->id, r.jobs[0].resume, r.states, r.metas, error);
  render_clear (&r);
  return ok;
}

/* ---- the suite ---- */

static gboolean
validate_info (const MbdReleaseInfo *info, GError **error)
{
  const char *path = info->suite_path;

  if (path == NULL || *path == '\0' || path[0] == '/' || strstr (path, "..") != NULL
      || strstr (path, "//") != NULL || g_str_has_suffix (path, "/"))
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "suite path '%s': not a relative path below dists/", path ? path : "");
  if (info->components == NULL || info->components[0] == NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "suite '%s': no components", path);
  const char *const *fields[] = { info->components, info->architectures };
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    for (guint j = 0; fields[i] != NULL && fields[i][j] != NULL; j++)
      {
        const char *v = fields[i][j];
        if (*v == '\0' || strpbrk (v, "/ \n") != NULL || strcmp (v, "..") == 0
            || (i == 1 && strcmp (v, "all") == 0))
          return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "suite '%s': invalid %s '%s'", path,
                            i == 0 ? "component" : "architecture", v);
      }
  return TRUE;
}

static GPtrArray *
expected_targets (const MbdReleaseInfo *info)
{
  GPtrArray *targets = g_ptr_array_new_with_free_func ((GDestroyNotify) pub_target_free);

  for (guint c = 0; info->components[c] != NULL; c++)
    {
      for (guint a = 0; info->architectures != NULL && info->architectures[a] != NULL; a++)
        {
          PubTarget *t = g_new0 (PubTarget, 1);
          t->rel_dir
              = g_strdup_printf ("%s/binary-%s", info->components[c], info->architectures[a]);
          t->basename = g_strdup ("Packages");
          t->target = g_strdup_printf ("%s/%s", info->suite_path, t->rel_dir);
          g_ptr_array_add (targets, t);
        }
      PubTarget *t = g_new0 (PubTarget, 1);
      t->rel_dir = g_strdup_printf ("%s/source", info->components[c]);
      t->basename = g_strdup ("Sources");
      t->target = g_strdup_printf ("%s/%s", info->suite_path, t->rel_dir);
      g_ptr_array_add (targets, t);
    }
  return targets;
}

/* Whether @t was published at its current generation and its files are still in place; fills
 * in the recorded sizes and hashes. */
static gboolean
check_published (MbdDb *db,
                 const char *suite,
                 const char *suite_dir,
                 PubTarget *t,
                 gboolean *out_current,
                 GError **error)
{
  g_autoptr (sqlite3_stmt) gen = mbd_db_prepare (
      db, "SELECT generation = published_generation FROM index_targets WHERE id = ?1", error);
  g_autoptr (sqlite3_stmt) file = mbd_db_prepare (
      db, "SELECT size, sha256 FROM index_files WHERE suite = ?1 AND path = ?2", error);

  *out_current = FALSE;
  if (gen == NULL || file == NULL)
    return FALSE;
  sqlite3_bind_int64 (gen, 1, t->id);
  int rc = sqlite3_step (gen);
  if (rc != SQLITE_ROW)
    return mbd_db_throw (db, rc, "cannot read an index target", error);
  if (!sqlite3_column_int (gen, 0))
    return TRUE;
  for (int f = 0; f < N_FILES; f++)
    {
      g_autofree char *rel = file_rel_path (t, f);
      g_autofree char *path = g_build_filename (suite_dir, rel, NULL);
      struct stat st;
      sqlite3_reset (file);
      sqlite3_bind_text (file, 1, suite, -1, SQLITE_STATIC);
      sqlite3_bind_text (file, 2, rel, -1, SQLITE_TRANSIENT);
      rc = sqlite3_step (file);
      if (rc == SQLITE_DONE)
        return TRUE;
      if (rc != SQLITE_ROW)
        return mbd_db_throw (db, rc, "cannot read a published index file", error);
      t->size[f] = sqlite3_column_int64 (file, 0);
      const char *hex = (const char *) sqlite3_column_text (file, 1);
      if (hex == NULL || strlen (hex) != MBD_SHA256_HEX_LEN)
        return TRUE;
      memcpy (t->hex[f], hex, MBD_SHA256_HEX_LEN + 1);
      g_autofree char *byhash_rel = byhash_rel_path (t, f);
      g_autofree char *byhash = g_build_filename (suite_dir, byhash_rel, NULL);
      if (stat (path, &st) != 0 || (guint64) st.st_size != t->size[f])
        return TRUE;
      if (stat (byhash, &st) != 0 || (guint64) st.st_size != t->size[f])
        return TRUE;
    }
  *out_current = TRUE;
  return TRUE;
}

static gboolean
record_target (MbdDb *db, const char *suite, PubTarget *t, GError **error)
{
  g_autoptr (sqlite3_stmt) file = mbd_db_prepare (
      db,
      "INSERT INTO index_files (suite, path, size, sha256) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT (suite, path) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256",
      error);
  g_autoptr (sqlite3_stmt) gen = mbd_db_prepare (
      db, "UPDATE index_targets SET published_generation = generation WHERE id = ?1", error);

  if (file == NULL || gen == NULL)
    return FALSE;
  for (int f = 0; f < N_FILES; f++)
    {
      g_autofree char *rel = file_rel_path (t, f);
      sqlite3_reset (file);
      sqlite3_bind_text (file, 1, suite, -1, SQLITE_STATIC);
      sqlite3_bind_text (file, 2, rel, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (file, 3, t->size[f]);
      sqlite3_bind_text (file, 4, t->hex[f], -1, SQLITE_STATIC);
      if (!mbd_db_step_done (db, file, error))
        return FALSE;
    }
  sqlite3_bind_int64 (gen, 1, t->id);
  return mbd_db_step_done (db, gen, error);
}

static const char *const weekdays[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const months[]
    = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* RFC 2822 date in UTC with English names whatever the locale. */
static void
append_date (GString *out, const char *field, GDateTime *when)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (when);

  g_string_append_printf (
      out, "%s: %s, %02d %s %04d %02d:%02d:%02d UTC\n", field,
      weekdays[g_date_time_get_day_of_week (utc) - 1], g_date_time_get_day_of_month (utc),
      months[g_date_time_get_month (utc) - 1], g_date_time_get_year (utc),
      g_date_time_get_hour (utc), g_date_time_get_minute (utc), g_date_time_get_second (utc));
}

static int
compare_rel (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static char *
release_text (const MbdReleaseInfo *info, GPtrArray *targets)
{
  GString *out = g_string_new (NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  g_string_append_printf (out, "Origin: %s\n", info->origin ? info->origin : "");
  g_string_append_printf (out, "Label: %s\n", info->label ? info->label : "");
  g_string_append_printf (out, "Suite: %s\n", info->suite ? info->suite : "");
  g_string_append_printf (out, "Codename: %s\n", info->codename ? info->codename : "");
  if (info->version != NULL)
    g_string_append_printf (out, "Version: %s\n", info->version);
  append_date (out, "Date", now);
  if (info->valid_until != NULL)
    append_date (out, "Valid-Until", info->valid_until);
  if (info->not_automatic)
    g_string_append (out, "NotAutomatic: yes\n");
  if (info->but_automatic_upgrades)
    g_string_append (out, "ButAutomaticUpgrades: yes\n");
  g_string_append (out, "Acquire-By-Hash: yes\n");
  g_autofree char *arches
      = info->architectures ? g_strjoinv (" ", (char **) info->architectures) : g_strdup ("");
  g_autofree char *comps = g_strjoinv (" ", (char **) info->components);
  g_string_append_printf (out, "Architectures: %s\n", arches);
  g_string_append_printf (out, "Components: %s\n", comps);
  g_string_append_printf (out, "Description: %s\n", info->description ? info->description : "");

  /* every file, the uncompressed ones included (apt skips an index whose plain entry is missing) */
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < targets->len; i++)
    {
      PubTarget *t = g_ptr_array_index (targets, i);
      for (int f = 0; f < N_FILES; f++)
        {
          g_autofree char *rel = file_rel_path (t, f);
          g_ptr_array_add (
              lines, g_strdup_printf ("%s %16" G_GUINT64_FORMAT " %s", t->hex[f], t->size[f], rel));
        }
    }
  g_string_append (out, "SHA256:\n");
  g_ptr_array_sort (lines, compare_rel);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (out, " %s\n", (char *) g_ptr_array_index (lines, i));
  return g_string_free (out, FALSE);
}

static gboolean
write_tmp (const char *path, GBytes *bytes, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  if (fd < 0)
    return throw_errno (error, errno, "cannot create", path);
  struct iovec iov = { (void *) data, len };
  gboolean ok = len == 0 || write_all (fd, &iov, 1, path, error);
  if (ok && mbd_index_get_fsync () && fdatasync (fd) != 0)
    ok = throw_errno (error, errno, "cannot write", path);
  if (close (fd) != 0 && ok)
    return throw_errno (error, errno, "cannot write", path);
  return ok;
}

/* Signs @text and renames Release, Release.gpg and InRelease into place, in that order: apt
 * reads InRelease first, so the pair Release + Release.gpg is complete before it changes. */
static gboolean
write_release (MbdGnupg *gnupg, const char *suite_dir, const char *text, GError **error)
{
  g_autoptr (GBytes) data = g_bytes_new (text, strlen (text));
  g_autoptr (GBytes) clear = NULL;
  g_autoptr (GBytes) detached = NULL;
  if (!mbd_gnupg_sign_release (gnupg, data, &clear, &detached, error))
    return mbd_prefix_error (error, "signing '%s/Release': ", suite_dir);
  const char *names[] = { "Release", "Release.gpg", "InRelease" };
  GBytes *contents[] = { data, detached, clear };
  char *tmps[G_N_ELEMENTS (names)];
  gboolean ok = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      tmps[i] = g_strdup_printf ("%s/.%s.new", suite_dir, names[i]);
      ok = ok && write_tmp (tmps[i], contents[i], error);
    }
  for (guint i = 0; ok && i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *dest = g_build_filename (suite_dir, names[i], NULL);
      if (rename (tmps[i], dest) != 0)
        ok = throw_errno (error, errno, "cannot rename into", dest);
    }
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (!ok)
        g_unlink (tmps[i]);
      g_free (tmps[i]);
    }
  return ok && sync_dir (suite_dir, error);
}

/* Files under a rendered target's by-hash directory the database does not know (left by a
 * publish that was killed before it recorded them): tracked from now on as superseded. */
static gboolean
adopt_orphans (MbdDb *db,
               const char *suite,
               const char *suite_dir,
               PubTarget *t,
               gint64 now,
               GError **error)
{
  g_autofree char *rel_dir = g_strdup_printf ("%s/by-hash/SHA256", t->rel_dir);
  g_autofree char *dir_path = g_build_filename (suite_dir, rel_dir, NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "INSERT INTO index_byhash (suite, path, superseded) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (suite, path) DO NOTHING",
      error);
  const char *name;

  if (stmt == NULL)
    return FALSE;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      if (name[0] == '.')
        continue;
      g_autofree char *rel = g_strdup_printf ("%s/%s", rel_dir, name);
      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, suite, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, rel, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, now);
      if (!mbd_db_step_done (db, stmt, error))
        return FALSE;
    }
  return TRUE;
}

/* Records the by-hash files the new Release names as current, marks all others superseded and
 * deletes those superseded longer than @grace_seconds. */
static gboolean
update_byhash (MbdDb *db,
               const char *suite,
               const char *suite_dir,
               GPtrArray *targets,
               gint64 now,
               gint64 grace_seconds,
               GError **error)
{
  g_autoptr (sqlite3_stmt) mark = mbd_db_prepare (
      db, "UPDATE index_byhash SET superseded = ?2 WHERE suite = ?1 AND superseded IS NULL", error);
  g_autoptr (sqlite3_stmt) current = mbd_db_prepare (
      db,
      "INSERT INTO index_byhash (suite, path, superseded) VALUES (?1, ?2, NULL) "
      "ON CONFLICT (suite, path) DO UPDATE SET superseded = NULL",
      error);
  g_autoptr (sqlite3_stmt) expired = mbd_db_prepare (
      db,
      "SELECT path FROM index_byhash WHERE suite = ?1 AND superseded IS NOT NULL "
      "AND superseded <= ?2",
      error);
  g_autoptr (sqlite3_stmt) forget = mbd_db_prepare (
      db, "DELETE FROM index_byhash WHERE suite = ?1 AND path = ?2", error);
  int rc;

  if (mark == NULL || current == NULL || expired == NULL || forget == NULL)
    return FALSE;
  sqlite3_bind_text (mark, 1, suite, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (mark, 2, now);
  if (!mbd_db_step_done (db, mark, error))
    return FALSE;
  for (guint i = 0; i < targets->len; i++)
    {
      PubTarget *t = g_ptr_array_index (targets, i);
      if (t->render && !adopt_orphans (db, suite, suite_dir, t, now, error))
        return FALSE;
      for (int f = 0; f < N_FILES; f++)
        {
          g_autofree char *rel = byhash_rel_path (t, f);
          sqlite3_reset (current);
          sqlite3_bind_text (current, 1, suite, -1, SQLITE_STATIC);
          sqlite3_bind_text (current, 2, rel, -1, SQLITE_STATIC);
          if (!mbd_db_step_done (db, current, error))
            return FALSE;
        }
    }
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  sqlite3_bind_text (expired, 1, suite, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (expired, 2, now - grace_seconds);
  while ((rc = sqlite3_step (expired)) == SQLITE_ROW)
    g_ptr_array_add (gone, g_strdup ((const char *) sqlite3_column_text (expired, 0)));
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot list superseded by-hash files", error);
  for (guint i = 0; i < gone->len; i++)
    {
      const char *rel = g_ptr_array_index (gone, i);
      g_autofree char *path = g_build_filename (suite_dir, rel, NULL);
      if (g_unlink (path) != 0 && errno != ENOENT)
        return throw_errno (error, errno, "cannot delete", path);
      sqlite3_reset (forget);
      sqlite3_bind_text (forget, 1, suite, -1, SQLITE_STATIC);
      sqlite3_bind_text (forget, 2, rel, -1, SQLITE_STATIC);
      if (!mbd_db_step_done (db, forget, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
publish_in_savepoint (MbdDb *db,
                      MbdGnupg *gnupg,
                      const char *dists_dir,
                      const MbdReleaseInfo *info,
                      gint64 grace_seconds,
                      GError **error)
{
  const char *suite = info->suite_path;
  g_autofree char *suite_dir = g_build_filename (dists_dir, suite, NULL);
  g_autoptr (GPtrArray) targets = expected_targets (info);

  gint64 t0 = g_get_monotonic_time ();
  if (!ensure_dir (suite_dir, error))
    return FALSE;
  for (guint i = 0; i < targets->len; i++)
    {
      PubTarget *t = g_ptr_array_index (targets, i);
      gboolean current;
      t->id = mbd_index_ensure_target (db, t->target, error);
      if (t->id < 0 || !check_published (db, suite, suite_dir, t, &current, error))
        return FALSE;
      t->render = !current;
      if (t->render
          && (!render_target (db, suite, suite_dir, t, error)
              || !record_target (db, suite, t, error)))
        return mbd_prefix_error (error, "publishing '%s': ", t->target);
    }
  gint64 t1 = g_get_monotonic_time ();
  g_autofree char *text = release_text (info, targets);
  if (!write_release (gnupg, suite_dir, text, error))
    return FALSE;
  gint64 t2 = g_get_monotonic_time ();
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gboolean ok = update_byhash (db, suite, suite_dir, targets, now, grace_seconds, error)
                && mbd_index_mark_suite (db, suite, FALSE, error);
  g_debug ("published %s: indices %.1f ms, Release signed %.1f ms, by-hash upkeep %.1f ms", suite,
           (t1 - t0) / 1e3, (t2 - t1) / 1e3, (g_get_monotonic_time () - t2) / 1e3);
  return ok;
}

/* Outside a transaction, publishing takes the database's write lock at once (BEGIN IMMEDIATE),
 * so two processes publishing the same suite take turns instead of sharing temporary files;
 * inside the caller's transaction it runs in a savepoint. */
static gboolean
enter_transaction (MbdDb *db, gboolean *own, GError **error)
{
  *own = sqlite3_get_autocommit (mbd_db_get_handle (db)) != 0;
  return *own ? mbd_db_begin (db, error) : mbd_db_exec (db, "SAVEPOINT mbd_index", error);
}

static gboolean
leave_transaction (MbdDb *db, gboolean own, gboolean ok, GError **error)
{
  if (own)
    {
      if (ok)
        return mbd_db_commit (db, error);
      mbd_db_rollback (db);
      return FALSE;
    }
  if (ok)
    return mbd_db_exec (db, "RELEASE mbd_index", error);
  mbd_db_exec (db, "ROLLBACK TO mbd_index; RELEASE mbd_index", NULL);
  return FALSE;
}

gboolean
mbd_index_publish (MbdDb *db,
                   MbdGnupg *gnupg,
                   const char *dists_dir,
                   const MbdReleaseInfo *info,
                   gint64 grace_seconds,
                   GError **error)
{
  if (!validate_info (info, error))
    return FALSE;
  gboolean own = FALSE;
  if (!enter_transaction (db, &own, error))
    return FALSE;
  gboolean ok = publish_in_savepoint (db, gnupg, dists_dir, info, grace_seconds, error);
  return leave_transaction (db, own, ok, error);
}

char **
mbd_index_dirty_suites (MbdDb *db, GError **error)
{
  return mbd_db_query_strv (db, "SELECT suite FROM index_suites WHERE dirty = 1 ORDER BY suite",
                            error);
}

/* Deletes @path and everything below it, never following symbolic links. */
static gboolean
remove_tree (const char *path, GError **error)
{
  struct stat st;

  if (lstat (path, &st) != 0)
    return errno == ENOENT ? TRUE : throw_errno (error, errno, "cannot read", path);
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, error);
      const char *name;
      if (dir == NULL)
        return FALSE;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (!remove_tree (child, error))
            return FALSE;
        }
      if (rmdir (path) != 0)
        return throw_errno (error, errno, "cannot delete", path);
      return TRUE;
    }
  if (unlink (path) != 0 && errno != ENOENT)
    return throw_errno (error, errno, "cannot delete", path);
  return TRUE;
}

static gboolean
remove_suite_in_savepoint (MbdDb *db, const char *suite_dir, const char *suite, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT DISTINCT substr(path, 1, instr(path, '/') - 1) FROM index_files WHERE suite = ?1 "
      "UNION SELECT DISTINCT substr(path, 1, instr(path, '/') - 1) FROM index_byhash "
      "WHERE suite = ?1",
      error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, suite, -1, SQLITE_STATIC);
  g_autoptr (GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *comp = (const char *) sqlite3_column_text (stmt, 0);
      /* a component directory; "snapshots" holds other suites and is never one */
      if (comp != NULL && *comp != '\0' && strcmp (comp, "snapshots") != 0
          && strcmp (comp, "..") != 0)
        g_ptr_array_add (dirs, g_strdup (comp));
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot list a suite's published files", error);
  if (!mbd_index_forget_suite_targets (db, suite, error))
    return FALSE;
  const char *const tables[] = { "index_files", "index_byhash", "index_suites" };
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("DELETE FROM %s WHERE suite = ?1", tables[i]);
      g_autoptr (sqlite3_stmt) del = mbd_db_prepare (db, sql, error);
      if (del == NULL)
        return FALSE;
      sqlite3_bind_text (del, 1, suite, -1, SQLITE_STATIC);
      if (!mbd_db_step_done (db, del, error))
        return FALSE;
    }
  /* the Release files first, so that no half-removed suite looks published */
  const char *const names[] = { "InRelease",      "Release.gpg",      "Release",
                                ".InRelease.new", ".Release.gpg.new", ".Release.new" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (suite_dir, names[i], NULL);
      if (!remove_tree (path, error))
        return FALSE;
    }
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *path = g_build_filename (suite_dir, g_ptr_array_index (dirs, i), NULL);
      if (!remove_tree (path, error))
        return FALSE;
    }
  if (rmdir (suite_dir) != 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
    return throw_errno (error, errno, "cannot delete", suite_dir);
  return TRUE;
}

gboolean
mbd_index_remove_suite (MbdDb *db, const char *dists_dir, const char *suite_path, GError **error)
{
  MbdReleaseInfo check
      = { .suite_path = suite_path, .components = (const char *const[]){ "x", NULL } };

  if (!validate_info (&check, error))
    return FALSE;
  g_autofree char *suite_dir = g_build_filename (dists_dir, suite_path, NULL);
  gboolean own = FALSE;
  if (!enter_transaction (db, &own, error))
    return FALSE;
  gboolean ok = remove_suite_in_savepoint (db, suite_dir, suite_path, error);
  return leave_transaction (db, own, ok, error);
}
