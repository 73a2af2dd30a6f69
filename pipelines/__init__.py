"""Apache Beam jobs of audio-sentiment. Each job is a module runnable as
``python -m pipelines.<job>``; runner-specific launch files live in
``deploy/``."""
