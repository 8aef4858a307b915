/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "mbd-db-private.h"
#include "mbd-instance-private.h"
#include "mbd-notify-private.h"
#include "mbd-repository.h"
#include "mbd-users.h"
#include "mbd-util-private.h"

/* E-mail notification, as mini-buildd's (its §6.3): each event that is one of the `events`
 * setting's types is mailed once, through the system's sendmail, to the instance's `notify`
 * addresses, the `notify` addresses of the repository the event's distribution belongs to, and
 * the upload's Changed-By (if the repository has notify-changed-by, or is unknown) and
 * Maintainer (if notify-maintainer) when their address matches the `allow-emails-to` regular
 * expression, and the active users subscribed to the event's source and distribution (MbdUsers;
 * not filtered by allow-emails-to, as in mini-buildd); every address gets one mail. The settings live in the instance database's
 * `settings` table as `mail.<name>` and `mail.repo.<identity>.<name>`. */

typedef struct
{
  const char *name;
  const char *fallback; /* NULL: computed (from) */
  gboolean repository;
} Setting;

static const Setting settings[] = {
  { "notify", "", FALSE },
  { "allow-emails-to", "", FALSE },
  { "events", MBD_MAIL_DEFAULT_EVENTS, FALSE },
  { "from", NULL, FALSE },
  { "sendmail", MBD_MAIL_DEFAULT_SENDMAIL, FALSE },
  { "notify", "", TRUE },
  { "notify-changed-by", "false", TRUE },
  { "notify-maintainer", "false", TRUE },
};

/**
 * mbd_mail_setting_names:
 * @for_repository: %TRUE for the settings of a repository, %FALSE for the instance's
 *
 * Lists the names of the e-mail notification settings ([method@Mbd.Instance.set_mail_setting]).
 * The instance has `notify` (addresses mailed for every repository), `allow-emails-to` (a
 * regular expression the whole Changed-By or Maintainer address must match, case-insensitively,
 * to be mailed; empty, the default, allows none), `events` (the event types that send mail,
 * default %MBD_MAIL_DEFAULT_EVENTS), `from` (default `mbd@<host name>`) and `sendmail` (default
 * %MBD_MAIL_DEFAULT_SENDMAIL). A repository has `notify`, `notify-changed-by` and
 * `notify-maintainer` (both `false` by default).
 *
 * Returns: (transfer full) (array zero-terminated=1): the names
 */
char **
mbd_mail_setting_names (gboolean for_repository)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < G_N_ELEMENTS (settings); i++)
    if (settings[i].repository == for_repository)
      g_strv_builder_add (builder, settings[i].name);
  return g_strv_builder_end (builder);
}

static const Setting *
find_setting (const char *repository, const char *name, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (settings); i++)
    if (settings[i].repository == (repository != NULL) && strcmp (settings[i].name, name) == 0)
      return &settings[i];
  g_auto (GStrv) names = mbd_mail_setting_names (repository != NULL);
  g_autofree char *known = g_strjoinv (", ", names);
  mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "mail setting '%s'%s%s is unknown: use one of %s",
             name, repository != NULL ? " of repository " : "",
             repository != NULL ? repository : "", known);
  return NULL;
}

static char *
setting_key (const char *repository, const char *name)
{
  if (repository != NULL)
    return g_strdup_printf ("mail.repo.%s.%s", repository, name);
  return g_strdup_printf ("mail.%s", name);
}

static MbdDb *
open_db (MbdInstance *self, GError **error)
{
  MbdDb *db = mbd_instance_get_db (self);

  if (db == NULL)
    mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "%s: the instance is not open",
               mbd_instance_get_home (self));
  return db;
}

/* A bare address: something@domain, without spaces, quotes, angle brackets or commas. */
static gboolean
is_address (const char *text)
{
  const char *at = strchr (text, '@');

  if (at == NULL || at == text || at[1] == '\0' || strchr (at + 1, '@') != NULL)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p <= ' ' || *p == 0x7f || strchr ("<>,;\"()[]\\", *p) != NULL)
      return FALSE;
  return TRUE;
}

