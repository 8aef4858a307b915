# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real sbuild builds through `mbd build` (suite e2e; needs root, network to the machine's
Debian mirror, sbuild, mmdebstrap and uidmap).

1. `hello` from `apt-get source`, a generated Architecture: all package and a generated package
   whose build fails: .debs, .changes (signed) and .buildinfo with lintian run for the first
   two, failed with the log tail for the third.
2. Cancel during a build: within 5 s no process of it remains and no chroot session is left.
3. SIGKILL the `mbd build` process during a build; an engine start (mbd-server) adopts the
   interrupted build and completes it; the database keeps one build.

The bookworm chroot tarball is made once per build tree by `mbd chroot create` and shared with
the chroot tests (chrootcache.py, $MBD_E2E_CACHE); each test's instance gets it with
`mbd chroot create --from`."""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "frontends"))
sys.path.insert(0, HERE)
import chrootcache  # noqa: E402
from mbdtestlib import MBD, HomeTestCase, Server, kill_agent, run_mbd  # noqa: E402

CODENAME = "bookworm"
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                      check=True).stdout.strip()


def machine_mirror():
    """The Debian mirror URI of the machine's own apt sources (never written into the project)."""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path) as f:
            for line in f:
                m = re.match(r"^URIs:\s*(\S+)", line)
                if m and "security" not in m.group(1):
                    return m.group(1)
    if os.path.exists("/etc/apt/sources.list"):
        with open("/etc/apt/sources.list") as f:
            for line in f:
                m = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+\S+", line)
                if m and "security" not in m.group(1):
                    return m.group(1)
    raise AssertionError("no Debian mirror in the machine's apt sources")


def host_lintian_applies():
    """Whether mbd runs lintian on the host for bookworm builds here."""
    codename = ""
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                codename = line.split("=", 1)[1].strip().strip('"')
    return codename == CODENAME and shutil.which("lintian") is not None


def make_package(workdir, name, arch="any", build_command="true", build_depends="",
                 version="1.0", distribution="unstable", changelog_lines=""):
    """A native source package with a Makefile build step; returns its .dsc. @changelog_lines
    (such as MINI_BUILDD_OPTION lines) go into the changelog entry."""
    src = os.path.join(workdir, f"{name}-{version}")
    os.makedirs(os.path.join(src, "debian", "source"))
    with open(os.path.join(src, "Makefile"), "w") as f:
        f.write(f"all:\n\t{build_command}\ninstall:\n"
                f"\tinstall -D -m 0644 README $(DESTDIR)/usr/share/doc/{name}/README\n"
                "clean:\n\ttrue\n")
    with open(os.path.join(src, "README"), "w") as f:
        f.write("mbd test package\n")
    deps = "debhelper-compat (= 13)" + (", " + build_depends if build_depends else "")
    with open(os.path.join(src, "debian", "control"), "w") as f:
        f.write(f"Source: {name}\nSection: misc\nPriority: optional\n"
                "Maintainer: MBD Test <mbd-test@example.org>\n"
                f"Build-Depends: {deps}\nStandards-Version: 4.6.2\nRules-Requires-Root: no\n\n"
                f"Package: {name}\nArchitecture: {arch}\nDepends: ${{misc:Depends}}\n"
                "Description: test package for mbd builds\n"
                " A package that mbd's end-to-end tests build.\n")
    with open(os.path.join(src, "debian", "rules"), "w") as f:
        f.write("#!/usr/bin/make -f\n%:\n\tdh $@\n")
    os.chmod(os.path.join(src, "debian", "rules"), 0o755)
    with open(os.path.join(src, "debian", "copyright"), "w") as f:
        f.write("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
                f"Upstream-Name: {name}\n\nFiles: *\nCopyright: 2026 MBD Test\n"
                "License: GPL-2+\n This package is free software; see\n"
                " /usr/share/common-licenses/GPL-2.\n")
    with open(os.path.join(src, "debian", "source", "format"), "w") as f:
        f.write("3.0 (native)\n")
    with open(os.path.join(src, "debian", "changelog"), "w") as f:
        f.write(f"{name} ({version}) {distribution}; urgency=medium\n\n  * Initial release.\n"
                f"{changelog_lines}\n"
                " -- MBD Test <mbd-test@example.org>  Mon, 23 Nov 2026 10:00:00 +0000\n")
    subprocess.run(["dpkg-source", "-b", f"{name}-{version}"], cwd=workdir, check=True,
                   capture_output=True)
    return os.path.join(workdir, f"{name}_{version}.dsc")


