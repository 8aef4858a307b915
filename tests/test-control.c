/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include <string.h>

static const char *changes_text
    = "Format: 1.8\n"
      "Date: Mon, 23 Nov 2026 23:27:20 +0000\n"
      "# a comment is skipped\n"
      "Source: hello-mbd\n"
      "Binary: hello-mbd\n"
      " hello-mbd-doc\n"
      "Version: 1.0~test12+2\n"
      "Description:\n"
      " hello-mbd - greets\n"
      " .\n"
      "\tsecond line\n"
      "Files:\n"
      " 0123456789abcdef0123456789abcdef 1234 devel optional hello-mbd_1.0.dsc\n"
      "\n"
      "Package: second\n"
      "X-Empty:\n";

static void
test_parse_fields (void)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Fields keep order and spelling, look-ups ignore case, multiline values kept");
  g_autoptr (MbdControl) control = mbd_control_new_from_string (changes_text, "x.changes", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mbd_control_get_n_paragraphs (control), ==, 2);
  g_assert_false (mbd_control_is_signed (control));

  MbdParagraph *p = mbd_control_get_paragraph (control, 0);
  g_auto (GStrv) fields = mbd_paragraph_get_fields (p);
  const char *expected[]
      = { "Format", "Date", "Source", "Binary", "Version", "Description", "Files", NULL };
  g_assert_cmpstrv (fields, expected);
  g_assert_cmpstr (mbd_paragraph_get (p, "source"), ==, "hello-mbd");
  g_assert_cmpstr (mbd_paragraph_get (p, "SOURCE"), ==, "hello-mbd");
  g_assert_cmpstr (mbd_paragraph_get (p, "Binary"), ==, "hello-mbd\n hello-mbd-doc");
  g_autofree char *folded = mbd_paragraph_get_folded (p, "Binary");
  g_assert_cmpstr (folded, ==, "hello-mbd hello-mbd-doc");
  g_assert_cmpstr (mbd_paragraph_get (p, "Description"), ==,
                   "\n hello-mbd - greets\n .\n\tsecond line");
  g_auto (GStrv) lines = mbd_paragraph_get_lines (p, "Files");
  g_assert_cmpuint (g_strv_length (lines), ==, 1);
  g_assert_true (g_str_has_suffix (lines[0], "hello-mbd_1.0.dsc"));
  g_assert_cmpuint (mbd_paragraph_get_field_line (p, "Version"), ==, 7);
  g_assert_cmpuint (mbd_paragraph_get_field_line (p, "Nope"), ==, 0);
  g_assert_null (mbd_paragraph_get (p, "Nope"));
  g_assert_null (mbd_paragraph_get_lines (p, "Nope"));
  g_assert_cmpuint (mbd_paragraph_get_start_line (p), ==, 1);

  MbdParagraph *q = mbd_control_get_paragraph (control, 1);
  g_assert_cmpuint (mbd_paragraph_get_start_line (q), ==, 15);
  g_assert_cmpstr (mbd_paragraph_get (q, "X-Empty"), ==, "");
  g_assert_null (mbd_control_get_paragraph (control, 2));

  g_autoptr (GPtrArray) all = mbd_control_get_paragraphs (control);
  g_assert_cmpuint (all->len, ==, 2);
  g_assert_true (g_ptr_array_index (all, 1) == (gpointer) q);
}

