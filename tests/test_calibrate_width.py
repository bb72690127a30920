"""``gristmill calibrate`` on an 80-column terminal: whole signal names, every percentile (issue #18)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import read_jsonl, shared, write_jsonl


def test_calibrate_table_fits_80_columns_without_cutting_names(tmp_path):
    rows = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:40] + \
        read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))[:30]
    write_jsonl(tmp_path / "in" / "docs.jsonl", rows)
    (tmp_path / "r.yaml").write_text("steps:\n  - step: langid\n  - step: quality\n")
    env = {"COLUMNS": "80", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "gristmill", "signals", str(tmp_path / "r.yaml"), "-i",
                        str(tmp_path / "in"), "-o", str(tmp_path / "s"), "-w", "1"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "gristmill", "calibrate", str(tmp_path / "s")], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in r.stdout
    for name in ("gq_mean_word_len", "gr_dup_para_chars", "c4_javascript_lines", "zh_punct_density"):
        assert any(name in line for line in lines), name
    for p in (1, 5, 10, 25, 50, 75, 90, 95, 99):
        assert f" p{p} " in r.stdout or f"p{p} " in r.stdout or f" p{p}" in r.stdout
