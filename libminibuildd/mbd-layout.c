/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "mbd-layout-private.h"
#include "mbd-util-private.h"

/**
 * MbdSuite:
 *
 * A suite of a [class@Mbd.Layout] with mini-buildd's suite options: whether it accepts uploads,
 * whether it is experimental, the suite it migrates to, how many old versions it keeps as
 * rollbacks, and the `NotAutomatic` / `ButAutomaticUpgrades` flags of its Release files.
 *
 * Suite names match `^[a-z]+$`. A new suite is uploadable, not experimental, migrates nowhere,
 * keeps no rollbacks, and is `NotAutomatic: yes` with `ButAutomaticUpgrades: yes`, as in
 * mini-buildd.
 */
struct _MbdSuite
{
  GObject parent_instance;

  char *name;
  char *migrates_to;
  guint rollbacks;
  gboolean uploadable;
  gboolean experimental;
  gboolean not_automatic;
  gboolean but_automatic_upgrades;
  gboolean build_keyring_package;
};

G_DEFINE_FINAL_TYPE (MbdSuite, mbd_suite, G_TYPE_OBJECT)

static void
mbd_suite_finalize (GObject *object)
{
  MbdSuite *self = MBD_SUITE (object);

  g_free (self->name);
  g_free (self->migrates_to);
  G_OBJECT_CLASS (mbd_suite_parent_class)->finalize (object);
}

static void
mbd_suite_class_init (MbdSuiteClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_suite_finalize;
}

static void
mbd_suite_init (MbdSuite *self)
{
  self->uploadable = TRUE;
  self->not_automatic = TRUE;
  self->but_automatic_upgrades = TRUE;
}

static gboolean
is_lower_word (const char *name)
{
  if (name == NULL || name[0] == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (*p < 'a' || *p > 'z')
      return FALSE;
  return TRUE;
}

/**
 * mbd_suite_new:
 * @name: the suite name, matching `^[a-z]+$`
 *
 * Creates a suite with mini-buildd's default options (see [class@Mbd.Suite]).
 *
 * Returns: (transfer full): a new suite, or %NULL with %MBD_ERROR_INVALID_ARGUMENT for a bad name
 */
MbdSuite *
mbd_suite_new (const char *name, GError **error)
{
  if (!is_lower_word (name))
    {
      g_autofree char *quoted = mbd_utf8_excerpt (name ? name : "", name ? strlen (name) : 0, 40);
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "suite name '%s' is invalid: use lower-case letters a-z only", quoted);
      return NULL;
    }
  MbdSuite *self = g_object_new (MBD_TYPE_SUITE, NULL);
  self->name = g_strdup (name);
  return self;
}

/**
 * mbd_suite_get_name:
 * @self: a suite
 *
 * Gives the suite name, such as `unstable`.
 *
 * Returns: the name
 */
const char *
mbd_suite_get_name (MbdSuite *self)
{
  g_return_val_if_fail (MBD_IS_SUITE (self), NULL);
  return self->name;
}

/**
 * mbd_suite_get_uploadable:
 * @self: a suite
 *
 * Tells whether the suite accepts uploads (and direct includes).
 *
 * Returns: %TRUE if uploadable
 */
gboolean
mbd_suite_get_uploadable (MbdSuite *self)
{
  g_return_val_if_fail (MBD_IS_SUITE (self), FALSE);
  return self->uploadable;
}

/**
 * mbd_suite_set_uploadable:
 * @self: a suite
 * @uploadable: whether the suite accepts uploads
 *
 * Sets whether the suite accepts uploads; suites others migrate to are usually not uploadable.
 */
void
mbd_suite_set_uploadable (MbdSuite *self, gboolean uploadable)
{
  g_return_if_fail (MBD_IS_SUITE (self));
  self->uploadable = uploadable;
}

/**
 * mbd_suite_get_experimental:
 * @self: a suite
 *
 * Tells whether the suite is experimental: its versions follow the experimental version rule
 * (`+0`) and it does not migrate.
 *
 * Returns: %TRUE if experimental
 */
gboolean
mbd_suite_get_experimental (MbdSuite *self)
{
  g_return_val_if_fail (MBD_IS_SUITE (self), FALSE);
  return self->experimental;
}

