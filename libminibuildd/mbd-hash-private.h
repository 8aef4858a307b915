/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SHA256 through OpenSSL's libcrypto (SHA-NI / AVX2 accelerated: about 1.5 GB/s where GLib's
 * GChecksum does 0.36 GB/s). The running state is a plain struct, so it can be saved with
 * mbd_sha256_save() and resumed later, also in another process (resumable index hashing). */
typedef struct
{
  /* room for OpenSSL's SHA256_CTX (112 bytes), kept opaque here */
  guint64 state[16];
} MbdSha256;

#define MBD_SHA256_HEX_LEN 64

void mbd_sha256_init (MbdSha256 *sha);
void mbd_sha256_update (MbdSha256 *sha, const void *data, gsize len);
/* Writes the lowercase hex digest (65 bytes with the NUL) without disturbing @sha. */
void mbd_sha256_hex (const MbdSha256 *sha, char hex[MBD_SHA256_HEX_LEN + 1]);
/* The raw state, and a state restored from it: FALSE if @data has the wrong size (a state saved
 * by a libcrypto with another layout), in which case the caller hashes from the start. */
GBytes *mbd_sha256_save (const MbdSha256 *sha);
gboolean mbd_sha256_restore (MbdSha256 *sha, const void *data, gsize len);
/* One-shot hex digest of @len bytes. */
void mbd_sha256_hex_of (const void *data, gsize len, char hex[MBD_SHA256_HEX_LEN + 1]);

G_END_DECLS
