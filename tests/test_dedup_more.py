"""Repeated lines/paragraphs across the corpus, exact substrings, and cluster inspection."""

from __future__ import annotations

import json
import subprocess
import sys

from gristmill import run
from tests.conftest import output_rows, read_jsonl, shared, write_jsonl


def test_line_dedup_matches_dolmas_paragraph_fixture(tmp_path):
    """Dolma's BFF test fixture: the second page of a site repeats the first page's navigation lines."""
    recipe = tmp_path / "r.yaml"
    recipe.write_text("steps:\n  - step: line_dedup\n    min_docs: 2\n    min_unit_chars: 1\n    min_chars: 0\n"
                      "    keep_first: true\n")
    src = shared("neardup/dolma_fixture_paragraph_dups_en.jsonl")
    m = run(str(recipe), inputs=[str(src)], output=str(tmp_path / "o"), workers=1, quiet=True)
    assert m["reconciled"] and m["global_steps"]["line_dedup"]["repeated_units"] > 0
    for r in output_rows(tmp_path / "o"):
        expected = r["duplicate_paragraph_spans"]
        assert r["boiler_units"] == len(expected), r["id"]
        for span in expected:  # every expected duplicate line is gone from this document
            assert span["text"].strip() not in r["text"].split("\n")


def test_line_dedup_removes_boilerplate_and_drops_what_is_left_too_short(tmp_path, en_docs, zh_docs):
    nav = ["Home | About us | Contact | Privacy policy", "© 2024 Example Media Group. All rights reserved.",
           "首页 | 关于我们 | 联系我们 | 隐私政策"]
    rows = [{"id": d["id"], "text": "\n".join(nav) + "\n" + d["text"] + "\n" + nav[1]} for d in en_docs[:10] + zh_docs[:10]]
    rows.append({"id": "only-nav", "text": "\n".join(nav) + "\nOK"})
    write_jsonl(tmp_path / "in.jsonl", rows)
    (tmp_path / "r.yaml").write_text("steps:\n  - step: line_dedup\n")
    m = run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"), workers=1,
            quiet=True)
    kept = {r["id"]: r for r in output_rows(tmp_path / "o")}
    assert m["counts"]["rejected"] == 1 and output_rows(tmp_path / "o", "rejected")[0]["id"] == "only-nav"
    for d in en_docs[:10] + zh_docs[:10]:
        t = kept[d["id"]]["text"]
        # our 4 navigation lines go, and so do footers every Chinese man page shares (中文 man 手册页计划 …)
        assert not any(line in t.split("\n") for line in nav) and kept[d["id"]]["boiler_units"] >= 4
        assert len(t) >= 0.6 * len(d["text"])


def test_substring_dedup_cuts_a_shared_span_from_later_documents(tmp_path, en_docs, zh_docs):
    shared_en, shared_zh = en_docs[0]["text"][:600], zh_docs[0]["text"][:300]
    rows = [{"id": "first", "text": "Preface.\n" + shared_en},
            {"id": "second", "text": en_docs[1]["text"][:800] + "\n" + shared_en + "\nTail of the second."},
            {"id": "zh-first", "text": shared_zh + "。第一篇的结尾。" * 10},
            {"id": "zh-second", "text": "第二篇的开头，内容不同。" * 10 + shared_zh}]
    write_jsonl(tmp_path / "in.jsonl", rows)
    (tmp_path / "r.yaml").write_text("steps:\n  - step: substring_dedup\n    min_length: 100\n")
    m = run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"), workers=1,
            quiet=True)
    out = {r["id"]: r for r in output_rows(tmp_path / "o")}
    assert m["reconciled"] and set(out) == {"first", "second", "zh-first", "zh-second"}
    assert out["first"]["substr_removed_chars"] == 0 and shared_en in out["first"]["text"]
    assert shared_en not in out["second"]["text"] and out["second"]["substr_removed_chars"] >= 590
    assert out["second"]["text"].startswith(en_docs[1]["text"][:300])
    assert shared_zh not in out["zh-second"]["text"] and out["zh-first"]["substr_removed_chars"] == 0


def test_dedup_command_and_explain(tmp_path):
    base = read_jsonl(shared("text_en/dolma_cc_samples.jsonl"))
    rows = [{"id": d["id"], "text": d["text"]} for d in base] + \
        [{"id": "copy-of-0", "text": base[0]["text"] + "\nShared via the newsletter."}]
    write_jsonl(tmp_path / "in.jsonl", rows)

    def cli(*a):
        return subprocess.run([sys.executable, "-m", "gristmill", *a], capture_output=True, text=True,
                              env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    r = cli("dedup", "-i", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "o"), "-w", "1")
    assert r.returncode == 0, r.stderr
    assert "25 bands x 5 rows; P(0.5)=0.548" in r.stdout.replace("\n", " ")
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["counts"]["rejected"] == 1 and m["global_steps"]["minhash_dedup"]["s_curve"]["0.7"] > 0.95
    r = cli("dedup", "-o", str(tmp_path / "o"), "--explain", "copy-of-0")
    assert r.returncode == 0 and "cluster of copy-of-0: 2 documents" in r.stdout
    assert "100kinvesting.com" in r.stdout and "near-duplicate of" in r.stdout
