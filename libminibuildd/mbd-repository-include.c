/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "mbd-changes.h"
#include "mbd-deb-version.h"
#include "mbd-deb.h"
#include "mbd-dsc.h"
#include "mbd-file-entry.h"
#include "mbd-repository-private.h"
#include "mbd-util-private.h"

/* Including package files: each source becomes one entry of the target distribution, its files
 * are stored in the pool once (staged under a temporary name, renamed into place just before
 * COMMIT) and its Packages/Sources stanzas are rendered from the .deb control and the .dsc. */

/* What an include needs of a .deb: its control paragraph as text (a parsed MbdDeb with its file
 * list costs several times more, which adds up in a bulk include of tens of thousands). */
typedef struct
{
  char *control;
  char *package;
  char *version;
  char *architecture;
  char *path;
  MbdFileEntry *listed; /* (nullable): the .changes entry, with section and priority */
} IncludeDeb;

typedef struct
{
  char *source;
  char *version;
  char *component;
  MbdDsc *dsc;              /* (nullable) */
  char *dsc_dir;            /* (nullable) */
  MbdFileEntry *dsc_listed; /* (nullable) */
  GPtrArray *debs;          /* (element-type IncludeDeb) */
  char *origin;             /* the file that brought the group in, for messages */
} Group;

static void
include_deb_free (IncludeDeb *item)
{
  g_free (item->control);
  g_free (item->package);
  g_free (item->version);
  g_free (item->architecture);
  g_free (item->path);
  g_clear_pointer (&item->listed, mbd_file_entry_free);
  g_free (item);
}

static void
group_free (Group *group)
{
  g_free (group->source);
  g_free (group->version);
  g_free (group->component);
  g_clear_object (&group->dsc);
  g_free (group->dsc_dir);
  g_clear_pointer (&group->dsc_listed, mbd_file_entry_free);
  g_ptr_array_unref (group->debs);
  g_free (group->origin);
  g_free (group);
}

static char *
component_of_section (const char *section)
{
  const char *slash = section != NULL ? strchr (section, '/') : NULL;
  return slash != NULL ? g_strndup (section, slash - section) : g_strdup ("main");
}

/* The group for @source, created if missing; the version of all its files must agree. */
static Group *
get_group (GHashTable *groups,
           const char *source,
           const char *version,
           const char *component,
           const char *origin,
           GError **error)
{
  Group *group = g_hash_table_lookup (groups, source);

  if (group == NULL)
    {
      group = g_new0 (Group, 1);
      group->source = g_strdup (source);
      group->version = g_strdup (version);
      group->component = g_strdup (component);
      group->debs = g_ptr_array_new_with_free_func ((GDestroyNotify) include_deb_free);
      group->origin = g_strdup (origin);
      g_hash_table_insert (groups, group->source, group);
      return group;
    }
  if (strcmp (group->version, version) != 0)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "%s: source %s version %s, but %s brings version %s into the same include", origin,
                 source, version, group->origin, group->version);
      return NULL;
    }
  return group;
}

static gboolean
add_deb (GHashTable *groups,
         const char *path,
         const MbdFileEntry *listed,
         const char *fallback_version,
         GCancellable *cancellable,
         GError **error)
{
  g_autoptr (MbdDeb) deb = mbd_deb_new_from_file (path, cancellable, error);
  if (deb == NULL)
    return FALSE;
  MbdParagraph *control = mbd_deb_get_control (deb);
  const char *source_field = mbd_paragraph_get (control, "Source");
  const char *open = source_field != NULL ? strchr (source_field, '(') : NULL;
  g_autofree char *version = NULL;
  if (open != NULL)
    {
      const char *close = strchr (open, ')');
      gsize len = close != NULL ? (gsize) (close - open - 1) : strlen (open + 1);
      version = g_strstrip (g_strndup (open + 1, len));
    }
  else
    version = g_strdup (fallback_version != NULL ? fallback_version : mbd_deb_get_version (deb));
  const char *section = listed != NULL && mbd_file_entry_get_section (listed) != NULL
                            ? mbd_file_entry_get_section (listed)
                            : mbd_paragraph_get (control, "Section");
  g_autofree char *component = component_of_section (section);
  Group *group = get_group (groups, mbd_deb_get_source (deb), version, component, path, error);
  if (group == NULL)
    return FALSE;
  IncludeDeb *item = g_new0 (IncludeDeb, 1);
  item->control = mbd_paragraph_to_string (control);
  item->package = g_strdup (mbd_deb_get_package (deb));
  item->version = g_strdup (mbd_deb_get_version (deb));
  item->architecture = g_strdup (mbd_deb_get_architecture (deb));
  item->path = g_strdup (path);
  item->listed = listed != NULL ? mbd_file_entry_copy (listed) : NULL;
  g_ptr_array_add (group->debs, item);
  return TRUE;
}

