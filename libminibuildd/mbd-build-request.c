/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-build-private.h"
#include "mbd-dsc.h"
#include "mbd-enums.h"
#include "mbd-file-entry.h"
#include "mbd-util-private.h"

/**
 * MbdBuildRequest:
 *
 * One build of a source package for one architecture of one distribution, with every setting
 * the build needs carried in the request itself (as mini-buildd's build requests do): the
 * distribution string, codename and architecture, whether to build the `Architecture: all`
 * packages, the APT sources (the base source, extra sources with pin priorities, the
 * repository's own suites and the instance key), the lintian, autopkgtest and piuparts modes,
 * `DEB_BUILD_OPTIONS`, `DEB_BUILD_PROFILES`, extra build dependencies and named chroot setup
 * snippets.
 *
 * Hand it to [method@Mbd.Builder.submit], which stores it and builds it: the request then moves
 * through the states of [enum@Mbd.BuildState], emitting [signal@Mbd.BuildRequest::state-changed]
 * and a [signal@Mbd.BuildRequest::log-line] for each line sbuild prints. The build directory
 * `<home>/builds/<key>/` holds the source, the log and the results.
 */

typedef struct
{
  char *apt_line;
  int priority;
  char *keyring_file; /* nullable */
} ExtraSource;

struct _MbdBuildRequest
{
  GObject parent_instance;

  char *key;
  char *source;
  char *version;
  char *codename;
  char *architecture;
  char *dsc_path;
  char *distribution;
  gboolean arch_all;
  char *base_source;
  char *base_keyring;
  GArray *extra_sources; /* ExtraSource */
  GPtrArray *internal_sources;
  char *internal_key_file;
  int internal_priority;
  MbdCheckMode lintian_mode;
  MbdCheckMode autopkgtest_mode;
  MbdCheckMode piuparts_mode;
  char *deb_build_options;
  char *deb_build_profiles;
  char **add_depends;
  char *build_dep_resolver;
  char **snippets;

  MbdBuildState state;
  char *build_dir;
  char *log_path;
  GHashTable *summary;
  char *failure;
  char *log_tail;
  char *changes_path;
  char **result_files;
};

G_DEFINE_FINAL_TYPE (MbdBuildRequest, mbd_build_request, G_TYPE_OBJECT)

enum
{
  SIGNAL_STATE_CHANGED,
  SIGNAL_LOG_LINE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

const char *const mbd_build_summary_fields[] = {
  "Status",     "Fail-Stage", "Lintian",      "Autopkgtest", "Piuparts",
  "Build-Time", "Space",      "Package-Time", "Build-Space", NULL,
};

static const char *const state_names[] = { "queued", "building", "built", "failed", "cancelled" };
static const char *const mode_names[] = { "disabled", "ignore", "errfail", "warnfail" };

/**
 * mbd_build_state_to_string:
 * @state: a build state
 *
 * Names a build state as the CLI and the JSON output spell it (`queued`, `building`, `built`,
 * `failed`, `cancelled`).
 *
 * Returns: the name
 */
const char *
mbd_build_state_to_string (MbdBuildState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), NULL);
  return state_names[state];
}

/**
 * mbd_build_state_is_final:
 * @state: a build state
 *
 * Tells whether a build in @state has ended (built, failed or cancelled).
 *
 * Returns: %TRUE for a final state
 */
gboolean
mbd_build_state_is_final (MbdBuildState state)
{
  return state >= MBD_BUILD_STATE_BUILT;
}

/**
 * mbd_check_mode_to_string:
 * @mode: a check mode
 *
 * Names a check mode as mini-buildd does (`disabled`, `ignore`, `errfail`, `warnfail`).
 *
 * Returns: the name
 */
const char *
mbd_check_mode_to_string (MbdCheckMode mode)
{
  g_return_val_if_fail ((guint) mode < G_N_ELEMENTS (mode_names), NULL);
  return mode_names[mode];
}

/**
 * mbd_check_mode_from_string:
 * @name: a mode name
 * @out_mode: (out): the mode
 *
 * Parses a check mode name (`disabled`, `ignore`, `errfail` or `warnfail`).
 *
 * Errors: %MBD_ERROR_INVALID_ARGUMENT for an unknown name.
 *
 * Returns: %TRUE if @name is a mode
 */
gboolean
mbd_check_mode_from_string (const char *name, MbdCheckMode *out_mode, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (mode_names); i++)
    if (g_strcmp0 (name, mode_names[i]) == 0)
      {
        *out_mode = i;
        return TRUE;
      }
  return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                    "check mode '%s' is unknown: use disabled, ignore, errfail or warnfail",
                    name != NULL ? name : "");
}

static void
extra_source_clear (gpointer data)
{
  ExtraSource *extra = data;

  g_free (extra->apt_line);
  g_free (extra->keyring_file);
}

static void
mbd_build_request_finalize (GObject *object)
{
  MbdBuildRequest *self = MBD_BUILD_REQUEST (object);

  g_free (self->key);
  g_free (self->source);
  g_free (self->version);
  g_free (self->codename);
  g_free (self->architecture);
  g_free (self->dsc_path);
  g_free (self->distribution);
  g_free (self->base_source);
  g_free (self->base_keyring);
  g_array_unref (self->extra_sources);
  g_ptr_array_unref (self->internal_sources);
  g_free (self->internal_key_file);
  g_free (self->deb_build_options);
  g_free (self->deb_build_profiles);
  g_strfreev (self->add_depends);
  g_free (self->build_dep_resolver);
  g_strfreev (self->snippets);
  g_free (self->build_dir);
  g_free (self->log_path);
  g_clear_pointer (&self->summary, g_hash_table_unref);
  g_free (self->failure);
  g_free (self->log_tail);
  g_free (self->changes_path);
  g_strfreev (self->result_files);
  G_OBJECT_CLASS (mbd_build_request_parent_class)->finalize (object);
}

static void
mbd_build_request_class_init (MbdBuildRequestClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mbd_build_request_finalize;

  /**
   * MbdBuildRequest::state-changed:
   * @self: the request
   * @state: the new state
   *
   * Emitted on the builder's main context whenever the request moves to another state.
   */
  signals[SIGNAL_STATE_CHANGED]
      = g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, MBD_TYPE_BUILD_STATE);
  /**
   * MbdBuildRequest::log-line:
   * @self: the request
   * @line: one line of sbuild's output, without the line end
   *
   * Emitted on the builder's main context for each line of the build log as sbuild prints it.
   */
  signals[SIGNAL_LOG_LINE] = g_signal_new ("log-line", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
mbd_build_request_init (MbdBuildRequest *self)
{
  self->extra_sources = g_array_new (FALSE, TRUE, sizeof (ExtraSource));
  g_array_set_clear_func (self->extra_sources, extra_source_clear);
  self->internal_sources = g_ptr_array_new_with_free_func (g_free);
  self->internal_priority = 1;
  self->lintian_mode = MBD_CHECK_MODE_ERRFAIL;
  self->build_dep_resolver = g_strdup ("apt");
  self->add_depends = g_new0 (char *, 1);
  self->snippets = g_new0 (char *, 1);
}

static gboolean
name_is_safe (const char *what, const char *value, GError **error)
{
  if (value == NULL || value[0] == '\0' || value[0] == '-')
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s '%s' is empty or starts with '-'",
                      what, value != NULL ? value : "");
  for (const char *p = value; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("+-.~_", *p) == NULL)
      return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s '%s' has the character '%c'", what,
                        value, *p);
  return TRUE;
}

