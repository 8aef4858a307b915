/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Micro benchmark of the block-cached index (mbd-index-private.h): bulk apply + publish of N
 * synthetic stanzas, then one-stanza changes, an insert and a removal, each applied in its own
 * transaction and republished (the work of one `mbd include`). Build and run:
 *   meson test -C _build --benchmark index-micro -v
 * or _build/bench/index-micro -n 60000 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "mbd-db-private.h"
#include "mbd-gnupg.h"
#include "mbd-index-private.h"

#define SUITE "bookworm-bench-unstable"
#define TARGET SUITE "/main/binary-amd64"

static int n_stanzas = 60000;
static char *key_algo = NULL;
static char *work_dir = NULL;
static int rounds = 7;
static gboolean skip_bulk = FALSE;
static gboolean use_fsync = FALSE;

static const char *const components[] = { "main", NULL };
static const char *const architectures[] = { "amd64", NULL };

static char *
make_stanza (guint i, guint version)
{
  GString *s = g_string_new (NULL);
  guint32 h = g_int_hash (&i) * 2654435761u + version;

  g_string_append_printf (s,
                          "Package: bench-%06u\nSource: bench-src-%05u\nVersion: %u.%u-1\n"
                          "Architecture: amd64\nMaintainer: Bench Maintainer <bench@example.org>\n"
                          "Installed-Size: %u\nDepends: libc6 (>= 2.34), libbench%u (>= %u.0)\n"
                          "Section: misc\nPriority: optional\n"
                          "Filename: pool/main/b/bench-src-%05u/bench-%06u_%u.%u-1_amd64.deb\n"
                          "Size: %u\nSHA256: %08x%08x%08x%08x%08x%08x%08x%08x\n"
                          "Description: synthetic benchmark package %u\n",
                          i, i / 3, version, i % 7, 100 + h % 5000, h % 40, h % 9, i / 3, i,
                          version, i % 7, 1000 + h % 90000, h, h ^ 1, h ^ 2, h ^ 3, h ^ 4, h ^ 5,
                          h ^ 6, h ^ 7, i);
  /* a description of 2 to 8 lines: stanzas of ~500-800 bytes */
  for (guint l = 0; l < 2 + h % 7; l++)
    g_string_append_printf (s,
                            " This is line %u of the long description of package %u; it "
                            "says %08x.\n",
                            l, i, h * (l + 1));
  return g_string_free (s, FALSE);
}

static char *
key_of (guint i)
{
  return g_strdup_printf ("bench-%06u amd64", i);
}

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* CPU seconds of this process (all threads) and of its finished children (gpg). */
static double
cpu_s (void)
{
  struct rusage self, children;

  getrusage (RUSAGE_SELF, &self);
  getrusage (RUSAGE_CHILDREN, &children);
  return self.ru_utime.tv_sec + self.ru_stime.tv_sec + children.ru_utime.tv_sec
         + children.ru_stime.tv_sec
         + (self.ru_utime.tv_usec + self.ru_stime.tv_usec + children.ru_utime.tv_usec
            + children.ru_stime.tv_usec)
               / 1e6;
}

static double load_cpu; /* CPU seconds used by the last timed_apply/timed_publish */

static void
check (gboolean ok, GError *error, const char *what)
{
  if (!ok)
    {
      g_printerr ("%s: %s\n", what, error ? error->message : "failed");
      exit (1);
    }
}

typedef struct
{
  MbdDb *db;
  MbdGnupg *gnupg;
  char *dists;
} Bench;

static double
timed_apply (Bench *b, MbdIndexBatch *batch)
{
  GError *error = NULL;
  double t = now_s (), c = cpu_s ();

  check (mbd_db_begin (b->db, &error), error, "begin");
  check (mbd_index_batch_apply (batch, &error), error, "apply");
  check (mbd_db_commit (b->db, &error), error, "commit");
  load_cpu = cpu_s () - c;
  return now_s () - t;
}