/* The addresses of a list separated by commas or white space; %NULL if one is not an address. */
static char **
parse_addresses (const char *name, const char *text, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) tokens = g_strsplit_set (text, ", \t\n", -1);

  for (guint i = 0; tokens[i] != NULL; i++)
    {
      if (tokens[i][0] == '\0')
        continue;
      if (!is_address (tokens[i]))
        {
          g_autofree char *q = mbd_utf8_excerpt (tokens[i], strlen (tokens[i]), 60);
          mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                     "mail setting '%s': '%s' is not an e-mail address (name@domain)", name, q);
          return NULL;
        }
      g_strv_builder_add (builder, tokens[i]);
    }
  return g_strv_builder_end (builder);
}

static gboolean
parse_boolean (const char *text, gboolean *out_value)
{
  const char *const yes[] = { "true", "yes", "1", "on" };
  const char *const no[] = { "false", "no", "0", "off" };

  for (guint i = 0; i < G_N_ELEMENTS (yes); i++)
    if (g_ascii_strcasecmp (text, yes[i]) == 0 || g_ascii_strcasecmp (text, no[i]) == 0)
      {
        *out_value = g_ascii_strcasecmp (text, yes[i]) == 0;
        return TRUE;
      }
  return FALSE;
}

static GRegex *
compile_allow (const char *pattern, GError **error)
{
  g_autofree char *anchored = g_strdup_printf ("^(?:%s)$", pattern);
  g_autoptr (GError) local_error = NULL;
  GRegex *regex = g_regex_new (anchored, G_REGEX_CASELESS, 0, &local_error);

  if (regex == NULL)
    mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
               "mail setting 'allow-emails-to': '%s' is not a regular expression: %s", pattern,
               local_error->message);
  return regex;
}

/* Checks @value for @setting; gives the form to store (booleans as true/false). */
static char *
normalize_value (const Setting *setting, const char *value, GError **error)
{
  const char *name = setting->name;

  if (strchr (value, '\n') != NULL || strchr (value, '\r') != NULL)
    {
      if (strcmp (name, "notify") != 0)
        {
          mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                     "mail setting '%s': the value must be one line", name);
          return NULL;
        }
    }
  if (strcmp (name, "notify") == 0)
    {
      g_auto (GStrv) addresses = parse_addresses (name, value, error);
      return addresses != NULL ? g_strjoinv (",", addresses) : NULL;
    }
  if (strcmp (name, "from") == 0)
    {
      if (!is_address (value))
        {
          mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                     "mail setting 'from': '%s' is not an e-mail address (name@domain)", value);
          return NULL;
        }
      return g_strdup (value);
    }
  if (strcmp (name, "allow-emails-to") == 0)
    {
      g_autoptr (GRegex) regex = value[0] != '\0' ? compile_allow (value, error) : NULL;
      return value[0] == '\0' || regex != NULL ? g_strdup (value) : NULL;
    }
  if (strcmp (name, "events") == 0)
    {
      g_auto (GStrv) names = g_strsplit_set (value, ", ", -1);
      g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
      for (guint i = 0; names[i] != NULL; i++)
        {
          MbdEventType type;
          if (names[i][0] == '\0')
            continue;
          if (!mbd_event_type_from_string (names[i], &type, error))
            {
              mbd_prefix_error (error, "mail setting 'events': ");
              return NULL;
            }
          g_strv_builder_add (builder, mbd_event_type_to_string (type));
        }
      g_auto (GStrv) types = g_strv_builder_end (builder);
      return g_strjoinv (",", types);
    }
  if (strcmp (name, "sendmail") == 0)
    {
      if (value[0] == '\0')
        {
          mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                     "mail setting 'sendmail': give the program that sends mail, such as %s",
                     MBD_MAIL_DEFAULT_SENDMAIL);
          return NULL;
        }
      return g_strdup (value);
    }
  gboolean flag;
  if (!parse_boolean (value, &flag))
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "mail setting '%s': '%s' is not a boolean (true or false)", name, value);
      return NULL;
    }
  return g_strdup (flag ? "true" : "false");
}

