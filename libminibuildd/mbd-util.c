/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "mbd-util-private.h"

gboolean
mbd_throw (GError **error, MbdError code, const char *fmt, ...)
{
  va_list args;

  if (error == NULL)
    return FALSE;
  va_start (args, fmt);
  g_autofree char *message = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error_literal (error, MBD_ERROR, code, message);
  return FALSE;
}

gboolean
mbd_prefix_error (GError **error, const char *fmt, ...)
{
  va_list args;

  if (error == NULL || *error == NULL)
    return FALSE;
  va_start (args, fmt);
  g_autofree char *prefix = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_prefix_error (error, "%s", prefix);
  return FALSE;
}
