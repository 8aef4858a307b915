/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mbd-gnupg-private.h"
#include "mbd-instance-private.h"
#include "mbd-keyring-package-private.h"
#include "mbd-packager-private.h"
#include "mbd-port-private.h"
#include "mbd-util-private.h"

/* ---- dput configuration -------------------------------------------------------------------- */

/**
 * mbd_instance_dput_conf:
 * @instance: an open instance
 * @url: (nullable): the URL the instance is served under, or %NULL for its own
 *   ([method@Mbd.Instance.dup_url])
 * @dput_ng_profile: %TRUE for a dput-ng profile (JSON), %FALSE for a `dput.cf` stanza
 *
 * Renders the dput configuration for uploads to the instance, as mini-buildd's `dput_conf`
 * call: a `dput.cf` stanza `[mini-buildd-<identity>]` for dput's `http` (or `https`) method,
 * uploading to %MBD_UPLOAD_PATH, followed by the home's `etc/dput.cf` if it exists; or the
 * same values as a dput-ng profile (`/etc/dput.d/profiles/mini-buildd-<identity>.json`).
 *
 * Returns: (transfer full): the text, or %NULL with %MBD_ERROR_INVALID_ARGUMENT for a URL that
 *   is not `http` or `https` with a host
 */
char *
mbd_instance_dput_conf (MbdInstance *instance,
                        const char *url,
                        gboolean dput_ng_profile,
                        GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);

  g_autofree char *own = url == NULL ? mbd_instance_dup_url (instance) : NULL;
  const char *text_url = url != NULL ? url : own;
  g_autoptr (GUri) uri = g_uri_parse (text_url, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;
  if (scheme == NULL || (strcmp (scheme, "http") != 0 && strcmp (scheme, "https") != 0)
      || host == NULL || *host == '\0')
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                      "URL '%s' cannot take dput uploads: use http://HOST[:PORT] or https://…",
                      text_url),
           NULL;
  int port = g_uri_get_port (uri);
  /* an IPv6 address needs its brackets before the port */
  g_autofree char *bracketed
      = strchr (host, ':') != NULL ? g_strdup_printf ("[%s]", host) : g_strdup (host);
  g_autofree char *fqdn
      = port > 0 ? g_strdup_printf ("%s:%d", bracketed, port) : g_strdup (bracketed);

  if (dput_ng_profile)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "method");
      json_builder_add_string_value (builder, scheme);
      json_builder_set_member_name (builder, "fqdn");
      json_builder_add_string_value (builder, fqdn);
      json_builder_set_member_name (builder, "login");
      json_builder_add_string_value (builder, "anonymous");
      json_builder_set_member_name (builder, "incoming");
      json_builder_add_string_value (builder, MBD_UPLOAD_PATH);
      json_builder_end_object (builder);
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      g_autofree char *json = json_to_string (root, TRUE);
      return g_strconcat (json, "\n", NULL);
    }

  g_autoptr (GString) text = g_string_new (NULL);
  g_string_append_printf (text,
                          "[mini-buildd-%s]\nmethod   = %s\nfqdn     = %s\nlogin    = anonymous\n"
                          "incoming = %s\n",
                          mbd_instance_get_identity (instance), scheme, fqdn, MBD_UPLOAD_PATH);
  /* as mini-buildd: the home's etc/dput.cf is appended (extra targets such as scp) */
  g_autofree char *extra_path
      = g_build_filename (mbd_instance_get_home (instance), "etc", "dput.cf", NULL);
  g_autofree char *extra = NULL;
  if (g_file_get_contents (extra_path, &extra, NULL, NULL))
    g_string_append (text, extra);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

#define NO_URL_MESSAGE                                                                             \
  "the keyring package needs the URL the instance is served under (for its APT sources and dput "  \
  "configuration), and none is known: give one (mbd keyring-packages --url URL) or run it in "     \
  "mbd-server"

/* ---- the source tree ----------------------------------------------------------------------- */

char *
mbd_keyring_package_version (MbdRepository *repository,
                             MbdDistribution *distribution,
                             MbdSuite *suite,
                             GDateTime *when)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (when);
  g_autofree char *stamp = g_date_time_format (utc, "%Y%m%d%H%M%S");
  g_autofree char *suffix = mbd_layout_get_default_version (
      mbd_repository_get_layout (repository), suite, mbd_repository_get_identity (repository),
      mbd_distribution_get_codeversion (distribution));
  return g_strconcat (stamp, suffix, NULL);
}

