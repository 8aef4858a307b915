/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "mbd-db-private.h"
#include "mbd-gnupg.h"

G_BEGIN_DECLS

/* The block-cached APT index and its publisher.
 *
 * A target is one index: "<suite>/<component>/binary-<arch>" or "<suite>/<component>/source".
 * <suite> is the path below dists/: "bookworm-test-unstable", "bookworm-test-unstable-rollback0",
 * "bookworm-test-stable/snapshots/nightly". Keys order the stanzas inside a target and are unique
 * in it; they compare bytewise (memcmp). REPO uses "<package> <version> <arch>" for binaries and
 * "<package> <version>" for sources (so the index is sorted by package name).
 *
 * Storage: a target is a sorted list of blocks (consecutive stanzas, about
 * MBD_INDEX_BLOCK_TARGET bytes of text each; split above twice that, merged below half of it).
 * A block is immutable once stored and carries its cached compressed forms: a raw-deflate chunk
 * (fresh state, Z_SYNC_FLUSH) with its CRC32 for one single-member .gz, and one xz block for one
 * multi-block .xz stream. Blocks are shared between targets by copies (rollbacks, snapshots). */
typedef struct _MbdIndexBatch MbdIndexBatch;

MbdIndexBatch *mbd_index_batch_new (MbdDb *db);
/* stanza: one deb822 paragraph without the trailing blank line. Replaces an existing key. */
void
mbd_index_batch_put (MbdIndexBatch *batch, const char *target, const char *key, const char *stanza);
void mbd_index_batch_delete (MbdIndexBatch *batch, const char *target, const char *key);
/* Make @to_target an exact copy of @from_target (rollback shifts, snapshots): cheap, reuses the
 * compressed blocks. Applied before the puts/deletes of the same batch on @to_target. All copies
 * of one batch read the targets as they were before the batch, so a rollback shift
 * (r1 -> r2, r0 -> r1, main -> r0) is one batch. */
void mbd_index_batch_copy (MbdIndexBatch *batch, const char *from_target, const char *to_target);
/* Empty and forget a target (e.g. a deleted snapshot). Discards the puts/deletes and the copy
 * queued on it before; later ones apply to the empty target. */
void mbd_index_batch_drop (MbdIndexBatch *batch, const char *target);
/* Must run inside the caller's transaction (mbd_db_begin/commit): updates the stored stanza
 * blocks and their cached compressed forms, and marks the touched suites dirty. Bulk-friendly:
 * 60,000 puts in one batch is the import case. Fails with MBD_ERROR_INVALID_ARGUMENT on a
 * malformed target name or stanza (nothing is changed then, once the caller rolls back). */
gboolean mbd_index_batch_apply (MbdIndexBatch *batch, GError **error);
void mbd_index_batch_free (MbdIndexBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MbdIndexBatch, mbd_index_batch_free)

/* Stanzas of a target in key order (for tests, snapshots, checks); without the trailing
 * newlines. An unknown target has none. */
char **mbd_index_get_stanzas (MbdDb *db, const char *target, GError **error);
/* The keys of a target in order. */
char **mbd_index_get_keys (MbdDb *db, const char *target, GError **error);

typedef struct
{
  const char *suite_path; /* below dists/ */
  const char *origin, *label, *suite, *codename, *version /* nullable */, *description;
  const char *const *components;    /* "main", ... */
  const char *const *architectures; /* binary arches, e.g. {"amd64","i386"}; no "all" */
  gboolean not_automatic, but_automatic_upgrades;
  GDateTime *valid_until; /* nullable */
} MbdReleaseInfo;

/* Publish one suite under @dists_dir/<suite_path>/: every component x (binary-<arch>, source)
 * gets Packages/Sources as plain, .gz and .xz (empty targets get empty indices), each written
 * under by-hash/SHA256/<hex> first and then at its plain name; then Release, Release.gpg and
 * InRelease (signed by @gnupg's default key) are renamed into place last. Only targets changed
 * since the last publish are re-rendered. Superseded by-hash files are deleted only after
 * @grace_seconds. Clears the suite's dirty mark. Idempotent: after a crash, calling it again
 * completes the publish. Runs its own savepoint: call it outside or inside a transaction. */
