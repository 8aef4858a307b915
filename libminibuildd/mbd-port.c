/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "mbd-changes.h"
#include "mbd-dsc.h"
#include "mbd-file-entry.h"
#include "mbd-gnupg-private.h"
#include "mbd-layout-private.h"
#include "mbd-packager-private.h"
#include "mbd-port-private.h"
#include "mbd-port.h"
#include "mbd-repository-private.h"
#include "mbd-source-private.h"
#include "mbd-subprocess-private.h"
#include "mbd-util-private.h"

/* Internal uploads: a source tree or a built source package becomes a signed source-only upload
 * of the instance key, submitted to the packager as if it had come in through dput. */

#define TOOL_TIMEOUT_SECONDS 600
#define TOOL_OUTPUT_KEEP 2000

static void
keep_output (const char *line, gpointer user_data)
{
  GString *output = user_data;

  g_string_append (output, line);
  g_string_append_c (output, '\n');
  if (output->len > 2 * TOOL_OUTPUT_KEEP)
    g_string_erase (output, 0, output->len - TOOL_OUTPUT_KEEP);
}

/* Runs a dpkg tool in @cwd; fails naming it with its last output lines unless it exits 0.
 * *out_output (optional) gets its (merged) output. */
static gboolean
run_tool (const char *const *argv,
          const char *cwd,
          char **out_output,
          GCancellable *cancellable,
          GError **error)
{
  g_autoptr (GString) output = g_string_new (NULL);
  int status = 0;

  if (!mbd_subprocess_run (argv, NULL, cwd, TOOL_TIMEOUT_SECONDS, cancellable, keep_output, output,
                           &status, error))
    return FALSE;
  if (status != 0)
    {
      g_autofree char *tail = mbd_utf8_excerpt (output->str, output->len, TOOL_OUTPUT_KEEP);
      return mbd_throw (error, MBD_ERROR_FAILED, "%s (in %s) exited with status %d: %s", argv[0],
                        cwd, status, tail);
    }
  if (out_output != NULL)
    *out_output = g_strdup (output->str);
  return TRUE;
}

/* Replaces the file @path by its clear-signed form, made with the instance key. */
static gboolean
sign_in_place (MbdInstance *instance, const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GBytes) content = g_file_load_bytes (file, cancellable, NULL, error);
  if (content == NULL)
    return FALSE;
  g_autoptr (GBytes) signed_content = mbd_gnupg_sign_clear (mbd_instance_get_gnupg (instance),
                                                            content, cancellable, error);
  if (signed_content == NULL)
    return mbd_prefix_error (error, "%s: signing with the instance key: ", path);
  gsize len = 0;
  const char *data = g_bytes_get_data (signed_content, &len);
  return g_file_set_contents (path, data, len, error);
}

/* Moves @from to @to, copying when they are on different file systems. */
static gboolean
move_file (const char *from, const char *to, GError **error)
{
  if (g_rename (from, to) == 0)
    return TRUE;
  int saved = errno;
  if (saved != EXDEV)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot move to %s: %s",
                   from, to, g_strerror (saved));
      return FALSE;
    }
  g_autoptr (GFile) source = g_file_new_for_path (from);
  g_autoptr (GFile) target = g_file_new_for_path (to);
  if (!g_file_copy (source, target, G_FILE_COPY_NONE, NULL, NULL, NULL, error))
    return FALSE;
  (void) g_unlink (from);
  return TRUE;
}

/* The value of @field in dpkg-parsechangelog's output. */
static char *
parsed_field (const char *output, const char *field)
{
  g_auto (GStrv) lines = g_strsplit (output, "\n", -1);
  g_autofree char *prefix = g_strconcat (field, ": ", NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strstrip (g_strdup (lines[i] + strlen (prefix)));
  return NULL;
}

static char *
without_epoch (const char *version)
{
  const char *colon = strchr (version, ':');

  return g_strdup (colon != NULL ? colon + 1 : version);
}

/* A fresh directory `<home>/internal-uploads/<template>` (on the home's file system, so the
 * upload moves into the packager). */
static char *
make_dir_in_home (MbdInstance *instance, const char *template, GError **error)
{
  g_autofree char *uploads
      = g_build_filename (mbd_instance_get_home (instance), "internal-uploads", NULL);
  g_autofree char *dir = g_build_filename (uploads, template, NULL);

  if (g_mkdir_with_parents (uploads, 0750) < 0 || g_mkdtemp_full (dir, 0750) == NULL)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s", dir,
                   g_strerror (saved));
      return NULL;
    }
  return g_steal_pointer (&dir);
}

gboolean
mbd_port_unpack_dsc (MbdInstance *instance,
                     const char *dsc,
                     char **out_work,
                     char **out_tree,
                     GCancellable *cancellable,
                     GError **error)
{
  g_autoptr (MbdDsc) parsed = mbd_dsc_new_from_file (dsc, error);
  if (parsed == NULL)
    return FALSE;
  g_autofree char *work = make_dir_in_home (instance, "work-XXXXXX", error);
  if (work == NULL)
    return FALSE;
  g_autofree char *from_dir = g_path_get_dirname (dsc);
  g_autofree char *dsc_name = g_path_get_basename (dsc);
  g_autoptr (GPtrArray) files = mbd_dsc_get_files (parsed);
  gboolean ok = TRUE;
  for (guint i = 0; ok && i <= files->len; i++)
    {
      const char *name
          = i < files->len ? mbd_file_entry_get_name (g_ptr_array_index (files, i)) : dsc_name;
      g_autofree char *from = g_build_filename (from_dir, name, NULL);
      g_autofree char *to = g_build_filename (work, name, NULL);
      g_autoptr (GFile) source = g_file_new_for_path (from);
      g_autoptr (GFile) target = g_file_new_for_path (to);
      ok = mbd_filename_is_safe (name, error)
           && g_file_copy (source, target, G_FILE_COPY_NONE, cancellable, NULL, NULL, error);
    }
  g_autofree char *tree = g_build_filename (work, "tree", NULL);
  const char *argv[] = { "dpkg-source", "--no-copy", "-x", dsc_name, "tree", NULL };
  if (!ok || !run_tool (argv, work, NULL, cancellable, error))
    {
      mbd_remove_tree (work);
      return FALSE;
    }
  *out_work = g_steal_pointer (&work);
  *out_tree = g_steal_pointer (&tree);
  return TRUE;
}

