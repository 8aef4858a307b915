/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <string.h>

#define DSC_NAME "foo_1.0-1.dsc"
#define TAR_NAME "foo_1.0-1.tar.xz"
#define CHANGES_NAME "foo_1.0-1_source.changes"
#define DSC_CONTENT "Format: 3.0 (native)\nSource: foo\n"
#define TAR_CONTENT "not really a tarball, but the sizes are real\n"

typedef struct
{
  char *tmp;
  char *dir; /* tmp/incoming */
  MbdIncoming *incoming;
  GPtrArray *completed;       /* changes paths, as emitted */
  GPtrArray *completed_files; /* the sorted file names of each completed directory */
  GPtrArray *failed_names;
  GPtrArray *failed_errors; /* (element-type GError) */
  gboolean take;            /* the complete handler moves the directory to tmp/taken */
} Fixture;

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The names in @dir, sorted, joined with spaces. */
static char *
list_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static gboolean
on_complete (MbdIncoming *incoming, const char *changes_path, const char *dir, Fixture *fixture)
{
  g_autofree char *parent = g_path_get_dirname (changes_path);

  g_assert_cmpstr (parent, ==, dir);
  g_ptr_array_add (fixture->completed, g_strdup (changes_path));
  g_ptr_array_add (fixture->completed_files, list_dir (dir));
  if (!fixture->take)
    return FALSE;
  g_autofree char *taken = g_build_filename (fixture->tmp, "taken", NULL);
  g_assert_cmpint (g_rename (dir, taken), ==, 0);
  return TRUE;
}

static void
on_failed (MbdIncoming *incoming, const char *name, GError *error, Fixture *fixture)
{
  g_test_message ("upload-failed %s: %s", name, error->message);
  g_ptr_array_add (fixture->failed_names, g_strdup (name));
  g_ptr_array_add (fixture->failed_errors, g_error_copy (error));
}

static void
fixture_setup (Fixture *fixture, gconstpointer user_data)
{
  fixture->tmp = mbd_test_make_tmpdir ();
  fixture->dir = g_build_filename (fixture->tmp, "incoming", NULL);
  g_assert_cmpint (g_mkdir (fixture->dir, 0755), ==, 0);
  fixture->incoming = mbd_incoming_new (fixture->dir);
  fixture->completed = g_ptr_array_new_with_free_func (g_free);
  fixture->completed_files = g_ptr_array_new_with_free_func (g_free);
  fixture->failed_names = g_ptr_array_new_with_free_func (g_free);
  fixture->failed_errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_signal_connect (fixture->incoming, "upload-complete", G_CALLBACK (on_complete), fixture);
  g_signal_connect (fixture->incoming, "upload-failed", G_CALLBACK (on_failed), fixture);
}

static void
fixture_teardown (Fixture *fixture, gconstpointer user_data)
{
  g_clear_object (&fixture->incoming);
  mbd_test_rm_rf (fixture->tmp);
  g_free (fixture->tmp);
  g_free (fixture->dir);
  g_ptr_array_unref (fixture->completed);
  g_ptr_array_unref (fixture->completed_files);
  g_ptr_array_unref (fixture->failed_names);
  g_ptr_array_unref (fixture->failed_errors);
}

static void
assert_message_contains (const GError *error, const char *needle)
{
  g_assert_nonnull (error);
  if (strstr (error->message, needle) == NULL)
    g_error ("error message “%s” does not contain “%s”", error->message, needle);
}

