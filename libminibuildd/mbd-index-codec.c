/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <lzma.h>
#include <string.h>
#include <zlib.h>

#include "mbd-index-private.h"
#include "mbd-util-private.h"

/* Every xz block of every index uses this check: the check type is stored only in the stream
 * header and footer, so all cached blocks of a stream must agree with it. */
#define XZ_CHECK LZMA_CHECK_CRC64
#define XZ_PRESET 6
#define GZ_LEVEL 9

/* gzip member header: deflate, no flags, mtime 0, no extra flags, OS unix. */
const guint8 mbd_index_gz_header[MBD_INDEX_GZ_HEADER_LEN]
    = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03 };

void
mbd_index_coded_clear (MbdIndexCoded *coded)
{
  g_clear_pointer (&coded->gz, g_bytes_unref);
  g_clear_pointer (&coded->xz, g_bytes_unref);
}

static gboolean
deflate_chunk (const guint8 *text, gsize len, MbdIndexCoded *out, GError **error)
{
  z_stream zs = { 0 };

  if (deflateInit2 (&zs, GZ_LEVEL, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    return mbd_throw (error, MBD_ERROR_FAILED, "zlib: cannot start a deflate stream");
  /* deflateBound assumes a final block; a sync flush adds at most a few bytes more */
  gsize cap = deflateBound (&zs, len) + 16;
  guint8 *buf = g_malloc (cap);
  zs.next_in = (Bytef *) text;
  zs.avail_in = len;
  zs.next_out = buf;
  zs.avail_out = cap;
  int rc = deflate (&zs, Z_SYNC_FLUSH);
  gsize produced = cap - zs.avail_out;
  gboolean complete = zs.avail_in == 0 && zs.avail_out > 0;
  /* after a sync flush without Z_FINISH, deflateEnd reports Z_DATA_ERROR: expected */
  deflateEnd (&zs);
  if (rc != Z_OK || !complete)
    {
      g_free (buf);
      return mbd_throw (error, MBD_ERROR_FAILED,
                        "zlib: deflating a %" G_GSIZE_FORMAT "-byte index block failed (%d)", len,
                        rc);
    }
  out->gz = g_bytes_new_take (g_realloc (buf, produced), produced);
  out->crc = crc32 (crc32 (0, NULL, 0), text, len);
  return TRUE;
}

static guint32
dict_size_for (gsize len)
{
  guint32 dict = LZMA_DICT_SIZE_MIN;

  /* a dictionary larger than the block only costs encoder setup time and decoder memory */
  while (dict < len && dict < (1u << 23))
    dict <<= 1;
  return dict;
}

static gboolean
xz_block (const guint8 *text, gsize len, MbdIndexCoded *out, GError **error)
{
  lzma_options_lzma opts;

  if (lzma_lzma_preset (&opts, XZ_PRESET))
    return mbd_throw (error, MBD_ERROR_FAILED, "liblzma: preset %d unsupported", XZ_PRESET);
  opts.dict_size = dict_size_for (len);
  lzma_filter filters[] = {
    { .id = LZMA_FILTER_LZMA2, .options = &opts },
    { .id = LZMA_VLI_UNKNOWN, .options = NULL },
  };
  lzma_block block = { .version = 0, .check = XZ_CHECK, .filters = filters };
  gsize cap = lzma_block_buffer_bound (len);
  gsize pos = 0;
  guint8 *buf = g_malloc (cap);
  lzma_ret rc = lzma_block_buffer_encode (&block, NULL, text, len, buf, &pos, cap);
  if (rc != LZMA_OK)
    {
      g_free (buf);
      return mbd_throw (error, MBD_ERROR_FAILED,
                        "liblzma: encoding a %" G_GSIZE_FORMAT "-byte index block failed (%d)", len,
                        (int) rc);
    }
  /* the xz index records the size without the block padding */
  out->xz_unpadded = lzma_block_unpadded_size (&block);
  out->xz = g_bytes_new_take (g_realloc (buf, pos), pos);
  return TRUE;
}

gboolean
mbd_index_encode_block (const guint8 *text, gsize len, MbdIndexCoded *out, GError **error)
{
  memset (out, 0, sizeof *out);
  if (!deflate_chunk (text, len, out, error) || !xz_block (text, len, out, error))
    {
      mbd_index_coded_clear (out);
      return FALSE;
    }
  return TRUE;
}

static void
put_le32 (guint8 *p, guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

void
mbd_index_gz_trailer (guint32 crc, guint64 size, guint8 out[10])
{
  out[0] = 0x03;
  out[1] = 0x00;
  put_le32 (out + 2, crc);
  put_le32 (out + 6, (guint32) (size & 0xffffffffu));
}

guint32
mbd_index_crc32_combine (guint32 crc1, guint32 crc2, guint64 len2)
{
  return crc32_combine64 (crc1, crc2, (z_off64_t) len2);
}

void
mbd_index_xz_header (guint8 out[12])
{
  lzma_stream_flags flags = { .version = 0, .check = XZ_CHECK };

  lzma_ret rc = lzma_stream_header_encode (&flags, out);

  /* cannot fail for version 0 and a supported check */
  g_assert (rc == LZMA_OK);
}

GBytes *
mbd_index_xz_trailer (const guint64 *unpadded,
                      const guint64 *uncompressed,
                      gsize n_blocks,
                      GError **error)
{
  lzma_index *index = lzma_index_init (NULL);

  if (index == NULL)
    {
      mbd_throw (error, MBD_ERROR_FAILED, "liblzma: out of memory for an xz index");
      return NULL;
    }
  for (gsize i = 0; i < n_blocks; i++)
    if (lzma_index_append (index, NULL, unpadded[i], uncompressed[i]) != LZMA_OK)
      {
        lzma_index_end (index, NULL);
        mbd_throw (error, MBD_ERROR_FAILED,
                   "liblzma: xz index block %" G_GSIZE_FORMAT " has invalid sizes", i);
        return NULL;
      }
  gsize index_size = lzma_index_size (index);
  gsize cap = index_size + LZMA_STREAM_HEADER_SIZE;
  guint8 *buf = g_malloc (cap);
  gsize pos = 0;
  lzma_stream_flags flags = { .version = 0, .check = XZ_CHECK, .backward_size = index_size };
  lzma_ret rc = lzma_index_buffer_encode (index, buf, &pos, cap);
  lzma_index_end (index, NULL);
  if (rc == LZMA_OK)
    rc = lzma_stream_footer_encode (&flags, buf + pos);
  if (rc != LZMA_OK)
    {
      g_free (buf);
      mbd_throw (error, MBD_ERROR_FAILED, "liblzma: cannot encode the xz index (%d)", (int) rc);
      return NULL;
    }
  return g_bytes_new_take (buf, pos + LZMA_STREAM_HEADER_SIZE);
}
