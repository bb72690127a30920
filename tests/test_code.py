"""Source code: the tree/archive reader, languages, StarCoder signals and the code preset, licences, secrets and
code-aware near-duplicate shingles, on real files from this machine (the venv's packages, Debian's Python
library and headers, Debian's JavaScript)."""

from __future__ import annotations

import base64
import glob
import io
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from gristmill.code import languages as L
from gristmill.code import licenses
from gristmill.code.reader import read_code, repo_name
from gristmill.dedup.shingles import jaccard, shingle_hashes
from gristmill.io.batch import ReadOptions
from gristmill.io.paths import plan_shards
from gristmill.steps.code_signals import CodeSignals, CodeSignalsParams
from gristmill.steps.filter import Filter, FilterParams

SITE = Path(sorted(glob.glob(str(Path(sys.prefix) / "lib/python3*/site-packages")))[0])
STDLIB = Path(sorted(glob.glob("/usr/lib/python3.*/json"))[0]).parent
MINIFIED = Path("/usr/share/javascript/jquery/jquery.min.js")
PB2 = SITE / "google/protobuf/struct_pb2.py"
ZH_COMMENTS = SITE / "transformers/models/fun_asr_nano/modular_fun_asr_nano.py"  # Chinese in comments
ZH_GENERATED = ZH_COMMENTS.with_name("processing_fun_asr_nano.py")  # written from it by a tool
ZH_DATA = SITE / "faker/providers/person/zh_TW/__init__.py"


def need(*paths: Path) -> None:
    for p in paths:
        if not p.exists():
            pytest.skip(f"{p} is not on this machine")


def read_all(path: Path, **opts) -> tuple[pa.Table, list]:
    tables, quarantine, skipped, blank = [], [], 0, 0
    for sh in plan_shards([str(path)], "code"):
        for b in read_code(sh, ReadOptions(**opts)):
            quarantine += b.quarantine
            skipped += b.skipped
            blank += b.blank
            if b.table is not None:
                tables.append(b.table)
    t = pa.concat_tables(tables) if tables else None
    return t, quarantine, skipped, blank


def select(rows: dict[str, tuple[str, str]], presets=("code",)) -> dict[str, str | None]:
    """{name: first failing rule or None} for {name: (path, text)} through code_signals and the preset."""
    names = list(rows)
    t = pa.table({"id": names, "text": [rows[n][1] for n in names], "path": [rows[n][0] for n in names]})
    t = CodeSignals(CodeSignalsParams()).process(t).table
    res = Filter(FilterParams(preset=list(presets))).process(t)
    reasons = iter(res.reason or [])
    return {n: (next(reasons) if r else None) for n, r in zip(names, res.reject.tolist(), strict=True)}


# -- languages ---------------------------------------------------------------------------------------------

def test_language_from_extension_name_and_shebang_on_real_files():
    need(Path("/usr/bin/lsb_release"))
    head = Path("/usr/bin/lsb_release").read_text(errors="replace").split("\n", 1)[0]
    assert L.language("lsb_release", head) == "Shell"
    assert L.language("json/decoder.py") == "Python" and L.language("stdio.h") == "C"
    assert L.language("CMakeLists.txt") == "CMake" and L.language("Dockerfile") == "Docker" + "file"
    assert L.language("x/run", "#!/usr/bin/env -S node --no-warnings") == "JavaScript"
    assert L.language("notes.xyz") == L.UNKNOWN
    assert L.vendored("app/node_modules/lodash/index.js") and not L.vendored("app/src/vendors.py")
    assert L.generated(PB2.name) and L.generated(MINIFIED.name) and not L.generated("decoder.py")


# -- reader ------------------------------------------------------------------------------------------------

