/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libminibuildd/libminibuildd.h>

G_BEGIN_DECLS

/* A temporary directory, removed with everything below it by mbd_test_dir_free(). Kept short
 * (under /tmp) because gpg-agent's socket path has a length limit. */
char *mbd_test_make_tmpdir (void);
void mbd_test_rm_rf (const char *path);

/* Runs gpg with --homedir @homedir and the given arguments; asserts it exited 0 and returns its
 * standard output. */
char *mbd_test_gpg (const char *homedir, const char *const *argv);

/* Creates a throw-away Ed25519 signing key in @homedir (created if missing) and returns its
 * fingerprint. With @faked_time (gpg's --faked-system-time format) the key is made at that time,
 * and @expire is a gpg expiry such as "1d" or "never". */
char *mbd_test_make_key (const char *homedir,
                         const char *uid,
                         const char *faked_time,
                         const char *expire);

/* Kills the gpg-agent of @homedir so none outlives a test. */
void mbd_test_kill_agent (const char *homedir);

/* A GAsyncReadyCallback that stores a reference to @result in the GAsyncResult * that
 * @user_data points to: start an _async call with it, iterate the main context until the
 * pointer is set, then call the _finish. */
void mbd_test_store_result (GObject *source, GAsyncResult *result, gpointer user_data);

/* A GSourceFunc counting its calls in the guint that @user_data points to: a timeout with it
 * shows whether a main loop kept running while something worked. */
gboolean mbd_test_count_tick (gpointer user_data);

/* Reads a file of the tests' source tree (tests/data/...) */
char *mbd_test_read_data (const char *name, gsize *length);

/* Adds repository @identity with the built-in layout @layout to the opened @instance; the
 * arguments after @layout are pairs of a distribution spec ("bookworm:amd64,i386?") and its
 * code version (or NULL for the codename's own), ended by NULL. Returns the repository. */
MbdRepository *mbd_test_add_repository (MbdInstance *instance,
                                        const char *identity,
                                        const char *layout,
                                        ...) G_GNUC_NULL_TERMINATED;

/* Creates and opens a new instance in @home (created if missing) with an Ed25519 key and
 * @identity (NULL: one made from the host name); asserts that it opened. */
MbdInstance *mbd_test_create_instance (const char *home, const char *identity);

/* Copies the instance home @template_home to @home (cp -a) and opens an instance on it. */
MbdInstance *mbd_test_open_copy (const char *template_home, const char *home);

/* Starts @instance if it is not running and iterates the default main context until package
 * @key of its packager has ended (at most 60 s); returns its final state. */
MbdPackageState mbd_test_run_until_final (MbdInstance *instance, const char *key);

G_END_DECLS
