# SPDX-License-Identifier: LGPL-2.1-or-later
"""apt as a real client of a repository, in a throw-away root: its own configuration
(APT_CONFIG, so nothing of the host's apt configuration applies), its own sources.list whose
entries name the repository key with signed-by= (never trusted=yes, never allow-insecure), and a
dpkg database and installation root of its own (dpkg --root with --force-not-root and
--force-script-chrootless), so packages really get installed, but not into the real system.

Every apt run fails the test on any 'W:' or 'E:' line or a non-zero exit."""

import os
import pwd
import re
import shutil
import subprocess

from pkgfixtures import native_arch

APT_TIMEOUT = 120


class AptError(AssertionError):
    pass


def readable_by_apt(path):
    """apt's download methods run as _apt; make @path and every directory above it
    traversable (o+x), and @path readable, so that file:// sources and signed-by keys work
    without 'unsandboxed' warnings."""
    path = os.path.abspath(path)
    while True:
        mode = os.stat(path).st_mode
        os.chmod(path, mode | 0o005 if os.path.isdir(path) else mode | 0o004)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent


def make_tree_readable(top):
    """Every directory below @top traversable and every file readable by others (a published
    repository tree, for file:// sources)."""
    readable_by_apt(top)
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames:
            p = os.path.join(dirpath, name)
            os.chmod(p, os.stat(p).st_mode | 0o005)
        for name in filenames:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | 0o004)


def export_key(gnupghome, dest, fingerprint=None):
    """Exports the public key(s) of @gnupghome (binary OpenPGP) to @dest for signed-by=."""
    argv = ["gpg", "--homedir", gnupghome, "--batch", "--export"]
    if fingerprint:
        argv.append(fingerprint)
    proc = subprocess.run(argv, capture_output=True, timeout=60)
    if proc.returncode != 0 or not proc.stdout:
        raise AssertionError(f"{argv} exported nothing: {proc.stderr.decode(errors='replace')}")
    with open(dest, "wb") as f:
        f.write(proc.stdout)
    os.chmod(dest, 0o644)
    return dest