static gboolean
check_repository (MbdInstance *self, const char *repository, GError **error)
{
  if (repository == NULL)
    return TRUE;
  g_autoptr (MbdRepository) repo = mbd_instance_lookup_repository (self, repository, error);
  return repo != NULL;
}

/**
 * mbd_instance_dup_mail_setting:
 * @self: an open instance
 * @repository: (nullable): a repository identity for its settings, %NULL for the instance's
 * @name: a setting name from [func@Mbd.mail_setting_names]
 *
 * Reads an e-mail notification setting, or its default if it is not set.
 *
 * Returns: (transfer full): the value, or %NULL with %MBD_ERROR_INVALID_ARGUMENT (an unknown
 *   name), %MBD_ERROR_NOT_FOUND (an unknown repository) or %MBD_ERROR_DATABASE
 */
char *
mbd_instance_dup_mail_setting (MbdInstance *self,
                               const char *repository,
                               const char *name,
                               GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  const Setting *setting = find_setting (repository, name, error);
  if (setting == NULL)
    return NULL;
  MbdDb *db = open_db (self, error);
  if (db == NULL || !check_repository (self, repository, error))
    return NULL;
  g_autofree char *key = setting_key (repository, name);
  char *value = NULL;
  if (!mbd_db_lookup_setting (db, key, &value, error))
    return NULL;
  if (value != NULL)
    return value;
  if (setting->fallback != NULL)
    return g_strdup (setting->fallback);
  /* from: mbd@<host name>, as mini-buildd's mini-buildd@<FQDN> */
  return g_strdup_printf ("mbd@%s", g_get_host_name ());
}

/**
 * mbd_instance_set_mail_setting:
 * @self: an open instance
 * @repository: (nullable): a repository identity for its settings, %NULL for the instance's
 * @name: a setting name from [func@Mbd.mail_setting_names]
 * @value: (nullable): the new value, or %NULL to go back to the default
 *
 * Changes an e-mail notification setting. Address lists are separated by commas or spaces;
 * `events` takes event type names; booleans take `true` or `false`.
 *
 * Returns: %TRUE on success; %FALSE with %MBD_ERROR_INVALID_ARGUMENT (an unknown name, or a
 *   value that is not an address, a regular expression, an event type or a boolean, naming
 *   it), %MBD_ERROR_NOT_FOUND (an unknown repository) or %MBD_ERROR_DATABASE
 */
