#!/usr/bin/env bash
# How decoding holds up when another process takes a core: `generate` of 128 tokens on a quiet
# machine and again beside a busy loop that keeps one core at 100%, for each thread count given
# (default: 1 2) and both plain and CTC decoding. Prints the decode time (the result's total_ms),
# the command's wall time, and the ratio busy / quiet. Wrap it in `flock` with any other timing.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${*:-1 2}
prompt="And it came to pass, when the king heard these words"

decode_ms() {   # threads drafter -> "total_ms wall_ms"
  local start end json
  start=$(date +%s%N)
  json=$(./bin/specdec generate --prompt "$prompt" --max-new-tokens 128 --ignore-eos --drafter "$2" \
         --intra-op-threads "$1" --json)
  end=$(date +%s%N)
  echo "$(echo "$json" | sed -n 's/.*"total_ms":\([0-9.]*\).*/\1/p') $(( (end - start) / 1000000 ))"
}

./bin/specdec generate --prompt "warm" --max-new-tokens 2 > /dev/null   # build and unpack once
printf '%-8s %-7s %12s %12s %7s %12s %12s %7s\n' threads drafter quiet_ms busy_ms ratio quiet_wall busy_wall ratio
for t in $threads; do
  for d in none ctc; do
    read -r q qw < <(decode_ms "$t" "$d")
    ( while :; do :; done ) &
    busy=$!
    sleep 1
    read -r b bw < <(decode_ms "$t" "$d")
    kill "$busy"
    wait "$busy" 2>/dev/null || true
    printf '%-8s %-7s %12.0f %12.0f %7.2f %12d %12d %7.2f\n' "$t" "$d" "$q" "$b" "$(echo "$b / $q" | bc -l)" \
      "$qw" "$bw" "$(echo "$bw / $qw" | bc -l)"
  done
done
