/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "mbd-deb-version.h"
#include "mbd-util-private.h"

/* Parsing follows dpkg's parseversion() and comparison its verrevcmp() (lib/dpkg/parsehelp.c and
 * lib/dpkg/version.c), rule by rule, so that a version sorts here exactly where
 * `dpkg --compare-versions` puts it. The test suite 'dpkg' checks that against the dpkg binary. */

struct _MbdDebVersion
{
  guint epoch;
  char *upstream;
  char *revision; /* NULL when the version has no '-revision' part */
};

G_DEFINE_BOXED_TYPE (MbdDebVersion, mbd_deb_version, mbd_deb_version_copy, mbd_deb_version_free)

/* dpkg trims blanks (space and tab, C locale isblank()) around a version, and only those. */
static inline gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* The characters dpkg allows after the first one of the upstream part: alphanumerics and
 * ".+~-:" ('-' and ':' can only end up there when there is a revision resp. an epoch). */
static inline gboolean
is_upstream_char (char c)
{
  return g_ascii_isalnum (c) || c == '.' || c == '+' || c == '~' || c == '-' || c == ':';
}

static inline gboolean
is_revision_char (char c)
{
  return g_ascii_isalnum (c) || c == '.' || c == '+' || c == '~';
}

/* A version as it may appear in an error message: printable ASCII stays, everything else
 * (control characters, bytes of UTF-8 or of other encodings) is escaped, so the message is
 * always valid UTF-8 and shows exactly which byte was wrong. */
static char *
quote_version (const char *version, gssize length)
{
  g_autofree char *copy = length < 0 ? g_strdup (version) : g_strndup (version, length);
  return g_strescape (copy, NULL);
}

static char *
describe_char (char c)
{
  if (g_ascii_isgraph (c))
    return g_strdup_printf ("“%c”", c);
  if (c == ' ')
    return g_strdup ("a space");
  return g_strdup_printf ("the byte 0x%02x", (guint) (guchar) c);
}

