/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/random.h>

#include "mbd-gnupg.h"
#include "mbd-hash-private.h"
#include "mbd-instance-private.h"
#include "mbd-users.h"
#include "mbd-util-private.h"

/**
 * MbdUser:
 *
 * One user of an instance as [class@Mbd.Users] read it from the database: a snapshot, not
 * updated when the database changes.
 *
 * The flags follow mini-buildd's Django users: an inactive user cannot log in, staff may do the
 * calls that change packages (migrate, port, retry, ...), a superuser administers the instance.
 * [method@Mbd.User.get_level] sums them up as an [enum@Mbd.UserLevel].
 */
struct _MbdUser
{
  GObject parent_instance;

  gint64 id;
  char *name;  /* (owned) */
  char *email; /* (owned) */
  gboolean is_active;
  gboolean is_staff;
  gboolean is_superuser;
  gint64 created;
  char *key_fingerprint; /* (owned) (nullable) */
  gboolean key_active;
};

G_DEFINE_FINAL_TYPE (MbdUser, mbd_user, G_TYPE_OBJECT)

static void
mbd_user_finalize (GObject *object)
{
  MbdUser *self = MBD_USER (object);

  g_free (self->name);
  g_free (self->email);
  g_free (self->key_fingerprint);
  G_OBJECT_CLASS (mbd_user_parent_class)->finalize (object);
}

static void
mbd_user_class_init (MbdUserClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_user_finalize;
}

static void
mbd_user_init (MbdUser *self)
{
}

/**
 * mbd_user_level_to_string:
 * @level: a level
 *
 * The name of @level as mini-buildd writes it in its answers: `NONE`, `LOGIN`, `STAFF` or
 * `ADMIN`.
 *
 * Returns: (transfer none): a static string
 */
const char *
mbd_user_level_to_string (MbdUserLevel level)
{
  switch (level)
    {
    case MBD_USER_LEVEL_NONE:
      return "NONE";
    case MBD_USER_LEVEL_LOGIN:
      return "LOGIN";
    case MBD_USER_LEVEL_STAFF:
      return "STAFF";
    case MBD_USER_LEVEL_ADMIN:
      return "ADMIN";
    default:
      return "UNKNOWN";
    }
}

/**
 * mbd_user_get_name:
 * @self: a user
 *
 * The user name (login).
 *
 * Returns: (transfer none): the name
 */
const char *
mbd_user_get_name (MbdUser *self)
{
  g_return_val_if_fail (MBD_IS_USER (self), NULL);
  return self->name;
}

/**
 * mbd_user_get_email:
 * @self: a user
 *
 * The user's mail address, where subscribed notifications go.
 *
 * Returns: (transfer none): the address, or an empty string if none is set
 */
const char *
mbd_user_get_email (MbdUser *self)
{
  g_return_val_if_fail (MBD_IS_USER (self), NULL);
  return self->email;
}

/**
 * mbd_user_get_is_active:
 * @self: a user
 *
 * Whether the user may log in at all.
 *
 * Returns: %TRUE if the user is active
 */
gboolean
mbd_user_get_is_active (MbdUser *self)
{
  g_return_val_if_fail (MBD_IS_USER (self), FALSE);
  return self->is_active;
}

/**
 * mbd_user_get_is_staff:
 * @self: a user
 *
 * Whether the user has the staff flag (level %MBD_USER_LEVEL_STAFF).
 *
 * Returns: %TRUE for staff
 */
gboolean
mbd_user_get_is_staff (MbdUser *self)
{
  g_return_val_if_fail (MBD_IS_USER (self), FALSE);
  return self->is_staff;
}

/**
 * mbd_user_get_is_superuser:
 * @self: a user
 *
 * Whether the user has the superuser flag (level %MBD_USER_LEVEL_ADMIN).
 *
 * Returns: %TRUE for a superuser
 */
gboolean
mbd_user_get_is_superuser (MbdUser *self)
{
  g_return_val_if_fail (MBD_IS_USER (self), FALSE);
  return self->is_superuser;
}

/**
 * mbd_user_get_created:
 * @self: a user
 *
 * When the user was added.
 *
 * Returns: seconds since the epoch (UTC)
 */
gint64
mbd_user_get_created (MbdUser *self)
{
  g_return_val_if_fail (MBD_IS_USER (self), 0);
  return self->created;
}

/**
 * mbd_user_get_level:
 * @self: a user
 *
 * The highest API level the user may call: %MBD_USER_LEVEL_NONE for an inactive user,
 * %MBD_USER_LEVEL_ADMIN for a superuser, %MBD_USER_LEVEL_STAFF for staff, else
 * %MBD_USER_LEVEL_LOGIN.
 *
 * Returns: the level
 */
MbdUserLevel
mbd_user_get_level (MbdUser *self)
{
  g_return_val_if_fail (MBD_IS_USER (self), MBD_USER_LEVEL_NONE);
  if (!self->is_active)
    return MBD_USER_LEVEL_NONE;
  if (self->is_superuser)
    return MBD_USER_LEVEL_ADMIN;
  if (self->is_staff)
    return MBD_USER_LEVEL_STAFF;
  return MBD_USER_LEVEL_LOGIN;
}

/**
 * mbd_user_get_key_fingerprint:
 * @self: a user
 *
 * The fingerprint of the uploader key the user set with [method@Mbd.Users.set_key].
 *
 * Returns: (transfer none) (nullable): the fingerprint, or %NULL if the user set no key
 */
const char *
mbd_user_get_key_fingerprint (MbdUser *self)
{
  g_return_val_if_fail (MBD_IS_USER (self), NULL);
  return self->key_fingerprint;
}

/**
 * mbd_user_get_key_active:
 * @self: a user
 *
 * Whether staff activated the user's key ([method@Mbd.Users.activate_key]), so that uploads
 * signed with it are accepted.
 *
 * Returns: %TRUE if the key is an active uploader key
 */