gboolean
mbd_internal_upload_stage (MbdInstance *instance,
                           const char *tree,
                           const char *since_version,
                           const char *const *fields,
                           char **out_staged,
                           GCancellable *cancellable,
                           GError **error)
{
  g_autofree char *parent = g_path_get_dirname (tree);
  g_autofree char *base = g_path_get_basename (tree);
  g_autofree char *changelog = g_build_filename (tree, "debian", "changelog", NULL);

  const char *parse_argv[] = { "dpkg-parsechangelog", "-l", changelog, NULL };
  g_autofree char *parsed = NULL;
  if (!run_tool (parse_argv, parent, &parsed, cancellable, error))
    return FALSE;
  g_autofree char *source = parsed_field (parsed, "Source");
  g_autofree char *version = parsed_field (parsed, "Version");
  if (source == NULL || version == NULL)
    return mbd_throw (error, MBD_ERROR_MISSING_FIELD,
                      "%s: the top entry has no source name or version", changelog);
  g_autofree char *plain = without_epoch (version);

  const char *build_argv[] = { "dpkg-source", "-b", base, NULL };
  if (!run_tool (build_argv, parent, NULL, cancellable, error))
    return FALSE;
  g_autofree char *dsc_name = g_strdup_printf ("%s_%s.dsc", source, plain);
  g_autofree char *dsc = g_build_filename (parent, dsc_name, NULL);
  if (!sign_in_place (instance, dsc, cancellable, error))
    return FALSE;

  g_autofree char *changes_name = g_strdup_printf ("%s_%s_source.changes", source, plain);
  g_autofree char *changes = g_build_filename (parent, changes_name, NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_strdup ("dpkg-genchanges"));
  g_ptr_array_add (argv, g_strdup ("-S"));
  g_ptr_array_add (argv, g_strdup ("-sa"));
  if (since_version != NULL)
    g_ptr_array_add (argv, g_strconcat ("-v", since_version, NULL));
  for (guint i = 0; fields != NULL && fields[i] != NULL; i++)
    g_ptr_array_add (argv, g_strconcat ("-D", fields[i], NULL));
  g_ptr_array_add (argv, g_strconcat ("-O", changes, NULL));
  g_ptr_array_add (argv, NULL);
  if (!run_tool ((const char *const *) argv->pdata, tree, NULL, cancellable, error))
    return FALSE;
  if (!sign_in_place (instance, changes, cancellable, error))
    return FALSE;

  g_autoptr (MbdChanges) parsed_changes = mbd_changes_new_from_file (changes, error);
  if (parsed_changes == NULL)
    return FALSE;
  g_autofree char *dir = make_dir_in_home (instance, "upload-XXXXXX", error);
  if (dir == NULL)
    return FALSE;
  g_autoptr (GPtrArray) files = mbd_changes_get_files (parsed_changes);
  gboolean moved = TRUE;
  for (guint i = 0; moved && i < files->len; i++)
    {
      const char *name = mbd_file_entry_get_name (g_ptr_array_index (files, i));
      g_autofree char *from = g_build_filename (parent, name, NULL);
      g_autofree char *to = g_build_filename (dir, name, NULL);
      moved = mbd_filename_is_safe (name, error) && move_file (from, to, error);
    }
  g_autofree char *target = g_build_filename (dir, changes_name, NULL);
  if (!moved || !move_file (changes, target, error))
    {
      mbd_remove_tree (dir);
      return FALSE;
    }
  *out_staged = g_steal_pointer (&target);
  return TRUE;
}

void
mbd_internal_upload_discard (const char *staged)
{
  g_autofree char *dir = g_path_get_dirname (staged);
  mbd_remove_tree (dir);
}

gboolean
mbd_internal_upload_submit (MbdInstance *instance,
                            const char *staged,
                            char **out_key,
                            GError **error)
{
  if (mbd_packager_submit_full (mbd_instance_get_packager (instance), staged, out_key, error))
    return TRUE;
  mbd_internal_upload_discard (staged);
  return FALSE;
}

gboolean
mbd_internal_upload (MbdInstance *instance,
                     const char *tree,
                     const char *since_version,
                     const char *const *fields,
                     char **out_key,
                     char **out_changes,
                     GCancellable *cancellable,
                     GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), FALSE);
  g_return_val_if_fail (tree != NULL, FALSE);

  g_autofree char *staged = NULL;
  if (!mbd_internal_upload_stage (instance, tree, since_version, fields, &staged, cancellable,
                                  error)
      || !mbd_internal_upload_submit (instance, staged, out_key, error))
    return FALSE;
  if (out_changes != NULL)
    *out_changes = g_path_get_basename (staged);
  return TRUE;
}

gboolean
mbd_internal_upload_dsc (MbdInstance *instance,
                         const char *dsc,
                         const char *since_version,
                         const char *const *fields,
                         char **out_key,
                         GCancellable *cancellable,
                         GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), FALSE);
  g_return_val_if_fail (dsc != NULL, FALSE);

  g_autofree char *work = NULL;
  g_autofree char *tree = NULL;
  if (!mbd_port_unpack_dsc (instance, dsc, &work, &tree, cancellable, error))
    return FALSE;
  gboolean ok = mbd_internal_upload (instance, tree, since_version, fields, out_key, NULL,
                                     cancellable, error);
  mbd_remove_tree (work);
  return ok;
}

/* ---- version rules ------------------------------------------------------------------------- */

/* The rightmost (last non-overlapping, left to right) match of @regex in @text. */
static gboolean
rightmost_match (GRegex *regex, const char *text, int *out_start, int *out_end)
{
  g_autoptr (GMatchInfo) info = NULL;
  gboolean found = FALSE;

  g_regex_match (regex, text, 0, &info);
  while (g_match_info_matches (info))
    {
      found = g_match_info_fetch_pos (info, 0, out_start, out_end);
      if (!g_match_info_next (info, NULL))
        break;
    }
  return found;
}

static char *
rightmost_text (GRegex *regex, const char *text)
{
  int start = 0, end = 0;

  if (!rightmost_match (regex, text, &start, &end))
    return g_strdup ("");
  return g_strndup (text + start, end - start);
}

/* @text with its rightmost match of @regex replaced by @replacement, or @replacement appended
 * when nothing matches. */
static char *
sub_rightmost (GRegex *regex, const char *replacement, const char *text)
{
  int start = 0, end = 0;

  if (!rightmost_match (regex, text, &start, &end))
    return g_strconcat (text, replacement, NULL);
  return g_strdup_printf ("%.*s%s%s", start, text, replacement, text + end);
}

char *
mbd_port_version_internal (const char *version,
                           const char *from_regex,
                           const char *to_default,
                           GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GRegex) from = g_regex_new (from_regex, 0, 0, &local_error);
  if (from == NULL)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "version regex '%s': %s", from_regex,
                 local_error->message);
      return NULL;
    }
  g_autoptr (GRegex) revision = g_regex_new ("\\+[0-9]", 0, 0, NULL);
  g_autofree char *appendix = rightmost_text (from, version);
  g_autofree char *plus_revision = rightmost_text (revision, appendix);
  g_autofree char *to = appendix[0] != '\0' && plus_revision[0] != '\0'
                            ? sub_rightmost (revision, plus_revision, to_default)
                            : g_strdup (to_default);
  return sub_rightmost (from, to, version);
}

char *
mbd_port_version_rebuild (const char *version, GDateTime *now)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (now);
  g_autofree char *stamp = g_date_time_format (utc, "+rebuilt%Y%m%d%H%M%S");
  g_autoptr (GRegex) rebuilt = g_regex_new ("\\+rebuilt[0-9]{14}", 0, 0, NULL);

  return sub_rightmost (rebuilt, stamp, version);
}

char *
mbd_port_version_external (const char *version, const char *to_default)
{
  return g_strconcat (version, to_default, NULL);
}

/* ---- changelog ----------------------------------------------------------------------------- */

/* An RFC 2822 date in English whatever the locale, as debian/changelog wants it. */
static char *
changelog_date (GDateTime *now)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[]
      = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autoptr (GDateTime) utc = g_date_time_to_utc (now);

  return g_strdup_printf (
      "%s, %02d %s %d %02d:%02d:%02d +0000", days[g_date_time_get_day_of_week (utc) - 1],
      g_date_time_get_day_of_month (utc), months[g_date_time_get_month (utc) - 1],
      g_date_time_get_year (utc), g_date_time_get_hour (utc), g_date_time_get_minute (utc),
      g_date_time_get_second (utc));
}

