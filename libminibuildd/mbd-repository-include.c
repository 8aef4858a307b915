/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbd-changes.h"
#include "mbd-deb-private.h"
#include "mbd-deb-version.h"
#include "mbd-dsc.h"
#include "mbd-file-entry.h"
#include "mbd-repository-private.h"
#include "mbd-util-private.h"

/* Including package files: each source becomes one entry of the target distribution, its files
 * are stored in the pool once (staged under a temporary name, renamed into place just before
 * COMMIT) and its Packages/Sources stanzas are rendered from the .deb control and the .dsc.
 *
 * A bulk include of tens of thousands of packages runs in four steps: the given files are read
 * and checked on all cores (load), grouped by source in the order given (group), each group's
 * files are copied next to their pool place and hashed, and its stanzas rendered, on all cores
 * (stage), and then the database rows are written in one transaction, one source after another
 * (insert). Nothing of the first three steps is visible: a refusal anywhere leaves the pool, the
 * indices and the database as they were. */

/* A file on its way into the pool. */
typedef struct
{
  char *src;                  /* the file to store */
  char *name;                 /* its name in the pool */
  const MbdFileEntry *listed; /* (unowned) (nullable): what a .changes or .dsc says of it */
  char *path;                 /* relative to the repository dir */
  char *tmp;                  /* (nullable) the staged copy, until the transaction takes it */
  guint64 size;
  char *md5;
  char *sha256;
  gint64 id; /* its pool_files row, once inserted or found */
} PoolFile;

static void
pool_file_free (PoolFile *file)
{
  if (file->tmp != NULL)
    g_unlink (file->tmp);
  g_free (file->tmp);
  g_free (file->src);
  g_free (file->name);
  g_free (file->path);
  g_free (file->md5);
  g_free (file->sha256);
  g_free (file);
}

static PoolFile *
pool_file_new (char *src, char *name, const MbdFileEntry *listed)
{
  PoolFile *file = g_new0 (PoolFile, 1);
  file->src = src;
  file->name = name;
  file->listed = listed;
  return file;
}

/* What an include needs of a .deb: its control paragraph as text (a parsed MbdDeb with its file
 * list costs several times more, which adds up in a bulk include of tens of thousands). */
typedef struct
{
  char *control; /* freed once the stanza is rendered */
  char *package;
  char *version;
  char *architecture;
  char *source;
  char *source_version;
  char *component;
  char *path;
  char *origin;         /* (nullable): the .changes that listed it */
  MbdFileEntry *listed; /* (nullable): the .changes entry, with section and priority */
  PoolFile *file;       /* (nullable): set by staging */
  char *stanza;         /* (nullable): set by staging */
} IncludeDeb;

typedef struct
{
  MbdDsc *dsc;
  char *dir;
  char *path;
  char *component;
  char *origin;         /* (nullable): the .changes that listed it */
  MbdFileEntry *listed; /* (nullable) */
} IncludeDsc;

typedef struct
{
  char *source;
  char *version;
  char *component;
  IncludeDsc *dsc;        /* (nullable) */
  GPtrArray *debs;        /* (element-type IncludeDeb) */
  char *origin;           /* the file that brought the group in, for messages */
  GPtrArray *dsc_entries; /* (element-type MbdFileEntry): the files the .dsc lists */
  GPtrArray *dsc_files;   /* (element-type PoolFile): the same, on their way to the pool */
  PoolFile *dsc_file;     /* (nullable): the .dsc itself */
  char *source_stanza;    /* (nullable) */
  char *created_dir;      /* (nullable): the pool directory staging created */
} Group;

static void
include_deb_free (IncludeDeb *item)
{
  g_free (item->control);
  g_free (item->package);
  g_free (item->version);
  g_free (item->architecture);
  g_free (item->source);
  g_free (item->source_version);
  g_free (item->component);
  g_free (item->path);
  g_free (item->origin);
  g_clear_pointer (&item->listed, mbd_file_entry_free);
  g_clear_pointer (&item->file, pool_file_free);
  g_free (item->stanza);
  g_free (item);
}

