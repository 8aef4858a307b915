/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

#include "mbd-apt-sources-private.h"
#include "mbd-control.h"
#include "mbd-enums.h"
#include "mbd-gnupg.h"
#include "mbd-instance-private.h"
#include "mbd-source-private.h"
#include "mbd-util-private.h"

/**
 * MbdSource:
 *
 * An upstream archive that chroots are made from and builds run against, such as Debian's
 * `bookworm` or Ubuntu's `noble`, after mini-buildd's Source model.
 *
 * A source is an origin (the `Origin` of its Release file, "Debian") and a codename (its
 * directory below `dists/`), with one or more mirror URIs, the keyring its Release file must be
 * signed by, and optionally extra identifiers that its Release file must carry (such as
 * `Suite: stable`). Extra sources (security, updates, backports) are sources of their own; a
 * source names them with an APT pin priority (mini-buildd's PrioritySource), see
 * [method@Mbd.Source.add_extra].
 *
 * [ctor@Mbd.Source.new_builtin] knows the Debian and Ubuntu codenames with their keyrings and
 * extra sources, and takes the mirror from the machine's apt sources (`/etc/apt`), so no URL
 * needs to be typed. [method@Mbd.Instance.add_source] stores a source in an instance (state
 * %MBD_SOURCE_STATE_PREPARED).
 *
 * [method@Mbd.Source.check] fetches `dists/<codename>/InRelease` (or `Release` and
 * `Release.gpg`) from the mirrors, verifies it against the keyring (one valid signature is
 * enough, as for apt), matches Origin, Codename and the extra identifiers, refuses an expired
 * `Valid-Until`, and records Architectures, Components, Description and the codeversion. A
 * successful check makes the source %MBD_SOURCE_STATE_ACTIVE; a failed one makes it
 * %MBD_SOURCE_STATE_PREPARED again, with the reason in [method@Mbd.Source.get_check_message].
 */
struct _MbdSource
{
  GObject parent_instance;

  MbdInstance *instance; /* (owned) (nullable): set once stored */
  gint64 id;             /* row id, 0 if not stored */

  char *origin;
  char *codename;
  MbdSourceState state;
  char **mirror_uris;
  char *keyring_file;
  char **extra_identifiers;
  char *remove_from_component;
  char *codeversion_override;
  gboolean check_valid_until;
  int timeout;
  char **extras;          /* codenames of extra sources, in order */
  GHashTable *priorities; /* extra codename -> GINT_TO_POINTER (priority) */

  /* From the last successful check (or built-in knowledge before it). */
  char *codeversion;
  char **components;
  char **architectures;
  char *description;
  char *mirror; /* the mirror that passed the last check */
  GDateTime *check_time;
  char *check_message;
};