gboolean
mbd_user_get_key_active (MbdUser *self)
{
  g_return_val_if_fail (MBD_IS_USER (self), FALSE);
  return self->key_active;
}

/**
 * MbdUsers:
 *
 * The users of an instance, their login sessions, bearer tokens, mail subscriptions and
 * uploader keys, kept in the instance database.
 *
 * Passwords are stored as yescrypt hashes (`$y$...`, libcrypt); a session id or token is 32
 * random bytes from getrandom(2) in hex, of which only the SHA-256 is stored, so a copy of the
 * database logs nobody in. A key a user sets is kept inactive until staff activates it with
 * [method@Mbd.Users.activate_key], which makes it an uploader key of every repository (a file
 * `user-<name>.asc` in the instance's `uploaders/` directory).
 *
 * Authentication failures are %MBD_ERROR_PERMISSION_DENIED with the same message whether the
 * user does not exist or the password is wrong; an expired session is %MBD_ERROR_EXPIRED.
 */
struct _MbdUsers
{
  GObject parent_instance;

  MbdInstance *instance; /* (owned) */
};

G_DEFINE_FINAL_TYPE (MbdUsers, mbd_users, G_TYPE_OBJECT)

static void
mbd_users_finalize (GObject *object)
{
  MbdUsers *self = MBD_USERS (object);

  g_clear_object (&self->instance);
  G_OBJECT_CLASS (mbd_users_parent_class)->finalize (object);
}

static void
mbd_users_class_init (MbdUsersClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_users_finalize;
}

static void
mbd_users_init (MbdUsers *self)
{
}

/**
 * mbd_users_new:
 * @instance: an open instance
 *
 * The users of @instance.
 *
 * Returns: (transfer full): a new users object
 */
MbdUsers *
mbd_users_new (MbdInstance *instance)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (mbd_instance_is_open (instance), NULL);

  MbdUsers *self = g_object_new (MBD_TYPE_USERS, NULL);
  self->instance = g_object_ref (instance);
  return self;
}

static MbdDb *
db_of (MbdUsers *self)
{
  return mbd_instance_get_db (self->instance);
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Django's user name rule: 1 to 150 of letters, digits and @.+-_ (which also keeps the name
 * safe in a file name). */
static gboolean
check_name (const char *name, GError **error)
{
  gsize len = name != NULL ? strlen (name) : 0;

  if (len == 0 || len > 150)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "user name '%s' must have 1 to 150 characters", name != NULL ? name : "");
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("@.+-_", *p) == NULL)
      {
        g_autofree char *excerpt = mbd_utf8_excerpt (name, len, 40);
        return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                          "user name '%s' may contain only letters, digits and @.+-_", excerpt);
      }
  if (name[0] == '.')
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "user name '%s' must not start with a dot",
                      name);
  return TRUE;
}

/* A yescrypt hash of @password with a fresh salt, or NULL. */
static char *
hash_password (const char *password, GError **error)
{
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];

  if (password == NULL || *password == '\0')
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "the password must not be empty");
      return NULL;
    }
  if (crypt_gensalt_rn ("$y$", 0, NULL, 0, setting, sizeof setting) == NULL)
    {
      int saved = errno;
      g_set_error (error, MBD_ERROR, MBD_ERROR_FAILED, "cannot make a yescrypt salt: %s",
                   g_strerror (saved));
      return NULL;
    }
  g_autofree struct crypt_data *data = g_new0 (struct crypt_data, 1);
  const char *hash = crypt_rn (password, setting, data, sizeof *data);
  if (hash == NULL || hash[0] == '*')
    {
      mbd_throw (error, MBD_ERROR_FAILED, "cannot hash the password with yescrypt");
      return NULL;
    }
  char *result = g_strdup (hash);
  explicit_bzero (data, sizeof *data);
  return result;
}

/* Whether @password hashes to @stored; compares in constant time. An empty or unusable @stored
 * (no password login) never matches but still costs one hash, like a wrong password. */
static gboolean
check_password (const char *password, const char *stored)
{
  g_autofree struct crypt_data *data = g_new0 (struct crypt_data, 1);
  gboolean usable = stored != NULL && g_str_has_prefix (stored, "$y$");
  char dummy[CRYPT_GENSALT_OUTPUT_SIZE];

  if (!usable)
    {
      if (crypt_gensalt_rn ("$y$", 0, NULL, 0, dummy, sizeof dummy) == NULL)
        return FALSE;
      stored = dummy;
    }
  const char *hash = crypt_rn (password, stored, data, sizeof *data);
  gboolean ok = usable && hash != NULL && hash[0] != '*' && strlen (hash) == strlen (stored)
                && CRYPTO_memcmp (hash, stored, strlen (stored)) == 0;
  explicit_bzero (data, sizeof *data);
  return ok;
}

/**
 * mbd_users_make_secret:
 *
 * A new secret as sessions and tokens use: 32 random bytes from getrandom(2), as 64 lowercase hex
 * digits (mbd-server also makes its CSRF tokens with it).
 *
 * Returns: (transfer full): the secret, or %NULL with @error set if the kernel gives no random
 *   bytes
 */
char *
mbd_users_make_secret (GError **error)
{
  guint8 bytes[32];
  gsize got = 0;

  while (got < sizeof bytes)
    {
      ssize_t n = getrandom (bytes + got, sizeof bytes - got, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "getrandom() failed: %s",
                       g_strerror (saved));
          return NULL;
        }
      got += n;
    }
  GString *hex = g_string_sized_new (2 * sizeof bytes);
  for (gsize i = 0; i < sizeof bytes; i++)
    g_string_append_printf (hex, "%02x", bytes[i]);
  explicit_bzero (bytes, sizeof bytes);
  return g_string_free (hex, FALSE);
}

static void
secret_hash (const char *secret, char hex[MBD_SHA256_HEX_LEN + 1])
{
  mbd_sha256_hex_of (secret, strlen (secret), hex);
}

