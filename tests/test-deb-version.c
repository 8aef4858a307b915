/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

typedef struct
{
  const char *version;
  guint epoch;
  const char *upstream;
  const char *revision; /* NULL: no revision */
  const char *canonical;
} ParseCase;

static const ParseCase parse_cases[] = {
  { "1.0", 0, "1.0", NULL, "1.0" },
  { "1.0-1", 0, "1.0", "1", "1.0-1" },
  { "0:1.0-1", 0, "1.0", "1", "1.0-1" },
  { "1:1.0-1", 1, "1.0", "1", "1:1.0-1" },
  { "00:1.0", 0, "1.0", NULL, "1.0" },
  { "007:1.0", 7, "1.0", NULL, "7:1.0" },
  { "2147483647:1", 2147483647, "1", NULL, "2147483647:1" },
  { "1:2:3", 1, "2:3", NULL, "1:2:3" },
  { "0:2:3", 0, "2:3", NULL, "0:2:3" },
  { "1:2:3-4:5-6", 1, "2:3-4:5", "6", "1:2:3-4:5-6" },
  { "1-2-3", 0, "1-2", "3", "1-2-3" },
  { "1:1-2-3", 1, "1-2", "3", "1:1-2-3" },
  { "1.2.3~rc1+dfsg-0ubuntu1~bpo12+1", 0, "1.2.3~rc1+dfsg", "0ubuntu1~bpo12+1",
    "1.2.3~rc1+dfsg-0ubuntu1~bpo12+1" },
  { "2.36.1-8+deb11u1", 0, "2.36.1", "8+deb11u1", "2.36.1-8+deb11u1" },
  { "1:9.18.19-1~deb12u1", 1, "9.18.19", "1~deb12u1", "1:9.18.19-1~deb12u1" },
  { "0", 0, "0", NULL, "0" },
  { "0-0", 0, "0", "0", "0-0" },
  { "1A.b+c~d:e-F.g+h~i", 0, "1A.b+c~d:e", "F.g+h~i", NULL /* epoch missing: ':' is invalid */ },
  { "  1.0-1\t", 0, "1.0", "1", "1.0-1" },
  { "\t1:2 ", 1, "2", NULL, "1:2" },
  { "1~", 0, "1~", NULL, "1~" },
  { "1-~", 0, "1", "~", "1-~" },
  { "9-a", 0, "9", "a", "9-a" },
};

static void
test_parse_valid (void)
{
  g_test_summary ("Valid versions split into epoch, upstream and revision as dpkg splits them, "
                  "and print back in dpkg's form");

  for (gsize i = 0; i < G_N_ELEMENTS (parse_cases); i++)
    {
      const ParseCase *c = &parse_cases[i];
      g_autoptr (GError) error = NULL;

      g_test_message ("parsing “%s”", c->version);
      g_autoptr (MbdDebVersion) v = mbd_deb_version_new (c->version, &error);
      if (c->canonical == NULL)
        {
          /* a case kept in the table to document why it is not valid */
          g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_VERSION);
          g_assert_null (v);
          continue;
        }
      g_assert_no_error (error);
      g_assert_nonnull (v);
      g_assert_cmpuint (mbd_deb_version_get_epoch (v), ==, c->epoch);
      g_assert_cmpstr (mbd_deb_version_get_upstream (v), ==, c->upstream);
      g_assert_cmpstr (mbd_deb_version_get_revision (v), ==, c->revision);
      g_autofree char *text = mbd_deb_version_to_string (v);
      g_assert_cmpstr (text, ==, c->canonical);

      /* The printed form parses back to an equal version that prints the same. */
      g_autoptr (MbdDebVersion) again = mbd_deb_version_new (text, &error);
      g_assert_no_error (error);
      g_assert_cmpint (mbd_deb_version_compare (v, again), ==, 0);
      g_assert_cmpuint (mbd_deb_version_get_epoch (again), ==, c->epoch);
      g_assert_cmpstr (mbd_deb_version_get_upstream (again), ==, c->upstream);
      g_autofree char *text_again = mbd_deb_version_to_string (again);
      g_assert_cmpstr (text_again, ==, text);

      g_assert_true (mbd_deb_version_is_valid (c->version, &error));
      g_assert_no_error (error);
      g_assert_true (mbd_deb_version_is_valid (c->version, NULL));
    }
}

