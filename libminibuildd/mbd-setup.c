/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "mbd-apt-sources-private.h"
#include "mbd-chroot-private.h"
#include "mbd-error.h"
#include "mbd-layout.h"
#include "mbd-repository.h"
#include "mbd-setup-private.h"
#include "mbd-source-private.h"
#include "mbd-util-private.h"

/**
 * MbdSetupInstance:
 *
 * One object a [class@Mbd.Setup] expects or found: its class (`Daemon`, `Archive`, `Source`,
 * `Distribution`, `Repository` or `Chroot`), its identity, its id (the SHA256 of both, see
 * [func@Mbd.Setup.compute_id]) and its [enum@Mbd.SetupStatus] with a detail.
 */

typedef enum
{
  KIND_DAEMON,
  KIND_ARCHIVE,
  KIND_SOURCE,
  KIND_DISTRIBUTION,
  KIND_REPOSITORY,
  KIND_CHROOT,
} Kind;

static const char *const kind_names[]
    = { "Daemon", "Archive", "Source", "Distribution", "Repository", "Chroot" };

struct _MbdSetupInstance
{
  GObject parent_instance;
  Kind kind;
  char *id;
  char *identity;
  MbdSetupStatus status;
  char *detail;
};

G_DEFINE_FINAL_TYPE (MbdSetupInstance, mbd_setup_instance, G_TYPE_OBJECT)

static void
mbd_setup_instance_finalize (GObject *object)
{
  MbdSetupInstance *self = MBD_SETUP_INSTANCE (object);

  g_free (self->id);
  g_free (self->identity);
  g_free (self->detail);
  G_OBJECT_CLASS (mbd_setup_instance_parent_class)->finalize (object);
}

static void
mbd_setup_instance_class_init (MbdSetupInstanceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_setup_instance_finalize;
}

static void
mbd_setup_instance_init (MbdSetupInstance *self)
{
}

/**
 * mbd_setup_compute_id:
 * @class_name: the class, such as `Source`
 * @identity: the identity within the class, such as `bookworm`
 *
 * Computes the id of a setup instance: the hex SHA256 of @class_name, a newline and @identity.
 * The `update` and `pca` options select instances by these ids.
 *
 * Returns: (transfer full): the id, 64 hex digits
 */
char *
mbd_setup_compute_id (const char *class_name, const char *identity)
{
  g_return_val_if_fail (class_name != NULL && identity != NULL, NULL);

  g_autofree char *both = g_strdup_printf ("%s\n%s", class_name, identity);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, both, -1);
}

static MbdSetupInstance *
instance_new (Kind kind, const char *identity, MbdSetupStatus status, const char *detail)
{
  MbdSetupInstance *self = g_object_new (MBD_TYPE_SETUP_INSTANCE, NULL);

  self->kind = kind;
  self->identity = g_strdup (identity);
  self->id = mbd_setup_compute_id (kind_names[kind], identity);
  self->status = status;
  self->detail = g_strdup (detail != NULL ? detail : "");
  return self;
}

/**
 * mbd_setup_instance_get_id:
 * @self: a setup instance
 *
 * Gives the instance's id, as [func@Mbd.Setup.compute_id] computes it.
 *
 * Returns: (transfer none): 64 hex digits
 */
const char *
mbd_setup_instance_get_id (MbdSetupInstance *self)
{
  g_return_val_if_fail (MBD_IS_SETUP_INSTANCE (self), NULL);
  return self->id;
}

/**
 * mbd_setup_instance_get_class_name:
 * @self: a setup instance
 *
 * Gives the class of the object: `Daemon`, `Archive`, `Source`, `Distribution`, `Repository`
 * or `Chroot` (mini-buildd's model names).
 *
 * Returns: (transfer none): the class name
 */
const char *
mbd_setup_instance_get_class_name (MbdSetupInstance *self)
{
  g_return_val_if_fail (MBD_IS_SETUP_INSTANCE (self), NULL);
  return kind_names[self->kind];
}

/**
 * mbd_setup_instance_get_identity:
 * @self: a setup instance
 *
 * Gives what identifies the object within its class: the instance identity (Daemon), a URL
 * (Archive), a codename (Source, Distribution), a repository identity (Repository) or
 * `codename:architecture` (Chroot).
 *
 * Returns: (transfer none): the identity
 */
const char *
mbd_setup_instance_get_identity (MbdSetupInstance *self)
{
  g_return_val_if_fail (MBD_IS_SETUP_INSTANCE (self), NULL);
  return self->identity;
}

/**
 * mbd_setup_instance_get_status:
 * @self: a setup instance
 *
 * Gives the object's status as the inspection found it.
 *
 * Returns: the status
 */
MbdSetupStatus
mbd_setup_instance_get_status (MbdSetupInstance *self)
{
  g_return_val_if_fail (MBD_IS_SETUP_INSTANCE (self), MBD_SETUP_STATUS_FAILED);
  return self->status;
}

/**
 * mbd_setup_instance_get_detail:
 * @self: a setup instance
 *
 * Gives what is missing, changed or failed, or the object's last check message; empty if there
 * is nothing to say.
 *
 * Returns: (transfer none): the detail
 */
const char *
mbd_setup_instance_get_detail (MbdSetupInstance *self)
{
  g_return_val_if_fail (MBD_IS_SETUP_INSTANCE (self), NULL);
  return self->detail;
}

/**
 * mbd_setup_instance_dup_message:
 * @self: a setup instance
 *
 * Formats the report line of the instance: `<class> <identity>: <STATUS>[: <detail>]`.
 *
 * Returns: (transfer full): the line
 */
char *
mbd_setup_instance_dup_message (MbdSetupInstance *self)
{
  g_return_val_if_fail (MBD_IS_SETUP_INSTANCE (self), NULL);
  return g_strdup_printf ("%s %s: %s%s%s", kind_names[self->kind], self->identity,
                          mbd_setup_status_to_string (self->status), self->detail[0] ? ": " : "",
                          self->detail);
}

/**
 * mbd_setup_status_to_string:
 * @status: a status
 *
 * Gives mini-buildd's name of @status, such as `MISSING`.
 *
 * Returns: (transfer none): the name
 */
const char *
mbd_setup_status_to_string (MbdSetupStatus status)
{
  static const char *const names[]
      = { "MISSING", "EXISTS", "ACTIVE", "CHANGED", "FAILED", "DEACTIVATED" };

  g_return_val_if_fail (status <= MBD_SETUP_STATUS_DEACTIVATED, NULL);
  return names[status];
}

/**
 * mbd_setup_status_get_severity:
 * @status: a status
 *
 * Gives the report severity of @status: 0 for ACTIVE, 1 for EXISTS and DEACTIVATED, 2 for
 * MISSING and CHANGED, 3 for FAILED. A report's severity is the highest of its instances.
 *
 * Returns: the severity, 0 to 3
 */
