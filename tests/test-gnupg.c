/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mbdtest.h"

#include "mbd-gnupg-private.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#define DEBIAN_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"
#define APT_LISTS "/var/lib/apt/lists"

static const char release_text[] = "Origin: mbd\n"
                                   "Label: mbd test\n"
                                   "Suite: unstable\n"
                                   "-dash line that clear-signing escapes\n"
                                   "Description: test repository\n";

typedef struct
{
  char *tmpdir;
  GPtrArray *homes; /* each one's gpg-agent is killed in teardown */
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  fx->tmpdir = mbd_test_make_tmpdir ();
  fx->homes = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  for (guint i = 0; i < fx->homes->len; i++)
    mbd_test_kill_agent (g_ptr_array_index (fx->homes, i));
  mbd_test_rm_rf (fx->tmpdir);
  g_ptr_array_unref (fx->homes);
  g_free (fx->tmpdir);
}

/* The path of GnuPG home @name in the fixture's directory (not created yet). */
static const char *
fixture_home (Fixture *fx, const char *name)
{
  char *path = g_build_filename (fx->tmpdir, name, NULL);

  g_ptr_array_add (fx->homes, path);
  return path;
}

static MbdGnupg *
fixture_open (Fixture *fx, const char *name)
{
  g_autoptr (GError) error = NULL;
  MbdGnupg *gnupg = mbd_gnupg_new (fixture_home (fx, name), &error);

  g_assert_no_error (error);
  g_assert_nonnull (gnupg);
  return gnupg;
}

static char *
fixture_write (Fixture *fx, const char *name, const char *contents, gssize length)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (fx->tmpdir, name, NULL);

  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);
  return path;
}

static GBytes *
bytes_new (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

static char *
bytes_to_string (GBytes *bytes)
{
  gsize length = 0;
  const char *data = g_bytes_get_data (bytes, &length);

  return g_strndup (data, length);
}

/* Generates an Ed25519 key with mbd (the fast kind) and returns its fingerprint. */
static char *
generate_ed25519 (MbdGnupg *gnupg, const char *uid)
{
  g_autoptr (GError) error = NULL;
  char *fingerprint = mbd_gnupg_generate_key (gnupg, uid, "ed25519", NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (fingerprint);
  return fingerprint;
}

static GBytes *
sign_clear (MbdGnupg *gnupg, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = bytes_new (text);
  GBytes *signed_data = mbd_gnupg_sign_clear (gnupg, data, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (signed_data);
  return signed_data;
}

/* Copies the public key @fingerprint from @from into @to. */
static void
copy_public_key (MbdGnupg *from, MbdGnupg *to, const char *fingerprint)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *armored = mbd_gnupg_export_public_key (from, fingerprint, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) keydata = bytes_new (armored);
  g_auto (GStrv) imported = mbd_gnupg_import_keys (to, keydata, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (imported), ==, 1);
  g_assert_cmpstr (imported[0], ==, fingerprint);
}

/* One field of the first `gpg --with-colons` line of @record type for @fingerprint in @home. */
static char *
colon_field (const char *home, const char *fingerprint, const char *record, guint field)
{
  const char *argv[] = { "--with-colons", "--list-keys", fingerprint, NULL };
  g_autofree char *listing = mbd_test_gpg (home, argv);
  g_auto (GStrv) lines = g_strsplit (listing, "\n", -1);
  g_autofree char *prefix = g_strconcat (record, ":", NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (!g_str_has_prefix (lines[i], prefix))
        continue;
      g_auto (GStrv) fields = g_strsplit (lines[i], ":", -1);
      g_assert_cmpuint (g_strv_length (fields), >, field);
      return g_strdup (fields[field]);
    }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */

static void
test_new_creates_home (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fx->tmpdir, "nested", "home", NULL);
  GStatBuf buf;

  g_test_summary ("mbd_gnupg_new creates a missing home with mode 0700 and keeps it");
  g_ptr_array_add (fx->homes, g_strdup (path));
  MbdGnupg *gnupg = mbd_gnupg_new (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mbd_gnupg_get_homedir (gnupg), ==, path);

  g_autofree char *property = NULL;
  g_object_get (gnupg, "homedir", &property, NULL);
  g_assert_cmpstr (property, ==, path);

  g_assert_cmpint (g_stat (path, &buf), ==, 0);
  g_assert_cmpint (buf.st_mode & 0777, ==, 0700);

  g_auto (GStrv) keys = mbd_gnupg_list_fingerprints (gnupg, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (keys), ==, 0);

  g_object_unref (gnupg);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_DIR));
}