G_DEFINE_FINAL_TYPE (MbdSource, mbd_source, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ORIGIN,
  PROP_CODENAME,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* g_set_str() is GLib 2.76. */
static void
set_str (char **slot, const char *value)
{
  char *copy = g_strdup (value);

  g_free (*slot);
  *slot = copy;
}

#define DEBIAN_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"
#define UBUNTU_KEYRING "/usr/share/keyrings/ubuntu-archive-keyring.gpg"

static void
mbd_source_finalize (GObject *object)
{
  MbdSource *self = MBD_SOURCE (object);

  g_clear_object (&self->instance);
  g_free (self->origin);
  g_free (self->codename);
  g_strfreev (self->mirror_uris);
  g_free (self->keyring_file);
  g_strfreev (self->extra_identifiers);
  g_free (self->remove_from_component);
  g_free (self->codeversion_override);
  g_strfreev (self->extras);
  g_hash_table_unref (self->priorities);
  g_free (self->codeversion);
  g_strfreev (self->components);
  g_strfreev (self->architectures);
  g_free (self->description);
  g_free (self->mirror);
  g_clear_pointer (&self->check_time, g_date_time_unref);
  g_free (self->check_message);
  G_OBJECT_CLASS (mbd_source_parent_class)->finalize (object);
}

static void
mbd_source_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MbdSource *self = MBD_SOURCE (object);

  switch (prop_id)
    {
    case PROP_ORIGIN:
      g_value_set_string (value, self->origin);
      break;
    case PROP_CODENAME:
      g_value_set_string (value, self->codename);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mbd_source_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MbdSource *self = MBD_SOURCE (object);

  switch (prop_id)
    {
    case PROP_ORIGIN:
      self->origin = g_value_dup_string (value);
      break;
    case PROP_CODENAME:
      self->codename = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mbd_source_class_init (MbdSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mbd_source_finalize;
  object_class->get_property = mbd_source_get_property;
  object_class->set_property = mbd_source_set_property;

  /**
   * MbdSource:origin:
   *
   * The `Origin` its Release file must have, such as "Debian".
   */
  properties[PROP_ORIGIN]
      = g_param_spec_string ("origin", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * MbdSource:codename:
   *
   * The directory below `dists/`, such as "bookworm"; also the Release file's `Codename`.
   */
  properties[PROP_CODENAME]
      = g_param_spec_string ("codename", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * MbdSource:state:
   *
   * Where the source is in its life cycle; changes when it is stored, checked or removed.
   */
  properties[PROP_STATE]
      = g_param_spec_enum ("state", NULL, NULL, MBD_TYPE_SOURCE_STATE, MBD_SOURCE_STATE_REMOVED,
                           G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mbd_source_init (MbdSource *self)
{
  self->state = MBD_SOURCE_STATE_REMOVED;
  self->mirror_uris = g_new0 (char *, 1);
  self->extra_identifiers = g_new0 (char *, 1);
  self->remove_from_component = g_strdup ("");
  self->check_valid_until = TRUE;
  self->timeout = MBD_SOURCE_DEFAULT_TIMEOUT;
  self->extras = g_new0 (char *, 1);
  self->priorities = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->components = g_new0 (char *, 1);
  self->architectures = g_new0 (char *, 1);
}

/**
 * mbd_source_new:
 * @origin: the `Origin` of the source's Release file, such as "Debian"
 * @codename: the source's directory below `dists/`, such as "bookworm"
 *
 * Creates a source that knows nothing but its name: set at least its mirror URIs and its
 * keyring before storing it with [method@Mbd.Instance.add_source], or use
 * [ctor@Mbd.Source.new_builtin] for a known distribution.
 *
 * Returns: (transfer full): a new source, in state %MBD_SOURCE_STATE_REMOVED until stored
 */
MbdSource *
mbd_source_new (const char *origin, const char *codename)
{
  g_return_val_if_fail (origin != NULL, NULL);
  g_return_val_if_fail (codename != NULL, NULL);

  return g_object_new (MBD_TYPE_SOURCE, "origin", origin, "codename", codename, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Built-in knowledge of Debian and Ubuntu */

enum
{
  EXTRA_SECURITY = 1 << 0,
  EXTRA_UPDATES = 1 << 1,
  EXTRA_BACKPORTS = 1 << 2,
  EXTRA_ALL = EXTRA_SECURITY | EXTRA_UPDATES | EXTRA_BACKPORTS,
};

typedef struct
{
  const char *origin;
  const char *codename;
  const char *version; /* NULL: unreleased */
  guint extras;
} Builtin;

static const Builtin builtins[] = {
  { "Debian", "bullseye", "11", EXTRA_ALL },
  { "Debian", "bookworm", "12", EXTRA_ALL },
  { "Debian", "trixie", "13", EXTRA_ALL },
  { "Debian", "forky", "14", EXTRA_SECURITY | EXTRA_UPDATES },
  { "Debian", "sid", NULL, 0 },
  { "Ubuntu", "focal", "20.04", EXTRA_ALL },
  { "Ubuntu", "jammy", "22.04", EXTRA_ALL },
  { "Ubuntu", "noble", "24.04", EXTRA_ALL },
  { "Ubuntu", "plucky", "25.04", EXTRA_ALL },
  { "Ubuntu", "questing", "25.10", EXTRA_ALL },
};

/* The extra sources: suffix, the bit that enables it, its APT pin priority. */
static const struct
{
  const char *suffix;
  guint bit;
  int priority;
} extra_kinds[] = {
  { "-security", EXTRA_SECURITY, 500 },
  { "-updates", EXTRA_UPDATES, 500 },
  { "-backports", EXTRA_BACKPORTS, 1 },
};

/* The suite names an origin's apt sources use: its codenames and the Debian aliases. */
static char **
family_of (const char *origin)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < G_N_ELEMENTS (builtins); i++)
    if (strcmp (builtins[i].origin, origin) == 0)
      g_strv_builder_add (builder, builtins[i].codename);
  if (strcmp (origin, "Debian") == 0)
    g_strv_builder_add_many (builder, "oldoldstable", "oldstable", "stable", "testing", "unstable",
                             "experimental", NULL);
  return g_strv_builder_end (builder);
}

/**
 * mbd_source_list_builtin_codenames:
 *
 * Lists the codenames [ctor@Mbd.Source.new_builtin] knows, Debian's first, each followed by
 * its extra sources (such as `bookworm-security`).
 *
 * Returns: (transfer full) (array zero-terminated=1): the codenames
 */
char **
mbd_source_list_builtin_codenames (void)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < G_N_ELEMENTS (builtins); i++)
    {
      g_strv_builder_add (builder, builtins[i].codename);
      for (guint k = 0; k < G_N_ELEMENTS (extra_kinds); k++)
        if ((builtins[i].extras & extra_kinds[k].bit) != 0)
          {
            g_autofree char *extra
                = g_strconcat (builtins[i].codename, extra_kinds[k].suffix, NULL);
            g_strv_builder_add (builder, extra);
          }
    }
  return g_strv_builder_end (builder);
}

MbdSource *
mbd_source_new_builtin_from (const char *codename,
                             const char *origin,
                             const char *etc_apt,
                             GError **error)
{
  const Builtin *builtin = NULL;
  int kind = -1;

  for (guint i = 0; i < G_N_ELEMENTS (builtins) && builtin == NULL; i++)
    {
      if (origin != NULL && g_ascii_strcasecmp (origin, builtins[i].origin) != 0)
        continue;
      if (strcmp (codename, builtins[i].codename) == 0)
        {
          builtin = &builtins[i];
          break;
        }
      for (guint k = 0; k < G_N_ELEMENTS (extra_kinds); k++)
        {
          if ((builtins[i].extras & extra_kinds[k].bit) == 0
              || !g_str_has_prefix (codename, builtins[i].codename)
              || strcmp (codename + strlen (builtins[i].codename), extra_kinds[k].suffix) != 0)
            continue;
          builtin = &builtins[i];
          kind = k;
          break;
        }
    }
  if (builtin == NULL)
    {
      g_auto (GStrv) known = mbd_source_list_builtin_codenames ();
      g_autofree char *list = g_strjoinv (", ", known);
      mbd_throw (error, MBD_ERROR_NOT_FOUND,
                 "Codename “%s”%s%s%s is not one mbd knows (%s): give its origin, mirror and "
                 "keyring yourself",
                 codename, origin != NULL ? " of origin “" : "", origin != NULL ? origin : "",
                 origin != NULL ? "”" : "", list);
      return NULL;
    }

  gboolean debian = strcmp (builtin->origin, "Debian") == 0;
  const char *real_origin = builtin->origin;
  /* Debian's backports carry their own Origin. */
  if (debian && kind >= 0 && extra_kinds[kind].bit == EXTRA_BACKPORTS)
    real_origin = "Debian Backports";
  g_autoptr (MbdSource) self = mbd_source_new (real_origin, codename);
  self->keyring_file = g_strdup (debian ? DEBIAN_KEYRING : UBUNTU_KEYRING);
  if (kind < 0)
    self->codeversion = mbd_source_guess_codeversion (builtin->origin, codename, builtin->version);
  /* Debian's security archive lists its components as updates/main ... */
  if (debian && kind >= 0 && extra_kinds[kind].bit == EXTRA_SECURITY)
    set_str (&self->remove_from_component, "updates/");

  g_auto (GStrv) family = family_of (builtin->origin);
  g_autoptr (GPtrArray) entries = mbd_apt_sources_read (etc_apt);
  g_autofree char *mirror
      = mbd_apt_sources_find_mirror (entries, codename, (const char *const *) family, debian);
  if (mirror != NULL)
    {
      const char *uris[] = { mirror, NULL };
      mbd_source_set_mirror_uris (self, uris);
    }

  if (kind < 0)
    {
      for (guint k = 0; k < G_N_ELEMENTS (extra_kinds); k++)
        if ((builtin->extras & extra_kinds[k].bit) != 0)
          {
            g_autofree char *extra = g_strconcat (codename, extra_kinds[k].suffix, NULL);
            mbd_source_add_extra (self, extra, extra_kinds[k].priority);
          }
    }
  return g_steal_pointer (&self);
}

/**
 * mbd_source_new_builtin:
 * @codename: a codename mbd knows, such as "bookworm", "sid", "noble", or an extra source of
 *   one, such as "bookworm-security"
 * @origin: (nullable): "Debian" or "Ubuntu", to look only there
 * @error: return location for a #GError
 *
 * Creates a source from built-in knowledge: its origin, Debian's or Ubuntu's archive keyring
 * (`/usr/share/keyrings/`), its expected codeversion, its extra sources with their APT pin
 * priorities (security and updates 500, backports 1), and the mirror URI the machine's apt
 * sources use for it (`/etc/apt/sources.list` and `/etc/apt/sources.list.d/`, both formats). A
 * security suite nobody lists is taken from the main mirror's path with `-security` appended
 * (Debian's layout).
 *
 * If the apt sources name no mirror for it, the source has no mirror URIs: set them with
 * [method@Mbd.Source.set_mirror_uris].
 *
 * Returns: (transfer full): a new source, or %NULL with %MBD_ERROR_NOT_FOUND if @codename is
 *   not known (the message lists the known ones)
 */
MbdSource *
mbd_source_new_builtin (const char *codename, const char *origin, GError **error)
{
  g_return_val_if_fail (codename != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return mbd_source_new_builtin_from (codename, origin, "/etc/apt", error);
}

/**
 * mbd_source_guess_codeversion:
 * @origin: the origin, such as "Debian" or "Ubuntu"
 * @codename: the codename, such as "bookworm"
 * @version: (nullable): the Release file's `Version`, such as "12.8", "22.04" or "12-updates"
 *
 * Derives the codeversion, the short distribution number in mini-buildd's version suffixes
 * (`~test12+1`): for Ubuntu YYMM ("22.04" gives "2204"); for Debian the major number ("12.8"
 * gives "12"), or for Debian 6 and older the major and minor number ("6.0.10" gives "60"); with
 * no (numeric) version, as for sid, `~` and the upper-case codename ("~SID").
 *
 * Returns: (transfer full): the codeversion
 */
char *
mbd_source_guess_codeversion (const char *origin, const char *codename, const char *version)
{
  g_return_val_if_fail (origin != NULL, NULL);
  g_return_val_if_fail (codename != NULL, NULL);

  unsigned int major = 0, minor = 0;
  int n = version != NULL ? sscanf (version, "%u.%u", &major, &minor) : 0;
  if (n < 1)
    {
      g_autofree char *upper = g_ascii_strup (codename, -1);
      return g_strconcat ("~", upper, NULL);
    }
  if (g_ascii_strcasecmp (origin, "Ubuntu") == 0)
    return g_strdup_printf ("%u%02u", major, n == 2 ? minor : 0);
  if (major <= 6 && n == 2)
    return g_strdup_printf ("%u%u", major, minor);
  return g_strdup_printf ("%u", major);
}

/* ------------------------------------------------------------------------------------------ */
/* Accessors */

/**
 * mbd_source_get_origin:
 * @self: a #MbdSource
 *
 * Gets the `Origin` the source's Release file must have.
 *
 * Returns: the origin, such as "Debian"
 */
const char *
mbd_source_get_origin (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return self->origin;
}

/**
 * mbd_source_get_codename:
 * @self: a #MbdSource
 *
 * Gets the codename: the directory below `dists/` and the Release file's `Codename`.
 *
 * Returns: the codename, such as "bookworm"
 */
const char *
mbd_source_get_codename (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return self->codename;
}

/**
 * mbd_source_get_state:
 * @self: a #MbdSource
 *
 * Gets the state: removed (not stored), prepared (stored, not or not successfully checked) or
 * active (the last check succeeded).
 *
 * Returns: the state
 */
MbdSourceState
mbd_source_get_state (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), MBD_SOURCE_STATE_REMOVED);
  return self->state;
}

/**
 * mbd_source_get_mirror_uris:
 * @self: a #MbdSource
 *
 * Gets the mirror URIs the source is fetched from, in the order they are tried, such as
 * `http://mirror.example/debian`, without trailing slash.
 *
 * Returns: (transfer none) (array zero-terminated=1): the mirror URIs, possibly none
 */
const char *const *
mbd_source_get_mirror_uris (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return (const char *const *) self->mirror_uris;
}

/**
 * mbd_source_set_mirror_uris:
 * @self: a #MbdSource
 * @uris: (array zero-terminated=1): http or https URIs of the archive's root, the directory
 *   holding `dists/`
 *
 * Sets the mirror URIs, tried in this order by [method@Mbd.Source.check]. Trailing slashes are
 * removed. Takes effect in the instance when the source is stored.
 */
void
mbd_source_set_mirror_uris (MbdSource *self, const char *const *uris)
{
  g_return_if_fail (MBD_IS_SOURCE (self));
  g_return_if_fail (uris != NULL);

  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (guint i = 0; uris[i] != NULL; i++)
    {
      g_autofree char *uri = g_strdup (uris[i]);
      gsize len = strlen (uri);
      while (len > 0 && uri[len - 1] == '/')
        uri[--len] = '\0';
      g_strv_builder_add (builder, uri);
    }
  g_strfreev (self->mirror_uris);
  self->mirror_uris = g_strv_builder_end (builder);
}

/**
 * mbd_source_get_mirror_uri:
 * @self: a #MbdSource
 *
 * Gets the mirror to use for APT lines and chroots: the one that passed the last check, or
 * else the first mirror URI.
 *
 * Returns: (nullable): the mirror URI, or %NULL if the source has none
 */
const char *
mbd_source_get_mirror_uri (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  if (self->mirror != NULL)
    return self->mirror;
  return self->mirror_uris[0];
}

/**
 * mbd_source_get_keyring_file:
 * @self: a #MbdSource
 *
 * Gets the keyring the source's Release file must be signed by: a file of OpenPGP keys usable
 * as apt's `signed-by` and as `mmdebstrap --keyring`.
 *
 * Returns: (nullable) (type filename): the keyring's path, or %NULL if not set
 */
const char *
mbd_source_get_keyring_file (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return self->keyring_file;
}

/**
 * mbd_source_set_keyring_file:
 * @self: a #MbdSource
 * @path: (type filename): a binary keyring or a file of ASCII armored keys; a relative path is
 *   made absolute
 *
 * Sets the keyring the source's Release file must be signed by.
 */
void
mbd_source_set_keyring_file (MbdSource *self, const char *path)
{
  g_return_if_fail (MBD_IS_SOURCE (self));
  g_return_if_fail (path != NULL);

  g_free (self->keyring_file);
  if (g_path_is_absolute (path))
    self->keyring_file = g_strdup (path);
  else
    {
      g_autofree char *cwd = g_get_current_dir ();
      self->keyring_file = g_build_filename (cwd, path, NULL);
    }
}

/**
 * mbd_source_get_extra_identifiers:
 * @self: a #MbdSource
 *
 * Gets the further Release fields the source's Release file must carry, each as
 * `Field: value`, such as `Suite: stable`.
 *
 * Returns: (transfer none) (array zero-terminated=1): the extra identifiers, possibly none
 */
const char *const *
mbd_source_get_extra_identifiers (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return (const char *const *) self->extra_identifiers;
}

/**
 * mbd_source_set_extra_identifiers:
 * @self: a #MbdSource
 * @identifiers: (array zero-terminated=1): `Field: value` strings, such as `Suite: stable`;
 *   `Origin` and `Codename` are the source's own and not allowed here
 *
 * Sets further Release fields the source's Release file must carry (mini-buildd's
 * `extra_identifiers`). Malformed entries are refused when the source is stored.
 */
void
mbd_source_set_extra_identifiers (MbdSource *self, const char *const *identifiers)
{
  g_return_if_fail (MBD_IS_SOURCE (self));
  g_return_if_fail (identifiers != NULL);

  g_strfreev (self->extra_identifiers);
  self->extra_identifiers = g_strdupv ((char **) identifiers);
}

/**
 * mbd_source_get_remove_from_component:
 * @self: a #MbdSource
 *
 * Gets the prefix removed from the Release file's component names, such as `updates/` for
 * Debian's security archive.
 *
 * Returns: the prefix, "" for none
 */
const char *
mbd_source_get_remove_from_component (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return self->remove_from_component;
}

/**
 * mbd_source_set_remove_from_component:
 * @self: a #MbdSource
 * @prefix: the prefix to remove from component names, "" for none
 *
 * Sets the prefix removed from the Release file's component names, so that the components are
 * those an APT line names.
 */
void
mbd_source_set_remove_from_component (MbdSource *self, const char *prefix)
{
  g_return_if_fail (MBD_IS_SOURCE (self));
  g_return_if_fail (prefix != NULL);
  set_str (&self->remove_from_component, prefix);
}

/**
 * mbd_source_get_codeversion_override:
 * @self: a #MbdSource
 *
 * Gets the codeversion set by hand, which wins over the one derived from the Release file.
 *
 * Returns: (nullable): the codeversion override, or %NULL
 */
const char *
mbd_source_get_codeversion_override (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return self->codeversion_override;
}

/**
 * mbd_source_set_codeversion_override:
 * @self: a #MbdSource
 * @codeversion: (nullable): the codeversion to use, or %NULL to derive it
 *
 * Sets a codeversion by hand (mini-buildd's `codeversion_override`).
 */
void
mbd_source_set_codeversion_override (MbdSource *self, const char *codeversion)
{
  g_return_if_fail (MBD_IS_SOURCE (self));
  set_str (&self->codeversion_override, codeversion);
}

/**
 * mbd_source_get_check_valid_until:
 * @self: a #MbdSource
 *
 * Gets whether a check refuses a Release file whose `Valid-Until` has passed.
 *
 * Returns: %TRUE if `Valid-Until` is checked (the default)
 */
gboolean
mbd_source_get_check_valid_until (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), FALSE);
  return self->check_valid_until;
}

/**
 * mbd_source_set_check_valid_until:
 * @self: a #MbdSource
 * @check: whether to refuse an expired Release file
 *
 * Sets whether a check refuses a Release file whose `Valid-Until` has passed; turn it off for
 * snapshot mirrors and caches that serve old files.
 */
void
mbd_source_set_check_valid_until (MbdSource *self, gboolean check)
{
  g_return_if_fail (MBD_IS_SOURCE (self));
  self->check_valid_until = check;
}

/**
 * mbd_source_get_timeout:
 * @self: a #MbdSource
 *
 * Gets how long a check waits for a mirror.
 *
 * Returns: the timeout in seconds
 */
int
mbd_source_get_timeout (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), 0);
  return self->timeout;
}