#define USER_COLUMNS                                                                               \
  "users.id, users.name, users.email, users.is_active, users.is_staff, users.is_superuser, "       \
  "users.created, users.key_fingerprint, users.key_active"

static MbdUser *
user_from_row (sqlite3_stmt *stmt)
{
  MbdUser *user = g_object_new (MBD_TYPE_USER, NULL);

  user->id = sqlite3_column_int64 (stmt, 0);
  user->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  user->email = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  user->is_active = sqlite3_column_int (stmt, 3) != 0;
  user->is_staff = sqlite3_column_int (stmt, 4) != 0;
  user->is_superuser = sqlite3_column_int (stmt, 5) != 0;
  user->created = sqlite3_column_int64 (stmt, 6);
  user->key_fingerprint = g_strdup ((const char *) sqlite3_column_text (stmt, 7));
  user->key_active = sqlite3_column_int (stmt, 8) != 0;
  return user;
}

/* Steps @stmt (one bound query for one user) and returns the user, or NULL with @error: @what
 * names what was looked up for the NOT_FOUND message. */
static MbdUser *
step_user (MbdUsers *self, sqlite3_stmt *stmt, MbdError missing, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    return user_from_row (stmt);
  if (rc == SQLITE_DONE)
    mbd_throw (error, missing, "%s", what);
  else
    mbd_db_throw (db_of (self), rc, "cannot read the users", error);
  return NULL;
}

/**
 * mbd_users_lookup:
 * @self: the users
 * @name: a user name
 *
 * Looks up one user.
 *
 * Returns: (transfer full): the user, or %NULL with @error set: %MBD_ERROR_NOT_FOUND if there
 *   is no user @name
 */
MbdUser *
mbd_users_lookup (MbdUsers *self, const char *name, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db_of (self), "SELECT " USER_COLUMNS " FROM users WHERE name = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  g_autofree char *what = g_strdup_printf ("there is no user '%s'", name);
  return step_user (self, stmt, MBD_ERROR_NOT_FOUND, what, error);
}

static void
set_flags (MbdUserLevel level, int *active, int *staff, int *superuser)
{
  *active = level >= MBD_USER_LEVEL_LOGIN;
  *staff = level >= MBD_USER_LEVEL_STAFF;
  *superuser = level >= MBD_USER_LEVEL_ADMIN;
}

/**
 * mbd_users_add:
 * @self: the users
 * @name: the new user's name: 1 to 150 letters, digits and `@.+-_`
 * @password: (nullable): the password, or %NULL for a user who cannot log in with one (tokens
 *   still work)
 * @email: (nullable): a mail address for notifications
 * @level: the user's flags: %MBD_USER_LEVEL_NONE adds an inactive user, %MBD_USER_LEVEL_LOGIN an
 *   active one, %MBD_USER_LEVEL_STAFF also sets staff, %MBD_USER_LEVEL_ADMIN also superuser
 *
 * Adds a user; the password is stored as a yescrypt hash.
 *
 * Returns: %TRUE on success; %FALSE with @error set: %MBD_ERROR_EXISTS if the name is taken,
 *   %MBD_ERROR_INVALID_ARGUMENT for a bad name or an empty password
 */
gboolean
mbd_users_add (MbdUsers *self,
               const char *name,
               const char *password,
               const char *email,
               MbdUserLevel level,
               GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);

  if (!check_name (name, error))
    return FALSE;
  g_autofree char *hash = NULL;
  if (password != NULL && (hash = hash_password (password, error)) == NULL)
    return FALSE;
  int active, staff, superuser;
  set_flags (level, &active, &staff, &superuser);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db_of (self),
      "INSERT INTO users (name, password, email, is_active, is_staff, is_superuser, created) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, hash != NULL ? hash : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, email != NULL ? email : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 4, active);
  sqlite3_bind_int (stmt, 5, staff);
  sqlite3_bind_int (stmt, 6, superuser);
  sqlite3_bind_int64 (stmt, 7, now_seconds ());
  if (!mbd_db_step_done (db_of (self), stmt, error))
    {
      if (g_error_matches (*error, MBD_ERROR, MBD_ERROR_EXISTS))
        {
          g_clear_error (error);
          return mbd_throw (error, MBD_ERROR_EXISTS, "user '%s' exists already", name);
        }
      return FALSE;
    }
  return TRUE;
}

static char *
uploader_key_path (MbdUsers *self, const char *name)
{
  g_autofree char *file = g_strdup_printf ("user-%s.asc", name);
  return g_build_filename (mbd_instance_get_home (self->instance), "uploaders", file, NULL);
}

static gboolean
remove_uploader_key (MbdUsers *self, const char *name, GError **error)
{
  g_autofree char *path = uploader_key_path (self, name);

  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot remove %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* Runs @sql with ?1 = @name (and @text as ?2, @number as ?3 if given) and fails with NOT_FOUND
 * unless it changed a row. */
static gboolean
update_user (MbdUsers *self,
             const char *sql,
             const char *name,
             const char *text,
             gint64 number,
             GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db_of (self), sql, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  if (sqlite3_bind_parameter_count (stmt) >= 2)
    sqlite3_bind_text (stmt, 2, text, -1, SQLITE_TRANSIENT);
  if (sqlite3_bind_parameter_count (stmt) >= 3)
    sqlite3_bind_int64 (stmt, 3, number);
  if (!mbd_db_step_done (db_of (self), stmt, error))
    return FALSE;
  if (sqlite3_changes (mbd_db_get_handle (db_of (self))) == 0)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND, "there is no user '%s'", name);
  return TRUE;
}

/**
 * mbd_users_remove:
 * @self: the users
 * @name: a user name
 *
 * Removes a user with the user's sessions, tokens, subscriptions and uploader key.
 *
 * Returns: %TRUE on success; %FALSE with @error set: %MBD_ERROR_NOT_FOUND if there is no user
 *   @name
 */
