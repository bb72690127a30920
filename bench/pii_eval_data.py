"""Evaluation sets for PII detection, built from text the detectors were not tuned on.

Carrier text: this machine's Debian documentation (``/usr/share/doc/*/README*``, ``*.txt``, changelogs, a
sample of rendered ``man1`` pages) for English; the Chinese man pages and Debian reference of
``../shared/data/text_zh`` for Chinese. Every source file goes to one of two parts by a hash of its path:
``tune`` (part 0) or ``report`` (part 1), and each part has its own seed and its own half of every template
pool, so figures reported on ``report`` come from files, phrasings and values never looked at while tuning.

Planted values come from Faker's locales (e-mail; phones of 15 regions in each locale's own formats; cards of
every Faker issuer; IBANs of the locales whose length is the registry's; mainland resident IDs with a valid
check digit; public and private IPv4, IPv6; US SSNs). Look-alikes that must survive: version strings
harvested from ``/usr/share/doc/*/changelog*.gz``, dates, order numbers, Luhn-failing card-shaped numbers,
resident IDs and IBANs with a wrong check, OIDs harvested from ``/usr/share`` and site-packages, section
numbers, ISBNs, amounts.

    python bench/pii_eval_data.py --part report --docs 20   # print a few generated documents
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import subprocess
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from pii_eval_templates import CARD_TYPES, IBAN_LOCALES, LOOK, OTHER_PHONE_LOCALES, PHONE_LOCALES, PLANT

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PARTS = {"tune": 0, "report": 1}
SEEDS = {"tune": 1, "report": 2}


@dataclass
class Doc:
    lang: str
    text: str
    gold: list[tuple[int, int, str, str, str]] = field(default_factory=list)  # start, end, type, cue, origin
    look: list[tuple[int, int, str]] = field(default_factory=list)  # start, end, kind


def part_of(name: str) -> int:
    return zlib.crc32(name.encode()) % 2


def _paragraphs(text: str, lo: int = 120, hi: int = 1200) -> list[str]:
    out = []
    for p in re.split(r"\n\s*\n", text):
        p = p.strip()
        if lo <= len(p) <= hi:
            out.append(p)
    return out


def _read(path: Path) -> str:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
                return f.read(200_000)
        return path.read_text(encoding="utf-8", errors="replace")[:200_000]
    except OSError:
        return ""


@lru_cache(maxsize=4)
def carrier(part: str, limit: int = 4000) -> tuple[tuple[str, str], ...]:
    """(lang, paragraph) pairs of one part: up to ``limit`` English paragraphs from files taken in a seeded
    order, the paragraphs of 40 rendered man pages, and every Chinese paragraph of the part."""
    k = PARTS[part]
    rng = random.Random(SEEDS[part])
    docs = Path("/usr/share/doc")
    files = sorted(set(docs.glob("*/README*")) | set(docs.glob("*/*.txt*")) | set(docs.glob("*/changelog*.gz"))
                   | set(docs.glob("*/NEWS*")))
    files = [f for f in files if part_of(str(f)) == k]
    rng.shuffle(files)
    en: list[str] = []
    for f in files:
        en += _paragraphs(_read(f))[:40]
        if len(en) >= limit:
            break
    man = sorted(m for m in Path("/usr/share/man/man1").glob("*.1.gz") if part_of(str(m)) == k)
    for m in rng.sample(man, min(40, len(man))):
        r = subprocess.run(["man", "-P", "cat", "-l", str(m)], capture_output=True, text=True,
                           env={"MANWIDTH": "100", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        en += _paragraphs(r.stdout)[:20]
    return tuple([("en", p) for p in en] + [("zh", p) for p in _zh_paragraphs(k)])


def _zh_paragraphs(k: int) -> list[str]:
    zh: list[str] = []
    for name in ("manpages_zh_cn_shared.jsonl.gz", "debian_reference_zh_cn_shared.jsonl.gz"):
        with gzip.open(SHARED / "text_zh" / name, "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if part_of(r["id"]) == k:
                    zh += [p for p in _paragraphs(r["text"]) if sum("\u4e00" <= c <= "\u9fff" for c in p) > 20]
    return zh


@lru_cache(maxsize=4)
def shared_carrier(part: str) -> tuple[tuple[str, str], ...]:
    """Carrier from ``../shared/data`` only (Debian reference and Python documentation in English, Chinese man
    pages and Debian reference), for the small evaluation inside the tests: no files of this machine needed."""
    k = PARTS[part]
    en: list[str] = []
    for name in ("debian_reference_en_shared.jsonl.gz", "python311_doc_shared.jsonl.gz"):
        with gzip.open(SHARED / "text_en" / name, "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if part_of(r["id"]) == k:
                    en += _paragraphs(r["text"])
    return tuple([("en", p) for p in en] + [("zh", p) for p in _zh_paragraphs(k)])


@lru_cache(maxsize=1)
def harvested_versions() -> tuple[str, ...]:
    """Version strings from Debian changelogs on this machine (headers and dotted runs in the text; every
    fourth changelog, which gives thousands); where there are none, the dotted versions of the Debian
    reference in ``../shared/data``."""
    seen: set[str] = set()
    for f in sorted(Path("/usr/share/doc").glob("*/changelog*.gz"))[::4]:
        t = _read(f)[:50_000]
        seen.update(re.findall(r"^[a-z0-9][a-z0-9.+-]+ \(([^)\s]+)\)", t, re.M))
        seen.update(re.findall(r"(?<![\w.])\d+(?:\.\d+){3,}(?![\w.])", t))
    if not seen:
        with gzip.open(SHARED / "text_en" / "debian_reference_en_shared.jsonl.gz", "rt", encoding="utf-8") as f:
            seen.update(re.findall(r"(?<![\w.])\d+(?:\.\d+){2,}(?:-\d+)?(?![\w.])", f.read()))
    return tuple(sorted(seen))


OID_SOURCES = ("/usr/share/doc/nodejs/api/*.md", "/usr/lib/python3/dist-packages/cryptography/hazmat/_oid.py",
               "/usr/lib/python3*/ssl.py", "/usr/lib/python3/dist-packages/cryptography/x509/*.py")


@lru_cache(maxsize=1)
def harvested_oids() -> tuple[str, ...]:
    """Object identifiers written in files on this machine (Node.js crypto docs, Python's ssl and cryptography
    modules); where fewer than 20 are found, OIDs under the PKCS, X.500 and private-enterprise arcs."""
    import glob

    rx = re.compile(r"(?<![\w.])(?:1\.3\.6\.1|1\.2\.840|2\.5\.\d+|2\.16\.840|1\.3\.14|0\.9\.2342)(?:\.\d+)+(?![\w.])")
    seen: set[str] = set()
    for pattern in OID_SOURCES:
        for f in sorted(glob.glob(pattern)):
            seen.update(rx.findall(Path(f).read_text(encoding="utf-8", errors="ignore")))
    if len(seen) < 20:
        rng = random.Random(0)
        for _ in range(200):
            arc = rng.choice(["1.2.840.113549.1.1", "2.5.4", "1.3.6.1.4.1", "1.3.6.1.5.5.7.3", "2.16.840.1.101.3.4.2"])
            seen.add(f"{arc}.{rng.randint(1, 60000 if arc.endswith('4.1') else 40)}")
    return tuple(sorted(seen))


def _faker(locale: str, seed: int):
    from faker import Faker

    f = Faker(locale)
    f.seed_instance(seed)
    return f


class Values:
    """Planted values and look-alikes for one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.fakers: dict[str, object] = {}

    def fk(self, locale: str):
        if locale not in self.fakers:
            self.fakers[locale] = _faker(locale, self.seed * 1000 + len(self.fakers))
        return self.fakers[locale]

    def planted(self, typ: str) -> tuple[str, str]:
        """(value, origin) of one type."""
        rng = self.rng
        if typ == "PHONE":
            loc = rng.choice(list(PHONE_LOCALES))
            return self.fk(loc).phone_number(), loc
        if typ == "CREDIT_CARD":
            t = rng.choice(CARD_TYPES)
            d = self.fk("en_US").credit_card_number(t)
            style = rng.choice(["plain", "plain", "space4", "dash4"])
            if style != "plain" and t not in ("amex", "diners", "jcb15"):
                sep = " " if style == "space4" else "-"
                d = sep.join(d[i:i + 4] for i in range(0, len(d), 4))
            return d, t
        if typ == "IBAN":
            loc = rng.choice(IBAN_LOCALES)
            v = self.fk(loc).iban()
            if rng.random() < 0.5:
                v = " ".join(v[i:i + 4] for i in range(0, len(v), 4))
            return v, loc
        if typ == "CN_ID":
            return self.fk("zh_CN").ssn(), "zh_CN"
        if typ == "IP":
            f = self.fk("en_US")
            kind = rng.choice(["ipv4_public", "ipv4_public", "ipv4_private", "ipv6"])
            return getattr(f, kind)(), kind
        if typ == "EMAIL":
            loc = rng.choice(["en_US", "zh_CN", "de_DE", "fr_FR", "ja_JP"])
            return rng.choice([self.fk(loc).email, self.fk(loc).free_email, self.fk(loc).company_email])(), loc
        if typ == "US_SSN":
            return self.fk("en_US").ssn(), "en_US"
        raise KeyError(typ)

    def other_phone(self) -> tuple[str, str]:
        loc = self.rng.choice(list(OTHER_PHONE_LOCALES))
        return self.fk(loc).phone_number(), loc

    def lookalike(self, kind: str) -> str:
        rng = self.rng
        if kind == "version":
            return rng.choice(harvested_versions())
        if kind == "date":
            d = self.fk("en_US").date_time_between(datetime(1995, 1, 1), datetime(2026, 1, 1))  # not "now"
            fmt = rng.choice(["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y年%m月%d日", "%Y%m%d",
                              "%Y-%m-%d %H:%M:%S", "%Y/%m/%d", "%d-%m-%Y"])
            return d.strftime(fmt)
        if kind == "order":
            n = rng.randint(8, 20)
            return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))
        if kind == "luhn_fail":
            from gristmill.protect.pii_checks import luhn

            while True:
                t = rng.choice(CARD_TYPES)
                d = self.fk("en_US").credit_card_number(t)
                d = d[:-1] + str((int(d[-1]) + rng.randint(1, 9)) % 10)
                if not luhn(d):
                    break
            if rng.random() < 0.5 and len(d) == 16:
                d = " ".join(d[i:i + 4] for i in range(0, 16, 4))
            return d
        if kind == "cn_id_bad":
            from gristmill.protect.pii_checks import cn_id_valid

            v = self.fk("zh_CN").ssn()
            return next(v[:17] + c for c in "0123456789X" if not cn_id_valid(v[:17] + c) and c != v[17])
        if kind == "iban_bad":
            from gristmill.protect.pii_checks import iban_check

            v = self.fk(rng.choice(IBAN_LOCALES)).iban()
            while iban_check(v) == "ok":
                v = v[:2] + f"{rng.randint(2, 98):02d}" + v[4:]
            return v
        if kind == "oid":
            return rng.choice(harvested_oids())
        if kind == "section":
            return ".".join(str(rng.randint(1, 12) if i == 0 else rng.randint(1, 9)) for i in range(rng.randint(3, 5)))
        if kind == "isbn":  # a real ISBN-13 carries its check digit
            body = rng.choice(["9787", "9780", "9783", "9791"]) + f"{rng.randint(100, 999)}{rng.randint(10000, 99999)}"
            check = (10 - sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body)) % 10) % 10
            return f"{body[:3]}-{body[3]}-{body[4:7]}-{body[7:]}-{check}"
        if kind == "amount":
            n = rng.randint(10_000, 99_999_999)
            return rng.choice([f"${n:,}", f"{n:,} 元", f"{n} bytes", f"€{n:,}.{rng.randint(0, 99):02d}",
                               f"{n // 1000} KB", f"{n} 元"])
        raise KeyError(kind)