/**
 * mbd_suite_set_experimental:
 * @self: a suite
 * @experimental: whether the suite is experimental
 *
 * Marks the suite experimental (see [method@Mbd.Suite.get_experimental]).
 */
void
mbd_suite_set_experimental (MbdSuite *self, gboolean experimental)
{
  g_return_if_fail (MBD_IS_SUITE (self));
  self->experimental = experimental;
}

/**
 * mbd_suite_get_migrates_to:
 * @self: a suite
 *
 * Gives the name of the suite of the same layout that packages migrate to from this one.
 *
 * Returns: (nullable): the suite name, or %NULL if packages do not migrate from this suite
 */
const char *
mbd_suite_get_migrates_to (MbdSuite *self)
{
  g_return_val_if_fail (MBD_IS_SUITE (self), NULL);
  return self->migrates_to;
}

/**
 * mbd_suite_set_migrates_to:
 * @self: a suite
 * @suite: (nullable): the name of the suite packages migrate to, or %NULL for none
 *
 * Sets the migration target; [method@Mbd.Layout.add_suite] checks that it exists and is not
 * uploadable.
 */
void
mbd_suite_set_migrates_to (MbdSuite *self, const char *suite)
{
  g_return_if_fail (MBD_IS_SUITE (self));
  g_free (self->migrates_to);
  self->migrates_to = g_strdup (suite);
}

/**
 * mbd_suite_get_rollbacks:
 * @self: a suite
 *
 * Gives the number of old versions the suite keeps, in the distributions `…-rollback0` (the
 * newest) to `…-rollbackN-1`.
 *
 * Returns: the number of rollbacks
 */
guint
mbd_suite_get_rollbacks (MbdSuite *self)
{
  g_return_val_if_fail (MBD_IS_SUITE (self), 0);
  return self->rollbacks;
}

/**
 * mbd_suite_set_rollbacks:
 * @self: a suite
 * @rollbacks: the number of old versions to keep (at most 100)
 *
 * Sets how many old versions the suite keeps.
 */
void
mbd_suite_set_rollbacks (MbdSuite *self, guint rollbacks)
{
  g_return_if_fail (MBD_IS_SUITE (self));
  g_return_if_fail (rollbacks <= 100);
  self->rollbacks = rollbacks;
}

/**
 * mbd_suite_get_not_automatic:
 * @self: a suite
 *
 * Tells whether the suite's Release files say `NotAutomatic: yes`.
 *
 * Returns: the flag
 */
gboolean
mbd_suite_get_not_automatic (MbdSuite *self)
{
  g_return_val_if_fail (MBD_IS_SUITE (self), FALSE);
  return self->not_automatic;
}

/**
 * mbd_suite_set_not_automatic:
 * @self: a suite
 * @not_automatic: the flag
 *
 * Sets the `NotAutomatic` flag of the suite's Release files.
 */
void
mbd_suite_set_not_automatic (MbdSuite *self, gboolean not_automatic)
{
  g_return_if_fail (MBD_IS_SUITE (self));
  self->not_automatic = not_automatic;
}

/**
 * mbd_suite_get_but_automatic_upgrades:
 * @self: a suite
 *
 * Tells whether the suite's Release files say `ButAutomaticUpgrades: yes`.
 *
 * Returns: the flag
 */
gboolean
mbd_suite_get_but_automatic_upgrades (MbdSuite *self)
{
  g_return_val_if_fail (MBD_IS_SUITE (self), FALSE);
  return self->but_automatic_upgrades;
}

/**
 * mbd_suite_set_but_automatic_upgrades:
 * @self: a suite
 * @but_automatic_upgrades: the flag
 *
 * Sets the `ButAutomaticUpgrades` flag of the suite's Release files.
 */
void
mbd_suite_set_but_automatic_upgrades (MbdSuite *self, gboolean but_automatic_upgrades)
{
  g_return_if_fail (MBD_IS_SUITE (self));
  self->but_automatic_upgrades = but_automatic_upgrades;
}

/**
 * mbd_suite_get_build_keyring_package:
 * @self: a suite
 *
 * Tells whether the instance's archive keyring package is built for this suite.
 *
 * Returns: the flag
 */
gboolean
mbd_suite_get_build_keyring_package (MbdSuite *self)
{
  g_return_val_if_fail (MBD_IS_SUITE (self), FALSE);
  return self->build_keyring_package;
}

