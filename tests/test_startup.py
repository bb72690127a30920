"""A run's fixed costs: what gristmill's own processes import and start, and the report's shortcuts, each
giving exactly what the plain way gives."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from gristmill.report import bias, diversity
from gristmill.report.profile import Profile


def _python(code: str, **env: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    return out.stdout.strip()


def test_owned_process_converts_without_importing_pandas():
    convert = ("pa.array([1, None]); pa.array(['a'], pa.string()); pa.scalar(2.5); pa.table({'a': [1]}); "
               "print('pandas' in sys.modules, 'pyarrow' in sys.modules)")
    told_later = ("import sys; from gristmill.exec.owned import arrow_without_pandas; print(arrow_without_pandas(), "
                  "'pyarrow' in sys.modules); import gristmill, pyarrow as pa; " + convert)
    assert _python(told_later).split() == ["False", "False", "False", "True"]  # told when pyarrow was imported
    told_now = ("import sys, pyarrow as pa; from gristmill.exec.owned import arrow_without_pandas; "
                "print(arrow_without_pandas()); " + convert)
    assert _python(told_now).split() == ["True", "False", "True"]
    cli = ("import sys; from gristmill.cli import main; sys.argv = ['gristmill', 'presets']; "
           "import atexit; atexit.register(lambda: print('pandas' in sys.modules, file=sys.stderr)); main()")
    out = subprocess.run([sys.executable, "-c", cli], capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr.strip().endswith("False")


def test_python_api_leaves_pyarrow_and_pandas_alone():
    """``import gristmill`` (the Python API) does not touch pyarrow's pandas support: NaN in a Series is null."""
    code = ("import gristmill, pyarrow as pa; pa.array([1]); import pandas as pd; "
            "print(pa.array(pd.Series([1.0, float('nan')])).null_count, pa.array(pd.Categorical(['a'])).type.id, "
            "pa.array([pd.NA, 1], from_pandas=True).null_count)")
    plain = code.replace("import gristmill, ", "import ")
    assert _python(code) == _python(plain)
    assert _python(code).split()[0] == "1"


