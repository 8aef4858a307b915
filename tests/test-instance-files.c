/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  char *tmpdir;          /* (owned) */
  char *home;            /* (owned) */
  char *root;            /* (owned) <home>/repositories/test */
  MbdInstance *instance; /* (owned) never opened: resolving needs only the home */
} Fixture;

static void
write_file (const char *path, const char *contents)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
setup (Fixture *fx, gconstpointer data)
{
  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->home = g_build_filename (fx->tmpdir, "home", NULL);
  fx->root = g_build_filename (fx->home, "repositories", "test", NULL);
  fx->instance = mbd_instance_new (fx->home);

  g_autofree char *release = g_build_filename (fx->root, "dists/bookworm/Release", NULL);
  write_file (release, "Suite: bookworm\n");
  g_autofree char *deb = g_build_filename (fx->root, "pool/main/h/hello/hello_1_all.deb", NULL);
  write_file (deb, "not really a deb");
  g_autofree char *secret = g_build_filename (fx->tmpdir, "secret", NULL);
  write_file (secret, "outside");
  g_autofree char *hidden = g_build_filename (fx->root, "dists/bookworm/.Release.new", NULL);
  write_file (hidden, "in progress");

  /* a link leaving the tree, one to a directory outside, and one staying inside */
  g_autofree char *out_link = g_build_filename (fx->root, "dists/escape", NULL);
  g_assert_cmpint (symlink (secret, out_link), ==, 0);
  g_autofree char *out_dir = g_build_filename (fx->root, "dists/up", NULL);
  g_assert_cmpint (symlink ("../../../..", out_dir), ==, 0);
  g_autofree char *in_link = g_build_filename (fx->root, "dists/stable", NULL);
  g_assert_cmpint (symlink ("bookworm", in_link), ==, 0);
  g_autofree char *loop = g_build_filename (fx->root, "dists/loop", NULL);
  g_assert_cmpint (symlink ("loop", loop), ==, 0);
}

static void
teardown (Fixture *fx, gconstpointer data)
{
  g_clear_object (&fx->instance);
  mbd_test_rm_rf (fx->tmpdir);
  g_free (fx->tmpdir);
  g_free (fx->home);
  g_free (fx->root);
}

static char *
in_root (Fixture *fx, const char *relative)
{
  g_autofree char *root = realpath (fx->root, NULL);
  g_assert_nonnull (root);
  return *relative == '\0' ? g_steal_pointer (&root) : g_build_filename (root, relative, NULL);
}

static void
test_resolves (Fixture *fx, gconstpointer data)
{
  const struct
  {
    const char *path, *expected;
  } cases[] = {
    { "dists/bookworm/Release", "dists/bookworm/Release" },
    { "/dists//bookworm/Release", "dists/bookworm/Release" },
    { "pool/main/h/hello/hello_1_all.deb", "pool/main/h/hello/hello_1_all.deb" },
    { "dists/stable/Release", "dists/bookworm/Release" },
    { "dists/", "dists" },
    { "", "" },
  };

  g_test_summary ("Paths inside a repository's tree resolve to canonical absolute paths; links "
                  "that stay inside are followed, empty components skipped");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *resolved
          = mbd_instance_resolve_repository_path (fx->instance, "test", cases[i].path, &error);
      g_assert_no_error (error);
      g_autofree char *expected = in_root (fx, cases[i].expected);
      g_assert_cmpstr (resolved, ==, expected);
    }
}

static void
test_refuses (Fixture *fx, gconstpointer data)
{
  const struct
  {
    const char *repository, *path;
    int code;
    const char *message_part;
  } cases[] = {
    { "test", "..", MBD_ERROR_UNSAFE_FILENAME, "component '..'" },
    { "test", "dists/../../../secret", MBD_ERROR_UNSAFE_FILENAME, "component '..'" },
    { "test", "dists/./bookworm/Release", MBD_ERROR_UNSAFE_FILENAME, "component '.'" },
    { "test", "dists/bookworm/.Release.new", MBD_ERROR_UNSAFE_FILENAME, "'.Release.new'" },
    { "test", "dists/escape", MBD_ERROR_UNSAFE_FILENAME, "leads outside" },
    { "test", "dists/up/secret", MBD_ERROR_UNSAFE_FILENAME, "leads outside" },
    { "test", "dists/up", MBD_ERROR_UNSAFE_FILENAME, "leads outside" },
    { "test", "dists/loop", MBD_ERROR_UNSAFE_FILENAME, "symbolic links" },
    { "test", "dists/sid/Release", MBD_ERROR_NOT_FOUND, "no file 'dists/sid/Release'" },
    { "test", "dists/bookworm/Release/x", MBD_ERROR_NOT_FOUND, "no file" },
    { "other", "dists", MBD_ERROR_NOT_FOUND, "repository 'other' has no published tree" },
    { "..", "test/dists", MBD_ERROR_INVALID_ARGUMENT, "'..' is not a repository identity" },
    { "Test", "dists", MBD_ERROR_INVALID_ARGUMENT, "'Test' is not" },
    { "", "dists", MBD_ERROR_INVALID_ARGUMENT, "'' is not" },
    { "te/st", "", MBD_ERROR_INVALID_ARGUMENT, "'te/st' is not" },
    { "test", "dists/\xff\x01/..", MBD_ERROR_UNSAFE_FILENAME, "dists/\xef\xbf\xbd\\001/.." },
  };

  g_test_summary ("Dot components, links leaving the tree, link loops, missing files and bad "
                  "repository identities are refused with specific errors naming the input");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *resolved = mbd_instance_resolve_repository_path (
          fx->instance, cases[i].repository, cases[i].path, &error);
      g_assert_null (resolved);
      g_assert_error (error, MBD_ERROR, cases[i].code);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      if (strstr (error->message, cases[i].message_part) == NULL)
        g_error ("case %u: '%s' does not contain '%s'", i, error->message, cases[i].message_part);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add ("/instance-files/resolves", Fixture, NULL, setup, test_resolves, teardown);
  g_test_add ("/instance-files/refuses", Fixture, NULL, setup, test_refuses, teardown);
  return g_test_run ();
}