int
mbd_setup_status_get_severity (MbdSetupStatus status)
{
  switch (status)
    {
    case MBD_SETUP_STATUS_ACTIVE:
      return 0;
    case MBD_SETUP_STATUS_EXISTS:
    case MBD_SETUP_STATUS_DEACTIVATED:
      return 1;
    case MBD_SETUP_STATUS_MISSING:
    case MBD_SETUP_STATUS_CHANGED:
      return 2;
    case MBD_SETUP_STATUS_FAILED:
    default:
      return 3;
    }
}

/* ------------------------------------------------------------------------------------------ */

/**
 * MbdSetup:
 *
 * Bootstraps and inspects an instance from options like mini-buildd's `setup` call: the
 * archives (mirrors), sources, distributions, repositories and chroots it should have.
 *
 * Set the options with [method@Mbd.Setup.set_option], then [method@Mbd.Setup.inspect] compares
 * them with the instance: each expected or existing object becomes a [class@Mbd.SetupInstance]
 * with a status. [method@Mbd.Setup.run] (or its async variant) then creates or changes the
 * instances the `update` option selects (using the same library calls as `mbd source add`,
 * `mbd repo create` and `mbd chroot create`) and prepares, checks and activates those the `pca`
 * option selects: a source check, a repository's publication and consistency check, a chroot
 * creation (or, for an active chroot, its check).
 *
 * Distributions belong to repositories in mbd: a Distribution instance only says with which
 * architectures the repositories should get that codename, and is ACTIVE once a repository
 * has it. A repository whose identity is `test` allows unauthenticated uploads, as in
 * mini-buildd.
 */

typedef struct
{
  char *codename;
  char **arches;
} DistWant;

typedef struct
{
  char *id;
  char *layout; /* the mbd layout name */
  char **codenames;
} RepoWant;

static void
dist_want_free (gpointer data)
{
  DistWant *want = data;
  g_free (want->codename);
  g_strfreev (want->arches);
  g_free (want);
}

static void
repo_want_free (gpointer data)
{
  RepoWant *want = data;
  g_free (want->id);
  g_free (want->layout);
  g_strfreev (want->codenames);
  g_free (want);
}

/* What the options resolve to: the expected objects, in order. */
typedef struct
{
  gatomicrefcount ref;
  char **archives;
  GPtrArray *sources; /* char*: codenames, extras included */
  GPtrArray *dists;   /* DistWant */
  GPtrArray *repos;   /* RepoWant */
  GPtrArray *chroots; /* char*: codename:arch */
  MbdChrootBackend backend;
  char *native;
} Wanted;

static void
wanted_unref (Wanted *wanted)
{
  if (!g_atomic_ref_count_dec (&wanted->ref))
    return;
  g_strfreev (wanted->archives);
  g_ptr_array_unref (wanted->sources);
  g_ptr_array_unref (wanted->dists);
  g_ptr_array_unref (wanted->repos);
  g_ptr_array_unref (wanted->chroots);
  g_free (wanted->native);
  g_free (wanted);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wanted, wanted_unref)

struct _MbdSetup
{
  GObject parent_instance;
  MbdInstance *instance;
  char *etc_apt;

  char *identity;
  char **origins;
  char **archives;
  gboolean archives_from_apt_sources;
  GPtrArray *sources; /* char*: codenames as given */
  gboolean sources_from_origins;
  GPtrArray *dists; /* DistWant */
  gboolean dists_from_sources;
  GPtrArray *repos;            /* RepoWant */
  GPtrArray *repos_from_dists; /* RepoWant without codenames */
  GPtrArray *chroots;          /* char*: codename:arch */
  gboolean chroots_from_sources;
  MbdChrootBackend backend;
  char **update; /* NULL: none; {"all"}: all; else ids */
  char **pca;

  GHashTable *failures; /* id -> message of the last run's failed step */
};

enum
{
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (MbdSetup, mbd_setup, G_TYPE_OBJECT)

static void
mbd_setup_finalize (GObject *object)
{
  MbdSetup *self = MBD_SETUP (object);

  g_clear_object (&self->instance);
  g_free (self->etc_apt);
  g_free (self->identity);
  g_strfreev (self->origins);
  g_strfreev (self->archives);
  g_ptr_array_unref (self->sources);
  g_ptr_array_unref (self->dists);
  g_ptr_array_unref (self->repos);
  g_ptr_array_unref (self->repos_from_dists);
  g_ptr_array_unref (self->chroots);
  g_strfreev (self->update);
  g_strfreev (self->pca);
  g_hash_table_unref (self->failures);
  G_OBJECT_CLASS (mbd_setup_parent_class)->finalize (object);
}

static void
mbd_setup_class_init (MbdSetupClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_setup_finalize;

  /**
   * MbdSetup::progress:
   * @self: the setup
   * @instance: the instance about to be worked on
   * @action: `update` or `pca`
   *
   * Emitted by [method@Mbd.Setup.run] and [method@Mbd.Setup.run_async] on the caller's main
   * context before each step; cancelling the run's cancellable here stops the run before the
   * step.
   */
  signals[SIGNAL_PROGRESS]
      = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 2, MBD_TYPE_SETUP_INSTANCE, G_TYPE_STRING);
}

static void
mbd_setup_init (MbdSetup *self)
{
  self->etc_apt = g_strdup ("/etc/apt");
  self->sources = g_ptr_array_new_with_free_func (g_free);
  self->dists = g_ptr_array_new_with_free_func (dist_want_free);
  self->repos = g_ptr_array_new_with_free_func (repo_want_free);
  self->repos_from_dists = g_ptr_array_new_with_free_func (repo_want_free);
  self->chroots = g_ptr_array_new_with_free_func (g_free);
  self->backend = MBD_CHROOT_BACKEND_UNSHARE;
  self->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * mbd_setup_new:
 * @instance: an open instance
 *
 * Creates a setup for @instance with no options: its inspection lists what the instance has.
 *
 * Returns: (transfer full): the setup
 */
MbdSetup *
mbd_setup_new (MbdInstance *instance)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  MbdSetup *self = g_object_new (MBD_TYPE_SETUP, NULL);
  self->instance = g_object_ref (instance);
  return self;
}

void
mbd_setup_set_etc_apt (MbdSetup *self, const char *etc_apt)
{
  g_free (self->etc_apt);
  self->etc_apt = g_strdup (etc_apt);
}

/* -- options ------------------------------------------------------------------------------- */

static char **
split_list (const char *value)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) parts = g_strsplit_set (value != NULL ? value : "", ",\n", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_strv_builder_add (builder, parts[i]);
  return g_strv_builder_end (builder);
}

static gboolean
parse_bool (const char *name, const char *value, gboolean *out, GError **error)
{
  const char *yes[] = { "true", "1", "yes", "on", NULL };
  const char *no[] = { "false", "0", "no", "off", "", NULL };

  g_autofree char *lower = g_ascii_strdown (value != NULL ? value : "", -1);
  if (g_strv_contains (yes, lower))
    *out = TRUE;
  else if (g_strv_contains (no, lower))
    *out = FALSE;
  else
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "setup option '%s': '%s' is no boolean (use True or False)", name, value);
  return TRUE;
}

