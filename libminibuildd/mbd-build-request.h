/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

/**
 * MbdBuildState:
 * @MBD_BUILD_STATE_QUEUED: stored, waiting for a build slot
 * @MBD_BUILD_STATE_BUILDING: sbuild runs
 * @MBD_BUILD_STATE_BUILT: sbuild succeeded and every check passed its mode
 * @MBD_BUILD_STATE_FAILED: sbuild or a check failed, or the build could not be run
 * @MBD_BUILD_STATE_CANCELLED: cancelled before it ended
 *
 * The life cycle of a [class@Mbd.BuildRequest]: queued -> building -> built, failed or
 * cancelled. A build interrupted by the end of its process goes back to queued.
 */
typedef enum
{
  MBD_BUILD_STATE_QUEUED,
  MBD_BUILD_STATE_BUILDING,
  MBD_BUILD_STATE_BUILT,
  MBD_BUILD_STATE_FAILED,
  MBD_BUILD_STATE_CANCELLED,
} MbdBuildState;

/**
 * MbdCheckMode:
 * @MBD_CHECK_MODE_DISABLED: the check does not run
 * @MBD_CHECK_MODE_IGNORE: the check runs, its result never fails the build
 * @MBD_CHECK_MODE_ERRFAIL: errors (`error`, `fail`) fail the build
 * @MBD_CHECK_MODE_WARNFAIL: warnings (`warn`, `no tests`) fail the build as well as errors
 *
 * How a package check (lintian, autopkgtest, piuparts) takes part in a build, as in
 * mini-buildd.
 */
typedef enum
{
  MBD_CHECK_MODE_DISABLED,
  MBD_CHECK_MODE_IGNORE,
  MBD_CHECK_MODE_ERRFAIL,
  MBD_CHECK_MODE_WARNFAIL,
} MbdCheckMode;

MBD_AVAILABLE_IN_ALL
const char *mbd_build_state_to_string (MbdBuildState state);
MBD_AVAILABLE_IN_ALL
gboolean mbd_build_state_is_final (MbdBuildState state);
MBD_AVAILABLE_IN_ALL
const char *mbd_check_mode_to_string (MbdCheckMode mode);
MBD_AVAILABLE_IN_ALL
gboolean mbd_check_mode_from_string (const char *name, MbdCheckMode *out_mode, GError **error);
MBD_AVAILABLE_IN_ALL
char **mbd_build_list_snippets (void);

#define MBD_TYPE_BUILD_REQUEST (mbd_build_request_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdBuildRequest, mbd_build_request, MBD, BUILD_REQUEST, GObject)

MBD_AVAILABLE_IN_ALL
MbdBuildRequest *mbd_build_request_new_from_dsc (const char *dsc_path,
                                                 const char *codename,
                                                 const char *architecture,
                                                 GError **error);

MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_key (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_source (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_version (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_codename (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_architecture (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_dsc_path (MbdBuildRequest *self);

MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_distribution (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_distribution (MbdBuildRequest *self, const char *distribution);
MBD_AVAILABLE_IN_ALL
gboolean mbd_build_request_get_arch_all (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_arch_all (MbdBuildRequest *self, gboolean arch_all);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_base_source (MbdBuildRequest *self,
                                        const char *apt_line,
                                        const char *keyring_file);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_add_extra_source (MbdBuildRequest *self,
                                         const char *apt_line,
                                         int priority,
                                         const char *keyring_file);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_add_internal_source (MbdBuildRequest *self, const char *apt_line);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_internal_key_file (MbdBuildRequest *self, const char *key_file);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_internal_priority (MbdBuildRequest *self, int priority);
MBD_AVAILABLE_IN_ALL
MbdCheckMode mbd_build_request_get_lintian_mode (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_lintian_mode (MbdBuildRequest *self, MbdCheckMode mode);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_autopkgtest_mode (MbdBuildRequest *self, MbdCheckMode mode);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_piuparts_mode (MbdBuildRequest *self, MbdCheckMode mode);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_deb_build_options (MbdBuildRequest *self, const char *options);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_deb_build_profiles (MbdBuildRequest *self, const char *profiles);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_add_depends (MbdBuildRequest *self, const char *const *depends);
MBD_AVAILABLE_IN_ALL
void mbd_build_request_set_build_dep_resolver (MbdBuildRequest *self, const char *resolver);
MBD_AVAILABLE_IN_ALL
gboolean
mbd_build_request_set_snippets (MbdBuildRequest *self, const char *const *names, GError **error);

MBD_AVAILABLE_IN_ALL
MbdBuildState mbd_build_request_get_state (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_build_dir (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_log_path (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_summary (MbdBuildRequest *self, const char *field);
MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_failure (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_log_tail (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_build_request_get_changes_path (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
char **mbd_build_request_dup_result_files (MbdBuildRequest *self);
MBD_AVAILABLE_IN_ALL
char *mbd_build_request_to_json (MbdBuildRequest *self);

G_END_DECLS
