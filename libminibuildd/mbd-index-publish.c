/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib/gstdio.h>

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

static gboolean
write_all (int fd, const struct iovec *iov, int n, const char *path, GError **error)
{
  struct iovec local[8];

  g_assert (n <= (int) G_N_ELEMENTS (local));
  memcpy (local, iov, n * sizeof *iov);
  struct iovec *p = local;
  while (n > 0)
    {
      ssize_t done = writev (fd, p, n);
      if (done < 0 && errno == EINTR)
        continue;
      if (done < 0)
        return throw_errno (error, errno, "cannot write", path);
      while (n > 0 && (size_t) done >= p->iov_len)
        {
          done -= p->iov_len;
          p++;
          n--;
        }
      if (n > 0)
        {
          p->iov_base = (char *) p->iov_base + done;
          p->iov_len -= done;
        }
    }
  return TRUE;
}

/* Streams one target's three files from the block rows to temporary files, hashing as it goes
 * (resuming from the saved hash states where the leading blocks are unchanged). */
typedef struct
{
  int fd[N_FILES];
  char *tmp[N_FILES];
  MbdSha256 sha[N_FILES];
  guint64 size[N_FILES];
} Render;

static void
render_clear (Render *r)
{
  for (int f = 0; f < N_FILES; f++)
    {
      if (r->fd[f] >= 0)
        close (r->fd[f]);
      if (r->tmp[f] != NULL)
        g_unlink (r->tmp[f]);
      g_free (r->tmp[f]);
    }
}

static gboolean
render_emit (Render *r, int f, const void *data, gsize len, gboolean hash, GError **error)
{
  struct iovec iov = { (void *) data, len };

  if (hash)
    mbd_sha256_update (&r->sha[f], data, len);
  r->size[f] += len;
  return len == 0 || write_all (r->fd[f], &iov, 1, r->tmp[f], error);
}

typedef struct
{
  gint64 id;
  guint64 text_size, gz_size, xz_size, xz_unpadded;
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
      BlockMeta m = { sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 1),
                      sqlite3_column_int64 (stmt, 2), sqlite3_column_int64 (stmt, 3),
                      sqlite3_column_int64 (stmt, 4), (guint32) sqlite3_column_int64 (stmt, 5) };
      g_array_append_val (metas, m);
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read an index target's blocks", error);
  return TRUE;
}

/* How many leading blocks have valid saved hash states; restores the states after the last of
 * them into @r. */
static guint
resume_point (MbdDb *db, gint64 target_id, GArray *metas, Render *r, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT position, block_id, text_state, gz_state, xz_state FROM index_checkpoints "
      "WHERE target_id = ?1 ORDER BY position",
      error);
  guint valid = 0;

  if (stmt == NULL)
    return G_MAXUINT;
  sqlite3_bind_int64 (stmt, 1, target_id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 pos = sqlite3_column_int64 (stmt, 0);
      if (pos != valid || valid >= metas->len
          || sqlite3_column_int64 (stmt, 1) != g_array_index (metas, BlockMeta, valid).id)
        break;
      MbdSha256 sha[N_FILES];
      gboolean ok = TRUE;
      for (int f = 0; f < N_FILES; f++)
        ok = ok
             && mbd_sha256_restore (&sha[f], sqlite3_column_blob (stmt, 2 + f),
                                    sqlite3_column_bytes (stmt, 2 + f));
      if (!ok)
        break;
      memcpy (r->sha, sha, sizeof sha);
      valid++;
    }
  return valid;
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
  for (guint i = 0; i < states->len; i++)
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

/* Streams the blocks of @t into the open files of @r. */
static gboolean
render_streams (MbdDb *db, PubTarget *t, GArray *metas, Render *r, GError **error)
{
  GError *local = NULL;
  guint resume = resume_point (db, t->id, metas, r, &local);
  guint64 hashed = 0;

  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  guint8 xz_header[12];
  mbd_index_xz_header (xz_header);
  if (!render_emit (r, FILE_GZ, mbd_index_gz_header, MBD_INDEX_GZ_HEADER_LEN, resume == 0, error)
      || !render_emit (r, FILE_XZ, xz_header, sizeof xz_header, resume == 0, error))
    return FALSE;

  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "SELECT text, gz, xz FROM index_blocks WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  g_autoptr (GArray) states = g_array_new (FALSE, FALSE, sizeof (MbdSha256));
  g_autofree guint64 *unpadded = g_new (guint64, metas->len + 1);
  g_autofree guint64 *uncompressed = g_new (guint64, metas->len + 1);
  guint32 crc = 0;
  for (guint i = 0; i < metas->len; i++)
    {
      BlockMeta *m = &g_array_index (metas, BlockMeta, i);
      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, m->id);
      int rc = sqlite3_step (stmt);
      if (rc != SQLITE_ROW)
        return mbd_db_throw (db, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc,
                             "cannot read an index block", error);
      gboolean hash = i >= resume;
      for (int f = 0; f < N_FILES; f++)
        {
          gsize len = sqlite3_column_bytes (stmt, f);
          if (!render_emit (r, f, sqlite3_column_blob (stmt, f), len, hash, error))
            return FALSE;
          if (hash)
            hashed += len;
        }
      if (hash)
        g_array_append_vals (states, r->sha, N_FILES);
      crc = mbd_index_crc32_combine (crc, m->gz_crc, m->text_size);
      unpadded[i] = m->xz_unpadded;
      uncompressed[i] = m->text_size;
    }
  guint8 gz_trailer[10];
  mbd_index_gz_trailer (crc, r->size[FILE_TEXT], gz_trailer);
  g_autoptr (GBytes) xz_trailer = mbd_index_xz_trailer (unpadded, uncompressed, metas->len, error);
  if (xz_trailer == NULL || !render_emit (r, FILE_GZ, gz_trailer, sizeof gz_trailer, TRUE, error)
      || !render_emit (r, FILE_XZ, g_bytes_get_data (xz_trailer, NULL),
                       g_bytes_get_size (xz_trailer), TRUE, error))
    return FALSE;
  mbd_index_note_rendered (hashed);
  return save_checkpoints (db, t->id, resume, states, metas, error);
}