/* Writes @contents to @dir/@path (creating the directories on the way) with @mode. */
static gboolean
write_file (const char *dir,
            const char *path,
            const void *contents,
            gssize length,
            int mode,
            GError **error)
{
  g_autofree char *full = g_build_filename (dir, path, NULL);
  g_autofree char *parent = g_path_get_dirname (full);

  if (g_mkdir_with_parents (parent, 0755) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s",
                   parent, g_strerror (saved));
      return FALSE;
    }
  if (!g_file_set_contents_full (full, contents, length, G_FILE_SET_CONTENTS_NONE, mode, error))
    return FALSE;
  return TRUE;
}

/* The instance key as a binary OpenPGP keyring (what apt's signed-by and trusted.gpg.d take). */
static GBytes *
export_binary_key (MbdInstance *instance, GError **error)
{
  MbdGnupg *gnupg = mbd_instance_get_gnupg (instance);
  const char *fingerprint = mbd_instance_get_fingerprint (instance);
  g_auto (gpgme_ctx_t) ctx = mbd_gnupg_new_context (gnupg, error);
  if (ctx == NULL)
    return NULL;
  gpgme_set_armor (ctx, 0);
  g_auto (gpgme_data_t) out = NULL;
  gpgme_error_t err = gpgme_data_new (&out);
  if (err == 0)
    err = gpgme_op_export (ctx, fingerprint, GPGME_EXPORT_MODE_MINIMAL, out);
  if (err != 0)
    return mbd_throw (error, MBD_ERROR_GPG, "cannot export the instance key %s from %s: %s",
                      fingerprint, mbd_gnupg_get_homedir (gnupg), gpgme_strerror (err)),
           NULL;
  size_t length = 0;
  char *data = gpgme_data_release_and_get_mem (g_steal_pointer (&out), &length);
  if (data == NULL || length == 0)
    {
      gpgme_free (data);
      return mbd_throw (error, MBD_ERROR_NOT_FOUND, "the instance key %s is not in %s", fingerprint,
                        mbd_gnupg_get_homedir (gnupg)),
             NULL;
    }
  GBytes *bytes = g_bytes_new (data, length);
  gpgme_free (data);
  return bytes;
}

/* A changelog date (RFC 2822, English names whatever the locale). */
static char *
changelog_date (GDateTime *when)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[]
      = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autoptr (GDateTime) utc = g_date_time_to_utc (when);
  g_autofree char *rest = g_date_time_format (utc, "%Y %H:%M:%S +0000");

  return g_strdup_printf ("%s, %02d %s %s", days[g_date_time_get_day_of_week (utc) - 1],
                          g_date_time_get_day_of_month (utc),
                          months[g_date_time_get_month (utc) - 1], rest);
}

/* debian/rules without debhelper: the cached build chroots (mmdebstrap --variant=buildd) have
 * build-essential only, and a package of a few files needs nothing more than install,
 * dpkg-gencontrol and dpkg-deb. */
static const char rules_template[]
    = "#!/usr/bin/make -f\n"
      "# Written by mbd. No debhelper: build-essential is all this package needs.\n"
      "PKG := @PKG@\n"
      "ID := @ID@\n"
      "D := debian/$(PKG)\n"
      "\n"
      "build build-arch build-indep:\n"
      "\n"
      "clean:\n"
      "\trm -rf debian/$(PKG) debian/files debian/*.substvars\n"
      "\n"
      "binary-arch:\n"
      "\n"
      "binary binary-indep:\n"
      "\trm -rf $(D)\n"
      "\tinstall -d $(D)/DEBIAN $(D)/usr/share/keyrings $(D)/etc/apt/trusted.gpg.d \\\n"
      "\t  $(D)/etc/dput.d/profiles $(D)/usr/share/$(PKG) $(D)/usr/share/doc/$(PKG)\n"
      "\tinstall -m 0644 keyring/$(PKG).gpg $(D)/usr/share/keyrings/$(PKG).gpg\n"
      "\tinstall -m 0644 keyring/$(PKG).gpg $(D)/etc/apt/trusted.gpg.d/$(PKG).gpg\n"
      "\tinstall -m 0644 dput/mini-buildd-$(ID).json $(D)/etc/dput.d/profiles/\n"
      "\tinstall -m 0644 dput/dput.cf $(D)/usr/share/$(PKG)/dput.cf\n"
      "\tcp -R sources.list.d $(D)/usr/share/$(PKG)/\n"
      "\tchmod -R u=rwX,go=rX $(D)/usr/share/$(PKG)\n"
      "\tinstall -m 0644 debian/copyright $(D)/usr/share/doc/$(PKG)/copyright\n"
      "\tgzip -9n -c debian/changelog > $(D)/usr/share/doc/$(PKG)/changelog.gz\n"
      "\tchmod 0644 $(D)/usr/share/doc/$(PKG)/changelog.gz\n"
      "\tcd $(D) && find usr -type f -exec md5sum {} + | LC_ALL=C sort > DEBIAN/md5sums\n"
      "\tchmod 0644 $(D)/DEBIAN/md5sums\n"
      "\tinstall -m 0755 debian/postinst $(D)/DEBIAN/postinst\n"
      "\tprintf '%s\\n' /etc/apt/trusted.gpg.d/$(PKG).gpg \\\n"
      "\t  /etc/dput.d/profiles/mini-buildd-$(ID).json > $(D)/DEBIAN/conffiles\n"
      "\tchmod 0644 $(D)/DEBIAN/conffiles\n"
      "\tdpkg-gencontrol -p$(PKG) -P$(D)\n"
      "\tdpkg-deb --root-owner-group --build $(D) ..\n"
      "\n"
      ".PHONY: build build-arch build-indep clean binary binary-arch binary-indep\n";