/**
 * mbd_build_request_new_from_dsc:
 * @dsc_path: a `.dsc` file; the files it lists must be beside it
 * @codename: the codename of the chroot to build in, such as `bookworm`
 * @architecture: the architecture to build for, such as `amd64`
 *
 * Creates a build request for a source package. The distribution string defaults to
 * @codename, lintian to %MBD_CHECK_MODE_ERRFAIL, autopkgtest and piuparts to
 * %MBD_CHECK_MODE_DISABLED, arch-all to %FALSE and the dependency resolver to `apt`.
 *
 * Errors: the errors of [ctor@Mbd.Dsc.new_from_file] and [method@Mbd.Dsc.verify_files] (a file
 * listed in the .dsc is missing or does not match), %MBD_ERROR_INVALID_ARGUMENT for a codename or
 * architecture that is not a plain name.
 *
 * Returns: (transfer full): a new request, or %NULL with @error set
 */
MbdBuildRequest *
mbd_build_request_new_from_dsc (const char *dsc_path,
                                const char *codename,
                                const char *architecture,
                                GError **error)
{
  g_return_val_if_fail (dsc_path != NULL, NULL);

  if (!name_is_safe ("codename", codename, error)
      || !name_is_safe ("architecture", architecture, error))
    return NULL;
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_file (dsc_path, error);
  if (dsc == NULL)
    return NULL;
  g_autofree char *dir = g_path_get_dirname (dsc_path);
  if (!mbd_dsc_verify_files (dsc, dir, NULL, error))
    return NULL;

  MbdBuildRequest *self = g_object_new (MBD_TYPE_BUILD_REQUEST, NULL);
  self->source = g_strdup (mbd_dsc_get_source (dsc));
  self->version = g_strdup (mbd_dsc_get_version (dsc));
  self->codename = g_strdup (codename);
  self->architecture = g_strdup (architecture);
  self->distribution = g_strdup (codename);
  if (g_path_is_absolute (dsc_path))
    self->dsc_path = g_strdup (dsc_path);
  else
    {
      g_autofree char *cwd = g_get_current_dir ();
      self->dsc_path = g_build_filename (cwd, dsc_path, NULL);
    }
  return self;
}

char **
mbd_build_request_dup_source_files (MbdBuildRequest *self)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *name = g_path_get_basename (self->dsc_path);

  g_strv_builder_add (builder, name);
  g_autoptr (MbdDsc) dsc = mbd_dsc_new_from_file (self->dsc_path, NULL);
  if (dsc != NULL)
    {
      g_autoptr (GPtrArray) files = mbd_dsc_get_files (dsc);
      for (guint i = 0; i < files->len; i++)
        g_strv_builder_add (builder, mbd_file_entry_get_name (files->pdata[i]));
    }
  return g_strv_builder_end (builder);
}

/**
 * mbd_build_request_get_key:
 * @self: a request
 *
 * Gives the key the builder assigned, `<source>_<version>_<arch>-<id>`, which names the build
 * directory and identifies the build in the CLI and the database.
 *
 * Returns: (nullable): the key, or %NULL before [method@Mbd.Builder.submit]
 */
const char *
mbd_build_request_get_key (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->key;
}

/**
 * mbd_build_request_get_source:
 * @self: a request
 *
 * Gives the source package name.
 *
 * Returns: the source package name
 */
const char *
mbd_build_request_get_source (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->source;
}

/**
 * mbd_build_request_get_version:
 * @self: a request
 *
 * Gives the source package version.
 *
 * Returns: the version
 */
const char *
mbd_build_request_get_version (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->version;
}

/**
 * mbd_build_request_get_codename:
 * @self: a request
 *
 * Gives the codename of the chroot the build runs in.
 *
 * Returns: the codename
 */
const char *
mbd_build_request_get_codename (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->codename;
}

/**
 * mbd_build_request_get_architecture:
 * @self: a request
 *
 * Gives the architecture the build is for.
 *
 * Returns: the architecture
 */
const char *
mbd_build_request_get_architecture (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->architecture;
}

/**
 * mbd_build_request_get_dsc_path:
 * @self: a request
 *
 * Gives the `.dsc` the build uses: the given one until the request is submitted, then the copy
 * in the build directory.
 *
 * Returns: the path of the .dsc
 */
const char *
mbd_build_request_get_dsc_path (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->dsc_path;
}

/**
 * mbd_build_request_get_distribution:
 * @self: a request
 *
 * Gives the distribution string the results carry (the `.changes` `Distribution`), such as
 * `bookworm-test-unstable`.
 *
 * Returns: the distribution string
 */
const char *
mbd_build_request_get_distribution (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->distribution;
}

/**
 * mbd_build_request_set_distribution:
 * @self: a request not yet submitted
 * @distribution: the distribution string for sbuild's `--dist`
 *
 * Sets the distribution string the results carry.
 */
void
mbd_build_request_set_distribution (MbdBuildRequest *self, const char *distribution)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  g_return_if_fail (distribution != NULL);
  g_free (self->distribution);
  self->distribution = g_strdup (distribution);
}

/**
 * mbd_build_request_get_arch_all:
 * @self: a request
 *
 * Tells whether this build also builds the `Architecture: all` packages.
 *
 * Returns: %TRUE if it does
 */
gboolean
mbd_build_request_get_arch_all (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), FALSE);
  return self->arch_all;
}

/**
 * mbd_build_request_set_arch_all:
 * @self: a request not yet submitted
 * @arch_all: whether to build the `Architecture: all` packages
 *
 * Chooses whether this build makes the `Architecture: all` packages (`--arch-all`); a
 * distribution does that on exactly one architecture.
 */
void
mbd_build_request_set_arch_all (MbdBuildRequest *self, gboolean arch_all)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  self->arch_all = arch_all;
}

/**
 * mbd_build_request_set_base_source:
 * @self: a request not yet submitted
 * @apt_line: (nullable): the base source as a one-line APT source (`deb URI SUITE COMPONENTS`),
 *   or %NULL to keep the chroot's own
 * @keyring_file: (nullable): an OpenPGP keyring (binary or armored) that signs it
 *
 * Replaces the chroot's APT source with the distribution's base source.
 */