char *
mbd_port_changelog_prepend (const char *changelog,
                            const char *source,
                            const char *version,
                            const char *distribution,
                            const char *const *lines,
                            const char *maintainer,
                            const char *own_email,
                            GDateTime *now,
                            char **out_since,
                            char **out_author,
                            GError **error)
{
  g_autoptr (GRegex) header = g_regex_new ("^\\S+ \\(([^()\\s]+)\\)", 0, 0, NULL);
  g_autoptr (GRegex) trailer = g_regex_new ("^ -- (.*?)  ", 0, 0, NULL);
  g_auto (GStrv) text_lines = g_strsplit (changelog, "\n", -1);
  g_autoptr (GPtrArray) versions = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) authors = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; text_lines[i] != NULL; i++)
    {
      g_autoptr (GMatchInfo) entry = NULL;
      g_autoptr (GMatchInfo) signature = NULL;
      if (g_regex_match (header, text_lines[i], 0, &entry))
        {
          g_ptr_array_add (versions, g_match_info_fetch (entry, 1));
          g_ptr_array_add (authors, g_strdup (""));
        }
      else if (authors->len > 0 && g_regex_match (trailer, text_lines[i], 0, &signature))
        {
          g_free (authors->pdata[authors->len - 1]);
          authors->pdata[authors->len - 1] = g_match_info_fetch (signature, 1);
        }
    }
  if (versions->len == 0)
    {
      mbd_throw (error, MBD_ERROR_PARSE,
                 "debian/changelog of %s: no entry (a line 'NAME (VERSION) DIST; ...')", source);
      return NULL;
    }

  /* the first entry not written by us, and the version below it */
  guint i = 0;
  while (i + 1 < versions->len && strstr (authors->pdata[i], own_email) != NULL)
    i++;
  if (out_since != NULL)
    *out_since = i + 1 < versions->len ? g_strdup (versions->pdata[i + 1])
                                       : g_strconcat (versions->pdata[i], "~", NULL);
  if (out_author != NULL)
    *out_author = g_strdup (authors->pdata[i]);

  g_autoptr (GString) out = g_string_new (NULL);
  g_string_append_printf (out, "%s (%s) %s; urgency=medium\n\n", source, version, distribution);
  for (guint n = 0; lines != NULL && lines[n] != NULL; n++)
    g_string_append_printf (out, "  * %s\n", lines[n]);
  g_autofree char *date = changelog_date (now);
  g_string_append_printf (out, "\n -- %s  %s\n\n%s", maintainer, date, changelog);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ---- port ---------------------------------------------------------------------------------- */

/* A distribution of the instance, resolved. */
typedef struct
{
  char *name;            /* the distribution string (meta names resolved) */
  MbdRepository *repo;   /* (owned) */
  MbdDistribution *dist; /* (unowned): of repo */
  MbdSuite *suite;       /* (unowned): of repo's layout */
  int rollback;          /* -1 unless a rollback distribution */
} Target;

static void
target_clear (Target *target)
{
  g_clear_pointer (&target->name, g_free);
  g_clear_object (&target->repo);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Target, target_clear)

static gboolean
resolve_target (MbdInstance *instance,
                const char *name,
                gboolean for_upload,
                Target *out,
                GError **error)
{
  out->name = mbd_instance_resolve_distribution (instance, name, error);
  if (out->name == NULL)
    return FALSE;
  out->repo = mbd_instance_lookup_repository_for_distribution (instance, out->name, error);
  if (out->repo == NULL)
    return FALSE;
  out->rollback = -1;
  out->dist = mbd_repository_lookup_distribution_string (out->repo, out->name, &out->suite,
                                                         &out->rollback, error);
  if (out->dist == NULL)
    return FALSE;
  if (for_upload && out->rollback >= 0)
    return mbd_throw (error, MBD_ERROR_REJECTED,
                      "%s is a rollback distribution: nothing can be ported to it", out->name);
  if (for_upload && !mbd_suite_get_uploadable (out->suite))
    return mbd_throw (error, MBD_ERROR_REJECTED,
                      "%s is not uploadable: packages reach suite %s by migration only; port to "
                      "an uploadable suite and migrate",
                      out->name, mbd_suite_get_name (out->suite));
  return TRUE;
}

static char *
target_default_version (Target *target)
{
  return mbd_layout_get_default_version (mbd_repository_get_layout (target->repo), target->suite,
                                         mbd_repository_get_identity (target->repo),
                                         mbd_distribution_get_codeversion (target->dist));
}

/* Resolves every target distribution (all checked before anything is uploaded). */
static GArray *
resolve_targets (MbdInstance *instance, const char *const *names, GError **error)
{
  g_autoptr (GArray) targets = g_array_new (FALSE, TRUE, sizeof (Target));
  g_array_set_clear_func (targets, (GDestroyNotify) target_clear);

  if (names == NULL || names[0] == NULL)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "no distribution to port to");
      return NULL;
    }
  for (guint i = 0; names[i] != NULL; i++)
    {
      Target target = { 0 };
      if (!resolve_target (instance, names[i], TRUE, &target, error))
        {
          target_clear (&target);
          mbd_prefix_error (error, "port to %s: ", names[i]);
          return NULL;
        }
      g_array_append_val (targets, target);
    }
  return g_steal_pointer (&targets);
}

/* The instance key's user id ("Name <email>") and its "<email>". */
static gboolean
own_identity (MbdInstance *instance, char **out_uid, char **out_email, GError **error)
{
  g_autofree char *email = NULL;
  if (!mbd_gnupg_get_user_id (mbd_instance_get_gnupg (instance),
                              mbd_instance_get_fingerprint (instance), out_uid, &email, error))
    return mbd_prefix_error (error, "the instance key: ");
  *out_email = g_strdup_printf ("<%s>", email);
  return TRUE;
}

static gboolean
check_options (const char *const *options, GError **error)
{
  g_autoptr (GRegex) option
             = g_regex_new ("^[^*.\\[\\]=\\s]+(\\[[^*.\\[\\]=\\s]+\\])?=[^\\n*.]*$", 0, 0, NULL);

  for (guint i = 0; options != NULL && options[i] != NULL; i++)
    if (!g_regex_match (option, options[i], 0, NULL))
      return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                        "upload option '%s' is not KEY=VALUE or KEY[ARCH]=VALUE (no dots, no '*')",
                        options[i]);
  return TRUE;
}

/* Unpacks @dsc, puts the new changelog entry on top and stages its upload into @target (see
 * mbd_internal_upload_stage()); any thread. */
static gboolean
stage_port (MbdInstance *instance,
            const char *dsc,
            const char *source,
            const char *target,
            const char *version,
            const char *const *lines,
            char **out_staged,
            GCancellable *cancellable,
            GError **error)
{
  g_autofree char *uid = NULL;
  g_autofree char *email = NULL;
  if (!own_identity (instance, &uid, &email, error))
    return FALSE;
  g_autofree char *work = NULL;
  g_autofree char *tree = NULL;
  if (!mbd_port_unpack_dsc (instance, dsc, &work, &tree, cancellable, error))
    return FALSE;
  g_autofree char *path = g_build_filename (tree, "debian", "changelog", NULL);
  g_autofree char *changelog = NULL;
  g_autofree char *since = NULL;
  g_autofree char *author = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *rewritten = NULL;
  gboolean ok
      = g_file_get_contents (path, &changelog, NULL, error)
        && (rewritten = mbd_port_changelog_prepend (changelog, source, version, target, lines, uid,
                                                    email, now, &since, &author, error))
               != NULL
        && g_file_set_contents (path, rewritten, -1, error);
  g_autofree char *field = author != NULL && author[0] != '\0'
                               ? g_strconcat ("X-Mini-Buildd-Originally-Changed-By=", author, NULL)
                               : NULL;
  const char *fields[] = { field, NULL };
  ok = ok
       && mbd_internal_upload_stage (instance, tree, since, fields, out_staged, cancellable, error);
  mbd_remove_tree (work);
  return ok;
}

