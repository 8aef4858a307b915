/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* libFuzzer target for the deb822 control parser. Whatever mbd_control_new_from_bytes() accepts
 * must print with mbd_control_to_string() to text that parses again, to the same paragraphs with
 * the same fields and values, and prints the same; whatever it refuses must be refused with an
 * MBD_ERROR and a UTF-8 message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"

static void
check_same_paragraph (MbdParagraph *a, MbdParagraph *b)
{
  g_auto (GStrv) fields_a = mbd_paragraph_get_fields (a);
  g_auto (GStrv) fields_b = mbd_paragraph_get_fields (b);

  FUZZ_CHECK (fields_a != NULL && fields_b != NULL);
  FUZZ_CHECK (g_strv_equal ((const char *const *) fields_a, (const char *const *) fields_b));
  for (guint i = 0; fields_a[i] != NULL; i++)
    {
      FUZZ_CHECK (mbd_paragraph_has_field (b, fields_a[i]));
      FUZZ_CHECK (g_strcmp0 (mbd_paragraph_get (a, fields_a[i]), mbd_paragraph_get (b, fields_a[i]))
                  == 0);
      g_autofree char *folded_a = mbd_paragraph_get_folded (a, fields_a[i]);
      g_autofree char *folded_b = mbd_paragraph_get_folded (b, fields_a[i]);
      FUZZ_CHECK (g_strcmp0 (folded_a, folded_b) == 0);
      g_auto (GStrv) lines_a = mbd_paragraph_get_lines (a, fields_a[i]);
      g_auto (GStrv) lines_b = mbd_paragraph_get_lines (b, fields_a[i]);
      FUZZ_CHECK ((lines_a == NULL) == (lines_b == NULL));
      if (lines_a != NULL)
        FUZZ_CHECK (g_strv_equal ((const char *const *) lines_a, (const char *const *) lines_b));
    }
  g_autofree char *text_a = mbd_paragraph_to_string (a);
  g_autofree char *text_b = mbd_paragraph_to_string (b);
  FUZZ_CHECK (g_strcmp0 (text_a, text_b) == 0);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* A g_return_if_fail() or warning reached by some input is a bug worth a crash report. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (GError) error = NULL;

  g_autoptr (MbdControl) control = mbd_control_new_from_bytes (bytes, "fuzz-input", &error);
  if (control == NULL)
    {
      FUZZ_CHECK (error != NULL && error->domain == MBD_ERROR);
      FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }
  FUZZ_CHECK (error == NULL);

  g_autofree char *text = mbd_control_to_string (control);
  FUZZ_CHECK (text != NULL);
  g_autoptr (GBytes) text_bytes = g_bytes_new (text, strlen (text));
  g_autoptr (MbdControl) again = mbd_control_new_from_bytes (text_bytes, "fuzz-reparse", &error);
  if (again == NULL)
    {
      fprintf (stderr, "reparsing the printed control data failed: %s\n--- printed:\n%s\n---\n",
               error->message, text);
      abort ();
    }

  guint n = mbd_control_get_n_paragraphs (control);
  FUZZ_CHECK (mbd_control_get_n_paragraphs (again) == n);
  for (guint i = 0; i < n; i++)
    check_same_paragraph (mbd_control_get_paragraph (control, i),
                          mbd_control_get_paragraph (again, i));

  g_autofree char *text_again = mbd_control_to_string (again);
  FUZZ_CHECK (strcmp (text, text_again) == 0);
  return 0;
}
