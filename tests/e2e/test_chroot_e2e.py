# SPDX-License-Identifier: LGPL-2.1-or-later
"""e2e: a real bookworm amd64 chroot (unshare backend) from the machine's mirror: created with
progress, checked, a check against a stalled mirror that times out while the instance stays
usable, and removal without leftovers."""

import json
import os
import shutil
import socket
import stat
import subprocess
import threading
import time
import unittest

import chrootcache
from mbdtestlib import HomeTestCase, run_mbd

CODENAME = "bookworm"
ARCH = "amd64"


class StalledMirror:
    """A loopback HTTP 'mirror' that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
            except OSError:
                pass

    def stop(self):
        self.stopping = True
        self.thread.join()
        for conn in self.conns:
            conn.close()
        self.sock.close()


def processes_mentioning(text):
    """Pids of live processes whose command line contains text (zombies have none)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append((int(pid), cmdline))
    return found


def chroot_list(home):
    return json.loads(run_mbd("chroot", "ls", "--json", home=home).stdout)


@unittest.skipUnless(os.geteuid() == 0, "chroot checks enter the chroot and need root")
class ChrootLifecycle(HomeTestCase):
    def test_create_check_stall_remove(self):
        # The build user must reach the chroot, as in a daemon home like /var/lib/mbd.
        os.chmod(self.tmp, 0o711)
        run_mbd("init", home=self.home)
        chroot_dir = os.path.join(self.home, "chroots", CODENAME, ARCH)
        tarball = os.path.join(chroot_dir, "chroot.tar.zst")

        # 1. A real creation with mmdebstrap; progress lines go to stderr (no tty here).
        with chrootcache.locked():
            start = time.monotonic()
            proc = run_mbd("chroot", "create", CODENAME, "--arch", ARCH, home=self.home,
                           timeout=1800)
            seconds = time.monotonic() - start
            print(f"chroot create {CODENAME}/{ARCH}: {seconds:.1f} s, "
                  f"{os.path.getsize(tarball) / 1e6:.0f} MB")
            chrootcache.publish(tarball, CODENAME, ARCH)
        self.assertIn("[100%] Chroot created", proc.stderr)
        self.assertIn("I: installing remaining packages", proc.stderr)
        self.assertIn(f"Created chroot {CODENAME}/{ARCH} (unshare)", proc.stdout)
        self.assertEqual(stat.S_IMODE(os.stat(tarball).st_mode), 0o644)
        [entry] = chroot_list(self.home)
        self.assertEqual((entry["codename"], entry["architecture"], entry["backend"],
                          entry["state"], entry["path"]),
                         (CODENAME, ARCH, "unshare", "active", tarball))
        # As root, sbuild's unshare mode runs as the build user: it must reach the tarball.
        subprocess.run(["runuser", "-u", "mbdbuild", "--", "test", "-r", tarball], check=True)
        for user_file in ("/etc/subuid", "/etc/subgid"):
            with open(user_file) as f:
                self.assertIn("mbdbuild:", f.read())
        status = json.loads(run_mbd("status", "--json", home=self.home).stdout)
        self.assertIn(f"{CODENAME}:{ARCH}", status["chroots"])

        # 2. A check against the real mirror passes (nothing to upgrade in a fresh chroot).
        start = time.monotonic()
        proc = run_mbd("chroot", "check", CODENAME, home=self.home, timeout=900)
        print(f"chroot check: {time.monotonic() - start:.1f} s")
        self.assertIn("is active", proc.stdout)
        self.assertIn("apt-get update (attempt 1 of 3", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(chroot_dir, "check.tmp")))

        # 3. A stalled mirror: the check hits its total timeout, fails with a specific error,
        #    records it, and leaves no process, no work tree, and a usable instance.
        mirror = StalledMirror()
        try:
            url = f"http://127.0.0.1:{mirror.port}/debian"
            start = time.monotonic()
            proc = run_mbd("chroot", "check", CODENAME, "--mirror", url, "--timeout", "30",
                           home=self.home, check=False, timeout=300)
            seconds = time.monotonic() - start
            print(f"stalled check failed after {seconds:.1f} s")
        finally:
            mirror.stop()
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"apt-get update from {url} did not succeed", proc.stderr)
        self.assertIn("the mirror does not answer", proc.stderr)
        self.assertLess(seconds, 30 + 15)
        self.assertGreater(len(mirror.conns), 0, "apt never reached the stalled mirror")
        self.assertEqual(processes_mentioning(chroot_dir), [])
        self.assertFalse(os.path.exists(os.path.join(chroot_dir, "check.tmp")))
        [entry] = chroot_list(self.home)
        self.assertEqual(entry["state"], "failed")
        self.assertIn("does not answer", entry["message"])
        status = json.loads(run_mbd("status", "--json", home=self.home).stdout)
        self.assertNotIn(f"{CODENAME}:{ARCH}", status["chroots"])
        self.assertTrue(os.path.exists(tarball), "a failed check must keep the chroot")

        # 4. The build user's access is checked before the minutes of mmdebstrap are spent.
        os.chmod(self.tmp, 0o700)
        proc = run_mbd("chroot", "create", "trixie", "--arch", ARCH, home=self.home, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("The build user mbdbuild cannot reach", proc.stderr)
        self.assertNotIn("mmdebstrap", proc.stderr)
        run_mbd("chroot", "rm", "trixie", "--arch", ARCH, home=self.home)
        os.chmod(self.tmp, 0o711)

        # 5. Removal leaves nothing: no chroots/ entries, no row, no schroot config.
        run_mbd("chroot", "rm", CODENAME, "--arch", ARCH, home=self.home)
        self.assertEqual(os.listdir(os.path.join(self.home, "chroots")), [])
        self.assertEqual(chroot_list(self.home), [])
        chroot_d = "/etc/schroot/chroot.d"
        for name in os.listdir(chroot_d) if os.path.isdir(chroot_d) else []:
            with open(os.path.join(chroot_d, name)) as f:
                self.assertNotIn(self.home, f.read(), name)
        proc = run_mbd("chroot", "rm", CODENAME, "--arch", ARCH, home=self.home, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"No chroot {CODENAME}/{ARCH}", proc.stderr)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("schroot"),
                     "the schroot backend needs root and schroot")
