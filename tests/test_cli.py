"""The command line: help, steps, validate, run, demo, and errors as one line plus a hint."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import output_rows, write_jsonl


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gristmill", *args], capture_output=True, text=True, cwd=cwd,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def test_help_lists_every_command_with_a_description():
    r = cli("--help")
    assert r.returncode == 0
    for cmd in ("run", "demo", "validate", "steps", "version"):
        assert f"│ {cmd} " in r.stdout


def test_steps_documents_parameters_and_defaults():
    r = cli("steps")
    assert r.returncode == 0
    for name in ("normalize", "langid", "exact_dedup", "filter"):
        assert name in r.stdout
    assert "min_score" in r.stdout and "fix_mojibake" in r.stdout and "'NFC'" in r.stdout
    q = cli("steps", "quality")
    assert q.returncode == 0 and "zh_rep13" in q.stdout and "gr_dup_line_frac" in q.stdout


def test_validate_reports_file_line_and_key_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - step: langid\n    keep: [english]\n")
    r = cli("validate", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{bad}:3: steps[0] (langid).keep: expected a list, each a language code" in r.stderr.replace("\n", "")
    good = tmp_path / "good.yaml"
    good.write_text("steps:\n  - step: langid\n    keep: [en, zh]\n")
    assert cli("validate", str(good)).returncode == 0


def test_usage_errors_are_not_tracebacks():
    r = cli("run", "a.yaml", "b.yaml", "--workers", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "Usage" in r.stderr


def test_user_mistakes_are_one_line_errors(tmp_path):
    for args, needle in [(("run", str(tmp_path / "missing.yaml")), "recipe not found"),
                         (("run", "--input", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o")), "input not found"),
                         (("steps", "nosuchstep"), "unknown step")]:
        r = cli(*args)
        assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert "hint" in r.stderr


def test_run_with_default_recipe_and_parquet_input(tmp_path, zh_docs):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": [d["text"] for d in zh_docs[:30]], "page": [d["id"] for d in zh_docs[:30]]}),
                   tmp_path / "zh.parquet")
    r = cli("run", "--input", str(tmp_path / "zh.parquet"), "--output", str(tmp_path / "o"), "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert "reconciled" in r.stdout
    rows, rejected = output_rows(tmp_path / "o"), output_rows(tmp_path / "o", "rejected")
    assert len(rows) + len(rejected) == 30 and len(rows) >= 25  # man pages are mostly clean Chinese prose
    pages = {d["id"]: i for i, d in enumerate(zh_docs[:30])}
    assert all(r["id"] == f"zh.parquet:{pages[r['page']]}" and r["lang"] == "zh" for r in rows)
    assert all(r["reason"].startswith(("zh:", "en:")) for r in rejected)
    funnel = json.loads((tmp_path / "o" / "analysis.json").read_text())["funnel"]
    assert [f["stage"] for f in funnel] == ["input", "normalize", "langid", "exact_dedup", "quality", "quality_filter"]
    assert funnel[-1]["docs"] == len(rows) and (tmp_path / "o" / "report.html").read_text().count("<section") == 11


def test_demo_end_to_end(tmp_path):
    r = cli("demo", "--output", str(tmp_path / "demo"))
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "demo" / "manifest.json").read_text())
    assert m["reconciled"] and m["counts"]["input"] == 625
    langs = {row["lang"] for row in output_rows(tmp_path / "demo")}
    assert {"en", "zh"} <= langs
    html = (tmp_path / "demo" / "report.html").read_text(encoding="utf-8")
    assert "reconciled" in html and "langid" in html
    assert "input 625 = kept" in r.stdout


def test_quarantine_from_the_cli(tmp_path, en_docs):
    p = write_jsonl(tmp_path / "in.jsonl", [{"id": d["id"], "text": d["text"]} for d in en_docs[:5]])
    with open(p, "ab") as f:
        f.write(b'{"id": "x", "text": "\xff\xfe"}\n{"truncated": \n')
    r = cli("run", "--input", str(p), "--output", str(tmp_path / "o"), "--workers", "1")
    assert r.returncode == 3, r.stderr  # finished, but the input had problems
    assert "exit code 3: 2 records quarantined" in r.stderr
    q = output_rows(tmp_path / "o", "quarantine")
    assert [x["offset"] for x in q] == sorted(x["offset"] for x in q) and len(q) == 2
    assert "quarantined 2" in r.stdout
    again = cli("run", "--input", str(p), "--output", str(tmp_path / "o"), "--workers", "1", "--quiet",
                "--allow-input-problems")
    assert again.returncode == 0, again.stderr


def test_running_again_into_a_finished_output_folder(tmp_path, en_docs):
    p = write_jsonl(tmp_path / "in.jsonl", [{"id": d["id"], "text": d["text"]} for d in en_docs[:10]])
    args = ("run", "--input", str(p), "--output", str(tmp_path / "o"), "--workers", "1", "--quiet")
    assert cli(*args).returncode == 0 and (tmp_path / "o" / "report.html").exists()
    again = cli(*args)  # resume of a finished run: nothing to do, same counts, no complaint about report.html
    assert again.returncode == 0, again.stderr
    assert cli(*args, "--no-resume").returncode == 0


def test_missing_extra_hint_keeps_the_extra_name(tmp_path, monkeypatch):
    import importlib.util

    (tmp_path / "r.yaml").write_text("steps:\n  - step: substring_dedup\n")
    code = ("import importlib.util, sys; real = importlib.util.find_spec; "
            "importlib.util.find_spec = lambda m, *a: None if m == 'pydivsufsort' else real(m, *a); "
            "from gristmill.cli import main; sys.argv = ['gristmill', 'validate', sys.argv[1]]; main()")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r.yaml")], capture_output=True, text=True,
                       env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and "pip install 'gristmill[dedup]'" in r.stderr, r.stderr
    assert importlib.util.find_spec("pydivsufsort") is not None  # the real one is untouched


def test_a_typo_in_a_rule_stops_the_run_before_it_starts(tmp_path, en_docs):
    data = write_jsonl(tmp_path / "in.jsonl", [{"text": d["text"], "source": "c4"} for d in en_docs[:10]])
    recipe = tmp_path / "r.yaml"
    recipe.write_text("steps:\n  - step: quality\n  - step: filter\n    rules:\n      long: n_char >= 200\n"
                      "      mine: sorce == 'c4'\n")
    r = cli("run", str(recipe), "--input", str(data), "--output", str(tmp_path / "o"))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"2 problems in {recipe}:" in r.stderr
    assert f"{recipe}:5: steps[1] (filter).rules.long: expected a column that exists before this step, got 'n_char' " \
           "(did you mean 'n_chars'?" in r.stderr
    assert f"{recipe}:6: steps[1] (filter).rules.mine" in r.stderr and "did you mean 'source'?" in r.stderr
    assert not (tmp_path / "o").exists()  # refused before reading or writing anything
    v = cli("validate", str(recipe), "--input", str(data))
    assert v.returncode == 2 and v.stderr == r.stderr
    recipe.write_text(recipe.read_text().replace("n_char ", "n_chars ").replace("sorce", "source"))
    ok = cli("validate", str(recipe), "--input", str(data))
    assert ok.returncode == 0 and "columns checked against the first 100 records of in.jsonl" in ok.stdout


def test_a_rule_rejecting_everything_warns_with_the_top_reason(tmp_path, zh_docs):
    data = write_jsonl(tmp_path / "zh.jsonl", [{"text": d["text"]} for d in zh_docs[:20]])
    recipe = tmp_path / "r.yaml"
    recipe.write_text("steps:\n  - step: quality\n  - step: filter\n    rules:\n      long: n_chars >= 1000000\n")
    r = cli("run", str(recipe), "--input", str(data), "--output", str(tmp_path / "o"), "-w", "1", "-q")
    assert r.returncode == 0, r.stderr
    assert ("warning: step filter rejected 20 of 20 documents (100.0%); top reason: long (20 documents; rule: "
            "n_chars >= 1000000)") in r.stderr


def test_sft_detect_exits_3_on_invalid_records(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", [{"instruction": "把这句话翻译成英文：你好。", "output": "Hello."},
                                                 {"instruction": "Name a colour.", "output": "Blue."}])
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"instruction": "Name a colour.", "output": "Blue."},
                                               {"instruction": "", "output": ""}, {"prompt": 3}])
    assert cli("sft", "detect", str(good)).returncode == 0
    r = cli("sft", "detect", str(bad))
    assert r.returncode == 3 and "Traceback" not in r.stderr, r.stderr
    assert "every record is valid" not in r.stdout



def test_a_printed_path_is_one_line_through_a_pipe_and_tables_keep_the_width(tmp_path, en_docs, zh_docs):
    # no COLUMNS: rich lays out for 80 columns, as for any pipe or file; a path must not be cut by a newline
    p = write_jsonl(tmp_path / "in.jsonl", [{"id": d["id"], "text": d["text"]} for d in en_docs[:5] + zh_docs[:5]])
    out = tmp_path / ("a-folder-with-a-long-name-" * 3) / "输出目录"
    r = subprocess.run([sys.executable, "-m", "gristmill", "run", "-i", str(p), "-o", str(out), "-w", "1", "-q"],
                       capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert len(str(out)) > 80 and f"outputs in {out}/ (kept/" in r.stdout
    assert "│ normalize" in r.stdout and max(map(len, r.stdout.splitlines()[:12])) <= 80  # the step table: 80 wide
    rep = subprocess.run([sys.executable, "-m", "gristmill", "report", str(out)], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"})
    assert rep.returncode == 0 and f"report: {out}/report.html" in rep.stdout
