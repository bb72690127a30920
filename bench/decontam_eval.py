#!/usr/bin/env python3
"""Evaluation sets for decontamination: planted copies of benchmark items, and clean real documents.

    python bench/decontam_eval.py --out /tmp/decontam-eval [--data ../shared/data] [--per-benchmark 150]

Writes ``planted.jsonl`` (``benchmark, id, style, split, text``) and ``clean.jsonl`` (``source, lang, split,
text``); nothing is committed, every run regenerates the same sets from the seed.

Items are split in two by a hash of their id: ``design`` (used while designing the normalisation) and
``report`` (the figures). Each sampled item is planted in every style that applies to it:

- ``verbatim``: the item alone, its fields one per line; ``embedded``: the same at a paragraph break of a
  real document of the item's language; ``edited``: embedded, with two token edits (a word or character
  replaced by one from the host, or deleted) and punctuation/whitespace changes;
- multiple-choice items (a ``choices`` list): ``inline_dot`` (``q A. o1 B. o2 …``), ``paren`` (``(A) o1``),
  ``dun`` (``A、o1``, one per line), ``lines_answer`` (``A. o1`` per line, then ``答案：B`` / ``Answer: B``),
  ``circled`` (``①o1 ②o2``) and ``mc_edited`` (one of those, edited), each embedded;
- other items of several fields: ``labelled`` (``field: value`` lines), embedded.

Besides the benchmarks of ``recipes/decontam/shared-benchmarks.yaml``, ``mt_bench_turns`` holds each MT-bench
turn as an item of its own: short single questions, the case of whole-item hashes and short n-grams.

Clean documents are real text that cannot hold the benchmarks: C4, Dolma CC, RedPajama samples, Debian
Reference (en, zh-cn), the Python 3.11 documentation, Chinese man pages (zh_CN, zh_TW), ChineseWebText, hotel
reviews, and README/text files of this machine's Debian packages (/usr/share/doc), long documents cut into
pieces of at most 4,000 characters. Classical Chinese poems and fortunes are kept apart
(``quoted_sources``): exam questions quote them, so an overlap there is real shared text, not noise.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "src" / "gristmill" / "recipes" / "decontam" / "shared-benchmarks.yaml"
ZH_BENCH = {"cmmlu", "ceval"}
CLEAN_EN = ["text_en/c4_sample_shared.jsonl", "text_en/dolma_cc_samples.jsonl",
            "text_en/datajuicer_mixed_web_shared.jsonl", "text_en/debian_reference_en_shared.jsonl.gz",
            "text_en/python311_doc_shared.jsonl.gz"]
CLEAN_ZH = ["text_zh/debian_reference_zh_cn_shared.jsonl.gz", "text_zh/manpages_zh_cn_shared.jsonl.gz",
            "text_zh/manpages_zh_tw_shared_subset.jsonl.gz", "text_zh/chinesewebtext_cc2021_43_shared.jsonl",
            "text_zh/chinesewebtext_quality_labeled.jsonl", "text_zh/chnsenticorp_hotel_reviews.jsonl.gz"]
QUOTED = ["text_zh/chinese_poetry_shared.jsonl", "text_zh/fortunes_zh_shared.jsonl.gz"]
MC_STYLES = ("inline_dot", "paren", "dun", "lines_answer", "circled")


def read(path: Path) -> list[dict]:
    op = gzip.open if path.suffix == ".gz" else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def split_of(key: str) -> str:
    return "design" if zlib.crc32(key.encode()) % 2 == 0 else "report"


def pieces(text: str, limit: int = 4000) -> list[str]:
    """Paragraph groups of at most ``limit`` characters (a longer paragraph is cut)."""
    out, cur = [], ""
    for para in re.split(r"\n\s*\n", text):
        while len(para) > limit:
            out.append(para[:limit])
            para = para[limit:]
        if cur and len(cur) + len(para) + 2 > limit:
            out.append(cur)
            cur = ""
        cur = f"{cur}\n\n{para}" if cur else para
    if cur.strip():
        out.append(cur)
    return [p for p in out if len(p.strip()) >= 40]


def debian_docs() -> list[str]:
    """README/text files of the installed Debian packages."""
    texts = []
    for p in sorted(Path("/usr/share/doc").rglob("*")):
        name = p.name.lower().removesuffix(".gz")
        if not p.is_file() or not (name.startswith("readme") or name.endswith((".txt", ".md", ".rst"))):
            continue
        try:
            raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
            texts.append(raw[:200_000].decode("utf-8"))
        except (OSError, UnicodeDecodeError, EOFError):
            continue
    return texts


def clean_documents(data: Path, rng: random.Random, zh_reviews: int = 800) -> list[dict]:
    docs = []
    for rel in CLEAN_EN + CLEAN_ZH:
        rows = read(data / rel)
        if "hotel_reviews" in rel:
            rows = rng.sample(rows, min(zh_reviews, len(rows)))
        lang = "en" if rel.startswith("text_en") else "zh"
        for r in rows:
            docs += [{"source": rel, "lang": lang, "text": t} for t in pieces(r.get("text") or "")]
    docs += [{"source": "usr/share/doc", "lang": "en", "text": t}
             for raw in debian_docs() for t in pieces(raw)]
    for rel in QUOTED:
        docs += [{"source": rel, "lang": "zh", "quoted_source": True, "text": r["text"]}
                 for r in read(data / rel) if len(r.get("text") or "") >= 20]
    for d in docs:
        d["split"] = split_of(d["text"][:200])
    return docs


def turns_benchmark(data: Path, out: Path) -> tuple[str, str, list[str]]:
    """MT-bench with every turn an item of its own (``mt_bench_turns``): short single questions such as
    ``Express z-x in y``, the case of whole-item hashes and short n-grams. Written to ``out``."""
    rows = [{"id": f"{r['id']}/{j + 1}", "turn": t} for r in read(data / "decontam/mt_bench_questions.jsonl")
            for j, t in enumerate(r["turns"])]
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return ("mt_bench_turns", str(out), ["turn"])


def load_items(data: Path) -> list[dict]:
    import tempfile

    import yaml

    spec = yaml.safe_load(SPEC.read_text())
    extra = turns_benchmark(data, Path(tempfile.mkdtemp()) / "turns.jsonl")
    items = []
    for b in spec["benchmarks"] + [{"name": extra[0], "path": extra[1], "fields": extra[2]}]:
        for r in read(data / b["path"]):
            items.append({"benchmark": b["name"], "id": r["id"], "fields": {f: r.get(f) for f in b["fields"]},
                          "answer": r.get("answer") if isinstance(r.get("answer"), str) else None,
                          "lang": "zh" if b["name"] in ZH_BENCH else "en", "split": split_of(r["id"])})
    return items


def plain(item: dict) -> str:
    parts = []
    for v in item["fields"].values():
        parts += [str(x) for x in v] if isinstance(v, list) else [str(v)] if v is not None else []
    return "\n".join(parts)


def multiple_choice(item: dict, style: str) -> str:
    f = item["fields"]
    q, opts = str(f.get("question", "")), [str(x) for x in f["choices"]]
    letters = "ABCDEFGH"
    if style == "inline_dot":
        body = q + " " + " ".join(f"{letters[i]}. {o}" for i, o in enumerate(opts))
    elif style == "paren":
        body = q + "\n" + " ".join(f"({letters[i]}) {o}" for i, o in enumerate(opts))
    elif style == "dun":
        body = q + "（ ）\n" + "\n".join(f"{letters[i]}、{o}" for i, o in enumerate(opts))
    elif style == "lines_answer":
        body = q + "\n" + "\n".join(f"{letters[i]}. {o}" for i, o in enumerate(opts))
        if item["answer"]:
            body += ("\n答案：" if item["lang"] == "zh" else "\nAnswer: ") + item["answer"]
    else:
        body = q + " " + " ".join(f"{chr(0x2460 + i)}{o}" for i, o in enumerate(opts))
    return body


def labelled(item: dict) -> str:
    lines = []
    for k, v in item["fields"].items():
        for j, x in enumerate(v if isinstance(v, list) else [v]):
            lines.append(f"{k}{'' if not isinstance(v, list) else ' ' + str(j + 1)}: {x}")
    return "\n".join(lines)


_UNIT = re.compile(r"[\u3400-\u9fff]|[^\W_\u3400-\u9fff]+")
_HAN = re.compile(r"[\u3400-\u9fff]")


def edit(text: str, host: str, rng: random.Random) -> str:
    """Two token edits (a word or character replaced by one of the host's, or deleted) and three kinds of
    punctuation/whitespace noise."""
    units = list(_UNIT.finditer(text))
    vocab = [m.group() for m in _UNIT.finditer(host)]
    out = text
    for m in sorted(rng.sample(units, min(2, len(units))), key=lambda m: -m.start()):
        han = bool(_HAN.fullmatch(m.group()))
        same = [v for v in rng.sample(vocab, min(50, len(vocab)))
                if bool(_HAN.fullmatch(v)) == han and v != m.group()]
        new = rng.choice(same) if same and rng.random() < 0.7 else ""
        out = out[:m.start()] + new + out[m.end():]
    noise = [(r"\n", " "), (r"  +", " "), (r",", "，"), (r"，", ","), (r"\? ?", " "), (r"。", "."), (r" ", "  "),
             (r"([.:;]) ", r"\1\n")]
    for pat, rep in rng.sample(noise, 3):
        out = re.sub(pat, rep, out, count=rng.randint(1, 3))
    return out


def embed(text: str, host: str, rng: random.Random) -> str:
    breaks = [m.end() for m in re.finditer(r"\n+", host)]
    breaks = breaks or [m.end() for m in re.finditer(r"[.。!?！？]\s*", host)]
    at = rng.choice(breaks) if breaks else len(host)
    return host[:at].rstrip() + "\n\n" + text + "\n\n" + host[at:].lstrip()


def planted(items: list[dict], hosts: dict[str, list[str]], per_benchmark: int, split: str,
            rng: random.Random) -> list[dict]:
    out = []
    by_bench: dict[str, list[dict]] = {}
    for it in items:
        if it["split"] == split and plain(it).strip():
            by_bench.setdefault(it["benchmark"], []).append(it)
    for name, its in by_bench.items():
        for it in rng.sample(its, min(per_benchmark, len(its))):
            pool = hosts[it["lang"]]
            text = plain(it)
            rows = {"verbatim": text, "embedded": embed(text, rng.choice(pool), rng)}
            h = rng.choice(pool)
            rows["edited"] = embed(edit(text, h, rng), h, rng)
            if isinstance(it["fields"].get("choices"), list) and len(it["fields"]["choices"]) >= 2:
                for style in MC_STYLES:
                    rows[style] = embed(multiple_choice(it, style), rng.choice(pool), rng)
                h = rng.choice(pool)
                rows["mc_edited"] = embed(edit(multiple_choice(it, rng.choice(MC_STYLES)), h, rng), h, rng)
            elif len(it["fields"]) > 1 or isinstance(next(iter(it["fields"].values())), list):
                rows["labelled"] = embed(labelled(it), rng.choice(pool), rng)
            out += [{"benchmark": name, "id": it["id"], "style": s, "split": split, "text": t}
                    for s, t in rows.items()]
    return out


def make(data: Path, per_benchmark: int, seed: int, split: str) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    clean = clean_documents(data, rng)
    hosts = {lang: [d["text"] for d in clean if d["lang"] == lang and not d.get("quoted_source")
                    and d["split"] != split and len(d["text"]) > 300] for lang in ("en", "zh")}
    return planted(load_items(data), hosts, per_benchmark, split, rng), clean


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-benchmark", type=int, default=150)
    ap.add_argument("--split", choices=("design", "report"), default="report")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    plant, clean = make(a.data, a.per_benchmark, a.seed, a.split)
    a.out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("planted", plant), ("clean", clean)):
        with open(a.out / f"{name}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    print(f"{len(plant)} planted copies, {len(clean)} clean documents -> {a.out}")


if __name__ == "__main__":
    main()
