/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* libFuzzer target for MbdDebVersion. The input is up to three strings separated by NUL bytes.
 * For the first two: mbd_deb_version_new() and mbd_deb_version_is_valid() agree, a refusal is
 * MBD_ERROR_INVALID_VERSION with a UTF-8 message, and an accepted version prints to a string
 * that parses back to an equal version printing the same. compare_strings() is reflexive,
 * antisymmetric and transitive over the three, and agrees with compare() when both are valid. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"

static MbdDebVersion *
check_one (const char *text)
{
  GError *error = NULL;
  MbdDebVersion *version = mbd_deb_version_new (text, &error);

  FUZZ_CHECK (mbd_deb_version_is_valid (text, NULL) == (version != NULL));
  if (version == NULL)
    {
      FUZZ_CHECK (g_error_matches (error, MBD_ERROR, MBD_ERROR_INVALID_VERSION));
      FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL));
      g_error_free (error);
      return NULL;
    }
  FUZZ_CHECK (error == NULL);

  const char *upstream = mbd_deb_version_get_upstream (version);
  const char *revision = mbd_deb_version_get_revision (version);
  FUZZ_CHECK (g_ascii_isdigit (upstream[0]));
  FUZZ_CHECK (revision == NULL || revision[0] != '\0');

  char *printed = mbd_deb_version_to_string (version);
  MbdDebVersion *again = mbd_deb_version_new (printed, &error);
  FUZZ_CHECK (error == NULL && again != NULL);
  FUZZ_CHECK (mbd_deb_version_compare (version, again) == 0);
  FUZZ_CHECK (mbd_deb_version_get_epoch (version) == mbd_deb_version_get_epoch (again));
  FUZZ_CHECK (strcmp (upstream, mbd_deb_version_get_upstream (again)) == 0);
  FUZZ_CHECK (g_strcmp0 (revision, mbd_deb_version_get_revision (again)) == 0);
  char *printed_again = mbd_deb_version_to_string (again);
  FUZZ_CHECK (strcmp (printed, printed_again) == 0);
  FUZZ_CHECK (mbd_deb_version_compare_strings (text, printed) == 0);

  MbdDebVersion *copy = mbd_deb_version_copy (version);
  FUZZ_CHECK (mbd_deb_version_compare (copy, version) == 0);

  mbd_deb_version_free (copy);
  g_free (printed_again);
  mbd_deb_version_free (again);
  g_free (printed);
  return version;
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
  /* Up to three strings, separated by NUL bytes (missing ones are empty). */
  char *parts[3];
  size_t offset = 0;
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      parts[i] = g_strndup ((const char *) data + offset, size - offset);
      offset = MIN (size, offset + strlen (parts[i]) + 1);
    }
  const char *a = parts[0], *b = parts[1], *c = parts[2];

  int ab = mbd_deb_version_compare_strings (a, b);
  int bc = mbd_deb_version_compare_strings (b, c);
  int ac = mbd_deb_version_compare_strings (a, c);
  FUZZ_CHECK (ab >= -1 && ab <= 1);
  FUZZ_CHECK (mbd_deb_version_compare_strings (b, a) == -ab);
  FUZZ_CHECK (mbd_deb_version_compare_strings (a, a) == 0);
  /* transitivity: a <= b <= c gives a <= c, strictly unless both steps are equal */
  if (ab <= 0 && bc <= 0)
    FUZZ_CHECK (ac == (ab == 0 && bc == 0 ? 0 : -1));
  if (ab >= 0 && bc >= 0)
    FUZZ_CHECK (ac == (ab == 0 && bc == 0 ? 0 : 1));

  MbdDebVersion *va = check_one (a);
  MbdDebVersion *vb = check_one (b);
  if (va != NULL && vb != NULL)
    {
      FUZZ_CHECK (mbd_deb_version_compare (va, vb) == ab);
      FUZZ_CHECK (mbd_deb_version_compare (vb, va) == -ab);
    }

  mbd_deb_version_free (va);
  mbd_deb_version_free (vb);
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    g_free (parts[i]);
  return 0;
}