/**
 * mbd_suite_set_build_keyring_package:
 * @self: a suite
 * @build_keyring_package: the flag
 *
 * Sets whether the archive keyring package is built for this suite (uploadable suites only).
 */
void
mbd_suite_set_build_keyring_package (MbdSuite *self, gboolean build_keyring_package)
{
  g_return_if_fail (MBD_IS_SUITE (self));
  self->build_keyring_package = build_keyring_package;
}

/**
 * MbdLayout:
 *
 * The suites a repository has for each of its distributions, and the version rules uploads must
 * follow, as mini-buildd's Layout model.
 *
 * The version templates hold the placeholders `%IDENTITY%` (the repository identity) and
 * `%CODEVERSION%` (the distribution's code version, `12` for bookworm); the mandatory ones are
 * regular expressions searched in the version. The built-in layouts (see
 * [func@Mbd.Layout.list_builtin]) use `~%IDENTITY%%CODEVERSION%+1` (must match
 * `~%IDENTITY%%CODEVERSION%\+[1-9]`), and `+0` in experimental suites.
 */
struct _MbdLayout
{
  GObject parent_instance;

  char *name;
  GPtrArray *suites; /* (element-type MbdSuite) */
  char *default_version;
  char *mandatory_regex;
  char *experimental_default_version;
  char *experimental_mandatory_regex;
  GHashTable *meta; /* meta name -> "<codename>-<suite>" */
};

G_DEFINE_FINAL_TYPE (MbdLayout, mbd_layout, G_TYPE_OBJECT)

static void
mbd_layout_finalize (GObject *object)
{
  MbdLayout *self = MBD_LAYOUT (object);

  g_free (self->name);
  g_ptr_array_unref (self->suites);
  g_free (self->default_version);
  g_free (self->mandatory_regex);
  g_free (self->experimental_default_version);
  g_free (self->experimental_mandatory_regex);
  g_hash_table_unref (self->meta);
  G_OBJECT_CLASS (mbd_layout_parent_class)->finalize (object);
}

static void
mbd_layout_class_init (MbdLayoutClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_layout_finalize;
}

static void
mbd_layout_init (MbdLayout *self)
{
  self->suites = g_ptr_array_new_with_free_func (g_object_unref);
  self->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  mbd_layout_set_version_rules (self, "~%IDENTITY%%CODEVERSION%+1",
                                "~%IDENTITY%%CODEVERSION%\\+[1-9]", "~%IDENTITY%%CODEVERSION%+0",
                                "~%IDENTITY%%CODEVERSION%\\+0");
}

/**
 * mbd_layout_new:
 * @name: the layout name
 *
 * Creates an empty layout with mini-buildd's default version rules.
 *
 * Returns: (transfer full): a new layout
 */
MbdLayout *
mbd_layout_new (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  MbdLayout *self = g_object_new (MBD_TYPE_LAYOUT, NULL);
  self->name = g_strdup (name);
  return self;
}

typedef struct
{
  const char *name;
  gboolean uploadable, experimental, but_automatic_upgrades, keyring;
  guint rollbacks;
  const char *migrates_to;
} SuiteSpec;

/* mini-buildd's "Default" layout, in the order its status and sources_list calls give it. */
static const SuiteSpec default_suites[] = {
  { "stable", FALSE, FALSE, TRUE, FALSE, 6, NULL },
  { "hotfix", TRUE, FALSE, TRUE, FALSE, 4, "stable" },
  { "testing", FALSE, FALSE, TRUE, FALSE, 3, "stable" },
  { "unstable", TRUE, FALSE, TRUE, TRUE, 9, "testing" },
  { "snapshot", TRUE, TRUE, TRUE, FALSE, 12, NULL },
  { "experimental", TRUE, TRUE, FALSE, FALSE, 6, NULL },
};

static const SuiteSpec debian_developer_suites[] = {
  { "stable", FALSE, FALSE, TRUE, FALSE, 0, NULL },
  { "testing", FALSE, FALSE, TRUE, FALSE, 0, NULL },
  { "unstable", TRUE, FALSE, TRUE, FALSE, 0, NULL },
  { "experimental", TRUE, TRUE, FALSE, FALSE, 0, NULL },
};