def _insert(rng: random.Random, para: str, snippet: str, lang: str, busy: list[tuple[int, int]]) -> tuple[str, int]:
    """``para`` with ``snippet`` put at a sentence boundary (or a space) outside the ``busy`` spans (values
    planted before); returns the text and the cut."""
    def free(c: int) -> bool:
        return all(not (a <= c <= b) for a, b in busy)

    cuts = [c for m in re.finditer(r"[.!?;]\s+|\n" if lang == "en" else r"[。！？；，\n]", para) if free(c := m.end())]
    cuts = cuts or [c for m in re.finditer(r"\s", para) if free(c := m.start())] or [len(para)]
    c = rng.choice(cuts)
    pre = "" if c == 0 or para[c - 1] in " \n" else " "
    post = " " if lang == "en" else "。"
    return para[:c] + pre + snippet + post + para[c:], c


def build(part: str, n_docs: int, per_doc: int = 3, lookalike_share: float = 0.5,
          paras: tuple[tuple[str, str], ...] | None = None) -> list[Doc]:
    """``n_docs`` carrier paragraphs of ``part`` (half English, half Chinese; ``paras`` replaces the Debian
    carrier), each with ``per_doc`` planted values or look-alikes."""
    vals = Values(SEEDS[part])
    rng = vals.rng
    paras = paras or carrier(part)
    by_lang = {lang: [p for lg, p in paras if lg == lang] for lang in ("en", "zh")}
    half = PARTS[part]
    docs = []
    types = list(PLANT)
    kinds = list(LOOK)
    for i in range(n_docs):
        lang = "en" if i % 2 == 0 else "zh"
        text = rng.choice(by_lang[lang])
        doc = Doc(lang, text)
        for _ in range(per_doc):
            if rng.random() < lookalike_share:
                kind = rng.choice(kinds)
                v = vals.lookalike(kind)
                tpl = rng.choice(LOOK[kind][half::2] or LOOK[kind])
                pkg = rng.choice(["libfoo", "openssl", "gcc", "python3", "libxml2", "nginx"])
                snippet = tpl.replace("{pkg}", pkg)
                text, at = _insert(rng, doc.text, snippet.replace("{v}", v), lang, _busy(doc))
                start = text.index(v, at)  # after the cut: snippet.index("{v}")
                _shift(doc, at, len(text) - len(doc.text))
                doc.text = text
                doc.look.append((start, start + len(v), kind))
            else:
                typ = rng.choice(types)
                other = typ == "PHONE" and rng.random() < 0.15
                v, origin = vals.other_phone() if other else vals.planted(typ)
                cue, tpl = rng.choice(PLANT[typ][lang][half::2] or PLANT[typ][lang])
                text, at = _insert(rng, doc.text, tpl.replace("{v}", v), lang, _busy(doc))
                start = text.index(v, at)  # after the cut: tpl.index("{v}")
                _shift(doc, at, len(text) - len(doc.text))
                doc.text = text
                doc.gold.append((start, start + len(v), typ, cue, ("other:" if other else "") + origin))
        for a, b, *_ in doc.gold:
            assert doc.text[a:b].strip() == doc.text[a:b] and b > a, doc.text[a:b]
        docs.append(doc)
    return docs


def _busy(doc: Doc) -> list[tuple[int, int]]:
    return [(a, b) for a, b, *_ in doc.gold] + [(a, b) for a, b, _ in doc.look]


def _shift(doc: Doc, at: int, by: int) -> None:
    doc.gold = [(a + by if a >= at else a, b + by if a >= at else b, *r) for a, b, *r in doc.gold]
    doc.look = [(a + by if a >= at else a, b + by if a >= at else b, k) for a, b, k in doc.look]


def fingerprint(docs: list[Doc]) -> str:
    return hashlib.sha1("\x00".join(d.text for d in docs).encode()).hexdigest()[:12]


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=list(PARTS), default="tune")
    ap.add_argument("--docs", type=int, default=6)
    a = ap.parse_args()
    for d in build(a.part, a.docs):
        print(json.dumps({"text": d.text, "gold": d.gold, "look": d.look}, ensure_ascii=False))
