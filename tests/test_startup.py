"""A run's fixed costs: what gristmill's own processes import and start, and the report's shortcuts, each
giving exactly what the plain way gives."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa

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