static char *
lookup_native (GError **error)
{
  return mbd_get_native_architecture (error);
}

/* mini-buildd's layout names ("Default", "Default (no rollbacks)", "Debian Developer") and
 * mbd's ("default", "default-no-rollbacks", "debian-developer") both give mbd's name. */
static char *
layout_name (const char *name)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (const char *p = name; *p != '\0'; p++)
    if (*p == ' ' || *p == '_')
      {
        if (out->len > 0 && out->str[out->len - 1] != '-')
          g_string_append_c (out, '-');
      }
    else if (*p != '(' && *p != ')')
      g_string_append_c (out, g_ascii_tolower (*p));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
check_codename (MbdSetup *self, const char *name, const char *codename, GError **error)
{
  g_autoptr (MbdSource) source = mbd_source_new_builtin_from (codename, NULL, self->etc_apt, error);
  if (source == NULL)
    return mbd_prefix_error (error, "setup option '%s': ", name);
  return TRUE;
}

/* codename:arch+arch; "native" is the machine's architecture. */
static DistWant *
parse_dist (const char *name, const char *spec, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (spec, ":", 2);
  if (parts[0][0] == '\0' || parts[1] == NULL || parts[1][0] == '\0')
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "setup option '%s': '%s' is malformed (use codename:arch+arch)", name, spec);
      return NULL;
    }
  g_auto (GStrv) arches = g_strsplit (parts[1], "+", -1);
  for (guint a = 0; arches[a] != NULL; a++)
    if (strcmp (arches[a], "native") == 0)
      {
        char *native = lookup_native (error);
        if (native == NULL)
          return NULL;
        g_free (arches[a]);
        arches[a] = native;
      }
  g_autoptr (MbdDistribution) check
             = mbd_distribution_new (parts[0], (const char *const *) arches, error);
  if (check == NULL)
    {
      mbd_prefix_error (error, "setup option '%s': ", name);
      return NULL;
    }
  DistWant *want = g_new0 (DistWant, 1);
  want->codename = g_strdup (parts[0]);
  want->arches = g_steal_pointer (&arches);
  return want;
}

/* id:layout:codename+codename (codenames NULL: id[:layout]). */
static RepoWant *
parse_repo (const char *name, const char *spec, gboolean with_codenames, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (spec, ":", 3);
  guint n = g_strv_length (parts);
  if (with_codenames ? n != 3 || parts[2][0] == '\0' : n > 2)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "setup option '%s': '%s' is malformed (use %s)",
                 name, spec, with_codenames ? "id:layout:codename+codename" : "id[:layout]");
      return NULL;
    }
  g_autofree char *layout
      = layout_name (n > 1 && parts[1][0] != '\0' ? parts[1] : MBD_LAYOUT_DEFAULT);
  g_autoptr (MbdLayout) check_layout = mbd_layout_new_builtin (layout, error);
  g_autoptr (MbdRepository) check
             = check_layout != NULL ? mbd_repository_new (parts[0], check_layout, error) : NULL;
  if (check == NULL)
    {
      mbd_prefix_error (error, "setup option '%s': ", name);
      return NULL;
    }
  RepoWant *want = g_new0 (RepoWant, 1);
  want->id = g_strdup (parts[0]);
  want->layout = g_steal_pointer (&layout);
  if (with_codenames)
    {
      want->codenames = g_strsplit (parts[2], "+", -1);
      for (guint c = 0; want->codenames[c] != NULL; c++)
        if (want->codenames[c][0] == '\0')
          {
            repo_want_free (want);
            mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                       "setup option '%s': '%s' has an empty codename", name, spec);
            return NULL;
          }
    }
  return want;
}

static gboolean
parse_selection (const char *name, const char *value, char ***out, GError **error)
{
  g_auto (GStrv) items = split_list (value);

  for (guint i = 0; items[i] != NULL; i++)
    if (strcmp (items[i], "all") != 0 && !g_regex_match_simple ("^[0-9a-f]{64}$", items[i], 0, 0))
      return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                        "setup option '%s': '%s' is neither 'all' nor an instance id (64 hex "
                        "digits)",
                        name, items[i]);
  g_strfreev (*out);
  *out = items[0] != NULL ? g_steal_pointer (&items) : NULL;
  return TRUE;
}

/* Options mini-buildd has that mbd does not implement: accepted when empty or false. */
static const char *const unsupported[]
    = { "ftp_endpoint", "archives_from_origins", "archives_from_proxy", "remotes", NULL };

/**
 * mbd_setup_set_option:
 * @self: a setup
 * @name: the option, as mini-buildd's `setup` call names it (`-` and `_` are the same)
 * @value: (nullable): its value; lists are separated by commas or white space, booleans are
 *   `True` or `False`
 * @error: return location for an error
 *
 * Sets one option. A list option given twice adds to the list. The options:
 *
 * - `update`, `pca`: `all` or a list of instance ids: the instances
 *   [method@Mbd.Setup.run] creates or changes, and prepares, checks and activates;
 * - `identity`: the instance identity expected (it cannot change);
 * - `from_origins`: `Debian` and/or `Ubuntu` (an optional `:lts` or `:all` is ignored), for
 *   `sources_from_origins` (default `Debian`);
 * - `archives`: mirror URLs the new sources use (Debian's security archive: the URL with
 *   `-security` appended); `archives_from_apt_sources` (boolean): list the machine's apt
 *   sources as archives; without `archives`, new sources take their mirror from the machine's
 *   apt sources anyway;
 * - `sources`: codenames mbd knows (see [func@Mbd.Source.list_builtin_codenames]), each with
 *   its extra sources; `sources_from_origins` (boolean): all codenames of the origins;
 * - `distributions`: `codename:arch+arch` (`native` is the machine's architecture);
 *   `distributions_from_sources` (boolean): one `codename:native` per source (extras aside);
 * - `repositories`: `id:layout:codename+codename` (layouts as mini-buildd or mbd names them,
 *   empty for the default); `repositories_from_distributions`: `id[:layout]` with every
 *   distribution;
 * - `chroots`: `codename:arch+arch`; `chroots_from_sources` (boolean): one chroot per
 *   distribution's architecture, or the machine's, per source; `chroots_backend`: `unshare`
 *   or `schroot`.
 *
 * `ftp_endpoint`, `archives_from_origins`, `archives_from_proxy` and `remotes` are accepted only
 * empty or false.
 *
 * Returns: %TRUE if set; %FALSE with %MBD_ERROR_INVALID_ARGUMENT naming the option for an
 *   unknown option or a malformed value, %MBD_ERROR_NOT_FOUND for a codename mbd does not know,
 *   %MBD_ERROR_UNSUPPORTED for an option mbd does not implement
 */