def _archive_members() -> dict[str, bytes]:
    pkg = SITE / "annotated_types"
    need(pkg, pkg / "__init__.py")
    files = {f"annotated-types-main/annotated_types/{p.name}": p.read_bytes() for p in sorted(pkg.glob("*.py"))}
    files["annotated-types-main/LICENSE"] = next((SITE).glob("annotated_types-*.dist-info/licenses/LICENSE")).read_bytes()
    files["annotated-types-main/annotated_types/py.typed"] = b""
    files["annotated-types-main/docs/logo.png"] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
    files["annotated-types-main/data/blob.txt"] = b"abc\0def"
    files["annotated-types-main/big.py"] = b"x = 1\n" * 4000
    files["annotated-types-main/legacy.py"] = "# 中文注释：读取配置\nname = '配置'\n".encode("gb18030")
    files["annotated-types-main/node_modules/left-pad/index.js"] = b"module.exports = leftPad;\n"
    return files


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_archive_reader_accounts_for_every_file(tmp_path, kind):
    files = _archive_members()
    path = tmp_path / f"annotated-types-main.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as z:
            for name, data in files.items():
                z.writestr(name, data)
    else:
        with tarfile.open(path, "w:gz") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    t, quarantine, skipped, blank = read_all(path, code_max_file_bytes=20_000)
    rows = {r["path"]: r for r in t.to_pylist()}
    assert len(rows) + len(quarantine) + skipped + blank == len(files)
    assert skipped == 2 and blank == 1                         # logo.png (extension), blob.txt (NUL byte); py.typed
    assert [q["error"] for q in quarantine] == ["big.py: file is 24,000 bytes, over input.code_max_file_bytes (20,000)"]
    init = rows["annotated_types/__init__.py"]
    assert init["repo"] == "annotated-types" and init["language"] == "Python" and init["id"].endswith("!/annotated_types/__init__.py")
    assert init["text"] == files["annotated-types-main/annotated_types/__init__.py"].decode()
    assert init["license"] == "MIT" and init["license_source"] == "LICENSE"
    assert rows["legacy.py"]["text"].startswith("# 中文注释")   # GB18030 decoded
    assert rows["node_modules/left-pad/index.js"]["vendored"] and not init["vendored"]
    quarantined, *_ = read_all(path, code_max_file_bytes=20_000, code_binary="quarantine")[1:2]
    assert sorted(q["error"].split(":")[0] for q in quarantined) == ["big.py", "data/blob.txt", "docs/logo.png"]


def test_tree_reader_reads_a_folder_as_one_repository(tmp_path):
    repo = tmp_path / "mypkg"
    (repo / "src" / "mypkg").mkdir(parents=True)
    need(STDLIB / "json" / "decoder.py", Path("/usr/share/common-licenses/Apache-2.0"))
    (repo / "LICENSE").write_text(Path("/usr/share/common-licenses/Apache-2.0").read_text())
    (repo / "src" / "mypkg" / "__init__.py").write_text((STDLIB / "json" / "__init__.py").read_text())
    (repo / "src" / "mypkg" / "decoder.py").write_text((STDLIB / "json" / "decoder.py").read_text())
    (repo / "src" / "mypkg" / "__pycache__").mkdir()
    (repo / "src" / "mypkg" / "__pycache__" / "decoder.cpython-311.pyc").write_bytes(b"\xa7\r\r\n\0\0\0\0")
    (repo / ".git").mkdir()
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")                # not a file of the repository
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n")  # hidden, but a file of it
    (repo / "third_party").mkdir()
    with zipfile.ZipFile(repo / "third_party" / "scanner-1.0.zip", "w") as z:   # an archive inside the tree
        z.writestr("scanner-1.0/scanner.py", (STDLIB / "json" / "scanner.py").read_text())
    shards = plan_shards([str(repo)], "code")
    assert len(shards) == 1 and shards[0].source == "mypkg"    # a source tree is one shard
    assert [s.source for s in plan_shards([str(tmp_path / "*")], "code")] == ["mypkg"]  # many repos: a glob
    t, quarantine, skipped, blank = read_all(repo)
    rows = {r["id"]: r for r in t.to_pylist()}
    assert set(rows) == {"mypkg/LICENSE", "mypkg/src/mypkg/__init__.py", "mypkg/src/mypkg/decoder.py",
                         "mypkg/third_party/scanner-1.0.zip!/scanner.py", "mypkg/.github/workflows/ci.yml"}
    assert rows["mypkg/.github/workflows/ci.yml"]["language"] == "YAML"
    assert skipped == 1 and not quarantine and not blank          # the .pyc
    tree = [r for i, r in rows.items() if "!/" not in i]
    assert {r["repo"] for r in tree} == {"mypkg"}
    assert rows["mypkg/src/mypkg/decoder.py"]["license"] == "Apache-2.0"
    assert rows["mypkg/src/mypkg/decoder.py"]["license_source"] == "LICENSE"
    nested = rows["mypkg/third_party/scanner-1.0.zip!/scanner.py"]
    assert nested["repo"] == "scanner" and nested["path"] == "scanner.py" and nested["license"] is None
    assert nested["vendored"] and not rows["mypkg/src/mypkg/decoder.py"]["vendored"]   # under third_party/