static gboolean
add_dsc (GHashTable *groups,
         const char *path,
         const MbdFileEntry *listed,
         GCancellable *cancellable,
         GError **error)
{
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_file (path, error);
  if (dsc == NULL)
    return FALSE;
  g_autofree char *dir = g_path_get_dirname (path);
  if (!mbd_dsc_verify_files (dsc, dir, cancellable, error))
    return FALSE;
  const char *section = listed != NULL ? mbd_file_entry_get_section (listed) : NULL;
  g_autofree char *component = component_of_section (section);
  Group *group = get_group (groups, mbd_dsc_get_source (dsc), mbd_dsc_get_version (dsc), component,
                            path, error);
  if (group == NULL)
    return FALSE;
  if (group->dsc != NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s: source %s is included twice", path,
                      group->source);
  g_free (group->component);
  group->component = g_steal_pointer (&component);
  group->dsc = g_steal_pointer (&dsc);
  group->dsc_dir = g_steal_pointer (&dir);
  group->dsc_listed = listed != NULL ? mbd_file_entry_copy (listed) : NULL;
  return TRUE;
}

static gboolean
add_changes (GHashTable *groups, const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (MbdChanges) changes = mbd_changes_new_from_file (path, error);
  if (changes == NULL)
    return FALSE;
  g_autofree char *dir = g_path_get_dirname (path);
  if (!mbd_changes_verify_files (changes, dir, cancellable, error))
    return FALSE;
  const char *version = mbd_changes_get_source_version (changes);
  if (version == NULL)
    version = mbd_changes_get_version (changes);

  g_autoptr (GPtrArray) files = mbd_changes_get_files (changes);
  gboolean any = FALSE;
  for (guint i = 0; i < files->len; i++)
    {
      const MbdFileEntry *entry = g_ptr_array_index (files, i);
      const char *name = mbd_file_entry_get_name (entry);
      g_autofree char *file = g_build_filename (dir, name, NULL);
      if (g_str_has_suffix (name, ".dsc"))
        {
          if (!add_dsc (groups, file, entry, cancellable, error))
            return mbd_prefix_error (error, "%s: ", path);
          any = TRUE;
        }
      else if (g_str_has_suffix (name, ".deb"))
        {
          if (!add_deb (groups, file, entry, version, cancellable, error))
            return mbd_prefix_error (error, "%s: ", path);
          any = TRUE;
        }
    }
  if (!any)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "%s: lists neither a .dsc nor a .deb to include", path);
  return TRUE;
}

/* ---- the pool ---------------------------------------------------------------------------- */

static char *
pool_dir (const char *component, const char *source)
{
  g_autofree char *prefix = g_str_has_prefix (source, "lib") && strlen (source) > 3
                                ? g_strndup (source, 4)
                                : g_strndup (source, 1);
  return g_build_filename ("pool", component, prefix, source, NULL);
}

typedef struct
{
  gint64 id;
  guint64 size;
  char *md5;
  char *sha256;
  char *path; /* relative to the repository dir */
} PoolFile;

static void
pool_file_clear (PoolFile *file)
{
  g_free (file->md5);
  g_free (file->sha256);
  g_free (file->path);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PoolFile, pool_file_clear)