/* mbd_stage_then_submit(): the stage in a worker thread, then the submit back on the thread of
 * the task's context. */
typedef struct
{
  GTask *task; /* (owned): the caller's */
  gpointer job;
  MbdStageFunc stage;
  MbdSubmitFunc submit;
} Staging;

static void
staging_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Staging *staging = task_data;
  GError *error = NULL;

  if (staging->stage (staging->job, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
staged (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Staging *staging = user_data;
  g_autoptr (GTask) task = staging->task;
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error)
      || !staging->submit (staging->job, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_free (staging);
}

void
mbd_stage_then_submit (GTask *task, gpointer job, MbdStageFunc stage, MbdSubmitFunc submit)
{
  Staging *staging = g_new0 (Staging, 1);
  staging->task = g_object_ref (task);
  staging->job = job;
  staging->stage = stage;
  staging->submit = submit;
  g_autoptr (GTask) worker = g_task_new (g_task_get_source_object (task),
                                         g_task_get_cancellable (task), staged, staging);
  g_task_set_task_data (worker, staging, NULL);
  g_task_run_in_thread (worker, staging_thread);
}

/* One port: its target distribution and version, and its upload once staged. */
typedef struct
{
  char *target;
  char *version;
  char *staged; /* (nullable) the staged .changes */
} PortItem;

static void
port_item_free (PortItem *item)
{
  if (item->staged != NULL) /* staged and never submitted */
    mbd_internal_upload_discard (item->staged);
  g_free (item->target);
  g_free (item->version);
  g_free (item->staged);
  g_free (item);
}

static void
add_port_item (GPtrArray *items, const char *target, char *version)
{
  PortItem *item = g_new0 (PortItem, 1);
  item->target = g_strdup (target);
  item->version = version;
  g_ptr_array_add (items, item);
}

/* Stages every port of @items (any thread). @what names the source in errors. On failure the
 * ports staged so far are left to port_item_free(), which removes them: nothing is uploaded
 * unless every port could be made. */
static gboolean
stage_ports (MbdInstance *instance,
             const char *dsc,
             const char *source,
             const char *what,
             GPtrArray *items,
             const char *const *lines,
             GCancellable *cancellable,
             GError **error)
{
  for (guint i = 0; i < items->len; i++)
    {
      PortItem *item = g_ptr_array_index (items, i);
      if (!stage_port (instance, dsc, source, item->target, item->version, lines, &item->staged,
                       cancellable, error))
        return mbd_prefix_error (error, "port of %s to %s: ", what, item->target);
    }
  return TRUE;
}

/* Submits the staged ports of @items on the packager's thread; sets the keys and versions. */
static gboolean
submit_ports (MbdInstance *instance,
              GPtrArray *items,
              char ***out_keys,
              char ***out_versions,
              GError **error)
{
  g_autoptr (GStrvBuilder) keys = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) versions = g_strv_builder_new ();
  for (guint i = 0; i < items->len; i++)
    {
      PortItem *item = g_ptr_array_index (items, i);
      g_autofree char *staged = g_steal_pointer (&item->staged);
      g_autofree char *key = NULL;
      if (!mbd_internal_upload_submit (instance, staged, &key, error))
        return mbd_prefix_error (error, "port to %s: ", item->target);
      g_strv_builder_add (keys, key);
      g_strv_builder_add (versions, item->version);
    }
  if (out_keys != NULL)
    *out_keys = g_strv_builder_end (keys);
  if (out_versions != NULL)
    *out_versions = g_strv_builder_end (versions);
  return TRUE;
}

/* The changelog lines of a port: the note, @extra (nullable), the options. */
static GStrv
port_lines (const char *dsc, const char *extra, const char *const *options, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (dsc);
  g_autoptr (GBytes) content = g_file_load_bytes (file, NULL, NULL, error);
  if (content == NULL)
    return NULL;
  g_autofree char *sha1 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA1, content);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *note
      = g_strdup_printf ("Automated port via mbd (no changes). Original DSC's SHA1: %s", sha1);
  g_strv_builder_add (builder, note);
  if (extra != NULL)
    g_strv_builder_add (builder, extra);
  const char *const defaults[] = { MBD_PORT_DEFAULT_OPTIONS, NULL };
  const char *const *opts = options != NULL ? options : defaults;
  for (guint i = 0; opts[i] != NULL; i++)
    {
      g_autofree char *line = g_strconcat ("MINI_BUILDD_OPTION: ", opts[i], NULL);
      g_strv_builder_add (builder, line);
    }
  return g_strv_builder_end (builder);
}

/* The pool .dsc of @source in @from (a rollback distribution of it too when @version is
 * given), and its version. */
static char *
find_source_dsc (MbdInstance *instance,
                 Target *from,
                 const char *source,
                 const char *version,
                 char **out_version,
                 GError **error)
{
  MbdDb *db = mbd_instance_get_db (instance);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT e.version, p.path FROM package_entries e JOIN pool_files p ON p.id = e.dsc_file_id"
      " WHERE e.repository_id = ?1 AND e.source = ?2 AND (e.suite_path = ?3 OR (?4 IS NOT NULL"
      " AND e.suite_path GLOB ?3 || '-rollback[0-9]*')) AND (?4 IS NULL OR e.version = ?4)"
      " ORDER BY e.suite_path = ?3 DESC LIMIT 1",
      error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, from->repo->id);
  sqlite3_bind_text (stmt, 2, source, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, from->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, version, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      if (version != NULL)
        mbd_throw (error, MBD_ERROR_NOT_FOUND,
                   "source %s %s is neither in %s nor in its rollbacks; see 'mbd ls %s'", source,
                   version, from->name, source);
      else
        mbd_throw (error, MBD_ERROR_NOT_FOUND, "source %s is not in %s; see 'mbd ls %s'", source,
                   from->name, source);
      return NULL;
    }
  if (rc != SQLITE_ROW)
    {
      mbd_db_throw (db, rc, "cannot read package entries", error);
      return NULL;
    }
  *out_version = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  g_autofree char *repo_dir = mbd_repository_dup_path (from->repo);
  return g_build_filename (repo_dir, (const char *) sqlite3_column_text (stmt, 1), NULL);
}

/* A port of a source of the repository, from port_plan() on the packager's thread to
 * submit_ports() there, with stage_ports() in between on any thread. */
typedef struct
{
  MbdInstance *instance; /* (owned) */
  char *source;
  char *what; /* "SOURCE VERSION", for errors */
  char *dsc;
  GStrv lines;
  GPtrArray *items;     /* (element-type PortItem) */
  GStrv keys, versions; /* the results */
} PortJob;

static void
port_job_free (PortJob *job)
{
  g_object_unref (job->instance);
  g_free (job->source);
  g_free (job->what);
  g_free (job->dsc);
  g_strfreev (job->lines);
  g_ptr_array_unref (job->items);
  g_strfreev (job->keys);
  g_strfreev (job->versions);
  g_free (job);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PortJob, port_job_free)

