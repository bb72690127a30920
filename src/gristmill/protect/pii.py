"""PII detection for English and Chinese text, with a confidence and reasons for every candidate.

Types: e-mail; phone numbers of any region (libphonenumber; ``PHONE_CN`` for +86 numbers); mainland China
resident ID (check digit); payment cards (issuer range and Luhn); IBAN (ISO 13616 length and mod-97);
IPv4/IPv6 (public or private; versions, OIDs and section numbers are not addresses); URLs carrying
credentials or tokens; secret/API-key shapes; US SSN.

Each detector proposes candidates with a confidence and the evidence behind it (:mod:`pii_phone`,
:mod:`pii_ip`, :mod:`pii_numbers`); a candidate is kept when its confidence reaches the type's
``min_confidence`` (default 0.5). Overlaps among kept ones go to the longest span, then the more specific
type, then the more confident, then the earlier one, so a phone never takes part of a card, an IBAN or an ID.
Full-width digits (１３８…) are read like ASCII ones. ``explain`` (and ``gristmill pii explain``) shows every
candidate with the reasons it is kept or dropped.

>>> [(s.type, s.value) for s in find_pii("邮箱 li.lei@example.cn，手机１３８１２３４５６７８")]
[('EMAIL', 'li.lei@example.cn'), ('PHONE_CN', '１３８１２３４５６７８')]
>>> [s.type for s in find_pii("card 4111 1111 1111 1111, build version 3.3.8.11")]
['CREDIT_CARD']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gristmill.protect.pii_checks import cn_id_valid, iban_check, luhn
from gristmill.protect.pii_context import VERSION_WORDS
from gristmill.protect.pii_ip import IpRule, ip_candidates
from gristmill.protect.pii_numbers import number_candidates
from gristmill.protect.pii_phone import DEFAULT_REGIONS, phone_candidates
from gristmill.protect.pii_types import PRIORITY, TYPES, Span

__all__ = ["TYPES", "PRIORITY", "Span", "PiiConfig", "DEFAULT_REGIONS", "find_pii", "candidates", "decide",
           "explain", "make_config", "resolve", "luhn", "cn_id_valid", "iban_check"]

_FW = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"＋": "+", "－": "-", "（": "(", "）": ")"})
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+"
                    r"[A-Za-z]{2,24}(?![A-Za-z0-9-])")
# the last label of an "address" like icon@2x.png or pkg@latest.tar: a file, not a mailbox
_FILE_EXT = frozenset((
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "pdf", "txt", "md", "rst", "html",
    "htm", "css", "js", "mjs", "ts", "json", "yaml", "yml", "xml", "toml", "ini", "cfg", "conf", "py", "pyc", "c",
    "h", "cc", "cpp", "hpp", "rs", "go", "java", "class", "jar", "sh", "bat", "exe", "dll", "so", "zip", "gz", "tgz",
    "bz2", "xz", "zst", "tar", "deb", "rpm", "whl", "lock", "log", "csv", "tsv", "mp3", "mp4", "wav", "ogg", "mov",
    "avi"))
_URL_CRED = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@[^\s]+|\bhttps?://[^\s]*[?&](?:access_token|token|api_?key|"
                       r"apikey|key|secret|password|passwd|pwd|sig|signature|auth)=[^\s&#]{6,}[^\s]*", re.I)
_SECRETS = re.compile(
    r"\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{40,}\b|\bxox[baprs]-[A-Za-z0-9-]{10,}\b"
    r"|\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b|\bAIza[0-9A-Za-z_-]{35}\b|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----")
_SECRET_HINTS = ("AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "sk-", "AIza", "eyJ",
                 "PRIVATE KEY")
_CRED_HINT = re.compile(r"[?&](?:access_token|token|api_?key|apikey|key|secret|password|passwd|pwd|sig|signature|auth)=",
                        re.I)
_CLUSTER = re.compile(r"(?:\+\s?|\(\+?)?\d[\d \-.()/+]*")  # digits and separators: where numbers live
DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class PiiConfig:
    """What to look for and how sure to be. ``min_confidence`` maps a type to the lowest confidence kept
    (types not named use 0.5); ``phone_regions`` are ISO 3166 codes whose national formats are read;
    ``ip_rule`` and ``version_words`` decide when a dotted quad is an address (see :mod:`pii_ip`)."""

    types: frozenset[str] = frozenset(TYPES)
    min_confidence: dict[str, float] = field(default_factory=dict)
    phone_regions: tuple[str, ...] = DEFAULT_REGIONS
    ip_rule: IpRule = "context"
    version_words: tuple[str, ...] = VERSION_WORDS

    def threshold(self, typ: str) -> float:
        return self.min_confidence.get(typ, DEFAULT_MIN_CONFIDENCE)


DEFAULT = PiiConfig()


def make_config(types=TYPES, min_confidence: dict | None = None, phone_regions=DEFAULT_REGIONS,
                ip_rule: IpRule = "context", version_words=VERSION_WORDS) -> PiiConfig:
    """A checked :class:`PiiConfig`: unknown types, confidences outside [0, 1] and regions libphonenumber does
    not know raise :class:`GristmillError` with the accepted values."""
    import phonenumbers

    from gristmill.errors import GristmillError

    mc = dict(min_confidence or {})
    for t, v in mc.items():
        if t not in TYPES:
            raise GristmillError(f"min_confidence names an unknown PII type {t!r}", hint="types: " + ", ".join(TYPES))
        if not 0 <= v <= 1:
            raise GristmillError(f"min_confidence of {t} is {v}; a confidence is between 0 and 1")
    regions = tuple(str(r).upper() for r in phone_regions)
    unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise GristmillError(f"unknown phone region(s): {', '.join(unknown)}",
                             hint="use ISO 3166 two-letter codes, e.g. US, CN, GB, DE, FR, IN, JP")
    return PiiConfig(frozenset(types), mc, regions, ip_rule, tuple(version_words))


def _windows(t: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Where numbers live, from one cheap scan: (windows around runs of 7 or more digits and separators, for
    cards, IDs, IBANs, SSNs and phones; windows around dotted runs, for IPv4). Each window reaches a few
    characters past its run, so an extension (``x769``, ``转 8021``) and the detectors' look-aheads see the
    real text; overlapping windows are merged, so nothing is found twice."""
    numbers: list[tuple[int, int]] = []
    dotted: list[tuple[int, int]] = []
    for m in _CLUSTER.finditer(t):
        run = m.group()
        nd = sum(c.isdigit() for c in run)
        if nd >= 7:
            _add(numbers, m.start(), m.end() + 16)
        if nd >= 4 and run.count(".") >= 3:
            _add(dotted, m.start(), m.end() + 2)
    n = len(t)
    return [(a, min(b, n)) for a, b in numbers], [(a, min(b, n)) for a, b in dotted]


