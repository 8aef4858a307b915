/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every libFuzzer target here shares: libFuzzer's entry points and a check that aborts,
 * so that libFuzzer saves the input as a reproducer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libminibuildd/libminibuildd.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if (!(cond))                                                                                   \
      {                                                                                            \
        fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                  \
        abort ();                                                                                  \
      }                                                                                            \
  }                                                                                                \
  G_STMT_END

/* Checked independently of the library: Debian policy 5.6.1 package names. */
static inline gboolean
fuzz_is_package_name (const char *name)
{
  if (name == NULL || strlen (name) < 2
      || !(g_ascii_islower (name[0]) || g_ascii_isdigit (name[0])))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || strchr ("+-.", *p) != NULL))
        return FALSE;
    }
  return TRUE;
}