typedef struct
{
  const char *version;
  const char *problem; /* a part of the message that names the problem */
} InvalidCase;

static const InvalidCase invalid_cases[] = {
  /* empty */
  { "", "the version is empty" },
  { "  \t ", "the version is empty" },
  /* whitespace inside */
  { "1.0 1", "contains whitespace" },
  { "1.0\t-1", "contains whitespace" },
  { " 1: 2", "contains whitespace" },
  /* epochs */
  { ":1.0", "the epoch before “:” is empty" },
  { "a:1.0", "the epoch “a” is not a number" },
  { "1a:1.0", "the epoch “1a” is not a number" },
  { "-1:1.0", "the epoch “-1” is not a number" },
  { "+1:1.0", "the epoch “+1” is not a number" }, /* dpkg's strtol() would take it */
  { "1.5:1.0", "the epoch “1.5” is not a number" },
  { "2147483648:1.0", "the epoch “2147483648” is too big (at most 2147483647)" },
  { "99999999999999999999999:1", "the epoch “99999999999999999999999” is too big" },
  { "1:", "nothing follows the epoch" },
  { "\xff:1", "the epoch “\\377” is not a number" },
  /* revision */
  { "1.0-", "the revision after the last “-” is empty" },
  { "1:1.0-", "the revision after the last “-” is empty" },
  { "1.0-1-", "the revision after the last “-” is empty" },
  { "1.0-1_2", "the revision contains “_”" },
  { "1:1.0-1:2", "the revision contains “:”" },
  { "1.0-1\n", "the revision contains the byte 0x0a" },
  /* upstream */
  { "-1", "the upstream version is empty" },
  { "1:-1", "the upstream version is empty" },
  { "a1.0", "the upstream version “a1.0” does not start with a digit" },
  { "~1", "the upstream version “~1” does not start with a digit" },
  { "1:.1", "the upstream version “.1” does not start with a digit" },
  { "é1", "the upstream version “\\303\\2511” does not start with a digit" },
  { "1.0_1", "the upstream version contains “_”" },
  { "1.0:1", "the epoch “1.0” is not a number" }, /* a colon without an epoch */
  { "1.0!", "the upstream version contains “!”" },
  { "1.0é", "the upstream version contains the byte 0xc3" },
  { "1.0\r", "the upstream version contains the byte 0x0d" },
  { "1\x01", "the upstream version contains the byte 0x01" },
};

static void
test_parse_invalid (void)
{
  g_test_summary ("Every kind of invalid version is refused with MBD_ERROR_INVALID_VERSION and a "
                  "message that quotes the version and names the problem");

  for (gsize i = 0; i < G_N_ELEMENTS (invalid_cases); i++)
    {
      const InvalidCase *c = &invalid_cases[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (GError) valid_error = NULL;
      g_autofree char *quoted = g_strescape (c->version, NULL);
      g_autofree char *expected_start = g_strdup_printf ("Invalid Debian version “%s”: ", quoted);

      g_test_message ("parsing “%s”", quoted);
      g_autoptr (MbdDebVersion) v = mbd_deb_version_new (c->version, &error);
      g_assert_null (v);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_VERSION);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      if (!g_str_has_prefix (error->message, expected_start)
          || strstr (error->message, c->problem) == NULL)
        g_error ("message for “%s” is “%s”, expected it to start with “%s” and contain “%s”",
                 quoted, error->message, expected_start, c->problem);

      g_assert_false (mbd_deb_version_is_valid (c->version, &valid_error));
      g_assert_error (valid_error, MBD_ERROR, MBD_ERROR_INVALID_VERSION);
      g_assert_cmpstr (valid_error->message, ==, error->message);
      g_assert_false (mbd_deb_version_is_valid (c->version, NULL));
    }
}