gboolean
mbd_setup_set_option (MbdSetup *self, const char *name, const char *value, GError **error)
{
  g_return_val_if_fail (MBD_IS_SETUP (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  g_autofree char *key = g_strdelimit (g_strdup (name), "-", '_');
  g_auto (GStrv) items = split_list (value);
  gboolean flag = FALSE;

  if (strcmp (key, "update") == 0)
    return parse_selection (key, value, &self->update, error);
  if (strcmp (key, "pca") == 0)
    return parse_selection (key, value, &self->pca, error);
  if (strcmp (key, "identity") == 0)
    {
      g_free (self->identity);
      self->identity = items[0] != NULL ? g_strdup (items[0]) : NULL;
      return TRUE;
    }
  if (strcmp (key, "from_origins") == 0)
    {
      for (guint i = 0; items[i] != NULL; i++)
        {
          char *colon = strchr (items[i], ':');
          if (colon != NULL)
            *colon = '\0';
          if (g_ascii_strcasecmp (items[i], "debian") != 0
              && g_ascii_strcasecmp (items[i], "ubuntu") != 0)
            return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                              "setup option '%s': origin '%s' is not one mbd knows (Debian, "
                              "Ubuntu)",
                              key, items[i]);
          gboolean debian = g_ascii_tolower (items[i][0]) == 'd';
          g_free (items[i]);
          items[i] = g_strdup (debian ? "Debian" : "Ubuntu");
        }
      g_strfreev (self->origins);
      self->origins = g_steal_pointer (&items);
      return TRUE;
    }
  if (strcmp (key, "archives") == 0)
    {
      for (guint i = 0; items[i] != NULL; i++)
        if (!g_str_has_prefix (items[i], "http://") && !g_str_has_prefix (items[i], "https://")
            && !g_str_has_prefix (items[i], "file:/"))
          return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                            "setup option '%s': '%s' is no http, https or file URL", key, items[i]);
      g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
      if (self->archives != NULL)
        g_strv_builder_addv (builder, (const char **) self->archives);
      g_strv_builder_addv (builder, (const char **) items);
      g_strfreev (self->archives);
      self->archives = g_strv_builder_end (builder);
      return TRUE;
    }
  if (strcmp (key, "sources") == 0)
    {
      for (guint i = 0; items[i] != NULL; i++)
        {
          if (!check_codename (self, key, items[i], error))
            return FALSE;
          g_ptr_array_add (self->sources, g_strdup (items[i]));
        }
      return TRUE;
    }
  if (strcmp (key, "distributions") == 0 || strcmp (key, "chroots") == 0)
    {
      gboolean chroots = key[0] == 'c';
      for (guint i = 0; items[i] != NULL; i++)
        {
          DistWant *want = parse_dist (key, items[i], error);
          if (want == NULL)
            return FALSE;
          if (!chroots)
            {
              g_ptr_array_add (self->dists, want);
              continue;
            }
          for (guint a = 0; want->arches[a] != NULL; a++)
            g_ptr_array_add (self->chroots,
                             g_strdup_printf ("%s:%s", want->codename, want->arches[a]));
          dist_want_free (want);
        }
      return TRUE;
    }
  if (strcmp (key, "repositories") == 0 || strcmp (key, "repositories_from_distributions") == 0)
    {
      gboolean with_codenames = strcmp (key, "repositories") == 0;
      for (guint i = 0; items[i] != NULL; i++)
        {
          RepoWant *want = parse_repo (key, items[i], with_codenames, error);
          if (want == NULL)
            return FALSE;
          g_ptr_array_add (with_codenames ? self->repos : self->repos_from_dists, want);
        }
      return TRUE;
    }
  if (strcmp (key, "chroots_backend") == 0)
    {
      if (items[0] == NULL)
        return TRUE;
      if (!mbd_chroot_backend_from_string (items[0], &self->backend, error))
        return mbd_prefix_error (error, "setup option '%s': ", key);
      return TRUE;
    }
  struct
  {
    const char *name;
    gboolean *flag;
  } flags[] = {
    { "archives_from_apt_sources", &self->archives_from_apt_sources },
    { "sources_from_origins", &self->sources_from_origins },
    { "distributions_from_sources", &self->dists_from_sources },
    { "chroots_from_sources", &self->chroots_from_sources },
  };
  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    if (strcmp (key, flags[i].name) == 0)
      return parse_bool (key, value, flags[i].flag, error);
  if (g_strv_contains (unsupported, key))
    {
      if (items[0] == NULL || (parse_bool (key, value, &flag, NULL) && !flag))
        return TRUE;
      return mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                        "setup option '%s' is not supported by mbd (leave it empty)", key);
    }
  return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "unknown setup option '%s'", name);
}

/**
 * mbd_setup_has_run_options:
 * @self: a setup
 *
 * Tells whether the `update` or `pca` option selects something, that is whether
 * [method@Mbd.Setup.run] would change the instance.
 *
 * Returns: %TRUE if a run has something to do
 */
gboolean
mbd_setup_has_run_options (MbdSetup *self)
{
  g_return_val_if_fail (MBD_IS_SETUP (self), FALSE);
  return self->update != NULL || self->pca != NULL;
}

/* -- what the options want ----------------------------------------------------------------- */

static void
add_unique (GPtrArray *list, const char *item)
{
  for (guint i = 0; i < list->len; i++)
    if (strcmp (g_ptr_array_index (list, i), item) == 0)
      return;
  g_ptr_array_add (list, g_strdup (item));
}

static DistWant *
find_dist (GPtrArray *dists, const char *codename)
{
  for (guint i = 0; i < dists->len; i++)
    {
      DistWant *want = g_ptr_array_index (dists, i);
      if (strcmp (want->codename, codename) == 0)
        return want;
    }
  return NULL;
}

static const char *
native_of (Wanted *wanted, GError **error)
{
  if (wanted->native == NULL)
    wanted->native = lookup_native (error);
  return wanted->native;
}