static void
test_round_trip (void)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("to_string writes back what was parsed (comments aside) and reparses equal");
  g_autoptr (MbdControl) control = mbd_control_new_from_string (changes_text, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *text = mbd_control_to_string (control);
  g_assert_null (strstr (text, "# a comment"));
  g_assert_nonnull (strstr (text, "Binary: hello-mbd\n hello-mbd-doc\n"));
  g_assert_nonnull (strstr (text, "Files:\n 0123"));
  g_assert_nonnull (strstr (text, "\n\nPackage: second\nX-Empty:\n"));

  g_autoptr (MbdControl) again = mbd_control_new_from_string (text, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *text2 = mbd_control_to_string (again);
  g_assert_cmpstr (text, ==, text2);
}

static void
test_set_remove (void)
{
  g_autoptr (MbdParagraph) p = mbd_paragraph_new ();
  g_autoptr (GError) error = NULL;

  g_test_summary ("set keeps position, appends new fields, normalizes continuation lines");
  mbd_paragraph_set (p, "Package", "a");
  mbd_paragraph_set (p, "Version", "1");
  mbd_paragraph_set (p, "package", "b");
  mbd_paragraph_set (p, "Description", "short\nlong text\n\n indented");
  g_autofree char *text = mbd_paragraph_to_string (p);
  g_assert_cmpstr (text, ==,
                   "Package: b\nVersion: 1\nDescription: short\n long text\n .\n indented\n");
  g_assert_true (mbd_paragraph_remove (p, "VERSION"));
  g_assert_false (mbd_paragraph_remove (p, "Version"));
  g_assert_false (mbd_paragraph_has_field (p, "Version"));

  g_autoptr (MbdControl) control = mbd_control_new ();
  mbd_control_add_paragraph (control, p);
  mbd_control_add_paragraph (control, p);
  g_autofree char *all = mbd_control_to_string (control);
  g_autoptr (MbdControl) parsed = mbd_control_new_from_string (all, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mbd_control_get_n_paragraphs (parsed), ==, 2);
  g_assert_cmpstr (mbd_paragraph_get (mbd_control_get_paragraph (parsed, 1), "Description"), ==,
                   "short\n long text\n .\n indented");
}

static const char *signed_text = "\n-----BEGIN PGP SIGNED MESSAGE-----\n"
                                 "Hash: SHA512\n"
                                 "\n"
                                 "Source: foo\n"
                                 "Description: x\n"
                                 "- Escaped: by the signer\n"
                                 "Version: 1.0\n"
                                 "-----BEGIN PGP SIGNATURE-----\n"
                                 "\n"
                                 "iHUEARYKAB0WIQQ=\n"
                                 "-----END PGP SIGNATURE-----\n"
                                 "\n";

static void
test_clear_signed (void)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A clear-signed wrapper is removed and dash-escaped lines unescaped");
  g_autoptr (MbdControl) control = mbd_control_new_from_string (signed_text, "s.dsc", &error);
  g_assert_no_error (error);
  g_assert_true (mbd_control_is_signed (control));
  g_assert_cmpuint (mbd_control_get_n_paragraphs (control), ==, 1);
  MbdParagraph *p = mbd_control_get_paragraph (control, 0);
  g_assert_cmpstr (mbd_paragraph_get (p, "Source"), ==, "foo");
  g_assert_cmpstr (mbd_paragraph_get (p, "Version"), ==, "1.0");
  g_assert_cmpstr (mbd_paragraph_get (p, "Escaped"), ==, "by the signer");
  g_assert_cmpuint (mbd_paragraph_get_field_line (p, "Source"), ==, 5);
}

typedef struct
{
  const char *name;
  const char *input;
  gssize length; /* -1: strlen */
  int code;
  const char *message;
} BadCase;

static const BadCase bad_cases[] = {
  { "nul", "Source: a\nVersion: 1\0.0\n", 22, MBD_ERROR_PARSE,
    "bad.changes:2: NUL byte at column 11" },
  { "no-colon", "Source: a\nthis line has no colon\n", -1, MBD_ERROR_PARSE,
    "bad.changes:2: expected 'Field: value'" },
  { "leading-continuation", " continued\nSource: a\n", -1, MBD_ERROR_PARSE,
    "bad.changes:1: continuation line without a field" },
  { "duplicate", "Source: a\nVersion: 1\nsource: b\n", -1, MBD_ERROR_DUPLICATE_FIELD,
    "bad.changes:3: duplicate field 'source' (first on line 1)" },
  { "bad-name", "Sou rce: a\n", -1, MBD_ERROR_PARSE,
    "bad.changes:1: invalid field name 'Sou rce'" },
  { "dash-name", "-Source: a\n", -1, MBD_ERROR_PARSE, "bad.changes:1: invalid field name" },
  /* 79 ASCII bytes then a 3-byte character: the excerpt must not cut it (found by fuzz-control) */
  { "long-bad-name",
    "P\x0e"
    "0123456789012345678901234567890123456789012345678901234567890123456789012345"
    " \xe5\x9c\x90ld: v\n",
    -1, MBD_ERROR_PARSE, "bad.changes:1: invalid field name 'P\\0160123" },
  { "utf8", "Source: a\nMaintainer: J\xe9r\xf4me\n", -1, MBD_ERROR_PARSE,
    "bad.changes:2: invalid UTF-8 at column 14" },
  { "truncated-body", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSource: a\nVersion: 1",
    -1, MBD_ERROR_PARSE, "bad.changes: clear-signed message is truncated: no signature block" },
  { "truncated-signature",
    "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSource: a\n"
    "-----BEGIN PGP SIGNATURE-----\n\niHUE\n",
    -1, MBD_ERROR_PARSE, "signature block has no end" },
  { "trailing-text",
    "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSource: a\n"
    "-----BEGIN PGP SIGNATURE-----\n\niHUE\n-----END PGP SIGNATURE-----\nSource: evil\n",
    -1, MBD_ERROR_PARSE, "bad.changes:9: text after the end of the OpenPGP signature" },
  { "not-dash-escaped",
    "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSource: a\n-----BEGIN PGP MESSAGE-----\n",
    -1, MBD_ERROR_PARSE, "bad.changes:5: line starting with '-' is not dash-escaped" },
  { "other-armor", "-----BEGIN PGP MESSAGE-----\n\nhQEMA\n", -1, MBD_ERROR_PARSE,
    "is not a clear-signed message" },
  { "bad-armor-header", "-----BEGIN PGP SIGNED MESSAGE-----\nHash SHA256\n\nSource: a\n", -1,
    MBD_ERROR_PARSE, "bad.changes:2: malformed armor header" },
};

