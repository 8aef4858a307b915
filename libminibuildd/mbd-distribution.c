/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "mbd-distribution.h"
#include "mbd-util-private.h"

/**
 * MbdDistribution:
 *
 * A distribution of a repository, as mini-buildd's Distribution model: the base codename (such as
 * `bookworm`) with its code version (`12`), the components (`main` always first) and the
 * architectures. Exactly one architecture builds the `Architecture: all` packages (the first one);
 * architectures may be optional (their builds may fail), but never the arch-all one.
 *
 * Its spec form, used on the command line, is `CODENAME[:ARCHES]` with a comma list of
 * architectures whose first one is the arch-all one and optional ones suffixed `?`, such as
 * `bookworm:amd64,i386?`.
 */
struct _MbdDistribution
{
  GObject parent_instance;

  char *codename;
  char *codeversion;
  char **components;
  char **architectures;
  char **optional;
};

G_DEFINE_FINAL_TYPE (MbdDistribution, mbd_distribution, G_TYPE_OBJECT)

static void
mbd_distribution_finalize (GObject *object)
{
  MbdDistribution *self = MBD_DISTRIBUTION (object);

  g_free (self->codename);
  g_free (self->codeversion);
  g_strfreev (self->components);
  g_strfreev (self->architectures);
  g_strfreev (self->optional);
  G_OBJECT_CLASS (mbd_distribution_parent_class)->finalize (object);
}

static void
mbd_distribution_class_init (MbdDistributionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_distribution_finalize;
}

static void
mbd_distribution_init (MbdDistribution *self)
{
  self->optional = g_new0 (char *, 1);
}

/* Lower-case letters and digits, starting with a letter: codenames, repository identities. */
static gboolean
is_word (const char *s, gboolean digits)
{
  if (s == NULL || s[0] == '\0')
    return FALSE;
  for (const char *p = s; *p != '\0'; p++)
    if (!((*p >= 'a' && *p <= 'z') || (digits && *p >= '0' && *p <= '9')))
      return FALSE;
  return TRUE;
}

static gboolean
arch_is_valid (const char *arch)
{
  if (arch == NULL || arch[0] == '\0' || strcmp (arch, "all") == 0 || strcmp (arch, "source") == 0)
    return FALSE;
  for (const char *p = arch; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-')
      return FALSE;
  return TRUE;
}

static const struct
{
  const char *codename;
  const char *codeversion;
} codeversions[] = {
  { "buster", "10" }, { "bullseye", "11" }, { "bookworm", "12" }, { "trixie", "13" },
  { "forky", "14" },  { "duke", "15" },     { "jammy", "2204" },  { "noble", "2404" },
};

/**
 * mbd_codename_guess_codeversion:
 * @codename: a distribution codename such as `bookworm`
 *
 * Gives the code version mini-buildd derives for a codename: the major release number for
 * Debian (`12` for bookworm), `YYMM` for Ubuntu, and `~` plus the upper-case codename for a
 * distribution without a version (`~SID`). This uses a small built-in table; a codename it does
 * not know is treated like sid.
 *
 * Returns: (transfer full): the code version
 */
char *
mbd_codename_guess_codeversion (const char *codename)
{
  g_return_val_if_fail (codename != NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (codeversions); i++)
    if (strcmp (codeversions[i].codename, codename) == 0)
      return g_strdup (codeversions[i].codeversion);
  g_autofree char *upper = g_ascii_strup (codename, -1);
  return g_strconcat ("~", upper, NULL);
}

/**
 * mbd_distribution_new:
 * @codename: the base codename, lower-case letters and digits
 * @architectures: (array zero-terminated=1): the architectures, the first builds the
 *   `Architecture: all` packages
 *
 * Creates a distribution with the code version from [func@Mbd.codename_guess_codeversion] and the
 * components `main contrib non-free` (plus `non-free-firmware` from bookworm on).
 *
 * Returns: (transfer full): the distribution, or %NULL with %MBD_ERROR_INVALID_ARGUMENT for a
 *   malformed codename, no architectures, an invalid or repeated architecture
 */
MbdDistribution *
mbd_distribution_new (const char *codename, const char *const *architectures, GError **error)
{
  g_return_val_if_fail (architectures != NULL, NULL);

  if (!is_word (codename, TRUE) || !g_ascii_islower (codename[0]))
    {
      g_autofree char *q
          = mbd_utf8_excerpt (codename ? codename : "", codename ? strlen (codename) : 0, 40);
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "codename '%s' is invalid: use lower-case letters and digits", q);
      return NULL;
    }
  if (architectures[0] == NULL)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "distribution %s: no architecture given",
                 codename);
      return NULL;
    }
  for (guint i = 0; architectures[i] != NULL; i++)
    {
      if (!arch_is_valid (architectures[i]))
        {
          g_autofree char *q = mbd_utf8_excerpt (architectures[i], strlen (architectures[i]), 40);
          mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                     "distribution %s: architecture '%s' is invalid", codename, q);
          return NULL;
        }
      for (guint j = 0; j < i; j++)
        if (strcmp (architectures[i], architectures[j]) == 0)
          {
            mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                       "distribution %s: architecture '%s' is given twice", codename,
                       architectures[i]);
            return NULL;
          }
    }

  MbdDistribution *self = g_object_new (MBD_TYPE_DISTRIBUTION, NULL);
  self->codename = g_strdup (codename);
  self->codeversion = mbd_codename_guess_codeversion (codename);
  self->architectures = g_strdupv ((char **) architectures);
  gboolean old = strcmp (self->codeversion, "12") < 0 && self->codeversion[0] != '~'
                 && strlen (self->codeversion) == 2;
  const char *components[]
      = { "main", "contrib", "non-free", old ? NULL : "non-free-firmware", NULL };
  self->components = g_strdupv ((char **) components);
  return self;
}