static Wanted *
resolve (MbdSetup *self, GError **error)
{
  g_autoptr (Wanted) wanted = g_new0 (Wanted, 1);
  g_atomic_ref_count_init (&wanted->ref);
  wanted->sources = g_ptr_array_new_with_free_func (g_free);
  wanted->dists = g_ptr_array_new_with_free_func (dist_want_free);
  wanted->repos = g_ptr_array_new_with_free_func (repo_want_free);
  wanted->chroots = g_ptr_array_new_with_free_func (g_free);
  wanted->backend = self->backend;

  /* archives */
  g_autoptr (GPtrArray) archives = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; self->archives != NULL && self->archives[i] != NULL; i++)
    add_unique (archives, self->archives[i]);
  if (self->archives_from_apt_sources)
    {
      g_autoptr (GPtrArray) entries = mbd_apt_sources_read (self->etc_apt);
      for (guint i = 0; i < entries->len; i++)
        add_unique (archives, ((MbdAptSource *) g_ptr_array_index (entries, i))->uri);
    }
  g_ptr_array_add (archives, NULL);
  wanted->archives = (char **) g_ptr_array_steal (archives, NULL);

  /* sources: the main codenames, then each with its extras */
  g_autoptr (GPtrArray) mains = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < self->sources->len; i++)
    add_unique (mains, g_ptr_array_index (self->sources, i));
  if (self->sources_from_origins)
    {
      const char *debian[] = { "Debian", NULL };
      const char *const *origins
          = self->origins != NULL ? (const char *const *) self->origins : debian;
      g_auto (GStrv) known = mbd_source_list_builtin_codenames ();
      for (guint o = 0; origins[o] != NULL; o++)
        for (guint i = 0; known[i] != NULL; i++)
          {
            if (strchr (known[i], '-') != NULL)
              continue;
            g_autoptr (MbdSource) source
                       = mbd_source_new_builtin_from (known[i], origins[o], self->etc_apt, NULL);
            if (source != NULL)
              add_unique (mains, known[i]);
          }
    }
  for (guint i = 0; i < mains->len; i++)
    {
      const char *codename = g_ptr_array_index (mains, i);
      add_unique (wanted->sources, codename);
      g_autoptr (MbdSource) source
                 = mbd_source_new_builtin_from (codename, NULL, self->etc_apt, NULL);
      const char *const *extras = source != NULL ? mbd_source_get_extras (source) : NULL;
      for (guint e = 0; extras != NULL && extras[e] != NULL; e++)
        add_unique (wanted->sources, extras[e]);
    }

  /* distributions */
  for (guint i = 0; i < self->dists->len; i++)
    {
      DistWant *want = g_ptr_array_index (self->dists, i);
      if (find_dist (wanted->dists, want->codename) != NULL)
        continue;
      DistWant *copy = g_new0 (DistWant, 1);
      copy->codename = g_strdup (want->codename);
      copy->arches = g_strdupv (want->arches);
      g_ptr_array_add (wanted->dists, copy);
    }
  for (guint i = 0; self->dists_from_sources && i < mains->len; i++)
    {
      const char *codename = g_ptr_array_index (mains, i);
      if (find_dist (wanted->dists, codename) != NULL)
        continue;
      const char *native = native_of (wanted, error);
      if (native == NULL)
        return NULL;
      DistWant *want = g_new0 (DistWant, 1);
      want->codename = g_strdup (codename);
      want->arches = g_new0 (char *, 2);
      want->arches[0] = g_strdup (native);
      g_ptr_array_add (wanted->dists, want);
    }

  /* repositories */
  for (guint i = 0; i < self->repos->len + self->repos_from_dists->len; i++)
    {
      RepoWant *want = i < self->repos->len
                           ? g_ptr_array_index (self->repos, i)
                           : g_ptr_array_index (self->repos_from_dists, i - self->repos->len);
      gboolean seen = FALSE;
      for (guint r = 0; r < wanted->repos->len && !seen; r++)
        seen = strcmp (((RepoWant *) g_ptr_array_index (wanted->repos, r))->id, want->id) == 0;
      if (seen)
        continue;
      RepoWant *copy = g_new0 (RepoWant, 1);
      copy->id = g_strdup (want->id);
      copy->layout = g_strdup (want->layout);
      if (want->codenames != NULL)
        copy->codenames = g_strdupv (want->codenames);
      else
        {
          g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
          for (guint d = 0; d < wanted->dists->len; d++)
            g_strv_builder_add (builder,
                                ((DistWant *) g_ptr_array_index (wanted->dists, d))->codename);
          copy->codenames = g_strv_builder_end (builder);
        }
      g_ptr_array_add (wanted->repos, copy);
    }

  /* chroots */
  for (guint i = 0; i < self->chroots->len; i++)
    add_unique (wanted->chroots, g_ptr_array_index (self->chroots, i));
  for (guint i = 0; self->chroots_from_sources && i < mains->len; i++)
    {
      const char *codename = g_ptr_array_index (mains, i);
      DistWant *dist = find_dist (wanted->dists, codename);
      const char *native = dist == NULL ? native_of (wanted, error) : NULL;
      if (dist == NULL && native == NULL)
        return NULL;
      const char *only[] = { native, NULL };
      const char *const *arches = dist != NULL ? (const char *const *) dist->arches : only;
      for (guint a = 0; arches[a] != NULL; a++)
        {
          g_autofree char *key = g_strdup_printf ("%s:%s", codename, arches[a]);
          add_unique (wanted->chroots, key);
        }
    }
  return g_steal_pointer (&wanted);
}

/* -- inspect ------------------------------------------------------------------------------- */

static void
add (GPtrArray *out, Kind kind, const char *identity, MbdSetupStatus status, const char *detail)
{
  for (guint i = 0; i < out->len; i++)
    {
      MbdSetupInstance *seen = g_ptr_array_index (out, i);
      if (seen->kind == kind && strcmp (seen->identity, identity) == 0)
        return;
    }
  g_ptr_array_add (out, instance_new (kind, identity, status, detail));
}

static MbdSetupStatus
source_status (MbdSource *source)
{
  if (mbd_source_get_state (source) == MBD_SOURCE_STATE_ACTIVE)
    return MBD_SETUP_STATUS_ACTIVE;
  return mbd_source_get_check_time (source) != NULL ? MBD_SETUP_STATUS_FAILED
                                                    : MBD_SETUP_STATUS_EXISTS;
}

static MbdSetupStatus
chroot_status (MbdChroot *chroot)
{
  switch (mbd_chroot_get_state (chroot))
    {
    case MBD_CHROOT_STATE_ACTIVE:
      return MBD_SETUP_STATUS_ACTIVE;
    case MBD_CHROOT_STATE_FAILED:
      return MBD_SETUP_STATUS_FAILED;
    default:
      return MBD_SETUP_STATUS_EXISTS;
    }
}

static char *
chroot_key (MbdChroot *chroot)
{
  return g_strdup_printf ("%s:%s", mbd_chroot_get_codename (chroot),
                          mbd_chroot_get_architecture (chroot));
}

static void
inspect_repositories (Wanted *wanted, GPtrArray *repos, GPtrArray *out)
{
  for (guint w = 0; w < wanted->repos->len; w++)
    {
      RepoWant *want = g_ptr_array_index (wanted->repos, w);
      MbdRepository *repo = NULL;
      for (guint r = 0; r < repos->len && repo == NULL; r++)
        if (strcmp (mbd_repository_get_identity (g_ptr_array_index (repos, r)), want->id) == 0)
          repo = g_ptr_array_index (repos, r);
      g_autofree char *codenames = g_strjoinv ("+", want->codenames);
      if (repo == NULL)
        {
          g_autofree char *detail = g_strdup_printf ("%s:%s", want->layout, codenames);
          add (out, KIND_REPOSITORY, want->id, MBD_SETUP_STATUS_MISSING, detail);
          continue;
        }
      g_autoptr (GString) changes = g_string_new (NULL);
      const char *layout = mbd_layout_get_name (mbd_repository_get_layout (repo));
      if (strcmp (layout, want->layout) != 0)
        g_string_append_printf (changes, "layout %s, not %s", layout, want->layout);
      for (guint c = 0; want->codenames[c] != NULL; c++)
        if (mbd_repository_lookup_distribution (repo, want->codenames[c]) == NULL)
          g_string_append_printf (changes, "%sno distribution %s", changes->len ? "; " : "",
                                  want->codenames[c]);
      add (out, KIND_REPOSITORY, want->id,
           changes->len ? MBD_SETUP_STATUS_CHANGED : MBD_SETUP_STATUS_ACTIVE, changes->str);
    }
  for (guint r = 0; r < repos->len; r++)
    add (out, KIND_REPOSITORY, mbd_repository_get_identity (g_ptr_array_index (repos, r)),
         MBD_SETUP_STATUS_ACTIVE, NULL);
}