gboolean
mbd_users_remove (MbdUsers *self, const char *name, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  if (!update_user (self, "DELETE FROM users WHERE name = ?1", name, NULL, 0, error))
    return FALSE;
  return check_name (name, NULL) ? remove_uploader_key (self, name, error) : TRUE;
}

/**
 * mbd_users_list:
 * @self: the users
 *
 * All users, ordered by name.
 *
 * Returns: (transfer container) (element-type Mbd.User): the users, or %NULL with @error set
 */
GPtrArray *
mbd_users_list (MbdUsers *self, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), NULL);

  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db_of (self), "SELECT " USER_COLUMNS " FROM users ORDER BY name", error);
  if (stmt == NULL)
    return NULL;
  g_autoptr (GPtrArray) users = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (users, user_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db_of (self), rc, "cannot list the users", error);
      return NULL;
    }
  return g_steal_pointer (&users);
}

/**
 * mbd_users_has_admin:
 * @self: the users
 * @out_has_admin: (out): whether an active superuser exists
 *
 * Tells whether the instance has an active superuser, as a first start checks before it
 * creates one.
 *
 * Returns: (skip): %TRUE on success; %FALSE with @error set if the database fails
 */
gboolean
mbd_users_has_admin (MbdUsers *self, gboolean *out_has_admin, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);

  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db_of (self), "SELECT count(*) FROM users WHERE is_superuser AND is_active", error);
  if (stmt == NULL)
    return FALSE;
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return mbd_db_throw (db_of (self), rc, "cannot count the administrators", error);
  *out_has_admin = sqlite3_column_int (stmt, 0) > 0;
  return TRUE;
}

/**
 * mbd_users_set_password:
 * @self: the users
 * @name: a user name
 * @password: the new password
 *
 * Sets a user's password (stored as a new yescrypt hash) and ends the user's login sessions.
 *
 * Returns: %TRUE on success; %FALSE with @error set: %MBD_ERROR_NOT_FOUND if there is no user
 *   @name, %MBD_ERROR_INVALID_ARGUMENT for an empty password
 */
gboolean
mbd_users_set_password (MbdUsers *self, const char *name, const char *password, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  g_autofree char *hash = hash_password (password, error);
  if (hash == NULL)
    return FALSE;
  MbdDb *db = db_of (self);
  g_autoptr (sqlite3_stmt) logout = mbd_db_prepare (
      db, "DELETE FROM user_sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
      error);
  if (logout == NULL)
    return FALSE;
  sqlite3_bind_text (logout, 1, name, -1, SQLITE_TRANSIENT);
  if (!mbd_db_begin (db, error))
    return FALSE;
  if (!update_user (self, "UPDATE users SET password = ?2 WHERE name = ?1", name, hash, 0, error)
      || !mbd_db_step_done (db, logout, error) || !mbd_db_commit (db, error))
    {
      mbd_db_rollback (db);
      return FALSE;
    }
  return TRUE;
}

/**
 * mbd_users_set_level:
 * @self: the users
 * @name: a user name
 * @level: the new level (see [method@Mbd.Users.add] for the flags it sets)
 *
 * Changes a user's flags: active, staff and superuser.
 *
 * Returns: %TRUE on success; %FALSE with @error set: %MBD_ERROR_NOT_FOUND if there is no user
 *   @name
 */
gboolean
mbd_users_set_level (MbdUsers *self, const char *name, MbdUserLevel level, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  /* ?3 holds the level; the flags follow from it as in mbd_users_add() */
  return update_user (self,
                      "UPDATE users SET is_active = ?3 >= 1, is_staff = ?3 >= 2, "
                      "is_superuser = ?3 >= 3 WHERE name = ?1 AND ?2 IS NULL",
                      name, NULL, level, error);
}

static gboolean
throw_denied (GError **error)
{
  return mbd_throw (error, MBD_ERROR_PERMISSION_DENIED, "wrong user name or password");
}

/**
 * mbd_users_authenticate:
 * @self: the users
 * @name: a user name
 * @password: the password
 *
 * Checks a user name and password, taking the same time whether or not the user exists
 * (yescrypt is slow on purpose: call [method@Mbd.Users.authenticate_async] from a main loop).
 *
 * Returns: (transfer full): the user, or %NULL with @error set: %MBD_ERROR_PERMISSION_DENIED if
 *   the user does not exist, the password is wrong or the user is inactive
 */
MbdUser *
mbd_users_authenticate (MbdUsers *self, const char *name, const char *password, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db_of (self), "SELECT " USER_COLUMNS ", users.password FROM users WHERE name = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      mbd_db_throw (db_of (self), rc, "cannot read the users", error);
      return NULL;
    }
  const char *stored = rc == SQLITE_ROW ? (const char *) sqlite3_column_text (stmt, 9) : NULL;
  if (!check_password (password, stored))
    {
      throw_denied (error);
      return NULL;
    }
  g_autoptr (MbdUser) user = user_from_row (stmt);
  if (!user->is_active)
    {
      mbd_throw (error, MBD_ERROR_PERMISSION_DENIED, "user '%s' is inactive", name);
      return NULL;
    }
  return g_steal_pointer (&user);
}

typedef struct
{
  char *name;
  char *secret; /* a password or a key */
} Credentials;

static void
credentials_free (Credentials *credentials)
{
  g_free (credentials->name);
  if (credentials->secret != NULL)
    explicit_bzero (credentials->secret, strlen (credentials->secret));
  g_free (credentials->secret);
  g_free (credentials);
}

static GTask *
new_task (MbdUsers *self,
          const char *name,
          const char *secret,
          gpointer tag,
          GCancellable *cancellable,
          GAsyncReadyCallback callback,
          gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Credentials *credentials = g_new0 (Credentials, 1);

  g_task_set_source_tag (task, tag);
  credentials->name = g_strdup (name);
  credentials->secret = g_strdup (secret);
  g_task_set_task_data (task, credentials, (GDestroyNotify) credentials_free);
  return task;
}