def test_repo_name_from_archive():
    assert repo_name("django-main.tar.gz") == "django" and repo_name("x/numpy-1.26.4.zip") == "numpy"
    assert repo_name("tools.tgz") == "tools"


def test_damaged_archive_goes_to_quarantine(tmp_path):
    path = tmp_path / "broken.tar.gz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = (STDLIB / "json" / "decoder.py").read_bytes()
        info = tarfile.TarInfo("broken/decoder.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    t, quarantine, *_ = read_all(path)
    assert t is None and len(quarantine) == 1 and quarantine[0]["error"].startswith("unreadable archive")


# -- StarCoder signals and the code preset -------------------------------------------------------------------

def test_starcoder_filters_on_hand_picked_files():
    need(MINIFIED, PB2, STDLIB / "json" / "decoder.py", ZH_COMMENTS, ZH_GENERATED, ZH_DATA, Path("/usr/include/stdio.h"))
    big_json = next(p for p in sorted(SITE.glob("*/**/*.json")) if 20_000 < p.stat().st_size < 400_000)
    rows = {
        "minified": (MINIFIED.name, MINIFIED.read_text()),                   # jquery*.js: a vendored copy
        "minified_renamed": ("static/app.js", MINIFIED.read_text()),        # caught by line length, not name
        "protobuf": (PB2.name, PB2.read_text()),
        "protobuf_renamed": ("api/struct.py", PB2.read_text()),               # caught by its header
        "data_json": (big_json.name, big_json.read_text(errors="replace")),
        "normal": ("json/decoder.py", (STDLIB / "json" / "decoder.py").read_text()),
        "normal_c": ("stdio.h", Path("/usr/include/stdio.h").read_text()),
        "zh_comments": (ZH_COMMENTS.name, ZH_COMMENTS.read_text()),
        "zh_generated": (ZH_GENERATED.name, ZH_GENERATED.read_text()),
        "encoded": ("blob.py", 'DATA = """\n' + base64.encodebytes(MINIFIED.read_bytes()[:3000]).decode() + '"""\n'),
    }
    got = select(rows)
    assert got["minified"] == "vendored" and got["minified_renamed"] == "long_lines"
    assert got["protobuf"] == "generated_path" and got["protobuf_renamed"] == "autogenerated"
    assert got["data_json"] == "data_file_size"
    assert got["encoded"] == "encoded_data" and got["zh_generated"] == "autogenerated"
    assert got["normal"] is None and got["normal_c"] is None and got["zh_comments"] is None


def test_signals_count_chinese_comments_and_letters():
    need(ZH_DATA)
    t = pa.table({"id": ["a", "b"], "text": ["# 读取配置文件\nx = load()\n", ZH_DATA.read_text()],
                  "path": ["cfg.py", "faker/person/zh_TW/__init__.py"]})
    out = CodeSignals(CodeSignalsParams()).process(t).table.to_pylist()
    assert out[0]["code_comment_frac"] == pytest.approx(8 / 20)
    assert out[0]["code_alnum_frac"] == pytest.approx(11 / 20)   # Han characters are letters
    assert out[1]["language"] == "Python" and out[1]["code_alpha_frac"] < 0.25  # a name list: quotes, commas


def test_xml_and_html_rules():
    page = "<html><body>" + "<div class='x'></div>" * 60 + "<p>Hello</p></body></html>"
    prose = "<html><body><p>" + "gristmill turns raw text into training data. " * 10 + "</p></body></html>"
    got = select({"xml": ("pom.xml", '<?xml version="1.0"?>\n<project><a>b</a></project>\n'),
                  "xslt": ("t.xslt", '<?xml version="1.0"?>\n<!-- identity -->\n<xsl:stylesheet version="1.0"/>\n'),
                  "html_markup": ("index.html", page), "html_prose": ("about.html", prose)})
    assert got == {"xml": "xml", "xslt": None, "html_markup": "html_visible_text", "html_prose": None}


# -- licences ---------------------------------------------------------------------------------------------

def test_licence_files_of_installed_packages_match_their_metadata():
    """Held out: packages whose LICENSE file was not used to make the fingerprints."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from license_fingerprints import REFERENCE_PACKAGES

    agree = total = 0
    for meta in sorted(SITE.glob("*.dist-info/METADATA")):
        if meta.parent.name.split("-")[0] in REFERENCE_PACKAGES:
            continue
        m = re.search(r"^License-Expression: (\S+)$", meta.read_text(errors="replace"), re.M)
        files = [f for f in meta.parent.glob("licenses/*") if re.match(r"(LICEN[SC]E|COPYING)", f.name, re.I)]
        if not m or len(files) != 1:
            continue
        total += 1
        agree += licenses.license_file_text(files[0].read_text(errors="replace")) == m.group(1)
    if total < 20:
        pytest.skip(f"only {total} packages with one licence file and a single-id License-Expression")
    assert agree / total >= 0.9, (agree, total)


def test_licence_notices_and_spdx_lines():
    need(Path("/usr/share/common-licenses/GPL-2"))
    gpl = Path("/usr/share/common-licenses/GPL-2").read_text()
    notice = gpl[gpl.index("    This program is free software;"):gpl.index("for more details.") + 17]
    header = "/*\n * Copyright (C) 2001 Someone\n *\n" + "\n".join(" * " + x.strip() for x in notice.splitlines()) + "\n */\n"
    assert licenses.file_license(header + "int main(void) { return 0; }\n") == ("GPL-2.0-or-later", "header-text")
    assert licenses.file_license("// SPDX-License-Identifier: (GPL-2.0+ OR BSD-3-clause) */\n")[0] == \
        "(GPL-2.0+ OR BSD-3-Clause)"
    assert licenses.spdx_header("# SPDX-License-Identifier: Not-A-Licence\n") is None
    assert licenses.permissive("(GPL-2.0+ OR BSD-3-Clause)") and not licenses.permissive("GPL-2.0-or-later")
    assert licenses.permissive("Apache-2.0 WITH LLVM-exception")
    mpl = "This Source Code Form is subject to the terms of the Mozilla Public License, v. 2.0."
    assert licenses.match_text(mpl)[0] is None   # too little of the notice to say


def test_permissive_preset():
    got = select({"mit": ("a.py", "# SPDX-License-Identifier: MIT\nx = 1  # one\n"),
                  "gpl": ("b.py", "# SPDX-License-Identifier: GPL-3.0-only\nx = 1  # one\n"),
                  "none": ("c.py", "x = 1  # one\n")}, presets=("code-permissive",))
    assert got == {"mit": None, "gpl": "permissive_license", "none": "permissive_license"}


# -- secrets and near duplicates -----------------------------------------------------------------------------

def test_pii_step_finds_keys_in_code_and_leaves_normal_code_alone():
    from gristmill.steps.pii import Pii, PiiParams

    code = (STDLIB / "json" / "decoder.py").read_text()
    leaked = 'AWS_ACCESS_KEY_ID = "AKIA' + "IOSFODNN7EXAMPLE" + '"\ntoken = "ghp_' + "a1B2" * 9 + '"\n' + code
    t = pa.table({"id": ["leak", "clean"], "text": [leaked, code]})
    out = Pii(PiiParams(types=["SECRET"])).process(t).table.to_pylist()
    assert out[0]["pii_secret"] == 2 and "AKIA" not in out[0]["text"] and "ghp_" not in out[0]["text"]
    assert out[1]["pii_secret"] == 0 and out[1]["text"] == code


def _restyle(src: str) -> str:
    """The same code re-indented and with camelCase names turned into snake_case."""
    snake = re.sub(r"\b([a-z]+)([A-Z][a-z]+)\b", lambda m: m.group(1) + "_" + m.group(2).lower(), src)
    return "\n".join(" " * (2 * (len(x) - len(x.lstrip())) // 4) + x.lstrip() for x in snake.splitlines())


def test_code_shingles_match_restyled_copies():
    a = (STDLIB / "json" / "decoder.py").read_text()
    a = re.sub(r"\b([a-z]+)_([a-z]+)\b", lambda m: m.group(1) + m.group(2).capitalize(), a)  # camelCase original
    b = _restyle(a)
    other = (STDLIB / "json" / "encoder.py").read_text()
    code = jaccard(shingle_hashes(a, 5, units="code"), shingle_hashes(b, 5, units="code"))
    words = jaccard(shingle_hashes(a, 5), shingle_hashes(b, 5))
    assert code >= 0.95 > words
    assert jaccard(shingle_hashes(a, 5, units="code"), shingle_hashes(other, 5, units="code")) < 0.2


# -- a whole run ----------------------------------------------------------------------------------------------

def test_run_code_recipe_on_an_archive_reconciles(tmp_path):
    import gristmill

    files = _archive_members()
    files["annotated-types-main/static/jquery.min.js"] = MINIFIED.read_bytes() if MINIFIED.exists() else b"x"
    path = tmp_path / "in" / "annotated-types-main.tar.gz"
    path.parent.mkdir()
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    recipe = {"name": "code", "input": {"format": "code", "code_max_file_bytes": 200_000},
              "steps": [{"step": "code_signals"}, {"step": "filter", "preset": ["code"]}]}
    (tmp_path / "code.yaml").write_text(json.dumps(recipe))   # JSON is YAML
    m = gristmill.run(str(tmp_path / "code.yaml"), inputs=[str(path.parent)], output=str(tmp_path / "out"))
    assert m["counts"]["input"] == m["counts"]["kept"] + m["counts"]["rejected"] + m["counts"]["quarantined"]
    assert m["read"]["skipped"] == 2
    rejected = [json.loads(x) for f in (tmp_path / "out" / "rejected").glob("*.jsonl") for x in f.open()]
    assert {r["path"] for r in rejected} >= {"static/jquery.min.js"}


def test_exact_dedup_key_ignores_reindentation_of_code():
    from gristmill.dedup.exact import normalise_key

    src = (STDLIB / "json" / "decoder.py").read_text()
    reindented = "\n".join(" " * (2 * (len(x) - len(x.lstrip())) // 4) + x.lstrip() for x in src.splitlines())
    assert reindented != src
    assert normalise_key(reindented, ["whitespace"]) == normalise_key(src, ["whitespace"])
    assert normalise_key((STDLIB / "json" / "encoder.py").read_text(), ["whitespace"]) != normalise_key(src, ["whitespace"])


def test_archive_member_limit_quarantines_the_rest_with_one_entry(tmp_path):
    path = tmp_path / "json-stdlib.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for p in sorted((STDLIB / "json").glob("*.py")):
            tar.add(p, f"json/{p.name}")
    n = len(list((STDLIB / "json").glob("*.py")))
    assert n > 3
    batches = [b for sh in plan_shards([str(path)], "code")
               for b in read_code(sh, ReadOptions(code_max_archive_members=3))]
    docs = sum(b.table.num_rows for b in batches if b.table is not None)
    quarantine = [q for b in batches for q in b.quarantine]
    assert docs == 3 and len(quarantine) == 1
    assert "more than input.code_max_archive_members (3) files" in quarantine[0]["error"]
    assert any(b.problem for b in batches)
