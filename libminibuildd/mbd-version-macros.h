/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#ifndef _MBD_EXTERN
#define _MBD_EXTERN extern
#endif

/* Every public symbol is declared with one of these; the library is built with hidden
 * visibility, so what is not marked stays internal. */
#define MBD_AVAILABLE_IN_ALL _MBD_EXTERN