/* A .changes listing @names with the sizes of @contents (checksums real, not checked here). */
static char *
changes_text (const char *const *names, const char *const *contents)
{
  g_autoptr (GString) text = g_string_new ("Format: 1.8\n"
                                           "Date: Mon, 01 Jan 2024 00:00:00 +0000\n"
                                           "Source: foo\n"
                                           "Architecture: source\n"
                                           "Version: 1.0-1\n"
                                           "Distribution: bookworm-test-unstable\n"
                                           "Urgency: medium\n"
                                           "Maintainer: Anna <anna@example.org>\n"
                                           "Changed-By: Bert <bert@example.org>\n"
                                           "Changes:\n"
                                           " foo (1.0-1) unstable; urgency=medium\n"
                                           " .\n"
                                           "   * Initial release.\n");
  const struct
  {
    const char *field;
    GChecksumType type;
  } sums[] = { { "Checksums-Sha1", G_CHECKSUM_SHA1 },
               { "Checksums-Sha256", G_CHECKSUM_SHA256 },
               { "Files", G_CHECKSUM_MD5 } };
  for (guint s = 0; s < G_N_ELEMENTS (sums); s++)
    {
      g_string_append_printf (text, "%s:\n", sums[s].field);
      for (guint i = 0; names[i] != NULL; i++)
        {
          g_autofree char *hex = g_compute_checksum_for_string (sums[s].type, contents[i], -1);
          g_string_append_printf (text, " %s %zu%s %s\n", hex, strlen (contents[i]),
                                  sums[s].type == G_CHECKSUM_MD5 ? " devel optional" : "",
                                  names[i]);
        }
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static char *
default_changes (void)
{
  const char *names[] = { DSC_NAME, TAR_NAME, NULL };
  const char *contents[] = { DSC_CONTENT, TAR_CONTENT, NULL };

  return changes_text (names, contents);
}

/* Streams @content as @name in two pieces, as an HTTP body arrives. */
static gboolean
put (Fixture *fixture, const char *name, const char *content, GError **error)
{
  gsize length = strlen (content);
  g_autoptr (MbdIncomingFile) file
             = mbd_incoming_begin_file (fixture->incoming, name, length, error);
  if (file == NULL)
    return FALSE;
  g_autoptr (GBytes) first = g_bytes_new (content, length / 2);
  g_autoptr (GBytes) second = g_bytes_new (content + length / 2, length - length / 2);
  if (!mbd_incoming_file_write (file, first, error)
      || !mbd_incoming_file_write (file, second, error))
    return FALSE;
  return mbd_incoming_file_finish (file, error);
}

static void
put_ok (Fixture *fixture, const char *name, const char *content)
{
  g_autoptr (GError) error = NULL;

  put (fixture, name, content, &error);
  g_assert_no_error (error);
}

/* Iterates the default main context until @count events of @array arrived or @seconds pass. */
static void
wait_for (GPtrArray *array, guint count, int seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (array->len < count && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (10000), TRUE);
}

/* Iterates the default main context until @dir is empty or @seconds pass; returns what is left. */
static char *
wait_dir_empty (const char *dir, int seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  char *left = list_dir (dir);

  while (strcmp (left, "") != 0 && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE) || (g_usleep (10000), TRUE);
      g_free (left);
      left = list_dir (dir);
    }
  return left;
}

static void
test_put_complete (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("Files streamed before their .changes wait loose; the .changes completes the "
                  "upload in its own directory, which a handler that does not take it leaves "
                  "removed");
  g_autofree char *changes = default_changes ();

  put_ok (fixture, DSC_NAME, DSC_CONTENT);
  put_ok (fixture, TAR_NAME, TAR_CONTENT);
  g_assert_cmpuint (fixture->completed->len, ==, 0);
  g_autofree char *loose = list_dir (fixture->dir);
  g_assert_cmpstr (loose, ==, DSC_NAME " " TAR_NAME);

  put_ok (fixture, CHANGES_NAME, changes);
  g_assert_cmpuint (fixture->completed->len, ==, 1);
  g_assert_cmpuint (fixture->failed_names->len, ==, 0);
  const char *path = g_ptr_array_index (fixture->completed, 0);
  g_autofree char *staging = g_path_get_dirname (path);
  g_autofree char *staging_parent = g_path_get_dirname (staging);
  g_autofree char *staging_name = g_path_get_basename (staging);
  g_assert_cmpstr (staging_parent, ==, fixture->dir);
  g_assert_true (g_str_has_prefix (staging_name, ".upload-foo_1.0-1_source-"));
  g_assert_cmpstr (g_ptr_array_index (fixture->completed_files, 0), ==,
                   DSC_NAME " " TAR_NAME " " CHANGES_NAME);
  /* not taken: removed, and nothing else is left */
  g_autofree char *left = list_dir (fixture->dir);
  g_assert_cmpstr (left, ==, "");
}

static void
test_changes_first (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A .changes arriving first waits as a pending upload until every listed "
                  "file arrived with its listed size; a handler that takes the directory "
                  "keeps it");
  g_autofree char *changes = default_changes ();

  fixture->take = TRUE;
  put_ok (fixture, CHANGES_NAME, changes);
  g_auto (GStrv) pending = mbd_incoming_dup_pending (fixture->incoming);
  g_assert_cmpuint (g_strv_length (pending), ==, 1);
  g_assert_cmpstr (pending[0], ==, CHANGES_NAME);

  /* a file with another size than listed does not complete the upload */
  put_ok (fixture, DSC_NAME, "short");
  put_ok (fixture, TAR_NAME, TAR_CONTENT);
  g_assert_cmpuint (fixture->completed->len, ==, 0);
  put_ok (fixture, DSC_NAME, DSC_CONTENT);
  g_assert_cmpuint (fixture->completed->len, ==, 1);

  g_auto (GStrv) pending_after = mbd_incoming_dup_pending (fixture->incoming);
  g_assert_cmpuint (g_strv_length (pending_after), ==, 0);
  g_autofree char *taken = g_build_filename (fixture->tmp, "taken", NULL);
  g_autofree char *taken_files = list_dir (taken);
  g_assert_cmpstr (taken_files, ==, DSC_NAME " " TAR_NAME " " CHANGES_NAME);
  g_autofree char *dsc_path = g_build_filename (taken, DSC_NAME, NULL);
  g_autofree char *dsc = NULL;
  g_assert_true (g_file_get_contents (dsc_path, &dsc, NULL, NULL));
  g_assert_cmpstr (dsc, ==, DSC_CONTENT);
}

