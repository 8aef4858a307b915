/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Gives dpkg-compare.py libminibuildd's answers, in bulk, so that the script can put the same
 * questions to dpkg. Versions travel hex-encoded, one record per line, so that any byte string
 * but NUL gets through unchanged.
 *
 *   mbd-compare-helper compare   reads "HEX_A,HEX_B" lines and writes "VA VB STRICT LENIENT":
 *                                VA/VB are 1 when mbd_deb_version_new() accepts A resp. B,
 *                                STRICT is the sign of mbd_deb_version_compare() (or "x" when
 *                                one is invalid), LENIENT that of mbd_deb_version_compare_strings().
 *   mbd-compare-helper sort      reads "HEX" lines and writes them back sorted (stable) with
 *                                mbd_deb_version_compare_strings().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libminibuildd/libminibuildd.h>

static char *
unhex (const char *hex, gsize length)
{
  if (length % 2 != 0)
    g_error ("odd hex string length %" G_GSIZE_FORMAT, length);
  char *out = g_malloc (length / 2 + 1);
  for (gsize i = 0; i < length / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        g_error ("not a hex string: %.*s", (int) length, hex);
      out[i] = (char) (hi * 16 + lo);
      if (out[i] == '\0')
        g_error ("NUL byte in a version");
    }
  out[length / 2] = '\0';
  return out;
}

static int
sign_char (int value)
{
  return value < 0 ? '-' : value > 0 ? '+' : '0';
}

static void
run_compare (void)
{
  g_autofree char *line = NULL;
  size_t size = 0;
  ssize_t length;

  while ((length = getline (&line, &size, stdin)) >= 0)
    {
      if (length > 0 && line[length - 1] == '\n')
        line[--length] = '\0';
      const char *comma = strchr (line, ',');
      if (comma == NULL)
        g_error ("expected two hex strings on a line, got “%s”", line);
      g_autofree char *a = unhex (line, comma - line);
      g_autofree char *b = unhex (comma + 1, strlen (comma + 1));
      g_autoptr (MbdDebVersion) va = mbd_deb_version_new (a, NULL);
      g_autoptr (MbdDebVersion) vb = mbd_deb_version_new (b, NULL);
      int strict = va != NULL && vb != NULL ? sign_char (mbd_deb_version_compare (va, vb)) : 'x';
      printf ("%d %d %c %c\n", va != NULL, vb != NULL, strict,
              sign_char (mbd_deb_version_compare_strings (a, b)));
    }
}

typedef struct
{
  char *hex;
  char *version;
} Entry;

static int
entry_compare (gconstpointer pa, gconstpointer pb)
{
  const Entry *a = pa;
  const Entry *b = pb;
  return mbd_deb_version_compare_strings (a->version, b->version);
}

static void
run_sort (void)
{
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_autofree char *line = NULL;
  size_t size = 0;

  ssize_t length;

  while ((length = getline (&line, &size, stdin)) >= 0)
    {
      if (length > 0 && line[length - 1] == '\n')
        line[--length] = '\0';
      Entry entry = { g_strdup (line), unhex (line, length) };
      g_array_append_val (entries, entry);
    }
  /* g_array_sort() is a stable merge sort (g_qsort_with_data). */
  g_array_sort (entries, entry_compare);
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *entry = &g_array_index (entries, Entry, i);
      printf ("%s\n", entry->hex);
      g_free (entry->hex);
      g_free (entry->version);
    }
}

int
main (int argc, char **argv)
{
  if (argc == 2 && strcmp (argv[1], "compare") == 0)
    run_compare ();
  else if (argc == 2 && strcmp (argv[1], "sort") == 0)
    run_sort ();
  else
    {
      fprintf (stderr, "usage: %s compare|sort < input\n", argv[0]);
      return 2;
    }
  if (fflush (stdout) != 0 || ferror (stdin))
    {
      perror ("mbd-compare-helper");
      return 1;
    }
  return 0;
}
