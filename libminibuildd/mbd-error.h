/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__LIBMINIBUILDD_INSIDE__) && !defined(MBD_COMPILATION)
#error "Only <libminibuildd/libminibuildd.h> can be included directly."
#endif

#include <glib.h>
#include <libminibuildd/mbd-version-macros.h>

G_BEGIN_DECLS

/**
 * MBD_ERROR:
 *
 * The error domain of libminibuildd; see [error@Mbd.Error] for its codes.
 */
#define MBD_ERROR (mbd_error_quark ())

/**
 * MbdError:
 * @MBD_ERROR_FAILED: a failure that no other code describes
 * @MBD_ERROR_NOT_FOUND: the named object, file or field does not exist
 * @MBD_ERROR_EXISTS: the object to create exists already
 * @MBD_ERROR_INVALID_ARGUMENT: an argument is out of range or malformed
 * @MBD_ERROR_PARSE: control data (deb822, .dsc, .changes, .deb) is malformed; the message names
 *   the input and the line
 * @MBD_ERROR_DUPLICATE_FIELD: a field occurs twice in one control paragraph
 * @MBD_ERROR_MISSING_FIELD: a mandatory field is missing from control data
 * @MBD_ERROR_INVALID_VERSION: a Debian version string does not follow Debian policy
 * @MBD_ERROR_UNSAFE_FILENAME: a file name has a path component or characters not allowed
 * @MBD_ERROR_MISSING_FILE: a file listed in a .dsc or .changes is not present
 * @MBD_ERROR_SIZE_MISMATCH: a listed file has another size than the control data says
 * @MBD_ERROR_CHECKSUM_MISMATCH: a listed file has another checksum than the control data says
 * @MBD_ERROR_UNSIGNED: data that must be OpenPGP signed carries no signature
 * @MBD_ERROR_BAD_SIGNATURE: the OpenPGP signature does not match the data
 * @MBD_ERROR_UNKNOWN_SIGNER: the signing key is not in the keyring used for verification
 * @MBD_ERROR_KEY_EXPIRED: the signing key (or the signature) has expired
 * @MBD_ERROR_KEY_REVOKED: the signing key has been revoked
 * @MBD_ERROR_GPG: GnuPG (gpgme) failed for another reason
 * @MBD_ERROR_UNSUPPORTED: the input uses a format or compression this version does not support
 * @MBD_ERROR_DATABASE: the instance database failed
 * @MBD_ERROR_SCHEMA_TOO_NEW: the instance database was written by a newer libminibuildd
 * @MBD_ERROR_BUSY: the resource is locked by another process; retry later
 * @MBD_ERROR_REJECTED: an upload was refused by a package check
 * @MBD_ERROR_BUILD_FAILED: a package build failed
 * @MBD_ERROR_UNREACHABLE: a remote server (such as an archive mirror) cannot be reached: the
 *   connection was refused, the name did not resolve, or no answer came within the timeout; the
 *   message names the URL and the time waited
 * @MBD_ERROR_EXPIRED: signed data is past its validity date (such as a Release file whose
 *   `Valid-Until` has passed); for an expired key or signature see %MBD_ERROR_KEY_EXPIRED
 * @MBD_ERROR_TOO_LARGE: a file or an upload exceeds a configured size limit; the message names
 *   the file and the limit
 * @MBD_ERROR_PERMISSION_DENIED: the credentials (user name and password, session or token) are
 *   wrong, or the user is inactive or lacks the level the operation needs
 *
 * Error codes in the %MBD_ERROR domain. Each names a condition a caller can act on; the
 * message says which input was wrong and how.
 */
typedef enum
{
  MBD_ERROR_FAILED,
  MBD_ERROR_NOT_FOUND,
  MBD_ERROR_EXISTS,
  MBD_ERROR_INVALID_ARGUMENT,
  MBD_ERROR_PARSE,
  MBD_ERROR_DUPLICATE_FIELD,
  MBD_ERROR_MISSING_FIELD,
  MBD_ERROR_INVALID_VERSION,
  MBD_ERROR_UNSAFE_FILENAME,
  MBD_ERROR_MISSING_FILE,
  MBD_ERROR_SIZE_MISMATCH,
  MBD_ERROR_CHECKSUM_MISMATCH,
  MBD_ERROR_UNSIGNED,
  MBD_ERROR_BAD_SIGNATURE,
  MBD_ERROR_UNKNOWN_SIGNER,
  MBD_ERROR_KEY_EXPIRED,
  MBD_ERROR_KEY_REVOKED,
  MBD_ERROR_GPG,
  MBD_ERROR_UNSUPPORTED,
  MBD_ERROR_DATABASE,
  MBD_ERROR_SCHEMA_TOO_NEW,
  MBD_ERROR_BUSY,
  MBD_ERROR_REJECTED,
  MBD_ERROR_BUILD_FAILED,
  MBD_ERROR_UNREACHABLE,
  MBD_ERROR_EXPIRED,
  MBD_ERROR_TOO_LARGE,
  MBD_ERROR_PERMISSION_DENIED,
} MbdError;

MBD_AVAILABLE_IN_ALL
GQuark mbd_error_quark (void);

G_END_DECLS