gboolean
mbd_instance_set_mail_setting (MbdInstance *self,
                               const char *repository,
                               const char *name,
                               const char *value,
                               GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  const Setting *setting = find_setting (repository, name, error);
  if (setting == NULL)
    return FALSE;
  MbdDb *db = open_db (self, error);
  if (db == NULL || !check_repository (self, repository, error))
    return FALSE;
  g_autofree char *key = setting_key (repository, name);
  if (value == NULL)
    {
      g_autoptr (sqlite3_stmt) stmt
                 = mbd_db_prepare (db, "DELETE FROM settings WHERE key = ?1", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
      return mbd_db_step_done (db, stmt, error);
    }
  g_autofree char *normalized = normalize_value (setting, value, error);
  if (normalized == NULL)
    return FALSE;
  return mbd_db_set_setting (db, key, normalized, error);
}

/* ---- recipients ------------------------------------------------------------------------------ */

/* The address of "Name <address>" or of a bare address; %NULL if there is none. */
static char *
address_of (const char *person)
{
  if (person == NULL)
    return NULL;
  const char *open = strrchr (person, '<');
  g_autofree char *address = NULL;
  if (open != NULL)
    {
      const char *close = strchr (open, '>');
      if (close == NULL)
        return NULL;
      address = g_strndup (open + 1, close - open - 1);
    }
  else
    address = g_strdup (person);
  g_strstrip (address);
  return is_address (address) ? g_steal_pointer (&address) : NULL;
}

typedef struct
{
  GPtrArray *addresses; /* (element-type utf8) */
  GPtrArray *reasons;   /* (element-type utf8) */
} Recipients;

static void
recipients_clear (Recipients *r)
{
  g_clear_pointer (&r->addresses, g_ptr_array_unref);
  g_clear_pointer (&r->reasons, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Recipients, recipients_clear)

/* Adds @address once (compared case-insensitively); the first reason stays. */
static void
recipients_add (Recipients *r, const char *address, const char *reason)
{
  for (guint i = 0; i < r->addresses->len; i++)
    if (g_ascii_strcasecmp (r->addresses->pdata[i], address) == 0)
      return;
  g_ptr_array_add (r->addresses, g_strdup (address));
  g_ptr_array_add (r->reasons, g_strdup (reason));
}

static gboolean
add_list (MbdInstance *self,
          Recipients *r,
          const char *repository,
          const char *reason,
          GError **error)
{
  g_autofree char *value = mbd_instance_dup_mail_setting (self, repository, "notify", error);
  if (value == NULL)
    return FALSE;
  g_auto (GStrv) addresses = parse_addresses ("notify", value, error);
  if (addresses == NULL)
    return FALSE;
  for (guint i = 0; addresses[i] != NULL; i++)
    recipients_add (r, addresses[i], reason);
  return TRUE;
}

static gboolean
flag_setting (MbdInstance *self, const char *repository, const char *name, GError **error)
{
  g_autofree char *value = mbd_instance_dup_mail_setting (self, repository, name, error);
  return value != NULL && strcmp (value, "true") == 0;
}

/* Whether @event's type is one the `events` setting mails. */
static gboolean
type_is_mailed (MbdInstance *self, MbdEvent *event, gboolean *out_mailed, GError **error)
{
  g_autofree char *value = mbd_instance_dup_mail_setting (self, NULL, "events", error);
  if (value == NULL)
    return FALSE;
  g_auto (GStrv) types = g_strsplit (value, ",", -1);
  *out_mailed = g_strv_contains ((const char *const *) types,
                                 mbd_event_type_to_string (mbd_event_get_event_type (event)));
  return TRUE;
}

static gboolean
collect_recipients (MbdInstance *self, MbdEvent *event, Recipients *r, GError **error)
{
  r->addresses = g_ptr_array_new_with_free_func (g_free);
  r->reasons = g_ptr_array_new_with_free_func (g_free);
  gboolean mailed = FALSE;
  if (!type_is_mailed (self, event, &mailed, error))
    return FALSE;
  if (!mailed)
    return TRUE;
  if (!add_list (self, r, NULL, "the instance's notify list", error))
    return FALSE;

  /* the repository the event's distribution belongs to, if there is one */
  const char *distribution = mbd_event_get_distribution (event);
  g_autoptr (MbdRepository) repo = NULL;
  if (distribution != NULL)
    {
      g_autoptr (GError) local_error = NULL;
      repo = mbd_instance_lookup_repository_for_distribution (self, distribution, &local_error);
      if (repo == NULL && !g_error_matches (local_error, MBD_ERROR, MBD_ERROR_NOT_FOUND)
          && !g_error_matches (local_error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  const char *identity = repo != NULL ? mbd_repository_get_identity (repo) : NULL;
  g_autofree char *repo_reason = NULL;
  gboolean changed_by = repo == NULL, maintainer = FALSE;
  if (repo != NULL)
    {
      repo_reason = g_strdup_printf ("the notify list of repository '%s'", identity);
      if (!add_list (self, r, identity, repo_reason, error))
        return FALSE;
      g_autoptr (GError) flag_error = NULL;
      changed_by = flag_setting (self, identity, "notify-changed-by", &flag_error);
      if (flag_error == NULL)
        maintainer = flag_setting (self, identity, "notify-maintainer", &flag_error);
      if (flag_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&flag_error));
          return FALSE;
        }
    }
  /* active users subscribed to the source and distribution (or to any), as mini-buildd */
  g_autoptr (MbdUsers) users = mbd_users_new (self);
  const char *source = mbd_event_get_source (event);
  g_auto (GStrv) subscribers = mbd_users_get_subscribers (
      users, source != NULL ? source : "", distribution != NULL ? distribution : "", error);
  if (subscribers == NULL)
    return FALSE;
  for (guint i = 0; subscribers[i] != NULL; i++)
    recipients_add (r, subscribers[i], "a user's subscription");

  if (!changed_by && !maintainer)
    return TRUE;

  g_autofree char *allow = mbd_instance_dup_mail_setting (self, NULL, "allow-emails-to", error);
  if (allow == NULL)
    return FALSE;
  if (allow[0] == '\0')
    return TRUE;
  g_autoptr (GRegex) regex = compile_allow (allow, error);
  if (regex == NULL)
    return FALSE;
  const struct
  {
    gboolean wanted;
    const char *member;
    const char *reason;
  } people[] = {
    { changed_by, "changed_by", "the upload's Changed-By" },
    { maintainer, "maintainer", "the package's Maintainer" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (people); i++)
    {
      g_autofree char *address = address_of (mbd_event_get_extra (event, people[i].member));
      if (people[i].wanted && address != NULL && g_regex_match (regex, address, 0, NULL))
        recipients_add (r, address, people[i].reason);
    }
  return TRUE;
}

static char **
strv_of (GPtrArray *array)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < array->len; i++)
    g_strv_builder_add (builder, array->pdata[i]);
  return g_strv_builder_end (builder);
}

/**
 * mbd_instance_list_mail_recipients:
 * @self: an open instance
 * @event: an event
 *
 * Tells who gets a mail for @event (see [func@Mbd.mail_setting_names]): nobody if its type is
 * not in the `events` setting; else the instance's `notify` addresses, the `notify` addresses
 * of the repository of the event's distribution, and the upload's Changed-By (if the repository
 * has `notify-changed-by`, or is unknown, as for a rejected upload to a distribution that does
 * not exist) and Maintainer (if `notify-maintainer`) when `allow-emails-to` matches their
 * address, and the active users subscribed to the event's source and distribution or to any
 * ([method@Mbd.Users.subscribe]). Each address appears once, compared case-insensitively.
 *
 * Returns: (transfer full) (array zero-terminated=1): the addresses, or %NULL with @error set
 */
char **
mbd_instance_list_mail_recipients (MbdInstance *self, MbdEvent *event, GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (self), NULL);
  g_return_val_if_fail (MBD_IS_EVENT (event), NULL);

  g_auto (Recipients) r = { NULL };
  if (!collect_recipients (self, event, &r, error))
    return NULL;
  return strv_of (r.addresses);
}

/* ---- the mail -------------------------------------------------------------------------------- */

/* A header value: one line of printable text. */
static char *
header_value (const char *text)
{
  char *copy = g_strdup (text != NULL ? text : "");

  for (char *p = copy; *p != '\0'; p++)
    if ((guchar) *p < ' ' || *p == 0x7f)
      *p = ' ';
  return copy;
}

/* RFC 5322 date, without the locale's day and month names. */
static char *
rfc5322_date (GDateTime *time)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[]
      = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autofree char *rest = g_date_time_format (time, "%Y %H:%M:%S +0000");

  return g_strdup_printf ("%s, %d %s %s", days[g_date_time_get_day_of_week (time) - 1],
                          g_date_time_get_day_of_month (time),
                          months[g_date_time_get_month (time) - 1], rest);
}