typedef struct
{
  const char *a;
  const char *b;
  int expected; /* sign of compare (a, b) */
} CompareCase;

static const CompareCase compare_cases[] = {
  /* plain */
  { "1.0", "1.0", 0 },
  { "1.0", "1.1", -1 },
  { "1.1", "1.0", 1 },
  { "1.0-1", "1.0-2", -1 },
  { "1.0-10", "1.0-9", 1 },
  { "2.0", "10.0", -1 },
  /* epochs beat everything else */
  { "1:0", "0:9", 1 },
  { "1:0", "9", 1 },
  { "0:9", "9", 0 },
  { "00:9", "0:9", 0 },
  { "1:1.0", "2:0.1", -1 },
  { "10:1", "9:2", 1 },
  { "2147483647:0", "2147483646:9", 1 },
  /* ~ before everything, even the end */
  { "1.0~rc1", "1.0", -1 },
  { "1.0~", "1.0", -1 },
  { "1.0~~", "1.0~", -1 },
  { "1.0~~a", "1.0~~", 1 },
  { "1.0~~", "1.0~~a", -1 },
  { "1.0~a", "1.0~b", -1 },
  { "1.0~rc1", "1.0~rc1~1", 1 },
  { "1.0-1~bpo1", "1.0-1", -1 },
  { "1.0-~", "1.0", -1 },
  { "1~", "1~0", 0 },
  { "1~~", "1~", -1 },
  /* the end before letters, letters before non-letters */
  { "1.0", "1.0a", -1 },
  { "1.0a", "1.0b", -1 },
  { "1.0A", "1.0a", -1 },
  { "1.0Z", "1.0a", -1 },
  { "1.0z", "1.0+", -1 },
  { "1.0z", "1.0.", -1 },
  { "1.0+", "1.0.", -1 },
  { "1.0+", "1.0-1", 1 },
  { "1.0a", "1.0.1", -1 },
  { "1.0", "1.0+", -1 },
  { "1.0", "1.0.0", -1 },
  { "1.0+dfsg", "1.0", 1 },
  { "1.0+dfsg-1", "1.0-1", 1 },
  { "1.0+b1", "1.0.1", -1 },
  { "1:2.0+dfsg", "1:2.0~dfsg", 1 },
  /* letters vs digits: a non-digit run ends where digits start */
  { "1a", "10", -1 },
  { "1a1", "1a01", 0 },
  { "a", "1", 1 }, /* only through compare_strings: neither starts with a digit */
  { "1.a", "1.1", 1 },
  { "1.0a1", "1.0.1", -1 },
  /* leading zeros */
  { "1.01", "1.1", 0 },
  { "1.001", "1.1", 0 },
  { "1.0010", "1.010", 0 },
  { "1.00", "1.0", 0 },
  { "1.00", "1", 1 },
  { "01", "1", 0 },
  { "000", "0", 0 },
  { "1.0-01", "1.0-1", 0 },
  { "1.09", "1.10", -1 },
  /* long digit runs compare as numbers of any length */
  { "123456789012345678901234567890", "123456789012345678901234567891", -1 },
  { "99999999999999999999999999999", "100000000000000000000000000000", -1 },
  { "1.000000000000000000000000000000001", "1.1", 0 },
  /* a missing revision is an empty one, and an empty digit run is 0 */
  { "1.0", "1.0-0", 0 },
  { "1.0", "1.0-00", 0 },
  { "1.0", "1.0-1", -1 },
  { "1.0-0", "1.0-a", -1 },
  { "1.0", "1.0-~", 1 },
  { "1.0-1", "1.0-1.0", -1 },
  /* hyphens and colons inside the upstream version */
  { "1-2-3", "1-2-4", -1 },
  { "1-2-3", "1-3-1", -1 },
  { "1:1:2", "1:1.2", 1 },
  { "1:1-1", "1:1:1", -1 },
  /* realistic */
  { "2.36.1-8+deb11u1", "2.36.1-8", 1 },
  { "1:9.18.19-1~deb12u1", "1:9.18.19-1", -1 },
  { "6.1.0-13", "6.1.0-9", 1 },
  { "1.2.3-1+b1", "1.2.3-1.1", -1 },
  { "3.0~ds1-1~deb12u1", "3.0-1", -1 },
};

