# SPDX-License-Identifier: LGPL-2.1-or-later
"""mini-buildd's own event client follows a real build through mbd-server (issue 6, suite
e2e; root, sbuild, the cached bookworm chroot of chrootcache.py): mini-buildd-events (from
mini-buildd-utils, .ci/install-mini-buildd-utils) is started against the server, an unsigned
upload goes in with Debian's dput, and the client prints PACKAGING, BUILDING, BUILT and INSTALLED
of that package and exits on INSTALLED (-E), failing on FAILED or REJECTED (-F)."""

import datetime
import json
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "frontends"))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from mbdtestlib import Server  # noqa: E402
from test_upload import UploadTestCase, make_upload  # noqa: E402

EVENTS = shutil.which("mini-buildd-events")


def printed_events(text):
    """The events mini-buildd-events printed (pretty JSON objects one after the other)."""
    decoder = json.JSONDecoder()
    found, pos = [], 0
    text = text.strip()
    while pos < len(text):
        event, end = decoder.raw_decode(text, pos)
        found.append(event)
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return found


class TestApiEvents(UploadTestCase):
    def test_events_follow_a_build(self):
        if EVENTS is None:
            raise AssertionError("mini-buildd-events missing: run .ci/install-mini-buildd-utils")
        server = Server(self.home)
        try:
            env = dict(os.environ, HOME=self.tmp, PYTHONWARNINGS="ignore")
            # the client may attach after the first events: it asks for those after the start
            # (mini-buildd's -A, a time with zone; the server replays them)
            start = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            follower = subprocess.Popen(
                ["/usr/bin/python3", EVENTS, server.base, "-A", start, "-S", "mbd-api-ev",
                 "-E", "INSTALLED", "-F", "FAILED", "REJECTED"], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, env=env)
            self.procs.append(follower)
            version = self.version(1)
            self.dput(server, make_upload(self.work, "mbd-api-ev", version), "-u")
            out, err = follower.communicate(timeout=900)
            self.assertEqual(follower.returncode, 0, out + err)
            events = printed_events(out)
            self.assertEqual([e["type"] for e in events],
                             ["PACKAGING", "BUILDING", "BUILT", "INSTALLED"], out)
            for event in events:
                self.assertEqual((event["source"], event["version"]), ("mbd-api-ev", version))
                self.assertEqual(sorted(event), ["distribution", "extra", "source", "timestamp",
                                                 "type", "version"])
        finally:
            code, err = server.stop()
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