static double
timed_publish (Bench *b)
{
  GError *error = NULL;
  MbdReleaseInfo info = { .suite_path = SUITE,
                          .origin = "bench",
                          .label = "bench",
                          .suite = SUITE,
                          .codename = SUITE,
                          .description = "index micro benchmark",
                          .components = components,
                          .architectures = architectures };
  double t = now_s (), c = cpu_s ();

  check (mbd_index_publish (b->db, b->gnupg, b->dists, &info, 0, &error), error, "publish");
  load_cpu = cpu_s () - c;
  return now_s () - t;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
report (const char *what, GArray *times)
{
  g_array_sort (times, cmp_double);
  g_print ("%-34s median %7.1f ms  min %7.1f ms  max %7.1f ms  (%u runs)\n", what,
           g_array_index (times, double, times->len / 2) * 1e3,
           g_array_index (times, double, 0) * 1e3,
           g_array_index (times, double, times->len - 1) * 1e3, times->len);
}

static void
file_size (Bench *b, const char *name)
{
  g_autofree char *path = g_build_filename (b->dists, SUITE, "main/binary-amd64", name, NULL);
  struct stat st;

  if (stat (path, &st) == 0)
    g_print ("  %-14s %12lld bytes\n", name, (long long) st.st_size);
}

static void
run_bulk (Bench *bp)
{
  /* (a) bulk */
  g_autoptr (MbdIndexBatch) bulk = mbd_index_batch_new (bp->db);
  gsize text_bytes = 0;
  double t = now_s ();
  for (int i = 0; i < n_stanzas; i++)
    {
      g_autofree char *key = key_of (i);
      g_autofree char *stanza = make_stanza (i, 1);
      text_bytes += strlen (stanza) + 1;
      mbd_index_batch_put (bulk, TARGET, key, stanza);
    }
  double t_gen = now_s () - t;
  double t_apply = timed_apply (bp, bulk);
  double c_apply = load_cpu;
  g_clear_pointer (&bulk, mbd_index_batch_free);
  double t_publish = timed_publish (bp);
  double c_publish = load_cpu;
  g_print ("bulk: %zu bytes of stanzas (generated in %.2f s)\n", text_bytes, t_gen);
  g_print ("%-34s %7.2f s wall %7.2f s CPU\n%-34s %7.2f s wall %7.2f s CPU\n",
           "bulk apply (compress all blocks)", t_apply, c_apply, "bulk publish (first)", t_publish,
           c_publish);
  file_size (bp, "Packages");
  file_size (bp, "Packages.gz");
  file_size (bp, "Packages.xz");
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "stanzas", 'n', 0, G_OPTION_ARG_INT, &n_stanzas, "Number of stanzas (60000)", "N" },
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &rounds, "Repetitions of each small change (7)", "R" },
    { "key-algo", 0, 0, G_OPTION_ARG_STRING, &key_algo, "Signing key algorithm (rsa3072)", "A" },
    { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &work_dir, "Work directory (kept)", "DIR" },
    { "fsync", 0, 0, G_OPTION_ARG_NONE, &use_fsync, "fdatasync every published file", NULL },
    { "skip-bulk", 0, 0, G_OPTION_ARG_NONE, &skip_bulk,
      "Reuse the index a run with --dir left (for profiling the small changes)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- block-cached index benchmark");
  GError *error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  check (g_option_context_parse (context, &argc, &argv, &error), error, "options");
  mbd_index_set_fsync (use_fsync);
  gboolean temporary = work_dir == NULL;
  if (temporary)
    work_dir = g_dir_make_tmp ("mbd-index-bench-XXXXXX", &error);
  check (work_dir != NULL, error, "work directory");

  Bench b = { 0 };
  g_autofree char *home = g_build_filename (work_dir, "gnupg", NULL);
  g_autofree char *db_path = g_build_filename (work_dir, "mbd.sqlite", NULL);
  b.dists = g_build_filename (work_dir, "dists", NULL);
  g_mkdir_with_parents (home, 0700);
  b.gnupg = mbd_gnupg_new (home, &error);
  check (b.gnupg != NULL, error, "gnupg");
  g_auto (GStrv) keys = mbd_gnupg_list_fingerprints (b.gnupg, TRUE, &error);
  check (keys != NULL, error, "keys");
  g_autofree char *fpr
      = skip_bulk && keys[0] != NULL
            ? g_strdup (keys[0])
            : mbd_gnupg_generate_key (b.gnupg, "Index Bench <bench@example.org>",
                                      key_algo ? key_algo : "rsa3072", NULL, &error);
  check (fpr != NULL, error, "key");
  mbd_gnupg_set_signing_fingerprint (b.gnupg, fpr);
  b.db = mbd_db_open (db_path, &error);
  check (b.db != NULL, error, "db");

  g_print ("index micro benchmark: %d stanzas, %u cores, key %s, block target %d bytes%s\n",
           n_stanzas, g_get_num_processors (), key_algo ? key_algo : "rsa3072",
           MBD_INDEX_BLOCK_TARGET, use_fsync ? ", fsync" : "");

  if (!skip_bulk)
    run_bulk (&b);
  /* (b) one stanza changes, at random places */
  g_autoptr (GArray) a_times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) p_times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) all_times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) cpu_times = g_array_new (FALSE, FALSE, sizeof (double));
  GRand *rand = g_rand_new_with_seed (42);
  for (int r = 0; r < rounds; r++)
    {
      guint i = g_rand_int_range (rand, 0, n_stanzas);
      g_autoptr (MbdIndexBatch) one = mbd_index_batch_new (b.db);
      g_autofree char *key = key_of (i);
      g_autofree char *stanza = make_stanza (i, 2 + r);
      mbd_index_batch_put (one, TARGET, key, stanza);
      double ta = timed_apply (&b, one);
      double ca = load_cpu;
      double tp = timed_publish (&b);
      double sum = ta + tp, csum = ca + load_cpu;
      g_array_append_val (cpu_times, csum);
      g_array_append_val (a_times, ta);
      g_array_append_val (p_times, tp);
      g_array_append_val (all_times, sum);
    }
  report ("change one: apply", a_times);
  report ("change one: publish", p_times);
  report ("change one: apply + publish", all_times);
  report ("change one: CPU (incl. gpg)", cpu_times);

  /* (b') add one new package, (c) remove one */
  g_array_set_size (all_times, 0);
  for (int r = 0; r < rounds; r++)
    {
      g_autoptr (MbdIndexBatch) add = mbd_index_batch_new (b.db);
      guint i = n_stanzas + r;
      g_autofree char *key = key_of (i);
      g_autofree char *stanza = make_stanza (i, 1);
      mbd_index_batch_put (add, TARGET, key, stanza);
      double sum = timed_apply (&b, add) + timed_publish (&b);
      g_array_append_val (all_times, sum);
    }
  report ("add one: apply + publish", all_times);
  g_array_set_size (all_times, 0);
  for (int r = 0; r < rounds; r++)
    {
      g_autoptr (MbdIndexBatch) del = mbd_index_batch_new (b.db);
      g_autofree char *key = key_of (g_rand_int_range (rand, 0, n_stanzas));
      mbd_index_batch_delete (del, TARGET, key);
      double sum = timed_apply (&b, del) + timed_publish (&b);
      g_array_append_val (all_times, sum);
    }
  report ("remove one: apply + publish", all_times);
  g_rand_free (rand);

  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  double load[3] = { 0 };
  getloadavg (load, 3);
  g_print ("peak RSS %.1f MB; load average %.2f (other processes compete for the cores)\n",
           ru.ru_maxrss / 1024.0, load[0]);

  mbd_db_close (b.db);
  const char *kill_argv[] = { "gpgconf", "--homedir", home, "--kill", "gpg-agent", NULL };
  g_spawn_sync (NULL, (char **) kill_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
  g_object_unref (b.gnupg);
  if (temporary)
    {
      const char *rm_argv[] = { "rm", "-rf", work_dir, NULL };
      g_spawn_sync (NULL, (char **) rm_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                    NULL, NULL);
    }
  g_free (b.dists);
  g_free (work_dir);
  g_free (key_algo);
  return 0;
}
