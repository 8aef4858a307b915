#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fails if any C file of the project differs from what clang-format (.clang-format) makes of it."""

import pathlib
import subprocess
import sys

clang_format, top = sys.argv[1], pathlib.Path(sys.argv[2])
files = sorted(str(p) for d in ("libminibuildd", "frontends", "tests", "bindings")
               for p in (top / d).rglob("*.[ch]"))
if not files:
    sys.exit("no C files found under " + str(top))
proc = subprocess.run([clang_format, "--dry-run", "--Werror", *files], cwd=top,
                      capture_output=True, text=True)
sys.stderr.write(proc.stderr)
print(f"checked {len(files)} files: {'clean' if proc.returncode == 0 else 'NOT formatted'}")
sys.exit(proc.returncode)
