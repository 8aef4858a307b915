#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs a libFuzzer target for a bounded time on a writable copy of its seed corpus, so the source
# tree is never modified. Crash, leak and UB reproducers go to ARTIFACT_DIR (kept for debugging).
# Usage: run-fuzzer.sh FUZZER SEED_CORPUS_DIR ARTIFACT_DIR [libFuzzer options...]
# MBD_FUZZ_SECONDS (default 30, what the test suite and CI spend on each target) sets how long;
# run longer by hand, for example MBD_FUZZ_SECONDS=3600 meson test -C _build-asan --suite fuzz.
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
"$fuzzer" -max_total_time="${MBD_FUZZ_SECONDS:-30}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" "$work/corpus" || status=$?
if [ "$status" -ne 0 ]; then
  echo "run-fuzzer: $fuzzer failed (exit $status); reproducers in $artifacts:" >&2
  ls -l "$artifacts" >&2
  # libFuzzer exits 77 on a finding by default, which meson would count as a skipped test
  exit 1
fi
exit 0