void
mbd_build_request_set_base_source (MbdBuildRequest *self,
                                   const char *apt_line,
                                   const char *keyring_file)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  g_free (self->base_source);
  g_free (self->base_keyring);
  self->base_source = g_strdup (apt_line);
  self->base_keyring = g_strdup (keyring_file);
}

/**
 * mbd_build_request_add_extra_source:
 * @self: a request not yet submitted
 * @apt_line: a one-line APT source (`deb URI SUITE COMPONENTS`)
 * @priority: its APT pin priority
 * @keyring_file: (nullable): an OpenPGP keyring that signs it
 *
 * Adds an extra source (security, updates, backports) with its pin priority.
 */
void
mbd_build_request_add_extra_source (MbdBuildRequest *self,
                                    const char *apt_line,
                                    int priority,
                                    const char *keyring_file)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  g_return_if_fail (apt_line != NULL);
  ExtraSource extra = { g_strdup (apt_line), priority, g_strdup (keyring_file) };
  g_array_append_val (self->extra_sources, extra);
}

/**
 * mbd_build_request_add_internal_source:
 * @self: a request not yet submitted
 * @apt_line: a one-line APT source of one of the repository's own suites
 *
 * Adds a suite of the repository the result goes to, so that packages built before can satisfy
 * build dependencies. It is signed by the key of [method@Mbd.BuildRequest.set_internal_key_file]
 * and pinned to the internal priority.
 */
void
mbd_build_request_add_internal_source (MbdBuildRequest *self, const char *apt_line)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  g_return_if_fail (apt_line != NULL);
  g_ptr_array_add (self->internal_sources, g_strdup (apt_line));
}

/**
 * mbd_build_request_set_internal_key_file:
 * @self: a request not yet submitted
 * @key_file: (nullable): the instance's public key (binary or armored)
 *
 * Sets the key that signs the repository's own suites.
 */
void
mbd_build_request_set_internal_key_file (MbdBuildRequest *self, const char *key_file)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  g_free (self->internal_key_file);
  self->internal_key_file = g_strdup (key_file);
}

/**
 * mbd_build_request_set_internal_priority:
 * @self: a request not yet submitted
 * @priority: the APT pin priority of the repository's own suites (mini-buildd's default: 1)
 *
 * Sets how strongly APT prefers the repository's own packages.
 */
void
mbd_build_request_set_internal_priority (MbdBuildRequest *self, int priority)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  self->internal_priority = priority;
}

/**
 * mbd_build_request_get_lintian_mode:
 * @self: a request
 *
 * Gives how lintian takes part in the build.
 *
 * Returns: the lintian mode
 */
MbdCheckMode
mbd_build_request_get_lintian_mode (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), MBD_CHECK_MODE_DISABLED);
  return self->lintian_mode;
}

/**
 * mbd_build_request_set_lintian_mode:
 * @self: a request not yet submitted
 * @mode: the lintian mode
 *
 * Sets how lintian takes part in the build.
 */
void
mbd_build_request_set_lintian_mode (MbdBuildRequest *self, MbdCheckMode mode)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  self->lintian_mode = mode;
}

/**
 * mbd_build_request_set_autopkgtest_mode:
 * @self: a request not yet submitted
 * @mode: the autopkgtest mode
 *
 * Sets how autopkgtest takes part in the build (it needs the schroot chroot backend).
 */
void
mbd_build_request_set_autopkgtest_mode (MbdBuildRequest *self, MbdCheckMode mode)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  self->autopkgtest_mode = mode;
}

/**
 * mbd_build_request_set_piuparts_mode:
 * @self: a request not yet submitted
 * @mode: the piuparts mode
 *
 * Sets how piuparts takes part in the build (it needs the schroot chroot backend).
 */
void
mbd_build_request_set_piuparts_mode (MbdBuildRequest *self, MbdCheckMode mode)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  self->piuparts_mode = mode;
}

/**
 * mbd_build_request_set_deb_build_options:
 * @self: a request not yet submitted
 * @options: (nullable): the value of `DEB_BUILD_OPTIONS`, such as `nocheck parallel=2`
 *
 * Sets `DEB_BUILD_OPTIONS` for the build.
 */
void
mbd_build_request_set_deb_build_options (MbdBuildRequest *self, const char *options)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  g_free (self->deb_build_options);
  self->deb_build_options = g_strdup (options);
}

/**
 * mbd_build_request_set_deb_build_profiles:
 * @self: a request not yet submitted
 * @profiles: (nullable): build profiles, space separated, such as `nocheck nodoc`
 *
 * Sets the build profiles (`DEB_BUILD_PROFILES`, sbuild's `--profiles`).
 */
void
mbd_build_request_set_deb_build_profiles (MbdBuildRequest *self, const char *profiles)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  g_free (self->deb_build_profiles);
  self->deb_build_profiles = g_strdup (profiles);
}

/**
 * mbd_build_request_set_add_depends:
 * @self: a request not yet submitted
 * @depends: (array zero-terminated=1) (nullable): extra build dependencies, each a
 *   dependency relation such as `libfoo-dev (>= 1.2)`
 *
 * Sets build dependencies added to the source's own (sbuild's `--add-depends`).
 */
void
mbd_build_request_set_add_depends (MbdBuildRequest *self, const char *const *depends)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  g_strfreev (self->add_depends);
  self->add_depends = depends != NULL ? g_strdupv ((char **) depends) : g_new0 (char *, 1);
}

/**
 * mbd_build_request_set_build_dep_resolver:
 * @self: a request not yet submitted
 * @resolver: `apt` (the default), `aptitude` or another sbuild resolver
 *
 * Chooses sbuild's build dependency resolver. mini-buildd defaults to `aptitude`; mbd uses
 * `apt`, as Debian's buildds do, because sbuild's aptitude resolver also needs aptitude on the
 * host.
 */
void
mbd_build_request_set_build_dep_resolver (MbdBuildRequest *self, const char *resolver)
{
  g_return_if_fail (MBD_IS_BUILD_REQUEST (self));
  g_return_if_fail (resolver != NULL);
  g_free (self->build_dep_resolver);
  self->build_dep_resolver = g_strdup (resolver);
}

/* The library of named chroot setup snippets. Each runs as root inside the chroot, after the APT
 * setup and before sbuild's own apt update; "stage" is the sbuild external command hook. */
typedef struct
{
  const char *name;
  const char *stage;
  const char *description;
  const char *script;
} Snippet;

static const Snippet snippets[] = {
  { "eatmydata", "chroot-setup-commands",
    "install eatmydata and preload it, so dpkg and the build skip fsync",
    "apt-get update -q -o Acquire::Retries=3 >/dev/null && "
    "DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends eatmydata "
    ">/dev/null && for l in /usr/lib/*/libeatmydata.so /usr/lib/libeatmydata.so; do "
    "[ -e \"$l\" ] && echo \"$l\" >> /etc/ld.so.preload && break; done; "
    "echo 'mbd: eatmydata preloaded'" },
  { "ccache", "chroot-setup-commands",
    "install ccache and put its compiler wrappers first in PATH for the build",
    "apt-get update -q -o Acquire::Retries=3 >/dev/null && "
    "DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends ccache "
    ">/dev/null && echo 'mbd: ccache installed'" },
};

