/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libminibuildd/mbd-version-macros.h>
#include <libminibuildd/mbd-event.h>
#include <libminibuildd/mbd-instance.h>

G_BEGIN_DECLS

/**
 * MBD_MAIL_DEFAULT_EVENTS:
 *
 * The event types that send mail unless the `events` mail setting says otherwise: the outcomes
 * a person acts on, not the progress (BUILDING, BUILT, PACKAGING) that mini-buildd's users
 * complained about getting.
 */
#define MBD_MAIL_DEFAULT_EVENTS "INSTALLED,FAILED,REJECTED,MIGRATED,REMOVED"

/**
 * MBD_MAIL_DEFAULT_SENDMAIL:
 *
 * The program that sends the mail unless the `sendmail` mail setting names another one; it is
 * run as `SENDMAIL -t -oi` with the message on its standard input.
 */
#define MBD_MAIL_DEFAULT_SENDMAIL "/usr/sbin/sendmail"

MBD_AVAILABLE_IN_ALL
char **mbd_mail_setting_names (gboolean for_repository);
MBD_AVAILABLE_IN_ALL
char *mbd_instance_dup_mail_setting (MbdInstance *self,
                                     const char *repository,
                                     const char *name,
                                     GError **error);
MBD_AVAILABLE_IN_ALL
gboolean mbd_instance_set_mail_setting (MbdInstance *self,
                                        const char *repository,
                                        const char *name,
                                        const char *value,
                                        GError **error);
MBD_AVAILABLE_IN_ALL
char **mbd_instance_list_mail_recipients (MbdInstance *self, MbdEvent *event, GError **error);

G_END_DECLS
