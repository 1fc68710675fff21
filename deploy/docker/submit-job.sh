#!/usr/bin/env bash
# Entry point of the compose file's job-submit service; its arguments are the command to run
# (`flink run ... specdec-job.jar ...`).
#
# 1. Waits until the JobManager's REST API answers and at least one TaskManager has registered.
# 2. Does nothing if a specdec job is already running there: a second `docker compose up` must not
#    start a twin job writing with the same transactional ids.
# 3. Hands the command to the Flink image's entrypoint, which applies FLINK_PROPERTIES and runs it.
#
# Environment: SPECDEC_FLINK_REST (default http://jobmanager:8081), SPECDEC_SUBMIT_TIMEOUT (seconds,
# default 300), FLINK_ENTRYPOINT (default /docker-entrypoint.sh).
set -euo pipefail

rest="${SPECDEC_FLINK_REST:-http://jobmanager:8081}"
timeout_s="${SPECDEC_SUBMIT_TIMEOUT:-300}"
entrypoint="${FLINK_ENTRYPOINT:-/docker-entrypoint.sh}"

if [ "$#" -eq 0 ]; then
  echo "submit-job: no command given (expected: flink run ...)" >&2
  exit 2
fi

deadline=$((SECONDS + timeout_s))
until taskmanagers="$(curl -sf "$rest/taskmanagers")" && grep -q '"id"' <<<"$taskmanagers"; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "submit-job: no TaskManager registered at $rest after ${timeout_s}s" >&2
    exit 1
  fi
  sleep 2
done

# /jobs/overview lists {"jid":...,"name":...,"state":...} objects: split it at each job id and look
# for a job named "specdec: ..." that has not reached a terminal state.
jobs="$(curl -sf "$rest/jobs/overview")"
if sed 's/"jid":/\n/g' <<<"$jobs" | grep '"name":"specdec: ' \
    | grep -Eq '"state":"(INITIALIZING|CREATED|RUNNING|FAILING|CANCELLING|RESTARTING|SUSPENDED|RECONCILING)"'; then
  echo "submit-job: a specdec job is already running on $rest; not submitting another"
  exit 0
fi

exec "$entrypoint" "$@"