static const Snippet *
find_snippet (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (snippets); i++)
    if (strcmp (snippets[i].name, name) == 0)
      return &snippets[i];
  return NULL;
}

/**
 * mbd_build_list_snippets:
 *
 * Lists the names of the chroot setup snippets a request may name (such as `eatmydata` and
 * `ccache`).
 *
 * Returns: (transfer full) (array zero-terminated=1): the snippet names
 */
char **
mbd_build_list_snippets (void)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < G_N_ELEMENTS (snippets); i++)
    g_strv_builder_add (builder, snippets[i].name);
  return g_strv_builder_end (builder);
}

/**
 * mbd_build_request_set_snippets:
 * @self: a request not yet submitted
 * @names: (array zero-terminated=1) (nullable): names of chroot setup snippets, run in order
 *
 * Chooses chroot setup snippets from the library (see [func@Mbd.build_list_snippets]).
 *
 * Errors: %MBD_ERROR_NOT_FOUND naming the first unknown snippet (nothing is changed then).
 *
 * Returns: %TRUE if every name is a snippet
 */
gboolean
mbd_build_request_set_snippets (MbdBuildRequest *self, const char *const *names, GError **error)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), FALSE);

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    if (find_snippet (names[i]) == NULL)
      {
        g_auto (GStrv) known = mbd_build_list_snippets ();
        g_autofree char *list = g_strjoinv (", ", known);
        return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                          "chroot setup snippet '%s' is unknown; known snippets: %s", names[i],
                          list);
      }
  g_strfreev (self->snippets);
  self->snippets = names != NULL ? g_strdupv ((char **) names) : g_new0 (char *, 1);
  return TRUE;
}

/**
 * mbd_build_request_get_state:
 * @self: a request
 *
 * Gives the request's state.
 *
 * Returns: the state
 */
MbdBuildState
mbd_build_request_get_state (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), MBD_BUILD_STATE_FAILED);
  return self->state;
}

/**
 * mbd_build_request_get_build_dir:
 * @self: a request
 *
 * Gives the build directory, `<home>/builds/<key>/`, with the source, the log and the results.
 *
 * Returns: (nullable): the directory, or %NULL before the request is submitted
 */
const char *
mbd_build_request_get_build_dir (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->build_dir;
}

/**
 * mbd_build_request_get_log_path:
 * @self: a request
 *
 * Gives the build log, `<build dir>/<source>_<version>_<arch>.buildlog`.
 *
 * Returns: (nullable): the log path, or %NULL before the request is submitted
 */
const char *
mbd_build_request_get_log_path (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->log_path;
}

/**
 * mbd_build_request_get_summary:
 * @self: a request
 * @field: a field of sbuild's summary: `Status`, `Fail-Stage`, `Lintian`, `Autopkgtest`,
 *   `Piuparts`, `Build-Time`, `Space`, `Package-Time` or `Build-Space`
 *
 * Gives a value of the summary sbuild printed at the end of the build.
 *
 * Returns: (nullable): the value, or %NULL if sbuild did not print the field
 */
const char *
mbd_build_request_get_summary (MbdBuildRequest *self, const char *field)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  if (self->summary == NULL)
    return NULL;
  return g_hash_table_lookup (self->summary, field);
}

/**
 * mbd_build_request_get_failure:
 * @self: a request
 *
 * Says why a build failed or was cancelled.
 *
 * Returns: (nullable): the reason, or %NULL unless the state is failed or cancelled
 */
const char *
mbd_build_request_get_failure (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->failure;
}

/**
 * mbd_build_request_get_log_tail:
 * @self: a request
 *
 * Gives the last lines of the build log of a failed build, to show with the failure.
 *
 * Returns: (nullable): the log tail, or %NULL unless the build failed
 */
const char *
mbd_build_request_get_log_tail (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->log_tail;
}

/**
 * mbd_build_request_get_changes_path:
 * @self: a request
 *
 * Gives the `.changes` of the results, signed with the instance key.
 *
 * Returns: (nullable): the path, or %NULL unless sbuild produced one
 */
const char *
mbd_build_request_get_changes_path (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  return self->changes_path;
}

/**
 * mbd_build_request_dup_result_files:
 * @self: a request
 *
 * Lists the files the build produced in the build directory: the `.changes`, the `.deb`s and the
 * `.buildinfo`.
 *
 * Returns: (transfer full) (array zero-terminated=1): full paths, empty before a result
 */
char **
mbd_build_request_dup_result_files (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);
  if (self->result_files == NULL)
    return g_new0 (char *, 1);
  return g_strdupv (self->result_files);
}

void
mbd_build_request_set_key (MbdBuildRequest *self, const char *key, const char *builds_dir)
{
  g_free (self->key);
  g_free (self->build_dir);
  g_free (self->log_path);
  self->key = g_strdup (key);
  self->build_dir = g_build_filename (builds_dir, key, NULL);
  const char *colon = strchr (self->version, ':');
  g_autofree char *log_name
      = g_strdup_printf ("%s_%s_%s.buildlog", self->source,
                         colon != NULL ? colon + 1 : self->version, self->architecture);
  self->log_path = g_build_filename (self->build_dir, log_name, NULL);
}

void
mbd_build_request_set_state (MbdBuildRequest *self, MbdBuildState state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, state);
}

void
mbd_build_request_set_state_silently (MbdBuildRequest *self, MbdBuildState state)
{
  self->state = state;
}

void
mbd_build_request_notify_state (MbdBuildRequest *self)
{
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, self->state);
}

void
mbd_build_request_set_dsc_path (MbdBuildRequest *self, const char *dsc_path)
{
  g_free (self->dsc_path);
  self->dsc_path = g_strdup (dsc_path);
}

MbdCheckMode
mbd_build_request_peek_autopkgtest_mode (MbdBuildRequest *self)
{
  return self->autopkgtest_mode;
}

MbdCheckMode
mbd_build_request_peek_piuparts_mode (MbdBuildRequest *self)
{
  return self->piuparts_mode;
}

const char *
mbd_build_request_peek_deb_build_options (MbdBuildRequest *self)
{
  return self->deb_build_options;
}

void
mbd_build_request_emit_log_line (MbdBuildRequest *self, const char *line)
{
  g_signal_emit (self, signals[SIGNAL_LOG_LINE], 0, line);
}