def test_no_forkserver_for_one_small_file(tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_text('{"text": "x"}\n')
    code = ("import sys; from multiprocessing import forkserver; from gristmill.exec.pool import prestart; "
            f"prestart(2, 'local', [{str(f)!r}]); print(forkserver._forkserver._forkserver_pid is None); "
            "prestart(2, 'local', shards=1); print(forkserver._forkserver._forkserver_pid is None); "
            "prestart(1, 'local', shards=4); print(forkserver._forkserver._forkserver_pid is None); "
            "prestart(2, 'local', shards=2); print(forkserver._forkserver._forkserver_pid is None)")
    assert _python(code).split() == ["True", "True", "True", "False"]


def test_the_early_guess_of_one_shard_agrees_with_the_plan(tmp_path):
    """Before the plan, one local file below ONE_TASK_BYTES is taken for one shard: the automatic plan agrees
    on both sides of that size (from it on, the tail pieces make several)."""
    from gristmill.exec.pool import ONE_TASK_BYTES
    from gristmill.io.paths import plan_shards

    line = (json.dumps({"text": "The cat sat on the mat. 我们去公园散步吧！"}, ensure_ascii=False) + "\n").encode()
    for size, one in ((ONE_TASK_BYTES - 1, True), (ONE_TASK_BYTES, False)):
        f = tmp_path / f"in-{size}.jsonl"
        body = line * ((size - 1) // len(line))
        f.write_bytes(body + b"x" * (size - len(body) - 1) + b"\n")  # the last line is not JSON: size exact
        assert f.stat().st_size == size and (len(plan_shards([str(f)])) == 1) is one


def test_bias_terms_in_the_same_order_in_every_process():
    code = "from gristmill.report import bias; print(','.join(bias._TERMS_LONGEST_FIRST['zh']))"
    orders = {_python(code, PYTHONHASHSEED=str(seed)) for seed in (1, 2, 3)}
    assert len(orders) == 1
    terms = orders.pop().split(",")
    assert [len(t) for t in terms] == sorted((len(t) for t in terms), reverse=True)
    assert bias.count_terms("其他人说她和他的母亲", "zh") == {"gender.female:她": 1, "gender.male:他": 1,
                                                             "gender.female:母亲": 1}


def test_word_ids_are_the_plain_encoding():
    texts = ["The quick brown fox. THE QUICK brown Fox!", "İstanbul ΣΊΣΥΦΟΣ σοφός ΟΔΟΣ Straße STRASSE",
             "", "école ÉCOLE Ecole", "the end"]
    ids, lens = diversity._word_ids(texts)
    want_ids, want_lens = diversity._encode([diversity.units(t, "en") for t in texts])
    assert ids.tolist() == want_ids.tolist() and lens.tolist() == want_lens.tolist()


def test_sample_of_signals_as_offered():
    """The signal sample's documents come out as dicts of their non-NaN signals, rounded to 6 places."""
    p = Profile(n_shards=1)
    t = pa.table({"id": ["a", "b", "c"], "text": ["one two", "三四", "five"], "lang": ["en", "zh", "en"],
                  "gq_words": [2, 0, 1], "score": [0.1234567891, math.nan, 2.0]})
    p.add(t, "kept", source="x")
    p.add(t.slice(0, 1), "rejected", step="filter", reasons=["short"], details=[None])
    got = {(x[1]["kind"], x[1]["chars"]): x[1] for x in p.to_dict()["sample"]["items"]}
    assert got[("kept", 7)] == {"kind": "kept", "group": "kept", "lang": "en", "chars": 7,
                                "signals": {"gq_words": 2.0, "score": 0.123457}}
    assert got[("kept", 2)]["signals"] == {"gq_words": 0.0}  # NaN: no value
    assert got[("rejected", 7)]["group"] == "filter: short"
    merged = Profile.merge([p.to_dict()])
    assert len(merged.sample.items) == 4 and all(isinstance(x[1], dict) for x in merged.sample.items)
    assert np.isclose(merged.signals["score"]["kept"]["sum"], 2.1234567891)


def test_default_run_imports_only_its_own_steps(tmp_path):
    """A default run's process imports the steps its recipe names, not the others (PII and its phone-number
    tables, classifiers …), and builds only the command it runs; its outputs are those of the whole set."""
    f = tmp_path / "in.jsonl"
    f.write_text('{"text": "Hello world, this is a short English document about rivers and hills."}\n'
                 '{"text": "这是一个关于河流和山丘的中文文档，内容简短但完整。"}\n')
    code = ("import sys, atexit; from gristmill.cli import main; "
            f"sys.argv = ['gristmill', 'run', '-i', {str(f)!r}, '-o', {str(tmp_path / 'out')!r}, '-w', '1', '-q']; "
            "atexit.register(lambda: print(sorted(m for m in sys.modules if m.startswith(('gristmill.steps.', "
            "'gristmill.dedup.', 'gristmill.protect', 'phonenumbers', 'gristmill.cli.'))), file=sys.stderr)); main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    loaded = eval(out.stderr.strip().splitlines()[-1])  # noqa: S307 - our own print of a list of names
    assert set(loaded) >= {"gristmill.steps.normalize", "gristmill.steps.langid", "gristmill.dedup.exact",
                           "gristmill.steps.quality", "gristmill.steps.filter"}
    assert not [m for m in loaded if m.startswith(("gristmill.steps.pii", "gristmill.protect", "phonenumbers",
                                                   "gristmill.steps.classifier", "gristmill.dedup.minhash"))]
    assert (tmp_path / "out" / "kept").is_dir() and (tmp_path / "out" / "report.html").is_file()


def test_the_command_line_exits_with_its_code_and_all_its_output_without_teardown(tmp_path, zh_docs):
    """``gristmill`` ends its process without the interpreter's teardown: the exit code (3: a record was
    quarantined), every line it printed to a pipe and the exit handlers are all there; under a profiler it
    exits the plain way, so cProfile still writes its numbers; :func:`main` embedded in a caller's code still
    raises ``SystemExit``."""
    f = tmp_path / "in.jsonl"
    f.write_text("".join(json.dumps({"text": d["text"]}, ensure_ascii=False) + "\n" for d in zh_docs[:20])
                 + "{not json\n", encoding="utf-8")
    code = ("import sys, atexit; from gristmill.cli import entry; atexit.register(lambda: print('handlers ran')); "
            f"sys.argv = ['gristmill', 'run', '-i', {str(f)!r}, '-o', {str(tmp_path / 'out')!r}, '-w', '1', '-q']; "
            "entry()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ,
                                                                                              "COLUMNS": "200"})
    assert out.returncode == 3, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[-1] == "handlers ran" and lines[-2].startswith(f"outputs in {tmp_path / 'out'}/")
    assert "input 21 = kept" in out.stdout and "quarantined 1" in out.stdout
    prof = tmp_path / "run.prof"
    out = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "gristmill", "run", "-i", str(f),
                          "-o", str(tmp_path / "again"), "-w", "1", "-q"], capture_output=True, text=True)
    assert "outputs in" in out.stdout and prof.stat().st_size > 10_000, out.stderr  # (cProfile drops the code)
    # embedded, main() ends in SystemExit as before: the caller's own code after it runs
    code = ("import sys; from gristmill.cli import main; sys.argv = ['gristmill', 'presets']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    print('exit', e.code)\nprint('after')")
    assert _python(code).splitlines()[-2:] == ["exit 0", "after"]