static void
inspect_distributions (Wanted *wanted, GPtrArray *repos, GPtrArray *out)
{
  for (guint d = 0; d < wanted->dists->len; d++)
    {
      DistWant *want = g_ptr_array_index (wanted->dists, d);
      g_autofree char *arches = g_strjoinv ("+", want->arches);
      MbdSetupStatus status = MBD_SETUP_STATUS_MISSING;
      g_autofree char *detail
          = g_strdup_printf ("%s:%s: no repository has it (options repositories or "
                             "repositories_from_distributions)",
                             want->codename, arches);
      for (guint r = 0; r < repos->len && status != MBD_SETUP_STATUS_ACTIVE; r++)
        {
          MbdDistribution *dist
              = mbd_repository_lookup_distribution (g_ptr_array_index (repos, r), want->codename);
          if (dist == NULL)
            continue;
          g_autofree char *have
              = g_strjoinv ("+", (char **) mbd_distribution_get_architectures (dist));
          g_free (detail);
          if (strcmp (have, arches) == 0)
            {
              status = MBD_SETUP_STATUS_ACTIVE;
              detail = NULL;
            }
          else
            {
              status = MBD_SETUP_STATUS_CHANGED;
              detail = g_strdup_printf ("repository %s has the architectures %s, not %s",
                                        mbd_repository_get_identity (g_ptr_array_index (repos, r)),
                                        have, arches);
            }
        }
      add (out, KIND_DISTRIBUTION, want->codename, status, detail);
    }
}

static GPtrArray *
inspect (MbdSetup *self, Wanted *wanted, GError **error)
{
  g_autoptr (GPtrArray) sources = mbd_instance_list_sources (self->instance, error);
  g_autoptr (GPtrArray) repos
             = sources != NULL ? mbd_instance_list_repositories (self->instance, error) : NULL;
  g_autoptr (GPtrArray) chroots
             = repos != NULL ? mbd_instance_list_chroots (self->instance, error) : NULL;
  if (chroots == NULL)
    return NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_object_unref);

  const char *have = mbd_instance_get_identity (self->instance);
  if (self->identity != NULL && strcmp (self->identity, have) != 0)
    {
      g_autofree char *detail
          = g_strdup_printf ("the identity is '%s', not '%s'", have, self->identity);
      add (out, KIND_DAEMON, have, MBD_SETUP_STATUS_CHANGED, detail);
    }
  else
    {
      /* the engine runs here, or in an mbd-server of the same home */
      gboolean running = mbd_instance_is_started (self->instance)
                         || mbd_instance_get_engine_pid (self->instance) != 0;
      add (out, KIND_DAEMON, have, running ? MBD_SETUP_STATUS_ACTIVE : MBD_SETUP_STATUS_EXISTS,
           running ? NULL : "the engine is stopped");
    }

  /* archives: used when some source has them as its mirror */
  for (guint a = 0; wanted->archives[a] != NULL; a++)
    {
      gboolean used = FALSE;
      for (guint s = 0; s < sources->len && !used; s++)
        used = g_strv_contains (mbd_source_get_mirror_uris (g_ptr_array_index (sources, s)),
                                wanted->archives[a]);
      add (out, KIND_ARCHIVE, wanted->archives[a],
           used ? MBD_SETUP_STATUS_ACTIVE : MBD_SETUP_STATUS_EXISTS,
           used ? NULL : "no source uses it as its mirror");
    }

  /* sources: the wanted ones first, then what else exists */
  for (guint w = 0; w < wanted->sources->len; w++)
    {
      const char *codename = g_ptr_array_index (wanted->sources, w);
      MbdSource *source = NULL;
      for (guint s = 0; s < sources->len && source == NULL; s++)
        if (strcmp (mbd_source_get_codename (g_ptr_array_index (sources, s)), codename) == 0)
          source = g_ptr_array_index (sources, s);
      if (source == NULL)
        add (out, KIND_SOURCE, codename, MBD_SETUP_STATUS_MISSING, NULL);
    }
  for (guint s = 0; s < sources->len; s++)
    {
      MbdSource *source = g_ptr_array_index (sources, s);
      add (out, KIND_SOURCE, mbd_source_get_codename (source), source_status (source),
           mbd_source_get_check_message (source));
    }
  inspect_distributions (wanted, repos, out);
  inspect_repositories (wanted, repos, out);

  for (guint w = 0; w < wanted->chroots->len; w++)
    {
      const char *key = g_ptr_array_index (wanted->chroots, w);
      gboolean found = FALSE;
      for (guint c = 0; c < chroots->len && !found; c++)
        {
          g_autofree char *have_key = chroot_key (g_ptr_array_index (chroots, c));
          found = strcmp (have_key, key) == 0;
        }
      if (!found)
        add (out, KIND_CHROOT, key, MBD_SETUP_STATUS_MISSING,
             mbd_chroot_backend_to_string (wanted->backend));
    }
  for (guint c = 0; c < chroots->len; c++)
    {
      MbdChroot *chroot = g_ptr_array_index (chroots, c);
      g_autofree char *key = chroot_key (chroot);
      add (out, KIND_CHROOT, key, chroot_status (chroot), mbd_chroot_get_message (chroot));
    }

  /* what the last run could not do */
  for (guint i = 0; i < out->len; i++)
    {
      MbdSetupInstance *item = g_ptr_array_index (out, i);
      const char *failure = g_hash_table_lookup (self->failures, item->id);
      if (failure == NULL)
        continue;
      item->status = MBD_SETUP_STATUS_FAILED;
      g_free (item->detail);
      item->detail = g_strdup (failure);
    }
  return g_steal_pointer (&out);
}

static gboolean
check_selection (const char *name, char **selection, GPtrArray *instances, GError **error)
{
  for (guint i = 0; selection != NULL && selection[i] != NULL; i++)
    {
      gboolean found = strcmp (selection[i], "all") == 0;
      for (guint k = 0; k < instances->len && !found; k++)
        found = strcmp (((MbdSetupInstance *) g_ptr_array_index (instances, k))->id, selection[i])
                == 0;
      if (!found)
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                          "setup option '%s': no instance has the id '%s'", name, selection[i]);
    }
  return TRUE;
}