void
mbd_build_request_set_result (MbdBuildRequest *self,
                              GHashTable *summary,
                              const char *failure,
                              const char *log_tail,
                              const char *changes_path,
                              const char *const *files)
{
  g_clear_pointer (&self->summary, g_hash_table_unref);
  if (summary != NULL)
    self->summary = g_hash_table_ref (summary);
  g_free (self->failure);
  self->failure = g_strdup (failure);
  g_free (self->log_tail);
  self->log_tail = g_strdup (log_tail);
  g_free (self->changes_path);
  self->changes_path = g_strdup (changes_path);
  g_strfreev (self->result_files);
  self->result_files = files != NULL ? g_strdupv ((char **) files) : NULL;
}

/* Summary, evaluation */

GHashTable *
mbd_build_parse_summary (const char *log_text)
{
  GHashTable *summary = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) lines = g_strsplit (log_text, "\n", -1);
  gboolean in_summary = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      if (line[0] == '|')
        {
          g_autofree char *banner = g_strstrip (g_strndup (line + 1, strcspn (line + 1, "|")));
          in_summary = strcmp (banner, "Summary") == 0;
          continue;
        }
      if (!in_summary)
        continue;
      const char *colon = strstr (line, ": ");
      if (colon == NULL)
        continue;
      g_autofree char *field = g_strndup (line, colon - line);
      if (g_strv_contains (mbd_build_summary_fields, field))
        {
          g_autofree char *value = g_strstrip (g_strdup (colon + 2));
          g_hash_table_replace (summary, g_steal_pointer (&field), g_steal_pointer (&value));
        }
    }
  return summary;
}

/* mini-buildd's rule for one check's status under its mode. */
static gboolean
check_passes (const char *status, MbdCheckMode mode)
{
  if (mode == MBD_CHECK_MODE_DISABLED || mode == MBD_CHECK_MODE_IGNORE || status == NULL)
    return TRUE;
  if (g_strcmp0 (status, "pass") == 0 || g_strcmp0 (status, "info") == 0)
    return TRUE;
  if (g_strcmp0 (status, "warn") == 0 || g_strcmp0 (status, "no tests") == 0)
    return mode != MBD_CHECK_MODE_WARNFAIL;
  return FALSE;
}

gboolean
mbd_build_evaluate (GHashTable *summary,
                    int exit_status,
                    MbdCheckMode lintian,
                    MbdCheckMode autopkgtest,
                    MbdCheckMode piuparts,
                    char **out_failure)
{
  const char *status = g_hash_table_lookup (summary, "Status");

  *out_failure = NULL;
  if (status == NULL)
    {
      *out_failure = g_strdup_printf (
          "sbuild ended with exit status %d without a summary (no Status line)", exit_status);
      return FALSE;
    }
  if (strcmp (status, "successful") != 0 && strcmp (status, "skipped") != 0)
    {
      const char *stage = g_hash_table_lookup (summary, "Fail-Stage");
      *out_failure = g_strdup_printf ("sbuild Status: %s (Fail-Stage: %s)", status,
                                      stage != NULL ? stage : "unknown");
      return FALSE;
    }
  struct
  {
    const char *field;
    MbdCheckMode mode;
  } checks[] = { { "Lintian", lintian }, { "Autopkgtest", autopkgtest }, { "Piuparts", piuparts } };
  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      const char *value = g_hash_table_lookup (summary, checks[i].field);
      if (!check_passes (value, checks[i].mode))
        {
          *out_failure = g_strdup_printf ("%s: %s fails the build in mode %s", checks[i].field,
                                          value, mbd_check_mode_to_string (checks[i].mode));
          return FALSE;
        }
    }
  return TRUE;
}

char *
mbd_build_text_tail (const char *text, guint n_lines)
{
  gsize len = strlen (text);

  while (len > 0 && text[len - 1] == '\n')
    len--;
  gsize start = len;
  guint seen = 0;
  while (start > 0)
    {
      if (text[start - 1] == '\n' && ++seen == n_lines)
        break;
      start--;
    }
  return g_strndup (text + start, len - start);
}

/* Persistence */

static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static char *
builder_to_string (JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

char *
mbd_build_request_settings_to_json (MbdBuildRequest *self)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  add_string (builder, "dsc", self->dsc_path);
  json_builder_set_member_name (builder, "arch-all");
  json_builder_add_boolean_value (builder, self->arch_all);
  add_string (builder, "base-source", self->base_source);
  add_string (builder, "base-keyring", self->base_keyring);
  json_builder_set_member_name (builder, "extra-sources");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->extra_sources->len; i++)
    {
      ExtraSource *extra = &g_array_index (self->extra_sources, ExtraSource, i);
      json_builder_begin_object (builder);
      add_string (builder, "line", extra->apt_line);
      json_builder_set_member_name (builder, "priority");
      json_builder_add_int_value (builder, extra->priority);
      add_string (builder, "keyring", extra->keyring_file);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  g_ptr_array_add (self->internal_sources, NULL);
  mbd_json_add_strv (builder, "internal-sources",
                     (const char *const *) self->internal_sources->pdata);
  g_ptr_array_remove_index (self->internal_sources, self->internal_sources->len - 1);
  add_string (builder, "internal-key", self->internal_key_file);
  json_builder_set_member_name (builder, "internal-priority");
  json_builder_add_int_value (builder, self->internal_priority);
  add_string (builder, "lintian", mbd_check_mode_to_string (self->lintian_mode));
  add_string (builder, "autopkgtest", mbd_check_mode_to_string (self->autopkgtest_mode));
  add_string (builder, "piuparts", mbd_check_mode_to_string (self->piuparts_mode));
  add_string (builder, "deb-build-options", self->deb_build_options);
  add_string (builder, "deb-build-profiles", self->deb_build_profiles);
  mbd_json_add_strv (builder, "add-depends", (const char *const *) self->add_depends);
  add_string (builder, "build-dep-resolver", self->build_dep_resolver);
  mbd_json_add_strv (builder, "snippets", (const char *const *) self->snippets);
  json_builder_end_object (builder);
  return builder_to_string (builder);
}

char *
mbd_build_request_result_to_json (MbdBuildRequest *self)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "summary");
  json_builder_begin_object (builder);
  for (guint i = 0; self->summary != NULL && mbd_build_summary_fields[i] != NULL; i++)
    {
      const char *value = g_hash_table_lookup (self->summary, mbd_build_summary_fields[i]);
      if (value != NULL)
        add_string (builder, mbd_build_summary_fields[i], value);
    }
  json_builder_end_object (builder);
  add_string (builder, "failure", self->failure);
  add_string (builder, "log-tail", self->log_tail);
  add_string (builder, "changes", self->changes_path);
  mbd_json_add_strv (builder, "files", (const char *const *) self->result_files);
  json_builder_end_object (builder);
  return builder_to_string (builder);
}

static char *
member_dup_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node) || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;
  return g_strdup (json_node_get_string (node));
}

static char **
member_dup_strv (JsonObject *object, const char *name)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  JsonNode *node = json_object_get_member (object, name);

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        g_strv_builder_add (builder, json_array_get_string_element (array, i));
    }
  return g_strv_builder_end (builder);
}