def _add(windows: list[tuple[int, int]], a: int, b: int) -> None:
    if windows and a <= windows[-1][1]:
        windows[-1] = (windows[-1][0], max(b, windows[-1][1]))
    else:
        windows.append((a, b))


def candidates(text: str, config: PiiConfig = DEFAULT, prune: bool = False) -> list[Span]:
    """Every candidate any detector proposes, kept or not, in text order (values from the original text).
    ``prune`` skips phone readings that cannot reach the phone types' minimum confidence."""
    t = text.translate(_FW) if not text.isascii() else text
    types = config.types
    out: list[Span] = []
    if "@" in t and "EMAIL" in types:
        for m in _EMAIL.finditer(t):
            tld = m.group().rsplit(".", 1)[1].lower()
            bad = tld in _FILE_EXT
            out.append(Span(m.start(), m.end(), "EMAIL", m.group(), 0.2 if bad else 0.95,
                            (f"ends in the file extension .{tld}" if bad else "address form",)))
    if "://" in t and "URL_CREDENTIALS" in types and ("@" in t or _CRED_HINT.search(t)):
        out += [Span(m.start(), m.end(), "URL_CREDENTIALS", m.group(), 0.9, ("credentials or token in a URL",))
                for m in _URL_CRED.finditer(t)]
    if "SECRET" in types and any(k in t for k in _SECRET_HINTS):
        out += [Span(m.start(), m.end(), "SECRET", m.group(), 0.95, ("key or token shape",))
                for m in _SECRETS.finditer(t)]
    numbers, dotted = _windows(t)
    if numbers:
        found = number_candidates(t, types & {"CREDIT_CARD", "CN_ID", "IBAN", "US_SSN"}, numbers)
        out += found
        if types & {"PHONE", "PHONE_CN"}:
            floor = min(config.threshold("PHONE"), config.threshold("PHONE_CN")) if prune else 0.0
            # a piece inside a card, ID or IBAN that is kept would lose to it anyway: not read when pruning
            taken = [(s.start, s.end) for s in found if prune and s.confidence >= max(config.threshold(s.type), 1e-9)]
            out += [s for s in phone_candidates(t, config.phone_regions, floor, windows=numbers, taken=taken)
                    if s.type in types]
    if types & {"IP", "IP_PRIVATE"} and (dotted or "::" in t or t.count(":") >= 7):
        out += [s for s in ip_candidates(t, config.ip_rule, config.version_words, windows=dotted)
                if s.type in types or s.confidence == 0]
    if t is not text:  # full-width forms were folded: report the original characters
        out = [Span(s.start, s.end, s.type, text[s.start:s.end], s.confidence, s.why) for s in out]
    return sorted(dict.fromkeys(out), key=lambda s: (s.start, s.end, s.type))