/**
 * mbd_layout_list_builtin:
 *
 * Lists the names of the built-in layouts: %MBD_LAYOUT_DEFAULT,
 * %MBD_LAYOUT_DEFAULT_NO_ROLLBACKS and %MBD_LAYOUT_DEBIAN_DEVELOPER.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names
 */
char **
mbd_layout_list_builtin (void)
{
  const char *names[]
      = { MBD_LAYOUT_DEFAULT, MBD_LAYOUT_DEFAULT_NO_ROLLBACKS, MBD_LAYOUT_DEBIAN_DEVELOPER, NULL };
  return g_strdupv ((char **) names);
}

/**
 * mbd_layout_new_builtin:
 * @name: a built-in layout name; mini-buildd's spellings `Default`, `Default (no rollbacks)` and
 *   `Debian Developer` are accepted too
 *
 * Creates one of the built-in layouts (see [func@Mbd.Layout.list_builtin]).
 *
 * Returns: (transfer full): the layout, or %NULL with %MBD_ERROR_NOT_FOUND
 */
MbdLayout *
mbd_layout_new_builtin (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);

  const SuiteSpec *specs = default_suites;
  gsize n_specs = G_N_ELEMENTS (default_suites);
  gboolean with_rollbacks = TRUE;
  const char *canonical = MBD_LAYOUT_DEFAULT;

  if (strcmp (name, MBD_LAYOUT_DEFAULT) == 0 || strcmp (name, "Default") == 0)
    ;
  else if (strcmp (name, MBD_LAYOUT_DEFAULT_NO_ROLLBACKS) == 0
           || strcmp (name, "Default (no rollbacks)") == 0)
    {
      with_rollbacks = FALSE;
      canonical = MBD_LAYOUT_DEFAULT_NO_ROLLBACKS;
    }
  else if (strcmp (name, MBD_LAYOUT_DEBIAN_DEVELOPER) == 0
           || strcmp (name, "Debian Developer") == 0)
    {
      specs = debian_developer_suites;
      n_specs = G_N_ELEMENTS (debian_developer_suites);
      canonical = MBD_LAYOUT_DEBIAN_DEVELOPER;
    }
  else
    {
      g_autofree char *quoted = mbd_utf8_excerpt (name, strlen (name), 60);
      mbd_throw (error, MBD_ERROR_NOT_FOUND,
                 "layout '%s' is unknown; use " MBD_LAYOUT_DEFAULT
                 ", " MBD_LAYOUT_DEFAULT_NO_ROLLBACKS " or " MBD_LAYOUT_DEBIAN_DEVELOPER,
                 quoted);
      return NULL;
    }

  g_autoptr (MbdLayout) self = mbd_layout_new (canonical);
  for (gsize i = 0; i < n_specs; i++)
    {
      g_autoptr (MbdSuite) suite = mbd_suite_new (specs[i].name, NULL);
      suite->uploadable = specs[i].uploadable;
      suite->experimental = specs[i].experimental;
      suite->but_automatic_upgrades = specs[i].but_automatic_upgrades;
      suite->build_keyring_package = specs[i].keyring;
      suite->rollbacks = with_rollbacks ? specs[i].rollbacks : 0;
      suite->migrates_to = g_strdup (specs[i].migrates_to);
      g_ptr_array_add (self->suites, g_steal_pointer (&suite));
    }
  if (specs == debian_developer_suites)
    {
      mbd_layout_set_version_rules (self, "", ".*", "", ".*");
      mbd_layout_add_meta_distribution (self, "unstable", "sid-unstable");
      mbd_layout_add_meta_distribution (self, "experimental", "sid-experimental");
    }
  return g_steal_pointer (&self);
}

/**
 * mbd_layout_get_name:
 * @self: a layout
 *
 * Gives the layout name.
 *
 * Returns: the name
 */
const char *
mbd_layout_get_name (MbdLayout *self)
{
  g_return_val_if_fail (MBD_IS_LAYOUT (self), NULL);
  return self->name;
}

/**
 * mbd_layout_add_suite:
 * @self: a layout
 * @suite: a suite
 *
 * Appends a suite. Suites that others migrate to must be added first. The suite must follow
 * mini-buildd's rules: an experimental suite is uploadable and does not migrate; a suite migrates
 * only to a suite of this layout that is not uploadable; a keyring package is only built in
 * uploadable suites.
 *
 * Returns: %TRUE if added; %FALSE with %MBD_ERROR_EXISTS for a second suite of the same name, or
 *   %MBD_ERROR_INVALID_ARGUMENT when a rule is broken
 */