/**
 * mbd_source_set_timeout:
 * @self: a #MbdSource
 * @seconds: seconds to wait, at least 1
 *
 * Sets how long a check waits for a mirror: for the connection, and for each whole download
 * (%MBD_SOURCE_DEFAULT_TIMEOUT by default).
 */
void
mbd_source_set_timeout (MbdSource *self, int seconds)
{
  g_return_if_fail (MBD_IS_SOURCE (self));
  g_return_if_fail (seconds > 0);
  self->timeout = seconds;
}

/**
 * mbd_source_get_extras:
 * @self: a #MbdSource
 *
 * Gets the codenames of the source's extra sources (such as `bookworm-security`), in order;
 * see [method@Mbd.Source.get_extra_priority] for their APT pin priorities.
 *
 * Returns: (transfer none) (array zero-terminated=1): the extra sources' codenames
 */
const char *const *
mbd_source_get_extras (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return (const char *const *) self->extras;
}

/**
 * mbd_source_get_extra_priority:
 * @self: a #MbdSource
 * @codename: the codename of an extra source
 *
 * Gets the APT pin priority of an extra source.
 *
 * Returns: the priority, or 0 if @codename is not an extra source of @self
 */
int
mbd_source_get_extra_priority (MbdSource *self, const char *codename)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), 0);
  g_return_val_if_fail (codename != NULL, 0);
  return GPOINTER_TO_INT (g_hash_table_lookup (self->priorities, codename));
}