def fetch_hello(workdir):
    """`apt-get source hello` through a throw-away apt configuration with the mirror's deb-src."""
    apt = os.path.join(workdir, "apt")
    for d in ("lists/partial", "cache/archives/partial", "etc/sources.list.d", "etc/preferences.d"):
        os.makedirs(os.path.join(apt, d), exist_ok=True)
    with open(os.path.join(apt, "etc/sources.list.d/src.sources"), "w") as f:
        f.write(f"Types: deb-src\nURIs: {machine_mirror()}\nSuites: {CODENAME}\n"
                "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    opts = ["-o", "Dir::Etc::sourcelist=/dev/null",
            "-o", f"Dir::Etc::sourceparts={apt}/etc/sources.list.d",
            "-o", f"Dir::Etc::preferencesparts={apt}/etc/preferences.d",
            "-o", f"Dir::State::Lists={apt}/lists", "-o", f"Dir::Cache={apt}/cache",
            "-o", "APT::Sandbox::User=root", "-q"]
    subprocess.run(["apt-get", *opts, "update"], check=True, capture_output=True, timeout=600)
    subprocess.run(["apt-get", *opts, "source", "--download-only", "hello"], cwd=workdir,
                   check=True, capture_output=True, timeout=600)
    dscs = glob.glob(os.path.join(workdir, "hello_*.dsc"))
    assert len(dscs) == 1, dscs
    return dscs[0]


def builds(home):
    return json.loads(run_mbd("build", "ls", "--json", home=home).stdout)


def group_processes(pgid):
    """Live (non-zombie) processes of process group @pgid."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry))
    return found


def processes_under(path):
    """Processes whose root or cwd lies under @path (a chroot session of a build)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        for link in ("root", "cwd"):
            try:
                target = os.readlink(f"/proc/{entry}/{link}")
            except OSError:
                continue
            if target.startswith(path):
                found.append((int(entry), link, target))
    return found