/* apt < 2.1 users may have added the key to the legacy single keyring with apt-key; it is in
 * trusted.gpg.d now, so that copy goes (as mini-buildd's keyring package does). */
static const char postinst_template[]
    = "#!/bin/sh\n"
      "# Written by mbd: drops the instance key from the legacy keyring /etc/apt/trusted.gpg;\n"
      "# apt finds it in /etc/apt/trusted.gpg.d/ and /usr/share/keyrings/ now.\n"
      "set -e\n"
      "legacy=\"${DPKG_ROOT:-}/etc/apt/trusted.gpg\"\n"
      "if [ \"$1\" = configure ] && [ -s \"$legacy\" ] && command -v gpg >/dev/null; then\n"
      "  tmp=$(mktemp -d)\n"
      "  if gpg --homedir \"$tmp\" --batch --quiet --no-default-keyring \\\n"
      "       --keyring \"$legacy\" --list-keys @FPR@ >/dev/null 2>&1; then\n"
      "    gpg --homedir \"$tmp\" --batch --quiet --yes --no-default-keyring \\\n"
      "      --keyring \"$legacy\" --delete-keys @FPR@ || true\n"
      "    echo \"@PKG@: removed key @FPR@ from $legacy\"\n"
      "  fi\n"
      "  rm -rf \"$tmp\"\n"
      "fi\n"
      "exit 0\n";