char *
mbd_notify_build_message (MbdInstance *instance,
                          MbdEvent *event,
                          const char *const *recipients,
                          const char *const *reasons)
{
  const char *type = mbd_event_type_to_string (mbd_event_get_event_type (event));
  const char *source = mbd_event_get_source (event);
  const char *version = mbd_event_get_version (event);
  const char *distribution = mbd_event_get_distribution (event);
  g_autofree char *from = mbd_instance_dup_mail_setting (instance, NULL, "from", NULL);
  /* folded, one address a line: a long list stays within the 998 characters a line may have */
  g_autofree char *to = g_strjoinv (",\n ", (char **) recipients);
  g_autofree char *identity = header_value (mbd_instance_get_identity (instance));
  g_autofree char *subject_text = g_strdup_printf (
      "[mbd-%s] %s: %s %s%s%s%s", identity, type, source != NULL ? source : "(unknown source)",
      version != NULL ? version : "", distribution != NULL ? " (" : "",
      distribution != NULL ? distribution : "", distribution != NULL ? ")" : "");
  g_autofree char *subject = header_value (subject_text);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = rfc5322_date (now);
  g_autofree char *from_header = header_value (from != NULL ? from : "mbd@localhost");
  GString *mail = g_string_new (NULL);

  g_string_append_printf (mail, "From: %s\n", from_header);
  g_string_append_printf (mail, "To: %s\n", to);
  g_string_append_printf (mail, "Subject: %s\n", subject);
  g_string_append_printf (mail, "Date: %s\n", date);
  g_string_append (mail, "MIME-Version: 1.0\n"
                         "Content-Type: text/plain; charset=utf-8\n"
                         "Content-Transfer-Encoding: 8bit\n"
                         "Auto-Submitted: auto-generated\n");
  g_string_append_printf (mail, "X-Mbd-Event: %s %" G_GINT64_FORMAT "\n\n", type,
                          mbd_event_get_id (event));

  g_string_append_printf (mail, "%s: %s %s in %s\n\n", type, source != NULL ? source : "?",
                          version != NULL ? version : "?",
                          distribution != NULL ? distribution : "?");
  g_autofree char *stamp = g_date_time_format_iso8601 (mbd_event_get_timestamp (event));
  g_string_append_printf (mail, "Time:         %s\n", stamp);
  const char *const members[] = { "changed_by", "maintainer", "architecture", "changes" };
  const char *const labels[]
      = { "Changed-By:  ", "Maintainer:  ", "Architecture:", "Changes:     " };
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      const char *value = mbd_event_get_extra (event, members[i]);
      if (value != NULL)
        g_string_append_printf (mail, "%s %s\n", labels[i], value);
    }
  const char *reason = mbd_event_get_reason (event);
  if (reason != NULL)
    g_string_append_printf (mail, "Reason:       %s\n", reason);
  g_autofree char *url = mbd_instance_dup_url (instance);
  g_string_append_printf (mail, "Events:       %s/events\n", url);

  g_string_append (mail, "\nThis mail went to:\n");
  for (guint i = 0; recipients[i] != NULL; i++)
    g_string_append_printf (mail, "  %s: %s\n", recipients[i], reasons[i]);
  g_autofree char *json = mbd_event_to_json (event);
  g_string_append_printf (mail, "\nThe event:\n%s\n", json);
  return g_string_free (mail, FALSE);
}