static gboolean invalid (GError **error, const char *version, const char *problem_fmt, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
invalid (GError **error, const char *version, const char *problem_fmt, ...)
{
  va_list args;

  if (error == NULL)
    return FALSE;
  va_start (args, problem_fmt);
  g_autofree char *problem = g_strdup_vprintf (problem_fmt, args);
  va_end (args);
  g_autofree char *quoted = quote_version (version, -1);
  return mbd_throw (error, MBD_ERROR_INVALID_VERSION, "Invalid Debian version “%s”: %s", quoted,
                    problem);
}

/* Strict parser behind mbd_deb_version_new() and mbd_deb_version_is_valid(). On success fills
 * the out arguments (when not NULL). Refuses everything dpkg refuses, and also what dpkg only
 * warns about (an upstream part not starting with a digit, characters outside the allowed
 * sets), and an epoch that is not plain digits (dpkg's strtol() would also take a sign). */
static gboolean
parse_version (
    const char *version, guint *out_epoch, char **out_upstream, char **out_revision, GError **error)
{
  const char *start = version;
  while (is_blank (*start))
    start++;
  if (*start == '\0')
    return invalid (error, version, "the version is empty");

  const char *end = start;
  while (*end != '\0' && !is_blank (*end))
    end++;
  for (const char *p = end; *p != '\0'; p++)
    {
      if (!is_blank (*p))
        return invalid (error, version, "the version contains whitespace");
    }

  g_autofree char *trimmed = g_strndup (start, end - start);
  const char *rest = trimmed;
  guint epoch = 0;
  const char *colon = strchr (trimmed, ':');
  if (colon != NULL)
    {
      if (colon == trimmed)
        return invalid (error, version, "the epoch before “:” is empty");
      guint64 value = 0;
      for (const char *p = trimmed; p < colon; p++)
        {
          gboolean is_digit = g_ascii_isdigit (*p);
          if (is_digit)
            value = value * 10 + (guint64) (*p - '0');
          if (!is_digit || value > INT_MAX)
            {
              g_autofree char *text = quote_version (trimmed, colon - trimmed);
              if (!is_digit)
                return invalid (error, version,
                                "the epoch “%s” is not a number (only digits allowed)", text);
              return invalid (error, version, "the epoch “%s” is too big (at most %d)", text,
                              INT_MAX);
            }
        }
      if (colon[1] == '\0')
        return invalid (error, version, "nothing follows the epoch");
      epoch = (guint) value;
      rest = colon + 1;
    }

  const char *hyphen = strrchr (rest, '-');
  if (hyphen != NULL && hyphen[1] == '\0')
    return invalid (error, version, "the revision after the last “-” is empty");
  g_autofree char *upstream = hyphen != NULL ? g_strndup (rest, hyphen - rest) : g_strdup (rest);
  const char *revision = hyphen != NULL ? hyphen + 1 : NULL;

  if (upstream[0] == '\0')
    return invalid (error, version, "the upstream version is empty");
  if (!g_ascii_isdigit (upstream[0]))
    {
      g_autofree char *upstream_text = quote_version (upstream, -1);
      return invalid (error, version, "the upstream version “%s” does not start with a digit",
                      upstream_text);
    }
  for (const char *p = upstream; *p != '\0'; p++)
    {
      if (!is_upstream_char (*p))
        {
          g_autofree char *what = describe_char (*p);
          return invalid (error, version,
                          "the upstream version contains %s (allowed are letters, digits and "
                          "“.+~-:”)",
                          what);
        }
    }
  for (const char *p = revision; p != NULL && *p != '\0'; p++)
    {
      if (!is_revision_char (*p))
        {
          g_autofree char *what = describe_char (*p);
          return invalid (error, version,
                          "the revision contains %s (allowed are letters, digits and “.+~”)", what);
        }
    }

  if (out_epoch != NULL)
    *out_epoch = epoch;
  if (out_upstream != NULL)
    *out_upstream = g_steal_pointer (&upstream);
  if (out_revision != NULL)
    *out_revision = g_strdup (revision);
  return TRUE;
}

/* dpkg's order(): where one non-digit character sorts. '~' before everything, the end of the
 * part (and digits, which end a non-digit run) next, then letters, then all other characters.
 * dpkg passes a plain char, which is signed on the architectures dpkg is mostly built for, so
 * bytes >= 0x80 sort after letters and before other ASCII characters; this is spelled out here
 * so that it does not depend on the signedness of char of the machine we run on. */
static int
order (char c)
{
  int value = (signed char) c;

  if (g_ascii_isdigit (c))
    return 0;
  if (g_ascii_isalpha (c))
    return value;
  if (c == '~')
    return -1;
  if (c != '\0')
    return value + 256;
  return 0;
}

/* dpkg's verrevcmp(): alternating runs of non-digits (compared character by character with
 * order()) and digits (compared numerically, leading zeros ignored, any length). */
static int
compare_part (const char *a, const char *b)
{
  if (a == NULL)
    a = "";
  if (b == NULL)
    b = "";

  while (*a != '\0' || *b != '\0')
    {
      while ((*a != '\0' && !g_ascii_isdigit (*a)) || (*b != '\0' && !g_ascii_isdigit (*b)))
        {
          int ac = order (*a);
          int bc = order (*b);
          if (ac != bc)
            return ac < bc ? -1 : 1;
          /* Equal orders of two non-digits means neither is at its end (a NUL and a non-digit
           * never have the same order), so both pointers may advance. */
          a++;
          b++;
        }

      while (*a == '0')
        a++;
      while (*b == '0')
        b++;

      int first_diff = 0;
      while (g_ascii_isdigit (*a) && g_ascii_isdigit (*b))
        {
          if (first_diff == 0)
            first_diff = *a - *b;
          a++;
          b++;
        }
      if (g_ascii_isdigit (*a))
        return 1;
      if (g_ascii_isdigit (*b))
        return -1;
      if (first_diff != 0)
        return first_diff < 0 ? -1 : 1;
    }

  return 0;
}

/**
 * mbd_deb_version_new: (constructor)
 * @version: a Debian version, `[epoch:]upstream[-revision]`
 * @error: return location for a #GError
 *
 * Parses a Debian package version the way dpkg does.
 *
 * The epoch, if any, is everything before the first colon and must be a decimal number no larger
 * than `INT_MAX`. The revision, if any, is everything after the last hyphen and may contain
 * letters, digits and `.+~`. The upstream version in between must start with a digit and may
 * contain letters, digits and `.+~-:` (a hyphen only when there is a revision, a colon only when
 * there is an epoch). Spaces and tabs around the version are ignored, as dpkg does.
 *
 * Where dpkg only warns (an upstream version that does not start with a digit, characters outside
 * the allowed sets) this function refuses the version, as it does an epoch written with a sign.
 * Every refusal is %MBD_ERROR_INVALID_VERSION with a message that quotes @version and says what is
 * wrong with it.
 *
 * Returns: (transfer full): the parsed version, or %NULL with @error set
 */
MbdDebVersion *
mbd_deb_version_new (const char *version, GError **error)
{
  g_return_val_if_fail (version != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  guint epoch = 0;
  g_autofree char *upstream = NULL;
  g_autofree char *revision = NULL;
  if (!parse_version (version, &epoch, &upstream, &revision, error))
    return NULL;

  MbdDebVersion *self = g_new0 (MbdDebVersion, 1);
  self->epoch = epoch;
  self->upstream = g_steal_pointer (&upstream);
  self->revision = g_steal_pointer (&revision);
  return self;
}

/**
 * mbd_deb_version_copy:
 * @self: a #MbdDebVersion
 *
 * Copies a version.
 *
 * Returns: (transfer full): a new #MbdDebVersion equal to @self
 */
MbdDebVersion *
mbd_deb_version_copy (const MbdDebVersion *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  MbdDebVersion *copy = g_new0 (MbdDebVersion, 1);
  copy->epoch = self->epoch;
  copy->upstream = g_strdup (self->upstream);
  copy->revision = g_strdup (self->revision);
  return copy;
}

/**
 * mbd_deb_version_free:
 * @self: (nullable): a #MbdDebVersion
 *
 * Frees a version; does nothing for %NULL.
 */
void
mbd_deb_version_free (MbdDebVersion *self)
{
  if (self == NULL)
    return;
  g_free (self->upstream);
  g_free (self->revision);
  g_free (self);
}

/**
 * mbd_deb_version_get_epoch:
 * @self: a #MbdDebVersion
 *
 * Gets the epoch, the number before the first colon; 0 when the version has none.
 *
 * Returns: the epoch
 */
guint
mbd_deb_version_get_epoch (const MbdDebVersion *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->epoch;
}

/**
 * mbd_deb_version_get_upstream:
 * @self: a #MbdDebVersion
 *
 * Gets the upstream version: what is left without the epoch and the revision. It is never
 * empty and always starts with a digit.
 *
 * Returns: (transfer none): the upstream version
 */
const char *
mbd_deb_version_get_upstream (const MbdDebVersion *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->upstream;
}

/**
 * mbd_deb_version_get_revision:
 * @self: a #MbdDebVersion
 *
 * Gets the Debian revision, the part after the last hyphen.
 *
 * A version without a hyphen (a native package, such as `1.0`) has no revision and this returns
 * %NULL; a revision that is present is never empty. For comparisons a missing revision counts as
 * an empty one, so `1.0` and `1.0-0` are equal.
 *
 * Returns: (transfer none) (nullable): the revision, or %NULL when there is none
 */
const char *
mbd_deb_version_get_revision (const MbdDebVersion *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->revision;
}

/**
 * mbd_deb_version_to_string:
 * @self: a #MbdDebVersion
 *
 * Formats the version as dpkg prints it: the epoch only when it is not 0, so `0:1.0-1` becomes
 * `1.0-1`, and blanks around the parsed string are gone.
 *
 * A zero epoch is kept when the upstream version contains a colon (`0:1:2` stays `0:1:2`), since
 * without it the text would parse as another version. Parsing the result always gives a version
 * equal to @self.
 *
 * Returns: (transfer full): the version as a string
 */
char *
mbd_deb_version_to_string (const MbdDebVersion *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  GString *out = g_string_new (NULL);
  if (self->epoch != 0 || strchr (self->upstream, ':') != NULL)
    g_string_append_printf (out, "%u:", self->epoch);
  g_string_append (out, self->upstream);
  if (self->revision != NULL)
    {
      g_string_append_c (out, '-');
      g_string_append (out, self->revision);
    }
  return g_string_free (out, FALSE);
}

/**
 * mbd_deb_version_compare:
 * @a: a #MbdDebVersion
 * @b: the #MbdDebVersion to compare @a with
 *
 * Compares two versions exactly as `dpkg --compare-versions` does.
 *
 * Epochs are compared as numbers first, then the upstream versions, then the revisions (a missing
 * revision is an empty one). Upstream versions and revisions are compared from the left in
 * alternating runs of non-digits and digits. Non-digits compare character by character, where `~`
 * sorts before everything, even before the end of the part (`1.0~rc1` < `1.0`, `1.0~~` <
 * `1.0~`), the end sorts next, then letters, then all other characters (`1.0a` < `1.0+`). Digit
 * runs compare as numbers of any length, leading zeros ignored (`1.01` = `1.1`, `1.9` < `1.10`).
 *
 * Returns: -1 if @a is older than @b, 0 if they are equal, 1 if @a is newer
 */
int
mbd_deb_version_compare (const MbdDebVersion *a, const MbdDebVersion *b)
{
  g_return_val_if_fail (a != NULL, 0);
  g_return_val_if_fail (b != NULL, 0);

  if (a->epoch != b->epoch)
    return a->epoch < b->epoch ? -1 : 1;
  int result = compare_part (a->upstream, b->upstream);
  if (result != 0)
    return result;
  return compare_part (a->revision, b->revision);
}

/* The lenient split behind mbd_deb_version_compare_strings(): dpkg's parseversion() without any
 * of its checks. Where dpkg accepts a version, also when it only warns, the parts are the ones
 * dpkg gets. */
typedef struct
{
  gint64 epoch;
  char *upstream;
  char *revision;
} LenientVersion;

static void
lenient_split (const char *string, LenientVersion *out)
{
  const char *start = string != NULL ? string : "";
  while (is_blank (*start))
    start++;
  const char *end = start + strlen (start);
  while (end > start && is_blank (end[-1]))
    end--;

  g_autofree char *trimmed = g_strndup (start, end - start);
  const char *rest = trimmed;
  out->epoch = 0;

  /* dpkg reads the epoch with strtol(): leading white space, an optional sign, decimal digits;
   * it must end at the first colon. Anything else before the colon is not an epoch here, and
   * stays part of the upstream version. Huge epochs saturate. */
  const char *colon = strchr (trimmed, ':');
  if (colon != NULL)
    {
      const char *p = trimmed;
      while (g_ascii_isspace (*p))
        p++;
      gboolean negative = FALSE;
      if (*p == '+' || *p == '-')
        negative = *p++ == '-';
      const char *digits = p;
      gint64 value = 0;
      while (g_ascii_isdigit (*p))
        {
          int digit = *p++ - '0';
          value = value > (G_MAXINT64 - digit) / 10 ? G_MAXINT64 : value * 10 + digit;
        }
      if (p > digits && p == colon)
        {
          out->epoch = negative ? -value : value;
          rest = colon + 1;
        }
    }

  const char *hyphen = strrchr (rest, '-');
  out->upstream = hyphen != NULL ? g_strndup (rest, hyphen - rest) : g_strdup (rest);
  out->revision = hyphen != NULL ? g_strdup (hyphen + 1) : NULL;
}

/* dpkg_version_is_informative(): `dpkg --compare-versions` orders a version without epoch,
 * upstream and revision (the empty string) before all others. */
static gboolean
lenient_is_informative (const LenientVersion *v)
{
  return v->epoch != 0 || v->upstream[0] != '\0' || (v->revision != NULL && v->revision[0] != '\0');
}

/**
 * mbd_deb_version_compare_strings:
 * @a: (nullable): a version string
 * @b: (nullable): the version string to compare @a with
 *
 * Compares two version strings the way `dpkg --compare-versions` does, without requiring them to
 * be valid.
 *
 * Each string is split into epoch, upstream version and revision as dpkg splits it (blanks
 * around it ignored, the epoch before the first colon, the revision after the last hyphen), and the
 * parts are compared as mbd_deb_version_compare() does. For every valid version the result is
 * the same as parsing both strings and calling mbd_deb_version_compare(). For strings that are
 * not valid versions the result is still dpkg's ordering of the split parts; that matches
 * `dpkg --compare-versions` for every string dpkg accepts with a warning (for example one whose
 * upstream version does not start with a digit). Where dpkg refuses the string altogether, the
 * parts are taken as far as they make sense: text before the first colon that is not a number
 * is not an epoch but part of the upstream version, and an empty revision or upstream version
 * compares as empty. As with dpkg, an empty string (or %NULL) is older than every non-empty
 * version.
 *
 * This function accepts any input and is meant for sorting data one does not control; use
 * mbd_deb_version_new() to validate.
 *
 * Returns: -1 if @a is older than @b, 0 if they are equal, 1 if @a is newer
 */
int
mbd_deb_version_compare_strings (const char *a, const char *b)
{
  LenientVersion va, vb;
  lenient_split (a, &va);
  lenient_split (b, &vb);

  int result;
  gboolean informative_a = lenient_is_informative (&va);
  gboolean informative_b = lenient_is_informative (&vb);
  if (!informative_a || !informative_b)
    result = informative_a - informative_b;
  else if (va.epoch != vb.epoch)
    result = va.epoch < vb.epoch ? -1 : 1;
  else if ((result = compare_part (va.upstream, vb.upstream)) == 0)
    result = compare_part (va.revision, vb.revision);

  g_free (va.upstream);
  g_free (va.revision);
  g_free (vb.upstream);
  g_free (vb.revision);
  return result;
}

/**
 * mbd_deb_version_is_valid:
 * @version: a version string
 * @error: return location for a #GError, or %NULL
 *
 * Checks whether @version is a Debian version that mbd_deb_version_new() accepts, without keeping
 * the parsed result.
 *
 * Returns: %TRUE if @version is valid; %FALSE with @error set to %MBD_ERROR_INVALID_VERSION
 *   otherwise
 */
gboolean
mbd_deb_version_is_valid (const char *version, GError **error)
{
  g_return_val_if_fail (version != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return parse_version (version, NULL, NULL, NULL, error);
}
