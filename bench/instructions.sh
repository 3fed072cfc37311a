#!/usr/bin/env bash
# Instructions per 1 KiB verify+parse, counted by valgrind's callgrind: the figure that does
# not move with the load of a shared machine (wall-clock ratios in `npm run bench` swing by
# several percent from run to run here). Each subject runs twice, with 10,000 and 30,000
# calls; the difference over 20,000 is the marginal cost of one call, start-up excluded.
#
#   npm run build && bash bench/instructions.sh [stripe github standard-webhooks]
#   npm run build && bash bench/instructions.sh --receiver
#       the receiver as the adapters call it (Stripe): without a store, and with the default
#       memory store (each call a new key), against the raw limit — the HMAC, the parse and
#       everything hookguard adds around them, without HTTP
#   npm run build && bash bench/instructions.sh --receiver-loop
#       the raw limit and the receiver with its memory store (Stripe), as plain JavaScript over
#       dist/ with V8's random seed fixed (bench/receiver-loop.mjs), 20,000 and 60,000 calls
#       (about 5 minutes): one build in one folder counts the same every run, but another
#       build — or the same one copied elsewhere — can move by ~600 with the heap's layout;
#       compare builds from the same folder and treat less than ~600 as unresolved (the
#       subjects above move by ±1k even between identical runs)
#   npm run build && bash bench/instructions.sh --fetch
#       hookguard/fetch's handleWebhooks (memory store) against the hand-written Web handler
#       of the Hono bench, on a Request shaped like @hono/node-server's: the Web adapter's
#       own cost (promises, header reads), without a server
#
# The raw limit is called synchronously, hookguard's verifyWebhook awaited (as in
# `npm run bench`). The subject runs as one esbuild bundle (bench/instructions-subject.ts and
# the src/ and bench/ modules it imports; dist/ is loaded at run time) with V8's random seed
# fixed: identical runs then count within ~15 instructions of each other. Until session 16 it
# ran through `--import tsx`, whose loader thread and unseeded hashing moved the raw limit's
# count by 11k-26k between identical runs (Stripe: 123,889 then 134,901).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "bench/instructions.sh needs valgrind" >&2; exit 2; }
[ -f dist/index.js ] || { echo "build first: npm run build" >&2; exit 2; }
receiver=0
fetch=0
if [ "${1:-}" = "--receiver-loop" ]; then
  loop() { # mode calls
    valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded --random-seed=7 bench/receiver-loop.mjs dist "$2" "$1" 2>&1 >/dev/null |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  per() { # mode
    local a b
    a=$(loop "$1" 20000) b=$(loop "$1" 60000)
    echo $(((b - a) / 40000))
  }
  raw=$(per raw) full=$(per receiver)
  printf '| Stripe, 1 KiB (receiver-loop) | instructions/event | × raw limit |\n|:--|--:|--:|\n'
  printf '| raw limit | %s | 1.000× |\n| receiver, memory store | %s | %s |\n' "$raw" "$full" "$(awk -v a="$full" -v b="$raw" 'BEGIN { printf "%.3f× (+%d)", a / b, a - b }')"
  exit 0
fi
if [ "${1:-}" = "--receiver" ]; then receiver=1; shift; fi
if [ "${1:-}" = "--fetch" ]; then fetch=1; shift; fi
schemes=("${@:-stripe github standard-webhooks}")
[ $# -eq 0 ] && schemes=(stripe github standard-webhooks)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx esbuild bench/instructions-subject.ts --bundle --platform=node --format=esm --packages=external --outfile="$out/subject.mjs" --log-level=warning

count() { # subject scheme calls
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1.$2.$3" node --single-threaded --random-seed=7 "$out/subject.mjs" --subject="$1" --scheme="$2" --calls="$3" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
marginal() { # subject scheme
  local a b
  a=$(count "$1" "$2" 10000) b=$(count "$1" "$2" 30000)
  echo $(((b - a) / 20000))
}

if [ "$fetch" = 1 ]; then
  limit=$(marginal fetch-limit stripe) hg=$(marginal fetch stripe)
  printf '| Stripe, 1 KiB, Web Request | instructions/call | × hand-written |\n|:--|--:|--:|\n'
  printf '| hand-written handler | %s | 1.000× |\n| hookguard/fetch handleWebhooks, memory store | %s | %s |\n' "$limit" "$hg" "$(awk -v a="$hg" -v b="$limit" 'BEGIN { printf "%.3f× (+%d)", a / b, a - b }')"
  exit 0
fi
if [ "$receiver" = 1 ]; then
  raw=$(marginal raw stripe) bare=$(marginal receiver-nostore stripe) full=$(marginal receiver stripe)
  ratio() { awk -v a="$1" -v b="$raw" 'BEGIN { printf "%.3f× (+%d)", a / b, a - b }'; }
  printf '| Stripe, 1 KiB | instructions/call | × raw limit |\n|:--|--:|--:|\n'
  printf '| raw limit | %s | 1.000× |\n| receiver, no store | %s | %s |\n| receiver, memory store | %s | %s |\n' "$raw" "$bare" "$(ratio "$bare")" "$full" "$(ratio "$full")"
  exit 0
fi
printf '| scheme | raw limit (instructions/call) | hookguard verifyWebhook | × raw limit |\n|:--|--:|--:|--:|\n'
for s in "${schemes[@]}"; do
  raw=$(marginal raw "$s") hg=$(marginal hookguard "$s")
  printf '| %s | %s | %s | %s× |\n' "$s" "$raw" "$hg" "$(awk -v a="$hg" -v b="$raw" 'BEGIN { printf "%.3f", a / b }')"
done