/* How long sendmail may take before it is killed (a queueing MTA takes well under a second). */
static guint sendmail_timeout = 120;

void
mbd_notify_set_sendmail_timeout (guint seconds)
{
  sendmail_timeout = seconds;
}

typedef struct
{
  char *program;
  GSubprocess *proc;         /* (nullable) */
  GCancellable *cancellable; /* ends the wait for sendmail's stderr on timeout */
  guint timeout_id;
  gboolean timed_out;
} SendData;

static void
send_data_free (SendData *data)
{
  g_clear_handle_id (&data->timeout_id, g_source_remove);
  g_clear_object (&data->proc);
  g_clear_object (&data->cancellable);
  g_free (data->program);
  g_free (data);
}

static gboolean
on_sendmail_timeout (gpointer user_data)
{
  SendData *data = user_data;

  data->timeout_id = 0;
  data->timed_out = TRUE;
  g_subprocess_force_exit (data->proc);
  g_cancellable_cancel (data->cancellable);
  return G_SOURCE_REMOVE;
}

static void
sendmail_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  GSubprocess *proc = G_SUBPROCESS (source);
  g_autofree char *err_text = NULL;
  g_autoptr (GError) error = NULL;

  g_clear_handle_id (&data->timeout_id, g_source_remove);
  if (data->timed_out)
    {
      g_task_return_new_error (task, MBD_ERROR, MBD_ERROR_FAILED,
                               "mail: %s -t -oi did not finish within %u s and was killed",
                               data->program, sendmail_timeout);
      return;
    }
  if (!g_subprocess_communicate_utf8_finish (proc, result, NULL, &err_text, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_subprocess_get_successful (proc))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_autofree char *status
      = g_subprocess_get_if_exited (proc)
            ? g_strdup_printf ("exited with status %d", g_subprocess_get_exit_status (proc))
            : g_strdup_printf ("was killed by signal %d", g_subprocess_get_term_sig (proc));
  g_task_return_new_error (task, MBD_ERROR, MBD_ERROR_FAILED, "mail: %s -t -oi %s%s%s",
                           data->program, status, err_text != NULL && *err_text != '\0' ? ": " : "",
                           err_text != NULL ? g_strstrip (err_text) : "");
}