static void
include_dsc_free (IncludeDsc *item)
{
  g_clear_object (&item->dsc);
  g_free (item->dir);
  g_free (item->path);
  g_free (item->component);
  g_free (item->origin);
  g_clear_pointer (&item->listed, mbd_file_entry_free);
  g_free (item);
}

static void
group_free (Group *group)
{
  g_free (group->source);
  g_free (group->version);
  g_free (group->component);
  g_clear_pointer (&group->dsc, include_dsc_free);
  g_ptr_array_unref (group->debs);
  g_free (group->origin);
  g_clear_pointer (&group->dsc_files, g_ptr_array_unref);
  g_clear_pointer (&group->dsc_entries, g_ptr_array_unref);
  g_clear_pointer (&group->dsc_file, pool_file_free);
  g_free (group->source_stanza);
  g_free (group->created_dir);
  g_free (group);
}

static char *
component_of_section (const char *section)
{
  const char *slash = section != NULL ? strchr (section, '/') : NULL;
  return slash != NULL ? g_strndup (section, slash - section) : g_strdup ("main");
}

/* ---- load: reading and checking the given files (on all cores) ---------------------------- */

/* One given file: a .deb or .dsc, or a .changes with the ones it lists, in its order. */
typedef struct
{
  GPtrArray *debs; /* (element-type IncludeDeb) */
  GPtrArray *dscs; /* (element-type IncludeDsc) */
  GArray *order;   /* TRUE for the next dsc, FALSE for the next deb */
} Loaded;

/* Frees what no group took (taken items are NULL in the arrays). */
static void
loaded_clear (Loaded *loaded)
{
  for (guint i = 0; loaded->debs != NULL && i < loaded->debs->len; i++)
    if (g_ptr_array_index (loaded->debs, i) != NULL)
      include_deb_free (g_ptr_array_index (loaded->debs, i));
  for (guint i = 0; loaded->dscs != NULL && i < loaded->dscs->len; i++)
    if (g_ptr_array_index (loaded->dscs, i) != NULL)
      include_dsc_free (g_ptr_array_index (loaded->dscs, i));
  g_clear_pointer (&loaded->debs, g_ptr_array_unref);
  g_clear_pointer (&loaded->dscs, g_ptr_array_unref);
  g_clear_pointer (&loaded->order, g_array_unref);
}

static IncludeDeb *
read_deb (const char *path,
          const MbdFileEntry *listed,
          const char *fallback_version,
          const char *origin,
          GCancellable *cancellable,
          GError **error)
{
  g_autoptr (MbdDeb) deb = mbd_deb_new_from_file_control_only (path, cancellable, error);
  if (deb == NULL)
    return NULL;
  MbdParagraph *control = mbd_deb_get_control (deb);
  const char *source_field = mbd_paragraph_get (control, "Source");
  const char *open = source_field != NULL ? strchr (source_field, '(') : NULL;
  IncludeDeb *item = g_new0 (IncludeDeb, 1);
  if (open != NULL)
    {
      const char *close = strchr (open, ')');
      gsize len = close != NULL ? (gsize) (close - open - 1) : strlen (open + 1);
      item->source_version = g_strstrip (g_strndup (open + 1, len));
    }
  else
    item->source_version
        = g_strdup (fallback_version != NULL ? fallback_version : mbd_deb_get_version (deb));
  const char *section = listed != NULL && mbd_file_entry_get_section (listed) != NULL
                            ? mbd_file_entry_get_section (listed)
                            : mbd_paragraph_get (control, "Section");
  item->component = component_of_section (section);
  item->control = mbd_paragraph_to_string (control);
  item->package = g_strdup (mbd_deb_get_package (deb));
  item->version = g_strdup (mbd_deb_get_version (deb));
  item->architecture = g_strdup (mbd_deb_get_architecture (deb));
  item->source = g_strdup (mbd_deb_get_source (deb));
  item->path = g_strdup (path);
  item->origin = g_strdup (origin);
  item->listed = listed != NULL ? mbd_file_entry_copy (listed) : NULL;
  return item;
}

