/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ftw.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

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

char *
mbd_utf8_excerpt (const char *text, gsize len, gsize max)
{
  static char high_bytes[129];
  gsize n = MIN (len, max);

  /* bytes 0x80..0xff stay as they are; g_strescape escapes only control characters then */
  if (high_bytes[0] == '\0')
    for (int i = 0; i < 128; i++)
      high_bytes[i] = (char) (0x80 + i);
  while (n > 0 && n < len && ((guchar) text[n] & 0xc0) == 0x80)
    n--;
  g_autofree char *part = g_strndup (text, n);
  g_autofree char *escaped = g_strescape (part, high_bytes);
  return n < len ? g_strconcat (escaped, "...", NULL) : g_steal_pointer (&escaped);
}

typedef struct
{
  guint n;
  MbdParallelFunc func;
  gpointer user_data;
  int next;   /* atomic: the next index to take */
  int failed; /* atomic: set once an item failed */
  GMutex lock;
  guint error_index;
  GError *error;
} ParallelRun;

static gpointer
parallel_worker (gpointer data)
{
  ParallelRun *run = data;
  int i;

  while (!g_atomic_int_get (&run->failed) && (i = g_atomic_int_add (&run->next, 1)) < (int) run->n)
    {
      GError *local = NULL;
      if (run->func ((guint) i, run->user_data, &local))
        continue;
      g_atomic_int_set (&run->failed, 1);
      g_mutex_lock (&run->lock);
      if (run->error == NULL || (guint) i < run->error_index)
        {
          g_clear_error (&run->error);
          run->error = g_steal_pointer (&local);
          run->error_index = (guint) i;
        }
      g_mutex_unlock (&run->lock);
      g_clear_error (&local);
    }
  return NULL;
}

gboolean
mbd_parallel_for (guint n, MbdParallelFunc func, gpointer user_data, GError **error)
{
  ParallelRun run = { .n = n, .func = func, .user_data = user_data };
  guint n_threads = MIN (g_get_num_processors (), n);
  GThread *threads[64];

  n_threads = MIN (n_threads, G_N_ELEMENTS (threads));
  g_mutex_init (&run.lock);
  for (guint i = 1; i < n_threads; i++)
    threads[i] = g_thread_new ("mbd-parallel", parallel_worker, &run);
  parallel_worker (&run);
  for (guint i = 1; i < n_threads; i++)
    g_thread_join (threads[i]);
  g_mutex_clear (&run.lock);
  if (run.error != NULL)
    {
      g_propagate_error (error, run.error);
      return FALSE;
    }
  return TRUE;
}

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  if (flag == FTW_DP)
    rmdir (path);
  else
    unlink (path);
  return 0;
}

void
mbd_remove_tree (const char *path)
{
  if (path == NULL || path[0] != '/' || strcmp (path, "/") == 0)
    return;
  nftw (path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void
mbd_debug_kill_point (const char *name)
{
  const char *wanted = g_getenv ("MBD_DEBUG_KILL_AT");

  if (wanted != NULL && g_strcmp0 (wanted, name) == 0)
    kill (getpid (), SIGKILL);
}

void
mbd_json_add_strv (JsonBuilder *builder, const char *name, const char *const *values)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    json_builder_add_string_value (builder, values[i]);
  json_builder_end_array (builder);
}