/* Runs sendmail on @message (through a file, so that the mail goes out even if this process
 * ends before sendmail has read it). */
static GSubprocess *
spawn_sendmail (const char *program, const char *message, GError **error)
{
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("mbd-mail-XXXXXX", &path, error);
  if (fd < 0)
    return NULL;
  close (fd);
  if (!g_file_set_contents (path, message, -1, error))
    {
      g_unlink (path);
      return NULL;
    }
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_stdin_file_path (launcher, path);
  g_autoptr (GError) local_error = NULL;
  GSubprocess *proc
      = g_subprocess_launcher_spawn (launcher, &local_error, program, "-t", "-oi", NULL);
  g_unlink (path);
  if (proc == NULL)
    mbd_throw (error, MBD_ERROR_FAILED, "mail: cannot run %s (mail setting 'sendmail'): %s",
               program, local_error->message);
  return proc;
}

static gboolean
start_send (MbdInstance *instance, MbdEvent *event, GTask *task, GError **error)
{
  g_auto (Recipients) r = { NULL };
  if (!collect_recipients (instance, event, &r, error))
    return FALSE;
  if (r.addresses->len == 0)
    {
      g_task_return_boolean (task, TRUE);
      return TRUE;
    }
  g_auto (GStrv) addresses = strv_of (r.addresses);
  g_auto (GStrv) reasons = strv_of (r.reasons);
  g_autofree char *message = mbd_notify_build_message (
      instance, event, (const char *const *) addresses, (const char *const *) reasons);
  SendData *data = g_new0 (SendData, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);
  data->program = mbd_instance_dup_mail_setting (instance, NULL, "sendmail", error);
  if (data->program == NULL)
    return FALSE;
  data->proc = spawn_sendmail (data->program, message, error);
  if (data->proc == NULL)
    return FALSE;
  data->cancellable = g_cancellable_new ();
  data->timeout_id = g_timeout_add_seconds (sendmail_timeout, on_sendmail_timeout, data);
  g_subprocess_communicate_utf8_async (data->proc, NULL, data->cancellable, sendmail_done,
                                       g_object_ref (task));
  return TRUE;
}

void
mbd_notify_event_async (MbdInstance *instance,
                        MbdEvent *event,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (instance, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;

  g_task_set_source_tag (task, mbd_notify_event_async);
  if (g_task_return_error_if_cancelled (task))
    return;
  if (!start_send (instance, event, task, &error))
    g_task_return_error (task, g_steal_pointer (&error));
}

gboolean
mbd_notify_event_finish (MbdInstance *instance, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, instance), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_notify_event_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
notify_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (!mbd_notify_event_finish (MBD_INSTANCE (source), result, &error))
    g_warning ("%s", error->message);
}

void
mbd_notify_event (MbdInstance *instance, MbdEvent *event)
{
  g_autoptr (GError) error = NULL;
  g_auto (Recipients) r = { NULL };

  /* most events mail nobody: no task (and no main loop iteration) for those */
  if (!collect_recipients (instance, event, &r, &error))
    {
      g_warning ("mail of event %" G_GINT64_FORMAT ": %s", mbd_event_get_id (event),
                 error->message);
      return;
    }
  if (r.addresses->len > 0)
    mbd_notify_event_async (instance, event, NULL, notify_done, NULL);
}