static JsonObject *
parse_object (const char *text, const char *what, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;

  if (!json_parser_load_from_data (parser, text, -1, &local_error)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      mbd_throw (error, MBD_ERROR_DATABASE, "%s is not a JSON object: %s", what,
                 local_error != NULL ? local_error->message : "wrong type");
      return NULL;
    }
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static MbdCheckMode
mode_member (JsonObject *object, const char *name, MbdCheckMode fallback)
{
  g_autofree char *value = member_dup_string (object, name);
  MbdCheckMode mode;

  if (value == NULL || !mbd_check_mode_from_string (value, &mode, NULL))
    return fallback;
  return mode;
}

static const char *
column_text (sqlite3_stmt *stmt, int column)
{
  return (const char *) sqlite3_column_text (stmt, column);
}

MbdBuildRequest *
mbd_build_request_new_from_row (sqlite3_stmt *stmt, const char *builds_dir, GError **error)
{
  const char *key = column_text (stmt, 0);
  g_autofree char *what = g_strdup_printf ("build %s: stored request", key);
  g_autoptr (JsonObject) settings = parse_object (column_text (stmt, 7), what, error);

  if (settings == NULL)
    return NULL;

  g_autoptr (MbdBuildRequest) self = g_object_new (MBD_TYPE_BUILD_REQUEST, NULL);
  self->source = g_strdup (column_text (stmt, 1));
  self->version = g_strdup (column_text (stmt, 2));
  self->distribution = g_strdup (column_text (stmt, 3));
  self->codename = g_strdup (column_text (stmt, 4));
  self->architecture = g_strdup (column_text (stmt, 5));
  self->state = sqlite3_column_int (stmt, 6);
  mbd_build_request_set_key (self, key, builds_dir);

  self->dsc_path = member_dup_string (settings, "dsc");
  self->arch_all = json_object_get_boolean_member_with_default (settings, "arch-all", FALSE);
  self->base_source = member_dup_string (settings, "base-source");
  self->base_keyring = member_dup_string (settings, "base-keyring");
  JsonNode *extras = json_object_get_member (settings, "extra-sources");
  if (extras != NULL && JSON_NODE_HOLDS_ARRAY (extras))
    {
      JsonArray *array = json_node_get_array (extras);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonObject *extra = json_array_get_object_element (array, i);
          if (extra == NULL)
            continue;
          g_autofree char *line = member_dup_string (extra, "line");
          g_autofree char *keyring = member_dup_string (extra, "keyring");
          if (line != NULL)
            mbd_build_request_add_extra_source (
                self, line, json_object_get_int_member_with_default (extra, "priority", 500),
                keyring);
        }
    }
  g_auto (GStrv) internal = member_dup_strv (settings, "internal-sources");
  for (guint i = 0; internal[i] != NULL; i++)
    mbd_build_request_add_internal_source (self, internal[i]);
  self->internal_key_file = member_dup_string (settings, "internal-key");
  self->internal_priority
      = json_object_get_int_member_with_default (settings, "internal-priority", 1);
  self->lintian_mode = mode_member (settings, "lintian", MBD_CHECK_MODE_ERRFAIL);
  self->autopkgtest_mode = mode_member (settings, "autopkgtest", MBD_CHECK_MODE_DISABLED);
  self->piuparts_mode = mode_member (settings, "piuparts", MBD_CHECK_MODE_DISABLED);
  self->deb_build_options = member_dup_string (settings, "deb-build-options");
  self->deb_build_profiles = member_dup_string (settings, "deb-build-profiles");
  g_strfreev (self->add_depends);
  self->add_depends = member_dup_strv (settings, "add-depends");
  g_autofree char *resolver = member_dup_string (settings, "build-dep-resolver");
  if (resolver != NULL)
    mbd_build_request_set_build_dep_resolver (self, resolver);
  g_strfreev (self->snippets);
  self->snippets = member_dup_strv (settings, "snippets");

  const char *result_text = column_text (stmt, 8);
  if (result_text != NULL)
    {
      g_free (what);
      what = g_strdup_printf ("build %s: stored result", key);
      g_autoptr (JsonObject) result = parse_object (result_text, what, error);
      if (result == NULL)
        return NULL;
      g_autoptr (GHashTable) summary
                 = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      JsonObject *fields = json_object_get_object_member (result, "summary");
      for (guint i = 0; fields != NULL && mbd_build_summary_fields[i] != NULL; i++)
        {
          char *value = member_dup_string (fields, mbd_build_summary_fields[i]);
          if (value != NULL)
            g_hash_table_insert (summary, g_strdup (mbd_build_summary_fields[i]), value);
        }
      g_autofree char *failure = member_dup_string (result, "failure");
      g_autofree char *tail = member_dup_string (result, "log-tail");
      g_autofree char *changes = member_dup_string (result, "changes");
      g_auto (GStrv) files = member_dup_strv (result, "files");
      mbd_build_request_set_result (self, summary, failure, tail, changes,
                                    (const char *const *) files);
    }
  return g_steal_pointer (&self);
}

/**
 * mbd_build_request_to_json:
 * @self: a request
 *
 * Describes the request and its result as one JSON object (what `mbd build ls --json` prints):
 * `key`, `source`, `version`, `distribution`, `codename`, `architecture`, `state`, `build_dir`,
 * `log`, `summary` (sbuild's summary fields), `failure`, `log_tail`, `changes` and `files`.
 *
 * Returns: (transfer full): the JSON text
 */
char *
mbd_build_request_to_json (MbdBuildRequest *self)
{
  g_return_val_if_fail (MBD_IS_BUILD_REQUEST (self), NULL);

  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  add_string (builder, "key", self->key);
  add_string (builder, "source", self->source);
  add_string (builder, "version", self->version);
  add_string (builder, "distribution", self->distribution);
  add_string (builder, "codename", self->codename);
  add_string (builder, "architecture", self->architecture);
  add_string (builder, "state", mbd_build_state_to_string (self->state));
  add_string (builder, "build_dir", self->build_dir);
  add_string (builder, "log", self->log_path);
  json_builder_set_member_name (builder, "summary");
  json_builder_begin_object (builder);
  for (guint i = 0; self->summary != NULL && mbd_build_summary_fields[i] != NULL; i++)
    {
      const char *value = g_hash_table_lookup (self->summary, mbd_build_summary_fields[i]);
      if (value != NULL)
        add_string (builder, mbd_build_summary_fields[i], value);
    }
  json_builder_end_object (builder);
  add_string (builder, "failure", self->failure);
  add_string (builder, "log_tail", self->log_tail);
  add_string (builder, "changes", self->changes_path);
  mbd_json_add_strv (builder, "files", (const char *const *) self->result_files);
  json_builder_end_object (builder);
  return builder_to_string (builder);
}

/* sbuild command line and configuration */