static void
test_unsafe_names (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("Names from clients with a directory part, .., a leading dot or control "
                  "characters are refused before anything is written");
  const char *names[]
      = { "../evil.dsc", "/etc/passwd", "..", ".hidden", "a\001b.dsc", "sub/foo.dsc", "" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MbdIncomingFile) file
                 = mbd_incoming_begin_file (fixture->incoming, names[i], 4, &error);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSAFE_FILENAME);
      g_assert_null (file);
    }
  g_autofree char *left = list_dir (fixture->dir);
  g_assert_cmpstr (left, ==, "");
}

static void
test_changes_lists_unsafe (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A .changes listing ../ or absolute names is refused, named, and removed");
  const char *bad[] = { "../evil.dsc", "/etc/evil.dsc" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      const char *names[] = { bad[i], NULL };
      const char *contents[] = { DSC_CONTENT, NULL };
      g_autofree char *changes = changes_text (names, contents);
      g_autoptr (GError) error = NULL;

      g_assert_false (put (fixture, CHANGES_NAME, changes, &error));
      g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSAFE_FILENAME);
      assert_message_contains (error, CHANGES_NAME);
      assert_message_contains (error, bad[i]);
      g_assert_cmpuint (fixture->failed_names->len, ==, i + 1);
      g_assert_cmpstr (g_ptr_array_index (fixture->failed_names, i), ==, CHANGES_NAME);
      g_autofree char *left = list_dir (fixture->dir);
      g_assert_cmpstr (left, ==, "");
    }
}