def decide(cands: list[Span], config: PiiConfig = DEFAULT) -> list[tuple[Span, bool, str]]:
    """(candidate, kept, why kept or dropped) for each candidate, in text order."""
    passing = [s for s in cands if s.confidence >= config.threshold(s.type) and s.confidence > 0]
    kept = set(resolve(passing))
    out = []
    for s in cands:
        if s in kept:
            out.append((s, True, f"confidence {s.confidence:.2f} >= {config.threshold(s.type):.2f}"))
        elif s in passing:
            winner = next(k for k in kept if k.start < s.end and s.start < k.end)
            out.append((s, False, f"overlaps the {winner.type} {winner.value!r}, which wins"))
        else:
            out.append((s, False, f"confidence {s.confidence:.2f} < {config.threshold(s.type):.2f}"))
    return out


def find_pii(text: str, types: tuple[str, ...] | frozenset[str] = TYPES, config: PiiConfig | None = None) -> list[Span]:
    """Non-overlapping PII spans in text order (those whose confidence reaches the type's minimum)."""
    cfg = config or DEFAULT
    if frozenset(types) != cfg.types:
        cfg = PiiConfig(frozenset(types), cfg.min_confidence, cfg.phone_regions, cfg.ip_rule, cfg.version_words)
    return resolve([s for s in candidates(text, cfg, prune=True)
                    if s.confidence > 0 and s.confidence >= cfg.threshold(s.type)])


def resolve(cands: list[Span]) -> list[Span]:
    """Longest span first, then the more specific type, then the higher confidence, then the earlier start;
    no two spans overlap."""
    chosen: list[Span] = []
    taken: list[tuple[int, int]] = []
    for s in sorted(cands, key=lambda s: (-(s.end - s.start), PRIORITY[s.type], -s.confidence, s.start)):
        if all(s.end <= a or s.start >= b for a, b in taken):
            chosen.append(s)
            taken.append((s.start, s.end))
    return sorted(chosen, key=lambda s: s.start)


def explain(text: str, config: PiiConfig = DEFAULT) -> str:
    """One block per candidate: type, span, value, confidence, kept or dropped and why.

    >>> print(explain("版本 2.6.32.1，服务器 81.2.69.160"))
    IP [3:11] '2.6.32.1' confidence 0.00 DROPPED: confidence 0.00 < 0.50
        after the version word '版本'
    IP [16:27] '81.2.69.160' confidence 0.95 KEPT: confidence 0.95 >= 0.50
        well-formed address; context word '服务器'
    """
    lines = []
    for s, kept, why in decide(candidates(text, config), config):
        lines.append(f"{s.type} [{s.start}:{s.end}] {s.value!r} confidence {s.confidence:.2f} "
                     f"{'KEPT' if kept else 'DROPPED'}: {why}")
        if s.why:
            lines.append("    " + "; ".join(s.why))
    return "\n".join(lines) if lines else "no candidates"