static char *
fill (const char *template, const char *pkg, const char *id, const char *fpr)
{
  g_autoptr (GString) text = g_string_new (template);

  g_string_replace (text, "@PKG@", pkg, 0);
  g_string_replace (text, "@ID@", id, 0);
  g_string_replace (text, "@FPR@", fpr, 0);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* One-line `.list` files rather than deb822 `.sources`: the names mini-buildd gives its library
 * (`<repo>_<suite>[_src].list`, which users copy into /etc/apt/sources.list.d/ as they are), and
 * the format every apt reads; signed-by in the options pins the suite to the instance key. */
static gboolean
write_sources_library (MbdInstance *instance,
                       const char *url,
                       const char *pkg,
                       const char *tree,
                       GError **error)
{
  g_autoptr (GPtrArray) repos = mbd_instance_list_repositories (instance, error);
  if (repos == NULL)
    return FALSE;
  g_autofree char *options = g_strdup_printf ("[signed-by=/usr/share/keyrings/%s.gpg]", pkg);
  static const char *const types[] = { "deb", "deb-src" };

  for (guint i = 0; i < repos->len; i++)
    {
      MbdRepository *repo = repos->pdata[i];
      const char *repo_id = mbd_repository_get_identity (repo);
      g_autoptr (GPtrArray) suites = mbd_layout_get_suites (mbd_repository_get_layout (repo));
      g_autoptr (GPtrArray) dists = mbd_repository_get_distributions (repo);
      for (guint d = 0; d < dists->len; d++)
        {
          const char *codename = mbd_distribution_get_codename (dists->pdata[d]);
          for (guint s = 0; s < suites->len; s++)
            for (guint t = 0; t < G_N_ELEMENTS (types); t++)
              {
                const char *suite = mbd_suite_get_name (suites->pdata[s]);
                const char *only[] = { types[t], NULL };
                g_auto (GStrv) lines = mbd_instance_sources_list (
                    instance, repo_id, codename, suite, only, FALSE, NULL, url, error);
                if (lines == NULL)
                  return FALSE;
                g_autoptr (GString) text = g_string_new (NULL);
                g_string_append_printf (text, "# %s: %s %s of mbd instance %s\n", pkg, repo_id,
                                        suite, mbd_instance_get_identity (instance));
                g_autofree char *prefix = g_strdup_printf ("%s [] ", types[t]);
                for (guint l = 0; lines[l] != NULL; l++)
                  if (g_str_has_prefix (lines[l], prefix))
                    g_string_append_printf (text, "%s %s %s\n", types[t], options,
                                            lines[l] + strlen (prefix));
                  else
                    g_string_append_printf (text, "%s\n", lines[l]);
                g_autofree char *path = g_strdup_printf ("sources.list.d/%s/%s_%s%s.list", codename,
                                                         repo_id, suite, t == 0 ? "" : "_src");
                if (!write_file (tree, path, text->str, text->len, 0644, error))
                  return FALSE;
              }
        }
    }
  return TRUE;
}

char *
mbd_keyring_package_write_tree (MbdInstance *instance,
                                const char *url,
                                const char *distribution,
                                const char *version,
                                const char *parent,
                                GError **error)
{
  g_return_val_if_fail (MBD_IS_INSTANCE (instance), NULL);
  g_return_val_if_fail (distribution != NULL && version != NULL && parent != NULL, NULL);

  if (url == NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, NO_URL_MESSAGE), NULL;
  const char *id = mbd_instance_get_identity (instance);
  const char *fpr = mbd_instance_get_fingerprint (instance);
  g_autofree char *pkg = g_strdup_printf ("%s-archive-keyring", id);
  g_autofree char *tree_name = g_strdup_printf ("%s-%s", pkg, version);
  g_autofree char *tree = g_build_filename (parent, tree_name, NULL);
  g_autoptr (GBytes) key = export_binary_key (instance, error);
  g_autofree char *dput_cf
      = key != NULL ? mbd_instance_dput_conf (instance, url, FALSE, error) : NULL;
  g_autofree char *dput_ng
      = dput_cf != NULL ? mbd_instance_dput_conf (instance, url, TRUE, error) : NULL;
  if (dput_ng == NULL)
    return NULL;

  if (g_mkdir (tree, 0755) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s", tree,
                   g_strerror (saved));
      return NULL;
    }

  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = changelog_date (now);
  /* the instance has no mail address; lintian wants a domain (RFC 2606 reserves .invalid) */
  g_autofree char *maintainer = g_strdup_printf ("mbd %s archive <mbd@%s.invalid>", id, id);
  g_autofree char *control = g_strdup_printf (
      "Source: %s\n"
      "Section: misc\n"
      "Priority: optional\n"
      "Maintainer: %s\n"
      "Standards-Version: 4.6.2\n"
      "Rules-Requires-Root: no\n"
      "\n"
      "Package: %s\n"
      "Architecture: all\n"
      "Multi-Arch: foreign\n"
      "Description: archive key, APT sources and dput setup of mbd instance %s\n"
      " The OpenPGP key that signs the repositories of the mbd (mini-buildd)\n"
      " instance %s, for APT's signed-by (in /usr/share/keyrings/) and in\n"
      " /etc/apt/trusted.gpg.d/. Its fingerprint:\n"
      " %s\n"
      " .\n"
      " An APT source list for each suite of each repository of the instance is\n"
      " in /usr/share/%s/sources.list.d/: copy the one you\n"
      " want to /etc/apt/sources.list.d/. The dput-ng profile mini-buildd-%s is\n"
      " installed; /usr/share/%s/dput.cf holds the same for dput.\n",
      pkg, maintainer, pkg, id, id, fpr, pkg, id, pkg);
  g_autofree char *changelog
      = g_strdup_printf ("%s (%s) %s; urgency=medium\n\n"
                         "  * Archive key, APT sources and dput configuration of mbd instance\n"
                         "    %s (key %s,\n"
                         "    served at %s).\n\n"
                         " -- %s  %s\n",
                         pkg, version, distribution, id, fpr, url, maintainer, date);
  g_autofree char *copyright = g_strdup_printf (
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
      "Upstream-Name: %s\n"
      "Comment: Generated by mbd for the instance %s; it holds the instance's public key and\n"
      " configuration files only.\n"
      "\n"
      "Files: *\n"
      "Copyright: %d %s\n"
      "License: public-domain\n"
      " The files of this package are facts about the instance (a public key, URLs) and\n"
      " carry no copyright restrictions.\n",
      pkg, id, g_date_time_get_year (now), maintainer);
  g_autofree char *rules = fill (rules_template, pkg, id, fpr);
  g_autofree char *postinst = fill (postinst_template, pkg, id, fpr);
  g_autofree char *key_path = g_strdup_printf ("keyring/%s.gpg", pkg);
  g_autofree char *profile_path = g_strdup_printf ("dput/mini-buildd-%s.json", id);
  gsize key_length = 0;
  const void *key_data = g_bytes_get_data (key, &key_length);

  if (!write_file (tree, "debian/source/format", "3.0 (native)\n", -1, 0644, error)
      || !write_file (tree, "debian/control", control, -1, 0644, error)
      || !write_file (tree, "debian/changelog", changelog, -1, 0644, error)
      || !write_file (tree, "debian/copyright", copyright, -1, 0644, error)
      || !write_file (tree, "debian/rules", rules, -1, 0755, error)
      || !write_file (tree, "debian/postinst", postinst, -1, 0755, error)
      || !write_file (tree, key_path, key_data, key_length, 0644, error)
      || !write_file (tree, profile_path, dput_ng, -1, 0644, error)
      || !write_file (tree, "dput/dput.cf", dput_cf, -1, 0644, error)
      || !write_sources_library (instance, url, pkg, tree, error))
    {
      mbd_remove_tree (tree);
      return NULL;
    }
  return g_steal_pointer (&tree);
}