/**
 * mbd_source_add_extra:
 * @self: a #MbdSource
 * @codename: the codename of another source, such as `bookworm-security`
 * @priority: its APT pin priority, such as 500 (used like the base) or 1 (only on request)
 *
 * Names an extra source used together with @self, with an APT pin priority (mini-buildd's
 * PrioritySource). Adding a codename again changes its priority. Takes effect in the instance
 * when the source is stored.
 */
void
mbd_source_add_extra (MbdSource *self, const char *codename, int priority)
{
  g_return_if_fail (MBD_IS_SOURCE (self));
  g_return_if_fail (codename != NULL);

  if (!g_strv_contains ((const char *const *) self->extras, codename))
    {
      guint n = g_strv_length (self->extras);
      self->extras = g_renew (char *, self->extras, n + 2);
      self->extras[n] = g_strdup (codename);
      self->extras[n + 1] = NULL;
    }
  g_hash_table_insert (self->priorities, g_strdup (codename), GINT_TO_POINTER (priority));
}

/**
 * mbd_source_get_codeversion:
 * @self: a #MbdSource
 *
 * Gets the codeversion: the override if set, else the one derived from the last successful
 * check's `Version` (see [func@Mbd.Source.guess_codeversion]), else, for a built-in source
 * not yet checked, the one its known version gives.
 *
 * Returns: (nullable): the codeversion, such as "12", or %NULL if not known yet
 */
const char *
mbd_source_get_codeversion (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  if (self->codeversion_override != NULL)
    return self->codeversion_override;
  return self->codeversion;
}

/**
 * mbd_source_get_components:
 * @self: a #MbdSource
 *
 * Gets the components the last successful check found in the Release file, without the
 * [method@Mbd.Source.get_remove_from_component] prefix.
 *
 * Returns: (transfer none) (array zero-terminated=1): the components, none before a check
 */
const char *const *
mbd_source_get_components (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return (const char *const *) self->components;
}

/**
 * mbd_source_get_architectures:
 * @self: a #MbdSource
 *
 * Gets the architectures the last successful check found in the Release file, without `all`.
 *
 * Returns: (transfer none) (array zero-terminated=1): the architectures, none before a check
 */
const char *const *
mbd_source_get_architectures (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return (const char *const *) self->architectures;
}

/**
 * mbd_source_get_description:
 * @self: a #MbdSource
 *
 * Gets the Release file's `Description` from the last successful check.
 *
 * Returns: (nullable): the description
 */
const char *
mbd_source_get_description (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return self->description;
}

/**
 * mbd_source_get_check_message:
 * @self: a #MbdSource
 *
 * Gets the result of the last check: what failed, or what was found.
 *
 * Returns: (nullable): the message, or %NULL if never checked
 */
const char *
mbd_source_get_check_message (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return self->check_message;
}

/**
 * mbd_source_get_check_time:
 * @self: a #MbdSource
 *
 * Gets when the source was last checked.
 *
 * Returns: (nullable) (transfer none): the time of the last check, or %NULL if never checked
 */
GDateTime *
mbd_source_get_check_time (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return self->check_time;
}

/* "URI SUITE COMPONENTS" */
static char *
source_line (MbdSource *self)
{
  const char *mirror = mbd_source_get_mirror_uri (self);
  g_autofree char *components = g_strjoinv (" ", self->components);

  if (mirror == NULL)
    return NULL;
  return g_strdup_printf ("%s %s %s", mirror, self->codename,
                          components[0] != '\0' ? components : "main");
}

/**
 * mbd_source_get_apt_line:
 * @self: a #MbdSource
 *
 * Gets the source's APT line without type and options: `URI SUITE COMPONENT...`, from the
 * mirror of [method@Mbd.Source.get_mirror_uri] and the checked components (`main` before a
 * check), such as `http://mirror.example/debian bookworm main contrib`.
 *
 * Returns: (transfer full) (nullable): the line, or %NULL if the source has no mirror
 */
char *
mbd_source_get_apt_line (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  return source_line (self);
}

/**
 * mbd_source_get_apt_pin:
 * @self: a #MbdSource
 *
 * Gets the APT preferences `Pin:` value selecting this source, built from its origin,
 * codename and extra identifiers as mini-buildd does, such as
 * `release o=Debian,n=bookworm-security`.
 *
 * Returns: (transfer full): the pin
 */
char *
mbd_source_get_apt_pin (MbdSource *self)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);

  g_autoptr (GString) pin = g_string_new ("release ");
  g_string_append_printf (pin, "o=%s,n=%s", self->origin, self->codename);
  static const struct
  {
    const char *field, *key;
  } keys[] = { { "Suite", "a" }, { "Version", "v" }, { "Label", "l" } };
  for (guint i = 0; self->extra_identifiers[i] != NULL; i++)
    for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
      {
        gsize len = strlen (keys[k].field);
        const char *id = self->extra_identifiers[i];
        if (g_ascii_strncasecmp (id, keys[k].field, len) != 0 || id[len] != ':')
          continue;
        g_autofree char *value = g_strstrip (g_strdup (id + len + 1));
        g_string_append_printf (pin, ",%s=%s", keys[k].key, value);
      }
  return g_string_free (g_steal_pointer (&pin), FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Storage */

static char *
join_lines (char **strv)
{
  return g_strjoinv ("\n", strv);
}

static char **
split_nonempty (const char *text, const char *separators)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) parts = g_strsplit_set (text != NULL ? text : "", separators, -1);

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_strv_builder_add (builder, parts[i]);
  return g_strv_builder_end (builder);
}

static void
set_state (MbdSource *self, MbdSourceState state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static gboolean
validate_for_store (MbdSource *self, GError **error)
{
  if (self->codename[0] == '\0' || strpbrk (self->codename, "/ \t\n") != NULL
      || strcmp (self->codename, "..") == 0 || strcmp (self->codename, ".") == 0)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "Source codename “%s” is not a directory name below dists/", self->codename);
  if (self->origin[0] == '\0')
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "Source %s has an empty origin",
                      self->codename);
  if (self->mirror_uris[0] == NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "Source %s has no mirror URI, and the apt sources of this machine name "
                      "none for it: give one (mbd source add %s --mirror URI)",
                      self->codename, self->codename);
  for (guint i = 0; self->mirror_uris[i] != NULL; i++)
    {
      const char *uri = self->mirror_uris[i];
      if (!g_uri_is_valid (uri, G_URI_FLAGS_NONE, NULL)
          || (!g_str_has_prefix (uri, "http://") && !g_str_has_prefix (uri, "https://")))
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                          "Mirror URI “%s” of source %s is not an http:// or https:// URI", uri,
                          self->codename);
    }
  if (self->keyring_file == NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "Source %s has no keyring",
                      self->codename);
  if (!g_file_test (self->keyring_file, G_FILE_TEST_IS_REGULAR))
    return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                      "Keyring %s of source %s does not exist: install %s, or give another "
                      "keyring",
                      self->keyring_file, self->codename,
                      g_str_has_prefix (self->keyring_file, "/usr/share/keyrings/")
                          ? "the package that ships it (debian-archive-keyring, ubuntu-keyring)"
                          : "it");
  for (guint i = 0; self->extra_identifiers[i] != NULL; i++)
    {
      const char *id = self->extra_identifiers[i];
      const char *colon = strchr (id, ':');
      if (colon == NULL || colon == id)
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                          "Extra identifier “%s” of source %s is not “Field: value”", id,
                          self->codename);
      if (g_ascii_strncasecmp (id, "Origin:", 7) == 0
          || g_ascii_strncasecmp (id, "Codename:", 9) == 0)
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                          "Extra identifier “%s” of source %s: Origin and Codename are the "
                          "source's own, not extra identifiers",
                          id, self->codename);
    }
  return TRUE;
}

