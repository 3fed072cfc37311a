#!/usr/bin/env bash
# Instructions per 1 KiB verify+parse, counted by valgrind's callgrind: the figure that does
# not move with the load of a shared machine (wall-clock ratios in `npm run bench` swing by
# several percent from run to run here). Each subject runs twice, with 10,000 and 30,000
# calls; the difference over 20,000 is the marginal cost of one call, start-up excluded.
#
#   npm run build && bash bench/instructions.sh [stripe github standard-webhooks]
#
# The raw limit is called synchronously, hookguard's verifyWebhook awaited (as in
# `npm run bench`). Counts drift by about ±0.5 % between identical runs (JIT timing).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "bench/instructions.sh needs valgrind" >&2; exit 2; }
[ -f dist/index.js ] || { echo "build first: npm run build" >&2; exit 2; }
schemes=("${@:-stripe github standard-webhooks}")
[ $# -eq 0 ] && schemes=(stripe github standard-webhooks)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

count() { # subject scheme calls
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1.$2.$3" node --single-threaded --import tsx bench/instructions-subject.ts --subject="$1" --scheme="$2" --calls="$3" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
marginal() { # subject scheme
  local a b
  a=$(count "$1" "$2" 10000) b=$(count "$1" "$2" 30000)
  echo $(((b - a) / 20000))
}

printf '| scheme | raw limit (instructions/call) | hookguard verifyWebhook | × raw limit |\n|:--|--:|--:|--:|\n'
for s in "${schemes[@]}"; do
  raw=$(marginal raw "$s") hg=$(marginal hookguard "$s")
  printf '| %s | %s | %s | %s× |\n' "$s" "$raw" "$hg" "$(awk -v a="$hg" -v b="$raw" 'BEGIN { printf "%.3f", a / b }')"
done