static void
authenticate_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Credentials *credentials = task_data;
  GError *error = NULL;
  MbdUser *user
      = mbd_users_authenticate (MBD_USERS (source), credentials->name, credentials->secret, &error);

  if (user == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, user, g_object_unref);
}

/**
 * mbd_users_authenticate_async:
 * @self: the users
 * @name: a user name
 * @password: the password
 * @cancellable: (nullable): a cancellable
 * @callback: called when the check is done
 * @user_data: data for @callback
 *
 * Checks a user name and password in a worker thread; see [method@Mbd.Users.authenticate].
 */
void
mbd_users_authenticate_async (MbdUsers *self,
                              const char *name,
                              const char *password,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_return_if_fail (MBD_IS_USERS (self));
  g_return_if_fail (name != NULL && password != NULL);

  g_autoptr (GTask) task = new_task (self, name, password, mbd_users_authenticate_async,
                                     cancellable, callback, user_data);
  g_task_run_in_thread (task, authenticate_thread);
}

/**
 * mbd_users_authenticate_finish:
 * @self: the users
 * @result: the result
 *
 * Finishes [method@Mbd.Users.authenticate_async].
 *
 * Returns: (transfer full): the user, or %NULL with @error set as by
 *   [method@Mbd.Users.authenticate]
 */
MbdUser *
mbd_users_authenticate_finish (MbdUsers *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_users_authenticate_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Stores the hash of a new secret for user @name in @table and returns the secret. */
static char *
new_secret (MbdUsers *self, const char *sql, const char *name, gint64 time, GError **error)
{
  g_autofree char *secret = mbd_users_make_secret (error);
  if (secret == NULL)
    return NULL;
  char hash[MBD_SHA256_HEX_LEN + 1];
  secret_hash (secret, hash);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db_of (self), sql, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, time);
  if (!mbd_db_step_done (db_of (self), stmt, error))
    return NULL;
  if (sqlite3_changes (mbd_db_get_handle (db_of (self))) == 0)
    {
      mbd_throw (error, MBD_ERROR_NOT_FOUND, "there is no user '%s'", name);
      return NULL;
    }
  return g_steal_pointer (&secret);
}

/* The active user owning the secret whose hash is looked up by @sql (?1 the hash, ?2 now). */
static MbdUser *
verify_secret (MbdUsers *self,
               const char *sql,
               const char *secret,
               const char *what,
               GError **error)
{
  if (secret == NULL || *secret == '\0')
    {
      mbd_throw (error, MBD_ERROR_PERMISSION_DENIED, "no %s given", what);
      return NULL;
    }
  char hash[MBD_SHA256_HEX_LEN + 1];
  secret_hash (secret, hash);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db_of (self), sql, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, now_seconds ());
  g_autofree char *unknown = g_strdup_printf ("unknown %s", what);
  g_autoptr (MbdUser) user = step_user (self, stmt, MBD_ERROR_PERMISSION_DENIED, unknown, error);
  if (user == NULL)
    return NULL;
  if (!user->is_active)
    {
      mbd_throw (error, MBD_ERROR_PERMISSION_DENIED, "user '%s' is inactive", user->name);
      return NULL;
    }
  return g_steal_pointer (&user);
}

/**
 * mbd_users_create_session:
 * @self: the users
 * @name: a user name
 * @lifetime: seconds until the session expires, such as %MBD_USERS_SESSION_LIFETIME
 *
 * Starts a login session for a user (after [method@Mbd.Users.authenticate]); expired sessions
 * of all users are removed on the way.
 *
 * Returns: (transfer full): the session id (64 hex digits) to hand to the client, or %NULL with
 *   @error set: %MBD_ERROR_NOT_FOUND if there is no user @name
 */
char *
mbd_users_create_session (MbdUsers *self, const char *name, gint64 lifetime, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  g_autoptr (sqlite3_stmt) expire = mbd_db_prepare (
      db_of (self), "DELETE FROM user_sessions WHERE expires <= ?1", error);
  if (expire == NULL)
    return NULL;
  sqlite3_bind_int64 (expire, 1, now_seconds ());
  if (!mbd_db_step_done (db_of (self), expire, error))
    return NULL;
  return new_secret (self,
                     "INSERT INTO user_sessions (hash, user_id, expires) "
                     "SELECT ?2, id, ?3 FROM users WHERE name = ?1",
                     name, now_seconds () + lifetime, error);
}

/**
 * mbd_users_verify_session:
 * @self: the users
 * @session: a session id from [method@Mbd.Users.create_session]
 *
 * The user a login session belongs to.
 *
 * Returns: (transfer full): the user, or %NULL with @error set: %MBD_ERROR_EXPIRED if the
 *   session has expired, %MBD_ERROR_PERMISSION_DENIED if it is unknown (or was deleted) or its
 *   user is inactive
 */
MbdUser *
mbd_users_verify_session (MbdUsers *self, const char *session, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), NULL);

  g_autoptr (GError) local_error = NULL;
  g_autoptr (MbdUser) user = verify_secret (self,
                                            "SELECT " USER_COLUMNS " FROM user_sessions "
                                            "JOIN users ON users.id = user_sessions.user_id "
                                            "WHERE user_sessions.hash = ?1 AND expires > ?2",
                                            session, "session", &local_error);
  if (user != NULL)
    return g_steal_pointer (&user);
  if (!g_error_matches (local_error, MBD_ERROR, MBD_ERROR_PERMISSION_DENIED) || session == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  /* tell an expired session from an unknown one, so the client knows to log in again */
  char hash[MBD_SHA256_HEX_LEN + 1];
  secret_hash (session, hash);
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db_of (self), "DELETE FROM user_sessions WHERE hash = ?1 AND expires <= ?2", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, now_seconds ());
  if (!mbd_db_step_done (db_of (self), stmt, error))
    return NULL;
  if (sqlite3_changes (mbd_db_get_handle (db_of (self))) > 0)
    mbd_throw (error, MBD_ERROR_EXPIRED, "the session has expired: log in again");
  else
    g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

