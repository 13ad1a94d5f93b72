#!/usr/bin/env bash
# `memsnap dump` of every golden v1.0 file must print exactly the committed
# JSON (tests/cli/golden_dump/NAME.jsonl): the dump format is an interface
# that scripts depend on. Expectations were written once by the same
# command; regenerate one only for a deliberate, documented change.
# usage: golden_dump.sh MEMSNAP SOURCE_DIR
set -u
ms=$1 src=$2
cd "$src/tests/golden/v1.0" || exit 1
pass=0 failn=0
for f in *.msnap; do
  want="$src/tests/cli/golden_dump/${f%.msnap}.jsonl"
  if [ ! -f "$want" ]; then echo "FAIL: no expectation for $f"; failn=$((failn+1)); continue; fi
  if "$ms" dump "$f" 2>/dev/null | cmp -s - "$want"; then
    pass=$((pass+1))
  else
    echo "FAIL: memsnap dump $f differs from $(basename "$want"):"
    "$ms" dump "$f" 2>&1 | diff - "$want" | head -5
    failn=$((failn+1))
  fi
done
echo "$pass passed, $failn failed"
[ $failn -eq 0 ]