gboolean
mbd_layout_add_suite (MbdLayout *self, MbdSuite *suite, GError **error)
{
  g_return_val_if_fail (MBD_IS_LAYOUT (self), FALSE);
  g_return_val_if_fail (MBD_IS_SUITE (suite), FALSE);

  if (mbd_layout_lookup_suite (self, suite->name) != NULL)
    return mbd_throw (error, MBD_ERROR_EXISTS, "layout %s: suite '%s' exists already", self->name,
                      suite->name);
  if (suite->experimental && (!suite->uploadable || suite->migrates_to != NULL))
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "layout %s: experimental suite '%s' must be uploadable and must not migrate",
                      self->name, suite->name);
  if (suite->build_keyring_package && !suite->uploadable)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "layout %s: suite '%s' builds the keyring package but is not uploadable",
                      self->name, suite->name);
  if (suite->migrates_to != NULL)
    {
      MbdSuite *target = mbd_layout_lookup_suite (self, suite->migrates_to);
      if (target == NULL || target->uploadable)
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                          "layout %s: suite '%s' migrates to '%s', which must be an existing "
                          "suite that is not uploadable",
                          self->name, suite->name, suite->migrates_to);
    }
  g_ptr_array_add (self->suites, g_object_ref (suite));
  return TRUE;
}

/**
 * mbd_layout_get_suites:
 * @self: a layout
 *
 * Gives the suites in layout order.
 *
 * Returns: (transfer container) (element-type Mbd.Suite): the suites
 */
GPtrArray *
mbd_layout_get_suites (MbdLayout *self)
{
  g_return_val_if_fail (MBD_IS_LAYOUT (self), NULL);

  GPtrArray *copy = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->suites->len; i++)
    g_ptr_array_add (copy, g_object_ref (g_ptr_array_index (self->suites, i)));
  return copy;
}

/**
 * mbd_layout_lookup_suite:
 * @self: a layout
 * @name: a suite name
 *
 * Finds a suite by name.
 *
 * Returns: (transfer none) (nullable): the suite, or %NULL
 */
MbdSuite *
mbd_layout_lookup_suite (MbdLayout *self, const char *name)
{
  g_return_val_if_fail (MBD_IS_LAYOUT (self), NULL);

  for (guint i = 0; name != NULL && i < self->suites->len; i++)
    {
      MbdSuite *suite = g_ptr_array_index (self->suites, i);
      if (strcmp (suite->name, name) == 0)
        return suite;
    }
  return NULL;
}

/**
 * mbd_layout_set_version_rules:
 * @self: a layout
 * @default_version: the version suffix suggested for uploads
 * @mandatory_version_regex: the regular expression versions must contain
 * @experimental_default_version: the suffix suggested in experimental suites
 * @experimental_mandatory_version_regex: the expression versions must contain in experimental
 *   suites
 *
 * Sets the version templates (see [class@Mbd.Layout] for the placeholders).
 */
void
mbd_layout_set_version_rules (MbdLayout *self,
                              const char *default_version,
                              const char *mandatory_version_regex,
                              const char *experimental_default_version,
                              const char *experimental_mandatory_version_regex)
{
  g_return_if_fail (MBD_IS_LAYOUT (self));

  g_free (self->default_version);
  g_free (self->mandatory_regex);
  g_free (self->experimental_default_version);
  g_free (self->experimental_mandatory_regex);
  self->default_version = g_strdup (default_version);
  self->mandatory_regex = g_strdup (mandatory_version_regex);
  self->experimental_default_version = g_strdup (experimental_default_version);
  self->experimental_mandatory_regex = g_strdup (experimental_mandatory_version_regex);
}