/**
 * mbd_distribution_new_from_spec:
 * @spec: `CODENAME:ARCH[,ARCH[?]]...`, such as `bookworm:amd64,i386?`
 *
 * Creates a distribution from its spec form (see [class@Mbd.Distribution]).
 *
 * Returns: (transfer full): the distribution, or %NULL with %MBD_ERROR_INVALID_ARGUMENT
 */
MbdDistribution *
mbd_distribution_new_from_spec (const char *spec, GError **error)
{
  g_return_val_if_fail (spec != NULL, NULL);

  const char *colon = strchr (spec, ':');
  if (colon == NULL || colon[1] == '\0')
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "distribution '%s': give CODENAME:ARCHES, such as bookworm:amd64,i386?", spec);
      return NULL;
    }
  g_autofree char *codename = g_strndup (spec, colon - spec);
  g_auto (GStrv) words = g_strsplit (colon + 1, ",", -1);
  g_autoptr (GStrvBuilder) arches = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) optional = g_strv_builder_new ();
  for (guint i = 0; words[i] != NULL; i++)
    {
      char *word = g_strstrip (words[i]);
      gsize len = strlen (word);
      if (len > 0 && word[len - 1] == '?')
        {
          word[len - 1] = '\0';
          g_strv_builder_add (optional, word);
        }
      g_strv_builder_add (arches, word);
    }
  g_auto (GStrv) arch_list = g_strv_builder_end (arches);
  g_auto (GStrv) optional_list = g_strv_builder_end (optional);
  g_autoptr (MbdDistribution) self
             = mbd_distribution_new (codename, (const char *const *) arch_list, error);
  if (self == NULL)
    return NULL;
  if (!mbd_distribution_set_optional_architectures (self, (const char *const *) optional_list,
                                                    error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mbd_distribution_to_spec:
 * @self: a distribution
 *
 * Writes the distribution's spec form, such as `bookworm:amd64,i386?`.
 *
 * Returns: (transfer full): the spec
 */
char *
mbd_distribution_to_spec (MbdDistribution *self)
{
  g_return_val_if_fail (MBD_IS_DISTRIBUTION (self), NULL);

  g_autoptr (GString) out = g_string_new (self->codename);
  for (guint i = 0; self->architectures[i] != NULL; i++)
    {
      g_string_append_c (out, i == 0 ? ':' : ',');
      g_string_append (out, self->architectures[i]);
      if (g_strv_contains ((const char *const *) self->optional, self->architectures[i]))
        g_string_append_c (out, '?');
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * mbd_distribution_get_codename:
 * @self: a distribution
 *
 * Gives the base codename.
 *
 * Returns: the codename
 */
const char *
mbd_distribution_get_codename (MbdDistribution *self)
{
  g_return_val_if_fail (MBD_IS_DISTRIBUTION (self), NULL);
  return self->codename;
}

/**
 * mbd_distribution_get_codeversion:
 * @self: a distribution
 *
 * Gives the code version used in version rules, such as `12` or `~SID`.
 *
 * Returns: the code version
 */
const char *
mbd_distribution_get_codeversion (MbdDistribution *self)
{
  g_return_val_if_fail (MBD_IS_DISTRIBUTION (self), NULL);
  return self->codeversion;
}

/**
 * mbd_distribution_set_codeversion:
 * @self: a distribution
 * @codeversion: the code version, such as `12`
 *
 * Overrides the code version guessed from the codename.
 */
void
mbd_distribution_set_codeversion (MbdDistribution *self, const char *codeversion)
{
  g_return_if_fail (MBD_IS_DISTRIBUTION (self));
  g_return_if_fail (codeversion != NULL && codeversion[0] != '\0');
  g_free (self->codeversion);
  self->codeversion = g_strdup (codeversion);
}

/**
 * mbd_distribution_get_components:
 * @self: a distribution
 *
 * Gives the components, `main` first.
 *
 * Returns: (transfer none) (array zero-terminated=1): the components
 */
const char *const *
mbd_distribution_get_components (MbdDistribution *self)
{
  g_return_val_if_fail (MBD_IS_DISTRIBUTION (self), NULL);
  return (const char *const *) self->components;
}

/**
 * mbd_distribution_set_components:
 * @self: a distribution
 * @components: (array zero-terminated=1): the components; `main` is required
 *
 * Sets the components; `main` is moved to the front.
 *
 * Returns: %TRUE if set, %FALSE with %MBD_ERROR_INVALID_ARGUMENT if `main` is missing or a name
 *   is malformed or repeated
 */
gboolean
mbd_distribution_set_components (MbdDistribution *self,
                                 const char *const *components,
                                 GError **error)
{
  g_return_val_if_fail (MBD_IS_DISTRIBUTION (self), FALSE);
  g_return_val_if_fail (components != NULL, FALSE);

  if (!g_strv_contains (components, "main"))
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "distribution %s: the components must include 'main'", self->codename);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_strv_builder_add (builder, "main");
  for (guint i = 0; components[i] != NULL; i++)
    {
      const char *c = components[i];
      gboolean ok = c[0] != '\0';
      for (const char *p = c; *p != '\0'; p++)
        ok = ok && (g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-');
      if (!ok)
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                          "distribution %s: component '%s' is invalid", self->codename, c);
      for (guint j = 0; j < i; j++)
        if (strcmp (components[j], c) == 0)
          return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                            "distribution %s: component '%s' is given twice", self->codename, c);
      if (strcmp (c, "main") != 0)
        g_strv_builder_add (builder, c);
    }
  g_strfreev (self->components);
  self->components = g_strv_builder_end (builder);
  return TRUE;
}

/**
 * mbd_distribution_get_architectures:
 * @self: a distribution
 *
 * Gives the architectures, the arch-all one first.
 *
 * Returns: (transfer none) (array zero-terminated=1): the architectures
 */
const char *const *
mbd_distribution_get_architectures (MbdDistribution *self)
{
  g_return_val_if_fail (MBD_IS_DISTRIBUTION (self), NULL);
  return (const char *const *) self->architectures;
}

/**
 * mbd_distribution_get_arch_all_architecture:
 * @self: a distribution
 *
 * Gives the architecture that builds the `Architecture: all` packages.
 *
 * Returns: the architecture
 */
const char *
mbd_distribution_get_arch_all_architecture (MbdDistribution *self)
{
  g_return_val_if_fail (MBD_IS_DISTRIBUTION (self), NULL);
  return self->architectures[0];
}

/**
 * mbd_distribution_is_optional_architecture:
 * @self: a distribution
 * @architecture: an architecture
 *
 * Tells whether builds for @architecture may fail without failing the package.
 *
 * Returns: %TRUE if optional
 */
gboolean
mbd_distribution_is_optional_architecture (MbdDistribution *self, const char *architecture)
{
  g_return_val_if_fail (MBD_IS_DISTRIBUTION (self), FALSE);
  return g_strv_contains ((const char *const *) self->optional, architecture);
}

/**
 * mbd_distribution_set_optional_architectures:
 * @self: a distribution
 * @optional: (array zero-terminated=1): architectures of the distribution whose builds may fail
 *
 * Marks architectures optional. The arch-all architecture cannot be optional.
 *
 * Returns: %TRUE if set, %FALSE with %MBD_ERROR_INVALID_ARGUMENT
 */
gboolean
mbd_distribution_set_optional_architectures (MbdDistribution *self,
                                             const char *const *optional,
                                             GError **error)
{
  g_return_val_if_fail (MBD_IS_DISTRIBUTION (self), FALSE);
  g_return_val_if_fail (optional != NULL, FALSE);

  for (guint i = 0; optional[i] != NULL; i++)
    {
      if (!g_strv_contains ((const char *const *) self->architectures, optional[i]))
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                          "distribution %s: optional architecture '%s' is not one of its "
                          "architectures",
                          self->codename, optional[i]);
      if (strcmp (optional[i], self->architectures[0]) == 0)
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                          "distribution %s: architecture '%s' builds the arch-all packages and "
                          "cannot be optional",
                          self->codename, optional[i]);
    }
  g_strfreev (self->optional);
  self->optional = g_strdupv ((char **) optional);
  return TRUE;
}