static void
test_compare (void)
{
  g_test_summary ("Comparison follows dpkg's verrevcmp: epochs, '~', letters against other "
                  "characters and the end, numeric digit runs");

  for (gsize i = 0; i < G_N_ELEMENTS (compare_cases); i++)
    {
      const CompareCase *c = &compare_cases[i];

      g_test_message ("comparing “%s” with “%s”", c->a, c->b);
      g_assert_cmpint (mbd_deb_version_compare_strings (c->a, c->b), ==, c->expected);
      g_assert_cmpint (mbd_deb_version_compare_strings (c->b, c->a), ==, -c->expected);

      g_autoptr (MbdDebVersion) a = mbd_deb_version_new (c->a, NULL);
      g_autoptr (MbdDebVersion) b = mbd_deb_version_new (c->b, NULL);
      if (a == NULL || b == NULL)
        {
          /* only documented lenient cases may be invalid */
          g_assert_cmpstr (c->a, ==, "a");
          continue;
        }
      g_assert_cmpint (mbd_deb_version_compare (a, b), ==, c->expected);
      g_assert_cmpint (mbd_deb_version_compare (b, a), ==, -c->expected);
      g_assert_cmpint (mbd_deb_version_compare (a, a), ==, 0);
    }
}

static void
test_compare_sort (void)
{
  /* Each sorts strictly before the next; the whole chain checks transitivity in one place. */
  static const char *const chain[] = {
    "0~~",     "0~",      "0-~", "0",          "0-0.1",    "0a",   "0+",
    "0.0~rc1", "0.0",     "0.1", "0.9",        "0.10",     "1~~",  "1~~a",
    "1~",      "1-~",     "1",   "1-0.1",      "1-1~bpo1", "1-1",  "1-1+b1",
    "1-1.1",   "1-2",     "1a~", "1a",         "1a.1",     "1z",   "1+b1",
    "1+dfsg",  "1.0~rc1", "1.0", "1.0+dfsg-1", "1.0.1",    "1.2",  "1.10",
    "2",       "10",      "1:0", "1:0.1",      "1:1~1",    "2:0~", "2147483647:0",
  };

  g_test_summary ("A hand-sorted chain of versions is in strictly ascending dpkg order");

  for (gsize i = 0; i < G_N_ELEMENTS (chain); i++)
    {
      g_autoptr (MbdDebVersion) vi = mbd_deb_version_new (chain[i], NULL);
      g_assert_nonnull (vi);
      for (gsize j = 0; j < G_N_ELEMENTS (chain); j++)
        {
          g_autoptr (MbdDebVersion) vj = mbd_deb_version_new (chain[j], NULL);
          int expected = i < j ? -1 : i > j ? 1 : 0;
          if (mbd_deb_version_compare (vi, vj) != expected)
            g_error ("compare (“%s”, “%s”) is %d, expected %d", chain[i], chain[j],
                     mbd_deb_version_compare (vi, vj), expected);
          g_assert_cmpint (mbd_deb_version_compare_strings (chain[i], chain[j]), ==, expected);
        }
    }
}

typedef struct
{
  const char *a;
  const char *b;
  int expected;
} LenientCase;

