/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

/* The low-level SHA256_* functions are deprecated in OpenSSL 3 in favour of EVP, but only they
 * expose the state as a struct that can be stored and resumed; they run the same assembly. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>

#include "mbd-hash-private.h"

G_STATIC_ASSERT (sizeof (SHA256_CTX) <= sizeof (MbdSha256));

void
mbd_sha256_init (MbdSha256 *sha)
{
  memset (sha, 0, sizeof *sha);
  SHA256_Init ((SHA256_CTX *) sha);
}

void
mbd_sha256_update (MbdSha256 *sha, const void *data, gsize len)
{
  SHA256_Update ((SHA256_CTX *) sha, data, len);
}

void
mbd_sha256_hex (const MbdSha256 *sha, char hex[MBD_SHA256_HEX_LEN + 1])
{
  static const char digits[] = "0123456789abcdef";
  SHA256_CTX copy = *(const SHA256_CTX *) sha;
  unsigned char md[SHA256_DIGEST_LENGTH];

  SHA256_Final (md, &copy);
  for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
    {
      hex[2 * i] = digits[md[i] >> 4];
      hex[2 * i + 1] = digits[md[i] & 0xf];
    }
  hex[MBD_SHA256_HEX_LEN] = '\0';
}

GBytes *
mbd_sha256_save (const MbdSha256 *sha)
{
  return g_bytes_new (sha, sizeof (SHA256_CTX));
}

gboolean
mbd_sha256_restore (MbdSha256 *sha, const void *data, gsize len)
{
  if (data == NULL || len != sizeof (SHA256_CTX))
    return FALSE;
  memset (sha, 0, sizeof *sha);
  memcpy (sha, data, len);
  return TRUE;
}

void
mbd_sha256_hex_of (const void *data, gsize len, char hex[MBD_SHA256_HEX_LEN + 1])
{
  MbdSha256 sha;

  mbd_sha256_init (&sha);
  mbd_sha256_update (&sha, data, len);
  mbd_sha256_hex (&sha, hex);
}