/**
 * mbd_users_delete_session:
 * @self: the users
 * @session: a session id
 *
 * Ends a login session (logout). Deleting an unknown session is not an error.
 *
 * Returns: %TRUE on success; %FALSE with @error set if the database fails
 */
gboolean
mbd_users_delete_session (MbdUsers *self, const char *session, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);
  g_return_val_if_fail (session != NULL, FALSE);

  char hash[MBD_SHA256_HEX_LEN + 1];
  secret_hash (session, hash);
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db_of (self), "DELETE FROM user_sessions WHERE hash = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, hash, -1, SQLITE_TRANSIENT);
  return mbd_db_step_done (db_of (self), stmt, error);
}

/**
 * mbd_users_create_token:
 * @self: the users
 * @name: a user name
 *
 * Makes a new bearer token for a user (`Authorization: Bearer <token>`), valid until revoked
 * with [method@Mbd.Users.revoke_tokens]. Only its SHA-256 is stored: the token cannot be shown
 * again.
 *
 * Returns: (transfer full): the token (64 hex digits), or %NULL with @error set:
 *   %MBD_ERROR_NOT_FOUND if there is no user @name
 */
char *
mbd_users_create_token (MbdUsers *self, const char *name, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return new_secret (self,
                     "INSERT INTO user_tokens (hash, user_id, created) "
                     "SELECT ?2, id, ?3 FROM users WHERE name = ?1",
                     name, now_seconds (), error);
}

/**
 * mbd_users_verify_token:
 * @self: the users
 * @token: a bearer token from [method@Mbd.Users.create_token]
 *
 * The user a bearer token belongs to.
 *
 * Returns: (transfer full): the user, or %NULL with @error set: %MBD_ERROR_PERMISSION_DENIED if
 *   the token is unknown or revoked, or its user is inactive
 */
MbdUser *
mbd_users_verify_token (MbdUsers *self, const char *token, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), NULL);

  return verify_secret (self,
                        "SELECT " USER_COLUMNS " FROM user_tokens "
                        "JOIN users ON users.id = user_tokens.user_id "
                        "WHERE user_tokens.hash = ?1 AND ?2 IS NOT NULL",
                        token, "token", error);
}

/**
 * mbd_users_revoke_tokens:
 * @self: the users
 * @name: a user name
 *
 * Revokes all bearer tokens of a user.
 *
 * Returns: %TRUE on success; %FALSE with @error set: %MBD_ERROR_NOT_FOUND if there is no user
 *   @name
 */
gboolean
mbd_users_revoke_tokens (MbdUsers *self, const char *name, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  g_autoptr (MbdUser) user = mbd_users_lookup (self, name, error);
  if (user == NULL)
    return FALSE;
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db_of (self), "DELETE FROM user_tokens WHERE user_id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user->id);
  return mbd_db_step_done (db_of (self), stmt, error);
}

/* Runs @sql with ?1 the id of user @name, ?2 @source, ?3 @distribution, ?4 now, and tells
 * whether it changed a row. */
static gboolean
change_subscription (MbdUsers *self,
                     const char *sql,
                     const char *name,
                     const char *source,
                     const char *distribution,
                     gboolean *out_changed,
                     GError **error)
{
  g_autoptr (MbdUser) user = mbd_users_lookup (self, name, error);
  if (user == NULL)
    return FALSE;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (db_of (self), sql, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user->id);
  sqlite3_bind_text (stmt, 2, source != NULL ? source : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, distribution != NULL ? distribution : "", -1, SQLITE_TRANSIENT);
  if (sqlite3_bind_parameter_count (stmt) >= 4)
    sqlite3_bind_int64 (stmt, 4, now_seconds ());
  if (!mbd_db_step_done (db_of (self), stmt, error))
    return FALSE;
  if (out_changed != NULL)
    *out_changed = sqlite3_changes (mbd_db_get_handle (db_of (self))) > 0;
  return TRUE;
}

/**
 * mbd_users_subscribe:
 * @self: the users
 * @name: a user name
 * @source: (nullable): a source package, or %NULL or empty for any
 * @distribution: (nullable): a distribution, or %NULL or empty for any
 * @out_created: (out) (optional): whether the subscription is new (%FALSE if it existed)
 *
 * Subscribes a user to the notifications of a source package in a distribution, as
 * mini-buildd's `subscribe` call.
 *
 * Returns: (skip): %TRUE on success; %FALSE with @error set: %MBD_ERROR_NOT_FOUND if there
 *   is no user @name
 */
gboolean
mbd_users_subscribe (MbdUsers *self,
                     const char *name,
                     const char *source,
                     const char *distribution,
                     gboolean *out_created,
                     GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return change_subscription (self,
                              "INSERT OR IGNORE INTO subscriptions "
                              "(user_id, source, distribution, created) VALUES (?1, ?2, ?3, ?4)",
                              name, source, distribution, out_created, error);
}

/**
 * mbd_users_unsubscribe:
 * @self: the users
 * @name: a user name
 * @source: (nullable): the source package of the subscription, or %NULL or empty for the "any"
 *   subscription
 * @distribution: (nullable): its distribution, or %NULL or empty for "any"
 * @out_removed: (out) (optional): whether such a subscription existed
 *
 * Removes exactly the subscription (@source, @distribution) of a user, as mini-buildd's
 * `unsubscribe` call: empty values match only the "any" subscription, not every one.
 *
 * Returns: (skip): %TRUE on success; %FALSE with @error set: %MBD_ERROR_NOT_FOUND if there
 *   is no user @name
 */
