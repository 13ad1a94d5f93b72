#!/usr/bin/env bash
# `memsnap dump` of every golden file must print exactly the committed JSON
# (tests/cli/golden_dump/NAME.jsonl for v1.0, golden_dump/v1.1/NAME.jsonl for
# v1.1): the dump format is an interface that scripts depend on.
# Expectations were written once by the same command; regenerate one only
# for a deliberate, documented change.
# usage: golden_dump.sh MEMSNAP SOURCE_DIR
set -u
ms=$1 src=$2
pass=0 failn=0
for v in v1.0 v1.1; do
  exp="$src/tests/cli/golden_dump"
  [ "$v" = v1.0 ] || exp="$exp/$v"
  cd "$src/tests/golden/$v" || exit 1
  for f in *.msnap; do
    want="$exp/${f%.msnap}.jsonl"
    if [ ! -f "$want" ]; then echo "FAIL: no expectation for $v/$f"; failn=$((failn+1)); continue; fi
    if "$ms" dump "$f" 2>/dev/null | cmp -s - "$want"; then
      pass=$((pass+1))
    else
      echo "FAIL: memsnap dump $v/$f differs from $want:"
      "$ms" dump "$f" 2>&1 | diff - "$want" | head -5
      failn=$((failn+1))
    fi
  done
done
echo "$pass passed, $failn failed"
[ $failn -eq 0 ]