/* No --fail-on for warnfail (mini-buildd passes one): lintian would exit non-zero on a warning
 * and sbuild report "error"; the mode is applied to sbuild's "warn" instead. The distribution
 * tags differ whenever a package is built for another distribution than its changelog names,
 * which is what a build for a suite does. */
#define LINTIAN_SUPPRESS                                                                           \
  "--suppress-tags=bad-distribution-in-changes-file,distribution-and-changes-mismatch"

gboolean
mbd_build_host_lintian_applies (MbdBuildRequest *self, const char *host_codename)
{
  return self->lintian_mode != MBD_CHECK_MODE_DISABLED && host_codename != NULL
         && g_strcmp0 (host_codename, self->codename) == 0;
}

char **
mbd_build_host_lintian_argv (const char *lintian, const char *changes, const char *dsc)
{
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();

  g_strv_builder_add_many (argv, lintian, LINTIAN_SUPPRESS, changes, NULL);
  if (dsc != NULL)
    g_strv_builder_add (argv, dsc);
  return g_strv_builder_end (argv);
}

const char *
mbd_build_lintian_status (int exit_status, gboolean saw_info, gboolean saw_warn)
{
  if (exit_status == 1)
    return "fail";
  if (exit_status != 0)
    return "error";
  return saw_warn ? "warn" : saw_info ? "info" : "pass";
}

char **
mbd_build_sbuild_argv (MbdBuildRequest *self,
                       const MbdBuildChroot *chroot,
                       const char *workdir,
                       gboolean lintian_in_session,
                       GError **error)
{
  gboolean schroot = FALSE;
  const char *chroot_name = NULL;

  for (guint i = 0; chroot->sbuild_args[i] != NULL; i++)
    {
      if (strcmp (chroot->sbuild_args[i], "--chroot-mode=schroot") == 0)
        schroot = TRUE;
      if (g_str_has_prefix (chroot->sbuild_args[i], "--chroot="))
        chroot_name = chroot->sbuild_args[i] + strlen ("--chroot=");
    }
  if (!schroot
      && (self->autopkgtest_mode != MBD_CHECK_MODE_DISABLED
          || self->piuparts_mode != MBD_CHECK_MODE_DISABLED))
    {
      mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                 "build %s: autopkgtest and piuparts need the schroot chroot backend; the chroot "
                 "for %s/%s is not a schroot",
                 self->key, self->codename, self->architecture);
      return NULL;
    }

  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_strv_builder_add (argv, "sbuild");
  g_strv_builder_addv (argv, (const char **) chroot->sbuild_args);
  g_strv_builder_add_many (argv, "--nolog", "--no-source", "--log-external-command-output",
                           "--log-external-command-error", NULL);
  mbd_strv_builder_take (argv, g_strdup_printf ("--dist=%s", self->distribution));
  mbd_strv_builder_take (argv, g_strdup_printf ("--arch=%s", self->architecture));
  g_strv_builder_add (argv, self->arch_all ? "--arch-all" : "--no-arch-all");
  mbd_strv_builder_take (argv,
                         g_strdup_printf ("--build-dep-resolver=%s", self->build_dep_resolver));
  mbd_strv_builder_take (argv, g_strdup_printf ("--build-dir=%s", workdir));
  for (guint i = 0; self->add_depends[i] != NULL; i++)
    mbd_strv_builder_take (argv, g_strdup_printf ("--add-depends=%s", self->add_depends[i]));
  if (self->deb_build_profiles != NULL && self->deb_build_profiles[0] != '\0')
    {
      g_auto (GStrv) profiles = g_strsplit_set (self->deb_build_profiles, " ,", -1);
      g_autofree char *joined = NULL;
      g_autoptr (GStrvBuilder) list = g_strv_builder_new ();
      for (guint i = 0; profiles[i] != NULL; i++)
        if (profiles[i][0] != '\0')
          g_strv_builder_add (list, profiles[i]);
      g_auto (GStrv) cleaned = g_strv_builder_end (list);
      joined = g_strjoinv (",", cleaned);
      mbd_strv_builder_take (argv, g_strdup_printf ("--profiles=%s", joined));
    }
  if (self->lintian_mode == MBD_CHECK_MODE_DISABLED || !lintian_in_session)
    g_strv_builder_add (argv, "--no-run-lintian");
  else
    g_strv_builder_add_many (argv, "--run-lintian", "--lintian-opts=" LINTIAN_SUPPRESS, NULL);
  if (self->autopkgtest_mode == MBD_CHECK_MODE_DISABLED)
    g_strv_builder_add (argv, "--no-run-autopkgtest");
  else
    {
      g_strv_builder_add_many (argv, "--run-autopkgtest",
                               "--autopkgtest-root-args=", "--autopkgtest-opts=--",
                               "--autopkgtest-opts=schroot", NULL);
      mbd_strv_builder_take (argv, g_strdup_printf ("--autopkgtest-opts=%s", chroot_name));
    }
  if (self->piuparts_mode == MBD_CHECK_MODE_DISABLED)
    g_strv_builder_add (argv, "--no-run-piuparts");
  else
    {
      g_strv_builder_add_many (argv, "--run-piuparts", "--piuparts-root-args=", NULL);
      mbd_strv_builder_take (argv, g_strdup_printf ("--piuparts-opts=--schroot=%s", chroot_name));
      g_strv_builder_add_many (
          argv, "--piuparts-opts=--dpkg-force-confdef", "--piuparts-opts=--warn-on-debsums-errors",
          "--piuparts-opts=--warn-on-leftovers-after-purge", "--piuparts-opts=--warn-on-others",
          "--piuparts-opts=--keep-sources-list", NULL);
    }
  g_autofree char *dsc_name = g_path_get_basename (self->dsc_path);
  mbd_strv_builder_take (argv, g_build_filename (workdir, dsc_name, NULL));
  return g_strv_builder_end (argv);
}

static void
append_file_script (GString *script, const char *path, GBytes *content)
{
  g_autofree char *encoded
      = g_base64_encode (g_bytes_get_data (content, NULL), g_bytes_get_size (content));
  g_string_append_printf (script, "mkdir -p \"$(dirname '%s')\"\nbase64 -d > '%s' <<'MBD_EOF'\n",
                          path, path);
  for (gsize i = 0, len = strlen (encoded); i < len; i += 76)
    g_string_append_printf (script, "%.*s\n", (int) MIN (76, len - i), encoded + i);
  g_string_append (script, "MBD_EOF\n");
}

