/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "mbd-error.h"

/**
 * mbd_error_quark:
 *
 * The quark of the %MBD_ERROR domain.
 *
 * Returns: the error domain quark
 */
/* The quark name is stringified as written. */
/* clang-format off */
G_DEFINE_QUARK (mbd-error-quark, mbd_error)
/* clang-format on */
