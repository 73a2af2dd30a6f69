#!/usr/bin/env bash
# Builds the worker and launcher images, the two Flex Templates, and runs one.
#   deploy/dataflow/launch.sh build                # images + templates
#   deploy/dataflow/launch.sh score 2026-11-24     # score that day's recordings
#   deploy/dataflow/launch.sh featurize            # featurize the training corpus
# Settings come from the environment (no credentials here: gcloud uses the
# application-default credentials of whoever runs it).
set -euo pipefail
: "${PROJECT:?set PROJECT}" "${REGION:?set REGION}" "${BUCKET:?set BUCKET}"
TAG="${TAG:-$(git rev-parse --short HEAD)}"
REPO="${REGION}-docker.pkg.dev/${PROJECT}/audio-sentiment"
WORKER="${REPO}/worker:${TAG}"
LAUNCHER="${REPO}/launcher:${TAG}"
MODEL_DIR="${MODEL_DIR:-gs://${BUCKET}/models/current}"
MAX_WORKERS="${MAX_WORKERS:-20}"
MACHINE_TYPE="${MACHINE_TYPE:-n2-standard-4}"
cd "$(dirname "$0")/../.."

case "${1:-}" in
  build)
    docker build -f deploy/docker/Dockerfile -t "$WORKER" .
    docker build -f deploy/dataflow/Dockerfile -t "$LAUNCHER" .
    docker push "$WORKER"
    docker push "$LAUNCHER"
    for job in featurize score; do
      gcloud dataflow flex-template build "gs://${BUCKET}/templates/${job}-${TAG}.json" \
        --image "$LAUNCHER" --sdk-language PYTHON \
        --metadata-file "deploy/dataflow/${job}_metadata.json" --env "JOB=${job}"
    done
    ;;
  score)
    RUN_DATE="${2:?usage: launch.sh score YYYY-MM-DD}"
    gcloud dataflow flex-template run "audio-sentiment-score-${RUN_DATE//-/}" \
      --project "$PROJECT" --region "$REGION" \
      --template-file-gcs-location "gs://${BUCKET}/templates/score-${TAG}.json" \
      --parameters "input=gs://${BUCKET}/recordings/${RUN_DATE}/,model_dir=${MODEL_DIR},output=gs://${BUCKET}/scores,run_date=${RUN_DATE}" \
      --parameters "sdk_container_image=${WORKER},sdk_location=container" \
      --temp-location "gs://${BUCKET}/tmp" --staging-location "gs://${BUCKET}/staging" \
      --worker-machine-type "$MACHINE_TYPE" --max-workers "$MAX_WORKERS"
    ;;
  featurize)
    gcloud dataflow flex-template run "audio-sentiment-featurize-$(date +%Y%m%d%H%M)" \
      --project "$PROJECT" --region "$REGION" \
      --template-file-gcs-location "gs://${BUCKET}/templates/featurize-${TAG}.json" \
      --parameters "input=gs://${BUCKET}/corpus/,labels=gs://${BUCKET}/corpus/labels.csv,output=gs://${BUCKET}/features/$(date +%F)" \
      --parameters "^~^augment=${AUGMENT-noise=1,speed=0.9/1.1,snr=5/20,telephone=1}" \
      --parameters "sdk_container_image=${WORKER},sdk_location=container" \
      --temp-location "gs://${BUCKET}/tmp" --worker-machine-type "$MACHINE_TYPE" \
      --max-workers "$MAX_WORKERS"
    ;;
  *)
    echo "usage: $0 build | score YYYY-MM-DD | featurize" >&2
    exit 2
    ;;
esac