/**
 * mbd_setup_inspect:
 * @self: a setup
 * @out_severity: (out) (optional): the report severity, the highest of the instances' (see
 *   [func@Mbd.SetupStatus.get_severity])
 * @error: return location for an error
 *
 * Compares the options with the instance: the daemon, then the archives, sources,
 * distributions, repositories and chroots the options want (in that order) and those the
 * instance has beyond them. An instance whose last update or pca step failed in a
 * [method@Mbd.Setup.run] of this object is FAILED with that error as its detail.
 *
 * Returns: (transfer container) (element-type Mbd.SetupInstance): the instances, or %NULL with
 *   %MBD_ERROR_INVALID_ARGUMENT naming the option if `update` or `pca` selects an id no
 *   instance has, or a database error
 */
GPtrArray *
mbd_setup_inspect (MbdSetup *self, int *out_severity, GError **error)
{
  g_return_val_if_fail (MBD_IS_SETUP (self), NULL);

  g_autoptr (Wanted) wanted = resolve (self, error);
  g_autoptr (GPtrArray) instances = wanted != NULL ? inspect (self, wanted, error) : NULL;
  if (instances == NULL || !check_selection ("update", self->update, instances, error)
      || !check_selection ("pca", self->pca, instances, error))
    return NULL;
  int severity = 0;
  for (guint i = 0; i < instances->len; i++)
    severity = MAX (severity, mbd_setup_status_get_severity (
                                  ((MbdSetupInstance *) g_ptr_array_index (instances, i))->status));
  if (out_severity != NULL)
    *out_severity = severity;
  return g_steal_pointer (&instances);
}

/* -- run ----------------------------------------------------------------------------------- */

typedef struct
{
  MbdSetupInstance *item; /* (owned) */
  gboolean pca;           /* else update */
} Step;

static void
step_free (gpointer data)
{
  Step *step = data;
  g_object_unref (step->item);
  g_free (step);
}

static gboolean
selected (char **selection, MbdSetupInstance *item)
{
  return selection != NULL
         && (g_strv_contains ((const char *const *) selection, "all")
             || g_strv_contains ((const char *const *) selection, item->id));
}

/* The steps: the updates of the selected daemon, sources, repositories and chroots that are
 * missing or changed, then the pca of the selected sources, repositories and chroots. */
static GPtrArray *
plan (MbdSetup *self, Wanted **out_wanted, GError **error)
{
  g_autoptr (Wanted) wanted = resolve (self, error);
  g_autoptr (GPtrArray) instances = wanted != NULL ? inspect (self, wanted, error) : NULL;
  if (instances == NULL || !check_selection ("update", self->update, instances, error)
      || !check_selection ("pca", self->pca, instances, error))
    return NULL;
  g_hash_table_remove_all (self->failures);
  GPtrArray *steps = g_ptr_array_new_with_free_func (step_free);
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < instances->len; i++)
      {
        MbdSetupInstance *item = g_ptr_array_index (instances, i);
        gboolean wanted_step
            = pass == 0 ? selected (self->update, item)
                              && (item->status == MBD_SETUP_STATUS_MISSING
                                  || item->status == MBD_SETUP_STATUS_CHANGED)
                              && item->kind != KIND_DISTRIBUTION && item->kind != KIND_ARCHIVE
                        : selected (self->pca, item)
                              && (item->kind == KIND_SOURCE || item->kind == KIND_REPOSITORY
                                  || item->kind == KIND_CHROOT);
        if (!wanted_step)
          continue;
        Step *step = g_new0 (Step, 1);
        step->item = g_object_ref (item);
        step->pca = pass == 1;
        g_ptr_array_add (steps, step);
      }
  *out_wanted = g_steal_pointer (&wanted);
  return steps;
}

/* Debian keeps its security archive beside the main one: .../debian -> .../debian-security. */
static char **
mirrors_for (char **archives, MbdSource *source)
{
  gboolean security = g_str_has_prefix (mbd_source_get_origin (source), "Debian")
                      && g_str_has_suffix (mbd_source_get_codename (source), "-security");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (guint i = 0; archives[i] != NULL; i++)
    {
      g_autofree char *trimmed = g_strdup (archives[i]);
      while (g_str_has_suffix (trimmed, "/"))
        trimmed[strlen (trimmed) - 1] = '\0';
      g_autofree char *uri = g_strconcat (trimmed, security ? "-security" : "", NULL);
      g_strv_builder_add (builder, uri);
    }
  return g_strv_builder_end (builder);
}

static gboolean
update_source (MbdSetup *self, const char *codename, GError **error)
{
  g_autoptr (MbdSource) source = mbd_source_new_builtin_from (codename, NULL, self->etc_apt, error);
  if (source == NULL)
    return FALSE;
  if (self->archives != NULL && self->archives[0] != NULL)
    {
      g_auto (GStrv) mirrors = mirrors_for (self->archives, source);
      mbd_source_set_mirror_uris (source, (const char *const *) mirrors);
    }
  return mbd_instance_add_source (self->instance, source, error);
}

static gboolean
update_repository (MbdSetup *self,
                   Wanted *wanted,
                   const char *id,
                   GCancellable *cancellable,
                   GError **error)
{
  RepoWant *want = NULL;
  for (guint r = 0; r < wanted->repos->len && want == NULL; r++)
    if (strcmp (((RepoWant *) g_ptr_array_index (wanted->repos, r))->id, id) == 0)
      want = g_ptr_array_index (wanted->repos, r);
  g_autoptr (MbdRepository) existing = mbd_instance_lookup_repository (self->instance, id, NULL);
  if (want == NULL || existing != NULL)
    return mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                      "mbd cannot change the existing repository %s: remove it and run the "
                      "update again",
                      id);
  g_autoptr (MbdLayout) layout = mbd_layout_new_builtin (want->layout, error);
  g_autoptr (MbdRepository) repo
             = layout != NULL ? mbd_repository_new (want->id, layout, error) : NULL;
  if (repo == NULL)
    return FALSE;
  /* mini-buildd's taint: its test repository takes unsigned uploads */
  mbd_repository_set_allow_unauthenticated_uploads (
      repo, strcmp (want->id, MBD_REPOSITORY_DEFAULT_IDENTITY) == 0);
  for (guint c = 0; want->codenames[c] != NULL; c++)
    {
      DistWant *dist_want = find_dist (wanted->dists, want->codenames[c]);
      const char *native = dist_want == NULL ? native_of (wanted, error) : NULL;
      if (dist_want == NULL && native == NULL)
        return FALSE;
      const char *only[] = { native, NULL };
      g_autoptr (MbdDistribution) dist = mbd_distribution_new (
          want->codenames[c], dist_want != NULL ? (const char *const *) dist_want->arches : only,
          error);
      if (dist == NULL || !mbd_repository_add_distribution (repo, dist, error))
        return FALSE;
    }
  return mbd_instance_add_repository (self->instance, repo, cancellable, error);
}

