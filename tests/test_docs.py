"""The Markdown files render as written and point at what exists: code
fences close, relative links and anchors resolve, the repository paths they
name exist, and every option README.md and docs/reference.md show is one the
command takes."""

import os
import re
import subprocess

import pytest
from markdown_it import MarkdownIt

from tests.pipelines.test_args import BEAM_JOBS, job_parsers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKDOWN = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.split()
# a repository path in a code span: a folder we have and a file name
REPO_PATH = re.compile(r"^(?:benchmarks|deploy|pipelines|schemas|sentiment_model|tests)/"
                       r"[\w./-]*\w$")
COMMAND = re.compile(r"(?:audio-sentiment|python -m pipelines\.)\s*([a-z-]+)((?:\s+\S+)*)")
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9_-]*)")


def tokens(name: str):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        text = f.read()
    return text, MarkdownIt("commonmark").enable("table").parse(text)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_the_repository_has_its_markdown_files():
    assert {"README.md", "docs/reference.md", "benchmarks/README.md",
            "deploy/README.md"} <= set(MARKDOWN)


@pytest.mark.parametrize("name", MARKDOWN)
def test_code_fences_are_closed_and_hold_no_fence(name):
    text, parsed = tokens(name)
    lines = text.splitlines()
    for token in parsed:
        if token.type != "fence":
            continue
        first, end = token.map
        marker = token.markup
        closing = lines[end - 1].strip() if end - 1 > first else ""
        assert closing == marker, f"{name}:{first + 1}: the fence is not closed by {marker}"
        for i, line in enumerate(token.content.splitlines()):
            assert not line.lstrip().startswith(marker[:3]), \
                f"{name}:{first + 2 + i}: a fence line inside a code block ({line[:40]!r})"


@pytest.mark.parametrize("name", MARKDOWN)
def test_relative_links_anchors_and_named_paths_exist(name):
    _, parsed = tokens(name)
    here = os.path.dirname(os.path.join(ROOT, name))
    anchors = {slug(parsed[i + 1].content) for i, t in enumerate(parsed)
               if t.type == "heading_open"}
    for token in parsed:
        for child in token.children or []:
            if child.type == "link_open":
                href = child.attrs["href"]
                if re.match(r"^[a-z]+:", href):
                    continue
                path, _, anchor = href.partition("#")
                if path:
                    assert os.path.exists(os.path.join(here, path)), f"{name}: link {href}"
                elif anchor:
                    assert anchor in anchors, f"{name}: no heading for #{anchor}"
            if child.type == "code_inline" and REPO_PATH.match(child.content):
                assert os.path.exists(os.path.join(ROOT, child.content)), \
                    f"{name}: names {child.content}, which does not exist"


def _shown_commands(text: str):
    """(command, its words) for every ``audio-sentiment CMD ...`` or ``python
    -m pipelines.CMD ...`` the text shows, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    for line in joined.splitlines():
        for found in COMMAND.finditer(line):
            yield found.group(1), found.group(2)


USER_DOCS = ("README.md", "docs/reference.md")


@pytest.mark.parametrize("name", USER_DOCS)
def test_every_option_the_user_docs_show_exists(monkeypatch, name):
    from pipelines.args import OLD_SPELLINGS, _beam_parser, _option_strings
    from pipelines.cli import GLOBAL_FLAGS

    parsers = job_parsers(monkeypatch)
    options = {job: set(_option_strings(p)) for job, p in parsers.items()}
    beam = set(_option_strings(_beam_parser()))
    anywhere = set().union(*options.values(), beam, OLD_SPELLINGS, GLOBAL_FLAGS)
    text, parsed = tokens(name)
    checked = 0
    for job, words in _shown_commands(text):
        if job not in options:
            assert job in ("COMMAND", "make-demo-data"), f"{name} shows a command {job!r}"
            continue
        allowed = options[job] | set(GLOBAL_FLAGS) | (beam if job in BEAM_JOBS else set())
        for flag in FLAG.findall(words):
            assert flag in allowed, f"{name}: `{job} {flag}` is not an option of {job}"
            checked += 1
    spans = [c.content for t in parsed for c in t.children or [] if c.type == "code_inline"]
    for span in spans:
        first = span.split()[0] if span.split() else ""
        if first.startswith("--") and FLAG.fullmatch(first.split("=")[0]):
            assert first.split("=")[0] in anywhere, f"{name}: `{span}` is no option"
            checked += 1
    assert checked > (10 if name == "README.md" else 50)


def test_the_reference_documents_every_column_of_the_calls_table():
    from schemas import tables

    text, _ = tokens("docs/reference.md")
    labels = ("negative", "neutral", "positive")
    for name in tables.calls_schema(labels).names:
        if name.startswith("customer_") or re.match(r"agent_q[23]_", name):
            continue  # "customer_*: the same for the customer", "q1 … q4"
        for label in labels:
            name = name.replace(f"p_{label}", "p_<class>")
        assert f"`{name}`" in text, f"docs/reference.md does not document calls/ column {name}"
