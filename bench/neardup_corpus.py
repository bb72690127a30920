"""A near-duplicate evaluation corpus built from real English and Chinese text, with controlled edits.

Every base document (real text; sources split into ``tune`` and ``report``) may get one edited copy; each
copy records its edit operations. Operations (probabilities fixed before any measurement):

- ``edit`` (0.6): substitute / delete / insert characters (Chinese: any non-space character, the new ones
  drawn from the same document) or words (English) at a rate drawn so that copies straddle J = 0.7;
- ``shuffle`` (0.25): local line swaps or one block of lines moved;
- ``boiler`` (0.35): navigation / copyright lines added, or the first or last lines removed;
- ``punct`` (0.3): punctuation converted full-width -> ASCII or ASCII -> full-width, or some of it removed;
- ``latin`` (0.3, Chinese only): Latin runs (words, URLs, versions) inserted, or existing ones re-cased;
- ``space`` (0.3): line breaks reflowed, spaces inserted between characters, CRLF line ends.

>>> import random
>>> t, ops = make_copy("今天天气很好，我们去公园散步。\\n公园里有很多人。", "zh", random.Random(1))
>>> isinstance(t, str) and len(ops) >= 1
True
"""

from __future__ import annotations

import glob
import gzip
import json
import os
import random
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

_TO_ASCII = {"，": ",", "。": ".", "：": ":", "；": ";", "！": "!", "？": "?", "（": "(", "）": ")",
             "“": '"', "”": '"', "‘": "'", "’": "'", "、": ",", "《": "<", "》": ">", "【": "[", "】": "]",
             "—": "-", "…": "..."}
