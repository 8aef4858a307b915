# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the CLI and server tests: temporary homes, running mbd, a bounded mbd-server."""

import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

MBD = os.environ["MBD"]
MBD_SERVER = os.environ["MBD_SERVER"]


def run_mbd(*args, home=None, check=True, timeout=120):
    argv = [MBD]
    if home is not None:
        argv += ["--home", home]
    argv += list(args)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} exited {proc.returncode}: {proc.stderr}")
    return proc


def kill_agent(home):
    subprocess.run(["gpgconf", "--homedir", os.path.join(home, "gnupg"), "--kill", "gpg-agent"],
                   capture_output=True)


class HomeTestCase(unittest.TestCase):
    """Each test gets a fresh temporary directory (short path: gpg-agent socket limit)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mbdt-", dir="/tmp")
        self.home = os.path.join(self.tmp, "home")

    def tearDown(self):
        kill_agent(self.home)
        shutil.rmtree(self.tmp, ignore_errors=True)


class Server:
    """mbd-server on 127.0.0.1 with a free port, stopped with SIGTERM."""

    def __init__(self, home, extra_args=(), env=None, ca_file=None):
        """With @ca_file, the server is started with --tls-cert/--tls-key in @extra_args and
        is spoken to over https, trusting the CA certificate @ca_file."""
        self.port_file = os.path.join(os.path.dirname(home), "port")
        # a port file left by an earlier server of the same home is not this server's
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.proc = subprocess.Popen(
            [MBD_SERVER, "--home", home, "--address", "127.0.0.1", "--port", "0",
             "--port-file", self.port_file, *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 60
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                raise AssertionError("mbd-server exited early: " + self.proc.stderr.read())
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError("mbd-server did not write its port file in 60 s")
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.context = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self.base = f"{'https' if ca_file else 'http'}://127.0.0.1:{self.port}"

    def get(self, path):
        """Returns (status, content type, body bytes)."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=30,
                                        context=self.context) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read()

    def get_json(self, path):
        status, ctype, body = self.get(path)
        return status, ctype, json.loads(body)

    def stop(self):
        """SIGTERM; returns (exit code, stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("mbd-server did not exit within 30 s of SIGTERM")
        return self.proc.returncode, err