/* Copies @src to a new temporary file in @dir, hashing what is written. */
static char *
copy_hashed (const char *src,
             const char *dir,
             const char *name,
             guint64 *out_size,
             char **out_md5,
             char **out_sha256,
             GCancellable *cancellable,
             GError **error)
{
  int in = g_open (src, O_RDONLY | O_CLOEXEC, 0);
  if (in < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot open: %s", src,
                   g_strerror (saved));
      return NULL;
    }
  g_autofree char *tmp = g_strdup_printf ("%s/.%s.mbd-XXXXXX", dir, name);
  int out = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (out < 0)
    {
      int saved = errno;
      close (in);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s", tmp,
                   g_strerror (saved));
      return NULL;
    }
  g_autoptr (GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);
  g_autoptr (GChecksum) sha256 = g_checksum_new (G_CHECKSUM_SHA256);
  guint64 size = 0;
  char buf[65536];
  gboolean ok = TRUE;
  const char *failed = NULL;
  int saved = 0;
  for (;;)
    {
      ssize_t n = read (in, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved = errno, failed = src, ok = FALSE;
          break;
        }
      if (n == 0)
        break;
      if (g_cancellable_is_cancelled (cancellable))
        {
          ok = FALSE;
          break;
        }
      g_checksum_update (md5, (const guchar *) buf, n);
      g_checksum_update (sha256, (const guchar *) buf, n);
      size += n;
      for (ssize_t done = 0; done < n;)
        {
          ssize_t w = write (out, buf + done, n - done);
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            {
              saved = errno, failed = tmp, ok = FALSE;
              break;
            }
          done += w;
        }
      if (!ok)
        break;
    }
  close (in);
  if (close (out) < 0 && ok)
    saved = errno, failed = tmp, ok = FALSE;
  if (!ok)
    {
      g_unlink (tmp);
      if (failed == NULL)
        g_cancellable_set_error_if_cancelled (cancellable, error);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", failed,
                     g_strerror (saved));
      return NULL;
    }
  *out_size = size;
  *out_md5 = g_strdup (g_checksum_get_string (md5));
  *out_sha256 = g_strdup (g_checksum_get_string (sha256));
  return g_steal_pointer (&tmp);
}

/* Stores (or finds) the file @src as @name in the pool directory of @source: a file of that name
 * already in the pool must have the same content. */
