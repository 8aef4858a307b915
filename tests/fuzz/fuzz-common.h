/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every libFuzzer target here shares: libFuzzer's entry points and a check that aborts,
 * so that libFuzzer saves the input as a reproducer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