/* Puts "[signed-by=KEY]" into a one-line APT source after "deb"/"deb-src". */
static char *
signed_line (const char *apt_line, const char *key_path)
{
  if (key_path == NULL)
    return g_strdup (apt_line);
  g_auto (GStrv) words = g_strsplit (apt_line, " ", 2);
  if (words[0] == NULL || words[1] == NULL)
    return g_strdup (apt_line);
  const char *rest = g_strchug (words[1]);
  const char *close = rest[0] == '[' ? strchr (rest, ']') : NULL;
  if (close == NULL)
    return g_strdup_printf ("%s [signed-by=%s] %s", words[0], key_path, rest);
  /* options there already (the repository's own lines say `deb [] URI ...`): add to them,
   * as apt reads one option list only */
  g_autofree char *options = g_strstrip (g_strndup (rest + 1, close - rest - 1));
  return g_strdup_printf ("%s [%s%ssigned-by=%s] %s", words[0], options,
                          options[0] != '\0' ? " " : "", key_path, g_strchug ((char *) close + 1));
}

/* The host part of the URI in a one-line APT source, for an APT pin ("origin"). */
static char *
apt_line_host (const char *apt_line)
{
  const char *scheme = strstr (apt_line, "://");

  if (scheme == NULL)
    return NULL;
  const char *host = scheme + 3;
  gsize len = strcspn (host, ":/ ");
  return g_strndup (host, len);
}

static gboolean
add_key_file (GString *script, const char *file, const char *target, GError **error)
{
  g_autoptr (GFile) gfile = g_file_new_for_path (file);
  g_autoptr (GBytes) content = g_file_load_bytes (gfile, NULL, NULL, error);

  if (content == NULL)
    return mbd_prefix_error (error, "reading a key for the chroot's APT: ");
  append_file_script (script, target, content);
  return TRUE;
}

/* Key files keep an extension apt understands: .asc for armored keys, .gpg otherwise. */
static char *
key_target (const char *file, guint n)
{
  return g_strdup_printf ("/etc/apt/keyrings/mbd-%u.%s", n,
                          g_str_has_suffix (file, ".asc") ? "asc" : "gpg");
}

char *
mbd_build_apt_setup_script (MbdBuildRequest *self, GError **error)
{
  g_autoptr (GString) script = g_string_new ("set -e\n");
  g_autoptr (GString) sources = g_string_new ("");
  g_autoptr (GString) prefs = g_string_new ("");
  guint n_keys = 0;

  if (self->base_source != NULL)
    {
      g_autofree char *target = NULL;
      if (self->base_keyring != NULL)
        {
          target = key_target (self->base_keyring, n_keys++);
          if (!add_key_file (script, self->base_keyring, target, error))
            return NULL;
        }
      g_autofree char *line = signed_line (self->base_source, target);
      g_string_append_printf (script,
                              "rm -f /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/"
                              "*.sources\necho '%s' > /etc/apt/sources.list\n",
                              line);
    }
  for (guint i = 0; i < self->extra_sources->len; i++)
    {
      ExtraSource *extra = &g_array_index (self->extra_sources, ExtraSource, i);
      g_autofree char *target = NULL;
      if (extra->keyring_file != NULL)
        {
          target = key_target (extra->keyring_file, n_keys++);
          if (!add_key_file (script, extra->keyring_file, target, error))
            return NULL;
        }
      g_autofree char *line = signed_line (extra->apt_line, target);
      g_string_append_printf (sources, "%s\n", line);
      g_auto (GStrv) words = g_strsplit_set (extra->apt_line, " \t", -1);
      /* pin by release (suite): "deb URI SUITE COMPONENTS" */
      guint w = 0, n_word = 0;
      const char *suite = NULL;
      for (w = 0; words[w] != NULL; w++)
        if (words[w][0] != '\0' && words[w][0] != '[' && ++n_word == 3)
          suite = words[w];
      if (suite != NULL)
        g_string_append_printf (prefs, "Package: *\nPin: release n=%s\nPin-Priority: %d\n\n", suite,
                                extra->priority);
    }
  if (self->internal_sources->len > 0)
    {
      g_autofree char *target = NULL;
      if (self->internal_key_file != NULL)
        {
          target = key_target (self->internal_key_file, n_keys++);
          if (!add_key_file (script, self->internal_key_file, target, error))
            return NULL;
        }
      for (guint i = 0; i < self->internal_sources->len; i++)
        {
          g_autofree char *line = signed_line (self->internal_sources->pdata[i], target);
          g_autofree char *host = apt_line_host (self->internal_sources->pdata[i]);
          g_string_append_printf (sources, "%s\n", line);
          if (host != NULL && strstr (prefs->str, host) == NULL)
            g_string_append_printf (prefs, "Package: *\nPin: origin %s\nPin-Priority: %d\n\n", host,
                                    self->internal_priority);
        }
    }
  if (sources->len > 0)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (sources->str, sources->len);
      append_file_script (script, "/etc/apt/sources.list.d/mbd.list", bytes);
    }
  if (prefs->len > 0)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (prefs->str, prefs->len);
      append_file_script (script, "/etc/apt/preferences.d/mbd", bytes);
    }
  g_string_append (script, "echo 'mbd: APT sources set up'\n");
  return g_strdup (script->str);
}

/* A Perl single-quoted string literal. */
static void
append_perl_string (GString *out, const char *text)
{
  g_string_append_c (out, '\'');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\'' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '\'');
}

char *
mbd_build_sbuildrc (MbdBuildRequest *self, const char *workdir, GError **error)
{
  g_autofree char *apt_setup = mbd_build_apt_setup_script (self, error);

  if (apt_setup == NULL)
    return NULL;
  g_autoptr (GString) rc = g_string_new ("# generated by mbd for one build\n");
  g_autofree char *template = g_build_filename (workdir, "session.XXXXXXXXXX", NULL);
  g_string_append (rc, "$unshare_tmpdir_template = ");
  append_perl_string (rc, template);
  g_string_append (rc, ";\n");

  gboolean ccache = g_strv_contains ((const char *const *) self->snippets, "ccache");
  if (ccache)
    g_string_append (rc, "$path = '/usr/lib/ccache:/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                         "/usr/bin:/sbin:/bin:/usr/games';\n"
                         "$build_environment = { 'CCACHE_DIR' => '/build/ccache' };\n");

  g_string_append (rc, "$external_commands = {\n  'chroot-setup-commands' => [\n    ['sh', '-c', ");
  append_perl_string (rc, apt_setup);
  g_string_append (rc, "],\n");
  for (guint i = 0; self->snippets[i] != NULL; i++)
    {
      const Snippet *snippet = find_snippet (self->snippets[i]);
      if (snippet == NULL)
        {
          mbd_throw (error, MBD_ERROR_NOT_FOUND, "build %s: chroot setup snippet '%s' is unknown",
                     self->key, self->snippets[i]);
          return NULL;
        }
      g_string_append (rc, "    ['sh', '-c', ");
      g_autofree char *script = g_strdup_printf ("echo 'mbd: snippet %s: %s'; %s", snippet->name,
                                                 snippet->description, snippet->script);
      append_perl_string (rc, script);
      g_string_append (rc, "],\n");
    }
  g_string_append (rc, "  ],\n};\n1;\n");
  return g_strdup (rc->str);
}