gboolean
mbd_users_unsubscribe (MbdUsers *self,
                       const char *name,
                       const char *source,
                       const char *distribution,
                       gboolean *out_removed,
                       GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return change_subscription (self,
                              "DELETE FROM subscriptions "
                              "WHERE user_id = ?1 AND source = ?2 AND distribution = ?3",
                              name, source, distribution, out_removed, error);
}

/**
 * mbd_users_list_subscriptions:
 * @self: the users
 * @name: a user name
 * @out_sources: (out) (transfer full) (array zero-terminated=1): the subscriptions' source
 *   packages ("" for any)
 * @out_distributions: (out) (transfer full) (array zero-terminated=1): their distributions, in
 *   the same order ("" for any)
 *
 * A user's subscriptions, ordered by source and distribution.
 *
 * Returns: (skip): %TRUE on success; %FALSE with @error set: %MBD_ERROR_NOT_FOUND if there
 *   is no user @name
 */
gboolean
mbd_users_list_subscriptions (MbdUsers *self,
                              const char *name,
                              char ***out_sources,
                              char ***out_distributions,
                              GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  g_autoptr (MbdUser) user = mbd_users_lookup (self, name, error);
  if (user == NULL)
    return FALSE;
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db_of (self),
                               "SELECT source, distribution FROM subscriptions WHERE user_id = ?1 "
                               "ORDER BY source, distribution",
                               error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, user->id);
  g_autoptr (GStrvBuilder) sources = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) distributions = g_strv_builder_new ();
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_strv_builder_add (sources, (const char *) sqlite3_column_text (stmt, 0));
      g_strv_builder_add (distributions, (const char *) sqlite3_column_text (stmt, 1));
    }
  if (rc != SQLITE_DONE)
    return mbd_db_throw (db_of (self), rc, "cannot read the subscriptions", error);
  *out_sources = g_strv_builder_end (sources);
  *out_distributions = g_strv_builder_end (distributions);
  return TRUE;
}

/**
 * mbd_users_get_subscribers:
 * @self: the users
 * @source: a source package
 * @distribution: a distribution
 *
 * The mail addresses to notify of an event of @source in @distribution: those of the active
 * users with an address subscribed to exactly these or to "any" in either place.
 *
 * Returns: (transfer full) (array zero-terminated=1): the addresses, sorted and each once, or
 *   %NULL with @error set if the database fails
 */
char **
mbd_users_get_subscribers (MbdUsers *self,
                           const char *source,
                           const char *distribution,
                           GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), NULL);
  g_return_val_if_fail (source != NULL && distribution != NULL, NULL);

  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db_of (self),
      "SELECT DISTINCT users.email FROM subscriptions "
      "JOIN users ON users.id = subscriptions.user_id "
      "WHERE users.is_active AND users.email != '' AND subscriptions.source IN ('', ?1) "
      "AND subscriptions.distribution IN ('', ?2) ORDER BY users.email",
      error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, source, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, distribution, -1, SQLITE_TRANSIENT);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_strv_builder_add (builder, (const char *) sqlite3_column_text (stmt, 0));
  if (rc != SQLITE_DONE)
    {
      mbd_db_throw (db_of (self), rc, "cannot read the subscriptions", error);
      return NULL;
    }
  return g_strv_builder_end (builder);
}

/* The fingerprint of the one key in @armored (trimmed), checked in a scratch keyring: runs gpg,
 * touches no database. */
static char *
check_key (const char *name, const char *armored, GCancellable *cancellable, GError **error)
{
  if (strchr (armored, '\n') == NULL)
    {
      mbd_throw (error, MBD_ERROR_UNSUPPORTED,
                 "key for user '%s': '%s' looks like a key id; keyserver lookups are not "
                 "supported: give the ASCII-armored public key",
                 name, armored);
      return NULL;
    }
  g_autoptr (MbdGnupg) scratch = mbd_gnupg_new_temporary (error);
  if (scratch == NULL)
    return NULL;
  g_autoptr (GBytes) data = g_bytes_new (armored, strlen (armored));
  g_autoptr (GError) import_error = NULL;
  g_auto (GStrv) fingerprints = mbd_gnupg_import_keys (scratch, data, cancellable, &import_error);
  if (fingerprints == NULL)
    {
      if (g_error_matches (import_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&import_error));
      else
        mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, "key for user '%s' is not usable: %s", name,
                   import_error->message);
      return NULL;
    }
  guint n = g_strv_length (fingerprints);
  if (n != 1)
    {
      mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                 "key for user '%s' must be exactly one OpenPGP public key, the text has %u", name,
                 n);
      return NULL;
    }
  return g_strdup (fingerprints[0]);
}

/* Stores a checked key as the user's inactive key; a previously activated one stops being an
 * uploader key. */
static gboolean
store_key (MbdUsers *self,
           const char *name,
           const char *armored,
           const char *fingerprint,
           GError **error)
{
  if (!remove_uploader_key (self, name, error))
    return FALSE;
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db_of (self),
                               "UPDATE users SET key = ?2, key_fingerprint = ?3, key_active = 0 "
                               "WHERE name = ?1",
                               error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, armored, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, fingerprint, -1, SQLITE_TRANSIENT);
  if (!mbd_db_step_done (db_of (self), stmt, error))
    return FALSE;
  if (sqlite3_changes (mbd_db_get_handle (db_of (self))) == 0)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND, "there is no user '%s'", name);
  return TRUE;
}

/**
 * mbd_users_set_key:
 * @self: the users
 * @name: a user name
 * @armored_key: the user's OpenPGP public key, ASCII armored (exactly one key)
 * @cancellable: (nullable): a cancellable
 *
 * Sets a user's uploader key, as mini-buildd's `set_user_key` call: the key is checked (it must
 * import as exactly one key), a previously active key of the user stops being an uploader key,
 * and the new key stays inactive until staff activates it with
 * [method@Mbd.Users.activate_key]. Runs gpg: use [method@Mbd.Users.set_key_async] from a main
 * loop.
 *
 * Returns: %TRUE on success; %FALSE with @error set: %MBD_ERROR_NOT_FOUND if there is no user
 *   @name, %MBD_ERROR_UNSUPPORTED for a one-line key id (keyserver lookups are not done),
 *   %MBD_ERROR_INVALID_ARGUMENT if the text holds no key or more than one
 */
