#!/usr/bin/env bash
# Submits featurize or score to the Flink cluster.
#
# Through Beam's Flink job server (deploy/flink/beam-job-server.yaml):
#   kubectl port-forward svc/beam-job-server 8099:8099 8098:8098 &
#   deploy/flink/run.sh score --input s3://BUCKET/recordings/2026-11-24/ \
#       --model-dir s3://BUCKET/models/current --output s3://BUCKET/scores --run-date 2026-11-24
# These are exactly the options CI's PortableRunner test uses
# (tests/deploy/test_portable.py), with the cluster's endpoints.
#
# Or straight at the Flink REST endpoint with Beam's FlinkRunner, which starts
# a job server from its jar on this machine (give a local copy of
# beam-runners-flink-1.19-job-server-2.77.0.jar, or Beam downloads it):
#   kubectl port-forward svc/audio-sentiment-rest 8081:8081 &
#   FLINK_MASTER=localhost:8081 FLINK_JOB_SERVER_JAR=/opt/jars/beam-runners-flink-1.19-job-server-2.77.0.jar \
#       deploy/flink/run.sh score ...
set -euo pipefail
JOB="${1:?usage: run.sh featurize|score [job options]}"
shift
COMMON=(--environment_type=EXTERNAL --environment_config=localhost:50000
        --parallelism="${PARALLELISM:-16}")
if [[ -n "${FLINK_MASTER:-}" ]]; then
  exec audio-sentiment "$JOB" "$@" --runner=FlinkRunner --flink_master="$FLINK_MASTER" \
    --flink_version=1.19 ${FLINK_JOB_SERVER_JAR:+--flink_job_server_jar="$FLINK_JOB_SERVER_JAR"} \
    "${COMMON[@]}"
fi
exec audio-sentiment "$JOB" "$@" --runner=PortableRunner \
  --job_endpoint="${JOB_ENDPOINT:-localhost:8099}" \
  --artifact_endpoint="${ARTIFACT_ENDPOINT:-localhost:8098}" "${COMMON[@]}"