/* Checks the options and targets, finds the source and decides each port's version. */
static PortJob *
port_plan (MbdPackager *self,
           const char *source,
           const char *from_distribution,
           const char *const *to_distributions,
           const char *version,
           const char *const *options,
           GError **error)
{
  MbdInstance *instance = mbd_packager_get_instance (self);
  if (!check_options (options, error))
    return NULL;
  g_auto (Target) from = { 0 };
  if (!resolve_target (instance, from_distribution, FALSE, &from, error))
    {
      mbd_prefix_error (error, "port from %s: ", from_distribution);
      return NULL;
    }
  g_autoptr (GArray) targets = resolve_targets (instance, to_distributions, error);
  if (targets == NULL)
    return NULL;

  g_autoptr (PortJob) job = g_new0 (PortJob, 1);
  job->instance = g_object_ref (instance);
  job->source = g_strdup (source);
  job->items = g_ptr_array_new_with_free_func ((GDestroyNotify) port_item_free);
  g_autofree char *have = NULL;
  job->dsc = find_source_dsc (instance, &from, source, version, &have, error);
  if (job->dsc == NULL)
    return NULL;
  job->what = g_strdup_printf ("%s %s", source, have);
  job->lines = port_lines (job->dsc, NULL, options, error);
  if (job->lines == NULL)
    return NULL;
  g_autofree char *from_regex = mbd_layout_dup_mandatory_regex (
      mbd_repository_get_layout (from.repo), from.suite, mbd_repository_get_identity (from.repo),
      mbd_distribution_get_codeversion (from.dist));

  for (guint i = 0; i < targets->len; i++)
    {
      Target *target = &g_array_index (targets, Target, i);
      char *new_version;
      if (strcmp (target->name, from.name) == 0)
        {
          g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
          new_version = mbd_port_version_rebuild (have, now);
        }
      else
        {
          g_autofree char *to_default = target_default_version (target);
          new_version = mbd_port_version_internal (have, from_regex, to_default, error);
          if (new_version == NULL)
            return NULL;
        }
      add_port_item (job->items, target->name, new_version);
    }
  return g_steal_pointer (&job);
}

static gboolean
port_job_stage (gpointer data, GCancellable *cancellable, GError **error)
{
  PortJob *job = data;

  return stage_ports (job->instance, job->dsc, job->source, job->what, job->items,
                      (const char *const *) job->lines, cancellable, error);
}

static gboolean
port_job_submit (gpointer data, GError **error)
{
  PortJob *job = data;

  return submit_ports (job->instance, job->items, &job->keys, &job->versions, error);
}

/**
 * mbd_packager_port:
 * @self: a packager
 * @source: a source package name
 * @from_distribution: the distribution it is in (a distribution string or a meta name)
 * @to_distributions: (array zero-terminated=1): the uploadable distributions to port it to; the
 *   same as @from_distribution for a rebuild
 * @version: (nullable): the version to port, which may be in a rollback of @from_distribution;
 *   %NULL for the one in @from_distribution
 * @options: (nullable) (array zero-terminated=1): upload options (`KEY=VALUE`) for the
 *   ported uploads' `MINI_BUILDD_OPTION` lines; %NULL for %MBD_PORT_DEFAULT_OPTIONS
 * @out_keys: (out) (optional) (array zero-terminated=1) (transfer full): the package key of
 *   each upload, in the order of @to_distributions
 * @out_versions: (out) (optional) (array zero-terminated=1) (transfer full): the version of each
 *   upload
 * @cancellable: (nullable): a cancellable
 *
 * Ports a source package of the repository to other distributions without changes, as
 * mini-buildd's `port`: the source from the pool is unpacked, a changelog entry
 * "Automated port via mbd (no changes)" by the instance key's user id with the options goes on
 * top, and it is uploaded signed by the instance key (`dpkg-genchanges -v` with the version
 * below the original entry, so the changes list the original entries, and the field
 * `X-Mini-Buildd-Originally-Changed-By`). The uploads then go through the packager like any
 * other: wait for their events to know how they end.
 *
 * The version of a port is the source version with the rightmost match of the source suite's
 * mandatory version rule replaced by the target's default version, keeping its `+N`
 * (`1.2.3-1~test12+4` becomes `1.2.3-1~test11+4`); a port into @from_distribution itself is a
 * rebuild, versioned `+rebuiltYYYYmmddHHMMSS` (UTC) appended (or replaced).
 *
 * Call it on the packager's thread. It runs dpkg-source and dpkg-genchanges and blocks
 * meanwhile (a few seconds per target); [method@Mbd.Packager.port_async] does that work in a
 * worker thread.
 *
 * Errors: %MBD_ERROR_NOT_FOUND for an unknown distribution or a source (version) that is not
 * there, %MBD_ERROR_REJECTED for a target that is not uploadable or a rollback,
 * %MBD_ERROR_INVALID_ARGUMENT for a malformed option or no target, %MBD_ERROR_FAILED when
 * dpkg-source fails. Every target is checked, and every port made, before anything is uploaded.
 *
 * Returns: %TRUE if every port was submitted
 */
gboolean
mbd_packager_port (MbdPackager *self,
                   const char *source,
                   const char *from_distribution,
                   const char *const *to_distributions,
                   const char *version,
                   const char *const *options,
                   char ***out_keys,
                   char ***out_versions,
                   GCancellable *cancellable,
                   GError **error)
{
  g_return_val_if_fail (MBD_IS_PACKAGER (self), FALSE);
  g_return_val_if_fail (source != NULL && from_distribution != NULL, FALSE);

  g_autoptr (PortJob) job = port_plan (self, source, from_distribution, to_distributions, version,
                                       options, error);
  if (job == NULL || !port_job_stage (job, cancellable, error) || !port_job_submit (job, error))
    return FALSE;
  if (out_keys != NULL)
    *out_keys = g_steal_pointer (&job->keys);
  if (out_versions != NULL)
    *out_versions = g_steal_pointer (&job->versions);
  return TRUE;
}

/**
 * mbd_packager_port_async:
 * @self: a packager
 * @source: a source package name
 * @from_distribution: the distribution it is in
 * @to_distributions: (array zero-terminated=1): the uploadable distributions to port it to
 * @version: (nullable): the version to port; %NULL for the one in @from_distribution
 * @options: (nullable) (array zero-terminated=1): upload options; %NULL for
 *   %MBD_PORT_DEFAULT_OPTIONS
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the ports are submitted or it failed
 * @user_data: data for @callback
 *
 * Starts [method@Mbd.Packager.port]: the targets and the source are looked up on the calling
 * thread, the ported sources are made (dpkg-source, dpkg-genchanges, signing) in a worker
 * thread, and they are submitted on the calling thread when all are made. Call it on the
 * packager's thread.
 */
void
mbd_packager_port_async (MbdPackager *self,
                         const char *source,
                         const char *from_distribution,
                         const char *const *to_distributions,
                         const char *version,
                         const char *const *options,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_return_if_fail (MBD_IS_PACKAGER (self));
  g_return_if_fail (source != NULL && from_distribution != NULL);

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_packager_port_async);
  GError *error = NULL;
  PortJob *job
      = port_plan (self, source, from_distribution, to_distributions, version, options, &error);
  if (job == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_set_task_data (task, job, (GDestroyNotify) port_job_free);
  mbd_stage_then_submit (task, job, port_job_stage, port_job_submit);
}

