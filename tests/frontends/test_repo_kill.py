# SPDX-License-Identifier: LGPL-2.1-or-later
"""Acceptance of the repository (issue 3, point 2): the publisher is killed with SIGKILL at
random points of include, migrate and remove. After EVERY kill, apt-get update against the
file:// tree succeeds without a warning (the published tree is never half-written), and
`mbd repo check` passes straight away (a publish cut short leaves its distribution pending,
which apt reads consistently through by-hash; the check verifies exactly that). At the end
`mbd repo publish` completes what the last kill left pending, the check passes again, and every
package whose include returned 0 is listed by `mbd ls` and installs with apt.

Bounded: up to KILLS rounds (40; MBD_KILL_ROUNDS), each kill after a random delay between 0 and
1.3 times what an include takes here (so that some operations complete and most are cut
somewhere inside); the rounds stop after BUDGET_SECONDS (at least MIN_ROUNDS run), which keeps
the test under three minutes on an idle machine. MBD_KILL_SEED repeats a run."""

import collections
import concurrent.futures
import os
import random
import signal
import subprocess
import time

from mbdtestlib import MBD
from repotestlib import REPO_ID, RepoTestCase, main

KILLS = int(os.environ.get("MBD_KILL_ROUNDS", "40"))
MAX_DELAY = 2.0
# the rounds stop early (after at least MIN_ROUNDS) when they have used this much time, so a
# loaded machine makes the test shorter, not failed
BUDGET_SECONDS = int(os.environ.get("MBD_KILL_BUDGET", "120"))
MIN_ROUNDS = 10


class KillTest(RepoTestCase):
    def start(self, *args):
        return subprocess.Popen([MBD, "--home", self.home, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def killed_run(self, rng, *args):
        """Runs mbd @args and SIGKILLs it after a random delay unless it finished before.
        Returns (exit code or None when killed, stderr)."""
        proc = self.start(*args)
        time.sleep(rng.uniform(0, self.max_delay))
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        return (None if killed else proc.returncode), err

    def check_consistent(self, root, what):
        t0 = time.monotonic()
        root.update()
        t1 = time.monotonic()
        check = self.mbd("repo", "check", REPO_ID, check=False)
        self.timings["apt-get update"] += t1 - t0
        self.timings["repo check"] += time.monotonic() - t1
        self.assertEqual(check.returncode, 0, f"after {what}: {check.stdout}{check.stderr}")

    def test_sigkill_during_publishes(self):
        seed = int(os.environ.get("MBD_KILL_SEED", str(int(time.time()))))
        rng = random.Random(seed)
        started = time.monotonic()
        self.timings = collections.Counter()
        unstable = self.dist("unstable")

        # one package that is migrated and removed over and over, and one new package per round;
        # the delays spread over what one include takes (at most MAX_DELAY), so that the kills
        # land inside the work rather than after it. The first include publishes every suite,
        # so the second one is timed.
        changes, _, _ = self.factory.package_set("moving", self.version("1.0"), unstable)
        self.include(unstable, changes)
        changes, _, _ = self.factory.package_set("timing", self.version("1.0"), unstable)
        t0 = time.monotonic()
        self.include(unstable, changes)
        self.max_delay = min(MAX_DELAY, 1.3 * (time.monotonic() - t0))
        # sources (dpkg-source is the slow part) in every fourth round, binaries only otherwise;
        # built in parallel before the rounds
        def build(i):
            name, version = f"k{i:02d}", self.version("1.0")
            if i % 4 == 0:
                changes, _, _ = self.factory.package_set(name, version, unstable,
                                                         arch_all=(i % 8 == 0))
            else:
                debs = [self.factory.deb(name, version, outdir=os.path.join(
                    self.factory.out, f"{name}_{version}"))]
                changes = self.factory.changes(unstable, debs=debs)
            return name, version, changes
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            uploads = list(pool.map(build, range(KILLS)))
        self.timings["build"] = time.monotonic() - started
        root = self.apt_for("kill", self.file_base(), "--suite", "unstable", "--type", "deb")
        included, killed = [], 0
        rounds_started = time.monotonic()
        rounds = 0
        for i, (package, version, changes) in enumerate(uploads):
            if i >= MIN_ROUNDS and time.monotonic() - rounds_started > BUDGET_SECONDS:
                break
            rounds += 1
            operations = [("include", unstable, changes)]
            if i % 3 == 1:
                operations.append(("migrate", "moving", unstable))
            if i % 5 == 4:
                operations.append(("remove", "moving", self.dist("testing")))
            for args in operations:
                t0 = time.monotonic()
                code, err = self.killed_run(rng, *args)
                self.timings["mbd " + args[0]] += time.monotonic() - t0
                what = f"round {i} (seed {seed}): {' '.join(args[:2])} " + (
                    "killed" if code is None else f"exit {code}")
                if code is None:
                    killed += 1
                elif args[0] == "include":
                    self.assertEqual(code, 0, f"{what}: {err}")
                if args[0] == "include" and code == 0:
                    included.append((package, version))
                self.check_consistent(root, what)

        # completing what the last kill left pending leaves a tree that is fully up to date
        self.mbd("repo", "publish", REPO_ID)
        check = self.mbd("repo", "check", REPO_ID, check=False)
        self.assertEqual(check.returncode, 0, f"after the final publish: {check.stdout}{check.stderr}")

        # every include that returned 0 is there, and installs
        for package, version in included:
            listed = self.ls(package)
            self.assertEqual(listed[REPO_ID][unstable]["version"], version,
                             f"{package} (seed {seed})")
        if included:
            root.update()
            names = [p for p, _ in included[:5]]
            root.install(*names)
            for package, version in included[:5]:
                self.assertEqual(root.installed_version(package), version)
        # the kills hit something: a run where every command finished first proves nothing
        self.assertGreater(killed, rounds // 4, f"only {killed} commands were killed (seed {seed}, "
                           f"delays up to {self.max_delay:.3f} s)")
        print(f"seed {seed}: {rounds} rounds, {killed} kills, {len(included)} includes completed, "
              f"seconds spent: "
              f"{ {k: round(v, 1) for k, v in self.timings.items()} }", flush=True)


if __name__ == "__main__":
    main()