static char *
expand (const char *template, const char *identity, const char *codeversion, gboolean escape)
{
  g_autofree char *id = escape ? g_regex_escape_string (identity, -1) : g_strdup (identity);
  g_autofree char *cv = escape ? g_regex_escape_string (codeversion, -1) : g_strdup (codeversion);
  g_autoptr (GString) out = g_string_new (template);

  g_string_replace (out, "%IDENTITY%", id, 0);
  g_string_replace (out, "%CODEVERSION%", cv, 0);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * mbd_layout_get_default_version:
 * @self: a layout
 * @suite: a suite of the layout
 * @identity: the repository identity
 * @codeversion: the distribution's code version
 *
 * Expands the version suffix suggested for uploads to @suite, such as `~test12+1`.
 *
 * Returns: (transfer full): the suffix
 */
char *
mbd_layout_get_default_version (MbdLayout *self,
                                MbdSuite *suite,
                                const char *identity,
                                const char *codeversion)
{
  g_return_val_if_fail (MBD_IS_LAYOUT (self), NULL);
  g_return_val_if_fail (MBD_IS_SUITE (suite), NULL);

  return expand (suite->experimental ? self->experimental_default_version : self->default_version,
                 identity, codeversion, FALSE);
}

/**
 * mbd_layout_check_version:
 * @self: a layout
 * @suite: a suite of the layout
 * @identity: the repository identity
 * @codeversion: the distribution's code version
 * @version: the version of a package
 *
 * Checks a package version against the layout's mandatory version rule for @suite, as
 * mini-buildd does for uploads: `1.0-1~test12+1` passes in bookworm-test-unstable,
 * `1.0-1~test12+0` only in experimental suites.
 *
 * Returns: %TRUE if the version follows the rule, else %FALSE with %MBD_ERROR_INVALID_VERSION
 *   naming the version and the expected form
 */
gboolean
mbd_layout_check_version (MbdLayout *self,
                          MbdSuite *suite,
                          const char *identity,
                          const char *codeversion,
                          const char *version,
                          GError **error)
{
  g_return_val_if_fail (MBD_IS_LAYOUT (self), FALSE);
  g_return_val_if_fail (MBD_IS_SUITE (suite), FALSE);

  const char *template
      = suite->experimental ? self->experimental_mandatory_regex : self->mandatory_regex;
  g_autofree char *pattern = expand (template, identity, codeversion, TRUE);
  g_autoptr (GRegex) regex = g_regex_new (pattern, 0, 0, error);
  if (regex == NULL)
    return mbd_prefix_error (error, "layout %s: ", self->name);
  if (g_regex_match (regex, version, 0, NULL))
    return TRUE;
  g_autofree char *suggested = mbd_layout_get_default_version (self, suite, identity, codeversion);
  return mbd_throw (error, MBD_ERROR_INVALID_VERSION,
                    "version '%s' does not match the %s rule '%s' of layout %s in suite %s; use a "
                    "version ending like '%s'",
                    version, suite->experimental ? "experimental version" : "version", pattern,
                    self->name, suite->name, suggested);
}

char *
mbd_layout_dup_mandatory_regex (MbdLayout *self,
                                MbdSuite *suite,
                                const char *identity,
                                const char *codeversion)
{
  g_return_val_if_fail (MBD_IS_LAYOUT (self), NULL);
  g_return_val_if_fail (MBD_IS_SUITE (suite), NULL);

  return expand (suite->experimental ? self->experimental_mandatory_regex : self->mandatory_regex,
                 identity, codeversion, TRUE);
}

/**
 * mbd_layout_add_meta_distribution:
 * @self: a layout
 * @meta: a bare name such as `unstable`
 * @target: what it stands for, `<codename>-<suite>` such as `sid-unstable`
 *
 * Adds a meta distribution: uploads to @meta go to `<codename>-<repository>-<suite>`.
 */
void
mbd_layout_add_meta_distribution (MbdLayout *self, const char *meta, const char *target)
{
  g_return_if_fail (MBD_IS_LAYOUT (self));
  g_return_if_fail (meta != NULL && target != NULL);
  g_hash_table_replace (self->meta, g_strdup (meta), g_strdup (target));
}

/**
 * mbd_layout_lookup_meta_distribution:
 * @self: a layout
 * @meta: a bare name such as `unstable`
 *
 * Looks up a meta distribution.
 *
 * Returns: (nullable): the `<codename>-<suite>` it stands for, or %NULL
 */
const char *
mbd_layout_lookup_meta_distribution (MbdLayout *self, const char *meta)
{
  g_return_val_if_fail (MBD_IS_LAYOUT (self), NULL);
  return g_hash_table_lookup (self->meta, meta);
}
