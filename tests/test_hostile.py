"""Hostile and careless inputs: each is generated here (nothing large is stored), run in a subprocess
under an address-space limit (``RLIMIT_AS``) and a timeout, and must end with a clear message, no
traceback, and (for runs) a manifest whose counts reconcile. ``bench/hostile.py`` times the same cases."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

GB = 2**30
DRIVER = textwrap.dedent("""
    import os, resource, runpy, sys
    lim = int(os.environ["HOSTILE_AS"])
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    exec(os.environ.get("HOSTILE_PRELUDE", ""))
    sys.argv = ["gristmill", *sys.argv[1:]]
    runpy.run_module("gristmill", run_name="__main__")
""")

ZH = "今天天气很好，我们去公园散步，看到很多人在跳舞和唱歌。"
EN = "The quick brown fox jumps over the lazy dog near the quiet river bank."


@dataclass
class Case:
    args: list[str]
    prelude: str = ""
    mem: int = GB            # RLIMIT_AS for the subprocess
    timeout: float = 60
    out: Path | None = None  # the run's output folder (runs only)
    expect: dict = field(default_factory=dict)


def _recipe(d: Path, input_extra: str = "", steps: str = "steps: []\n") -> Path:
    r = d / "r.yaml"
    r.write_text(f"input:\n  paths: [{d / 'in'}]\n{input_extra}output:\n  path: {d / 'out'}\n{steps}")
    return r


def _good(d: Path) -> None:
    (d / "in").mkdir(exist_ok=True)
    rows = [{"id": f"ok{i}", "text": f"{EN} {ZH} {i}"} for i in range(5)]
    (d / "in" / "good.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _run(d: Path, r: Path, **kw) -> Case:
    return Case(["run", str(r), "-w", "1", "--quiet"], out=d / "out", **kw)


# --- recipes --------------------------------------------------------------------------------------------
def billion_laughs(d: Path) -> Case:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for p, c in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]")
    (d / "bomb.yaml").write_text("\n".join(lines) + "\nsteps: *i\n")
    return Case(["validate", str(d / "bomb.yaml")], expect={"says": "aliases"})


def deep_yaml(d: Path) -> Case:
    (d / "deep.yaml").write_text("steps: " + "[" * 100_000 + "]" * 100_000 + "\n")
    return Case(["validate", str(d / "deep.yaml")], expect={"says": "nesting deeper"})


def _filter_recipe(d: Path, name: str, expr: str) -> Case:
    (d / name).write_text("steps:\n  - step: filter\n    keep: " + json.dumps(expr) + "\n")
    return Case(["validate", str(d / name)], expect={"says": "expression"})


def huge_integer(d: Path) -> Case:
    return _filter_recipe(d, "int.yaml", "len(text) > " + "9" * 100_000)


def many_terms(d: Path) -> Case:
    return _filter_recipe(d, "terms.yaml", " + ".join(["n"] * 100_000) + " > 1")


def nested_not(d: Path) -> Case:
    return _filter_recipe(d, "not.yaml", "not " * 100_000 + "true")


def template_width(d: Path) -> Case:
    (d / "t.yaml").write_text('steps:\n  - step: template\n    template: "{text:>2000000000}"\n')
    return Case(["validate", str(d / "t.yaml")], expect={"says": "max_width"})


def template_attribute(d: Path) -> Case:
    (d / "t.yaml").write_text('steps:\n  - step: template\n    template: "{text.__class__.__mro__}"\n')
    return Case(["validate", str(d / "t.yaml")], expect={"says": "attribute"})


def classifier_not_a_model(d: Path) -> Case:
    target = "/etc/shadow" if os.path.exists("/etc/shadow") else "/etc/passwd"
    (d / "c.yaml").write_text(f"steps:\n  - step: classifier\n    model: {target}\n")
    return Case(["validate", str(d / "c.yaml")], expect={"says": "fastText model"})


# --- inputs ---------------------------------------------------------------------------------------------
def gzip_bomb(d: Path) -> Case:
    """1 GiB of zeros in ~1 MB (64 gzip members of 16 MiB each) beside a good file."""
    _good(d)
    member = gzip.compress(b"\0" * (16 << 20), 9, mtime=0)
    with open(d / "in" / "bomb.jsonl.gz", "wb") as f:
        for _ in range(64):
            f.write(member)
    return _run(d, _recipe(d, "  max_expansion: 20\n"), expect={"kept": 5, "problem": "max_expansion",
                                                               "quarantine_max": 4096})


def oversize_records_gz(d: Path) -> Case:
    """20 records of 2 MB (over a 1 MB max_record_bytes) in a .gz, between good ones."""
    _good(d)
    with gzip.open(d / "in" / "big.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) as f:
        for i in range(20):
            f.write(json.dumps({"id": f"big{i}", "text": (ZH + EN) * (2_000_000 // 160)}, ensure_ascii=False))
            f.write("\n" + json.dumps({"id": f"small{i}", "text": EN}) + "\n")
    return _run(d, _recipe(d, "  max_record_bytes: 1MB\n  max_expansion: 0\n"),
                expect={"kept": 25, "quarantined": 20, "quarantine_max": 20 * 6000})


def line_200mb(d: Path) -> Case:
    """A 200 MB line (no newline until the end) with the default 32 MiB max_record_bytes."""
    _good(d)
    with gzip.open(d / "in" / "long.jsonl.gz", "wb", compresslevel=1) as f:
        f.write(b'{"id": "long", "text": "')
        block = ("长" * 100_000).encode()
        for _ in range(200_000_000 // len(block)):
            f.write(block)
        f.write(b'"}\n{"id": "after", "text": "fine"}\n')
    return _run(d, _recipe(d, "  max_expansion: 0\n"), mem=int(1.5 * GB), timeout=120,
                expect={"kept": 6, "quarantined": 1, "quarantine_max": 6000})


def vanished_file(d: Path) -> Case:
    _good(d)
    (d / "in" / "gone.jsonl").write_text(json.dumps({"text": EN}) + "\n")
    prelude = textwrap.dedent(f"""
        import os, gristmill.exec.local as L
        _plan = L.plan_shards
        def plan(*a, **k):
            s = _plan(*a, **k)
            os.remove({str(d / 'in' / 'gone.jsonl')!r})
            return s
        L.plan_shards = plan
    """)
    return _run(d, _recipe(d), prelude=prelude, expect={"kept": 5, "problem": "No such file"})


def symlink_loops(d: Path) -> Case:
    _good(d)
    os.symlink("self.jsonl", d / "in" / "self.jsonl")
    (d / "in" / "sub").mkdir()
    os.symlink("..", d / "in" / "sub" / "up")
    os.symlink(".", d / "in" / "sub" / "loop.jsonl")
    return _run(d, _recipe(d), expect={"kept": 5, "problem": "symbolic links"})


def unreadable_file(d: Path) -> Case:
    """Permission denied (simulated: the tests run as root) and a FIFO in place of a file."""
    _good(d)
    (d / "in" / "secret.jsonl").write_text(json.dumps({"text": EN}) + "\n")
    os.mkfifo(d / "in" / "pipe.jsonl")
    prelude = textwrap.dedent("""
        import builtins, gristmill.io.stream as R  # open_stream opens local files
        def _open(path, *a, **k):
            if str(path).endswith("secret.jsonl"):
                raise PermissionError(13, "Permission denied", str(path))
            return builtins.open(path, *a, **k)
        R.open = _open
    """)
    return _run(d, _recipe(d), prelude=prelude, expect={"kept": 5, "problem": "Permission denied"})


RECIPES = [billion_laughs, deep_yaml, huge_integer, many_terms, nested_not, template_width, template_attribute,
           classifier_not_a_model]
INPUTS = [gzip_bomb, oversize_records_gz, vanished_file, symlink_loops, unreadable_file]
SLOW = [line_200mb]


def execute(case: Case) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOSTILE_AS": str(case.mem), "HOSTILE_PRELUDE": case.prelude, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", DRIVER, *case.args], capture_output=True, text=True,
                          timeout=case.timeout, env=env)


def check(case: Case, r: subprocess.CompletedProcess) -> None:
    out = r.stdout + r.stderr
    assert "Traceback" not in out and "MemoryError" not in out, out[-3000:]
    if case.out is None:   # a recipe: refused with one short message
        assert r.returncode != 0
        assert case.expect["says"] in out, out[-2000:]
        assert len(out) < 2000, out[-2000:]
        return
    m = json.loads((case.out / "manifest.json").read_text())
    c = m["counts"]
    assert m["reconciled"] and c["input"] == c["kept"] + c["rejected"] + c["quarantined"], c
    assert c["kept"] == case.expect["kept"], c
    if "quarantined" in case.expect:
        assert c["quarantined"] == case.expect["quarantined"], c
    if "problem" in case.expect:
        assert any(case.expect["problem"] in p["problem"] for p in m["input_problems"]), m["input_problems"]
    q = sum(p.stat().st_size for p in (case.out / "quarantine").glob("*")) if (case.out / "quarantine").exists() else 0
    assert q <= case.expect.get("quarantine_max", 10_000), q
    for p in (case.out / "quarantine").glob("*.jsonl"):
        for line in p.read_text().splitlines():
            e = json.loads(line)
            assert len(e["raw"].encode()) <= 4096 * 4 and len(e["error"]) < 300, e["error"]


@pytest.mark.parametrize("make", RECIPES, ids=lambda f: f.__name__)
def test_hostile_recipe_is_a_recipe_error_in_process(tmp_path, make):
    from gristmill.errors import GristmillError
    from gristmill.recipe import load_recipe

    case = make(tmp_path)
    with pytest.raises(GristmillError) as e:
        load_recipe(case.args[1])
    msg = f"{e.value} {e.value.hint or ''}"
    assert case.expect["says"] in msg and len(msg) < 700, msg


@pytest.mark.parametrize("make", [gzip_bomb, symlink_loops], ids=lambda f: f.__name__)
def test_hostile_input_in_process(tmp_path, make):
    from gristmill import run

    case = make(tmp_path)
    run(case.args[1], workers=1, quiet=True)
    check(case, subprocess.CompletedProcess(case.args, 0, "", ""))


@pytest.mark.slow
@pytest.mark.parametrize("make", RECIPES, ids=lambda f: f.__name__)
def test_hostile_recipe_is_refused_at_once_with_one_line(tmp_path, make):
    case = make(tmp_path)
    check(case, execute(case))


@pytest.mark.slow
@pytest.mark.parametrize("make", INPUTS, ids=lambda f: f.__name__)
def test_hostile_input_is_an_input_problem_and_the_run_goes_on(tmp_path, make):
    case = make(tmp_path)
    check(case, execute(case))


@pytest.mark.slow
@pytest.mark.parametrize("make", SLOW, ids=lambda f: f.__name__)
def test_a_200_mb_line_is_never_held_whole(tmp_path, make):
    case = make(tmp_path)
    check(case, execute(case))


# --- the limits themselves, in process ------------------------------------------------------------------
def test_expression_limits_are_clear_errors():
    from gristmill.expr import Expr, ExprError, ExprLimits

    cases = {"not " * 2000 + "true": "nests deeper than 100",
             "len(text) > " + str(2**70): "does not fit in 64 bits",
             "len(text) > " + "9" * 5000: "cannot parse expression",
             "text == '" + "长" * 2000 + "'": "string constant of 2,000 characters",
             " or ".join(["lang == 'zh'"] * 600): "over 2,000 parts"}
    for source, says in cases.items():
        with pytest.raises(ExprError, match=says) as e:
            Expr(source)
        assert len(str(e.value)) < 400
    assert Expr(" or ".join(["lang == 'zh'"] * 600), ExprLimits(max_nodes=5000)).names == {"lang"}
    assert Expr("not " * 50 + "lang == 'en'").names == {"lang"}


def test_yaml_limits_are_settings_and_a_normal_recipe_with_aliases_loads(monkeypatch):
    from gristmill.errors import RecipeError
    from gristmill.recipe import load_recipe

    shared = ("steps:\n  - step: langid\n    keep: &keep [en, zh]\n"
              "  - step: langid\n    name: again\n    keep: *keep\n")
    assert load_recipe(text=shared).steps[1].params.keep == ["en", "zh"]
    monkeypatch.setenv("GRISTMILL_YAML_MAX_ALIASES", "0")
    with pytest.raises(RecipeError, match="more than 0 aliases"):
        load_recipe(text=shared)


def test_template_keeps_plain_fields_and_short_specs():
    import pyarrow as pa

    from gristmill.errors import GristmillError
    from gristmill.steps.template import Template, TemplateParams

    t = pa.table({"id": ["1"], "text": ["你好"], "q": ["What?"]})
    step = Template(TemplateParams(template="{q!r:>10} | {text:_^6.1}", collapse_blank_lines=False))
    assert step.process(t).table.column("text").to_pylist() == ["   'What?' | __你___"]
    with pytest.raises(GristmillError, match="over max_width"):
        Template(TemplateParams(template="{text:.20000}"))
    assert Template(TemplateParams(template="{text:>20000}", max_width=20000)).fields == ["text"]


def test_quarantine_keeps_a_bounded_prefix_with_length_and_hash():
    import hashlib

    from gristmill.io.paths import Shard
    from gristmill.io.readers import quarantine_entry

    rec = ("坏记录" * 10_000).encode()
    e = quarantine_entry(Shard(0, "a.jsonl", "a.jsonl", "jsonl", None), 7, "bad", rec, keep=4096)
    assert e["raw_bytes"] == len(rec) and e["raw_truncated"] and e["raw_sha256"] == hashlib.sha256(rec).hexdigest()
    assert 4093 <= len(e["raw"].encode()) <= 4096 and rec.decode().startswith(e["raw"])


@pytest.mark.parametrize("cut", [None, 5, 200, -4])
def test_zstd_stream_reads_all_frames_and_tells_truncation(cut):
    import io

    import zstandard

    from gristmill.io.decompress import Decompressed

    text = "\n".join(f"{i} {EN} {ZH}" for i in range(3000)).encode()
    skippable = (0x184D2A53).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"hello"
    blob = (zstandard.ZstdCompressor(write_checksum=True).compress(text) + skippable
            + zstandard.ZstdCompressor(level=19).compress(text))
    if cut is not None:
        blob = blob[:cut]
    f = io.BufferedReader(Decompressed(io.BytesIO(blob), "zstd"))
    got = b""
    if cut is None:
        while chunk := f.read1(1 << 16):
            got += chunk
        assert got == text + text
        return
    with pytest.raises(EOFError, match="ends inside a zstd frame"):
        while chunk := f.read1(1 << 16):
            got += chunk
    assert (text + text).startswith(got)


def test_zstd_bomb_stops_at_the_expansion_limit():
    import io

    import zstandard

    from gristmill.io.decompress import Decompressed, ExpansionError

    blob = zstandard.ZstdCompressor().compress(b"\0" * (256 << 20))
    f = io.BufferedReader(Decompressed(io.BytesIO(blob), "zstd", max_expansion=200, floor=1 << 20))
    n = 0
    with pytest.raises(ExpansionError, match="max_expansion"):
        while chunk := f.read1(1 << 20):
            n += len(chunk)
    assert n <= 4 << 20


def test_a_record_of_exactly_the_limit_after_a_bom_is_kept_whole(tmp_path):
    from gristmill.io.paths import plan_shards
    from gristmill.io.readers import ReadOptions, read_shard

    line = json.dumps({"id": "zh", "text": ZH * 30}, ensure_ascii=False).encode()
    p = tmp_path / "bom.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + line + b"\n" + line.replace(b'"zh"', b'"zh2"') + b"x\n")
    batches = list(read_shard(plan_shards([str(p)])[0], ReadOptions(max_record_bytes=len(line))))
    assert [b.table.column("text").to_pylist() for b in batches if b.table is not None] == [[ZH * 30]]
    q = [e for b in batches for e in b.quarantine]
    assert len(q) == 1 and q[0]["raw_bytes"] == len(line) + 2 and "over input.max_record_bytes" in q[0]["error"]