static IncludeDsc *
read_dsc (const char *path,
          const MbdFileEntry *listed,
          const char *origin,
          GCancellable *cancellable,
          GError **error)
{
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_file (path, error);
  if (dsc == NULL)
    return NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  if (!mbd_dsc_verify_files (dsc, dir, cancellable, error))
    return NULL;
  IncludeDsc *item = g_new0 (IncludeDsc, 1);
  item->dsc = g_steal_pointer (&dsc);
  item->dir = g_steal_pointer (&dir);
  item->path = g_strdup (path);
  item->component
      = component_of_section (listed != NULL ? mbd_file_entry_get_section (listed) : NULL);
  item->origin = g_strdup (origin);
  item->listed = listed != NULL ? mbd_file_entry_copy (listed) : NULL;
  return item;
}

static gboolean
load_add_deb (Loaded *loaded,
              const char *path,
              const MbdFileEntry *listed,
              const char *fallback_version,
              const char *origin,
              GCancellable *cancellable,
              GError **error)
{
  IncludeDeb *item = read_deb (path, listed, fallback_version, origin, cancellable, error);
  if (item == NULL)
    return FALSE;
  gboolean is_dsc = FALSE;
  g_ptr_array_add (loaded->debs, item);
  g_array_append_val (loaded->order, is_dsc);
  return TRUE;
}

static gboolean
load_add_dsc (Loaded *loaded,
              const char *path,
              const MbdFileEntry *listed,
              const char *origin,
              GCancellable *cancellable,
              GError **error)
{
  IncludeDsc *item = read_dsc (path, listed, origin, cancellable, error);
  if (item == NULL)
    return FALSE;
  gboolean is_dsc = TRUE;
  g_ptr_array_add (loaded->dscs, item);
  g_array_append_val (loaded->order, is_dsc);
  return TRUE;
}

static gboolean
load_changes (Loaded *loaded, const char *path, GCancellable *cancellable, GError **error)
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
          if (!load_add_dsc (loaded, file, entry, path, cancellable, error))
            return mbd_prefix_error (error, "%s: ", path);
          any = TRUE;
        }
      else if (g_str_has_suffix (name, ".deb"))
        {
          if (!load_add_deb (loaded, file, entry, version, path, cancellable, error))
            return mbd_prefix_error (error, "%s: ", path);
          any = TRUE;
        }
    }
  if (!any)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "%s: lists neither a .dsc nor a .deb to include", path);
  return TRUE;
}

typedef struct
{
  const char *const *files;
  Loaded *loaded;
  GCancellable *cancellable;
} LoadJob;

static gboolean
load_one (guint index, gpointer user_data, GError **error)
{
  LoadJob *job = user_data;
  const char *path = job->files[index];
  Loaded *loaded = &job->loaded[index];

  if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
    return FALSE;
  loaded->debs = g_ptr_array_new ();
  loaded->dscs = g_ptr_array_new ();
  loaded->order = g_array_new (FALSE, FALSE, sizeof (gboolean));
  if (g_str_has_suffix (path, ".changes"))
    return load_changes (loaded, path, job->cancellable, error);
  if (g_str_has_suffix (path, ".deb"))
    return load_add_deb (loaded, path, NULL, NULL, NULL, job->cancellable, error);
  if (g_str_has_suffix (path, ".dsc"))
    return load_add_dsc (loaded, path, NULL, NULL, job->cancellable, error);
  return mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                    "%s: cannot include this file: give .changes, .deb or .dsc files", path);
}

/* ---- group: one group per source, in the order given -------------------------------------- */

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
group_deb (GHashTable *groups, IncludeDeb *item, GError **error)
{
  Group *group
      = get_group (groups, item->source, item->source_version, item->component, item->path, error);
  if (group == NULL)
    {
      if (item->origin != NULL)
        mbd_prefix_error (error, "%s: ", item->origin);
      include_deb_free (item);
      return FALSE;
    }
  g_ptr_array_add (group->debs, item);
  return TRUE;
}

