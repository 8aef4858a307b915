/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <string.h>

static void
test_valid (void)
{
  g_test_summary ("Debian policy 5.6.1 source names pass: lower case letters, digits, + - .");
  const char *names[] = { "hello", "mbd-test-cpp", "g++", "libc6.1", "0ad", "a0", "x+y.z-1" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean valid = mbd_source_name_is_valid (names[i], &error);
      g_assert_no_error (error);
      g_assert_true (valid);
    }
}

static void
test_invalid (void)
{
  g_test_summary ("Anything else fails with MBD_ERROR_INVALID_ARGUMENT naming the name: upper "
                  "case, one character, a leading + - ., '_', '/', spaces, non-ASCII, empty");
  const char *names[]
      = { "Hello", "a", "-hello", "+x", ".x", "hello_1", "../x", "a b", "héllo", "", "hello\n" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (mbd_source_name_is_valid (names[i], &error));
      g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "is not a valid source package name"));
    }
  g_autoptr (GError) error = NULL;
  g_assert_false (mbd_source_name_is_valid ("Hello", &error));
  g_assert_cmpstr (error->message, ==,
                   "'Hello' is not a valid source package name (at least two characters: lower "
                   "case letters, digits, '+', '-' and '.', starting with a letter or digit)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/source-name/valid", test_valid);
  g_test_add_func ("/source-name/invalid", test_invalid);
  return g_test_run ();
}
