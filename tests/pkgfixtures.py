# SPDX-License-Identifier: LGPL-2.1-or-later
"""Small REAL Debian packages built at test time: binary .debs with dpkg-deb, source packages
with dpkg-source (3.0 native, 3.0 quilt with an orig tarball), .changes written with correct
checksums, optionally clear-signed with a key of a given GnuPG home.

Every binary package ships /usr/share/doc/<package>/mbd-fixture, whose content names the
package, version and architecture, so that an installation is observable.

Versions follow mini-buildd's layout rule (reference/mini-buildd-2.2.8.md 1.5): an upload to a
repository <id> for a base distribution with code version <cv> carries the suffix
`~<id><cv>+<n>` (n = 1 for the normal suites, 0 for experimental): see layout_version()."""

import datetime
import email.utils
import gzip
import hashlib
import io
import os
import subprocess
import tarfile

MAINTAINER = "MBD Test <mbd-test@example.org>"


def os_release():
    values = {}
    with open("/etc/os-release") as f:
        for line in f:
            key, sep, value = line.strip().partition("=")
            if sep:
                values[key] = value.strip('"')
    return values


def host_codename():
    """The machine's codename (bookworm), as `mbd repo create` defaults to."""
    return os_release()["VERSION_CODENAME"]


def host_codeversion():
    """mini-buildd's code version of the machine's release: the major version ("12")."""
    return os_release().get("VERSION_ID", "").split(".")[0]


def native_arch():
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()


def layout_version(base, repository, codeversion=None, n=1):
    """`base~<repository><codeversion>+<n>`: the version a package needs to be accepted into
    <codename>-<repository>-<suite> of mini-buildd's Default layout (n=0 for experimental).
    `layout_version("1.0", "test")` on bookworm is "1.0~test12+1"; with a Debian revision
    `layout_version("1.0-1", "test")` is "1.0-1~test12+1"."""
    if codeversion is None:
        codeversion = host_codeversion()
    return f"{base}~{repository}{codeversion}+{n}"


def _run(argv, cwd=None, env=None):
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"{argv} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def _digests(path):
    md5, sha1, sha256 = hashlib.md5(), hashlib.sha1(), hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            md5.update(block)
            sha1.update(block)
            sha256.update(block)
    return {"md5": md5.hexdigest(), "sha1": sha1.hexdigest(), "sha256": sha256.hexdigest(),
            "size": os.path.getsize(path)}


def _control_field(path, field):
    """A field of a .deb's control or a .dsc."""
    if path.endswith(".deb"):
        return _run(["dpkg-deb", "--field", path, field]).strip()
    with open(path) as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return None


class Deb:
    """A built binary package: path plus the fields tests check."""

    def __init__(self, path, package, version, arch, source, marker):
        self.path, self.package, self.version, self.arch = path, package, version, arch
        self.source, self.marker = source, marker
        self.filename = os.path.basename(path)

    def __repr__(self):
        return f"Deb({self.filename})"


class Source:
    """A built source package: the .dsc and the files it lists."""

    def __init__(self, dsc, files, package, version, format_):
        self.dsc, self.files, self.package, self.version = dsc, files, package, version
        self.format = format_
        self.filename = os.path.basename(dsc)

    def __repr__(self):
        return f"Source({self.filename})"


