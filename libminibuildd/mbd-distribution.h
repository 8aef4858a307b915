/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <glib-object.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

#define MBD_TYPE_DISTRIBUTION (mbd_distribution_get_type ())
MBD_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MbdDistribution, mbd_distribution, MBD, DISTRIBUTION, GObject)

MBD_AVAILABLE_IN_ALL
MbdDistribution *
mbd_distribution_new (const char *codename, const char *const *architectures, GError **error);
MBD_AVAILABLE_IN_ALL
MbdDistribution *mbd_distribution_new_from_spec (const char *spec, GError **error);
MBD_AVAILABLE_IN_ALL
const char *mbd_distribution_get_codename (MbdDistribution *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_distribution_get_codeversion (MbdDistribution *self);
MBD_AVAILABLE_IN_ALL
void mbd_distribution_set_codeversion (MbdDistribution *self, const char *codeversion);
MBD_AVAILABLE_IN_ALL
const char *const *mbd_distribution_get_components (MbdDistribution *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_distribution_set_components (MbdDistribution *self,
                                          const char *const *components,
                                          GError **error);
MBD_AVAILABLE_IN_ALL
const char *const *mbd_distribution_get_architectures (MbdDistribution *self);
MBD_AVAILABLE_IN_ALL
const char *mbd_distribution_get_arch_all_architecture (MbdDistribution *self);
MBD_AVAILABLE_IN_ALL
gboolean mbd_distribution_is_optional_architecture (MbdDistribution *self,
                                                    const char *architecture);
MBD_AVAILABLE_IN_ALL
gboolean mbd_distribution_set_optional_architectures (MbdDistribution *self,
                                                      const char *const *optional,
                                                      GError **error);
MBD_AVAILABLE_IN_ALL
char *mbd_distribution_to_spec (MbdDistribution *self);

MBD_AVAILABLE_IN_ALL
char *mbd_codename_guess_codeversion (const char *codename);

MBD_AVAILABLE_IN_ALL
gboolean mbd_distribution_string_parse (const char *distribution,
                                        char **out_codename,
                                        char **out_repository,
                                        char **out_suite,
                                        int *out_rollback,
                                        GError **error);
MBD_AVAILABLE_IN_ALL
char *mbd_distribution_string_format (const char *codename,
                                      const char *repository,
                                      const char *suite,
                                      int rollback);

G_END_DECLS
