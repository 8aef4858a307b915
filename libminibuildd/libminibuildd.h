/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define __LIBMINIBUILDD_INSIDE__

#include <libminibuildd/mbd-version-macros.h>
#include <libminibuildd/mbd-version.h>
#include <libminibuildd/mbd-enums.h>
#include <libminibuildd/mbd-error.h>
#include <libminibuildd/mbd-control.h>
#include <libminibuildd/mbd-deb-version.h>
#include <libminibuildd/mbd-file-entry.h>
#include <libminibuildd/mbd-dsc.h>
#include <libminibuildd/mbd-changes.h>
#include <libminibuildd/mbd-deb.h>
#include <libminibuildd/mbd-gnupg.h>
#include <libminibuildd/mbd-status.h>
#include <libminibuildd/mbd-instance.h>
#include <libminibuildd/mbd-source.h>
#include <libminibuildd/mbd-setup.h>
#include <libminibuildd/mbd-layout.h>
#include <libminibuildd/mbd-distribution.h>
#include <libminibuildd/mbd-repository.h>
#include <libminibuildd/mbd-chroot.h>
#include <libminibuildd/mbd-build-request.h>
#include <libminibuildd/mbd-builder.h>
#include <libminibuildd/mbd-event.h>
#include <libminibuildd/mbd-notify.h>
#include <libminibuildd/mbd-packager.h>
#include <libminibuildd/mbd-port.h>
#include <libminibuildd/mbd-incoming.h>
#include <libminibuildd/mbd-keyring-package.h>
#include <libminibuildd/mbd-users.h>
#include <libminibuildd/mbd-remote.h>
#include <libminibuildd/mbd-debmirror.h>
#include <libminibuildd/mbd-cron.h>

#undef __LIBMINIBUILDD_INSIDE__
