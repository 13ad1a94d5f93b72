#!/usr/bin/env bash
# analyze/SCHEMA.md must match the schema: its reference block is exactly
# `memsnap schema` output, and it names every table and every column of
# every table (taken from `memsnap schema --sql`, i.e. the CREATE
# statements the loader runs).
# usage: schema_doc.sh MEMSNAP SCHEMA.md
set -u
ms=$1 doc=$2
fail=0
begin='<!-- BEGIN memsnap schema'
end='<!-- END memsnap schema -->'
block=$(awk -v b="$begin" -v e="$end" 'index($0, e) == 1 {on = 0} on {print} index($0, b) == 1 {on = 1}' "$doc")
if [ "$block" != "$("$ms" schema)" ]; then
  echo "FAIL: $doc: the block between the markers differs from 'memsnap schema' output; regenerate it:"
  diff <(printf '%s\n' "$block") <("$ms" schema) | head -20
  fail=1
fi
n=0
table=
while IFS= read -r line; do
  if [[ $line =~ ^CREATE\ TABLE\ IF\ NOT\ EXISTS\ ([a-z_]+)\ \($ ]]; then
    table=${BASH_REMATCH[1]}
    grep -qE "^#### $table\$" "$doc" || { echo "FAIL: $doc does not document table $table"; fail=1; }
    n=$((n+1))
  elif [ -n "$table" ] && [[ $line =~ ^\ \ ([a-z_0-9]+)\ (INTEGER|TEXT|REAL|BLOB) ]]; then
    col=${BASH_REMATCH[1]}
    # the column's row in its table's section
    awk -v t="#### $table" -v c="| $col |" '$0 == t {on = 1; next} /^#### / {on = 0} on && index($0, c) == 1 {found = 1} END {exit !found}' "$doc" ||
      { echo "FAIL: $doc does not document column $table.$col"; fail=1; }
    n=$((n+1))
  elif [[ $line == ")"* ]]; then
    table=
  fi
done < <("$ms" schema --sql)
[ "$n" -gt 100 ] || { echo "FAIL: only $n tables and columns found in 'memsnap schema --sql'"; fail=1; }
[ $fail -eq 0 ] && echo "schema_doc: $doc matches 'memsnap schema' ($n table and column names)"
exit $fail