def test_ending_without_teardown_keeps_native_output_and_reports_a_full_disk():
    """What the C library buffered reaches the pipe; a failed flush of standard output exits 120, as Python's own
    exit does."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    native = ("import ctypes; from gristmill.exec.exit import exit_process; ctypes.CDLL(None).printf(b'native\\n'); "
              "exit_process(0)")
    out = subprocess.run([sys.executable, "-c", native], capture_output=True, text=True, env=env)
    assert (out.returncode, out.stdout) == (0, "native\n")
    full = "from gristmill.exec.exit import exit_process; print('x' * 100); exit_process(0)"
    with open("/dev/full", "w") as sink:
        out = subprocess.run([sys.executable, "-c", full], stdout=sink, stderr=subprocess.PIPE, text=True, env=env)
    assert out.returncode == 120


def test_step_registry_names_every_registered_step():
    """``gristmill.steps.REGISTRY`` lists each step of :data:`gristmill.steps.MODULES` in that order, importing
    a module at its first look-up; once all are imported, they registered exactly those steps, where listed."""
    code = ("import sys; from gristmill.steps import MODULES, REGISTRY; from gristmill.contract import REGISTRY as R; "
            "print(len(R), 'langid' in REGISTRY, 'gristmill.steps.pii' in sys.modules, len(REGISTRY) == len(MODULES)); "
            "c = REGISTRY['pii']; print(c.name, c.__module__, 'gristmill.steps.pii' in sys.modules, "
            "'gristmill.steps.quality' in sys.modules)")
    assert _python(code).split() == ["0", "True", "False", "True", "pii", "gristmill.steps.pii", "True", "False"]
    from gristmill.contract import REGISTRY as registered
    from gristmill.steps import MODULES, REGISTRY

    classes = dict(REGISTRY.items())  # imports every step module
    assert list(classes) == list(MODULES) and set(registered) == set(MODULES)
    assert all(cls.name == name and cls.__module__ == MODULES[name] for name, cls in classes.items())
    assert "no_such_step" not in REGISTRY
    with pytest.raises(KeyError):
        REGISTRY["no_such_step"]
    import importlib
    import pkgutil

    import gristmill.dedup
    import gristmill.steps

    for pkg in (gristmill.steps, gristmill.dedup):  # a step module missing from MODULES would never be found
        for m in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(m.name)
    assert set(registered) == set(MODULES)


def test_unknown_column_hints_name_steps_not_imported_yet(tmp_path):
    """A recipe's column check imports every step only for a name it does not find, and then its hint names
    the step that makes the column, as before."""
    code = ("import sys; from gristmill.recipe import load_recipe; load_recipe(); "
            "print('gristmill.steps.pii' in sys.modules)")
    assert _python(code) == "False"
    from gristmill.errors import RecipeError
    from gristmill.recipe_check import check_recipe

    f = tmp_path / "in.jsonl"
    f.write_text('{"text": "x"}\n')
    with pytest.raises(RecipeError) as e:
        check_recipe(text="steps:\n  - step: filter\n    keep: pii_total == 0\n", inputs=[str(f)])
    assert "('pii_total' is made by the pii step: add one before this one)" in e.value.hint


def test_only_the_invoked_command_is_built():
    from gristmill.cli.app import app, invoked_app

    one = invoked_app(["run", "-i", "x"])
    assert [c.callback.__name__ for c in one.registered_commands] == ["run"] and not one.registered_groups
    assert [g.name for g in invoked_app(["sft", "validate"]).registered_groups] == ["sft"]
    assert invoked_app([]) is app and invoked_app(["--help"]) is app and invoked_app(["rnu"]) is app
    assert len(app.registered_commands) > 1  # the app itself is untouched


def test_help_lists_every_command():
    from typer.main import get_command_name

    from gristmill.cli import app

    out = subprocess.run([sys.executable, "-m", "gristmill", "--help"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 0
    names = [c.name or get_command_name(c.callback.__name__) for c in app.registered_commands if not c.hidden]
    names += [g.name for g in app.registered_groups]
    assert len(names) > 20 and all(f" {n} " in out.stdout for n in names)


def test_script_tables_as_str_methods_give():
    from gristmill.text import scripts

    chars = "".join(map(chr, range(0x10000)))
    for test in ("isalpha", "isspace", "isdigit"):
        assert scripts._bmp(test).tolist() == [getattr(c, test)() for c in chars]
    assert scripts.char_counts("abc 123，好\u3000") == (4, 3, 2)
    assert scripts.script_counts_py("使用 apt-get 安装软件包") == (13, 7, 0, 0)