/* ---- migration after installation ---------------------------------------------------------- */

gboolean
mbd_packager_mark_migrate (MbdInstance *instance, const char *key, GError **error)
{
  MbdDb *db = mbd_instance_get_db (instance);
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "UPDATE packages SET migrate = 1 WHERE key = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  if (!mbd_db_step_done (db, stmt, error))
    return FALSE;
  if (sqlite3_changes (mbd_db_get_handle (db)) == 0)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND, "package '%s' does not exist", key);
  return TRUE;
}

static void
clear_mark (MbdDb *db, const char *key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (sqlite3_stmt) stmt
             = mbd_db_prepare (db, "UPDATE packages SET migrate = 0 WHERE key = ?1", &error);
  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
      mbd_db_step_done (db, stmt, &error);
    }
  if (error != NULL)
    g_warning ("package %s: %s", key, error->message);
}

void
mbd_packager_migrate_installed (MbdInstance *instance)
{
  MbdDb *db = mbd_instance_get_db (instance);
  if (db == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (sqlite3_stmt) stmt = mbd_db_prepare (
      db,
      "SELECT key, source, version, distribution FROM packages WHERE migrate = 1 AND state = ?1"
      " ORDER BY id",
      &error);
  if (stmt == NULL)
    {
      g_warning ("packager: %s", error->message);
      return;
    }
  sqlite3_bind_int (stmt, 1, MBD_PACKAGE_STATE_INSTALLED);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      char **row = g_new0 (char *, 5);
      for (int c = 0; c < 4; c++)
        row[c] = g_strdup ((const char *) sqlite3_column_text (stmt, c));
      g_ptr_array_add (rows, row);
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  for (guint i = 0; i < rows->len; i++)
    {
      char **row = rows->pdata[i];
      g_autoptr (GError) local_error = NULL;
      g_autoptr (MbdRepository) repo
                 = mbd_instance_lookup_repository_for_distribution (instance, row[3], &local_error);
      /* an earlier run that died after migrating but before clearing the mark finds it done */
      if (repo != NULL
          && !mbd_repository_migrate (repo, row[1], row[3], row[2], TRUE, NULL, &local_error)
          && !g_error_matches (local_error, MBD_ERROR, MBD_ERROR_EXISTS))
        g_warning ("package %s: migrating %s %s from %s failed: %s", row[0], row[1], row[2], row[3],
                   local_error->message);
      else if (repo == NULL)
        g_warning ("package %s: cannot migrate: %s", row[0], local_error->message);
      clear_mark (db, row[0]);
    }
}

/* ---- building ------------------------------------------------------------------------------ */

typedef struct
{
  MbdRepository *repo; /* (unowned) */
  MbdDistribution *dist;
  MbdSuite *suite;
  char *distribution;
} Target;

static void
target_free (Target *target)
{
  g_free (target->distribution);
  g_free (target);
}

/* The distributions to build into: @names (distribution strings or meta names), or every
 * uploadable suite flagged build_keyring_package; of @repos. */
static GPtrArray *
find_targets (MbdInstance *instance,
              GPtrArray *repos,
              const char *const *names,
              const char *repository,
              GError **error)
{
  g_autoptr (GPtrArray) wanted = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      char *resolved = mbd_instance_resolve_distribution (instance, names[i], error);
      if (resolved == NULL)
        return NULL;
      g_ptr_array_add (wanted, resolved);
    }
  g_ptr_array_add (wanted, NULL);
  const char *const *wanted_names = (const char *const *) wanted->pdata;

  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func ((GDestroyNotify) target_free);
  for (guint r = 0; r < repos->len; r++)
    {
      MbdRepository *repo = repos->pdata[r];
      g_autoptr (GPtrArray) suites = mbd_layout_get_suites (mbd_repository_get_layout (repo));
      g_autoptr (GPtrArray) dists = mbd_repository_get_distributions (repo);
      for (guint d = 0; d < dists->len; d++)
        for (guint s = 0; s < suites->len; s++)
          {
            MbdSuite *suite = suites->pdata[s];
            g_autofree char *name = mbd_distribution_string_format (
                mbd_distribution_get_codename (dists->pdata[d]), mbd_repository_get_identity (repo),
                mbd_suite_get_name (suite), -1);
            if (names != NULL ? !g_strv_contains (wanted_names, name)
                              : !mbd_suite_get_build_keyring_package (suite))
              continue;
            if (!mbd_suite_get_uploadable (suite))
              return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT,
                                "distribution %s is not uploadable: the keyring package cannot "
                                "be built there",
                                name),
                     NULL;
            Target *target = g_new0 (Target, 1);
            target->repo = repo;
            target->dist = dists->pdata[d];
            target->suite = suite;
            target->distribution = g_steal_pointer (&name);
            g_ptr_array_add (targets, target);
          }
    }
  for (guint i = 0; i + 1 < wanted->len; i++)
    {
      gboolean found = FALSE;
      for (guint t = 0; !found && t < targets->len; t++)
        found = strcmp (((Target *) targets->pdata[t])->distribution, wanted->pdata[i]) == 0;
      if (!found)
        return mbd_throw (error, MBD_ERROR_NOT_FOUND, "distribution %s is not in %s%s",
                          (char *) wanted->pdata[i], repository != NULL ? "repository " : "",
                          repository != NULL ? repository : "any repository"),
               NULL;
    }
  if (targets->len == 0)
    return mbd_throw (error, MBD_ERROR_NOT_FOUND,
                      "no uploadable suite of %s is flagged build_keyring_package: name the "
                      "distributions to build the keyring package into",
                      repository != NULL ? repository : "any repository"),
           NULL;
  return g_steal_pointer (&targets);
}