static const LenientCase lenient_cases[] = {
  /* the empty string (and NULL) is older than every non-empty version, as in dpkg */
  { "", "", 0 },
  { NULL, "", 0 },
  { NULL, NULL, 0 },
  { "", "0", -1 },
  { "", "0~", -1 },
  { "", "~", -1 },
  { NULL, "~~", -1 },
  { "  ", "", 0 },
  { "0:", "", 0 },
  /* split like dpkg even when dpkg only warns */
  { "a", "b", -1 },
  { "~", "", 1 },
  { "~1", "0", -1 },
  { "1_1", "1.1", 1 },
  { "1.0 ", " 1.0", 0 },
  { "1:a", "0:b", 1 },
  { "+1:0", "1:0", 0 },
  { "\n1:0", "1:0", 0 },
  { "-0:1", "1", 0 },
  /* high bytes after letters, before other characters (dpkg on a signed-char machine) */
  { "1\xc3", "1z", 1 },
  { "1\xc3", "1+", -1 },
  { "1\x80", "1\xff", -1 },
  /* what dpkg refuses still gets an order and never crashes */
  { "-1:0", "0", -1 },
  { "a:1", "1", 1 },
  { "1:", "", 1 },
  { "1.0-", "1.0", 0 },
  { "99999999999999999999999:1", "2147483647:1", 1 },
  { "1 2", "1 3", -1 },
  { ":", "", 1 },
  { "-", "", 0 },
};

static void
test_compare_strings_lenient (void)
{
  g_test_summary ("compare_strings orders any string, as dpkg splits it, without validating");

  for (gsize i = 0; i < G_N_ELEMENTS (lenient_cases); i++)
    {
      const LenientCase *c = &lenient_cases[i];
      g_autofree char *qa = c->a != NULL ? g_strescape (c->a, NULL) : g_strdup ("(null)");
      g_autofree char *qb = c->b != NULL ? g_strescape (c->b, NULL) : g_strdup ("(null)");

      g_test_message ("comparing “%s” with “%s”", qa, qb);
      g_assert_cmpint (mbd_deb_version_compare_strings (c->a, c->b), ==, c->expected);
      g_assert_cmpint (mbd_deb_version_compare_strings (c->b, c->a), ==, -c->expected);
    }
}

static void
test_copy_boxed (void)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Copies are deep and equal; the boxed type copies and frees through GValue");

  g_autoptr (MbdDebVersion) v = mbd_deb_version_new ("3:1.2-3", &error);
  g_assert_no_error (error);
  g_autoptr (MbdDebVersion) copy = mbd_deb_version_copy (v);
  g_assert_true (copy != v);
  g_assert_true (mbd_deb_version_get_upstream (copy) != mbd_deb_version_get_upstream (v));
  g_assert_cmpint (mbd_deb_version_compare (copy, v), ==, 0);
  g_assert_cmpuint (mbd_deb_version_get_epoch (copy), ==, 3);
  g_assert_cmpstr (mbd_deb_version_get_upstream (copy), ==, "1.2");
  g_assert_cmpstr (mbd_deb_version_get_revision (copy), ==, "3");

  g_autoptr (MbdDebVersion) native = mbd_deb_version_new ("1.0", &error);
  g_assert_no_error (error);
  g_autoptr (MbdDebVersion) native_copy = mbd_deb_version_copy (native);
  g_assert_null (mbd_deb_version_get_revision (native_copy));

  g_assert_true (G_TYPE_IS_BOXED (MBD_TYPE_DEB_VERSION));
  g_assert_cmpstr (g_type_name (MBD_TYPE_DEB_VERSION), ==, "MbdDebVersion");
  g_auto (GValue) value = G_VALUE_INIT;
  g_value_init (&value, MBD_TYPE_DEB_VERSION);
  g_value_set_boxed (&value, v);
  const MbdDebVersion *boxed = g_value_get_boxed (&value);
  g_assert_true (boxed != v);
  g_autofree char *text = mbd_deb_version_to_string (boxed);
  g_assert_cmpstr (text, ==, "3:1.2-3");

  mbd_deb_version_free (NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/deb-version/parse/valid", test_parse_valid);
  g_test_add_func ("/deb-version/parse/invalid", test_parse_invalid);
  g_test_add_func ("/deb-version/compare/table", test_compare);
  g_test_add_func ("/deb-version/compare/sorted-chain", test_compare_sort);
  g_test_add_func ("/deb-version/compare-strings/lenient", test_compare_strings_lenient);
  g_test_add_func ("/deb-version/copy-boxed", test_copy_boxed);
  return g_test_run ();
}