_TO_FULL = {",": "，", ".": "。", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
BOILER = {
    "zh": ["首页 > 新闻中心 > 正文", "当前位置：网站首页 > 技术文档", "分享到：微信 微博 QQ空间",
           "版权所有 © 2023 本站 京ICP备12345678号-1", "本文来源于网络，如有侵权请联系删除。",
           "上一篇：安装指南  下一篇：常见问题", "扫一扫，关注我们的微信公众号", "责任编辑：王小明",
           "发布时间：2021-06-18 10:32  浏览次数：1024", "联系我们 | 关于我们 | 网站地图 | 隐私政策"],
    "en": ["Home > Docs > Article", "Share this: Twitter | Facebook | Email",
           "Copyright © 2023 Example Media.", "All rights reserved.", "Posted on June 18, 2021 by admin",
           "Previous: Installation  Next: FAQ",
           "Subscribe to our newsletter for updates.", "Contact us | About | Sitemap | Privacy policy"],
}
LATIN_RUNS = ["Linux", "GNU", "https://example.org/docs/index.html", "v2.3.1", "Python 3.11", "UTF-8",
              "README", "open source", "Debian 12", "API", "root", "/etc/passwd", "JSON", "HTTP/1.1",
              "config file", "see also", "Copyright (C) 2020", "www.example.com", "iPhone 13 Pro", "PDF"]


def _read_jsonl(path: Path) -> list[dict]:
    op = gzip.open if path.suffix == ".gz" else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _shared(rel: str, field: str = "text") -> Iterator[str]:
    p = SHARED / rel
    if p.exists():
        for r in _read_jsonl(p):
            if isinstance(r.get(field), str):
                yield r[field]


def _local_man(lang_dir: str) -> Iterator[str]:
    for f in sorted(glob.glob(f"/usr/share/man/{lang_dir}/man*/*.gz")):
        r = subprocess.run(f"zcat {f} | groff -k -Tutf8 -mandoc -P-cbou 2>/dev/null", shell=True,
                           capture_output=True, text=True, errors="replace")
        if r.stdout.strip():
            yield r.stdout


def _split_file(path: str, sep: str) -> Iterator[str]:
    if os.path.exists(path):
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        yield from (p for p in re.split(sep, text) if p.strip())


def _gettext(lang: str) -> Iterator[str]:
    """Translated UI strings of the machine's gettext catalogues, about 1,500 characters per document."""
    import gettext

    for f in sorted(glob.glob(f"/usr/share/locale/{lang}/LC_MESSAGES/*.mo"))[:40]:
        try:
            with open(f, "rb") as fh:
                catalog = gettext.GNUTranslations(fh)._catalog  # msgid -> msgstr
        except (OSError, UnicodeDecodeError):
            continue
        strs = [v for k, v in catalog.items() if k and isinstance(v, str) and v.strip()]
        buf = ""
        for s in strs:
            buf += s + "\n"
            if len(buf) > 1500:
                yield buf
                buf = ""


def _doc_files() -> Iterator[str]:
    """English text files of the machine's /usr/share/doc: READMEs, NEWS, changelogs, *.txt, *.md."""
    pats = ["README*", "NEWS*", "*.txt", "changelog.gz", "*.md"]
    for pkg in sorted(glob.glob("/usr/share/doc/*")):
        for pat in pats:
            for f in sorted(glob.glob(os.path.join(pkg, pat))):
                try:
                    with (gzip.open(f) if f.endswith(".gz") else open(f, "rb")) as fh:
                        data = fh.read()
                except OSError:
                    continue
                text = data[:40_000].decode("utf-8", "replace")
                if len(text) > 800 and "\ufffd" not in text:
                    yield text


# (language, split, name) -> loader; "tune" sources are the ones any setting was chosen on, "report"
# sources are only measured. Machine-local sources are skipped when absent.
SOURCES = {
    ("zh", "tune", "manpages_zh_cn"): lambda: _shared("text_zh/manpages_zh_cn_shared.jsonl.gz"),
    ("zh", "tune", "hotel_reviews"): lambda: _shared("text_zh/chnsenticorp_hotel_reviews.jsonl.gz"),
    ("zh", "report", "chinesewebtext"): lambda: [*_shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"),
                                                 *_shared("text_zh/chinesewebtext_quality_labeled.jsonl")],
    ("zh", "report", "debian_reference_zh"):
        lambda: _shared("text_zh/debian_reference_zh_cn_shared.jsonl.gz"),
    ("zh", "report", "poetry"): lambda: _shared("text_zh/chinese_poetry_shared.jsonl"),
    ("zh", "report", "fortunes"): lambda: _shared("text_zh/fortunes_zh_shared.jsonl.gz"),
    ("zh", "report", "local_man_zh_cn"): lambda: _local_man("zh_CN"),
    ("zh", "report", "local_vimtutor_zh"): lambda: _split_file("/usr/share/vim/vim90/tutor/tutor.zh.utf-8",
                                                               r"~{20,}"),
    ("zh", "report", "local_catalogs_zh"):
        lambda: [*_split_file("/usr/lib/systemd/catalog/systemd.zh_CN.catalog", r"\n-- [0-9a-f]{32}"),
                 *_split_file("/usr/share/gnupg/help.zh_CN.txt", r"\n\.\n")],
    ("zh", "report", "local_gettext_zh"): lambda: _gettext("zh_CN"),
    ("en", "tune", "c4"): lambda: _shared("text_en/c4_sample_shared.jsonl"),
    ("en", "tune", "dolma"): lambda: _shared("text_en/dolma_cc_samples.jsonl"),
    ("en", "report", "debian_reference_en"): lambda: _shared("text_en/debian_reference_en_shared.jsonl.gz"),
    ("en", "report", "python_docs"): lambda: _shared("text_en/python311_doc_shared.jsonl.gz"),
    ("en", "report", "datajuicer_web"): lambda: _shared("text_en/datajuicer_mixed_web_shared.jsonl"),
    ("en", "report", "local_usr_share_doc"): _doc_files,
}


def _cap(text: str, max_chars: int) -> str:
    """At most ``max_chars`` characters, cut at a line break when there is one in the last quarter."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars)
    return text[:cut if cut > max_chars * 3 // 4 else max_chars]


# -- edit operations ----------------------------------------------------------------------------------

def _edit(text: str, lang: str, rng: random.Random) -> tuple[str, str]:
    if lang == "zh":
        rate = rng.uniform(0.002, 0.05)
        pool = [c for c in text if not c.isspace()] or ["的"]
        out = []
        for c in text:
            x = rng.random()
            if c.isspace() or x >= rate:
                out.append(c)
            elif x < rate / 2:
                out.append(rng.choice(pool))
            elif x < 3 * rate / 4:
                continue
            else:
                out.append(c + rng.choice(pool))
        return "".join(out), f"edit:{rate:.3f}"
    rate = rng.uniform(0.005, 0.06)
    parts = re.split(r"(\s+)", text)
    vocab = [p for p in parts[::2] if p] or ["the"]
    for i in range(0, len(parts), 2):
        x = rng.random()
        if parts[i] and x < rate:
            if x < rate / 2:
                parts[i] = rng.choice(vocab)
            elif x < 3 * rate / 4:
                parts[i] = ""
            else:
                parts[i] = parts[i] + " " + rng.choice(vocab)
    return "".join(parts), f"edit:{rate:.3f}"


def _shuffle(text: str, rng: random.Random) -> tuple[str, str]:
    lines = text.split("\n")
    if len(lines) < 3:
        return text, "shuffle:none"
    if rng.random() < 0.5:
        for _ in range(max(1, int(len(lines) * rng.uniform(0.05, 0.3)))):
            i = rng.randrange(len(lines))
            j = min(len(lines) - 1, max(0, i + rng.randint(-5, 5)))
            lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines), "shuffle:swaps"
    a = rng.randrange(len(lines))
    b = min(len(lines), a + rng.randint(1, max(1, len(lines) // 4)))
    block, rest = lines[a:b], lines[:a] + lines[b:]
    k = rng.randrange(len(rest) + 1)
    return "\n".join(rest[:k] + block + rest[k:]), "shuffle:block"


def _boiler(text: str, lang: str, rng: random.Random) -> tuple[str, str]:
    lines = text.split("\n")
    if rng.random() < 0.35 and len(lines) > 6:
        k = rng.randint(1, 3)
        return ("\n".join(lines[k:]), "boiler:drop_head") if rng.random() < 0.5 else \
            ("\n".join(lines[:-k]), "boiler:drop_tail")
    pool = BOILER[lang]
    head = rng.sample(pool, rng.randint(0, 3))
    tail = rng.sample(pool, rng.randint(1 if not head else 0, 2))
    return "\n".join(head + [text] + tail), "boiler:add"


def _punct(text: str, lang: str, rng: random.Random) -> tuple[str, str]:
    share = rng.uniform(0.2, 1.0)
    mode = rng.choice(["to_ascii", "to_full", "drop"] if lang == "zh" else ["drop", "quotes"])
    if mode == "drop":
        share *= 0.5
        kept = "".join(c for c in text if not _is_punct(c) or rng.random() >= share)
        return kept, f"punct:drop:{share:.2f}"
    table = {"to_ascii": _TO_ASCII, "to_full": _TO_FULL,
             "quotes": {'"': "“", "'": "’", "-": "–"}}[mode]
    return "".join(table[c] if c in table and rng.random() < share else c for c in text), \
        f"punct:{mode}:{share:.2f}"


def _is_punct(c: str) -> bool:
    import unicodedata

    return unicodedata.category(c).startswith("P")


def _latin(text: str, rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.3 and re.search(r"[A-Za-z]{3,}", text):
        return re.sub(r"[A-Za-z][A-Za-z ]*[A-Za-z]", lambda m: m.group(0).upper() if rng.random() < 0.5 else
                      m.group(0), text), "latin:recase"
    n = max(1, int(len(text) / rng.uniform(150, 600)))
    chars = list(text)
    for _ in range(n):
        i = rng.randrange(len(chars) + 1)
        run = rng.choice(LATIN_RUNS)
        chars.insert(i, rng.choice(["", " "]) + run + rng.choice(["", " "]))
    return "".join(chars), f"latin:insert:{n}"


def _space(text: str, rng: random.Random) -> tuple[str, str]:
    mode = rng.choice(["reflow", "spaces", "crlf"])
    if mode == "reflow":
        return re.sub(r"\n(?!\n)", lambda m: " " if rng.random() < 0.5 else "\n", text), "space:reflow"
    if mode == "spaces":
        return "".join(c + (" " if rng.random() < 0.05 else "") for c in text), "space:spaces"
    return text.replace("\n", "\r\n"), "space:crlf"


def make_copy(text: str, lang: str, rng: random.Random) -> tuple[str, list[str]]:
    """An edited copy of ``text`` and the operations applied, in order."""
    ops: list[str] = []
    do = {"shuffle": rng.random() < 0.25, "boiler": rng.random() < 0.35, "edit": rng.random() < 0.6,
          "punct": rng.random() < 0.3, "latin": lang == "zh" and rng.random() < 0.3,
          "space": rng.random() < 0.3}
    if not any(do.values()):
        do["edit"] = True
    for op in ("shuffle", "boiler", "edit", "punct", "latin", "space"):
        if not do[op]:
            continue
        if op == "shuffle":
            text, o = _shuffle(text, rng)
        elif op == "boiler":
            text, o = _boiler(text, lang, rng)
        elif op == "edit":
            text, o = _edit(text, lang, rng)
        elif op == "punct":
            text, o = _punct(text, lang, rng)
        elif op == "latin":
            text, o = _latin(text, rng)
        else:
            text, o = _space(text, rng)
        ops.append(o)
    return text, ops


def build(per_source: int = 120, max_chars: int = 5000, min_chars: int = 60, copy_share: float = 0.8,
          seed: int = 20251201, splits: tuple[str, ...] = ("tune", "report")) -> list[dict]:
    """Rows ``{id, text, lang, split, source, orig (copies only), ops (copies only)}``: up to ``per_source``
    base documents of at least ``min_chars`` non-space characters per source, and a copy of ``copy_share``
    of them."""
    rng = random.Random(seed)
    rows: list[dict] = []
    for (lang, split, name), load in SOURCES.items():
        if split not in splits:
            continue
        texts, seen = [], set()
        for t in load():
            t = _cap(t.replace("\x00", ""), max_chars)
            key = re.sub(r"\s+", "", t)
            if len(key) >= min_chars and key not in seen:
                seen.add(key)
                texts.append(t)
        rng.shuffle(texts)
        for i, t in enumerate(texts[:per_source]):
            did = f"{name}-{i:04d}"
            rows.append({"id": did, "text": t, "lang": lang, "split": split, "source": name})
            if rng.random() < copy_share:
                c, ops = make_copy(t, lang, rng)
                rows.append({"id": did + "-copy", "text": c, "lang": lang, "split": split, "source": name,
                             "orig": did, "ops": ops})
    return rows


if __name__ == "__main__":
    import argparse
    import collections

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-source", type=int, default=120)
    a = ap.parse_args()
    rows = build(a.per_source)
    with open(a.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(collections.Counter((r["lang"], r["split"], r["source"]) for r in rows))