static gboolean
group_dsc (GHashTable *groups, IncludeDsc *item, GError **error)
{
  Group *group = get_group (groups, mbd_dsc_get_source (item->dsc), mbd_dsc_get_version (item->dsc),
                            item->component, item->path, error);
  if (group == NULL || group->dsc != NULL)
    {
      if (group != NULL)
        mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s: source %s is included twice", item->path,
                   group->source);
      if (item->origin != NULL)
        mbd_prefix_error (error, "%s: ", item->origin);
      include_dsc_free (item);
      return FALSE;
    }
  g_free (group->component);
  group->component = g_strdup (item->component);
  group->dsc = item;
  return TRUE;
}

/* Moves the loaded items into @groups, in the order the files were given. */
static gboolean
group_loaded (GHashTable *groups, Loaded *loaded, guint n, GError **error)
{
  for (guint i = 0; i < n; i++)
    {
      guint next_deb = 0, next_dsc = 0;
      for (guint k = 0; k < loaded[i].order->len; k++)
        {
          gboolean ok;
          /* a taken item belongs to its group (or is freed on failure): NULL it here */
          if (g_array_index (loaded[i].order, gboolean, k))
            {
              IncludeDsc *item = g_ptr_array_index (loaded[i].dscs, next_dsc);
              g_ptr_array_index (loaded[i].dscs, next_dsc++) = NULL;
              ok = group_dsc (groups, item, error);
            }
          else
            {
              IncludeDeb *item = g_ptr_array_index (loaded[i].debs, next_deb);
              g_ptr_array_index (loaded[i].debs, next_deb++) = NULL;
              ok = group_deb (groups, item, error);
            }
          if (!ok)
            return FALSE;
        }
      loaded_clear (&loaded[i]);
    }
  return TRUE;
}

/* ---- stage: copying into the pool's directories and rendering stanzas (on all cores) ------ */

static char *
pool_dir (const char *component, const char *source)
{
  g_autofree char *prefix = g_str_has_prefix (source, "lib") && strlen (source) > 3
                                ? g_strndup (source, 4)
                                : g_strndup (source, 1);
  return g_build_filename ("pool", component, prefix, source, NULL);
}

/* Reads @src, hashing it, and (with @dir) copies it to a new temporary file in @dir. */
static gboolean
copy_hashed (PoolFile *file, const char *dir, GCancellable *cancellable, GError **error)
{
  int in = g_open (file->src, O_RDONLY | O_CLOEXEC, 0);
  if (in < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot open: %s",
                   file->src, g_strerror (saved));
      return FALSE;
    }
  g_autofree char *tmp = NULL;
  int out = -1;
  if (dir != NULL)
    {
      tmp = g_strdup_printf ("%s/.%s.mbd-XXXXXX", dir, file->name);
      out = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
      if (out < 0)
        {
          int saved = errno;
          close (in);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s",
                       tmp, g_strerror (saved));
          return FALSE;
        }
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
          saved = errno, failed = file->src, ok = FALSE;
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
      for (ssize_t done = 0; out >= 0 && done < n;)
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
  if (out >= 0 && close (out) < 0 && ok)
    saved = errno, failed = tmp, ok = FALSE;
  if (!ok)
    {
      if (tmp != NULL)
        g_unlink (tmp);
      if (failed == NULL)
        g_cancellable_set_error_if_cancelled (cancellable, error);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", failed,
                     g_strerror (saved));
      return FALSE;
    }
  file->size = size;
  g_free (file->md5);
  file->md5 = g_strdup (g_checksum_get_string (md5));
  g_free (file->sha256);
  file->sha256 = g_strdup (g_checksum_get_string (sha256));
  g_free (file->tmp);
  file->tmp = g_steal_pointer (&tmp);
  /* what was read is what the .changes/.dsc promised (the file may have changed since) */
  const MbdFileEntry *listed = file->listed;
  if (listed != NULL
      && (mbd_file_entry_get_size (listed) != file->size
          || (mbd_file_entry_get_sha256 (listed) != NULL
              && g_ascii_strcasecmp (mbd_file_entry_get_sha256 (listed), file->sha256) != 0)))
    return mbd_throw (error, MBD_ERROR_CHECKSUM_MISMATCH,
                      "%s: changed while it was being included (sha256 now %s)", file->src,
                      file->sha256);
  return TRUE;
}

