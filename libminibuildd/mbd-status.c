/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <json-glib/json-glib.h>

#include "mbd-status.h"
#include "mbd-status-private.h"
#include "mbd-util-private.h"

/**
 * MbdStatus:
 *
 * A snapshot of an instance's status, with the fields of mini-buildd's `status` API call.
 *
 * Get one from [method@Mbd.Instance.get_status]; [method@Mbd.Status.to_json] writes the JSON
 * object that `GET /mini_buildd/api/status/?output=json` answers.
 */
struct _MbdStatus
{
  GObject parent_instance;

  char *version;      /* (owned) */
  char *identity;     /* (owned) */
  char *url;          /* (owned) */
  char *incoming_url; /* (owned) */
  double load;
  GStrv chroots; /* (owned) */
  GStrv remotes; /* (owned) */
};

G_DEFINE_FINAL_TYPE (MbdStatus, mbd_status, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_VERSION,
  PROP_IDENTITY,
  PROP_URL,
  PROP_INCOMING_URL,
  PROP_LOAD,
  PROP_CHROOTS,
  PROP_REMOTES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mbd_status_finalize (GObject *object)
{
  MbdStatus *self = MBD_STATUS (object);

  g_free (self->version);
  g_free (self->identity);
  g_free (self->url);
  g_free (self->incoming_url);
  g_strfreev (self->chroots);
  g_strfreev (self->remotes);
  G_OBJECT_CLASS (mbd_status_parent_class)->finalize (object);
}

static void
mbd_status_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MbdStatus *self = MBD_STATUS (object);

  switch (prop_id)
    {
    case PROP_VERSION:
      g_value_set_string (value, self->version);
      break;
    case PROP_IDENTITY:
      g_value_set_string (value, self->identity);
      break;
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_INCOMING_URL:
      g_value_set_string (value, self->incoming_url);
      break;
    case PROP_LOAD:
      g_value_set_double (value, self->load);
      break;
    case PROP_CHROOTS:
      g_value_set_boxed (value, self->chroots);
      break;
    case PROP_REMOTES:
      g_value_set_boxed (value, self->remotes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mbd_status_class_init (MbdStatusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mbd_status_finalize;
  object_class->get_property = mbd_status_get_property;

  /**
   * MbdStatus:version:
   *
   * The libminibuildd version of the instance.
   */
  properties[PROP_VERSION] = g_param_spec_string ("version", NULL, NULL, NULL, flags);
  /**
   * MbdStatus:identity:
   *
   * The instance identity (`^[a-zA-Z0-9-]+$`), used in key names and the dput target.
   */
  properties[PROP_IDENTITY] = g_param_spec_string ("identity", NULL, NULL, NULL, flags);
  /**
   * MbdStatus:url:
   *
   * The URL under which clients reach the instance's server.
   */
  properties[PROP_URL] = g_param_spec_string ("url", NULL, NULL, NULL, flags);
  /**
   * MbdStatus:incoming-url:
   *
   * The URL that uploads go to.
   */
  properties[PROP_INCOMING_URL] = g_param_spec_string ("incoming-url", NULL, NULL, NULL, flags);
  /**
   * MbdStatus:load:
   *
   * The builder load: the share of build slots in use (0.0 to 1.0), or -1.0 while the engine is
   * stopped, as in mini-buildd.
   */
  properties[PROP_LOAD] = g_param_spec_double ("load", NULL, NULL, -1.0, G_MAXDOUBLE, -1.0, flags);
  /**
   * MbdStatus:chroots:
   *
   * The active chroots as `codename:architecture`.
   */
  properties[PROP_CHROOTS] = g_param_spec_boxed ("chroots", NULL, NULL, G_TYPE_STRV, flags);
  /**
   * MbdStatus:remotes:
   *
   * The URLs of the active remote builders.
   */
  properties[PROP_REMOTES] = g_param_spec_boxed ("remotes", NULL, NULL, G_TYPE_STRV, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mbd_status_init (MbdStatus *self)
{
}

MbdStatus *
mbd_status_new (const char *identity,
                const char *url,
                const char *incoming_url,
                double load,
                GStrv chroots,
                GStrv remotes)
{
  MbdStatus *self = g_object_new (MBD_TYPE_STATUS, NULL);

  self->version = g_strdup (MBD_VERSION);
  self->identity = g_strdup (identity);
  self->url = g_strdup (url);
  self->incoming_url = g_strdup (incoming_url);
  self->load = load;
  self->chroots = chroots;
  self->remotes = remotes;
  return self;
}

/**
 * mbd_status_get_version:
 * @self: a status
 *
 * Gives the libminibuildd version of the instance.
 *
 * Returns: the version
 */
const char *
mbd_status_get_version (MbdStatus *self)
{
  g_return_val_if_fail (MBD_IS_STATUS (self), NULL);
  return self->version;
}

/**
 * mbd_status_get_identity:
 * @self: a status
 *
 * Gives the instance identity.
 *
 * Returns: the identity
 */
const char *
mbd_status_get_identity (MbdStatus *self)
{
  g_return_val_if_fail (MBD_IS_STATUS (self), NULL);
  return self->identity;
}

/**
 * mbd_status_get_url:
 * @self: a status
 *
 * Gives the URL under which clients reach the instance.
 *
 * Returns: the URL
 */
const char *
mbd_status_get_url (MbdStatus *self)
{
  g_return_val_if_fail (MBD_IS_STATUS (self), NULL);
  return self->url;
}

/**
 * mbd_status_get_incoming_url:
 * @self: a status
 *
 * Gives the URL that uploads go to.
 *
 * Returns: the URL
 */
const char *
mbd_status_get_incoming_url (MbdStatus *self)
{
  g_return_val_if_fail (MBD_IS_STATUS (self), NULL);
  return self->incoming_url;
}

/**
 * mbd_status_get_load:
 * @self: a status
 *
 * Gives the builder load, see [property@Mbd.Status:load].
 *
 * Returns: the load, or -1.0 when the engine is stopped
 */
double
mbd_status_get_load (MbdStatus *self)
{
  g_return_val_if_fail (MBD_IS_STATUS (self), -1.0);
  return self->load;
}

/**
 * mbd_status_get_chroots:
 * @self: a status
 *
 * Lists the active chroots.
 *
 * Returns: (transfer none) (array zero-terminated=1): the chroots as `codename:architecture`
 */
const char *const *
mbd_status_get_chroots (MbdStatus *self)
{
  g_return_val_if_fail (MBD_IS_STATUS (self), NULL);
  return (const char *const *) self->chroots;
}

/**
 * mbd_status_get_remotes:
 * @self: a status
 *
 * Lists the active remote builders.
 *
 * Returns: (transfer none) (array zero-terminated=1): the remotes' URLs
 */
const char *const *
mbd_status_get_remotes (MbdStatus *self)
{
  g_return_val_if_fail (MBD_IS_STATUS (self), NULL);
  return (const char *const *) self->remotes;
}

/**
 * mbd_status_to_json:
 * @self: a status
 *
 * Writes the status as the JSON object of mini-buildd's `status` call: `version`, `identity`,
 * `url`, `incoming_url`, `load`, `chroots` and `remotes`.
 *
 * Returns: (transfer full): the JSON text
 */
char *
mbd_status_to_json (MbdStatus *self)
{
  g_return_val_if_fail (MBD_IS_STATUS (self), NULL);

  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, self->version);
  json_builder_set_member_name (builder, "identity");
  json_builder_add_string_value (builder, self->identity);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, self->url);
  json_builder_set_member_name (builder, "incoming_url");
  json_builder_add_string_value (builder, self->incoming_url);
  json_builder_set_member_name (builder, "load");
  json_builder_add_double_value (builder, self->load);
  mbd_json_add_strv (builder, "chroots", (const char *const *) self->chroots);
  mbd_json_add_strv (builder, "remotes", (const char *const *) self->remotes);
  json_builder_end_object (builder);

  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}