gboolean mbd_index_publish (MbdDb *db,
                            MbdGnupg *gnupg,
                            const char *dists_dir,
                            const MbdReleaseInfo *info,
                            gint64 grace_seconds,
                            GError **error);
/* Suites applied but not (completely) published: republish these on open (crash recovery). */
char **mbd_index_dirty_suites (MbdDb *db, GError **error);
/* Remove a suite's published directory and its stored targets (snapshot delete). Leaves
 * <suite_path>/snapshots/ alone. */
gboolean
mbd_index_remove_suite (MbdDb *db, const char *dists_dir, const char *suite_path, GError **error);

/* ---- internals shared by mbd-index*.c and the white-box tests ---- */

/* Text size a block aims at; blocks are split above 2x and merged below 1/2 of it. */
#define MBD_INDEX_BLOCK_TARGET (64 * 1024)

/* Counters of the work done in this process, for tests and benchmarks. */
typedef struct
{
  guint blocks_compressed; /* blocks deflated + xz-encoded by apply */
  guint targets_rendered;  /* target indices (re)written by publish */
  guint64 bytes_hashed;    /* bytes fed to SHA256 by publish (resumed hashing skips some) */
  guint blocks_read;       /* blocks publish read from the database (the rest are copied) */
} MbdIndexStats;

void mbd_index_get_stats (MbdIndexStats *stats);
void mbd_index_reset_stats (void);
void mbd_index_note_rendered (guint64 bytes_hashed);
void mbd_index_note_blocks_read (guint n);
/* Whether publishing fdatasync()s every file and fsync()s the directories before the renames
 * that depend on them (off by default: a killed process loses nothing without it, only a power
 * failure can). */
void mbd_index_set_fsync (gboolean enabled);
gboolean mbd_index_get_fsync (void);
/* Overrides MBD_INDEX_BLOCK_TARGET (0 restores it): lets tests split and merge with few stanzas. */
void mbd_index_set_block_target (gsize bytes);
gsize mbd_index_get_block_target (void);

/* The cached compressed forms of one block of text. */
typedef struct
{
  GBytes *gz;  /* raw deflate, fresh state, ends with a sync flush: byte aligned, not final */
  guint32 crc; /* CRC32 of the text */
  GBytes *xz;  /* one complete xz block (CRC64 check), padded */
  guint64 xz_unpadded;
} MbdIndexCoded;

void mbd_index_coded_clear (MbdIndexCoded *coded);
gboolean mbd_index_encode_block (const guint8 *text, gsize len, MbdIndexCoded *out, GError **error);
/* Headers and trailers that turn cached blocks into complete files. */
#define MBD_INDEX_GZ_HEADER_LEN 10
extern const guint8 mbd_index_gz_header[MBD_INDEX_GZ_HEADER_LEN];
/* 03 00 (an empty final block), the combined CRC32 and the size mod 2^32: 10 bytes */
void mbd_index_gz_trailer (guint32 crc, guint64 size, guint8 out[10]);
guint32 mbd_index_crc32_combine (guint32 crc1, guint32 crc2, guint64 len2);
/* The 12-byte xz stream header. */
void mbd_index_xz_header (guint8 out[12]);
/* The xz index and stream footer for blocks of the given unpadded and uncompressed sizes. */
GBytes *mbd_index_xz_trailer (const guint64 *unpadded,
                              const guint64 *uncompressed,
                              gsize n_blocks,
                              GError **error);

/* Splits a target name into its suite, component and "binary-<arch>"/"source" (each optional). */
gboolean mbd_index_parse_target (const char *target,
                                 char **out_suite,
                                 char **out_component,
                                 char **out_kind,
                                 GError **error);
/* The id of a stored target: 0 when there is none, -1 on failure. */
gint64 mbd_index_lookup_target (MbdDb *db, const char *target, GError **error);
/* The id of @target, stored (empty) first if it is not yet. */
gint64 mbd_index_ensure_target (MbdDb *db, const char *target, GError **error);
/* Sets or clears the dirty mark of @suite. */
gboolean mbd_index_mark_suite (MbdDb *db, const char *suite, gboolean dirty, GError **error);
/* Deletes every stored target of @suite (and the blocks no other target lists). */
gboolean mbd_index_forget_suite_targets (MbdDb *db, const char *suite, GError **error);

G_END_DECLS
