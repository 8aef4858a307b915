/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "mbd-instance.h"
#include "mbd-packager.h"

G_BEGIN_DECLS

/* Internal uploads (ports, rebuilds, keyring packages), as mini-buildd's uploads to its own FTP:
 *
 * @tree is an unpacked Debian source tree whose debian/changelog has the entry to upload (its
 * distribution is the target). The source package is built next to it (`dpkg-source -b` in the
 * parent directory of @tree, which must hold the original tarballs a non-native format needs),
 * the .dsc is signed with the instance key, the source-only .changes is made with
 * `dpkg-genchanges -S -sa [-v<since_version>] [-D<field>]` (each of @fields is
 * `Name=value`) and signed, and the .changes with every file it lists is moved into a fresh
 * directory under `<home>/internal-uploads/` and submitted to the instance's packager
 * (mbd_packager_submit_full(): call this on the packager's thread). The packager accepts the
 * instance key as an uploader of every repository.
 *
 * On success *out_key (optional) is the package key, *out_changes (optional) the file name of
 * the .changes. Errors: %MBD_ERROR_FAILED naming the tool and its last output lines when
 * dpkg-source or dpkg-genchanges fails, signing and submit errors. The parent directory of
 * @tree keeps the tree; the built files are gone from it on success. */
gboolean mbd_internal_upload (MbdInstance *instance,
                              const char *tree,
                              const char *since_version,
                              const char *const *fields,
                              char **out_key,
                              char **out_changes,
                              GCancellable *cancellable,
                              GError **error);

/* The async form of work that is made in any thread and handed over on the packager's: @stage
 * (@job) runs in a worker thread, then @submit (@job) on the thread of @task's context, and
 * @task (the caller's, with @job as its data) returns TRUE when both succeeded or the first
 * error. */
typedef gboolean (*MbdStageFunc) (gpointer job, GCancellable *cancellable, GError **error);
typedef gboolean (*MbdSubmitFunc) (gpointer job, GError **error);
void mbd_stage_then_submit (GTask *task, gpointer job, MbdStageFunc stage, MbdSubmitFunc submit);

/* mbd_internal_upload() in two steps: the stage, which may run in any thread, leaves the
 * .changes (*out_staged) with the files it lists in a fresh directory under the home; the
 * submit (on the packager's thread) hands it to the packager and removes the directory if the
 * packager refuses it. A staged upload that is not submitted is removed with the discard. */
gboolean mbd_internal_upload_stage (MbdInstance *instance,
                                    const char *tree,
                                    const char *since_version,
                                    const char *const *fields,
                                    char **out_staged,
                                    GCancellable *cancellable,
                                    GError **error);
gboolean mbd_internal_upload_submit (MbdInstance *instance,
                                     const char *staged,
                                     char **out_key,
                                     GError **error);
void mbd_internal_upload_discard (const char *staged);

/* The same for a built source package: @dsc with its files next to it is unpacked into a
 * temporary directory and uploaded as it is (its changelog's top entry decides the target). */
gboolean mbd_internal_upload_dsc (MbdInstance *instance,
                                  const char *dsc,
                                  const char *since_version,
                                  const char *const *fields,
                                  char **out_key,
                                  GCancellable *cancellable,
                                  GError **error);

/* Copies @dsc and its files into a fresh work directory under `<home>/internal-uploads/` and
 * unpacks it there (dpkg-source -x) as `<work>/tree`. The caller removes *out_work. */
gboolean mbd_port_unpack_dsc (MbdInstance *instance,
                              const char *dsc,
                              char **out_work,
                              char **out_tree,
                              GCancellable *cancellable,
                              GError **error);

/* Starts the ports of the upload option auto-ports=@targets (comma-separated distributions)
 * of @source, just installed into @distribution, one after the other (see
 * mbd_packager_port_async()); the finish gives {distribution: [ok, key or reason]}. Call it on
 * the packager's thread. */
void mbd_port_run_auto_ports_async (MbdPackager *self,
                                    const char *source,
                                    const char *distribution,
                                    const char *targets,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
JsonObject *mbd_port_run_auto_ports_finish (MbdPackager *self, GAsyncResult *result);

/* ---- version rules (mini-buildd's DebianVersion.gen_*), for tests ---- */

/* Internal port: the rightmost match of @from_regex (the source suite's expanded mandatory
 * regex) in @version replaced by @to_default (the target's default version), whose `+N` keeps
 * the `+N` of the replaced part; appended when nothing matches. NULL with
 * %MBD_ERROR_INVALID_ARGUMENT for a bad regex. */
char *mbd_port_version_internal (const char *version,
                                 const char *from_regex,
                                 const char *to_default,
                                 GError **error);
/* Rebuild: `+rebuiltYYYYmmddHHMMSS` (UTC of @now) appended, or replacing the rightmost one. */
char *mbd_port_version_rebuild (const char *version, GDateTime *now);
/* External port: @to_default appended. */
char *mbd_port_version_external (const char *version, const char *to_default);

/* ---- changelog ---- */

/* A new top changelog entry for @source at @version into @distribution, by @maintainer, with
 * one `  * ` line per entry of @lines, prepended to @changelog. *out_since (optional) is the
 * version to give dpkg-genchanges -v so the .changes carries the original entries: the version
 * below the first entry not by @own_email (or that entry's version with `~` appended when it is
 * the last); *out_author (optional) that entry's author. */
char *mbd_port_changelog_prepend (const char *changelog,
                                  const char *source,
                                  const char *version,
                                  const char *distribution,
                                  const char *const *lines,
                                  const char *maintainer,
                                  const char *own_email,
                                  GDateTime *now,
                                  char **out_since,
                                  char **out_author,
                                  GError **error);

G_END_DECLS
