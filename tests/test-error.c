/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

static void
test_error_domain (void)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("MBD_ERROR is a registered error domain whose codes have enum nicks");
  g_set_error (&error, MBD_ERROR, MBD_ERROR_UNSAFE_FILENAME, "x");
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSAFE_FILENAME);
  g_assert_cmpstr (g_quark_to_string (MBD_ERROR), ==, "mbd-error-quark");

  g_autoptr (GEnumClass) klass = g_type_class_ref (MBD_TYPE_ERROR);
  GEnumValue *value = g_enum_get_value (klass, MBD_ERROR_CHECKSUM_MISMATCH);
  g_assert_nonnull (value);
  g_assert_cmpstr (value->value_nick, ==, "checksum-mismatch");
}

static void
test_error_network_codes (void)
{
  g_autoptr (GEnumClass) klass = g_type_class_ref (MBD_TYPE_ERROR);

  g_test_summary ("The codes of source checks exist with stable nicks, after the older codes");
  GEnumValue *unreachable = g_enum_get_value (klass, MBD_ERROR_UNREACHABLE);
  g_assert_nonnull (unreachable);
  g_assert_cmpstr (unreachable->value_nick, ==, "unreachable");
  GEnumValue *expired = g_enum_get_value (klass, MBD_ERROR_EXPIRED);
  g_assert_nonnull (expired);
  g_assert_cmpstr (expired->value_nick, ==, "expired");
  /* Appended, so the numbers of released codes do not change. */
  g_assert_cmpint (MBD_ERROR_UNREACHABLE, >, MBD_ERROR_BUILD_FAILED);
  g_assert_cmpint (MBD_ERROR_EXPIRED, >, MBD_ERROR_KEY_EXPIRED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/error/domain", test_error_domain);
  g_test_add_func ("/error/network-codes", test_error_network_codes);
  return g_test_run ();
}