static gboolean
insert_extras (MbdDb *db, MbdSource *self, GError **error)
{
  for (guint i = 0; self->extras[i] != NULL; i++)
    {
      g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
          db,
          "INSERT INTO source_extras (source_id, extra_codename, priority, position) "
          "VALUES (?, ?, ?, ?)",
          error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, self->id);
      sqlite3_bind_text (stmt, 2, self->extras[i], -1, SQLITE_TRANSIENT);
      sqlite3_bind_int (stmt, 3, mbd_source_get_extra_priority (self, self->extras[i]));
      sqlite3_bind_int (stmt, 4, i);
      if (!mbd_db_step_done (db, stmt, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
insert_source (MbdDb *db, MbdSource *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "INSERT INTO sources (origin, codename, mirrors, keyring, extra_identifiers, "
      "remove_from_component, codeversion_override, check_valid_until, timeout, status, "
      "codeversion) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
      error);
  if (stmt == NULL)
    return FALSE;
  g_autofree char *mirrors = join_lines (self->mirror_uris);
  g_autofree char *identifiers = join_lines (self->extra_identifiers);
  sqlite3_bind_text (stmt, 1, self->origin, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, self->codename, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, mirrors, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, self->keyring_file, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, identifiers, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, self->remove_from_component, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 7, self->codeversion_override, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 8, self->check_valid_until ? 1 : 0);
  sqlite3_bind_int (stmt, 9, self->timeout);
  sqlite3_bind_text (stmt, 10, self->codeversion, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      if ((sqlite3_extended_errcode (mbd_db_get_handle (db)) & 0xff) == SQLITE_CONSTRAINT)
        return mbd_throw (error, MBD_ERROR_EXISTS, "Source %s (%s) exists already", self->codename,
                          self->origin);
      return mbd_db_throw (db, sqlite3_errcode (mbd_db_get_handle (db)), "cannot store source",
                           error);
    }
  self->id = sqlite3_last_insert_rowid (mbd_db_get_handle (db));
  return insert_extras (db, self, error);
}

static MbdDb *
open_db (MbdInstance *instance, GError **error)
{
  MbdDb *db = mbd_instance_get_db (instance);

  if (db == NULL)
    mbd_throw (error, MBD_ERROR_FAILED, "Instance %s is not open",
               mbd_instance_get_home (instance));
  return db;
}

/**
 * mbd_instance_add_source:
 * @instance: an open #MbdInstance
 * @source: a source not stored yet, such as one from [ctor@Mbd.Source.new_builtin]
 * @error: return location for a #GError
 *
 * Stores @source in @instance, with its extra sources' names and priorities (the extra sources
 * themselves are sources of their own: add them too). The source becomes
 * %MBD_SOURCE_STATE_PREPARED; check it with [method@Mbd.Source.check] to make it active.
 *
 * Returns: %TRUE if stored; %FALSE with %MBD_ERROR_EXISTS if the instance has a source of this
 *   origin and codename, %MBD_ERROR_INVALID_ARGUMENT if the source has no mirror URI, a mirror
 *   URI that is not http(s), or a malformed extra identifier, %MBD_ERROR_NOT_FOUND if its
 *   keyring file does not exist, or %MBD_ERROR_DATABASE
 */
gboolean
mbd_instance_add_source (MbdInstance *instance, MbdSource *source, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), FALSE);
  g_return_val_if_fail (MBD_IS_SOURCE (source), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (source->id != 0)
    return mbd_throw (error, MBD_ERROR_EXISTS, "Source %s is stored already", source->codename);
  MbdDb *db = open_db (instance, error);
  if (db == NULL || !validate_for_store (source, error))
    return FALSE;
  if (!mbd_db_begin (db, error))
    return FALSE;
  if (!insert_source (db, source, error))
    {
      mbd_db_rollback (db);
      source->id = 0;
      return FALSE;
    }
  if (!mbd_db_commit (db, error))
    {
      source->id = 0;
      return FALSE;
    }
  g_set_object (&source->instance, instance);
  set_state (source, MBD_SOURCE_STATE_PREPARED);
  return TRUE;
}

#define SOURCE_COLUMNS                                                                             \
  "id, origin, codename, mirrors, keyring, extra_identifiers, remove_from_component, "             \
  "codeversion_override, check_valid_until, timeout, status, codeversion, components, "            \
  "architectures, description, mirror, check_time, check_message"

static const char *
column_text (sqlite3_stmt *stmt, int column)
{
  return (const char *) sqlite3_column_text (stmt, column);
}

static gboolean
load_extras (MbdDb *db, MbdSource *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT extra_codename, priority FROM source_extras WHERE source_id = ? ORDER BY position",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, self->id);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    mbd_source_add_extra (self, column_text (stmt, 0), sqlite3_column_int (stmt, 1));
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db, rc, "cannot read extra sources", error);
  return TRUE;
}

static MbdSource *
source_from_row (MbdInstance *instance, MbdDb *db, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (MbdSource) self = mbd_source_new (column_text (stmt, 1), column_text (stmt, 2));

  self->instance = g_object_ref (instance);
  self->id = sqlite3_column_int64 (stmt, 0);
  g_strfreev (self->mirror_uris);
  self->mirror_uris = split_nonempty (column_text (stmt, 3), "\n");
  self->keyring_file = g_strdup (column_text (stmt, 4));
  g_strfreev (self->extra_identifiers);
  self->extra_identifiers = split_nonempty (column_text (stmt, 5), "\n");
  set_str (&self->remove_from_component, column_text (stmt, 6));
  self->codeversion_override = g_strdup (column_text (stmt, 7));
  self->check_valid_until = sqlite3_column_int (stmt, 8) != 0;
  self->timeout = sqlite3_column_int (stmt, 9);
  self->state = sqlite3_column_int (stmt, 10);
  self->codeversion = g_strdup (column_text (stmt, 11));
  g_strfreev (self->components);
  self->components = split_nonempty (column_text (stmt, 12), " ");
  g_strfreev (self->architectures);
  self->architectures = split_nonempty (column_text (stmt, 13), " ");
  self->description = g_strdup (column_text (stmt, 14));
  self->mirror = g_strdup (column_text (stmt, 15));
  if (sqlite3_column_type (stmt, 16) != SQLITE_NULL)
    self->check_time = g_date_time_new_from_unix_utc (sqlite3_column_int64 (stmt, 16));
  self->check_message = g_strdup (column_text (stmt, 17));
  if (!load_extras (db, self, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mbd_instance_lookup_source:
 * @instance: an open #MbdInstance
 * @codename: the codename of a stored source, such as "bookworm"
 * @error: return location for a #GError
 *
 * Looks up a stored source by its codename.
 *
 * Returns: (transfer full): the source, or %NULL with %MBD_ERROR_NOT_FOUND if the instance has
 *   none of this codename, %MBD_ERROR_INVALID_ARGUMENT if it has several (of different
 *   origins), or %MBD_ERROR_DATABASE
 */
MbdSource *
mbd_instance_lookup_source (MbdInstance *instance, const char *codename, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (codename != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  MbdDb *db = open_db (instance, error);
  if (db == NULL)
    return NULL;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT " SOURCE_COLUMNS " FROM sources WHERE codename = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, codename, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      mbd_throw (error, MBD_ERROR_NOT_FOUND,
                 "Instance %s has no source “%s”; add it with 'mbd source add %s'",
                 mbd_instance_get_home (instance), codename, codename);
      return NULL;
    }
  if (rc != SQLITE_ROW)
    {
      mbd_db_throw (db, rc, "cannot read sources", error);
      return NULL;
    }
  g_autoptr (MbdSource) source = source_from_row (instance, db, stmt, error);
  if (source == NULL)
    return NULL;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "Codename “%s” names sources of origins %s and %s in instance %s", codename,
                 source->origin, column_text (stmt, 1), mbd_instance_get_home (instance));
      return NULL;
    }
  return g_steal_pointer (&source);
}

/**
 * mbd_instance_list_sources:
 * @instance: an open #MbdInstance
 * @error: return location for a #GError
 *
 * Lists the stored sources, by origin and codename.
 *
 * Returns: (transfer container) (element-type Mbd.Source): the sources, or %NULL with
 *   %MBD_ERROR_DATABASE
 */
GPtrArray *
mbd_instance_list_sources (MbdInstance *instance, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  MbdDb *db = open_db (instance, error);
  if (db == NULL)
    return NULL;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db, "SELECT " SOURCE_COLUMNS " FROM sources ORDER BY origin, codename", error);
  if (stmt == NULL)
    return NULL;
  g_autoptr (GPtrArray) sources = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      MbdSource *source = source_from_row (instance, db, stmt, error);
      if (source == NULL)
        return NULL;
      g_ptr_array_add (sources, source);
    }
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db, rc, "cannot read sources", error);
      return NULL;
    }
  return g_steal_pointer (&sources);
}