class BuildTestCase(HomeTestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("the build e2e tests run as root (sbuild as the build user)")
        cls.tarball = chrootcache.chroot_tarball(CODENAME, ARCH)

    def setUp(self):
        super().setUp()
        os.chmod(self.tmp, 0o755)
        run_mbd("init", "--identity", "e2e", "--key-type", "ed25519", home=self.home)
        run_mbd("chroot", "create", CODENAME, "--arch", ARCH, "--from", self.tarball,
                home=self.home, timeout=600)
        self.procs = []

    def tearDown(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        kill_agent(self.home)
        super().tearDown()

    def start_build(self, dsc, *args):
        proc = subprocess.Popen([MBD, "--home", self.home, "build", dsc, "--dist", CODENAME,
                                 *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        self.procs.append(proc)
        return proc

    def wait_building(self, source, stage_line, timeout=600):
        """Waits until the build of @source runs and its log has @stage_line; returns the build
        and the process group and work directory of its sbuild."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for build in builds(self.home):
                if build["source"] != source or build["state"] != "building":
                    continue
                try:
                    with open(build["log"]) as f:
                        log = f.read()
                except OSError:
                    continue
                m = re.search(r"^mbd: build \S+ in (\S+):", log, re.M)
                if m and stage_line in log:
                    with open(os.path.join(m.group(1), "sbuild.pgid")) as f:
                        return build, int(f.read()), m.group(1)
            time.sleep(0.5)
        raise AssertionError(f"the build of {source} did not reach '{stage_line}' in {timeout} s")


class TestBuilds(BuildTestCase):
    def test_hello_arch_all_and_failure(self):
        hello_dsc = fetch_hello(self.tmp)
        all_dsc = make_package(self.tmp, "mbd-e2e-all", arch="all")
        fail_dsc = make_package(self.tmp, "mbd-e2e-fail", build_command="false")

        start = time.monotonic()
        hello = self.start_build(hello_dsc, "--quiet")
        # lintian inside the session, as sbuild does it, for this one
        arch_all = self.start_build(all_dsc, "--arch-all", "--quiet", "--no-host-lintian")
        failing = self.start_build(fail_dsc, "--lintian-mode", "disabled")
        outputs = {}
        for name, proc in (("hello", hello), ("all", arch_all), ("fail", failing)):
            out, err = proc.communicate(timeout=1800)
            outputs[name] = (proc.returncode, out, err)
        print(f"# three builds in parallel took {time.monotonic() - start:.1f} s",
              file=sys.stderr)

        self.assertEqual(outputs["hello"][0], 0, outputs["hello"][2])
        self.assertEqual(outputs["all"][0], 0, outputs["all"][2])
        self.assertEqual(outputs["fail"][0], 1, outputs["fail"][2])
        # the failing build followed its log on stdout
        self.assertIn("dpkg-buildpackage", outputs["fail"][1])

        by_source = {b["source"]: b for b in builds(self.home)}
        self.assertEqual(len(by_source), 3)
        for source, deb_glob in (("hello", "hello_*_%s.deb" % ARCH),
                                 ("mbd-e2e-all", "mbd-e2e-all_1.0_all.deb")):
            build = by_source[source]
            self.assertEqual(build["state"], "built", build)
            self.assertEqual(build["summary"]["Status"], "successful")
            self.assertIn(build["summary"]["Lintian"], ("pass", "info", "warn"), build)
            names = [os.path.basename(f) for f in build["files"]]
            self.assertTrue(any(n.endswith(".changes") for n in names), names)
            self.assertTrue(any(n.endswith(".buildinfo") for n in names), names)
            self.assertTrue(glob.glob(os.path.join(build["build_dir"], deb_glob)), names)
            with open(build["changes"]) as f:
                self.assertTrue(f.read().startswith("-----BEGIN PGP SIGNED MESSAGE-----"))
            print(f"# {source}: Build-Time {build['summary'].get('Build-Time')} s",
                  file=sys.stderr)

        # where lintian ran: on the host for hello (bookworm host with lintian, as in CI), in
        # the session for the other
        with open(by_source["hello"]["log"]) as f:
            hello_log = f.read()
        with open(by_source["mbd-e2e-all"]["log"]) as f:
            all_log = f.read()
        self.assertIn("Running lintian...", all_log)
        self.assertNotIn("run by mbd on the host", all_log)
        if host_lintian_applies():
            self.assertIn("| Lintian (run by mbd on the host, after the build)", hello_log)
            self.assertIn("--no-run-lintian", hello_log)
            self.assertNotIn("Running lintian...", hello_log)
            self.assertRegex(hello_log, r"mbd: Lintian: (pass|info|warn)\n")
        else:
            self.assertIn("Running lintian...", hello_log)

        failed = by_source["mbd-e2e-fail"]
        self.assertEqual(failed["state"], "failed")
        self.assertEqual(failed["summary"]["Fail-Stage"], "build")
        self.assertIn("Status: attempted", failed["failure"])
        self.assertIn("dpkg-buildpackage", failed["log_tail"])
        self.assertIsNone(failed["changes"])

    def test_cancel_leaves_nothing(self):
        dsc = make_package(self.tmp, "mbd-e2e-slow", build_command="sleep 600")
        proc = self.start_build(dsc, "--lintian-mode", "disabled", "--quiet")
        build, pgid, workdir = self.wait_building("mbd-e2e-slow", "dh_auto_build")
        self.assertTrue(group_processes(pgid))
        self.assertTrue(glob.glob(os.path.join(workdir, "session.*")), "no unpacked chroot")

        start = time.monotonic()
        run_mbd("build", "cancel", build["key"], home=self.home)
        leftovers = None
        while time.monotonic() - start < float(os.environ.get("MBD_E2E_CANCEL_WAIT", "5")):
            leftovers = (group_processes(pgid), processes_under(workdir),
                         os.path.exists(workdir))
            if leftovers == ([], [], False):
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - start
        print(f"# cancel: nothing left after {elapsed:.1f} s", file=sys.stderr)
        if leftovers != ([], [], False):
            pids = [str(p) for p in leftovers[0]] + [str(p[0]) for p in leftovers[1]]
            ps = subprocess.run(["ps", "-o", "pid,pgid,sid,stat,user,cmd", "-p", ",".join(pids)],
                                capture_output=True, text=True).stdout if pids else ""
            self.fail(f"processes or chroot session left after {elapsed:.1f} s: "
                      f"{leftovers}\n{ps}")
        self.assertLess(elapsed, 5)

        proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 1)
        # the unpacked chroot, renamed away at once, is deleted before mbd exits
        self.assertFalse(os.path.exists(workdir + ".trash"))
        [after] = builds(self.home)
        self.assertEqual(after["state"], "cancelled")

    def test_sigkill_owner_then_requeue(self):
        dsc = make_package(self.tmp, "mbd-e2e-kill", build_command="sleep 15")
        proc = self.start_build(dsc, "--lintian-mode", "disabled", "--quiet")
        build, pgid, workdir = self.wait_building("mbd-e2e-kill", "dh_auto_build")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        [stale] = builds(self.home)
        self.assertEqual(stale["state"], "building")

        # the engine start adopts it: kills what is left, builds it again
        server = Server(self.home)
        try:
            deadline = time.monotonic() + 900
            state = None
            while time.monotonic() < deadline:
                rows = builds(self.home)
                self.assertEqual(len(rows), 1, rows)
                state = rows[0]["state"]
                if state in ("built", "failed", "cancelled"):
                    break
                time.sleep(1)
            self.assertFalse(group_processes(pgid), "the killed build's processes survived")
            self.assertFalse(os.path.exists(workdir))
        finally:
            code, err = server.stop()
        self.assertEqual(state, "built", rows)
        self.assertEqual(rows[0]["key"], build["key"])
        self.assertTrue(rows[0]["changes"])
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
