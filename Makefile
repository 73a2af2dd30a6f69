# audio-sentiment: `make demo` and `make test` are all a new user needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP_VERSION := 26.3

.PHONY: venv demo test lint bench starter-model clean

venv: $(STAMP)

# The same install steps as deploy/'s images: pinned pip, constraints.txt, setup.py.
$(STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	# the speech detector's ONNX model and the speaker encoder's weights; the wheels' torch
	# requirement is for code we never import
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -c constraints.txt silero-vad resemblyzer
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/audio-sentiment demo --workdir build/demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks.featurize_throughput
	$(BIN)/python -m benchmarks.score_throughput

# rebuilds sentiment_model/starter_model/ from ../shared/data (seed 0) and measures its card
starter-model: $(STAMP)
	$(BIN)/python -m benchmarks.starter_model

clean:
	rm -rf build $(VENV) *.egg-info