static gboolean
render_files (MbdDb *db, const char *dir, PubTarget *t, Render *r, GError **error)
{
  g_autoptr (GArray) metas = g_array_new (FALSE, FALSE, sizeof (BlockMeta));

  if (!ensure_dir (dir, error) || !load_metas (db, t->id, metas, error))
    return FALSE;
  for (int f = 0; f < N_FILES; f++)
    {
      r->tmp[f] = g_strdup_printf ("%s/.%s%s.new", dir, t->basename, suffixes[f]);
      r->fd[f] = open (r->tmp[f], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (r->fd[f] < 0)
        return throw_errno (error, errno, "cannot create", r->tmp[f]);
      mbd_sha256_init (&r->sha[f]);
    }
  if (!render_streams (db, t, metas, r, error))
    return FALSE;
  for (int f = 0; f < N_FILES; f++)
    {
      t->size[f] = r->size[f];
      mbd_sha256_hex (&r->sha[f], t->hex[f]);
      int rc = close (r->fd[f]);
      r->fd[f] = -1;
      if (rc != 0)
        return throw_errno (error, errno, "cannot write", r->tmp[f]);
    }
  for (int f = 0; f < N_FILES; f++)
    {
      if (!install_file (dir, t, f, r->tmp[f], error))
        return FALSE;
      g_clear_pointer (&r->tmp[f], g_free);
    }
  return TRUE;
}

static gboolean
render_target (MbdDb *db, const char *suite_dir, PubTarget *t, GError **error)
{
  g_autofree char *dir = g_build_filename (suite_dir, t->rel_dir, NULL);
  Render r = { .fd = { -1, -1, -1 } };
  gboolean ok = render_files (db, dir, t, &r, error);

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

typedef struct
{
  MbdGnupg *gnupg;
  GBytes *data;
  GBytes *signature;
  GError *error;
} SignJob;

static gpointer
sign_detached_thread (gpointer data)
{
  SignJob *job = data;

  job->signature = mbd_gnupg_sign_detached (job->gnupg, job->data, NULL, &job->error);
  return NULL;
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
  SignJob job = { gnupg, data, NULL, NULL };
  GThread *thread = g_thread_new ("mbd-index-sign", sign_detached_thread, &job);
  g_autoptr (GBytes) clear = mbd_gnupg_sign_clear (gnupg, data, NULL, error);

  g_thread_join (thread);
  g_autoptr (GBytes) detached = job.signature;
  if (clear == NULL)
    {
      g_clear_error (&job.error);
      return mbd_prefix_error (error, "signing '%s/InRelease': ", suite_dir);
    }
  if (detached == NULL)
    {
      g_propagate_error (error, job.error);
      return mbd_prefix_error (error, "signing '%s/Release.gpg': ", suite_dir);
    }
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
  return ok;
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
clear_dirty (MbdDb *db, const char *suite, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db,
                               "INSERT INTO index_suites (suite, dirty) VALUES (?1, 0) "
                               "ON CONFLICT (suite) DO UPDATE SET dirty = 0",
                               error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, suite, -1, SQLITE_STATIC);
  return mbd_db_step_done (db, stmt, error);
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
          && (!render_target (db, suite_dir, t, error) || !record_target (db, suite, t, error)))
        return mbd_prefix_error (error, "publishing '%s': ", t->target);
    }
  g_autofree char *text = release_text (info, targets);
  if (!write_release (gnupg, suite_dir, text, error))
    return FALSE;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  return update_byhash (db, suite, suite_dir, targets, now, grace_seconds, error)
         && clear_dirty (db, suite, error);
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
  if (!mbd_db_exec (db, "SAVEPOINT mbd_index_publish", error))
    return FALSE;
  if (!publish_in_savepoint (db, gnupg, dists_dir, info, grace_seconds, error))
    {
      mbd_db_exec (db, "ROLLBACK TO mbd_index_publish; RELEASE mbd_index_publish", NULL);
      return FALSE;
    }
  return mbd_db_exec (db, "RELEASE mbd_index_publish", error);
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
  if (!mbd_db_exec (db, "SAVEPOINT mbd_index_remove", error))
    return FALSE;
  if (!remove_suite_in_savepoint (db, suite_dir, suite_path, error))
    {
      mbd_db_exec (db, "ROLLBACK TO mbd_index_remove; RELEASE mbd_index_remove", NULL);
      return FALSE;
    }
  return mbd_db_exec (db, "RELEASE mbd_index_remove", error);
}