/**
 * mbd_packager_port_finish:
 * @self: a packager
 * @result: the result given to the callback
 * @out_keys: (out) (optional) (array zero-terminated=1) (transfer full): the package key of
 *   each upload, in the order of the target distributions
 * @out_versions: (out) (optional) (array zero-terminated=1) (transfer full): the version of each
 *   upload
 * @error: return location for a #GError
 *
 * Finishes [method@Mbd.Packager.port_async].
 *
 * Returns: %TRUE if every port was submitted; the errors of [method@Mbd.Packager.port]
 */
gboolean
mbd_packager_port_finish (MbdPackager *self,
                          GAsyncResult *result,
                          char ***out_keys,
                          char ***out_versions,
                          GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_packager_port_async, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  PortJob *job = g_task_get_task_data (G_TASK (result));
  if (out_keys != NULL)
    *out_keys = g_steal_pointer (&job->keys);
  if (out_versions != NULL)
    *out_versions = g_steal_pointer (&job->versions);
  return TRUE;
}

/* ---- port_ext ------------------------------------------------------------------------------ */

#define MAX_DSC_SIZE (1 << 20)

/* Keyrings of installed archives and distributions, which may have signed a .dsc. */
#define SYSTEM_KEYRINGS_DIR "/usr/share/keyrings"

/* Downloads @url (http, https or file) into @path; at most @max_size bytes. */
static gboolean
download (SoupSession *session,
          const char *url,
          const char *path,
          guint64 max_size,
          GCancellable *cancellable,
          GError **error)
{
  g_autoptr (GInputStream) in = NULL;

  if (g_str_has_prefix (url, "file://"))
    {
      g_autoptr (GFile) source = g_file_new_for_uri (url);
      in = G_INPUT_STREAM (g_file_read (source, cancellable, error));
      if (in == NULL)
        return mbd_prefix_error (error, "%s: ", url);
    }
  else
    {
      g_autoptr (SoupMessage) message = soup_message_new ("GET", url);
      if (message == NULL)
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "'%s' is not a valid URL", url);
      g_autoptr (GError) local_error = NULL;
      in = soup_session_send (session, message, cancellable, &local_error);
      if (in == NULL)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          return mbd_throw (error, MBD_ERROR_UNREACHABLE, "%s: %s", url, local_error->message);
        }
      guint status = soup_message_get_status (message);
      if (status != SOUP_STATUS_OK)
        return mbd_throw (
            error, status == SOUP_STATUS_NOT_FOUND ? MBD_ERROR_NOT_FOUND : MBD_ERROR_UNREACHABLE,
            "%s: HTTP %u %s", url, status, soup_status_get_phrase (status));
      goffset length
          = soup_message_headers_get_content_length (soup_message_get_response_headers (message));
      if (length > 0 && (guint64) length > max_size)
        return mbd_throw (error, MBD_ERROR_TOO_LARGE,
                          "%s: %" G_GINT64_FORMAT
                          " bytes is more than the limit of %" G_GUINT64_FORMAT,
                          url, (gint64) length, max_size);
    }
  g_autoptr (GFile) target = g_file_new_for_path (path);
  g_autoptr (GFileOutputStream) out
             = g_file_replace (target, NULL, FALSE, G_FILE_CREATE_NONE, cancellable, error);
  if (out == NULL)
    return FALSE;
  guint64 total = 0;
  g_autofree char *buffer = g_malloc (64 * 1024);
  for (;;)
    {
      gssize n = g_input_stream_read (in, buffer, 64 * 1024, cancellable, error);
      if (n < 0)
        return mbd_prefix_error (error, "%s: ", url);
      if (n == 0)
        break;
      total += n;
      if (total > max_size)
        return mbd_throw (error, MBD_ERROR_TOO_LARGE,
                          "%s: more than the limit of %" G_GUINT64_FORMAT " bytes", url, max_size);
      if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), buffer, n, NULL, cancellable, error))
        return FALSE;
    }
  return g_output_stream_close (G_OUTPUT_STREAM (out), cancellable, error);
}

/* Downloads the .dsc at @url and every file it lists (from the same directory) into @dir and
 * checks them against its sizes and checksums; returns the local .dsc path. */
static char *
download_source (const char *url, const char *dir, GCancellable *cancellable, GError **error)
{
  if (!g_str_has_prefix (url, "http://") && !g_str_has_prefix (url, "https://")
      && !g_str_has_prefix (url, "file://"))
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "'%s' is not an http://, https:// or file:// URL of a .dsc", url);
      return NULL;
    }
  const char *slash = strrchr (url, '/');
  g_autofree char *name = g_uri_unescape_string (slash + 1, "/");
  if (name == NULL || !g_str_has_suffix (name, ".dsc"))
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "'%s' does not name a .dsc file", url);
      return NULL;
    }
  if (!mbd_filename_is_safe (name, error))
    {
      mbd_prefix_error (error, "%s: ", url);
      return NULL;
    }
  g_autoptr (GProxyResolver) proxy_resolver = mbd_proxy_resolver_from_environment ();
  g_autoptr (SoupSession) session = soup_session_new_with_options (
      "timeout", 300, "user-agent", "mbd/" MBD_VERSION, "proxy-resolver", proxy_resolver, NULL);
  g_autofree char *dsc = g_build_filename (dir, name, NULL);
  if (!download (session, url, dsc, MAX_DSC_SIZE, cancellable, error))
    return NULL;
  g_autoptr (MbdDsc) parsed = mbd_dsc_new_from_file (dsc, error);
  if (parsed == NULL)
    return mbd_prefix_error (error, "%s: ", url), NULL;
  g_autofree char *base = g_strndup (url, slash - url);
  g_autoptr (GPtrArray) files = mbd_dsc_get_files (parsed);
  for (guint i = 0; i < files->len; i++)
    {
      const MbdFileEntry *entry = g_ptr_array_index (files, i);
      const char *file = mbd_file_entry_get_name (entry);
      if (!mbd_filename_is_safe (file, error))
        return mbd_prefix_error (error, "%s: ", url), NULL;
      if (mbd_file_entry_get_size (entry) > MBD_PORT_MAX_DOWNLOAD_SIZE)
        {
          mbd_throw (error, MBD_ERROR_TOO_LARGE,
                     "%s: %s has %" G_GUINT64_FORMAT
                     " bytes, more than the limit of %" G_GUINT64_FORMAT,
                     url, file, mbd_file_entry_get_size (entry), MBD_PORT_MAX_DOWNLOAD_SIZE);
          return NULL;
        }
      g_autofree char *escaped
          = g_uri_escape_string (file, G_URI_RESERVED_CHARS_ALLOWED_IN_PATH_ELEMENT, FALSE);
      g_autofree char *file_url = g_strconcat (base, "/", escaped, NULL);
      g_autofree char *path = g_build_filename (dir, file, NULL);
      /* one byte more than listed, so a longer file fails the size check */
      if (!download (session, file_url, path, mbd_file_entry_get_size (entry) + 1, cancellable,
                     error))
        return NULL;
    }
  if (!mbd_dsc_verify_files (parsed, dir, cancellable, error))
    return mbd_prefix_error (error, "%s: ", url), NULL;
  return g_steal_pointer (&dsc);
}

