"""The docs say what the code does: docs/recipes.md is generated from the code, and the documented commands run
in the order they are written, on the bundled sample with tiny budgets."""

from __future__ import annotations

import dataclasses
import re
import shlex
import subprocess
import sys

import pytest

from gristmill.recipe import InputParams, OutputParams
from gristmill.recipe_docs import render
from gristmill.steps import REGISTRY
from tests.conftest import ROOT

SAMPLE = ROOT / "src" / "gristmill" / "resources" / "sample"


def cli(args: list[str], cwd):
    return subprocess.run([sys.executable, "-m", "gristmill", *args], capture_output=True, text=True, cwd=cwd,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def bash_block(path, heading: str | None = None) -> list[str]:
    """The command lines of the first ```bash block (after ``heading``), comments and [optional parts] removed."""
    text = (ROOT / path).read_text(encoding="utf-8")
    if heading:
        text = text.split(heading, 1)[1]
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = []
    for line in block.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        line = re.sub(r"\s*\[[^\]]*\]", "", line)
        if line.startswith("gristmill "):
            lines += [c.strip() for c in line.split("; ")]
    return lines


def test_recipes_md_is_generated_from_the_code():
    current = (ROOT / "docs" / "recipes.md").read_text(encoding="utf-8")
    assert current == render(), "docs/recipes.md is stale: run python tools/gen_recipe_docs.py"
    for cls, section in ((InputParams, "## input"), (OutputParams, "## output")):
        part = current.split(section + "\n", 1)[1].split("\n## ", 1)[0]
        for f in dataclasses.fields(cls):
            assert f"| `{f.name}` |" in part and f"{section[3:]}: {{{f.name}: " in part, f.name
    for name in REGISTRY:
        assert f"### {name} (" in current
    assert "| `text_unit` | one of 'file', 'paragraph', 'line' | `file` |" in current
    assert "| 3 | the command finished, but the input had problems" in current


@pytest.mark.parametrize("doc,heading", [("README.md", "## Use"), ("docs/training.md", None)])
def test_a_tokenizer_is_made_before_a_command_uses_it(doc, heading):
    made: set[str] = set()
    for line in bash_block(doc, heading):
        args = shlex.split(line)
        for flag, value in zip(args, args[1:], strict=False):
            if args[1] in ("mix", "tokenize") and flag in ("-t", "--tokenizer"):
                assert value in made, f"{doc}: '{line}' uses {value} before a command makes it"
        if args[1:3] == ["tokenizer", "train"]:
            made.add(args[args.index("-o") + 1])


def test_the_readme_checks_run(tmp_path):
    lines = [c for c in bash_block("README.md", "## Use") if c.split()[1] in ("validate", "steps", "presets")]
    assert [c.split()[1] for c in lines] == ["validate", "steps", "presets"]
    for line in lines:
        args = [a.replace("recipe.yaml", "default").replace("data/", str(SAMPLE)) for a in shlex.split(line)[1:]]
        r = cli(args, tmp_path)
        assert r.returncode == 0, (line, r.stderr)
        if args[0] == "validate":  # and with the documented [-i data/]
            assert "input fields not checked (no input: pass --input FILE)" in r.stdout
            r = cli([*args, "-i", str(SAMPLE)], tmp_path)
            assert r.returncode == 0, r.stderr
            assert "columns checked against the first 100 records of sample/en_web.jsonl.gz, " \
                   "sample/zh_mixed.jsonl.gz" in r.stdout


@pytest.mark.slow
def test_training_md_runs_top_to_bottom_on_the_bundled_sample(tmp_path):
    """Every command of docs/training.md's first block, in order, with tiny budgets (ablate is left out: it
    trains variants x seeds; tests/test_training.py covers it)."""
    pytest.importorskip("torch")
    tiny = {"recipe.yaml": "default", "raw/": str(SAMPLE), "--vocab-size 16000": "--vocab-size 600",
            "--tokens 2000000": "--tokens 2000"}
    lines = bash_block("docs/training.md")
    text = "\n".join(lines)
    for k in tiny:
        assert k in text, f"docs/training.md no longer says {k!r}: update this test"
    ran = []
    for line in lines:
        if line.startswith("gristmill ablate"):
            continue
        for k, v in tiny.items():
            line = line.replace(k, v)
        r = cli(shlex.split(line)[1:], tmp_path)
        assert r.returncode == 0, (line, r.stdout[-2000:], r.stderr[-2000:])
        ran.append(line.split()[1])
    assert ran == ["run", "tokenizer", "mix", "tokenize", "train"]
    assert (tmp_path / "model" / "model.pt").exists() and (tmp_path / "shards" / "manifest.json").exists()
