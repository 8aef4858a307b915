# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the CLI and server tests: temporary homes, running mbd, a bounded mbd-server."""

import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import unittest
import http.cookiejar
import urllib.error
import urllib.parse
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
        self.home = home
        self.opener = urllib.request.build_opener(*self._handlers())

    def _handlers(self):
        """The https handler trusting the test CA, when the server speaks TLS."""
        return [urllib.request.HTTPSHandler(context=self.context)] if self.context else []

    def login(self, user="admin", password=None):
        """Logs in through /accounts/login/ as mini-buildd's client does (the csrftoken cookie of
        the form, POST with it, the redirect to next); later get() calls carry the session
        cookie. The default is the administrator the server made at its first start."""
        if password is None:
            with open(os.path.join(self.home, "admin-password")) as f:
                password = f.read().strip()
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                             *self._handlers())
        login_url = self.base + "/accounts/login/"
        next_url = self.base + "/accounts/null/"
        opener.open(login_url, timeout=30).read()
        csrf = [c.value for c in jar if c.name == "csrftoken"]
        opener.addheaders = [("Referer", login_url)]
        form = urllib.parse.urlencode({"username": user, "password": password,
                                       "csrfmiddlewaretoken": csrf[0] if csrf else "",
                                       "next": next_url}).encode()
        with opener.open(login_url, form, timeout=30) as response:
            response.read()
            if response.geturl() != next_url:
                raise AssertionError(f"login of {user} failed (ended at {response.geturl()})")
        self.opener = opener
        return jar

    def get(self, path):
        """Returns (status, content type, body bytes)."""
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read()

    def get_json(self, path):
        status, ctype, body = self.get(path)
        return status, ctype, json.loads(body)

    def fd_targets(self):
        """What the server's descriptors point at, without its database: worker threads open
        their own sqlite connection when they first need one, and it closes when the thread
        pool retires the thread, which may fall on either side of a test's baseline."""
        fd_dir = f"/proc/{self.proc.pid}/fd"
        targets = []
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except FileNotFoundError:
                continue
            if not re.search(r"/mbd\.sqlite(-wal|-shm|-journal)?$", target):
                targets.append(target)
        return sorted(targets)

    def open_fds(self):
        """How many descriptors fd_targets() sees."""
        return len(self.fd_targets())

    def stop(self):
        """SIGTERM; returns (exit code, stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("mbd-server did not exit within 30 s of SIGTERM")
        return self.proc.returncode, err