/* Verifies the signature of @dsc against the uploader keys of @repo and the system keyrings. */
static gboolean
verify_dsc (MbdPackager *self,
            MbdRepository *repo,
            const char *dsc,
            const char *url,
            GCancellable *cancellable,
            GError **error)
{
  g_autoptr (MbdGnupg) keyring = mbd_packager_new_uploader_keyring (self, repo, error);
  if (keyring == NULL || !mbd_packager_import_keyrings_in (keyring, SYSTEM_KEYRINGS_DIR, error))
    return FALSE;
  g_autoptr (GFile) file = g_file_new_for_path (dsc);
  g_autoptr (GBytes) content = g_file_load_bytes (file, cancellable, NULL, error);
  if (content == NULL)
    return FALSE;
  g_autoptr (GBytes) text = mbd_gnupg_verify_clear (keyring, content, NULL, cancellable, error);
  if (text == NULL)
    return mbd_prefix_error (error,
                             "%s: the .dsc must be signed by an uploader of repository %s or a "
                             "key of " SYSTEM_KEYRINGS_DIR " (or allow unauthenticated): ",
                             url, mbd_repository_get_identity (repo));
  /* only what the signature covers counts */
  g_autoptr (MbdDsc) whole = mbd_dsc_new_from_bytes (content, dsc, error);
  g_autoptr (MbdDsc) covered = whole != NULL ? mbd_dsc_new_from_bytes (text, dsc, error) : NULL;
  if (covered == NULL)
    return FALSE;
  g_autofree char *a = mbd_paragraph_to_string (mbd_dsc_get_paragraph (whole));
  g_autofree char *b = mbd_paragraph_to_string (mbd_dsc_get_paragraph (covered));
  if (strcmp (a, b) != 0)
    return mbd_throw (error, MBD_ERROR_BAD_SIGNATURE, "%s: the .dsc differs from its signed text",
                      url);
  return TRUE;
}

/* One port_ext: prepared on the packager's thread, fetched and verified anywhere (a worker
 * thread for the async variant, so a URL served by the caller's own main loop works), uploaded
 * on the packager's thread. */
typedef struct
{
  MbdPackager *self; /* (owned) */
  char *url;
  GArray *targets; /* (element-type Target) */
  gboolean allow_unauthenticated;
  GStrv options;
  char *dir;
  char *dsc;
  MbdDsc *parsed;
  GStrv lines;
  GPtrArray *items; /* (element-type PortItem) (nullable) the ports, once made */
  char *source;
  GStrv keys;
  GStrv versions;
} PortExt;

static void
port_ext_free (PortExt *job)
{
  if (job->dir != NULL)
    mbd_remove_tree (job->dir);
  g_object_unref (job->self);
  g_free (job->url);
  g_clear_pointer (&job->targets, g_array_unref);
  g_strfreev (job->options);
  g_free (job->dir);
  g_free (job->dsc);
  g_clear_object (&job->parsed);
  g_strfreev (job->lines);
  g_clear_pointer (&job->items, g_ptr_array_unref);
  g_free (job->source);
  g_strfreev (job->keys);
  g_strfreev (job->versions);
  g_free (job);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PortExt, port_ext_free)

static PortExt *
port_ext_prepare (MbdPackager *self,
                  const char *dsc_url,
                  const char *const *to_distributions,
                  gboolean allow_unauthenticated,
                  const char *const *options,
                  GError **error)
{
  MbdInstance *instance = mbd_packager_get_instance (self);
  if (!check_options (options, error))
    return NULL;
  g_autoptr (PortExt) job = g_new0 (PortExt, 1);
  job->self = g_object_ref (self);
  job->url = g_strdup (dsc_url);
  job->allow_unauthenticated = allow_unauthenticated;
  job->options = g_strdupv ((char **) options);
  job->targets = resolve_targets (instance, to_distributions, error);
  if (job->targets == NULL)
    return NULL;
  job->dir = make_dir_in_home (instance, "download-XXXXXX", error);
  if (job->dir == NULL)
    return NULL;
  return g_steal_pointer (&job);
}

static gboolean
port_ext_fetch (PortExt *job, GCancellable *cancellable, GError **error)
{
  job->dsc = download_source (job->url, job->dir, cancellable, error);
  if (job->dsc == NULL)
    return FALSE;
  job->parsed = mbd_dsc_new_from_file (job->dsc, error);
  if (job->parsed == NULL)
    return FALSE;
  g_autofree char *extra = g_strconcat ("External port from: ", job->url, NULL);
  job->lines = port_lines (job->dsc, extra, (const char *const *) job->options, error);
  if (job->lines == NULL)
    return FALSE;
  for (guint i = 0; !job->allow_unauthenticated && i < job->targets->len; i++)
    if (!verify_dsc (job->self, g_array_index (job->targets, Target, i).repo, job->dsc, job->url,
                     cancellable, error))
      return FALSE;
  return TRUE;
}

/* Makes the ports of the fetched source (any thread). */
static gboolean
port_ext_stage (PortExt *job, GCancellable *cancellable, GError **error)
{
  job->items = g_ptr_array_new_with_free_func ((GDestroyNotify) port_item_free);
  for (guint i = 0; i < job->targets->len; i++)
    {
      Target *target = &g_array_index (job->targets, Target, i);
      g_autofree char *to_default = target_default_version (target);
      add_port_item (job->items, target->name,
                     mbd_port_version_external (mbd_dsc_get_version (job->parsed), to_default));
    }
  return stage_ports (mbd_packager_get_instance (job->self), job->dsc,
                      mbd_dsc_get_source (job->parsed), job->url, job->items,
                      (const char *const *) job->lines, cancellable, error);
}

/* Submits the ports on the packager's thread. */
static gboolean
port_ext_submit (PortExt *job, GError **error)
{
  if (!submit_ports (mbd_packager_get_instance (job->self), job->items, &job->keys, &job->versions,
                     error))
    return FALSE;
  job->source = g_strdup (mbd_dsc_get_source (job->parsed));
  return TRUE;
}

static void
port_ext_results (PortExt *job, char **out_source, char ***out_keys, char ***out_versions)
{
  if (out_source != NULL)
    *out_source = g_steal_pointer (&job->source);
  if (out_keys != NULL)
    *out_keys = g_steal_pointer (&job->keys);
  if (out_versions != NULL)
    *out_versions = g_steal_pointer (&job->versions);
}

static gboolean
port_ext_job_stage (gpointer data, GCancellable *cancellable, GError **error)
{
  return port_ext_fetch (data, cancellable, error) && port_ext_stage (data, cancellable, error);
}

static gboolean
port_ext_job_submit (gpointer data, GError **error)
{
  return port_ext_submit (data, error);
}