static void
test_garbage_changes (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("Garbage instead of a .changes is a parse error naming the file and the "
                  "line; the file is removed and upload-failed emitted");
  g_autoptr (GError) error = NULL;

  put_ok (fixture, DSC_NAME, DSC_CONTENT);
  g_assert_false (put (fixture, CHANGES_NAME, "this is not a changes file\n", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  /* the file's name, not the server's path */
  g_assert_true (g_str_has_prefix (error->message, CHANGES_NAME ":1:"));
  g_assert_cmpuint (fixture->failed_names->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->failed_names, 0), ==, CHANGES_NAME);
  g_assert_cmpuint (fixture->completed->len, ==, 0);
  g_autofree char *left = list_dir (fixture->dir);
  g_assert_cmpstr (left, ==, DSC_NAME);
}

static void
test_file_too_large (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A file over max-file-size is refused by its announced size, and when it "
                  "grows beyond it without one; the partial file is removed");
  g_autoptr (GError) error = NULL;

  mbd_incoming_set_max_file_size (fixture->incoming, 10);
  g_autoptr (MbdIncomingFile) announced
             = mbd_incoming_begin_file (fixture->incoming, TAR_NAME, 11, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_TOO_LARGE);
  assert_message_contains (error, TAR_NAME);
  assert_message_contains (error, "limit of 10 bytes");
  g_assert_null (announced);
  g_clear_error (&error);

  g_autoptr (MbdIncomingFile) file
             = mbd_incoming_begin_file (fixture->incoming, TAR_NAME, -1, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) six = g_bytes_new_static ("123456", 6);
  g_assert_true (mbd_incoming_file_write (file, six, &error));
  g_assert_no_error (error);
  g_assert_false (mbd_incoming_file_write (file, six, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_TOO_LARGE);
  assert_message_contains (error, TAR_NAME);
  g_clear_error (&error);
  g_assert_false (mbd_incoming_file_finish (file, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_autofree char *left = list_dir (fixture->dir);
  g_assert_cmpstr (left, ==, "");
}

static void
test_upload_too_large (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A .changes whose upload (itself plus the listed sizes) exceeds "
                  "max-upload-size is refused, naming the limit, and removed with the files "
                  "it lists");
  g_autofree char *changes = default_changes ();
  g_autoptr (GError) error = NULL;

  put_ok (fixture, DSC_NAME, DSC_CONTENT);
  put_ok (fixture, TAR_NAME, TAR_CONTENT);
  mbd_incoming_set_max_upload_size (fixture->incoming, strlen (changes) + 10);
  g_assert_false (put (fixture, CHANGES_NAME, changes, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_TOO_LARGE);
  assert_message_contains (error, CHANGES_NAME);
  g_autofree char *limit
      = g_strdup_printf ("upload size limit of %zu bytes", strlen (changes) + 10);
  assert_message_contains (error, limit);
  g_assert_cmpuint (fixture->failed_names->len, ==, 1);
  g_autofree char *left = list_dir (fixture->dir);
  g_assert_cmpstr (left, ==, "");
}

static void
test_listed_file_too_large (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A .changes listing a file over max-file-size is refused, naming that file");
  const char *names[] = { TAR_NAME, NULL };
  const char *contents[] = { TAR_CONTENT, NULL };
  g_autofree char *changes = changes_text (names, contents);
  g_autoptr (GError) error = NULL;

  /* the tarball is listed bigger than the limit, which the .changes itself is not */
  g_autoptr (GString) big = g_string_new (changes);
  g_autofree char *from = g_strdup_printf (" %zu ", strlen (TAR_CONTENT));
  g_autofree char *to = g_strdup_printf (" %zu ", strlen (changes) + 100);
  g_assert_cmpuint (g_string_replace (big, from, to, 0), ==, 3);
  g_assert_cmpuint (big->len, <=, strlen (changes) + 6);
  mbd_incoming_set_max_file_size (fixture->incoming, big->len);

  g_assert_false (put (fixture, CHANGES_NAME, big->str, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_TOO_LARGE);
  assert_message_contains (error, "listed file " TAR_NAME);
  g_autofree char *left = list_dir (fixture->dir);
  g_assert_cmpstr (left, ==, "");
}

static void
test_truncated_and_aborted (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A body shorter than announced is refused; a dropped file leaves no "
                  "temporary file; nothing reaches the incoming directory");
  g_autoptr (GError) error = NULL;

  g_autoptr (MbdIncomingFile) file
             = mbd_incoming_begin_file (fixture->incoming, DSC_NAME, 10, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) five = g_bytes_new_static ("12345", 5);
  g_assert_true (mbd_incoming_file_write (file, five, &error));
  g_assert_false (mbd_incoming_file_finish (file, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  assert_message_contains (error, "only 5 of the announced 10 bytes");
  g_clear_error (&error);

  MbdIncomingFile *dropped = mbd_incoming_begin_file (fixture->incoming, TAR_NAME, -1, &error);
  g_assert_no_error (error);
  g_assert_true (mbd_incoming_file_write (dropped, five, &error));
  g_autofree char *during = list_dir (fixture->dir);
  g_assert_true (g_str_has_prefix (during, ".part-"));
  g_object_unref (dropped);
  g_autofree char *left = list_dir (fixture->dir);
  g_assert_cmpstr (left, ==, "");
}

static void
test_timeout (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("An upload without progress within the timeout is removed, naming what is "
                  "missing; so is a file no .changes claims");
  g_autofree char *changes = default_changes ();
  g_autoptr (GError) error = NULL;

  mbd_incoming_set_timeout (fixture->incoming, 1);
  g_assert_true (mbd_incoming_start (fixture->incoming, &error));
  g_assert_no_error (error);
  put_ok (fixture, CHANGES_NAME, changes);
  put_ok (fixture, DSC_NAME, DSC_CONTENT);
  put_ok (fixture, "stray_1.0.tar.xz", "nobody wants me");

  wait_for (fixture->failed_names, 2, 10);
  g_assert_cmpuint (fixture->failed_names->len, ==, 2);
  g_assert_cmpuint (fixture->completed->len, ==, 0);
  for (guint i = 0; i < 2; i++)
    {
      const char *name = g_ptr_array_index (fixture->failed_names, i);
      const GError *failure = g_ptr_array_index (fixture->failed_errors, i);
      g_assert_error (failure, MBD_ERROR, MBD_ERROR_MISSING_FILE);
      if (strcmp (name, CHANGES_NAME) == 0)
        assert_message_contains (failure, TAR_NAME " (missing)");
      else
        {
          g_assert_cmpstr (name, ==, "stray_1.0.tar.xz");
          assert_message_contains (failure, "no .changes listing this file");
        }
    }
  g_autofree char *left = wait_dir_empty (fixture->dir, 10);
  g_assert_cmpstr (left, ==, "");
}

static void
test_dropped_files (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("Files copied into the watched directory (scp, sftp, cp) form an upload "
                  "like streamed ones; an unsafe name there is removed and reported");
  g_autofree char *changes = default_changes ();
  g_autoptr (GError) error = NULL;

  g_assert_true (mbd_incoming_start (fixture->incoming, &error));
  g_assert_no_error (error);
  const char *files[][2] = { { TAR_NAME, TAR_CONTENT },
                             { DSC_NAME, DSC_CONTENT },
                             { CHANGES_NAME, changes },
                             { "bad name.dsc", "x" } };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (fixture->dir, files[i][0], NULL);
      g_assert_true (g_file_set_contents (path, files[i][1], -1, &error));
    }

  wait_for (fixture->completed, 1, 15);
  wait_for (fixture->failed_names, 1, 5);
  g_assert_cmpuint (fixture->completed->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->completed_files, 0), ==,
                   DSC_NAME " " TAR_NAME " " CHANGES_NAME);
  g_assert_cmpuint (fixture->failed_names->len, ==, 1);
  g_assert_error ((const GError *) g_ptr_array_index (fixture->failed_errors, 0), MBD_ERROR,
                  MBD_ERROR_UNSAFE_FILENAME);
  g_autofree char *left = wait_dir_empty (fixture->dir, 10);
  g_assert_cmpstr (left, ==, "");
}

static void
test_shared_file (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("Two concurrent uploads listing the same file (one orig tarball for two "
                  "revisions, sent before either .changes) both complete; the kept copy is "
                  "removed after a grace period");
  g_autoptr (GError) error = NULL;
  const char *names_1[] = { "foo_1.0-1.dsc", TAR_NAME, NULL };
  const char *names_2[] = { "foo_1.0-2.dsc", TAR_NAME, NULL };
  const char *contents[] = { DSC_CONTENT, TAR_CONTENT, NULL };
  g_autofree char *changes_1 = changes_text (names_1, contents);
  g_autofree char *changes_2 = changes_text (names_2, contents);

  g_assert_true (mbd_incoming_start (fixture->incoming, &error));
  g_assert_no_error (error);
  put_ok (fixture, TAR_NAME, TAR_CONTENT);
  put_ok (fixture, "foo_1.0-1.dsc", DSC_CONTENT);
  put_ok (fixture, TAR_NAME, TAR_CONTENT); /* the second dput sends it again */
  put_ok (fixture, "foo_1.0-2.dsc", DSC_CONTENT);
  put_ok (fixture, "foo_1.0-1_source.changes", changes_1);
  g_assert_cmpuint (fixture->completed->len, ==, 1);
  put_ok (fixture, "foo_1.0-2_source.changes", changes_2);
  g_assert_cmpuint (fixture->completed->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (fixture->completed_files, 0), ==,
                   "foo_1.0-1.dsc " TAR_NAME " foo_1.0-1_source.changes");
  g_assert_cmpstr (g_ptr_array_index (fixture->completed_files, 1), ==,
                   TAR_NAME " foo_1.0-2.dsc foo_1.0-2_source.changes");

  g_autofree char *left = wait_dir_empty (fixture->dir, 15);
  g_assert_cmpstr (left, ==, "");
  g_assert_cmpuint (fixture->failed_names->len, ==, 0);
}

static void
test_restart_adopts (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("A pending upload survives a restart: a new object on the same directory "
                  "takes up its staging directory and completes it");
  g_autofree char *changes = default_changes ();
  g_autoptr (GError) error = NULL;

  put_ok (fixture, CHANGES_NAME, changes);
  put_ok (fixture, DSC_NAME, DSC_CONTENT);
  g_clear_object (&fixture->incoming);

  fixture->incoming = mbd_incoming_new (fixture->dir);
  g_signal_connect (fixture->incoming, "upload-complete", G_CALLBACK (on_complete), fixture);
  g_signal_connect (fixture->incoming, "upload-failed", G_CALLBACK (on_failed), fixture);
  g_assert_true (mbd_incoming_start (fixture->incoming, &error));
  g_assert_no_error (error);
  g_auto (GStrv) pending = mbd_incoming_dup_pending (fixture->incoming);
  g_assert_cmpuint (g_strv_length (pending), ==, 1);
  put_ok (fixture, TAR_NAME, TAR_CONTENT);
  g_assert_cmpuint (fixture->completed->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->completed_files, 0), ==,
                   DSC_NAME " " TAR_NAME " " CHANGES_NAME);
}

static void
test_instance (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("For an instance: a complete upload is taken by its packager into "
                  "packages/, and a garbage .changes becomes a REJECTED event naming it");
  g_autoptr (GError) error = NULL;
  g_autofree char *home = g_build_filename (fixture->tmp, "home", NULL);
  g_autoptr (MbdInstance) instance = mbd_test_create_instance (home, "inc");

  g_clear_object (&fixture->incoming);
  fixture->incoming = mbd_incoming_new_for_instance (instance);
  g_signal_connect (fixture->incoming, "upload-failed", G_CALLBACK (on_failed), fixture);
  g_autofree char *expected_dir = g_build_filename (home, "incoming", NULL);
  g_assert_cmpstr (mbd_incoming_get_directory (fixture->incoming), ==, expected_dir);

  g_autofree char *changes = default_changes ();
  put_ok (fixture, DSC_NAME, DSC_CONTENT);
  put_ok (fixture, TAR_NAME, TAR_CONTENT);
  put_ok (fixture, CHANGES_NAME, changes);
  g_assert_cmpuint (fixture->failed_names->len, ==, 0);
  g_autofree char *left = list_dir (expected_dir);
  g_assert_cmpstr (left, ==, "");
  /* packages/<key>/ holds the upload now */
  g_autofree char *packages = g_build_filename (home, "packages", NULL);
  g_autofree char *keys = list_dir (packages);
  g_assert_cmpstr (keys, !=, "");
  g_assert_null (strchr (keys, ' '));
  g_autofree char *taken = g_build_filename (packages, keys, NULL);
  g_autofree char *taken_files = list_dir (taken);
  g_assert_cmpstr (taken_files, ==, DSC_NAME " " TAR_NAME " " CHANGES_NAME);

  g_assert_false (put (fixture, "junk_1.0_source.changes", "no changes\n", &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_clear_error (&error);
  g_autoptr (GPtrArray) events
             = mbd_events_list_after (mbd_instance_get_events (instance), NULL, &error);
  g_assert_no_error (error);
  MbdEvent *rejected = NULL;
  for (guint i = 0; i < events->len; i++)
    if (g_strcmp0 (mbd_event_get_source (g_ptr_array_index (events, i)), "junk") == 0)
      rejected = g_ptr_array_index (events, i);
  g_assert_nonnull (rejected);
  g_assert_cmpint (mbd_event_get_event_type (rejected), ==, MBD_EVENT_REJECTED);
  g_assert_cmpstr (mbd_event_get_version (rejected), ==, "1.0");
  g_assert_true (g_str_has_prefix (mbd_event_get_reason (rejected), "junk_1.0_source.changes:1:"));

  g_clear_object (&fixture->incoming);
  g_autofree char *gnupg = g_build_filename (home, "gnupg", NULL);
  mbd_test_kill_agent (gnupg);
}

static void
test_held (Fixture *fixture, gconstpointer user_data)
{
  g_test_summary ("While uploads are held (mbd-server's stopped engine), streamed and dropped "
                  "files are kept in the directory, nothing is handed on, refused or expired "
                  "(not even past the timeout); ending the hold processes all of it");
  g_autofree char *changes = default_changes ();
  g_autoptr (GError) error = NULL;

  mbd_incoming_set_timeout (fixture->incoming, 1);
  g_assert_true (mbd_incoming_start (fixture->incoming, &error));
  g_assert_no_error (error);
  put_ok (fixture, CHANGES_NAME, changes);
  put_ok (fixture, DSC_NAME, DSC_CONTENT);

  g_assert_false (mbd_incoming_get_held (fixture->incoming));
  mbd_incoming_set_held (fixture->incoming, TRUE);
  gboolean held = FALSE;
  g_object_get (fixture->incoming, "held", &held, NULL);
  g_assert_true (held);
  put_ok (fixture, TAR_NAME, TAR_CONTENT);
  g_autofree char *junk = g_build_filename (fixture->dir, "junk_1.0_source.changes", NULL);
  g_assert_true (g_file_set_contents (junk, "no changes\n", -1, &error));
  g_assert_no_error (error);
  /* past the timeout, with the periodic check and an explicit scan */
  gint64 until = g_get_monotonic_time () + 1500 * 1000;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (10000), TRUE);
  mbd_incoming_scan (fixture->incoming);
  g_assert_cmpuint (fixture->completed->len, ==, 0);
  g_assert_cmpuint (fixture->failed_names->len, ==, 0);
  g_autofree char *kept = list_dir (fixture->dir);
  g_assert_nonnull (strstr (kept, TAR_NAME));
  g_assert_nonnull (strstr (kept, "junk_1.0_source.changes"));
  g_auto (GStrv) pending = mbd_incoming_dup_pending (fixture->incoming);
  g_assert_cmpuint (g_strv_length (pending), ==, 1);

  mbd_incoming_set_held (fixture->incoming, FALSE);
  wait_for (fixture->completed, 1, 10);
  wait_for (fixture->failed_names, 1, 10);
  g_assert_cmpuint (fixture->completed->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->completed_files, 0), ==,
                   DSC_NAME " " TAR_NAME " " CHANGES_NAME);
  g_assert_cmpuint (fixture->failed_names->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->failed_names, 0), ==, "junk_1.0_source.changes");
  g_assert_error ((const GError *) g_ptr_array_index (fixture->failed_errors, 0), MBD_ERROR,
                  MBD_ERROR_PARSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/incoming/put-complete", test_put_complete);
  ADD ("/incoming/changes-first", test_changes_first);
  ADD ("/incoming/unsafe-names", test_unsafe_names);
  ADD ("/incoming/changes-lists-unsafe", test_changes_lists_unsafe);
  ADD ("/incoming/garbage-changes", test_garbage_changes);
  ADD ("/incoming/file-too-large", test_file_too_large);
  ADD ("/incoming/upload-too-large", test_upload_too_large);
  ADD ("/incoming/listed-file-too-large", test_listed_file_too_large);
  ADD ("/incoming/truncated-and-aborted", test_truncated_and_aborted);
  ADD ("/incoming/timeout", test_timeout);
  ADD ("/incoming/dropped-files", test_dropped_files);
  ADD ("/incoming/shared-file", test_shared_file);
  ADD ("/incoming/restart-adopts", test_restart_adopts);
  ADD ("/incoming/instance", test_instance);
  ADD ("/incoming/held", test_held);
#undef ADD

  return g_test_run ();
}
