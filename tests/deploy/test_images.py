"""The images install exactly what CI tests: same pip, same constraints, same package."""

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCKERFILES = ("deploy/docker/Dockerfile", "deploy/dataflow/Dockerfile",
               "deploy/training/Dockerfile")


def read(path: str) -> str:
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def pinned(package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)$", read("constraints.txt"), re.M)
    assert match, package
    return match.group(1)


def test_worker_image_matches_the_pinned_beam_and_python():
    text = read("deploy/docker/Dockerfile")
    assert f"ARG BEAM_VERSION={pinned('apache-beam')}" in text
    assert "FROM apache/beam_python3.11_sdk:${BEAM_VERSION}" in text
    assert ">=3.11" in read("setup.py")


def test_training_image_matches_the_pinned_tensorflow():
    assert f"FROM tensorflow/tensorflow:{pinned('tensorflow')}-gpu" in read(
        "deploy/training/Dockerfile")


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_images_install_like_ci(dockerfile):
    text = read(dockerfile)
    makefile = read("Makefile")
    pip_version = re.search(r"^PIP_VERSION := (\S+)$", makefile, re.M).group(1)
    assert f'"pip=={pip_version}"' in text
    # Makefile: pip install -c constraints.txt -e ".[dev]"; images: the same without -e/dev
    assert '-c constraints.txt -e ".[dev]"' in makefile
    assert re.search(r"pip install [^\n]*-c constraints\.txt \.$", text, re.M)
    # Silero VAD's model and the speaker encoder's weights: installed without
    # their torch requirement, in both
    wheels = "--no-deps -c constraints.txt silero-vad resemblyzer"
    assert wheels in makefile and wheels in text
    copied = re.findall(r"^COPY (.+) \S+$", text, re.M)
    sources = [src for line in copied for src in line.split()]
    for package in ("pipelines", "sentiment_model", "schemas", "setup.py", "constraints.txt",
                    "README.md"):
        assert package in sources, (dockerfile, package)
    for src in sources:
        assert os.path.exists(os.path.join(ROOT, src)), src
    assert 'find_packages(include=["pipelines*", "sentiment_model*", "schemas*"])' in read(
        "setup.py")
    # librosa's kernels compiled at build time, after the packages are installed
    warm = 'RUN python -c "from sentiment_model import numba_cache; numba_cache.librosa()"'
    assert warm in text
    assert text.index(warm) > text.index(wheels)


def test_every_deploy_file_is_documented():
    readme = read("deploy/README.md")
    for folder, _, names in os.walk(os.path.join(ROOT, "deploy")):
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), ROOT)
            if rel != "deploy/README.md" and "__pycache__" not in rel:
                assert rel in readme, f"{rel} is not referenced from deploy/README.md"