/**
 * mbd_distribution_string_parse:
 * @distribution: a distribution string `<codename>-<repository>-<suite>[-rollback<N>]`, such as
 *   `bookworm-test-unstable` or `bookworm-test-stable-rollback3`
 * @out_codename: (out) (optional) (transfer full): the codename
 * @out_repository: (out) (optional) (transfer full): the repository identity
 * @out_suite: (out) (optional) (transfer full): the suite name
 * @out_rollback: (out) (optional): the rollback number, or -1 if not a rollback distribution
 *
 * Splits a distribution string (mini-buildd's `^\w+-\w+-\w+?(-rollback\d+)?$`, with the
 * codename and identity lower-case letters and digits and the suite lower-case letters).
 *
 * Returns: %TRUE if parsed, %FALSE with %MBD_ERROR_INVALID_ARGUMENT naming the string
 */
gboolean
mbd_distribution_string_parse (const char *distribution,
                               char **out_codename,
                               char **out_repository,
                               char **out_suite,
                               int *out_rollback,
                               GError **error)
{
  g_return_val_if_fail (distribution != NULL, FALSE);

  g_auto (GStrv) parts = g_strsplit (distribution, "-", 5);
  guint n = g_strv_length (parts);
  int rollback = -1;
  gboolean ok = (n == 3 || n == 4) && is_word (parts[0], TRUE) && is_word (parts[1], TRUE)
                && is_word (parts[2], FALSE);
  if (ok && n == 4)
    {
      const char *digits = g_str_has_prefix (parts[3], "rollback") ? parts[3] + 8 : NULL;
      guint64 value = 0;
      ok = digits != NULL && digits[0] != '\0' && strlen (digits) <= 3
           && g_ascii_string_to_unsigned (digits, 10, 0, 999, &value, NULL);
      rollback = (int) value;
    }
  if (!ok)
    {
      g_autofree char *q = mbd_utf8_excerpt (distribution, strlen (distribution), 80);
      return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                        "distribution '%s' is malformed: use <codename>-<repository>-<suite> "
                        "such as bookworm-test-unstable, optionally with -rollback<N>",
                        q);
    }
  if (out_codename != NULL)
    *out_codename = g_strdup (parts[0]);
  if (out_repository != NULL)
    *out_repository = g_strdup (parts[1]);
  if (out_suite != NULL)
    *out_suite = g_strdup (parts[2]);
  if (out_rollback != NULL)
    *out_rollback = rollback;
  return TRUE;
}

/**
 * mbd_distribution_string_format:
 * @codename: the codename
 * @repository: the repository identity
 * @suite: the suite name
 * @rollback: a rollback number, or -1 for the distribution itself
 *
 * Builds a distribution string such as `bookworm-test-unstable` or
 * `bookworm-test-unstable-rollback0`.
 *
 * Returns: (transfer full): the distribution string
 */
char *
mbd_distribution_string_format (const char *codename,
                                const char *repository,
                                const char *suite,
                                int rollback)
{
  g_return_val_if_fail (codename != NULL && repository != NULL && suite != NULL, NULL);
  if (rollback < 0)
    return g_strdup_printf ("%s-%s-%s", codename, repository, suite);
  return g_strdup_printf ("%s-%s-%s-rollback%d", codename, repository, suite, rollback);
}