/* Creates @dir (and its parents) if missing; *@created tells whether it did. */
static gboolean
make_dir (const char *dir, gboolean *created, GError **error)
{
  /* mostly one new directory per source: try that before walking its parents */
  if (g_mkdir (dir, 0755) == 0)
    return *created = TRUE;
  if (errno == EEXIST)
    return TRUE;
  if (g_mkdir_with_parents (dir, 0755) == 0)
    return *created = TRUE;
  int saved = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s", dir,
               g_strerror (saved));
  return FALSE;
}

/* Removes the directories a failed include created, with their parents up to pool/, where
 * they are empty. */
static void
remove_created_dirs (GPtrArray *created, const char *repo_dir)
{
  g_autofree char *pool = g_build_filename (repo_dir, "pool", NULL);
  for (guint i = 0; i < created->len; i++)
    {
      g_autofree char *dir = g_strdup (g_ptr_array_index (created, i));
      while (strcmp (dir, pool) != 0 && g_str_has_prefix (dir, pool) && g_rmdir (dir) == 0)
        {
          char *parent = g_path_get_dirname (dir);
          g_free (dir);
          dir = parent;
        }
    }
}

/* Hashes @file and copies it next to its place in the pool, unless the pool has a file of that
 * name already (then the transaction compares the two). */