/**
 * mbd_packager_port_ext:
 * @self: a packager
 * @dsc_url: the `http://`, `https://` or `file://` URL of a `.dsc`; its files are fetched from
 *   the same directory
 * @to_distributions: (array zero-terminated=1): the uploadable distributions to port it to
 * @allow_unauthenticated: %TRUE to take a .dsc that is unsigned or signed by an unknown key
 * @options: (nullable) (array zero-terminated=1): upload options (`KEY=VALUE`); %NULL for
 *   %MBD_PORT_DEFAULT_OPTIONS
 * @out_source: (out) (optional) (transfer full): the source package name
 * @out_keys: (out) (optional) (array zero-terminated=1) (transfer full): the package key of
 *   each upload, in the order of @to_distributions
 * @out_versions: (out) (optional) (array zero-terminated=1) (transfer full): the version of each
 *   upload
 * @cancellable: (nullable): a cancellable
 *
 * Ports a source package from anywhere, as mini-buildd's `port_ext`: the .dsc and its files are
 * downloaded (at most %MBD_PORT_MAX_DOWNLOAD_SIZE each) and checked against the .dsc's sizes
 * and checksums; unless @allow_unauthenticated the .dsc must be signed by an uploader key of the
 * target's repository (see [class@Mbd.Packager]) or a key of the keyrings in
 * `/usr/share/keyrings/`. Each port is then made as in [method@Mbd.Packager.port], with the
 * version the original one with the target's default version appended (`1.2.3-1` becomes
 * `1.2.3-1~test12+1`) and the changelog line "External port from: URL".
 *
 * Call it on the packager's thread; it blocks while it downloads and builds the sources, so a
 * URL served by that thread's own main loop needs [method@Mbd.Packager.port_ext_async].
 *
 * Errors: %MBD_ERROR_INVALID_ARGUMENT for a URL that is not http(s) or file or does not name a
 * .dsc, %MBD_ERROR_NOT_FOUND or %MBD_ERROR_UNREACHABLE when a download fails,
 * %MBD_ERROR_TOO_LARGE, %MBD_ERROR_SIZE_MISMATCH or %MBD_ERROR_CHECKSUM_MISMATCH for files that
 * do not match the .dsc, %MBD_ERROR_UNSIGNED, %MBD_ERROR_UNKNOWN_SIGNER or
 * %MBD_ERROR_BAD_SIGNATURE for a .dsc that is not properly signed, and the target errors of
 * [method@Mbd.Packager.port].
 *
 * Returns: %TRUE if every port was submitted
 */
gboolean
mbd_packager_port_ext (MbdPackager *self,
                       const char *dsc_url,
                       const char *const *to_distributions,
                       gboolean allow_unauthenticated,
                       const char *const *options,
                       char **out_source,
                       char ***out_keys,
                       char ***out_versions,
                       GCancellable *cancellable,
                       GError **error)
{
  g_return_val_if_fail (MBD_IS_PACKAGER (self), FALSE);
  g_return_val_if_fail (dsc_url != NULL, FALSE);

  g_autoptr (PortExt) job = port_ext_prepare (self, dsc_url, to_distributions,
                                              allow_unauthenticated, options, error);
  if (job == NULL || !port_ext_job_stage (job, cancellable, error) || !port_ext_submit (job, error))
    return FALSE;
  port_ext_results (job, out_source, out_keys, out_versions);
  return TRUE;
}

/**
 * mbd_packager_port_ext_async:
 * @self: a packager
 * @dsc_url: the URL of a `.dsc`
 * @to_distributions: (array zero-terminated=1): the uploadable distributions to port it to
 * @allow_unauthenticated: %TRUE to take a .dsc that is unsigned or signed by an unknown key
 * @options: (nullable) (array zero-terminated=1): upload options; %NULL for
 *   %MBD_PORT_DEFAULT_OPTIONS
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the ports are submitted or it failed
 * @user_data: data for @callback
 *
 * Starts [method@Mbd.Packager.port_ext]: the download, the checks and the making of the ports
 * run in a worker thread, the submits on the calling thread (the packager's) when they are
 * done. Call it on the packager's thread.
 */
void
mbd_packager_port_ext_async (MbdPackager *self,
                             const char *dsc_url,
                             const char *const *to_distributions,
                             gboolean allow_unauthenticated,
                             const char *const *options,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_return_if_fail (MBD_IS_PACKAGER (self));
  g_return_if_fail (dsc_url != NULL);

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_packager_port_ext_async);
  GError *error = NULL;
  PortExt *job
      = port_ext_prepare (self, dsc_url, to_distributions, allow_unauthenticated, options, &error);
  if (job == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_set_task_data (task, job, (GDestroyNotify) port_ext_free);
  mbd_stage_then_submit (task, job, port_ext_job_stage, port_ext_job_submit);
}

/**
 * mbd_packager_port_ext_finish:
 * @self: a packager
 * @result: the result given to the callback
 * @out_source: (out) (optional) (transfer full): the source package name
 * @out_keys: (out) (optional) (array zero-terminated=1) (transfer full): the package key of
 *   each upload
 * @out_versions: (out) (optional) (array zero-terminated=1) (transfer full): the version of each
 *   upload
 *
 * Finishes [method@Mbd.Packager.port_ext_async].
 *
 * Returns: %TRUE if every port was submitted; the errors of [method@Mbd.Packager.port_ext]
 */
gboolean
mbd_packager_port_ext_finish (MbdPackager *self,
                              GAsyncResult *result,
                              char **out_source,
                              char ***out_keys,
                              char ***out_versions,
                              GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_packager_port_ext_async,
                        FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  port_ext_results (g_task_get_task_data (G_TASK (result)), out_source, out_keys, out_versions);
  return TRUE;
}

/* ---- auto-ports ---------------------------------------------------------------------------- */

/* The auto-ports of one installed package, one target after the other. */
typedef struct
{
  char *source;
  char *distribution;
  GStrv targets;
  guint next;
  JsonObject *results;
} AutoPorts;

static void
auto_ports_free (AutoPorts *job)
{
  g_free (job->source);
  g_free (job->distribution);
  g_strfreev (job->targets);
  json_object_unref (job->results);
  g_free (job);
}

static void auto_ports_next (GTask *task);

static void
auto_port_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  AutoPorts *job = g_task_get_task_data (task);
  const char *name = job->targets[job->next++];
  g_auto (GStrv) keys = NULL;
  g_autoptr (GError) error = NULL;
  JsonArray *outcome = json_array_new ();

  if (mbd_packager_port_finish (MBD_PACKAGER (object), result, &keys, NULL, &error))
    {
      json_array_add_boolean_element (outcome, TRUE);
      json_array_add_string_element (outcome, keys[0]);
    }
  else
    {
      g_info ("auto-port of %s from %s to %s: %s", job->source, job->distribution, name,
              error->message);
      json_array_add_boolean_element (outcome, FALSE);
      json_array_add_string_element (outcome, error->message);
    }
  json_object_set_array_member (job->results, name, outcome);
  auto_ports_next (g_steal_pointer (&task));
}

static void
auto_ports_next (GTask *task)
{
  AutoPorts *job = g_task_get_task_data (task);

  if (job->targets[job->next] == NULL)
    {
      g_task_return_pointer (task, json_object_ref (job->results),
                             (GDestroyNotify) json_object_unref);
      g_object_unref (task);
      return;
    }
  const char *to[] = { job->targets[job->next], NULL };
  mbd_packager_port_async (MBD_PACKAGER (g_task_get_source_object (task)), job->source,
                           job->distribution, to, NULL, NULL, NULL, auto_port_done, task);
}

void
mbd_port_run_auto_ports_async (MbdPackager *self,
                               const char *source,
                               const char *distribution,
                               const char *targets,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  AutoPorts *job = g_new0 (AutoPorts, 1);
  job->source = g_strdup (source);
  job->distribution = g_strdup (distribution);
  job->results = json_object_new ();
  g_auto (GStrv) names = g_strsplit (targets, ",", -1);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *name = g_strstrip (names[i]);
      if (name[0] != '\0')
        g_strv_builder_add (builder, name);
    }
  job->targets = g_strv_builder_end (builder);
  g_task_set_task_data (task, job, (GDestroyNotify) auto_ports_free);
  auto_ports_next (task);
}

JsonObject *
mbd_port_run_auto_ports_finish (MbdPackager *self, GAsyncResult *result)
{
  return g_task_propagate_pointer (G_TASK (result), NULL);
}