/**
 * mbd_instance_remove_source:
 * @instance: an open #MbdInstance
 * @codename: the codename of a stored source
 * @error: return location for a #GError
 *
 * Removes a stored source and its list of extra sources (the extra sources themselves stay).
 * Objects of it that are still held keep their last values.
 *
 * Returns: %TRUE if removed; %FALSE with the errors of [method@Mbd.Instance.lookup_source]
 */
gboolean
mbd_instance_remove_source (MbdInstance *instance, const char *codename, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), FALSE);
  g_return_val_if_fail (codename != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autoptr (MbdSource) source = mbd_instance_lookup_source (instance, codename, error);
  if (source == NULL)
    return FALSE;
  MbdDb *db = mbd_instance_get_db (instance);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db, "DELETE FROM sources WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, source->id);
  return mbd_db_step_done (db, stmt, error);
}

/**
 * mbd_source_get_extra_sources:
 * @self: a stored #MbdSource
 * @error: return location for a #GError
 *
 * Gets the APT lines of the extra sources that are stored and active, in the order of
 * [method@Mbd.Source.get_extras], each as `URI SUITE COMPONENT...` (see
 * [method@Mbd.Source.get_apt_line]), such as
 * `http://mirror.example/debian-security bookworm-security main`. Extra sources that are
 * missing or not active are left out: a build cannot use them.
 *
 * Returns: (transfer full) (array zero-terminated=1): the lines, or %NULL with
 *   %MBD_ERROR_DATABASE
 */
char **
mbd_source_get_extra_sources (MbdSource *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  if (self->instance == NULL)
    return g_strv_builder_end (builder);
  for (guint i = 0; self->extras[i] != NULL; i++)
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (MbdSource) extra
                 = mbd_instance_lookup_source (self->instance, self->extras[i], &local_error);
      if (extra == NULL && !g_error_matches (local_error, MBD_ERROR, MBD_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      if (extra == NULL || extra->state != MBD_SOURCE_STATE_ACTIVE)
        continue;
      g_autofree char *line = source_line (extra);
      if (line != NULL)
        g_strv_builder_add (builder, line);
    }
  return g_strv_builder_end (builder);
}

/* ------------------------------------------------------------------------------------------ */
/* Check */

/* What a check needs, copied from the source when it starts (so a worker thread never reads
 * the object), and what it found, applied to the object in the caller's thread. */
typedef struct
{
  MbdInstance *instance; /* (owned) (nullable) */
  gint64 id;
  char *origin;
  char *codename;
  char **mirrors;
  char *keyring;
  char **identifiers;
  char *remove_prefix;
  gboolean check_valid_until;
  int timeout;

  gboolean cancelled;
  GError *error;
  char *mirror;
  char *codeversion;
  char **components;
  char **architectures;
  char *description;
  char *message;
  GDateTime *check_time;
} Check;

static Check *
check_new (MbdSource *self)
{
  Check *check = g_new0 (Check, 1);

  check->instance = self->instance != NULL ? g_object_ref (self->instance) : NULL;
  check->id = self->id;
  check->origin = g_strdup (self->origin);
  check->codename = g_strdup (self->codename);
  check->mirrors = g_strdupv (self->mirror_uris);
  check->keyring = g_strdup (self->keyring_file);
  check->identifiers = g_strdupv (self->extra_identifiers);
  check->remove_prefix = g_strdup (self->remove_from_component);
  check->check_valid_until = self->check_valid_until;
  check->timeout = self->timeout;
  return check;
}

static void
check_free (gpointer data)
{
  Check *check = data;

  g_clear_object (&check->instance);
  g_free (check->origin);
  g_free (check->codename);
  g_strfreev (check->mirrors);
  g_free (check->keyring);
  g_strfreev (check->identifiers);
  g_free (check->remove_prefix);
  g_clear_error (&check->error);
  g_free (check->mirror);
  g_free (check->codeversion);
  g_strfreev (check->components);
  g_strfreev (check->architectures);
  g_free (check->description);
  g_free (check->message);
  g_clear_pointer (&check->check_time, g_date_time_unref);
  g_free (check);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Check, check_free)

typedef struct
{
  GCancellable *cancellable; /* cancels the request: the caller's, or the deadline */
  GBytes *body;
  GError *error;
  gboolean done;
  gboolean timed_out;
} Fetch;

static void
on_fetched (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Fetch *fetch = user_data;

  fetch->body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &fetch->error);
  fetch->done = TRUE;
}

static gboolean
on_deadline (gpointer user_data)
{
  Fetch *fetch = user_data;

  fetch->timed_out = TRUE;
  g_cancellable_cancel (fetch->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_caller_cancelled (GCancellable *cancellable, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* GETs @url through @session, iterating @context (the thread-default one) until the whole
 * body is there or @timeout seconds have passed. Transport failures are
 * MBD_ERROR_UNREACHABLE naming the URL and the time waited; HTTP errors are left to the caller
 * through *out_status. */
static GBytes *
fetch_url (SoupSession *session,
           GMainContext *context,
           const char *url,
           int timeout,
           GCancellable *cancellable,
           guint *out_status,
           GError **error)
{
  g_autoptr (GError) uri_error = NULL;
  g_autoptr (GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &uri_error);
  if (uri == NULL)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "Cannot fetch “%s”: %s", url,
                 uri_error->message);
      return NULL;
    }
  g_autoptr (SoupMessage) message = soup_message_new_from_uri ("GET", uri);
  g_autoptr (GCancellable) request_cancellable = g_cancellable_new ();
  Fetch fetch = { .cancellable = request_cancellable };
  gulong handler = 0;
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                     request_cancellable, NULL);

  g_autoptr (GSource) deadline = g_timeout_source_new ((guint) timeout * 1000);
  g_source_set_callback (deadline, on_deadline, &fetch, NULL);
  g_source_attach (deadline, context);
  gint64 start = g_get_monotonic_time ();
  soup_session_send_and_read_async (session, message, G_PRIORITY_DEFAULT, request_cancellable,
                                    on_fetched, &fetch);
  while (!fetch.done)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (deadline);
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  double waited = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  g_autoptr (GError) fetch_error = fetch.error;
  g_autoptr (GBytes) body = fetch.body;
  if (fetch_error != NULL)
    {
      if (fetch.timed_out || g_error_matches (fetch_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        mbd_throw (error, MBD_ERROR_UNREACHABLE,
                   "Mirror does not answer: GET %s got no complete answer within the timeout of "
                   "%d s (waited %.1f s)",
                   url, timeout, waited);
      else if (g_error_matches (fetch_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&fetch_error));
      else
        mbd_throw (error, MBD_ERROR_UNREACHABLE,
                   "Mirror unreachable: GET %s failed after %.1f s: %s", url, waited,
                   fetch_error->message);
      return NULL;
    }
  *out_status = soup_message_get_status (message);
  return g_steal_pointer (&body);
}

static gboolean
throw_http (const char *url, guint status, GError **error)
{
  MbdError code = status >= 500 ? MBD_ERROR_UNREACHABLE : MBD_ERROR_FAILED;

  return mbd_throw (error, code, "GET %s: the mirror answered HTTP %u %s", url, status,
                    soup_status_get_phrase (status));
}

static gboolean
is_missing (guint status)
{
  return status == SOUP_STATUS_NOT_FOUND || status == SOUP_STATUS_FORBIDDEN
         || status == SOUP_STATUS_GONE;
}

/* A temporary GnuPG home with the source's keyring, made on first need. */
static MbdGnupg *
ensure_gnupg (Check *check, MbdGnupg **gnupg, GCancellable *cancellable, GError **error)
{
  if (*gnupg != NULL)
    return *gnupg;
  g_autoptr (MbdGnupg) home = mbd_gnupg_new_temporary (error);
  if (home == NULL)
    return NULL;
  g_auto (GStrv) imported
          = mbd_gnupg_import_keyring_file (home, check->keyring, cancellable, error);
  if (imported == NULL)
    {
      mbd_prefix_error (error, "Keyring of source %s: ", check->codename);
      return NULL;
    }
  *gnupg = g_steal_pointer (&home);
  return *gnupg;
}

/* Parses an RFC 2822 date as Release files have it: "Sat, 28 Nov 2026 00:53:02 UTC". */
static GDateTime *
parse_release_date (const char *text)
{
  static const char *const months[]
      = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  const char *comma = strchr (text, ',');
  int day, year, hour, minute, second;
  char month[4], zone[16];

  if (sscanf (comma != NULL ? comma + 1 : text, "%d %3s %d %d:%d:%d %15s", &day, month, &year,
              &hour, &minute, &second, zone)
      != 7)
    return NULL;
  int m = -1;
  for (guint i = 0; i < G_N_ELEMENTS (months); i++)
    if (g_ascii_strcasecmp (month, months[i]) == 0)
      m = i + 1;
  if (m < 0)
    return NULL;
  g_autoptr (GTimeZone) tz = NULL;
  if (strcmp (zone, "UTC") == 0 || strcmp (zone, "GMT") == 0 || strcmp (zone, "Z") == 0)
    tz = g_time_zone_new_utc ();
  else
    tz = g_time_zone_new_identifier (zone); /* "+0000" style offsets */
  if (tz == NULL)
    return NULL;
  return g_date_time_new (tz, year, m, day, hour, minute, second);
}

static char **
split_words_without (const char *text, const char *drop, const char *prefix)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) words = split_nonempty (text, " \t\n");

  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *word = words[i];
      if (prefix != NULL && prefix[0] != '\0' && g_str_has_prefix (word, prefix))
        word += strlen (prefix);
      if (drop != NULL && strcmp (word, drop) == 0)
        continue;
      g_strv_builder_add (builder, word);
    }
  return g_strv_builder_end (builder);
}