static void
test_bad_input (gconstpointer data)
{
  const BadCase *c = data;
  g_autoptr (GError) error = NULL;
  gsize length = c->length < 0 ? strlen (c->input) : (gsize) c->length;
  g_autoptr (GBytes) bytes = g_bytes_new_static (c->input, length);

  g_test_summary ("Malformed control data gives a specific error naming the input and line");
  g_autoptr (MbdControl) control = mbd_control_new_from_bytes (bytes, "bad.changes", &error);
  g_assert_null (control);
  g_assert_error (error, MBD_ERROR, c->code);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  if (strstr (error->message, c->message) == NULL)
    g_error ("message '%s' lacks '%s'", error->message, c->message);
}

static void
test_long_line (void)
{
  g_autoptr (GError) error = NULL;
  gsize n = MBD_CONTROL_MAX_LINE_LENGTH + 10;
  g_autoptr (GString) text = g_string_new ("Source: a\nDescription: ");

  g_test_summary ("A line over the limit is refused, one at the limit is accepted");
  for (gsize i = 0; i < n; i++)
    g_string_append_c (text, 'x');
  g_string_append (text, "\n");
  g_autoptr (MbdControl) control = mbd_control_new_from_string (text->str, "long.dsc", &error);
  g_assert_null (control);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "long.dsc:2: line is"));
  g_clear_error (&error);

  g_string_truncate (text, strlen ("Source: a\n") + MBD_CONTROL_MAX_LINE_LENGTH);
  g_autoptr (MbdControl) ok = mbd_control_new_from_string (text->str, "long.dsc", &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);
}

static void
test_empty_and_blank (void)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Empty input has no paragraphs; whitespace-only lines separate paragraphs");
  g_autoptr (MbdControl) empty = mbd_control_new_from_string ("", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mbd_control_get_n_paragraphs (empty), ==, 0);

  g_autoptr (MbdControl) two
             = mbd_control_new_from_string ("\n\nA: 1\n \t \nB: 2\n\n\n", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mbd_control_get_n_paragraphs (two), ==, 2);
  g_assert_cmpstr (mbd_paragraph_get (mbd_control_get_paragraph (two, 1), "B"), ==, "2");
}

static void
test_from_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = mbd_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "x.dsc", NULL);

  g_test_summary ("Reading a file names the file in errors; a missing file is G_IO_ERROR");
  g_assert_true (g_file_set_contents (path, "Source: a\nSource: b\n", -1, NULL));
  g_autoptr (MbdControl) c = mbd_control_new_from_file (path, &error);
  g_assert_null (c);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_DUPLICATE_FIELD);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_clear_error (&error);

  g_autofree char *missing = g_build_filename (dir, "missing.dsc", NULL);
  g_autoptr (MbdControl) m = mbd_control_new_from_file (missing, &error);
  g_assert_null (m);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  mbd_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/control/parse-fields", test_parse_fields);
  g_test_add_func ("/control/round-trip", test_round_trip);
  g_test_add_func ("/control/set-remove", test_set_remove);
  g_test_add_func ("/control/clear-signed", test_clear_signed);
  g_test_add_func ("/control/long-line", test_long_line);
  g_test_add_func ("/control/empty-and-blank", test_empty_and_blank);
  g_test_add_func ("/control/from-file", test_from_file);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/control/bad/%s", bad_cases[i].name);
      g_test_add_data_func (path, &bad_cases[i], test_bad_input);
    }
  return g_test_run ();
}