gboolean
mbd_users_set_key (MbdUsers *self,
                   const char *name,
                   const char *armored_key,
                   GCancellable *cancellable,
                   GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);
  g_return_val_if_fail (name != NULL && armored_key != NULL, FALSE);

  g_autoptr (MbdUser) user = mbd_users_lookup (self, name, error);
  if (user == NULL)
    return FALSE;
  g_autofree char *trimmed = g_strstrip (g_strdup (armored_key));
  g_autofree char *fingerprint = check_key (name, trimmed, cancellable, error);
  return fingerprint != NULL && store_key (self, name, trimmed, fingerprint, error);
}

static void
set_key_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Credentials *credentials = task_data;
  GError *error = NULL;
  char *fingerprint = check_key (credentials->name, credentials->secret, cancellable, &error);

  if (fingerprint != NULL)
    g_task_return_pointer (task, fingerprint, g_free);
  else
    g_task_return_error (task, error);
}

/**
 * mbd_users_set_key_async:
 * @self: the users
 * @name: a user name
 * @armored_key: the user's OpenPGP public key, ASCII armored
 * @cancellable: (nullable): a cancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Sets a user's uploader key: the key is checked in a worker thread, and stored by
 * [method@Mbd.Users.set_key_finish] in the thread that calls it (so database writes stay on the
 * caller's thread); see [method@Mbd.Users.set_key].
 */
void
mbd_users_set_key_async (MbdUsers *self,
                         const char *name,
                         const char *armored_key,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_return_if_fail (MBD_IS_USERS (self));
  g_return_if_fail (name != NULL && armored_key != NULL);

  g_autofree char *trimmed = g_strstrip (g_strdup (armored_key));
  g_autoptr (GTask) task = new_task (self, name, trimmed, mbd_users_set_key_async, cancellable,
                                     callback, user_data);
  g_task_run_in_thread (task, set_key_thread);
}

/**
 * mbd_users_set_key_finish:
 * @self: the users
 * @result: the result
 *
 * Finishes [method@Mbd.Users.set_key_async]: stores the checked key.
 *
 * Returns: %TRUE on success; %FALSE with @error set as by [method@Mbd.Users.set_key]
 */
gboolean
mbd_users_set_key_finish (MbdUsers *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mbd_users_set_key_async, FALSE);

  Credentials *credentials = g_task_get_task_data (G_TASK (result));
  g_autofree char *fingerprint = g_task_propagate_pointer (G_TASK (result), error);
  return fingerprint != NULL
         && store_key (self, credentials->name, credentials->secret, fingerprint, error);
}

/**
 * mbd_users_activate_key:
 * @self: the users
 * @name: a user name
 *
 * Activates the key a user set with [method@Mbd.Users.set_key]: it becomes an uploader key of
 * every repository (the file `uploaders/user-<name>.asc` in the instance home).
 *
 * Returns: %TRUE on success; %FALSE with @error set: %MBD_ERROR_NOT_FOUND if there is no user
 *   @name or the user has set no key
 */
gboolean
mbd_users_activate_key (MbdUsers *self, const char *name, GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db_of (self), "SELECT key FROM users WHERE name = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND, "there is no user '%s'", name);
  if (rc != SQLITE_ROW)
    return mbd_db_throw (db_of (self), rc, "cannot read the users", error);
  const char *key = (const char *) sqlite3_column_text (stmt, 0);
  if (key == NULL)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                      "user '%s' has set no key (API call set_user_key) to activate", name);
  g_autofree char *path = uploader_key_path (self, name);
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot create %s: %s", dir,
                   g_strerror (saved));
      return FALSE;
    }
  g_autofree char *text = g_strconcat (key, "\n", NULL);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error))
    return FALSE;
  return update_user (self, "UPDATE users SET key_active = 1 WHERE name = ?1", name, NULL, 0,
                      error);
}

/**
 * mbd_users_ensure_admin:
 * @self: the users
 * @password_file: where to write the new admin's password (mode 0600)
 * @out_created: (out) (optional): whether the user `admin` was created
 *
 * Makes sure the instance can be administered from the start, as mini-buildd's package creates
 * its `admin`: if there is no active superuser and no user named `admin`, adds the superuser
 * `admin` with a random password and writes the password to @password_file. Otherwise does
 * nothing.
 *
 * Returns: %TRUE on success; %FALSE with @error set if the database or the file fails
 */
gboolean
mbd_users_ensure_admin (MbdUsers *self,
                        const char *password_file,
                        gboolean *out_created,
                        GError **error)
{
  g_return_val_if_fail (MBD_IS_USERS (self), FALSE);
  g_return_val_if_fail (password_file != NULL, FALSE);

  gboolean has_admin = FALSE;
  if (out_created != NULL)
    *out_created = FALSE;
  if (!mbd_users_has_admin (self, &has_admin, error))
    return FALSE;
  if (has_admin)
    return TRUE;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (MbdUser) existing = mbd_users_lookup (self, "admin", &local_error);
  if (existing != NULL)
    return TRUE;
  if (!g_error_matches (local_error, MBD_ERROR, MBD_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_autofree char *secret = mbd_users_make_secret (error);
  if (secret == NULL)
    return FALSE;
  secret[32] = '\0'; /* 128 bits are plenty for a password */
  g_autofree char *text = g_strconcat (secret, "\n", NULL);
  if (!g_file_set_contents_full (password_file, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 error)
      || !mbd_users_add (self, "admin", secret, NULL, MBD_USER_LEVEL_ADMIN, error))
    return FALSE;
  if (out_created != NULL)
    *out_created = TRUE;
  return TRUE;
}
