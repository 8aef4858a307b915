#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The shared library exports exactly the functions its public headers declare MBD_AVAILABLE_IN_*,
plus the GTypes of G_DECLARE_* and mkenums: no private helper leaks, nothing declared is missing."""

import argparse
import pathlib
import re
import subprocess
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--library", required=True)
parser.add_argument("--source-dir", required=True)
parser.add_argument("--build-dir", required=True)
args = parser.parse_args()

src = pathlib.Path(args.source_dir) / "libminibuildd"
build = pathlib.Path(args.build_dir) / "libminibuildd"
headers = [p for p in src.glob("mbd-*.h") if not p.name.endswith("-private.h")]
headers.append(build / "mbd-enums.h")

declared = set()
for header in headers:
    text = header.read_text()
    # a declaration: MBD_AVAILABLE_IN_* then a prototype up to ';'
    for match in re.finditer(r"MBD_AVAILABLE_IN_\w+\s+([^;]*?)\b(mbd_\w+)\s*\(", text, re.S):
        declared.add(match.group(2))
    for match in re.finditer(r"G_DECLARE_(?:FINAL|DERIVABLE)_TYPE\s*\(\s*\w+\s*,\s*(mbd_\w+)",
                             text):
        declared.add(match.group(1) + "_get_type")

nm = subprocess.run(["nm", "-D", "--defined-only", args.library], capture_output=True, text=True,
                    check=True).stdout
exported = set()
for line in nm.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "TtDdBbRrVvWwi":
        exported.add(parts[2].split("@")[0])
exported -= {"_init", "_fini", "_edata", "_end", "__bss_start"}
# section boundaries the linker makes for instrumented builds (libFuzzer's __sancov_* sections)
exported = {name for name in exported if not name.startswith(("__start___", "__stop___"))}

leaked = sorted(exported - declared)
missing = sorted(declared - exported)
for name in leaked:
    print(f"exported but not declared public: {name}")
for name in missing:
    print(f"declared public but not exported: {name}")
print(f"{len(exported)} exported symbols, {len(declared)} declared")
if not declared or not exported:
    sys.exit("found no symbols: the check itself is broken")
sys.exit(1 if leaked or missing else 0)