class AptRoot:
    """A throw-away apt + dpkg root below @path."""

    def __init__(self, path, arch=None):
        self.path = os.path.abspath(path)
        self.arch = arch or native_arch()
        for d in ("etc/apt/sources.list.d", "etc/apt/apt.conf.d", "etc/apt/preferences.d",
                  "etc/apt/trusted.gpg.d", "etc/apt/keyrings", "var/lib/apt/lists/partial",
                  "var/cache/apt/archives/partial", "var/lib/dpkg/info", "var/lib/dpkg/updates",
                  "var/lib/dpkg/triggers", "var/log/apt", "src"):
            os.makedirs(os.path.join(self.path, d), exist_ok=True)
        open(os.path.join(self.path, "var/lib/dpkg/status"), "a").close()
        self.config = os.path.join(self.path, "etc/apt/apt.conf")
        r = self.path
        with open(self.config, "w") as f:
            f.write(f'''Dir "{r}/";
Dir::State::status "{r}/var/lib/dpkg/status";
Dir::Bin::Methods "/usr/lib/apt/methods";
Dir::Bin::dpkg "/usr/bin/dpkg";
APT::Architecture "{self.arch}";
APT::Architectures {{ "{self.arch}"; }};
APT::Install-Recommends "false";
Acquire::Languages "none";
Acquire::http::Proxy::127.0.0.1 "DIRECT";
Acquire::Retries "0";
DPkg::Options {{ "--root={r}"; "--force-not-root"; "--force-script-chrootless";
                 "--log={r}/var/log/dpkg.log"; }};
''')
        self.sources = os.path.join(self.path, "etc/apt/sources.list")
        open(self.sources, "w").close()
        readable_by_apt(self.path)
        for d in ("etc/apt", "etc/apt/keyrings", "src"):
            os.chmod(os.path.join(self.path, d), 0o755)
        # apt-get source downloads as _apt into the current directory
        if os.getuid() == 0:
            apt_user = pwd.getpwnam("_apt")
            os.chown(os.path.join(self.path, "src"), apt_user.pw_uid, apt_user.pw_gid)

    # -- configuration ----------------------------------------------------------------------

    def add_key(self, key_file, name="repository.gpg"):
        """Copies a key into the root (readable by _apt) and returns its path for signed-by=."""
        dest = os.path.join(self.path, "etc/apt/keyrings", name)
        shutil.copyfile(key_file, dest)
        os.chmod(dest, 0o644)
        return dest

    def set_sources(self, lines):
        """One-line-style entries; each must carry signed-by= (checked here)."""
        for line in lines:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if "signed-by=" not in line:
                raise AssertionError(f"source without signed-by=: {line}")
            if re.search(r"trusted=|allow-insecure|allow-weak|allow-downgrade", line):
                raise AssertionError(f"source weakens signature checks: {line}")
        with open(self.sources, "w") as f:
            f.write("".join(line.rstrip("\n") + "\n" for line in lines))

    def set_preferences(self, text):
        with open(os.path.join(self.path, "etc/apt/preferences.d/mbd"), "w") as f:
            f.write(text)

    # -- running ----------------------------------------------------------------------------

    def run(self, *argv, cwd=None, check=True):
        """Runs an apt tool with this root's configuration; with @check, fails on a non-zero
        exit or any W:/E: line. Returns the CompletedProcess (stdout and stderr merged)."""
        env = dict(os.environ, APT_CONFIG=self.config, LC_ALL="C.UTF-8",
                   DEBIAN_FRONTEND="noninteractive")
        for name in ("http_proxy", "HTTP_PROXY", "no_proxy"):
            env.pop(name, None)
        proc = subprocess.run(list(argv), cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=APT_TIMEOUT)
        if check:
            bad = [line for line in proc.stdout.splitlines() if re.match(r"^(W|E):", line)]
            if proc.returncode != 0 or bad:
                raise AptError(f"{' '.join(argv)} exited {proc.returncode}"
                               f"{' with ' + repr(bad) if bad else ''}:\n{proc.stdout}")
        return proc

    def update(self):
        return self.run("apt-get", "update", "--error-on=any").stdout

    def install(self, *packages):
        return self.run("apt-get", "install", "-y", *packages).stdout

    def remove(self, *packages):
        return self.run("apt-get", "purge", "-y", *packages).stdout

    def source(self, spec, download_only=False):
        """apt-get source @spec into a fresh directory below <root>/src; apt checks the files
        against the signed Sources index and dpkg-source -x against the .dsc. Returns the
        directory."""
        dest = os.path.join(self.path, "src", re.sub(r"[^A-Za-z0-9.+~-]", "_", spec))
        os.makedirs(dest)
        if os.getuid() == 0:
            apt_user = pwd.getpwnam("_apt")
            os.chown(dest, apt_user.pw_uid, apt_user.pw_gid)
        argv = ["apt-get", "source"] + (["--download-only"] if download_only else []) + [spec]
        self.run(*argv, cwd=dest)
        return dest

    # -- inspection -------------------------------------------------------------------------

    def installed_version(self, package):
        proc = subprocess.run(["dpkg-query", f"--admindir={self.path}/var/lib/dpkg", "-W",
                               "-f", "${Status}|${Version}", package],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            return None
        status, _, version = proc.stdout.partition("|")
        return version if status == "install ok installed" else None

    def marker(self, package):
        """The content of /usr/share/doc/<package>/mbd-fixture in the root, or None."""
        try:
            with open(os.path.join(self.path, "usr/share/doc", package, "mbd-fixture")) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def policy(self, package):
        """apt-cache policy @package as {"installed", "candidate", "versions": {version:
        [(priority, source line)]}}."""
        out = self.run("apt-cache", "policy", package).stdout
        result = {"installed": None, "candidate": None, "versions": {}}
        current = None
        for line in out.splitlines():
            m = re.match(r"^\s+Installed: (.*)$", line)
            if m:
                result["installed"] = None if m.group(1) == "(none)" else m.group(1)
                continue
            m = re.match(r"^\s+Candidate: (.*)$", line)
            if m:
                result["candidate"] = None if m.group(1) == "(none)" else m.group(1)
                continue
            m = re.match(r"^\s+(?:\*\*\* )?(\S+) (-?\d+)$", line)
            if m and not line.startswith("        "):
                current = m.group(1)
                result["versions"][current] = []
                continue
            m = re.match(r"^\s+(-?\d+) (.+)$", line)
            if m and current is not None:
                result["versions"][current].append((int(m.group(1)), m.group(2).strip()))
        return result

    def candidate_origin(self, package):
        """The source line(s) apt would install @package's candidate from."""
        p = self.policy(package)
        return [line for _, line in p["versions"].get(p["candidate"], [])]
