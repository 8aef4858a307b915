/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "mbd-apt-sources-private.h"
#include "mbd-control.h"

/* The machine's apt sources tell where its Debian (or Ubuntu) mirror is: mbd never names a
 * mirror host itself. Both formats are read: deb822 (.sources) and one-line (.list). */

void
mbd_apt_source_free (MbdAptSource *source)
{
  if (source == NULL)
    return;
  g_free (source->uri);
  g_strfreev (source->suites);
  g_strfreev (source->components);
  g_free (source->signed_by);
  g_free (source);
}

static char *
strip_uri (const char *uri)
{
  char *copy = g_strdup (uri);
  gsize len = strlen (copy);

  while (len > 0 && copy[len - 1] == '/')
    copy[--len] = '\0';
  return copy;
}

static char **
split_words (const char *text)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) words = g_strsplit_set (text != NULL ? text : "", " \t\n", -1);

  for (guint i = 0; words[i] != NULL; i++)
    if (words[i][0] != '\0')
      g_strv_builder_add (builder, words[i]);
  return g_strv_builder_end (builder);
}

static void
add_entry (GPtrArray *entries,
           const char *uri,
           char **suites,
           char **components,
           const char *signed_by)
{
  MbdAptSource *entry = g_new0 (MbdAptSource, 1);

  entry->uri = strip_uri (uri);
  entry->suites = g_strdupv (suites);
  entry->components = g_strdupv (components);
  /* Signed-By may hold an inline key block: only a path is useful to us. */
  if (signed_by != NULL && signed_by[0] == '/' && strchr (signed_by, '\n') == NULL)
    entry->signed_by = g_strdup (signed_by);
  g_ptr_array_add (entries, entry);
}

static void
read_deb822 (GPtrArray *entries, const char *path)
{
  g_autoptr (MbdControl) control = mbd_control_new_from_file (path, NULL);

  if (control == NULL)
    return;
  for (guint i = 0; i < mbd_control_get_n_paragraphs (control); i++)
    {
      MbdParagraph *paragraph = mbd_control_get_paragraph (control, i);
      g_auto (GStrv) types = split_words (mbd_paragraph_get (paragraph, "Types"));
      const char *enabled = mbd_paragraph_get (paragraph, "Enabled");

      if (!g_strv_contains ((const char *const *) types, "deb"))
        continue;
      if (enabled != NULL && g_ascii_strcasecmp (enabled, "no") == 0)
        continue;
      g_auto (GStrv) uris = split_words (mbd_paragraph_get (paragraph, "URIs"));
      g_auto (GStrv) suites = split_words (mbd_paragraph_get (paragraph, "Suites"));
      g_auto (GStrv) components = split_words (mbd_paragraph_get (paragraph, "Components"));
      for (guint u = 0; uris[u] != NULL; u++)
        add_entry (entries, uris[u], suites, components,
                   mbd_paragraph_get (paragraph, "Signed-By"));
    }
}

/* One-line format: deb [option=value ...] URI SUITE [COMPONENT...] */
static void
read_one_line (GPtrArray *entries, const char *path)
{
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return;
  g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *hash = strchr (lines[i], '#');
      if (hash != NULL)
        *hash = '\0';
      g_autofree char *signed_by = NULL;
      /* Options go first, in brackets; only signed-by is kept. */
      char *open = strchr (lines[i], '[');
      char *close = open != NULL ? strchr (open, ']') : NULL;
      if (open != NULL && close != NULL)
        {
          *close = '\0';
          g_auto (GStrv) options = split_words (open + 1);
          for (guint o = 0; options[o] != NULL; o++)
            if (g_str_has_prefix (options[o], "signed-by="))
              signed_by = g_strdup (options[o] + strlen ("signed-by="));
          memmove (open, close + 1, strlen (close + 1) + 1);
        }
      g_auto (GStrv) words = split_words (lines[i]);
      if (g_strv_length (words) < 3 || strcmp (words[0], "deb") != 0)
        continue;
      char *suites[] = { words[2], NULL };
      add_entry (entries, words[1], suites, words + 3, signed_by);
    }
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
mbd_apt_sources_read (const char *etc_apt)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) mbd_apt_source_free);
  g_autofree char *list = g_build_filename (etc_apt, "sources.list", NULL);
  g_autofree char *parts = g_build_filename (etc_apt, "sources.list.d", NULL);

  read_one_line (entries, list);

  g_autoptr (GDir) dir = g_dir_open (parts, 0, NULL);
  if (dir == NULL)
    return entries;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".list") || g_str_has_suffix (name, ".sources"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (parts, file, NULL);
      if (g_str_has_suffix (file, ".sources"))
        read_deb822 (entries, path);
      else
        read_one_line (entries, path);
    }
  return entries;
}

static gboolean
is_security (const char *suite)
{
  return g_str_has_suffix (suite, "-security") || g_str_has_suffix (suite, "/updates");
}

static gboolean
in_family (const char *suite, const char *const *family)
{
  g_autofree char *base = g_strndup (suite, strcspn (suite, "-/"));

  return g_strv_contains (family, base);
}

/* The first entry serving a suite of @family that is a security suite iff @security. */
static MbdAptSource *
find_family_entry (GPtrArray *entries, const char *const *family, gboolean security)
{
  for (guint i = 0; i < entries->len; i++)
    {
      MbdAptSource *entry = g_ptr_array_index (entries, i);
      for (guint s = 0; entry->suites[s] != NULL; s++)
        if (in_family (entry->suites[s], family) && is_security (entry->suites[s]) == security)
          return entry;
    }
  return NULL;
}

char *
mbd_apt_sources_find_mirror (GPtrArray *entries,
                             const char *suite,
                             const char *const *family,
                             gboolean security_beside)
{
  for (guint i = 0; i < entries->len; i++)
    {
      MbdAptSource *entry = g_ptr_array_index (entries, i);
      if (g_strv_contains ((const char *const *) entry->suites, suite))
        return g_strdup (entry->uri);
    }

  gboolean security = is_security (suite);
  MbdAptSource *entry = find_family_entry (entries, family, security);
  if (entry != NULL)
    return g_strdup (entry->uri);
  if (!security)
    return NULL;
  entry = find_family_entry (entries, family, FALSE);
  if (entry == NULL)
    return NULL;
  if (!security_beside)
    return g_strdup (entry->uri);
  return g_strconcat (entry->uri, "-security", NULL);
}