static MbdChroot *
chroot_for (MbdSetup *self, Wanted *wanted, const char *key, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (key, ":", 2);
  g_autoptr (GError) local = NULL;
  MbdChroot *chroot = mbd_instance_lookup_chroot (self->instance, parts[0], parts[1], &local);
  if (chroot != NULL || !g_error_matches (local, MBD_ERROR, MBD_ERROR_NOT_FOUND))
    {
      if (chroot == NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      return chroot;
    }
  return mbd_chroot_new (self->instance, parts[0], parts[1], wanted->backend);
}

static gboolean
run_step (MbdSetup *self, Wanted *wanted, Step *step, GCancellable *cancellable, GError **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  MbdSetupInstance *item = step->item;
  switch (item->kind)
    {
    case KIND_DAEMON:
      return mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                        "the identity of an existing instance cannot change: %s", item->detail);
    case KIND_SOURCE:
      {
        if (!step->pca)
          return update_source (self, item->identity, error);
        g_autoptr (MbdSource) source
                   = mbd_instance_lookup_source (self->instance, item->identity, error);
        return source != NULL && mbd_source_check (source, cancellable, error);
      }
    case KIND_REPOSITORY:
      {
        if (!step->pca)
          return update_repository (self, wanted, item->identity, cancellable, error);
        g_autoptr (MbdRepository) repo
                   = mbd_instance_lookup_repository (self->instance, item->identity, error);
        /* prepare: publish every distribution (a new instance's default repository is not
         * published yet), then check */
        return repo != NULL && mbd_repository_publish (repo, TRUE, cancellable, error)
               && mbd_repository_check (repo, NULL, cancellable, error);
      }
    case KIND_CHROOT:
      {
        g_autoptr (MbdChroot) chroot = chroot_for (self, wanted, item->identity, error);
        if (chroot == NULL)
          return FALSE;
        if (!step->pca)
          return mbd_chroot_store (chroot, error);
        if (mbd_chroot_get_state (chroot) == MBD_CHROOT_STATE_ACTIVE)
          return mbd_chroot_check (chroot, cancellable, error);
        return mbd_chroot_create (chroot, NULL, cancellable, error);
      }
    case KIND_DISTRIBUTION:
    case KIND_ARCHIVE:
    default:
      /* not planned: distributions come with the repositories that have them, archives with
       * the sources that use them */
      return TRUE;
    }
}

/* Records a failed step; FALSE if the run must stop (cancelled). */
static gboolean
record (MbdSetup *self, Step *step, GError *step_error, GError **error)
{
  if (step_error == NULL)
    return TRUE;
  if (g_error_matches (step_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, step_error);
      return FALSE;
    }
  g_hash_table_replace (
      self->failures, g_strdup (step->item->id),
      g_strdup_printf ("%s: %s", step->pca ? "pca" : "update", step_error->message));
  g_error_free (step_error);
  return TRUE;
}

static void
emit_progress (MbdSetup *self, Step *step)
{
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, step->item, step->pca ? "pca" : "update");
}

/**
 * mbd_setup_run:
 * @self: a setup
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Creates or changes the instances the `update` option selects that are MISSING or CHANGED,
 * then prepares, checks and activates the sources, repositories and chroots the `pca` option
 * selects. A step that fails does not stop the run: the next [method@Mbd.Setup.inspect] gives
 * its instance as FAILED with the error. Creating a chroot may take minutes: in a daemon use
 * [method@Mbd.Setup.run_async].
 *
 * Returns: %TRUE when the run went through (look at the inspection for failed steps); %FALSE
 *   with %MBD_ERROR_INVALID_ARGUMENT for a selected id no instance has, a database error, or
 *   %G_IO_ERROR_CANCELLED
 */
gboolean
mbd_setup_run (MbdSetup *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_SETUP (self), FALSE);

  g_autoptr (Wanted) wanted = NULL;
  g_autoptr (GPtrArray) steps = plan (self, &wanted, error);
  if (steps == NULL)
    return FALSE;
  for (guint i = 0; i < steps->len; i++)
    {
      Step *step = g_ptr_array_index (steps, i);
      GError *step_error = NULL;
      emit_progress (self, step);
      if (!run_step (self, wanted, step, cancellable, &step_error)
          && !record (self, step, step_error, error))
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  Wanted *wanted;
  GPtrArray *steps;
  guint next;
} RunData;

static void
run_data_free (gpointer data)
{
  RunData *run = data;
  wanted_unref (run->wanted);
  g_ptr_array_unref (run->steps);
  g_free (run);
}

static void
step_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GTask *run_task = task_data;
  RunData *run = g_task_get_task_data (run_task);
  GError *error = NULL;

  if (run_step (MBD_SETUP (source), run->wanted, g_ptr_array_index (run->steps, run->next),
                cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void run_next (GTask *run_task);

static void
step_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) run_task = user_data;
  MbdSetup *self = MBD_SETUP (object);
  RunData *run = g_task_get_task_data (run_task);
  GError *step_error = NULL;
  g_autoptr (GError) error = NULL;

  g_task_propagate_boolean (G_TASK (result), &step_error);
  if (!record (self, g_ptr_array_index (run->steps, run->next), step_error, &error))
    {
      g_task_return_error (run_task, g_steal_pointer (&error));
      return;
    }
  run->next++;
  run_next (run_task);
}

static void
run_next (GTask *run_task)
{
  MbdSetup *self = g_task_get_source_object (run_task);
  RunData *run = g_task_get_task_data (run_task);

  if (run->next >= run->steps->len)
    {
      g_task_return_boolean (run_task, TRUE);
      return;
    }
  emit_progress (self, g_ptr_array_index (run->steps, run->next));
  g_autoptr (GTask) task = g_task_new (self, g_task_get_cancellable (run_task), step_done,
                                       g_object_ref (run_task));
  g_task_set_task_data (task, run_task, NULL);
  g_task_run_in_thread (task, step_thread);
}

/**
 * mbd_setup_run_async:
 * @self: a setup
 * @cancellable: (nullable): a cancellable
 * @callback: called when the run is over
 * @user_data: data for @callback
 *
 * Runs the setup like [method@Mbd.Setup.run], each step in a worker thread, one after the
 * other; [signal@Mbd.Setup::progress] is emitted on the caller's thread-default main context.
 * Do not change the options while it runs.
 */
void
mbd_setup_run_async (MbdSetup *self,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  g_return_if_fail (MBD_IS_SETUP (self));

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_setup_run_async);
  GError *error = NULL;
  Wanted *wanted = NULL;
  GPtrArray *steps = plan (self, &wanted, &error);
  if (steps == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  RunData *run = g_new0 (RunData, 1);
  run->wanted = wanted;
  run->steps = steps;
  g_task_set_task_data (task, run, run_data_free);
  run_next (task);
}

/**
 * mbd_setup_run_finish:
 * @self: a setup
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [method@Mbd.Setup.run_async].
 *
 * Returns: %TRUE when the run went through; see [method@Mbd.Setup.run]
 */
gboolean
mbd_setup_run_finish (MbdSetup *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_setup_run_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