class SchrootBackend(HomeTestCase):
    def test_schroot_from_cache(self):
        tarball = chrootcache.chroot_tarball(CODENAME, ARCH)
        os.chmod(self.tmp, 0o711)
        run_mbd("init", "--identity", "e2e", home=self.home)
        start = time.monotonic()
        run_mbd("chroot", "create", CODENAME, "--arch", ARCH, "--backend", "schroot",
                "--from", tarball, home=self.home, timeout=600)
        print(f"schroot chroot from the cached tarball: {time.monotonic() - start:.1f} s")
        name = f"mbd-e2e-{CODENAME}-{ARCH}"
        conf = f"/etc/schroot/chroot.d/{name}"
        try:
            self.assertTrue(os.path.exists(conf))
            [entry] = chroot_list(self.home)
            self.assertEqual((entry["backend"], entry["state"]), ("schroot", "active"))
            # schroot accepts the generated configuration, and the overlay keeps the tree clean.
            proc = subprocess.run(
                ["schroot", "-c", name, "-u", "root", "-d", "/", "--",
                 "sh", "-c", "cat /etc/debian_version && touch /mbd-overlay-probe"],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertRegex(proc.stdout, r"^12\.")
            self.assertFalse(os.path.exists(os.path.join(entry["path"], "mbd-overlay-probe")))
        finally:
            run_mbd("chroot", "rm", CODENAME, "--arch", ARCH, home=self.home)
        self.assertFalse(os.path.exists(conf))
        self.assertEqual(os.listdir(os.path.join(self.home, "chroots")), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