static void
test_new_not_a_directory (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = fixture_write (fx, "file", "x", -1);

  g_test_summary ("A home that is a regular file is refused");
  g_autoptr (MbdGnupg) gnupg = mbd_gnupg_new (path, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  g_assert_null (gnupg);
}

static void
test_new_uninitialized (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("An object made without GInitable init refuses to work instead of falling "
                  "back to the user's own GnuPG home");
  g_autoptr (MbdGnupg) gnupg = g_object_new (MBD_TYPE_GNUPG, NULL);
  g_auto (GStrv) keys = mbd_gnupg_list_fingerprints (gnupg, FALSE, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_FAILED);
  g_assert_null (keys);
}

static void
test_temporary (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A temporary home lives in $TMPDIR (or /tmp when that is too long for "
                  "gpg-agent's socket) and is removed with its agent on finalize");

  g_autofree char *saved_tmpdir = g_strdup (g_getenv ("TMPDIR"));
  g_setenv ("TMPDIR", fx->tmpdir, TRUE);
  MbdGnupg *gnupg = mbd_gnupg_new_temporary (&error);
  g_assert_no_error (error);
  g_autofree char *home = g_strdup (mbd_gnupg_get_homedir (gnupg));
  g_autofree char *prefix = g_strconcat (fx->tmpdir, "/", NULL);
  g_assert_true (g_str_has_prefix (home, prefix));

  GStatBuf buf;
  g_assert_cmpint (g_stat (home, &buf), ==, 0);
  g_assert_cmpint (buf.st_mode & 0777, ==, 0700);

  /* Makes gpg start the home's agent, which finalize must stop. */
  g_autofree char *fingerprint = generate_ed25519 (gnupg, "Temporary <tmp@example.org>");
  g_assert_nonnull (fingerprint);
  g_autofree char *socket = g_build_filename (home, "S.gpg-agent", NULL);
  g_assert_true (g_file_test (socket, G_FILE_TEST_EXISTS));

  g_object_unref (gnupg);
  g_assert_false (g_file_test (home, G_FILE_TEST_EXISTS));

  g_autofree char *long_tmpdir = g_build_filename (fx->tmpdir,
                                                   "a-temporary-directory-whose-path-"
                                                   "is-too-long-for-a-unix-socket-below-it",
                                                   NULL);
  g_setenv ("TMPDIR", long_tmpdir, TRUE);
  gnupg = mbd_gnupg_new_temporary (&error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (mbd_gnupg_get_homedir (gnupg), "/tmp/"));
  g_object_unref (gnupg);

  if (saved_tmpdir != NULL)
    g_setenv ("TMPDIR", saved_tmpdir, TRUE);
  else
    g_unsetenv ("TMPDIR");
}

static void
test_generate_ed25519 (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");

  g_test_summary ("generate_key makes a passphrase-less, non-expiring signing key of the "
                  "requested algorithm and chooses it for signing");
  g_autofree char *fingerprint = generate_ed25519 (gnupg, "Ed <ed@example.org>");
  g_assert_cmpuint (strlen (fingerprint), ==, 40);

  g_autofree char *signing = mbd_gnupg_get_signing_fingerprint (gnupg, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (signing, ==, fingerprint);

  g_auto (GStrv) secret = mbd_gnupg_list_fingerprints (gnupg, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (secret), ==, 1);
  g_assert_cmpstr (secret[0], ==, fingerprint);

  const char *home = mbd_gnupg_get_homedir (gnupg);
  g_autofree char *algo = colon_field (home, fingerprint, "pub", 3);
  g_assert_cmpstr (algo, ==, "22"); /* EdDSA */
  g_autofree char *expiry = colon_field (home, fingerprint, "pub", 6);
  g_assert_cmpstr (expiry, ==, "");
  g_autofree char *usage = colon_field (home, fingerprint, "pub", 11);
  g_assert_nonnull (strchr (usage, 's'));
  g_autofree char *subkey = colon_field (home, fingerprint, "sub", 0);
  g_assert_null (subkey);
}

static void
test_generate_rsa (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");

  g_test_summary ("The key algorithm is configurable: rsa2048 makes an RSA key of 2048 bits");
  g_autofree char *fingerprint
      = mbd_gnupg_generate_key (gnupg, "Rsa <rsa@example.org>", "rsa2048", NULL, &error);
  g_assert_no_error (error);

  const char *home = mbd_gnupg_get_homedir (gnupg);
  g_autofree char *length = colon_field (home, fingerprint, "pub", 2);
  g_assert_cmpstr (length, ==, "2048");
  g_autofree char *algo = colon_field (home, fingerprint, "pub", 3);
  g_assert_cmpstr (algo, ==, "1"); /* RSA */

  /* An RSA signature verifies like any other. */
  g_autoptr (GBytes) signed_data = sign_clear (gnupg, release_text);
  g_autofree char *signer = NULL;
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (gnupg, signed_data, &signer, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plain);
  g_assert_cmpstr (signer, ==, fingerprint);
}

static void
test_generate_errors (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");

  g_test_summary ("An unknown algorithm is an invalid argument, a second key with the same "
                  "user ID already exists");
  /* Unknown, too small, and an algorithm that cannot sign. */
  const char *algorithms[] = { "bogus4711", "rsa512", "cv25519", "", NULL };
  for (guint i = 0; algorithms[i] != NULL; i++)
    {
      g_autofree char *none
          = mbd_gnupg_generate_key (gnupg, "Bogus <b@example.org>", algorithms[i], NULL, &error);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
      g_autofree char *quoted = g_strdup_printf ("“%s”", algorithms[i]);
      g_assert_nonnull (strstr (error->message, quoted));
      g_assert_null (none);
      g_clear_error (&error);
    }

  g_autofree char *first = generate_ed25519 (gnupg, "Twice <twice@example.org>");
  g_assert_nonnull (first);
  g_autofree char *second
      = mbd_gnupg_generate_key (gnupg, "Twice <twice@example.org>", "ed25519", NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_EXISTS);
  g_assert_null (second);
}

static void
test_signing_key_selection (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");
  const char *home = mbd_gnupg_get_homedir (gnupg);
  g_autoptr (GBytes) text = bytes_new (release_text);

  g_test_summary ("The signing key is the chosen one, else the only secret key; none or "
                  "several unchosen are errors");
  g_autofree char *none = mbd_gnupg_get_signing_fingerprint (gnupg, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_null (none);
  g_clear_error (&error);
  g_autoptr (GBytes) unsigned_result = mbd_gnupg_sign_clear (gnupg, text, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_null (unsigned_result);
  g_clear_error (&error);

  g_autofree char *first = mbd_test_make_key (home, "First <first@example.org>", NULL, NULL);
  g_autofree char *only = mbd_gnupg_get_signing_fingerprint (gnupg, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (only, ==, first);

  g_autofree char *second = mbd_test_make_key (home, "Second <second@example.org>", NULL, NULL);
  g_autofree char *ambiguous = mbd_gnupg_get_signing_fingerprint (gnupg, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_null (ambiguous);
  g_clear_error (&error);

  mbd_gnupg_set_signing_fingerprint (gnupg, second);
  g_autofree char *chosen = mbd_gnupg_get_signing_fingerprint (gnupg, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (chosen, ==, second);
  g_autoptr (GBytes) signed_data = sign_clear (gnupg, release_text);
  g_autofree char *signer = NULL;
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (gnupg, signed_data, &signer, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plain);
  g_assert_cmpstr (signer, ==, second);

  mbd_gnupg_set_signing_fingerprint (gnupg, "0123456789ABCDEF0123456789ABCDEF01234567");
  g_autoptr (GBytes) missing = mbd_gnupg_sign_clear (gnupg, text, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "0123456789ABCDEF0123456789ABCDEF01234567"));
  g_assert_null (missing);
  g_clear_error (&error);

  mbd_gnupg_set_signing_fingerprint (gnupg, NULL);
  g_autofree char *again = mbd_gnupg_get_signing_fingerprint (gnupg, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_null (again);
}

static void
test_sign_clear_roundtrip (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");
  g_autofree char *fingerprint = generate_ed25519 (gnupg, "Clear <clear@example.org>");

  g_test_summary ("sign_clear makes an InRelease-style message with a strong digest; "
                  "verify_clear returns exactly the signed text and the signer");
  g_autoptr (GBytes) signed_data = sign_clear (gnupg, release_text);
  g_autofree char *armored = bytes_to_string (signed_data);
  g_assert_true (g_str_has_prefix (armored, "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA"));
  g_assert_true (g_regex_match_simple ("^Hash: SHA(256|384|512)$", armored, G_REGEX_MULTILINE, 0));
  g_assert_nonnull (strstr (armored, "\n- -dash line"));
  g_assert_nonnull (strstr (armored, "\n-----BEGIN PGP SIGNATURE-----\n"));

  g_autofree char *signer = NULL;
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (gnupg, signed_data, &signer, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *plain_text = bytes_to_string (plain);
  g_assert_cmpstr (plain_text, ==, release_text);
  g_assert_cmpstr (signer, ==, fingerprint);

  /* The fingerprint is optional. */
  g_autoptr (GBytes) plain_again = mbd_gnupg_verify_clear (gnupg, signed_data, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (plain, plain_again));
}

static void
test_sign_detached_roundtrip (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");
  g_autofree char *fingerprint = generate_ed25519 (gnupg, "Detached <detached@example.org>");
  g_autoptr (GBytes) text = bytes_new (release_text);

  g_test_summary ("sign_detached makes an armored Release.gpg-style signature that "
                  "verify_detached accepts for the data and rejects for other data");
  g_autoptr (GBytes) signature = mbd_gnupg_sign_detached (gnupg, text, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *armored = bytes_to_string (signature);
  g_assert_true (g_str_has_prefix (armored, "-----BEGIN PGP SIGNATURE-----\n"));
  g_assert_null (strstr (armored, "Origin: mbd"));

  g_autofree char *signer = NULL;
  g_assert_true (mbd_gnupg_verify_detached (gnupg, text, signature, &signer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (signer, ==, fingerprint);

  g_autoptr (GBytes) other = bytes_new ("Origin: someone else\n");
  g_autofree char *no_signer = NULL;
  g_assert_false (mbd_gnupg_verify_detached (gnupg, other, signature, &no_signer, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_BAD_SIGNATURE);
  g_assert_null (no_signer);
}

static void
test_sign_release (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) empty = fixture_open (fx, "empty");
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");
  g_autofree char *fingerprint = generate_ed25519 (gnupg, "Release <release@example.org>");
  g_autoptr (GBytes) text = bytes_new (release_text);

  g_test_summary ("sign_release makes InRelease's clear signature and Release.gpg's detached "
                  "one with one key lookup; both verify, and a home without a key fails whole");
  for (int round = 0; round < 3; round++)
    {
      /* the later rounds run in contexts the earlier ones put back */
      g_autoptr (GBytes) clear = NULL;
      g_autoptr (GBytes) detached = NULL;
      g_assert_true (mbd_gnupg_sign_release (gnupg, text, &clear, &detached, &error));
      g_assert_no_error (error);

      g_autofree char *clear_text = bytes_to_string (clear);
      g_assert_true (g_str_has_prefix (clear_text, "-----BEGIN PGP SIGNED MESSAGE-----\n"));
      g_autofree char *clear_signer = NULL;
      g_autoptr (GBytes) content
                 = mbd_gnupg_verify_clear (gnupg, clear, &clear_signer, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (content, text));
      g_assert_cmpstr (clear_signer, ==, fingerprint);

      g_autofree char *armored = bytes_to_string (detached);
      g_assert_true (g_str_has_prefix (armored, "-----BEGIN PGP SIGNATURE-----\n"));
      g_autofree char *detached_signer = NULL;
      g_assert_true (
          mbd_gnupg_verify_detached (gnupg, text, detached, &detached_signer, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (detached_signer, ==, fingerprint);
    }

  GBytes *clear = NULL, *detached = NULL;
  g_assert_false (mbd_gnupg_sign_release (empty, text, &clear, &detached, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_null (clear);
  g_assert_null (detached);
}

static void
test_verify_in_other_home (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) signer_home = fixture_open (fx, "signer");
  g_autoptr (MbdGnupg) verifier = fixture_open (fx, "verifier");
  g_autofree char *fingerprint = generate_ed25519 (signer_home, "Signer <signer@example.org>");
  g_autoptr (GBytes) text = bytes_new (release_text);

  g_test_summary ("A second home holding only the exported public key (the given keyring) "
                  "verifies both signature kinds");
  g_autofree char *armored = mbd_gnupg_export_public_key (signer_home, fingerprint, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (armored, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"));
  g_assert_null (strstr (armored, "PRIVATE KEY"));

  copy_public_key (signer_home, verifier, fingerprint);
  g_auto (GStrv) public_keys = mbd_gnupg_list_fingerprints (verifier, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (public_keys), ==, 1);
  g_assert_cmpstr (public_keys[0], ==, fingerprint);
  g_auto (GStrv) secret_keys = mbd_gnupg_list_fingerprints (verifier, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (secret_keys), ==, 0);

  /* Importing a key the home has already reports it again. */
  copy_public_key (signer_home, verifier, fingerprint);

  g_autoptr (GBytes) signed_data = sign_clear (signer_home, release_text);
  g_autofree char *clear_signer = NULL;
  g_autoptr (GBytes) plain
             = mbd_gnupg_verify_clear (verifier, signed_data, &clear_signer, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (clear_signer, ==, fingerprint);
  g_autofree char *plain_text = bytes_to_string (plain);
  g_assert_cmpstr (plain_text, ==, release_text);

  g_autoptr (GBytes) signature = mbd_gnupg_sign_detached (signer_home, text, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *detached_signer = NULL;
  g_assert_true (
      mbd_gnupg_verify_detached (verifier, text, signature, &detached_signer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (detached_signer, ==, fingerprint);
}

static void
test_verify_unsigned (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");
  const char *home = mbd_gnupg_get_homedir (gnupg);
  g_autofree char *fingerprint = generate_ed25519 (gnupg, "Unsigned <unsigned@example.org>");
  g_assert_nonnull (fingerprint);

  g_test_summary ("Plain text, empty input, OpenPGP data without a signature and garbage "
                  "signatures are all unsigned");
  const char *inputs[] = { release_text, "", NULL };
  for (guint i = 0; inputs[i] != NULL; i++)
    {
      g_autoptr (GBytes) input = bytes_new (inputs[i]);
      g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (gnupg, input, NULL, NULL, &error);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSIGNED);
      g_assert_null (plain);
      g_clear_error (&error);
    }

  /* gpg decodes a literal data message and prints its text, but nobody signed it. */
  g_autofree char *file = fixture_write (fx, "release", release_text, -1);
  const char *store_argv[] = { "--armor", "--output", "-", "--store", file, NULL };
  g_autofree char *stored = mbd_test_gpg (home, store_argv);
  g_assert_true (g_str_has_prefix (stored, "-----BEGIN PGP MESSAGE-----"));
  g_autoptr (GBytes) literal = bytes_new (stored);
  g_autoptr (GBytes) literal_plain = mbd_gnupg_verify_clear (gnupg, literal, NULL, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSIGNED);
  g_assert_null (literal_plain);
  g_clear_error (&error);

  g_autoptr (GBytes) text = bytes_new (release_text);
  g_autoptr (GBytes) garbage = bytes_new ("this is no signature\n");
  g_assert_false (mbd_gnupg_verify_detached (gnupg, text, garbage, NULL, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNSIGNED);
}

static void
test_verify_returns_only_signed_text (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");
  g_autofree char *fingerprint = generate_ed25519 (gnupg, "Only <only@example.org>");

  g_test_summary ("Text around a clear-signed message is not returned as signed text");
  g_autoptr (GBytes) signed_data = sign_clear (gnupg, release_text);
  g_autofree char *armored = bytes_to_string (signed_data);
  g_autofree char *wrapped
      = g_strconcat ("Injected: before\n\n", armored, "Injected: after\n", NULL);
  g_autoptr (GBytes) input = bytes_new (wrapped);

  g_autofree char *signer = NULL;
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (gnupg, input, &signer, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *plain_text = bytes_to_string (plain);
  g_assert_cmpstr (plain_text, ==, release_text);
  g_assert_cmpstr (signer, ==, fingerprint);
}

static void
test_verify_tampered (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");
  g_autofree char *fingerprint = generate_ed25519 (gnupg, "Tamper <tamper@example.org>");
  g_assert_nonnull (fingerprint);

  g_test_summary ("A clear-signed message whose body changed by one byte has a bad signature");
  g_autoptr (GBytes) signed_data = sign_clear (gnupg, release_text);
  g_autofree char *armored = bytes_to_string (signed_data);
  char *suite = strstr (armored, "Suite: unstable");
  g_assert_nonnull (suite);
  suite[strlen ("Suite: unstabl")] = 'f';
  g_autoptr (GBytes) tampered = bytes_new (armored);

  g_autofree char *signer = NULL;
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (gnupg, tampered, &signer, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_BAD_SIGNATURE);
  g_assert_null (plain);
  g_assert_null (signer);
}

static void
test_verify_unknown_signer (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) signer_home = fixture_open (fx, "signer");
  g_autoptr (MbdGnupg) verifier = fixture_open (fx, "verifier");
  g_autofree char *fingerprint = generate_ed25519 (signer_home, "Stranger <s@example.org>");
  g_autofree char *other = generate_ed25519 (verifier, "Other <other@example.org>");
  g_assert_nonnull (other);

  g_test_summary ("A signature by a key that is not in the verifying home names that key");
  g_autoptr (GBytes) signed_data = sign_clear (signer_home, release_text);
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (verifier, signed_data, NULL, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNKNOWN_SIGNER);
  g_assert_null (plain);
  /* gpg reports the issuer's fingerprint, or at least its long key ID. */
  g_assert_nonnull (strstr (error->message, fingerprint + 24));
  g_clear_error (&error);

  g_autoptr (GBytes) text = bytes_new (release_text);
  g_autoptr (GBytes) signature = mbd_gnupg_sign_detached (signer_home, text, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mbd_gnupg_verify_detached (verifier, text, signature, NULL, NULL, &error));
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNKNOWN_SIGNER);
  g_assert_nonnull (strstr (error->message, fingerprint + 24));
}

static void
test_verify_expired (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *signer_path = fixture_home (fx, "signer");
  g_autofree char *fingerprint
      = mbd_test_make_key (signer_path, "Old <old@example.org>", "20200101T000000", "1d");
  g_autoptr (MbdGnupg) signer_home = fixture_open (fx, "signer");
  g_autoptr (MbdGnupg) verifier = fixture_open (fx, "verifier");

  g_test_summary ("A signature made while the key was valid is rejected once the key has "
                  "expired; an expired key does not sign");
  g_autofree char *file = fixture_write (fx, "release", release_text, -1);
  const char *sign_argv[] = {
    "--faked-system-time",
    "20200101T120000",
    "--local-user",
    fingerprint,
    "--output",
    "-",
    "--clearsign",
    file,
    NULL,
  };
  g_autofree char *armored = mbd_test_gpg (signer_path, sign_argv);
  g_assert_true (g_str_has_prefix (armored, "-----BEGIN PGP SIGNED MESSAGE-----"));

  copy_public_key (signer_home, verifier, fingerprint);
  g_autoptr (GBytes) signed_data = bytes_new (armored);
  g_autofree char *signer = NULL;
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (verifier, signed_data, &signer, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_KEY_EXPIRED);
  g_assert_null (plain);
  g_assert_null (signer);
  g_clear_error (&error);

  g_autoptr (GBytes) text = bytes_new (release_text);
  g_autoptr (GBytes) signature = mbd_gnupg_sign_clear (signer_home, text, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_KEY_EXPIRED);
  g_assert_null (signature);
}

/* gpg writes a revocation certificate for each new key into openpgp-revocs.d, with its armor
 * header line disabled by a leading ':'. Returns it ready to import. */
static GBytes *
read_revocation (const char *home, const char *fingerprint)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_strconcat (fingerprint, ".rev", NULL);
  g_autofree char *path = g_build_filename (home, "openpgp-revocs.d", name, NULL);
  g_autofree char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  char *header = strstr (contents, "\n:-----BEGIN PGP PUBLIC KEY BLOCK-----");
  g_assert_nonnull (header);
  memmove (header + 1, header + 2, strlen (header + 2) + 1);
  return bytes_new (contents);
}

static void
test_verify_revoked (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) signer_home = fixture_open (fx, "signer");
  g_autoptr (MbdGnupg) verifier = fixture_open (fx, "verifier");
  g_autofree char *fingerprint = generate_ed25519 (signer_home, "Revoked <revoked@example.org>");

  g_test_summary ("A signature by a key whose revocation is in the verifying home is rejected; "
                  "a revoked key does not sign");
  g_autoptr (GBytes) signed_data = sign_clear (signer_home, release_text);
  copy_public_key (signer_home, verifier, fingerprint);

  g_autoptr (GBytes) revocation
             = read_revocation (mbd_gnupg_get_homedir (signer_home), fingerprint);
  g_auto (GStrv) imported = mbd_gnupg_import_keys (verifier, revocation, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (imported), ==, 0);

  g_autofree char *signer = NULL;
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (verifier, signed_data, &signer, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_KEY_REVOKED);
  g_assert_null (plain);
  g_assert_null (signer);
  g_clear_error (&error);

  g_auto (GStrv) revoked_too = mbd_gnupg_import_keys (signer_home, revocation, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (revoked_too);
  g_autoptr (GBytes) text = bytes_new (release_text);
  g_autoptr (GBytes) signature = mbd_gnupg_sign_detached (signer_home, text, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_KEY_REVOKED);
  g_assert_null (signature);
}

static void
test_verify_subkey (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");
  const char *home = mbd_gnupg_get_homedir (gnupg);
  g_autofree char *primary = generate_ed25519 (gnupg, "Sub <sub@example.org>");

  g_test_summary ("A signature by a signing subkey reports the primary key's fingerprint");
  const char *add_argv[] = { "--quick-add-key", primary, "ed25519", "sign", "never", NULL };
  g_free (mbd_test_gpg (home, add_argv));

  g_autoptr (GBytes) signed_data = sign_clear (gnupg, release_text);
  g_autofree char *signer = NULL;
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (gnupg, signed_data, &signer, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plain);
  g_assert_cmpstr (signer, ==, primary);

  /* Make sure the subkey made the signature: gpg's VALIDSIG names the signing key first and
   * the primary key last. */
  gsize length = 0;
  const char *armored = g_bytes_get_data (signed_data, &length);
  g_autofree char *file = fixture_write (fx, "InRelease", armored, length);
  const char *verify_argv[] = { "--status-fd", "1", "--verify", file, NULL };
  g_autofree char *status = mbd_test_gpg (home, verify_argv);
  const char *validsig = strstr (status, "[GNUPG:] VALIDSIG ");
  g_assert_nonnull (validsig);
  g_autofree char *line = g_strndup (validsig, strcspn (validsig, "\n"));
  g_auto (GStrv) fields = g_strsplit (line, " ", -1);
  g_assert_cmpuint (g_strv_length (fields), >=, 12);
  g_assert_cmpstr (fields[2], !=, primary);
  g_assert_cmpstr (fields[11], ==, primary);
}

static void
test_verify_several_signatures (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *signer_path = fixture_home (fx, "signer");
  g_autofree char *first = mbd_test_make_key (signer_path, "One <one@example.org>", NULL, NULL);
  g_autofree char *second = mbd_test_make_key (signer_path, "Two <two@example.org>", NULL, NULL);
  g_autoptr (MbdGnupg) signer_home = fixture_open (fx, "signer");
  g_autoptr (MbdGnupg) verifier = fixture_open (fx, "verifier");

  g_test_summary ("With several signatures all must be valid; the first signer is reported");
  g_autofree char *file = fixture_write (fx, "release", release_text, -1);
  const char *sign_argv[] = {
    "--local-user", first, "--local-user", second, "--output", "-", "--clearsign", file, NULL,
  };
  g_autofree char *armored = mbd_test_gpg (signer_path, sign_argv);
  g_autoptr (GBytes) signed_data = bytes_new (armored);

  copy_public_key (signer_home, verifier, first);
  g_autoptr (GBytes) partly = mbd_gnupg_verify_clear (verifier, signed_data, NULL, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNKNOWN_SIGNER);
  g_assert_nonnull (strstr (error->message, second + 24));
  g_assert_null (partly);
  g_clear_error (&error);

  copy_public_key (signer_home, verifier, second);
  g_autofree char *signer = NULL;
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (verifier, signed_data, &signer, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plain);

  /* The first signature in the message, as gpg itself reports it. */
  g_autofree char *signed_file = fixture_write (fx, "InRelease", armored, -1);
  const char *verify_argv[] = { "--status-fd", "1", "--verify", signed_file, NULL };
  g_autofree char *status = mbd_test_gpg (mbd_gnupg_get_homedir (verifier), verify_argv);
  const char *validsig = strstr (status, "[GNUPG:] VALIDSIG ");
  g_assert_nonnull (validsig);
  g_autofree char *expected = g_strndup (validsig + strlen ("[GNUPG:] VALIDSIG "), 40);
  g_assert_cmpstr (signer, ==, expected);
}

static void
test_verify_any_good (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *signer_path = fixture_home (fx, "signer");
  g_autofree char *first = mbd_test_make_key (signer_path, "One <one@example.org>", NULL, NULL);
  g_autofree char *second = mbd_test_make_key (signer_path, "Two <two@example.org>", NULL, NULL);
  g_autoptr (MbdGnupg) signer_home = fixture_open (fx, "signer");
  g_autoptr (MbdGnupg) verifier = fixture_open (fx, "verifier");

  g_test_summary ("MBD_GNUPG_VERIFY_ANY_GOOD accepts one valid signature among unknown ones and "
                  "reports that signer; with none valid it fails like the first signature");
  g_autofree char *file = fixture_write (fx, "release", release_text, -1);
  const char *sign_argv[] = {
    "--local-user", first, "--local-user", second, "--output", "-", "--clearsign", file, NULL,
  };
  g_autofree char *armored = mbd_test_gpg (signer_path, sign_argv);
  g_autoptr (GBytes) signed_data = bytes_new (armored);
  const char *detach_argv[] = {
    "--local-user", first, "--local-user",  second, "--armor",
    "--output",     "-",   "--detach-sign", file,   NULL,
  };
  g_autofree char *detached = mbd_test_gpg (signer_path, detach_argv);
  g_autoptr (GBytes) signature = bytes_new (detached);
  g_autoptr (GBytes) release = bytes_new (release_text);

  /* No key known: the first signature's error. */
  g_autoptr (GBytes) none = mbd_gnupg_verify_clear_full (
      verifier, signed_data, MBD_GNUPG_VERIFY_ANY_GOOD, NULL, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNKNOWN_SIGNER);
  g_assert_null (none);
  g_clear_error (&error);

  /* Only the second signer is known: all-valid fails, any-good succeeds and names it. */
  copy_public_key (signer_home, verifier, second);
  g_autoptr (GBytes) strict = mbd_gnupg_verify_clear (verifier, signed_data, NULL, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNKNOWN_SIGNER);
  g_assert_null (strict);
  g_clear_error (&error);

  g_autofree char *signer = NULL;
  g_autoptr (GBytes) plain = mbd_gnupg_verify_clear_full (
      verifier, signed_data, MBD_GNUPG_VERIFY_ANY_GOOD, &signer, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *plain_text = bytes_to_string (plain);
  g_assert_cmpstr (plain_text, ==, release_text);
  g_assert_cmpstr (signer, ==, second);

  g_autofree char *detached_signer = NULL;
  gboolean ok = mbd_gnupg_verify_detached_full (
      verifier, release, signature, MBD_GNUPG_VERIFY_ANY_GOOD, &detached_signer, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpstr (detached_signer, ==, second);
  ok = mbd_gnupg_verify_detached (verifier, release, signature, NULL, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_UNKNOWN_SIGNER);
  g_assert_false (ok);
  g_clear_error (&error);

  /* A tampered text has no valid signature at all, whatever the flag. */
  g_autofree char *tampered_text = g_strdup (armored);
  char *origin = strstr (tampered_text, "Origin: ");
  g_assert_nonnull (origin);
  origin[strlen ("Origin: ")] = 'X';
  g_autoptr (GBytes) tampered = bytes_new (tampered_text);
  g_autoptr (GBytes) bad = mbd_gnupg_verify_clear_full (
      verifier, tampered, MBD_GNUPG_VERIFY_ANY_GOOD, NULL, NULL, &error);
  g_assert_nonnull (error);
  g_assert_true (g_error_matches (error, MBD_ERROR, MBD_ERROR_BAD_SIGNATURE)
                 || g_error_matches (error, MBD_ERROR, MBD_ERROR_UNKNOWN_SIGNER));
  g_assert_null (bad);
}

static void
test_import_garbage (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");

  g_test_summary ("Data without OpenPGP keys is an invalid argument; a missing file an I/O "
                  "error");
  const char *inputs[] = { "this is not a key\n", "", NULL };
  for (guint i = 0; inputs[i] != NULL; i++)
    {
      g_autoptr (GBytes) garbage = bytes_new (inputs[i]);
      g_auto (GStrv) imported = mbd_gnupg_import_keys (gnupg, garbage, NULL, &error);
      g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
      g_assert_null (imported);
      g_clear_error (&error);
    }

  g_autofree char *file = fixture_write (fx, "garbage.gpg", "\x99garbage", -1);
  g_auto (GStrv) from_file = mbd_gnupg_import_keyring_file (gnupg, file, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, file));
  g_assert_null (from_file);
  g_clear_error (&error);

  g_autofree char *missing = g_build_filename (fx->tmpdir, "missing.gpg", NULL);
  g_auto (GStrv) none = mbd_gnupg_import_keyring_file (gnupg, missing, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (none);
}

static void
test_export_unknown (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");
  g_autofree char *fingerprint = generate_ed25519 (gnupg, "Known <known@example.org>");
  g_assert_nonnull (fingerprint);

  g_test_summary ("Exporting a key the home does not have is not found");
  const char *unknown = "0123456789ABCDEF0123456789ABCDEF01234567";
  g_autofree char *armored = mbd_gnupg_export_public_key (gnupg, unknown, NULL, &error);
  g_assert_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, unknown));
  g_assert_null (armored);
}

static void
test_debian_keyring (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Debian's binary archive keyring imports completely");
  if (!g_file_test (DEBIAN_KEYRING, G_FILE_TEST_EXISTS))
    {
      g_test_skip (DEBIAN_KEYRING " is not installed");
      return;
    }

  g_autoptr (MbdGnupg) gnupg = mbd_gnupg_new_temporary (&error);
  g_assert_no_error (error);
  g_auto (GStrv) imported = mbd_gnupg_import_keyring_file (gnupg, DEBIAN_KEYRING, NULL, &error);
  g_assert_no_error (error);

  /* gpg itself counts the keys of the file. */
  const char *show_argv[] = { "--with-colons", "--show-keys", DEBIAN_KEYRING, NULL };
  g_autofree char *listing = mbd_test_gpg (fixture_home (fx, "show"), show_argv);
  g_auto (GStrv) lines = g_strsplit (listing, "\n", -1);
  guint n_keys = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "pub:"))
        n_keys++;
    }
  g_assert_cmpuint (n_keys, >, 0);
  g_assert_cmpuint (g_strv_length (imported), ==, n_keys);

  g_auto (GStrv) listed = mbd_gnupg_list_fingerprints (gnupg, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (listed), ==, n_keys);
  for (guint i = 0; imported[i] != NULL; i++)
    g_assert_true (g_strv_contains ((const char *const *) listed, imported[i]));
}

static void
test_debian_inrelease (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Debian InRelease files from apt's lists verify against Debian's archive "
                  "keyring (signed by subkeys, several signatures each)");
  if (!g_file_test (DEBIAN_KEYRING, G_FILE_TEST_EXISTS))
    {
      g_test_skip (DEBIAN_KEYRING " is not installed");
      return;
    }
  g_autoptr (GDir) dir = g_dir_open (APT_LISTS, 0, NULL);
  if (dir == NULL)
    {
      g_test_skip ("no " APT_LISTS);
      return;
    }

  g_autoptr (MbdGnupg) gnupg = mbd_gnupg_new_temporary (&error);
  g_assert_no_error (error);
  g_auto (GStrv) keyring = mbd_gnupg_import_keyring_file (gnupg, DEBIAN_KEYRING, NULL, &error);
  g_assert_no_error (error);

  guint n_verified = 0;
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (!g_str_has_suffix (name, "_InRelease"))
        continue;
      g_autofree char *path = g_build_filename (APT_LISTS, name, NULL);
      g_autofree char *contents = NULL;
      gsize length = 0;
      g_file_get_contents (path, &contents, &length, &error);
      g_assert_no_error (error);
      /* Only Debian's own archives are signed by Debian's keys. */
      if (strstr (contents, "\nOrigin: Debian\n") == NULL)
        continue;

      g_autoptr (GBytes) signed_data = g_bytes_new (contents, length);
      g_autofree char *signer = NULL;
      g_autoptr (GBytes) plain = mbd_gnupg_verify_clear (gnupg, signed_data, &signer, NULL, &error);
      g_assert_no_error (error);
      g_autofree char *text = bytes_to_string (plain);
      g_assert_true (g_str_has_prefix (text, "Origin: Debian\n"));
      g_assert_null (strstr (text, "-----BEGIN PGP"));
      g_assert_true (g_strv_contains ((const char *const *) keyring, signer));
      n_verified++;
    }
  if (n_verified == 0)
    g_test_skip ("no Debian InRelease file in " APT_LISTS);
}

typedef struct
{
  MbdGnupg *gnupg;
  const char *fingerprint;
} ThreadData;

static gpointer
sign_and_verify_thread (gpointer user_data)
{
  ThreadData *td = user_data;

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = g_strdup_printf ("%sRound: %u\n", release_text, i);
      g_autoptr (GBytes) signed_data = sign_clear (td->gnupg, text);
      g_autofree char *signer = NULL;
      g_autoptr (GBytes) plain
                 = mbd_gnupg_verify_clear (td->gnupg, signed_data, &signer, NULL, &error);
      g_assert_no_error (error);
      g_autofree char *plain_text = bytes_to_string (plain);
      g_assert_cmpstr (plain_text, ==, text);
      g_assert_cmpstr (signer, ==, td->fingerprint);
    }
  return NULL;
}

static void
test_threads (Fixture *fx, gconstpointer data)
{
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");
  g_autofree char *fingerprint = generate_ed25519 (gnupg, "Threads <threads@example.org>");
  ThreadData td = { gnupg, fingerprint };
  GThread *threads[4];

  g_test_summary ("One object signs and verifies from several threads at once");
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("gnupg", sign_and_verify_thread, &td);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
}

static gpointer
cancel_later_thread (gpointer user_data)
{
  g_usleep (200 * G_TIME_SPAN_MILLISECOND);
  g_cancellable_cancel (user_data);
  return NULL;
}

static void
test_cancel (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MbdGnupg) gnupg = fixture_open (fx, "a");
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();
  g_autoptr (GBytes) text = bytes_new (release_text);

  g_test_summary ("A cancelled operation fails with G_IO_ERROR_CANCELLED, also while gpg runs");
  g_cancellable_cancel (cancelled);
  g_autoptr (GBytes) signed_data = mbd_gnupg_sign_clear (gnupg, text, cancelled, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (signed_data);
  g_clear_error (&error);

  /* A 4096 bit RSA key takes gpg far longer than 200 ms. */
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  GThread *thread = g_thread_new ("cancel", cancel_later_thread, cancellable);
  g_autofree char *fingerprint
      = mbd_gnupg_generate_key (gnupg, "Slow <slow@example.org>", "rsa4096", cancellable, &error);
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (fingerprint);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/gnupg/new/creates-home", test_new_creates_home);
  ADD ("/gnupg/new/not-a-directory", test_new_not_a_directory);
  ADD ("/gnupg/new/uninitialized", test_new_uninitialized);
  ADD ("/gnupg/new/temporary", test_temporary);
  ADD ("/gnupg/generate/ed25519", test_generate_ed25519);
  ADD ("/gnupg/generate/rsa", test_generate_rsa);
  ADD ("/gnupg/generate/errors", test_generate_errors);
  ADD ("/gnupg/signing-key/selection", test_signing_key_selection);
  ADD ("/gnupg/sign/clear", test_sign_clear_roundtrip);
  ADD ("/gnupg/sign/detached", test_sign_detached_roundtrip);
  ADD ("/gnupg/sign/release", test_sign_release);
  ADD ("/gnupg/verify/other-home", test_verify_in_other_home);
  ADD ("/gnupg/verify/unsigned", test_verify_unsigned);
  ADD ("/gnupg/verify/only-signed-text", test_verify_returns_only_signed_text);
  ADD ("/gnupg/verify/tampered", test_verify_tampered);
  ADD ("/gnupg/verify/unknown-signer", test_verify_unknown_signer);
  ADD ("/gnupg/verify/expired", test_verify_expired);
  ADD ("/gnupg/verify/revoked", test_verify_revoked);
  ADD ("/gnupg/verify/subkey", test_verify_subkey);
  ADD ("/gnupg/verify/several-signatures", test_verify_several_signatures);
  ADD ("/gnupg/verify/any-good", test_verify_any_good);
  ADD ("/gnupg/import/garbage", test_import_garbage);
  ADD ("/gnupg/export/unknown", test_export_unknown);
  ADD ("/gnupg/debian/keyring", test_debian_keyring);
  ADD ("/gnupg/debian/inrelease", test_debian_inrelease);
  ADD ("/gnupg/threads", test_threads);
  ADD ("/gnupg/cancel", test_cancel);
#undef ADD

  return g_test_run ();
}
