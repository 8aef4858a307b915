/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sqlite3.h>

#include "mbd-build-request.h"
#include "mbd-builder.h"
#include "mbd-db-private.h"

G_BEGIN_DECLS

/* g_strv_builder_take() is newer than GLib 2.74. */
static inline void
mbd_strv_builder_take (GStrvBuilder *builder, char *value)
{
  g_strv_builder_add (builder, value);
  g_free (value);
}

/* The fields of sbuild's closing "Summary" section that a build result keeps (mini-buildd copies
 * the same ones, plus Fail-Stage, which says where a failed build stopped). */
extern const char *const mbd_build_summary_fields[];

/* Parses sbuild's log text: only the lines after the "| Summary |" banner count (the build's
 * own output may print "Status: ..." lines, e.g. dpkg -s). Returns a table field -> value (empty
 * when the log has no summary, e.g. sbuild was killed). */
GHashTable *mbd_build_parse_summary (const char *log_text);

/* Decides the outcome from the summary, the check modes and sbuild's exit status, following
 * mini-buildd: Status must be "successful" (or "skipped"), and each enabled check passes its
 * mode. Returns TRUE for built; FALSE sets *out_failure to why (a sentence naming the field). */
gboolean mbd_build_evaluate (GHashTable *summary,
                             int exit_status,
                             MbdCheckMode lintian,
                             MbdCheckMode autopkgtest,
                             MbdCheckMode piuparts,
                             char **out_failure);

/* The last @n_lines lines of @text (all of it if shorter). */
char *mbd_build_text_tail (const char *text, guint n_lines);

/* What sbuild needs to select the chroot: its arguments and the user to run it as (NULL: us). */
typedef struct
{
  char **sbuild_args;
  char *build_user;
} MbdBuildChroot;
void mbd_build_chroot_free (MbdBuildChroot *chroot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MbdBuildChroot, mbd_build_chroot_free)

/* The sbuild command line (without a user switch) for @request, run in @workdir, with @chroot.
 * @lintian_in_session FALSE leaves lintian to the caller (mbd runs it on the host after the
 * build, see mbd_build_host_lintian_argv()) even when the request's lintian mode enables it. */
char **mbd_build_sbuild_argv (MbdBuildRequest *request,
                              const MbdBuildChroot *chroot,
                              const char *workdir,
                              gboolean lintian_in_session,
                              GError **error);

/* Whether lintian for @request can run on the host instead of inside the build session: its
 * mode enables it, and @host_codename (the host's VERSION_CODENAME; NULL: unknown) is the
 * request's codename, so the host's lintian is the one the chroot would install. */
gboolean mbd_build_host_lintian_applies (MbdBuildRequest *request, const char *host_codename);

/* The lintian command line sbuild would run in the session, for the host: the same suppressed
 * tags, the build's .changes and (sbuild builds no source) the .dsc. */
char **mbd_build_host_lintian_argv (const char *lintian, const char *changes, const char *dsc);

/* sbuild's "Lintian" summary value for a lintian run: exit 0 is "pass", or "info"/"warn" when
 * its output had I:/W: lines; 1 is "fail" (a policy violation); anything else "error". */
const char *mbd_build_lintian_status (int exit_status, gboolean saw_info, gboolean saw_warn);
/* The Perl configuration (~/.sbuildrc) for @request: the unshare unpack directory under
 * @workdir and the chroot setup commands (apt sources, pins, keys, snippets). */
char *mbd_build_sbuildrc (MbdBuildRequest *request, const char *workdir, GError **error);
/* The shell script that sets up APT inside the chroot for @request (sources, pins, keys). */
char *mbd_build_apt_setup_script (MbdBuildRequest *request, GError **error);

/* Persistence (table builds, see mbd-db.c). */
char *mbd_build_request_settings_to_json (MbdBuildRequest *self);
MbdBuildRequest *
mbd_build_request_new_from_row (sqlite3_stmt *stmt, const char *builds_dir, GError **error);
/* The column list mbd_build_request_new_from_row() expects, in order. */
#define MBD_BUILD_ROW_COLUMNS                                                                      \
  "key, source, version, distribution, codename, architecture, state, request, result"
char *mbd_build_request_result_to_json (MbdBuildRequest *self);

/* Internal state changes by the builder; each emits the matching signal. */
void mbd_build_request_set_key (MbdBuildRequest *self, const char *key, const char *builds_dir);
void mbd_build_request_set_state (MbdBuildRequest *self, MbdBuildState state);
void mbd_build_request_emit_log_line (MbdBuildRequest *self, const char *line);
void mbd_build_request_set_result (MbdBuildRequest *self,
                                   GHashTable *summary,
                                   const char *failure,
                                   const char *log_tail,
                                   const char *changes_path,
                                   const char *const *files);
/* Changes the state without a signal (to store it first), then emits state-changed. */
void mbd_build_request_set_state_silently (MbdBuildRequest *self, MbdBuildState state);
void mbd_build_request_notify_state (MbdBuildRequest *self);
void mbd_build_request_set_dsc_path (MbdBuildRequest *self, const char *dsc_path);
MbdCheckMode mbd_build_request_peek_autopkgtest_mode (MbdBuildRequest *self);
MbdCheckMode mbd_build_request_peek_piuparts_mode (MbdBuildRequest *self);
const char *mbd_build_request_peek_deb_build_options (MbdBuildRequest *self);

/* The instance's builder if it has one yet (for the instance's start, stop and status). */
MbdBuilder *mbd_instance_peek_builder (MbdInstance *instance);

/* The names of the source package's files (.dsc first), and the directory they are in. */
char **mbd_build_request_dup_source_files (MbdBuildRequest *self);

G_END_DECLS
