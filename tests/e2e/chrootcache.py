# SPDX-License-Identifier: LGPL-2.1-or-later
"""A bookworm chroot tarball shared by the e2e tests of one build directory.

Creating a chroot costs one to two minutes, so the e2e tests make it once per build directory
($MBD_E2E_CACHE, set by tests/meson.build to <build>/e2e-cache) and copy it into their own
instance homes with `mbd chroot create CODENAME --from TARBALL`. A file lock makes concurrent
tests wait for the one that creates it.
"""

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time

CACHE = os.environ.get("MBD_E2E_CACHE") or os.path.join(tempfile.gettempdir(), "mbd-e2e-cache")


def tarball_path(codename="bookworm", arch="amd64"):
    return os.path.join(CACHE, f"{codename}-{arch}.tar.zst")


@contextlib.contextmanager
def locked():
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def publish(source, codename="bookworm", arch="amd64"):
    """Puts a created chroot tarball into the cache (atomically); the caller holds locked()."""
    target = tarball_path(codename, arch)
    tmp = target + ".tmp"
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def chroot_tarball(codename="bookworm", arch="amd64"):
    """The cached tarball, created with the mbd CLI ($MBD) in a scratch home when missing."""
    with locked():
        target = tarball_path(codename, arch)
        if os.path.exists(target):
            return target
        mbd = os.environ["MBD"]
        scratch = tempfile.mkdtemp(prefix="mbdc-", dir="/tmp")
        os.chmod(scratch, 0o755)  # as root, sbuild's unshare mode reads the tarball as mbdbuild
        home = os.path.join(scratch, "home")
        try:
            subprocess.run([mbd, "--home", home, "init"], check=True, capture_output=True)
            start = time.monotonic()
            subprocess.run([mbd, "--home", home, "chroot", "create", codename, "--arch", arch],
                           check=True, capture_output=True, timeout=1800)
            print(f"chrootcache: created {codename}/{arch} in {time.monotonic() - start:.1f} s")
            publish(os.path.join(home, "chroots", codename, arch, "chroot.tar.zst"), codename, arch)
        finally:
            subprocess.run(["gpgconf", "--homedir", os.path.join(home, "gnupg"), "--kill",
                            "gpg-agent"], capture_output=True)
            shutil.rmtree(scratch, ignore_errors=True)
        return target
