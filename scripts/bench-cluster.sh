#!/usr/bin/env bash
# Throughput of the job on cluster-local (separate JobManager, TaskManager and Kafka processes) at
# parallelism 1 and 2: for each, start cluster-local with 2 TaskManagers, warm it up with 8
# requests, then submit N prompts at once and time until every result is committed (read_committed).
# Prints a table and writes bench-results/cluster.json.
#
#   scripts/bench-cluster.sh [N (default 60)] [max new tokens (default 64)] [drafter (default auto)]
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${1:-60}"
tokens="${2:-64}"
drafter="${3:-auto}"
work="$(mktemp -d)"
trap 'pkill -TERM -f "SpecdecMain cluster-local --state-dir $work" 2>/dev/null || true; sleep 5; rm -rf "$work"' EXIT
head -n "$n" "$home/data/kjv/heldout-prompts.jsonl" > "$work/prompts.jsonl"
# Warm-up requests get ids of their own (the sample prompts share some with the held-out set).
head -n 8 "$home/data/sample-prompts.jsonl" | python3 -c '
import json, sys
for i, line in enumerate(sys.stdin):
    r = json.loads(line); r["id"] = "warm-%d" % i; print(json.dumps(r))' > "$work/warm.jsonl"
results=()
for p in 1 2; do
  state="$work/state-$p"
  port=$((19100 + p)); web=$((18100 + p))
  "$home/bin/specdec" cluster-local --state-dir "$state" --task-managers 2 --parallelism "$p" --port "$port" \
    --web-port "$web" --chunk-topic "" --drafter "$drafter" --max-new-tokens "$tokens" \
    > "$work/cluster-$p.out" 2> "$work/cluster-$p.err" &
  for _ in $(seq 1 300); do grep -q '^bootstrap:' "$work/cluster-$p.out" && break; sleep 1; done
  grep -q '^bootstrap:' "$work/cluster-$p.out" || { cat "$work/cluster-$p.err" >&2; exit 1; }
  b="127.0.0.1:$port"
  "$home/bin/specdec" submit --bootstrap-servers "$b" --file "$work/warm.jsonl" > /dev/null 2>&1
  "$home/bin/specdec" tail --bootstrap-servers "$b" --count 8 --timeout 10m > /dev/null 2>&1
  start=$(date +%s.%N)
  "$home/bin/specdec" submit --bootstrap-servers "$b" --file "$work/prompts.jsonl" > "$work/ids-$p.txt" 2>/dev/null
  "$home/bin/specdec" tail --bootstrap-servers "$b" --count $((n + 8)) --timeout 30m 2>/dev/null > "$work/results-$p.jsonl"
  end=$(date +%s.%N)
  results+=("$(python3 - "$work/results-$p.jsonl" "$work/ids-$p.txt" "$start" "$end" "$p" <<'PY'
import json, sys
res, ids, start, end, p = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
wanted = set(open(ids).read().split())
rows = [json.loads(l) for l in open(res) if l.strip()]
rows = [r for r in rows if r["request_id"] in wanted]
toks = sum(r["usage"]["completion_tokens"] for r in rows)
steps = sum(r["speculative"]["steps"] for r in rows)
step_tokens = sum(r["speculative"]["mean_acceptance_length"] * r["speculative"]["steps"] for r in rows)
wall = end - start
print(json.dumps({"parallelism": p, "requests": len(rows), "tokens": toks, "wall_s": round(wall, 2),
                  "tokens_per_s": round(toks / wall, 1), "beta": round(step_tokens / steps, 2) if steps else 0}))
PY
)")
  pkill -TERM -f "SpecdecMain cluster-local --state-dir $state" || true
  for _ in $(seq 1 60); do pgrep -f "$state" > /dev/null || break; sleep 1; done
done
python3 - "$home/bench-results/cluster.json" "$n" "$tokens" "$drafter" "${results[@]}" <<'PY'
import json, sys
out, n, tokens, drafter, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], [json.loads(r) for r in sys.argv[5:]]
base = rows[0]["tokens_per_s"]
print(f"cluster-local, 2 TaskManagers, {n} prompts x {tokens} new tokens, drafter {drafter}")
print("| parallelism | requests | tokens | wall s | tokens/s | vs parallelism 1 | beta |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    print(f"| {r['parallelism']} | {r['requests']} | {r['tokens']} | {r['wall_s']} | {r['tokens_per_s']} | {r['tokens_per_s'] / base:.2f}x | {r['beta']} |")
json.dump({"prompts": n, "max_new_tokens": tokens, "drafter": drafter, "task_managers": 2, "runs": rows}, open(out, "w"), indent=2)
PY