static gboolean
stage_file (PoolFile *file,
            const char *repo_dir,
            const char *dir,
            char **created_dir,
            GCancellable *cancellable,
            GError **error)
{
  if (!mbd_filename_is_safe (file->name, error))
    return FALSE;
  file->path = g_build_filename (dir, file->name, NULL);
  g_autofree char *final = g_build_filename (repo_dir, file->path, NULL);
  if (g_file_test (final, G_FILE_TEST_EXISTS))
    return copy_hashed (file, NULL, cancellable, error);
  g_autofree char *abs_dir = g_build_filename (repo_dir, dir, NULL);
  gboolean created = FALSE;
  if (!make_dir (abs_dir, &created, error))
    return FALSE;
  if (created && *created_dir == NULL)
    *created_dir = g_steal_pointer (&abs_dir);
  return copy_hashed (file, *created_dir != NULL ? *created_dir : abs_dir, cancellable, error);
}

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
  MbdDsc *dsc_object = group->dsc->dsc;
  MbdParagraph *dsc = mbd_dsc_get_paragraph (dsc_object);
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
  const MbdFileEntry *listed = group->dsc->listed;
  const char *section = listed != NULL ? mbd_file_entry_get_section (listed) : NULL;
  const char *priority = listed != NULL ? mbd_file_entry_get_priority (listed) : NULL;
  mbd_paragraph_set (out, "Directory", dir);
  mbd_paragraph_set (out, "Priority", priority != NULL ? priority : "optional");
  mbd_paragraph_set (out, "Section", section != NULL ? section : "misc");

  g_autoptr (GString) files = g_string_new (NULL);
  g_autoptr (GString) sha256 = g_string_new (NULL);
  g_autoptr (GString) sha1 = g_string_new (NULL);
  gboolean have_sha1 = mbd_paragraph_has_field (dsc, "Checksums-Sha1");
  const char *dsc_name = dsc_file->name;
  g_autofree char *dsc_sha1 = NULL;
  if (have_sha1)
    {
      g_autofree char *data = NULL;
      gsize len = 0;
      if (g_file_get_contents (dsc_file->src, &data, &len, NULL))
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
  g_autoptr (GPtrArray) entries = mbd_dsc_get_files (dsc_object);
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

/* Groups staged at once before their rows are inserted. */
#define STAGE_SLICE 1024

typedef struct
{
  GPtrArray *groups; /* sorted */
  guint first;       /* of the slice being staged */
  const char *repo_dir;
  GCancellable *cancellable;
} StageJob;

static gboolean
stage_group (guint index, gpointer user_data, GError **error)
{
  StageJob *job = user_data;
  Group *group = g_ptr_array_index (job->groups, job->first + index);
  g_autofree char *dir = pool_dir (group->component, group->source);

  if (group->dsc != NULL)
    {
      IncludeDsc *dsc = group->dsc;
      group->dsc_entries = mbd_dsc_get_files (dsc->dsc);
      group->dsc_files = g_ptr_array_new_with_free_func ((GDestroyNotify) pool_file_free);
      for (guint i = 0; i < group->dsc_entries->len; i++)
        {
          const MbdFileEntry *e = g_ptr_array_index (group->dsc_entries, i);
          const char *name = mbd_file_entry_get_name (e);
          PoolFile *file
              = pool_file_new (g_build_filename (dsc->dir, name, NULL), g_strdup (name), e);
          g_ptr_array_add (group->dsc_files, file);
          if (!stage_file (file, job->repo_dir, dir, &group->created_dir, job->cancellable, error))
            return FALSE;
        }
      group->dsc_file
          = pool_file_new (g_strdup (dsc->path), g_path_get_basename (dsc->path), dsc->listed);
      if (!stage_file (group->dsc_file, job->repo_dir, dir, &group->created_dir, job->cancellable,
                       error))
        return FALSE;
      group->source_stanza = sources_stanza (group, dir, group->dsc_file);
    }
  for (guint i = 0; i < group->debs->len; i++)
    {
      IncludeDeb *item = g_ptr_array_index (group->debs, i);
      item->file
          = pool_file_new (g_strdup (item->path), g_path_get_basename (item->path), item->listed);
      if (!stage_file (item->file, job->repo_dir, dir, &group->created_dir, job->cancellable,
                       error))
        return FALSE;
      item->stanza = packages_stanza (item, item->file, error);
      if (item->stanza == NULL)
        return FALSE;
      g_clear_pointer (&item->control, g_free);
    }
  return TRUE;
}

/* ---- insert: the rows, in one transaction --------------------------------------------------- */

/* Stores (or finds) @file in the pool: a file of that name already in the pool must have the
 * same content. The staged copy becomes the transaction's. */
static gboolean
pool_add (MbdRepoTxn *txn, PoolFile *file, GCancellable *cancellable, GError **error)
{
  g_autoptr (MbdTxnStmt) find = mbd_repo_txn_stmt (
      txn, "SELECT id, size, sha256 FROM pool_files WHERE repository_id = ?1 AND path = ?2", error);
  if (find == NULL)
    return FALSE;
  sqlite3_bind_int64 (find, 1, txn->repo->id);
  sqlite3_bind_text (find, 2, file->path, -1, SQLITE_STATIC);
  int rc = sqlite3_step (find);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return mbd_db_throw (txn->db, rc, "cannot read the pool", error);

  if (rc == SQLITE_ROW)
    {
      file->id = sqlite3_column_int64 (find, 0);
      guint64 size = sqlite3_column_int64 (find, 1);
      const char *sha256 = (const char *) sqlite3_column_text (find, 2);
      gboolean staged = g_hash_table_contains (txn->staged, file->path);
      if (size != file->size || g_ascii_strcasecmp (sha256, file->sha256) != 0)
        return staged
                   ? mbd_throw (error, MBD_ERROR_EXISTS,
                                "%s: two different files of this name are in the same include",
                                file->name)
                   : mbd_throw (error, MBD_ERROR_EXISTS,
                                "%s: the pool of repository %s holds a different file of this "
                                "name (%s, sha256 %s; this one has sha256 %s); give the new "
                                "file another version",
                                file->name, txn->repo->identity, file->path, sha256, file->sha256);
      if (file->tmp != NULL)
        g_unlink (file->tmp);
      g_clear_pointer (&file->tmp, g_free);
      return TRUE;
    }

  if (file->tmp == NULL)
    {
      /* a file of this name lay in the pool without a row (left by a crash): copy after all */
      g_autofree char *dir = g_path_get_dirname (file->path);
      g_autofree char *abs_dir = g_build_filename (txn->repo_dir, dir, NULL);
      if (!copy_hashed (file, abs_dir, cancellable, error))
        return FALSE;
    }
  MbdRepoStaged *staged = g_new0 (MbdRepoStaged, 1);
  staged->tmp = g_steal_pointer (&file->tmp);
  staged->final = g_build_filename (txn->repo_dir, file->path, NULL);
  g_hash_table_insert (txn->staged, g_strdup (file->path), staged);

  g_autoptr (MbdTxnStmt) insert
             = mbd_repo_txn_stmt (txn,
                                  "INSERT INTO pool_files (repository_id, path, size, md5, sha256) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5)",
                                  error);
  if (insert == NULL)
    return FALSE;
  sqlite3_bind_int64 (insert, 1, txn->repo->id);
  sqlite3_bind_text (insert, 2, file->path, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 3, (gint64) file->size);
  sqlite3_bind_text (insert, 4, file->md5, -1, SQLITE_STATIC);
  sqlite3_bind_text (insert, 5, file->sha256, -1, SQLITE_STATIC);
  if (!mbd_db_step_done (txn->db, insert, error))
    return FALSE;
  file->id = sqlite3_last_insert_rowid (mbd_db_get_handle (txn->db));
  return TRUE;
}

static gboolean
link_file (MbdRepoTxn *txn, gint64 entry_id, gint64 file_id, GError **error)
{
  g_autoptr (MbdTxnStmt) stmt = mbd_repo_txn_stmt (
      txn, "INSERT OR IGNORE INTO entry_files (entry_id, file_id) VALUES (?1, ?2)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, entry_id);
  sqlite3_bind_int64 (stmt, 2, file_id);
  return mbd_db_step_done (txn->db, stmt, error);
}

static gboolean
add_file (MbdRepoTxn *txn,
          gint64 entry_id,
          PoolFile *file,
          GCancellable *cancellable,
          GError **error)
{
  return pool_add (txn, file, cancellable, error) && link_file (txn, entry_id, file->id, error);
}

/* ---- the include itself ------------------------------------------------------------------ */

static gboolean
entry_has_dsc (MbdRepoTxn *txn, gint64 entry_id, gboolean *out, GError **error)
{
  g_autoptr (MbdTxnStmt) stmt = mbd_repo_txn_stmt (
      txn, "SELECT source_stanza IS NOT NULL FROM package_entries WHERE id = ?1", error);
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

  if (entry_id == 0)
    {
      g_autoptr (MbdTxnStmt) insert
                 = mbd_repo_txn_stmt (txn,
                                      "INSERT INTO package_entries (repository_id, suite_path, "
                                      "source, version, component) VALUES (?1, ?2, ?3, ?4, ?5)",
                                      error);
      if (insert == NULL)
        return FALSE;
      sqlite3_bind_int64 (insert, 1, txn->repo->id);
      sqlite3_bind_text (insert, 2, dist_string, -1, SQLITE_STATIC);
      sqlite3_bind_text (insert, 3, group->source, -1, SQLITE_STATIC);
      sqlite3_bind_text (insert, 4, group->version, -1, SQLITE_STATIC);
      sqlite3_bind_text (insert, 5, group->component, -1, SQLITE_STATIC);
      if (!mbd_db_step_done (txn->db, insert, error))
        return FALSE;
      entry_id = sqlite3_last_insert_rowid (mbd_db_get_handle (txn->db));
    }

  if (group->dsc != NULL)
    {
      for (guint i = 0; i < group->dsc_files->len; i++)
        if (!add_file (txn, entry_id, g_ptr_array_index (group->dsc_files, i), cancellable, error))
          return FALSE;
      if (!add_file (txn, entry_id, group->dsc_file, cancellable, error))
        return FALSE;
      g_autoptr (MbdTxnStmt) update = mbd_repo_txn_stmt (
          txn, "UPDATE package_entries SET dsc_file_id = ?2, source_stanza = ?3 WHERE id = ?1",
          error);
      if (update == NULL)
        return FALSE;
      sqlite3_bind_int64 (update, 1, entry_id);
      sqlite3_bind_int64 (update, 2, group->dsc_file->id);
      sqlite3_bind_text (update, 3, group->source_stanza, -1, SQLITE_STATIC);
      if (!mbd_db_step_done (txn->db, update, error))
        return FALSE;
    }

  for (guint i = 0; i < group->debs->len; i++)
    {
      IncludeDeb *item = g_ptr_array_index (group->debs, i);
      if (!add_file (txn, entry_id, item->file, cancellable, error))
        return FALSE;
      g_autoptr (MbdTxnStmt) bin = mbd_repo_txn_stmt (
          txn,
          "INSERT INTO entry_binaries (entry_id, package, version, "
          "architecture, file_id, stanza) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
          error);
      if (bin == NULL)
        return FALSE;
      sqlite3_bind_int64 (bin, 1, entry_id);
      sqlite3_bind_text (bin, 2, item->package, -1, SQLITE_STATIC);
      sqlite3_bind_text (bin, 3, item->version, -1, SQLITE_STATIC);
      sqlite3_bind_text (bin, 4, item->architecture, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (bin, 5, item->file->id);
      sqlite3_bind_text (bin, 6, item->stanza, -1, SQLITE_STATIC);
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

  guint n_files = g_strv_length ((char **) files);
  Loaded *loaded = g_new0 (Loaded, n_files);
  LoadJob load = { files, loaded, cancellable };
  g_autoptr (GHashTable) groups
             = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) group_free);
  gboolean loaded_ok = mbd_parallel_for (n_files, load_one, &load, error)
                       && group_loaded (groups, loaded, n_files, error);
  for (guint i = 0; i < n_files; i++)
    loaded_clear (&loaded[i]);
  g_free (loaded);
  if (!loaded_ok)
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
  g_autofree char *repo_dir = mbd_repository_dup_path (self);
  StageJob stage = { sorted, 0, repo_dir, cancellable };
  g_autoptr (GPtrArray) created = g_ptr_array_new_with_free_func (g_free);

  MbdRepoTxn txn;
  if (!mbd_repo_txn_begin (&txn, self, error))
    {
      mbd_repo_txn_clear (&txn);
      return FALSE;
    }
  gboolean ok = TRUE;
  /* staged in slices, so that a bulk include holds the stanzas of one slice only */
  for (guint first = 0; ok && first < sorted->len; first += STAGE_SLICE)
    {
      guint end = MIN (first + STAGE_SLICE, sorted->len);
      stage.first = first;
      ok = mbd_parallel_for (end - first, stage_group, &stage, error);
      for (guint i = first; i < end; i++)
        {
          Group *group = g_ptr_array_index (sorted, i);
          if (group->created_dir != NULL)
            g_ptr_array_add (created, g_steal_pointer (&group->created_dir));
        }
      for (guint i = first; ok && i < end; i++)
        {
          Group *group = g_ptr_array_index (sorted, i);
          ok = insert_group (&txn, dist, suite, distribution, group, cancellable, error);
          /* the stanzas are in the database now */
          g_ptr_array_set_size (group->debs, 0);
          g_clear_pointer (&group->source_stanza, g_free);
        }
    }
  g_hash_table_remove_all (groups);
#ifdef __GLIBC__
  /* what loading and staging used lies freed in several threads' arenas: give it back before
   * the index is rebuilt, so that a bulk include does not hold both at once */
  malloc_trim (0);
#endif
  if (ok)
    ok = mbd_repo_txn_commit (&txn, cancellable, error);
  mbd_repo_txn_clear (&txn);
  if (!ok)
    remove_created_dirs (created, repo_dir);
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
