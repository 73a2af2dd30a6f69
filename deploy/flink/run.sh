#!/usr/bin/env bash
# Submits featurize or score to the Flink cluster through Beam's job server.
#   kubectl port-forward svc/beam-job-server 8099:8099 8098:8098 &
#   deploy/flink/run.sh score --input s3://BUCKET/recordings/2026-11-24/ \
#       --model-dir s3://BUCKET/models/current --output s3://BUCKET/scores --run-date 2026-11-24
# The options below are exactly the ones CI's PortableRunner test uses
# (tests/deploy/test_portable.py), with the cluster's endpoints.
set -euo pipefail
JOB="${1:?usage: run.sh featurize|score [job options]}"
shift
exec audio-sentiment "$JOB" "$@" \
  --runner=PortableRunner \
  --job_endpoint="${JOB_ENDPOINT:-localhost:8099}" \
  --artifact_endpoint="${ARTIFACT_ENDPOINT:-localhost:8098}" \
  --environment_type=EXTERNAL \
  --environment_config=localhost:50000 \
  --parallelism="${PARALLELISM:-16}"