static gboolean
pool_add (MbdRepoTxn *txn,
          const char *component,
          const char *source,
          const char *src,
          const char *name,
          const MbdFileEntry *listed,
          PoolFile *out,
          GCancellable *cancellable,
          GError **error)
{
  if (!mbd_filename_is_safe (name, error))
    return FALSE;
  g_autofree char *dir = pool_dir (component, source);
  out->path = g_build_filename (dir, name, NULL);

  g_autoptr (sqlite3_stmt) find = mbd_db_prepare (
      txn->db,
      "SELECT id, size, md5, sha256 FROM pool_files WHERE repository_id = ?1 "
      "AND path = ?2",
      error);
  if (find == NULL)
    return FALSE;
  sqlite3_bind_int64 (find, 1, txn->repo->id);
  sqlite3_bind_text (find, 2, out->path, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (find);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return mbd_db_throw (txn->db, rc, "cannot read the pool", error);

  if (rc == SQLITE_ROW)
    {
      out->id = sqlite3_column_int64 (find, 0);
      out->size = sqlite3_column_int64 (find, 1);
      out->md5 = g_strdup ((const char *) sqlite3_column_text (find, 2));
      out->sha256 = g_strdup ((const char *) sqlite3_column_text (find, 3));
      /* the content must be the same: compare with the listed checksum or hash the file */
      g_autofree char *sha256 = NULL;
      guint64 size;
      if (listed != NULL && mbd_file_entry_get_sha256 (listed) != NULL)
        {
          sha256 = g_strdup (mbd_file_entry_get_sha256 (listed));
          size = mbd_file_entry_get_size (listed);
        }
      else
        {
          g_autofree char *src_dir = g_path_get_dirname (src);
          g_autofree char *base = g_path_get_basename (src);
          g_autoptr (MbdFileEntry) computed
                     = mbd_file_entry_new_from_file (src_dir, base, cancellable, error);
          if (computed == NULL)
            return FALSE;
          sha256 = g_strdup (mbd_file_entry_get_sha256 (computed));
          size = mbd_file_entry_get_size (computed);
        }
      if (size != out->size || g_ascii_strcasecmp (sha256, out->sha256) != 0)
        return mbd_throw (error, MBD_ERROR_EXISTS,
                          "%s: the pool of repository %s holds a different file of this name "
                          "(%s, sha256 %s; this one has sha256 %s); give the new file another "
                          "version",
                          name, txn->repo->identity, out->path, out->sha256, sha256);
      return TRUE;
    }

  MbdRepoStaged *staged = g_hash_table_lookup (txn->staged, out->path);
  if (staged != NULL)
    {
      /* the same name twice in one include (a .changes and its .dsc list the same tarball) */
      g_autoptr (sqlite3_stmt) again = mbd_db_prepare (
          txn->db,
          "SELECT id, size, md5, sha256 FROM pool_files WHERE repository_id = ?1 AND path = ?2",
          error);
      if (again == NULL)
        return FALSE;
      sqlite3_bind_int64 (again, 1, txn->repo->id);
      sqlite3_bind_text (again, 2, out->path, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (again) != SQLITE_ROW)
        return mbd_db_throw (txn->db, SQLITE_ERROR, "staged pool file vanished", error);
      out->id = sqlite3_column_int64 (again, 0);
      out->size = sqlite3_column_int64 (again, 1);
      out->md5 = g_strdup ((const char *) sqlite3_column_text (again, 2));
      out->sha256 = g_strdup ((const char *) sqlite3_column_text (again, 3));
      if (listed != NULL && mbd_file_entry_get_sha256 (listed) != NULL
          && g_ascii_strcasecmp (mbd_file_entry_get_sha256 (listed), out->sha256) != 0)
        return mbd_throw (error, MBD_ERROR_EXISTS,
                          "%s: two different files of this name are in the same include", name);
      return TRUE;
    }

  g_autofree char *abs_dir = g_build_filename (txn->repo_dir, dir, NULL);
  if (g_mkdir_with_parents (abs_dir, 0755) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s",
                   abs_dir, g_strerror (saved));
      return FALSE;
    }
  g_autofree char *tmp
      = copy_hashed (src, abs_dir, name, &out->size, &out->md5, &out->sha256, cancellable, error);
  if (tmp == NULL)
    return FALSE;
  staged = g_new0 (MbdRepoStaged, 1);
  staged->tmp = g_steal_pointer (&tmp);
  staged->final = g_build_filename (txn->repo_dir, out->path, NULL);
  g_hash_table_insert (txn->staged, g_strdup (out->path), staged);

  /* what was copied is what the .changes/.dsc promised (the file may have changed since) */
  if (listed != NULL
      && (mbd_file_entry_get_size (listed) != out->size
          || (mbd_file_entry_get_sha256 (listed) != NULL
              && g_ascii_strcasecmp (mbd_file_entry_get_sha256 (listed), out->sha256) != 0)))
    return mbd_throw (error, MBD_ERROR_CHECKSUM_MISMATCH,
                      "%s: changed while it was being included (sha256 now %s)", src, out->sha256);

  g_autoptr (sqlite3_stmt) insert = mbd_db_prepare (
      txn->db,
      "INSERT INTO pool_files (repository_id, path, size, md5, sha256) VALUES "
      "(?1, ?2, ?3, ?4, ?5)",
      error);
  if (insert == NULL)
    return FALSE;
  sqlite3_bind_int64 (insert, 1, txn->repo->id);
  sqlite3_bind_text (insert, 2, out->path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (insert, 3, (gint64) out->size);
  sqlite3_bind_text (insert, 4, out->md5, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 5, out->sha256, -1, SQLITE_TRANSIENT);
  if (!mbd_db_step_done (txn->db, insert, error))
    return FALSE;
  out->id = sqlite3_last_insert_rowid (mbd_db_get_handle (txn->db));
  return TRUE;
}

static gboolean
link_file (MbdRepoTxn *txn, gint64 entry_id, gint64 file_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      txn->db, "INSERT OR IGNORE INTO entry_files (entry_id, file_id) VALUES (?1, ?2)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, entry_id);
  sqlite3_bind_int64 (stmt, 2, file_id);
  return mbd_db_step_done (txn->db, stmt, error);
}

/* ---- stanzas ----------------------------------------------------------------------------- */

static char *
stanza_text (MbdParagraph *paragraph)
{
  char *text = mbd_paragraph_to_string (paragraph);
  gsize len = strlen (text);
  while (len > 0 && text[len - 1] == '\n')
    text[--len] = '\0';
  return text;
}

static char *
packages_stanza (IncludeDeb *item, const PoolFile *file, GError **error)
{
  g_autoptr (MbdControl) parsed = mbd_control_new_from_string (item->control, item->path, error);
  if (parsed == NULL)
    return NULL;
  MbdParagraph *control = mbd_control_get_paragraph (parsed, 0);

  if (item->listed != NULL)
    {
      const char *section = mbd_file_entry_get_section (item->listed);
      const char *priority = mbd_file_entry_get_priority (item->listed);
      if (section != NULL && strcmp (section, "-") != 0)
        mbd_paragraph_set (control, "Section", section);
      if (priority != NULL && strcmp (priority, "-") != 0)
        mbd_paragraph_set (control, "Priority", priority);
    }
  g_autofree char *size = g_strdup_printf ("%" G_GUINT64_FORMAT, file->size);
  mbd_paragraph_set (control, "Filename", file->path);
  mbd_paragraph_set (control, "Size", size);
  mbd_paragraph_set (control, "MD5sum", file->md5);
  mbd_paragraph_set (control, "SHA256", file->sha256);
  return stanza_text (control);
}

static char *
sources_stanza (Group *group, const char *dir, const PoolFile *dsc_file)
{
  MbdParagraph *dsc = mbd_dsc_get_paragraph (group->dsc);
  g_autoptr (MbdParagraph) out = mbd_paragraph_new ();
  g_auto (GStrv) fields = mbd_paragraph_get_fields (dsc);

  mbd_paragraph_set (out, "Package", group->source);
  for (guint i = 0; fields[i] != NULL; i++)
    {
      const char *f = fields[i];
      if (g_ascii_strcasecmp (f, "Source") == 0 || g_ascii_strcasecmp (f, "Files") == 0
          || g_ascii_strcasecmp (f, "Checksums-Sha1") == 0
          || g_ascii_strcasecmp (f, "Checksums-Sha256") == 0)
        continue;
      mbd_paragraph_set (out, f, mbd_paragraph_get (dsc, f));
    }
  const char *section
      = group->dsc_listed != NULL ? mbd_file_entry_get_section (group->dsc_listed) : NULL;
  const char *priority
      = group->dsc_listed != NULL ? mbd_file_entry_get_priority (group->dsc_listed) : NULL;
  mbd_paragraph_set (out, "Directory", dir);
  mbd_paragraph_set (out, "Priority", priority != NULL ? priority : "optional");
  mbd_paragraph_set (out, "Section", section != NULL ? section : "misc");

  g_autoptr (GString) files = g_string_new (NULL);
  g_autoptr (GString) sha256 = g_string_new (NULL);
  g_autoptr (GString) sha1 = g_string_new (NULL);
  gboolean have_sha1 = mbd_paragraph_has_field (dsc, "Checksums-Sha1");
  g_autofree char *dsc_name = g_path_get_basename (dsc_file->path);
  g_autofree char *dsc_sha1 = NULL;
  if (have_sha1)
    {
      g_autofree char *abs = g_build_filename (group->dsc_dir, dsc_name, NULL);
      g_autofree char *data = NULL;
      gsize len = 0;
      if (g_file_get_contents (abs, &data, &len, NULL))
        dsc_sha1 = g_compute_checksum_for_data (G_CHECKSUM_SHA1, (const guchar *) data, len);
      have_sha1 = dsc_sha1 != NULL;
    }
  g_string_append_printf (files, "\n %s %" G_GUINT64_FORMAT " %s", dsc_file->md5, dsc_file->size,
                          dsc_name);
  g_string_append_printf (sha256, "\n %s %" G_GUINT64_FORMAT " %s", dsc_file->sha256,
                          dsc_file->size, dsc_name);
  if (have_sha1)
    g_string_append_printf (sha1, "\n %s %" G_GUINT64_FORMAT " %s", dsc_sha1, dsc_file->size,
                            dsc_name);
  g_autoptr (GPtrArray) entries = mbd_dsc_get_files (group->dsc);
  for (guint i = 0; i < entries->len; i++)
    {
      const MbdFileEntry *e = g_ptr_array_index (entries, i);
      guint64 size = mbd_file_entry_get_size (e);
      const char *name = mbd_file_entry_get_name (e);
      g_string_append_printf (files, "\n %s %" G_GUINT64_FORMAT " %s", mbd_file_entry_get_md5 (e),
                              size, name);
      g_string_append_printf (sha256, "\n %s %" G_GUINT64_FORMAT " %s",
                              mbd_file_entry_get_sha256 (e), size, name);
      if (have_sha1 && mbd_file_entry_get_sha1 (e) != NULL)
        g_string_append_printf (sha1, "\n %s %" G_GUINT64_FORMAT " %s", mbd_file_entry_get_sha1 (e),
                                size, name);
    }
  mbd_paragraph_set (out, "Files", files->str);
  if (have_sha1)
    mbd_paragraph_set (out, "Checksums-Sha1", sha1->str);
  mbd_paragraph_set (out, "Checksums-Sha256", sha256->str);
  return stanza_text (out);
}

/* ---- the include itself ------------------------------------------------------------------ */

static gboolean
entry_has_dsc (MbdRepoTxn *txn, gint64 entry_id, gboolean *out, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      txn->db, "SELECT source_stanza IS NOT NULL FROM package_entries WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, entry_id);
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return mbd_db_throw (txn->db, rc, "cannot read a package entry", error);
  *out = sqlite3_column_int (stmt, 0) != 0;
  return TRUE;
}

static gboolean
insert_group (MbdRepoTxn *txn,
              MbdDistribution *dist,
              MbdSuite *suite,
              const char *dist_string,
              Group *group,
              GCancellable *cancellable,
              GError **error)
{
  gint64 entry_id = 0;
  g_autofree char *have = NULL;

  if (!mbd_repo_entry_lookup (txn, dist_string, group->source, &entry_id, &have, error))
    return FALSE;
  if (entry_id != 0)
    {
      int cmp = mbd_deb_version_compare_strings (have, group->version);
      if (cmp > 0)
        return mbd_throw (error, MBD_ERROR_REJECTED,
                          "%s: %s has %s %s, newer than %s; remove it first or upload a higher "
                          "version",
                          group->origin, dist_string, group->source, have, group->version);
      if (cmp < 0)
        {
          if (!mbd_repo_shift_into_rollbacks (txn, dist, suite, dist_string, group->source,
                                              entry_id, have, TRUE, error))
            return FALSE;
          entry_id = 0;
        }
      else
        {
          gboolean has_dsc = FALSE;
          if (!entry_has_dsc (txn, entry_id, &has_dsc, error))
            return FALSE;
          if (group->dsc != NULL && has_dsc)
            return mbd_throw (error, MBD_ERROR_EXISTS,
                              "%s: source %s %s is in %s already; upload a new version",
                              group->origin, group->source, group->version, dist_string);
          /* binaries join the entry: unpublish it, add them, publish it again */
          if (!mbd_repo_entry_index (txn, dist, entry_id, dist_string, FALSE, error))
            return FALSE;
        }
    }
  if (!g_strv_contains (mbd_distribution_get_components (dist), group->component))
    {
      g_autofree char *known = g_strjoinv (" ", (char **) mbd_distribution_get_components (dist));
      return mbd_throw (error, MBD_ERROR_REJECTED,
                        "%s: component %s of %s is not one of distribution %s (%s)", group->origin,
                        group->component, group->source, dist_string, known);
    }

  g_autofree char *dir = pool_dir (group->component, group->source);
  if (entry_id == 0)
    {
      g_autoptr (sqlite3_stmt) insert = mbd_db_prepare (
          txn->db,
          "INSERT INTO package_entries (repository_id, suite_path, source, version, component) "
          "VALUES (?1, ?2, ?3, ?4, ?5)",
          error);
      if (insert == NULL)
        return FALSE;
      sqlite3_bind_int64 (insert, 1, txn->repo->id);
      sqlite3_bind_text (insert, 2, dist_string, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (insert, 3, group->source, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (insert, 4, group->version, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (insert, 5, group->component, -1, SQLITE_TRANSIENT);
      if (!mbd_db_step_done (txn->db, insert, error))
        return FALSE;
      entry_id = sqlite3_last_insert_rowid (mbd_db_get_handle (txn->db));
    }

  if (group->dsc != NULL)
    {
      g_autoptr (GPtrArray) entries = mbd_dsc_get_files (group->dsc);
      for (guint i = 0; i < entries->len; i++)
        {
          const MbdFileEntry *e = g_ptr_array_index (entries, i);
          g_autofree char *src
              = g_build_filename (group->dsc_dir, mbd_file_entry_get_name (e), NULL);
          g_auto (PoolFile) file = { 0 };
          if (!pool_add (txn, group->component, group->source, src, mbd_file_entry_get_name (e), e,
                         &file, cancellable, error)
              || !link_file (txn, entry_id, file.id, error))
            return FALSE;
        }
      const char *dsc_name = mbd_dsc_get_name (group->dsc);
      g_autofree char *dsc_base = g_path_get_basename (dsc_name);
      g_autofree char *dsc_src = g_build_filename (group->dsc_dir, dsc_base, NULL);
      g_auto (PoolFile) dsc_file = { 0 };
      if (!pool_add (txn, group->component, group->source, dsc_src, dsc_base, group->dsc_listed,
                     &dsc_file, cancellable, error)
          || !link_file (txn, entry_id, dsc_file.id, error))
        return FALSE;
      g_autofree char *stanza = sources_stanza (group, dir, &dsc_file);
      g_autoptr (sqlite3_stmt) update = mbd_db_prepare (
          txn->db, "UPDATE package_entries SET dsc_file_id = ?2, source_stanza = ?3 WHERE id = ?1",
          error);
      if (update == NULL)
        return FALSE;
      sqlite3_bind_int64 (update, 1, entry_id);
      sqlite3_bind_int64 (update, 2, dsc_file.id);
      sqlite3_bind_text (update, 3, stanza, -1, SQLITE_TRANSIENT);
      if (!mbd_db_step_done (txn->db, update, error))
        return FALSE;
    }

  g_autoptr (sqlite3_stmt) bin = mbd_db_prepare (
      txn->db,
      "INSERT INTO entry_binaries (entry_id, package, version, architecture, file_id, stanza) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      error);
  if (bin == NULL)
    return FALSE;
  for (guint i = 0; i < group->debs->len; i++)
    {
      IncludeDeb *item = g_ptr_array_index (group->debs, i);
      g_autofree char *base = g_path_get_basename (item->path);
      g_auto (PoolFile) file = { 0 };
      if (!pool_add (txn, group->component, group->source, item->path, base, item->listed, &file,
                     cancellable, error)
          || !link_file (txn, entry_id, file.id, error))
        return FALSE;
      g_autofree char *stanza = packages_stanza (item, &file, error);
      if (stanza == NULL)
        return FALSE;
      sqlite3_reset (bin);
      sqlite3_bind_int64 (bin, 1, entry_id);
      sqlite3_bind_text (bin, 2, item->package, -1, SQLITE_STATIC);
      sqlite3_bind_text (bin, 3, item->version, -1, SQLITE_STATIC);
      sqlite3_bind_text (bin, 4, item->architecture, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (bin, 5, file.id);
      sqlite3_bind_text (bin, 6, stanza, -1, SQLITE_TRANSIENT);
      int rc = sqlite3_step (bin);
      if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return mbd_throw (error, MBD_ERROR_EXISTS,
                          "%s: package %s %s (%s) is in %s already; upload a new version",
                          item->path, item->package, item->version, item->architecture,
                          dist_string);
      if (rc != SQLITE_DONE)
        return mbd_db_throw (txn->db, rc, "cannot store a binary", error);
    }
  return mbd_repo_entry_index (txn, dist, entry_id, dist_string, TRUE, error);
}

static gboolean
load_files (GHashTable *groups, const char *const *files, GCancellable *cancellable, GError **error)
{
  for (guint i = 0; files[i] != NULL; i++)
    {
      const char *path = files[i];
      gboolean ok;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (g_str_has_suffix (path, ".changes"))
        ok = add_changes (groups, path, cancellable, error);
      else if (g_str_has_suffix (path, ".deb"))
        ok = add_deb (groups, path, NULL, NULL, cancellable, error);
      else if (g_str_has_suffix (path, ".dsc"))
        ok = add_dsc (groups, path, NULL, cancellable, error);
      else
        ok = mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                        "%s: cannot include this file: give .changes, .deb or .dsc files", path);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static int
compare_groups (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(Group *const *) a)->source, (*(Group *const *) b)->source);
}

/**
 * mbd_repository_include:
 * @self: a stored repository
 * @distribution: the target, a distribution string such as `bookworm-test-unstable`
 * @files: (array zero-terminated=1): `.changes` files (with the files they list next to them),
 *   `.deb` files or `.dsc` files (with their source files next to them)
 * @cancellable: (nullable): a cancellable
 *
 * Includes packages into a distribution, all in one transaction, then publishes it. The
 * checksums and sizes of the files a `.changes` or `.dsc` lists are verified; signatures are not
 * (that is the packager's job). Files are stored once in the pool
 * (`pool/<component>/<prefix>/<source>/`, component from the section); binaries of
 * `Architecture: all` are published for every architecture of the distribution. A source that
 * is in the distribution already with an older version moves into the rollback distributions.
 *
 * Refusals change nothing, on disk or in the database: %MBD_ERROR_NOT_FOUND for an unknown
 * distribution; %MBD_ERROR_REJECTED for a suite that is not uploadable, a rollback distribution,
 * or a version older than the one present; %MBD_ERROR_INVALID_VERSION for a version that does
 * not follow the layout's version rule; %MBD_ERROR_EXISTS for a version present already or a file
 * name the pool holds with other content; the errors of [ctor@Mbd.Changes.new_from_file],
 * [ctor@Mbd.Deb.new_from_file] and [method@Mbd.Changes.verify_files] for bad input.
 *
 * Returns: %TRUE if included (and published)
 */
gboolean
mbd_repository_include (MbdRepository *self,
                        const char *distribution,
                        const char *const *files,
                        GCancellable *cancellable,
                        GError **error)
{
  g_return_val_if_fail (MBD_IS_REPOSITORY (self), FALSE);
  g_return_val_if_fail (distribution != NULL && files != NULL, FALSE);
  g_return_val_if_fail (self->instance != NULL, FALSE);

  MbdSuite *suite = NULL;
  int rollback = -1;
  MbdDistribution *dist
      = mbd_repository_lookup_distribution_string (self, distribution, &suite, &rollback, error);
  if (dist == NULL)
    return FALSE;
  if (rollback >= 0)
    return mbd_throw (error, MBD_ERROR_REJECTED,
                      "%s is a rollback distribution: packages cannot be included into it",
                      distribution);
  if (!mbd_suite_get_uploadable (suite))
    return mbd_throw (error, MBD_ERROR_REJECTED,
                      "%s is not uploadable: packages reach suite %s by migration only",
                      distribution, mbd_suite_get_name (suite));
  if (files[0] == NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "no files to include into %s",
                      distribution);

  g_autoptr (GHashTable) groups
             = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) group_free);
  if (!load_files (groups, files, cancellable, error))
    return FALSE;
  g_autoptr (GPtrArray) sorted = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (sorted, value);
  g_ptr_array_sort (sorted, compare_groups);
  for (guint i = 0; i < sorted->len; i++)
    {
      Group *group = g_ptr_array_index (sorted, i);
      if (!mbd_layout_check_version (self->layout, suite, self->identity,
                                     mbd_distribution_get_codeversion (dist), group->version,
                                     error))
        return mbd_prefix_error (error, "%s: ", group->origin);
    }

  MbdRepoTxn txn;
  if (!mbd_repo_txn_begin (&txn, self, error))
    {
      mbd_repo_txn_clear (&txn);
      return FALSE;
    }
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < sorted->len; i++)
    {
      Group *group = g_ptr_array_index (sorted, i);
      ok = insert_group (&txn, dist, suite, distribution, group, cancellable, error);
      /* the parsed packages are not needed any more: a bulk include keeps its peak low */
      g_ptr_array_set_size (group->debs, 0);
      g_clear_object (&group->dsc);
    }
  if (ok)
    ok = mbd_repo_txn_commit (&txn, cancellable, error);
  mbd_repo_txn_clear (&txn);
  return ok;
}

typedef struct
{
  char *distribution;
  char **files;
} IncludeData;

static void
include_data_free (IncludeData *data)
{
  g_free (data->distribution);
  g_strfreev (data->files);
  g_free (data);
}

static void
include_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  IncludeData *data = task_data;
  g_autoptr (GError) error = NULL;

  if (!mbd_repository_include (source, data->distribution, (const char *const *) data->files,
                               cancellable, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * mbd_repository_include_async:
 * @self: a stored repository
 * @distribution: the target distribution string
 * @files: (array zero-terminated=1): the files to include
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Includes packages in a worker thread; see [method@Mbd.Repository.include].
 */
void
mbd_repository_include_async (MbdRepository *self,
                              const char *distribution,
                              const char *const *files,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_return_if_fail (MBD_IS_REPOSITORY (self));

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_repository_include_async);
  g_task_set_name (task, "[mbd] include");
  IncludeData *data = g_new0 (IncludeData, 1);
  data->distribution = g_strdup (distribution);
  data->files = g_strdupv ((char **) files);
  g_task_set_task_data (task, data, (GDestroyNotify) include_data_free);
  g_task_run_in_thread (task, include_thread);
}

/**
 * mbd_repository_include_finish:
 * @self: a repository
 * @result: the result passed to the callback
 *
 * Finishes [method@Mbd.Repository.include_async].
 *
 * Returns: %TRUE if included
 */
gboolean
mbd_repository_include_finish (MbdRepository *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_repository_include_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
