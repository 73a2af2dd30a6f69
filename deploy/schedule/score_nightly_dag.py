"""Airflow DAG: every night, score yesterday's recordings on Dataflow.

Runs at 01:30 UTC; the run's data interval is the previous day, whose date
(``{{ ds }}``) names both the input folder and the ``run_date`` partition
the job writes. Retries are safe: a re-run replaces that partition whole.
The Flex Template is the one ``deploy/dataflow/launch.sh build`` creates.
Configuration comes from Airflow Variables; credentials from the Airflow
connection's application-default credentials (nothing secret here).
"""

from __future__ import annotations

import datetime

from airflow import DAG
from airflow.models import Variable
from airflow.providers.google.cloud.operators.dataflow import (
    DataflowStartFlexTemplateOperator,
)

BUCKET = Variable.get("audio_sentiment_bucket", default_var="BUCKET")
PROJECT = Variable.get("audio_sentiment_project", default_var="PROJECT")
REGION = Variable.get("audio_sentiment_region", default_var="europe-west1")
TEMPLATE = Variable.get("audio_sentiment_score_template",
                        default_var=f"gs://{BUCKET}/templates/score-current.json")
WORKER_IMAGE = Variable.get("audio_sentiment_worker_image",
                            default_var=f"{REGION}-docker.pkg.dev/{PROJECT}/audio-sentiment/worker:current")

with DAG(
    dag_id="audio_sentiment_score_nightly",
    description="Score yesterday's calls into the scores' run_date partition",
    schedule="30 1 * * *",
    start_date=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": datetime.timedelta(minutes=15)},
    tags=["audio-sentiment"],
) as dag:
    DataflowStartFlexTemplateOperator(
        task_id="score",
        project_id=PROJECT,
        location=REGION,
        wait_until_finished=True,
        body={
            "launchParameter": {
                "jobName": "audio-sentiment-score-{{ ds_nodash }}",
                "containerSpecGcsPath": TEMPLATE,
                "parameters": {
                    "input": f"gs://{BUCKET}/recordings/{{{{ ds }}}}/",
                    "model_dir": f"gs://{BUCKET}/models/current",
                    "output": f"gs://{BUCKET}/scores",
                    "run_date": "{{ ds }}",
                    "sdk_container_image": WORKER_IMAGE,
                    "sdk_location": "container",
                },
                "environment": {
                    "tempLocation": f"gs://{BUCKET}/tmp",
                    "machineType": "n2-standard-4",
                    "maxWorkers": 40,
                },
            }
        },
    )