static char *
make_work_dir (MbdInstance *instance, GError **error)
{
  g_autofree char *parent
      = g_build_filename (mbd_instance_get_home (instance), "internal-uploads", NULL);
  g_autofree char *work = g_build_filename (parent, "keyring-XXXXXX", NULL);

  if (g_mkdir_with_parents (parent, 0750) < 0 || g_mkdtemp (work) == NULL)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: cannot create: %s", work,
                   g_strerror (saved));
      return NULL;
    }
  return g_steal_pointer (&work);
}

/* Keyring packages from keyring_plan() on the packager's thread through keyring_stage() in any
 * thread to keyring_submit() on the packager's thread. */
typedef struct
{
  MbdInstance *instance; /* (owned) */
  char *url;
  gboolean migrate;
  GPtrArray *repos;    /* (element-type MbdRepository): the targets' */
  GPtrArray *targets;  /* (element-type Target) */
  GPtrArray *versions; /* (element-type utf8): one per target */
  GPtrArray *staged;   /* (element-type filename): the staged uploads, NULL once submitted */
  GStrv keys;          /* the result */
} KeyringJob;

static void
keyring_job_free (KeyringJob *job)
{
  for (guint i = 0; job->staged != NULL && i < job->staged->len; i++)
    if (job->staged->pdata[i] != NULL)
      mbd_internal_upload_discard (job->staged->pdata[i]);
  g_clear_pointer (&job->staged, g_ptr_array_unref);
  g_clear_pointer (&job->versions, g_ptr_array_unref);
  g_clear_pointer (&job->targets, g_ptr_array_unref);
  g_clear_pointer (&job->repos, g_ptr_array_unref);
  g_free (job->url);
  g_strfreev (job->keys);
  g_object_unref (job->instance);
  g_free (job);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KeyringJob, keyring_job_free)

