#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs a libFuzzer target for a bounded time on a writable copy of its seed corpus, so the source
# tree is never modified. Crash, leak and UB reproducers go to ARTIFACT_DIR (kept for debugging).
# Usage: run-fuzzer.sh FUZZER SEED_CORPUS_DIR ARTIFACT_DIR [libFuzzer options...]
set -eu

fuzzer=$1
seeds=$2
artifacts=$3
shift 3

work=$(mktemp -d "${TMPDIR:-/tmp}/mbd-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/corpus" "$artifacts"
cp "$seeds"/* "$work/corpus/"

status=0
"$fuzzer" -max_total_time=60 -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" "$work/corpus" || status=$?
if [ "$status" -ne 0 ]; then
  echo "run-fuzzer: $fuzzer failed (exit $status); reproducers in $artifacts:" >&2
  ls -l "$artifacts" >&2
  # libFuzzer exits 77 on a finding by default, which meson would count as a skipped test
  exit 1
fi
exit 0