static gboolean
match_field (MbdParagraph *release,
             const char *url,
             const char *field,
             const char *expected,
             GError **error)
{
  const char *value = mbd_paragraph_get (release, field);

  if (value == NULL)
    return mbd_throw (error, MBD_ERROR_MISSING_FIELD, "%s has no %s field (expected “%s”)", url,
                      field, expected);
  if (strcmp (value, expected) != 0)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                      "%s has %s “%s”, not “%s”: the mirror has another archive there", url, field,
                      value, expected);
  return TRUE;
}

/* Matches the verified Release text against the source and records what it says. */
static gboolean
read_release (Check *check, GBytes *text, const char *url, GError **error)
{
  g_autoptr (MbdControl) control = mbd_control_new_from_bytes (text, url, error);
  if (control == NULL)
    return FALSE;
  if (mbd_control_get_n_paragraphs (control) == 0)
    return mbd_throw (error, MBD_ERROR_PARSE, "%s is empty", url);
  MbdParagraph *release = mbd_control_get_paragraph (control, 0);

  if (!match_field (release, url, "Origin", check->origin, error)
      || !match_field (release, url, "Codename", check->codename, error))
    return FALSE;
  for (guint i = 0; check->identifiers[i] != NULL; i++)
    {
      const char *colon = strchr (check->identifiers[i], ':');
      g_autofree char *field = g_strndup (check->identifiers[i], colon - check->identifiers[i]);
      g_autofree char *value = g_strstrip (g_strdup (colon + 1));
      if (!match_field (release, url, g_strstrip (field), value, error))
        return FALSE;
    }

  const char *valid_until = mbd_paragraph_get (release, "Valid-Until");
  if (check->check_valid_until && valid_until != NULL)
    {
      g_autoptr (GDateTime) until = parse_release_date (valid_until);
      if (until == NULL)
        return mbd_throw (error, MBD_ERROR_PARSE, "%s: Valid-Until “%s” is not a date", url,
                          valid_until);
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
      GTimeSpan age = g_date_time_difference (now, until);
      if (age > 0)
        return mbd_throw (error, MBD_ERROR_EXPIRED,
                          "%s expired: Valid-Until %s is %.1f days ago; the mirror serves "
                          "outdated data (turn the Valid-Until check of source %s off if that "
                          "is expected)",
                          url, valid_until, age / (double) G_TIME_SPAN_DAY, check->codename);
    }

  check->architectures
      = split_words_without (mbd_paragraph_get (release, "Architectures"), "all", NULL);
  check->components
      = split_words_without (mbd_paragraph_get (release, "Components"), NULL, check->remove_prefix);
  check->description = g_strdup (mbd_paragraph_get (release, "Description"));
  check->codeversion = mbd_source_guess_codeversion (check->origin, check->codename,
                                                     mbd_paragraph_get (release, "Version"));
  return TRUE;
}

/* Fetches, verifies and reads the Release file of one mirror. */
static gboolean
check_mirror (Check *check,
              SoupSession *session,
              GMainContext *context,
              MbdGnupg **gnupg,
              const char *mirror,
              GCancellable *cancellable,
              GError **error)
{
  g_autofree char *base = g_strdup_printf ("%s/dists/%s", mirror, check->codename);
  g_autofree char *inrelease_url = g_strconcat (base, "/InRelease", NULL);
  guint status = 0;
  g_autoptr (GBytes) inrelease = fetch_url (session, context, inrelease_url, check->timeout,
                                            cancellable, &status, error);
  if (inrelease == NULL)
    return FALSE;

  g_autofree char *signer = NULL;
  g_autoptr (GBytes) text = NULL;
  const char *url = inrelease_url;
  g_autofree char *release_url = g_strconcat (base, "/Release", NULL);
  if (status == SOUP_STATUS_OK)
    {
      if (ensure_gnupg (check, gnupg, cancellable, error) == NULL)
        return FALSE;
      text = mbd_gnupg_verify_clear_full (*gnupg, inrelease, MBD_GNUPG_VERIFY_ANY_GOOD, &signer,
                                          cancellable, error);
      if (text == NULL)
        return mbd_prefix_error (error, "%s (verified with keyring %s): ", url, check->keyring);
    }
  else if (is_missing (status))
    {
      guint release_status = 0;
      g_autoptr (GBytes) release = fetch_url (session, context, release_url, check->timeout,
                                              cancellable, &release_status, error);
      if (release == NULL)
        return FALSE;
      if (is_missing (release_status))
        return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                          "Neither %s (HTTP %u) nor %s (HTTP %u) exists: the mirror has no "
                          "archive %s",
                          inrelease_url, status, release_url, release_status, check->codename);
      if (release_status != SOUP_STATUS_OK)
        return throw_http (release_url, release_status, error);
      g_autofree char *signature_url = g_strconcat (base, "/Release.gpg", NULL);
      guint signature_status = 0;
      g_autoptr (GBytes) signature = fetch_url (session, context, signature_url, check->timeout,
                                                cancellable, &signature_status, error);
      if (signature == NULL)
        return FALSE;
      if (is_missing (signature_status))
        return mbd_throw (error, MBD_ERROR_UNSIGNED,
                          "%s is not signed: neither InRelease nor %s exists (HTTP %u)",
                          release_url, signature_url, signature_status);
      if (signature_status != SOUP_STATUS_OK)
        return throw_http (signature_url, signature_status, error);
      if (ensure_gnupg (check, gnupg, cancellable, error) == NULL)
        return FALSE;
      if (!mbd_gnupg_verify_detached_full (*gnupg, release, signature, MBD_GNUPG_VERIFY_ANY_GOOD,
                                           &signer, cancellable, error))
        return mbd_prefix_error (error, "%s (verified with keyring %s): ", release_url,
                                 check->keyring);
      text = g_steal_pointer (&release);
      url = release_url;
    }
  else
    return throw_http (inrelease_url, status, error);

  if (!read_release (check, text, url, error))
    return FALSE;
  check->mirror = g_strdup (mirror);
  check->message
      = g_strdup_printf ("%s: signed by %s, codeversion %s", url, signer, check->codeversion);
  return TRUE;
}