/* The targets and the version of each package, checked against its layout. */
static KeyringJob *
keyring_plan (MbdPackager *self,
              const char *repository,
              const char *const *distributions,
              const char *url,
              gboolean migrate,
              GError **error)
{
  MbdInstance *instance = mbd_packager_get_instance (self);
  if (url == NULL)
    url = mbd_packager_get_internal_url (self);
  if (url == NULL)
    return mbd_throw (error, MBD_ERROR_INVALID_ARGUMENT, NO_URL_MESSAGE), NULL;
  g_autoptr (KeyringJob) job = g_new0 (KeyringJob, 1);
  job->instance = g_object_ref (instance);
  job->url = g_strdup (url);
  job->migrate = migrate;
  if (repository != NULL)
    {
      MbdRepository *repo = mbd_instance_lookup_repository (instance, repository, error);
      if (repo == NULL)
        return NULL;
      job->repos = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (job->repos, repo);
    }
  else if ((job->repos = mbd_instance_list_repositories (instance, error)) == NULL)
    return NULL;
  job->targets = find_targets (instance, job->repos, distributions, repository, error);
  if (job->targets == NULL)
    return NULL;

  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  job->versions = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < job->targets->len; i++)
    {
      Target *target = job->targets->pdata[i];
      MbdLayout *layout = mbd_repository_get_layout (target->repo);
      char *version = mbd_keyring_package_version (target->repo, target->dist, target->suite, now);
      g_ptr_array_add (job->versions, version);
      if (!mbd_layout_check_version (
              layout, target->suite, mbd_repository_get_identity (target->repo),
              mbd_distribution_get_codeversion (target->dist), version, error))
        {
          mbd_prefix_error (error, "keyring package for %s: ", target->distribution);
          return NULL;
        }
    }
  return g_steal_pointer (&job);
}

/* Makes and signs every package's source, staged for the submit (any thread). */
static gboolean
keyring_stage (gpointer data, GCancellable *cancellable, GError **error)
{
  KeyringJob *job = data;

  job->staged = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < job->targets->len; i++)
    {
      Target *target = job->targets->pdata[i];
      g_autofree char *work = make_work_dir (job->instance, error);
      if (work == NULL)
        return FALSE;
      g_autofree char *tree = mbd_keyring_package_write_tree (
          job->instance, job->url, target->distribution, job->versions->pdata[i], work, error);
      char *staged = NULL;
      gboolean ok = tree != NULL
                    && mbd_internal_upload_stage (job->instance, tree, NULL, NULL, &staged,
                                                  cancellable, error);
      mbd_remove_tree (work);
      if (!ok)
        return mbd_prefix_error (error, "keyring package for %s: ", target->distribution);
      g_ptr_array_add (job->staged, staged);
    }
  return TRUE;
}

/* Submits the staged packages (the packager's thread) and marks them for migration. */
static gboolean
keyring_submit (gpointer data, GError **error)
{
  KeyringJob *job = data;

  g_autoptr (GStrvBuilder) keys = g_strv_builder_new ();
  for (guint i = 0; i < job->targets->len; i++)
    {
      Target *target = job->targets->pdata[i];
      g_autofree char *staged = g_steal_pointer (&job->staged->pdata[i]);
      g_autofree char *key = NULL;
      if (!mbd_internal_upload_submit (job->instance, staged, &key, error))
        return mbd_prefix_error (error, "keyring package for %s: ", target->distribution);
      if (job->migrate && mbd_suite_get_migrates_to (target->suite) != NULL
          && !mbd_packager_mark_migrate (job->instance, key, error))
        return FALSE;
      g_strv_builder_add (keys, key);
    }
  job->keys = g_strv_builder_end (keys);
  return TRUE;
}

