#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The umbrella header compiles alone as C and C++ with warnings as errors; every other public
header refuses to be included directly."""

import argparse
import pathlib
import shlex
import subprocess
import sys
import tempfile

parser = argparse.ArgumentParser()
parser.add_argument("--cc", required=True)
parser.add_argument("--source-dir", required=True)
parser.add_argument("--build-dir", required=True)
parser.add_argument("--cflags", required=True)
args = parser.parse_args()
cflags = shlex.split(args.cflags)
src = pathlib.Path(args.source_dir) / "libminibuildd"
failures = 0


def compile_snippet(code, lang):
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / ("t.c" if lang == "c" else "t.cc")
        path.write_text(code)
        compiler = args.cc if lang == "c" else "g++"
        std = ["-std=gnu11"] if lang == "c" else ["-std=c++17"]
        return subprocess.run([compiler, *std, "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                               *cflags, str(path)], capture_output=True, text=True)


umbrella = """#include <libminibuildd/libminibuildd.h>
#if !MBD_CHECK_VERSION (0, 0, 1)
#error "MBD_CHECK_VERSION is wrong"
#endif
int main (void) { return mbd_error_quark () != 0 && MBD_TYPE_INSTANCE != 0 ? 0 : 1; }
"""
for lang in ("c", "c++"):
    proc = compile_snippet(umbrella, lang)
    ok = proc.returncode == 0
    print(f"{'ok' if ok else 'FAIL'}: <libminibuildd/libminibuildd.h> as {lang}")
    if not ok:
        print(proc.stderr)
        failures += 1

headers = sorted(p.name for p in src.glob("mbd-*.h") if not p.name.endswith("-private.h"))
for name in headers:
    proc = compile_snippet(f"#include <libminibuildd/{name}>\nint main (void) {{ return 0; }}\n", "c")
    ok = proc.returncode != 0 and "Only <libminibuildd/libminibuildd.h>" in proc.stderr
    print(f"{'ok' if ok else 'FAIL'}: direct #include <libminibuildd/{name}> is refused")
    failures += 0 if ok else 1

# private headers are not installed
installed = (pathlib.Path(args.source_dir) / "libminibuildd" / "meson.build").read_text()
if "-private.h" in installed.split("public_headers = files(")[1].split(")")[0]:
    print("FAIL: a private header is listed as public")
    failures += 1
# The frontends build against the public API only: no include directory of theirs may hold a
# private header (that is how meson keeps them honest; see libminibuildd/meson.build).
import json
import shlex as _shlex
commands = json.loads((pathlib.Path(args.build_dir) / "compile_commands.json").read_text())
frontend_units = 0
for entry in commands:
    source = pathlib.Path(entry["directory"], entry["file"]).resolve()
    if "frontends" not in source.parts:
        continue
    frontend_units += 1
    argv = _shlex.split(entry["command"])
    for i, arg in enumerate(argv):
        if arg.startswith("-I"):
            inc = arg[2:] or argv[i + 1]
            inc_dir = pathlib.Path(entry["directory"], inc).resolve()
            for sub in (inc_dir, inc_dir / "libminibuildd"):
                private = sorted(p.name for p in sub.glob("*-private.h")) if sub.is_dir() else []
                if private:
                    print(f"FAIL: {source.name} can see private headers in {sub}: {private}")
                    failures += 1
if frontend_units == 0:
    print("FAIL: no frontend compile commands found")
    failures += 1
else:
    print(f"ok: {frontend_units} frontend files see no private header")

if not headers:
    sys.exit("no headers found")
sys.exit(1 if failures else 0)