static gboolean
store_check (Check *check, GError **error)
{
  MbdDb *db = mbd_instance_get_db (check->instance);
  g_autofree char *components
      = check->components != NULL ? g_strjoinv (" ", check->components) : NULL;
  g_autofree char *architectures
      = check->architectures != NULL ? g_strjoinv (" ", check->architectures) : NULL;
  const char *sql
      = check->error == NULL
            ? "UPDATE sources SET status = 2, check_time = ?, check_message = ?, codeversion = ?, "
              "components = ?, architectures = ?, description = ?, mirror = ? WHERE id = ?"
            : "UPDATE sources SET status = 1, check_time = ?, check_message = ? WHERE id = ?";
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db, sql, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, g_date_time_to_unix (check->check_time));
  sqlite3_bind_text (stmt, 2, check->message, -1, SQLITE_TRANSIENT);
  if (check->error == NULL)
    {
      sqlite3_bind_text (stmt, 3, check->codeversion, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, components, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 5, architectures, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 6, check->description, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 7, check->mirror, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 8, check->id);
    }
  else
    sqlite3_bind_int64 (stmt, 3, check->id);
  return mbd_db_step_done (db, stmt, error);
}

/* The proxy of $http_proxy (and $no_proxy), as apt and most command line tools take it; no
 * proxy without it. GLib's default resolver would consult desktop settings (GSettings), which a
 * daemon must not depend on. */
GProxyResolver *
mbd_proxy_resolver_from_environment (void)
{
  const char *proxy = g_getenv ("http_proxy");

  if (proxy == NULL || proxy[0] == '\0')
    return NULL;
  g_auto (GStrv) ignore = split_nonempty (g_getenv ("no_proxy"), ", ");
  return g_simple_proxy_resolver_new (proxy, ignore);
}

/* Runs the whole check in the calling thread on a private main context; the outcome goes into
 * @check (and the database), never into the source object. */
static void
run_check (Check *check, GCancellable *cancellable)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GString) failures = g_string_new (NULL);
  g_autoptr (MbdGnupg) gnupg = NULL;

  g_main_context_push_thread_default (context);
  g_autoptr (GProxyResolver) proxy_resolver = mbd_proxy_resolver_from_environment ();
  SoupSession *session = soup_session_new_with_options (
      "timeout", check->timeout, "idle-timeout", check->timeout, "user-agent", "mbd/" MBD_VERSION,
      "proxy-resolver", proxy_resolver, NULL);
  if (check->mirrors[0] == NULL)
    mbd_throw (&check->error, MBD_ERROR_INVALID_ARGUMENT, "Source %s has no mirror URI",
               check->codename);
  guint n_failed = 0;
  for (guint i = 0; check->mirrors[i] != NULL; i++)
    {
      g_autoptr (GError) local_error = NULL;
      if (check_mirror (check, session, context, &gnupg, check->mirrors[i], cancellable,
                        &local_error))
        {
          g_clear_error (&check->error);
          break;
        }
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          check->cancelled = TRUE;
          g_clear_error (&check->error);
          check->error = g_steal_pointer (&local_error);
          break;
        }
      g_string_append_printf (failures, "%s%s", n_failed++ > 0 ? "; " : "", local_error->message);
      if (check->error == NULL)
        check->error = g_steal_pointer (&local_error);
    }
  /* The first mirror's error code stands for all; the message lists every mirror's. */
  if (check->error != NULL && !check->cancelled && n_failed > 1)
    {
      g_free (check->error->message);
      check->error->message = g_strdup (failures->str);
    }
  g_object_unref (session);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  if (check->cancelled)
    return;

  check->check_time = g_date_time_new_now_utc ();
  if (check->error != NULL)
    {
      g_clear_pointer (&check->codeversion, g_free);
      check->message = g_strdup (check->error->message);
    }
  if (check->instance == NULL || check->id == 0)
    return;
  g_autoptr (GError) store_error = NULL;
  if (!store_check (check, &store_error) && check->error == NULL)
    check->error = g_steal_pointer (&store_error);
}

/* Applies a finished check to the object, in the caller's thread. */
static gboolean
apply_check (MbdSource *self, Check *check, GError **error)
{
  if (!check->cancelled)
    {
      g_clear_pointer (&self->check_time, g_date_time_unref);
      self->check_time = g_date_time_ref (check->check_time);
      set_str (&self->check_message, check->message);
      if (check->error == NULL)
        {
          set_str (&self->codeversion, check->codeversion);
          set_str (&self->description, check->description);
          set_str (&self->mirror, check->mirror);
          g_strfreev (self->components);
          self->components = g_strdupv (check->components);
          g_strfreev (self->architectures);
          self->architectures = g_strdupv (check->architectures);
        }
      /* A failed check deactivates a stored source; one that is not stored stays removed. */
      if (self->id != 0)
        set_state (self,
                   check->error == NULL ? MBD_SOURCE_STATE_ACTIVE : MBD_SOURCE_STATE_PREPARED);
    }
  if (check->error != NULL)
    {
      g_propagate_error (error, g_error_copy (check->error));
      return FALSE;
    }
  return TRUE;
}

/**
 * mbd_source_check:
 * @self: a #MbdSource
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Checks the source against its mirrors, blocking; [method@Mbd.Source.check_async] is the
 * same without blocking the caller.
 *
 * Each mirror is tried in turn until one passes: `dists/<codename>/InRelease` is fetched (or,
 * if it does not exist, `Release` and `Release.gpg`), with [method@Mbd.Source.get_timeout] as
 * the limit for connecting and for each download; the signature is verified against the
 * source's keyring (one valid signature is enough); Origin, Codename and the extra identifiers
 * must match; `Valid-Until` must not have passed (unless turned off). Then the source records
 * the architectures, components, description and codeversion, and becomes
 * %MBD_SOURCE_STATE_ACTIVE. A failed check makes a stored source
 * %MBD_SOURCE_STATE_PREPARED; either way [method@Mbd.Source.get_check_message] tells the
 * outcome, and a stored source's database row is updated. A cancelled check changes nothing.
 *
 * Returns: %TRUE if a mirror passed; %FALSE with %MBD_ERROR_UNREACHABLE (connection refused,
 *   unresolvable host, no answer within the timeout, HTTP 5xx; the message names the URL and
 *   the time waited), %MBD_ERROR_NOT_FOUND (no such archive on the mirror, or another Origin
 *   or Codename), %MBD_ERROR_UNKNOWN_SIGNER or %MBD_ERROR_BAD_SIGNATURE (or another
 *   verification error of [method@Mbd.Gnupg.verify_clear_full]; the message names the file
 *   and the keyring), %MBD_ERROR_UNSIGNED, %MBD_ERROR_EXPIRED (Valid-Until has passed),
 *   %MBD_ERROR_PARSE, %G_IO_ERROR_CANCELLED, or %MBD_ERROR_DATABASE. With several mirrors the
 *   code is the first mirror's and the message lists all.
 */
gboolean
mbd_source_check (MbdSource *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autoptr (Check) check = check_new (self);
  run_check (check, cancellable);
  return apply_check (self, check, error);
}

static void
check_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  run_check (task_data, cancellable);
  g_task_return_boolean (task, TRUE);
}

/**
 * mbd_source_check_async:
 * @self: a #MbdSource
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the check is done
 * @user_data: data for @callback
 *
 * Starts [method@Mbd.Source.check] in a worker thread; the calling thread's main context keeps
 * running. Finish it with [method@Mbd.Source.check_finish], which updates @self.
 */
void
mbd_source_check_async (MbdSource *self,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_return_if_fail (MBD_IS_SOURCE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_source_check_async);
  /* The worker decides what a cancellation changed; apply_check() follows it. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, check_new (self), check_free);
  g_task_run_in_thread (task, check_thread);
}

/**
 * mbd_source_check_finish:
 * @self: a #MbdSource
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Mbd.Source.check_async] and applies its outcome to @self (state, check
 * message, and on success what the Release file says).
 *
 * Returns: %TRUE if a mirror passed; %FALSE with the errors of [method@Mbd.Source.check]
 */
gboolean
mbd_source_check_finish (MbdSource *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (MBD_IS_SOURCE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_source_check_async, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  return apply_check (self, g_task_get_task_data (G_TASK (result)), error);
}