class PackageFactory:
    """Builds packages below @workdir; each built file lands in @workdir/out unless told
    otherwise."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.out = os.path.join(workdir, "out")
        os.makedirs(self.out, exist_ok=True)

    # -- binaries ---------------------------------------------------------------------------

    def deb(self, package, version, arch=None, source=None, source_version=None, depends=None,
            section="misc", priority="optional", extra="", outdir=None):
        """A binary package with /usr/share/doc/<package>/mbd-fixture. @arch defaults to the
        native architecture; "all" makes an arch-independent one. @extra changes the content
        (and so the checksums) without changing the name."""
        arch = arch or native_arch()
        source = source or package
        source_version = source_version or version
        outdir = outdir or self.out
        root = os.path.join(self.workdir, "debroot", f"{package}_{version}_{arch}")
        doc = os.path.join(root, "usr/share/doc", package)
        os.makedirs(doc, exist_ok=True)
        os.makedirs(os.path.join(root, "DEBIAN"), exist_ok=True)
        marker = f"{package} {version} {arch}\n{extra}"
        with open(os.path.join(doc, "mbd-fixture"), "w") as f:
            f.write(marker)
        fields = [
            ("Package", package),
            ("Version", version),
            ("Architecture", arch),
            ("Maintainer", MAINTAINER),
            ("Installed-Size", "1"),
        ]
        if source != package or source_version != version:
            fields.append(("Source", source if source_version == version
                           else f"{source} ({source_version})"))
        if depends:
            fields.append(("Depends", depends))
        fields += [("Section", section), ("Priority", priority),
                   ("Description", f"mbd test package {package}\n"
                                   f" Built by tests/pkgfixtures.py. {extra}".rstrip())]
        with open(os.path.join(root, "DEBIAN/control"), "w") as f:
            for name, value in fields:
                f.write(f"{name}: {value}\n")
        os.makedirs(outdir, exist_ok=True)
        path = os.path.join(outdir, f"{package}_{_noepoch(version)}_{arch}.deb")
        # fixed mtimes: the same input gives the same .deb
        env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
        _run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, path], env=env)
        return Deb(path, package, version, arch, source, marker)

    # -- sources ----------------------------------------------------------------------------

    def _debian_dir(self, tree, package, version, binaries, format_):
        debian = os.path.join(tree, "debian")
        os.makedirs(os.path.join(debian, "source"), exist_ok=True)
        with open(os.path.join(debian, "source/format"), "w") as f:
            f.write(f"3.0 ({format_})\n")
        date = email.utils.format_datetime(
            datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
        with open(os.path.join(debian, "changelog"), "w") as f:
            f.write(f"{package} ({version}) unstable; urgency=medium\n\n"
                    f"  * mbd test fixture.\n\n -- {MAINTAINER}  {date}\n")
        with open(os.path.join(debian, "control"), "w") as f:
            f.write(f"Source: {package}\nSection: misc\nPriority: optional\n"
                    f"Maintainer: {MAINTAINER}\nStandards-Version: 4.6.2\n"
                    "Rules-Requires-Root: no\n")
            for name, arch in binaries:
                f.write(f"\nPackage: {name}\nArchitecture: {arch}\n"
                        f"Description: mbd test package {name}\n Built by tests/pkgfixtures.py.\n")
        rules = os.path.join(debian, "rules")
        with open(rules, "w") as f:
            f.write("#!/usr/bin/make -f\n%:\n\tdh $@\n")
        os.chmod(rules, 0o755)
        if format_ == "native":
            with open(os.path.join(tree, "README"), "w") as f:
                f.write(f"{package} {version}\n")

    def source(self, package, version, binaries=None, format_=None, outdir=None,
               orig_extra=""):
        """A source package built with dpkg-source. A version with a Debian revision
        ("1.0-1~test12+1") makes a 3.0 (quilt) package with an orig tarball, one without
        ("1.0~test12+1") a 3.0 (native) one. @binaries: [(name, arch)], default [(package,
        "any")]. The orig tarball depends only on package, upstream version and @orig_extra
        (which makes one with the same name and other content)."""
        binaries = binaries or [(package, "any")]
        plain = _noepoch(version)
        if format_ is None:
            format_ = "quilt" if "-" in plain else "native"
        outdir = outdir or self.out
        build = os.path.join(self.workdir, "srcbuild", f"{package}_{plain}")
        os.makedirs(build, exist_ok=True)
        upstream = plain.rsplit("-", 1)[0] if format_ == "quilt" else plain
        tree = os.path.join(build, f"{package}-{upstream}")
        os.makedirs(tree, exist_ok=True)
        if format_ == "quilt":
            orig = os.path.join(build, f"{package}_{upstream}.orig.tar.gz")
            self._orig_tarball(orig, f"{package}-{upstream}", package, upstream, orig_extra)
            # the tree holds what the tarball holds, plus debian/
            with open(os.path.join(tree, "UPSTREAM"), "wb") as f:
                f.write(self._upstream_data(package, upstream, orig_extra))
        self._debian_dir(tree, package, version, binaries, format_)
        _run(["dpkg-source", "--build", os.path.basename(tree)], cwd=build)
        dsc = os.path.join(build, f"{package}_{plain}.dsc")
        listed = [dsc] + [os.path.join(build, name) for name in _dsc_files(dsc)]
        os.makedirs(outdir, exist_ok=True)
        copied = []
        for path in listed:
            target = os.path.join(outdir, os.path.basename(path))
            if os.path.abspath(path) != os.path.abspath(target):
                with open(path, "rb") as src, open(target, "wb") as dst:
                    dst.write(src.read())
            copied.append(target)
        return Source(copied[0], copied[1:], package, version, format_)

    @staticmethod
    def _upstream_data(package, upstream, extra=""):
        return f"{package} upstream {upstream}\n{extra}".encode()

    @classmethod
    def _orig_tarball(cls, path, top, package, upstream, extra=""):
        """Byte-for-byte reproducible (fixed mtimes, gzip header without time), so that two
        revisions of one upstream version share the same orig tarball, as in real life."""
        data = cls._upstream_data(package, upstream, extra)
        with open(path, "wb") as raw, \
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
                tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for name, mode, content in ((f"{top}/", 0o755, None),
                                        (f"{top}/UPSTREAM", 0o644, data)):
                info = tarfile.TarInfo(name.rstrip("/"))
                info.mtime, info.mode, info.uname, info.gname = 1700000000, mode, "root", "root"
                if content is None:
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                else:
                    info.size = len(content)
                    tar.addfile(info, io.BytesIO(content))

    # -- .changes ---------------------------------------------------------------------------

    def changes(self, distribution, source=None, debs=(), package=None, version=None,
                name=None, outdir=None):
        """A .changes for @source (a Source, may be None) and @debs (Deb list), with Files,
        Checksums-Sha1 and Checksums-Sha256 computed from the files, written next to them
        (or into @outdir). Returns its path."""
        package = package or (source.package if source else debs[0].source)
        version = version or (source.version if source else debs[0].version)
        arches = (["source"] if source else []) + sorted({d.arch for d in debs})
        files = []
        if source:
            files += [(p, "misc", "optional") for p in [source.dsc] + source.files]
        for d in debs:
            files.append((d.path, _control_field(d.path, "Section") or "misc",
                          _control_field(d.path, "Priority") or "optional"))
        outdir = outdir or os.path.dirname(files[0][0])
        # named as dpkg-genchanges does: by the build architecture, or "source"
        binary_arches = [a for a in arches if a not in ("source", "all")]
        suffix = binary_arches[0] if binary_arches else ("all" if debs else "source")
        name = name or f"{package}_{_noepoch(version)}_{suffix}.changes"
        date = email.utils.format_datetime(
            datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
        lines = [
            "Format: 1.8",
            f"Date: {date}",
            f"Source: {package}",
        ]
        if debs:
            lines.append("Binary: " + " ".join(sorted({d.package for d in debs})))
        lines += [
            "Architecture: " + " ".join(arches),
            f"Version: {version}",
            f"Distribution: {distribution}",
            "Urgency: medium",
            f"Maintainer: {MAINTAINER}",
            f"Changed-By: {MAINTAINER}",
        ]
        if debs:
            lines.append("Description:")
            for d in sorted({d.package for d in debs}):
                lines.append(f" {d} - mbd test package {d}")
        lines += ["Changes:", f" {package} ({version}) {distribution}; urgency=medium",
                  " .", "   * mbd test fixture."]
        digests = [(_digests(p), os.path.basename(p), sec, prio) for p, sec, prio in files]
        lines.append("Checksums-Sha1:")
        lines += [f" {d['sha1']} {d['size']} {n}" for d, n, _, _ in digests]
        lines.append("Checksums-Sha256:")
        lines += [f" {d['sha256']} {d['size']} {n}" for d, n, _, _ in digests]
        lines.append("Files:")
        lines += [f" {d['md5']} {d['size']} {s} {p} {n}" for d, n, s, p in digests]
        path = os.path.join(outdir, name)
        for p, _, _ in files:
            target = os.path.join(outdir, os.path.basename(p))
            if os.path.abspath(p) != os.path.abspath(target):
                with open(p, "rb") as src, open(target, "wb") as dst:
                    dst.write(src.read())
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def package_set(self, package, version, distribution, arch_any=True, arch_all=True,
                    outdir=None, orig_extra=""):
        """Source plus binaries of one upload: a source package building <package> (any) and
        <package>-data (all), both .debs, and the .changes listing everything. Returns
        (changes path, Source, [Deb])."""
        outdir = outdir or os.path.join(self.out, f"{package}_{_noepoch(version)}")
        binaries = []
        if arch_any:
            binaries.append((package, "any"))
        if arch_all:
            binaries.append((f"{package}-data", "all"))
        src = self.source(package, version, binaries=binaries, outdir=outdir,
                          orig_extra=orig_extra)
        debs = []
        if arch_any:
            debs.append(self.deb(package, version, source=package, outdir=outdir))
        if arch_all:
            debs.append(self.deb(f"{package}-data", version, arch="all", source=package,
                                 outdir=outdir))
        return self.changes(distribution, source=src, debs=debs, outdir=outdir), src, debs


def sign(path, gnupghome, key=None):
    """Clear-signs @path in place with @key (default: the home's default key)."""
    argv = ["gpg", "--homedir", gnupghome, "--batch", "--yes", "--pinentry-mode", "loopback",
            "--passphrase", "", "--armor", "--clearsign", "--output", path + ".asc"]
    if key:
        argv += ["--local-user", key]
    _run(argv + [path])
    os.replace(path + ".asc", path)
    return path


def _noepoch(version):
    return version.split(":", 1)[1] if ":" in version else version


def _dsc_files(dsc):
    names, in_files = [], False
    with open(dsc) as f:
        for line in f:
            if line.startswith("Files:"):
                in_files = True
                continue
            if in_files:
                if line.startswith(" "):
                    names.append(line.split()[-1])
                else:
                    in_files = False
    return names