/**
 * mbd_packager_build_keyring_packages:
 * @self: a packager
 * @repository: (nullable): only this repository, or %NULL for every repository
 * @distributions: (nullable) (array zero-terminated=1): the distributions (or meta names such
 *   as `unstable`) to build into, or %NULL for every uploadable suite flagged
 *   build_keyring_package (see [method@Mbd.Suite.get_build_keyring_package]) of every codename
 * @url: (nullable): the URL the instance is served under, for the package's APT sources and
 *   dput configuration; %NULL for the packager's internal URL
 *   ([method@Mbd.Packager.set_internal_url], which mbd-server sets)
 * @migrate: whether to migrate each package through its suite's whole migration chain (to
 *   stable) once it is installed
 * @out_keys: (out) (optional) (transfer full) (array zero-terminated=1): the keys of the
 *   submitted packages, one per distribution
 *
 * Builds the instance's keyring package `<identity>-archive-keyring`, as mini-buildd's
 * `keyring_packages` call. It is Architecture: all and holds the instance key (in
 * `/usr/share/keyrings/<identity>-archive-keyring.gpg` for APT's signed-by and in
 * `/etc/apt/trusted.gpg.d/`), a library of APT source lists for every suite of every repository
 * (`/usr/share/<identity>-archive-keyring/sources.list.d/<codename>/<repository>_<suite>[_src]
 * .list`, signed-by that key), the dput-ng profile `mini-buildd-<identity>` and a `dput.cf`
 * stanza (see [method@Mbd.Instance.dput_conf]), and a postinst that removes the key from the
 * legacy `/etc/apt/trusted.gpg`. Its version is the time (UTC, `YYYYmmddHHMMSS`) followed by
 * the layout's default version suffix of each suite, so it passes the layout's version check.
 *
 * For each distribution a source package is made, signed with the instance key and submitted to
 * the packager, which builds, installs and (with @migrate, once installed) migrates it; the
 * wish to migrate is stored with the package, so a restart does not lose it. Follow the
 * packages with [method@Mbd.Packager.lookup_state] and the events (INSTALLED, then MIGRATED).
 *
 * Errors: %MBD_ERROR_INVALID_ARGUMENT if no URL is known or a named distribution is not
 * uploadable, %MBD_ERROR_NOT_FOUND for an unknown repository or distribution or when no suite is
 * flagged, %MBD_ERROR_INVALID_VERSION if a layout's default version fails its own rule, and the
 * errors of making and submitting the upload. Every package is made before any is submitted;
 * it blocks meanwhile ([method@Mbd.Packager.build_keyring_packages_async] does not).
 *
 * Returns: %TRUE if a package was submitted for every distribution
 */
gboolean
mbd_packager_build_keyring_packages (MbdPackager *self,
                                     const char *repository,
                                     const char *const *distributions,
                                     const char *url,
                                     gboolean migrate,
                                     char ***out_keys,
                                     GError **error)
{
  g_return_val_if_fail (MBD_IS_PACKAGER (self), FALSE);

  g_autoptr (KeyringJob) job = keyring_plan (self, repository, distributions, url, migrate, error);
  if (job == NULL || !keyring_stage (job, NULL, error) || !keyring_submit (job, error))
    return FALSE;
  if (out_keys != NULL)
    *out_keys = g_steal_pointer (&job->keys);
  return TRUE;
}

/**
 * mbd_packager_build_keyring_packages_async:
 * @self: a packager
 * @repository: (nullable): as in [method@Mbd.Packager.build_keyring_packages]
 * @distributions: (nullable) (array zero-terminated=1): as there
 * @url: (nullable): as there
 * @migrate: as there
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the packages are submitted or it failed
 * @user_data: data for @callback
 *
 * Starts [method@Mbd.Packager.build_keyring_packages]: the source packages are made and signed
 * in a worker thread and submitted on the calling thread (the packager's) once all are made.
 */
void
mbd_packager_build_keyring_packages_async (MbdPackager *self,
                                           const char *repository,
                                           const char *const *distributions,
                                           const char *url,
                                           gboolean migrate,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data)
{
  g_return_if_fail (MBD_IS_PACKAGER (self));

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mbd_packager_build_keyring_packages_async);
  GError *error = NULL;
  KeyringJob *job = keyring_plan (self, repository, distributions, url, migrate, &error);
  if (job == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_set_task_data (task, job, (GDestroyNotify) keyring_job_free);
  mbd_stage_then_submit (task, job, keyring_stage, keyring_submit);
}

/**
 * mbd_packager_build_keyring_packages_finish:
 * @self: a packager
 * @result: the result given to the callback
 * @out_keys: (out) (optional) (transfer full) (array zero-terminated=1): the keys of the
 *   submitted packages, one per distribution
 * @error: return location for a #GError
 *
 * Finishes [method@Mbd.Packager.build_keyring_packages_async].
 *
 * Returns: %TRUE if a package was submitted for every distribution; the errors of
 *   [method@Mbd.Packager.build_keyring_packages]
 */
gboolean
mbd_packager_build_keyring_packages_finish (MbdPackager *self,
                                            GAsyncResult *result,
                                            char ***out_keys,
                                            GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == mbd_packager_build_keyring_packages_async, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  KeyringJob *job = g_task_get_task_data (G_TASK (result));
  if (out_keys != NULL)
    *out_keys = g_steal_pointer (&job->keys);
  return TRUE;
}
