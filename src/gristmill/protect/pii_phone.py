"""Phone numbers of any region, read with libphonenumber (the ``phonenumbers`` package, offline metadata).

A cheap scan finds runs of digits and separators first; dates and dotted runs (versions, OIDs, addresses)
split a run. Only a piece with 7–15 digits is handed to ``phonenumbers``: once with its ``+`` / ``00``
country code, or once per region of ``regions`` whose number lengths fit. The best reading gets a
confidence from evidence, each step of which ``explain`` shows:

- ``valid`` (an assigned range of the region) 0.45, or only ``possible`` (a length the region uses) 0.25;
  a national number written without the trunk prefix its region prints (``9472 7916`` read as German)
  counts as possible only;
- +0.35 an international prefix; +0.1 per group boundary where the digits are grouped as the region prints
  them (at most 0.3; half that when printed groups are merged); +0.1 an extension; +0.1 an unseparated
  mobile number of 11 or more digits (``13812345678``);
- the nearest context word in the same clause: +0.35 for a phone word (``tel``, ``call``, ``fax``,
  ``电话``, ``手机``, ``致电``), -0.6 for a word naming another kind of number (``order``, ``version``,
  ``订单``); without a phone word, -0.2 for a short number (8 digits or fewer);
- -0.6 for an amount or a measure (a currency before, a unit after); dropped: a valid ISBN, a number that
  is one digit repeated but for two (``017777777777``).

When the whole piece reads badly, pieces of it are read too (-0.3: a number inside a longer run), but only
near a phone word; a first group of 1–3 digits before a number (``21 284 698 2548``) stays in the mask. The
span covers the country code and the extension.

>>> [(c.value, c.type, c.confidence) for c in phone_candidates("Desk: +1-903-140-4508x769", ("US",))]
[('+1-903-140-4508x769', 'PHONE', 0.99)]
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import product

import phonenumbers as pn
from phonenumbers import PhoneMetadata, PhoneNumberFormat

from gristmill.protect.pii_checks import isbn_valid
from gristmill.protect.pii_context import NOT_PERSONAL_WORDS, PHONE_WORDS, Cues
from gristmill.protect.pii_numbers import uniform_blocks
from gristmill.protect.pii_types import Span

DEFAULT_REGIONS = ("US", "CN", "GB", "DE", "FR", "IN", "JP", "BR", "RU", "ES", "IT", "KR", "AU", "CA", "MX", "NL",
                   "TW", "HK", "SG")
PHONE_CUES = Cues(PHONE_WORDS, NOT_PERSONAL_WORDS)
_UNIT_AFTER = re.compile(r"\s?(?:%|bytes?|[kmgt]i?b|bits?|[kmgt]?hz|ms|km|kg|mm|cm|px|usd|eur|rmb|yuan|dollars?|"
                         r"元|美元|块|人|次|个|位|年|月|日|号|米|公里|万|亿)(?![a-z])", re.I)
_CURRENCY_BEFORE = re.compile(r"(?:[$€£¥￥]|usd|eur|rmb|cny)\s?$", re.I)
# a run of digits joined by single separators, with an optional + or 00 and an extension
_RUN = re.compile(r"(?<![A-Za-z0-9_+.,\-/])(?<!\d:)(?:\+\s?|\(\+?)?\d(?:[\d()]|[ .\-/](?=[\d(])| (?=\d)|\) ?(?=\d)"
                  r"|[ -]\((?=\d))*\d\)?(?:\s?(?:x|ext\.?|extension|#|分机|转)\s?\d{1,6})?(?![A-Za-z0-9_.,\-]?\d)(?!@)",
                  re.I | re.A)
_EXT = re.compile(r"\s?(?:x|ext\.?|extension|#|分机|转)\s?(\d{1,6})$", re.I)
_DATE = re.compile(r"(?<!\d)(?:(?:19|20)\d\d[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])"
                   r"|(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?:(?:19|20)\d\d|\d\d)"
                   r"|(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(?!\d)")
_DOTTED = re.compile(r"\d+(?:\.\d+){3,}")  # versions, OIDs, section numbers, addresses
_GROUP = re.compile(r"\d+")
MAX_DIGITS = 15  # E.164: at most 15 digits with the country code


def _pieces(run: str) -> list[tuple[int, int]]:
    """The parts of a run left between dates and dotted numbers (a ``+`` number keeps its dots)."""
    cut = [m.span() for m in _DATE.finditer(run)]
    if not run.startswith("+"):
        for m in _DOTTED.finditer(run):
            groups = m.group().split(".")
            if not (len(groups) == 5 and all(len(g) == 2 for g in groups)):  # 01.23.45.67.89: a French number
                cut.append(m.span())
    out, last = [], 0
    for a, b in sorted(cut) + [(len(run), len(run))]:
        if a >= last:
            s, e = _strip(run, last, a)
            if e - s >= 7:
                out.append((s, e))
            last = b
    return out


def _strip(s: str, a: int, b: int) -> tuple[int, int]:
    while a < b and not (s[a].isdigit() or s[a] in "+("):
        a += 1
    while b > a and not (s[b - 1].isdigit() or s[b - 1] == ")"):
        b -= 1
    if b > a and s[b - 1] == ")" and s.count("(", a, b) < s.count(")", a, b):
        b -= 1
    if b > a and s[a] == "(" and s.count("(", a, b) > s.count(")", a, b):
        a += 1
    return a, b


@lru_cache(maxsize=256)
def _plan(region: str) -> tuple[str, frozenset[int], re.Pattern]:
    """A region's trunk prefix, national number lengths and the pattern of its valid national numbers (the
    union of its number types' patterns: what ``is_valid_number`` tests, without parsing)."""
    md = PhoneMetadata.metadata_for_region(region)
    lengths = frozenset(md.general_desc.possible_length) or frozenset(range(4, 18))
    kinds = [getattr(md, k) for k in ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "voip",
                                      "personal_number", "pager", "uan", "voicemail")]
    pats = [k.national_number_pattern for k in kinds if k is not None and k.national_number_pattern]
    return md.national_prefix or "", lengths, re.compile("(?:" + "|".join(pats or [r"\d+"]) + ")")


@lru_cache(maxsize=8192)
def _regions_for(digits: str, regions: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Regions whose numbering plan could hold ``digits`` (a cheap look at lengths and the region's overall
    pattern, before ``phonenumbers`` parses anything): (likely valid, only possible)."""
    valid, possible = [], []
    for r in regions:
        np, lengths, pattern = _plan(r)
        nsns = [digits, digits[len(np):]] if np and digits.startswith(np) else [digits]
        fits = [n for n in nsns if len(n) in lengths]
        if any(pattern.fullmatch(n) for n in fits):
            valid.append(r)
        elif fits:
            possible.append(r)
    return valid, possible


@lru_cache(maxsize=256)
def _shapes(region: str) -> frozenset[tuple[int, ...]]:
    """Digit-group lengths of every way ``region`` prints a national number (with and without its trunk
    prefix), from libphonenumber's format patterns: a cheap test of whether grouping can match there."""
    md = PhoneMetadata.metadata_for_region(region)
    main = PhoneMetadata.metadata_for_region(pn.region_code_for_country_code(md.country_code)) or md
    out: set[tuple[int, ...]] = set()
    for f in main.number_format:
        ranges = [(int(a or 1), int(b or a or 1)) for a, b in re.findall(r"\\d(?:\{(\d+)(?:,(\d+))?\})?", f.pattern)]
        if len(ranges) > 6:
            continue
        for lens in product(*(range(a, b + 1) for a, b in ranges)):
            printed = [sum(lens[int(k) - 1] for k in re.findall(r"\\(\d)", g)) for g in re.split(r"[^\\\d]+", f.format)
                       if "\\" in g]
            out.add(tuple(printed))
            rule = re.fullmatch(r"(.*?)(\d*)\\1.*", f.national_prefix_formatting_rule or "")
            if rule and printed:  # the trunk prefix as it is printed: glued to the first group or apart
                apart = tuple(len(x) for x in re.findall(r"\d+", rule.group(1)))
                out.add((*apart, printed[0] + len(rule.group(2)), *printed[1:]))
    return frozenset(out)


def _fit(lens: tuple[int, ...], region: str) -> int:
    """2 when the written group lengths are one of the region's printed shapes, 1 when they merge one, else 0."""
    best = 0
    for shape in _shapes(region):
        if sum(shape) != sum(lens):
            continue
        if shape == lens:
            return 2
        i = 0
        for n in lens:
            acc = 0
            while i < len(shape) and acc < n:
                acc += shape[i]
                i += 1
            if acc != n:
                break
        else:
            best = 1
    return best


@lru_cache(maxsize=8192)
def read_number(text: str, regions: tuple[str, ...]) -> tuple | None:
    """The best reading of ``text`` as a phone number: (score, reasons, short, country code), or None when
    no region can hold it. Cached: the same string is read once per process."""
    ext = _EXT.search(text)
    body = text[:ext.start()] if ext else text
    digits = re.sub(r"\D", "", body)
    if max(map(digits.count, set(digits))) >= len(digits) - 2 or isbn_valid(digits):
        return None  # one digit repeated (0100000000, 017777777777), or a book number
    intl = text.startswith(("+", "(+")) or (digits.startswith("00") and len(digits) > 9)
    tg = _GROUP.findall(body)
    likely = None  # regions whose overall pattern fits; None: not looked at (international numbers)
    g = len(tg) - 1
    bonus = {2: min(0.1 * g, 0.3), 1: min(0.05 * g, 0.15), 0: 0.1 * (g == 0 and len(digits) >= 11)}
    if intl:
        tries = [("+" + body.lstrip("(+0 ") if digits.startswith("00") else body.replace("(+", "+", 1), None, 1.0)]
    else:
        valid, possible = _regions_for(digits, regions)
        lens = tuple(map(len, tg))
        # each region's best possible score, from its number pattern and printed shapes, before parsing;
        # regions are read best first, and the search stops when no region left can beat the best reading
        bound = {r: (0.45 if r in valid else 0.25) + bonus[_fit(lens, r) if g else 0] for r in valid + possible}
        tries = [(body, r, bound[r]) for r in sorted(bound, key=lambda r: -bound[r])]
        likely = set(valid)
    best = None
    for s, region, most in tries:
        if best is not None and round(most, 3) <= round(best[0][0] - 0.1 * (ext is not None), 3):
            break
        try:
            num = pn.parse(s, region)
        except pn.NumberParseException:
            continue
        if not pn.is_possible_number(num):
            continue
        valid = (likely is None or region in likely) and pn.is_valid_number(num)
        printed = pn.format_number(num, PhoneNumberFormat.INTERNATIONAL if intl else PhoneNumberFormat.NATIONAL)
        where = (pn.region_code_for_number(num) if valid else None) or region or f"+{num.country_code}"
        why = []
        if valid and not intl and re.sub(r"\D", "", printed) != digits:
            valid = False
            why.append(f"written without the {where} trunk prefix")
        score = 0.45 if valid else 0.25
        why.insert(0, f"{'valid' if valid else 'possible'} {where} number")
        if intl:
            score += 0.35
            why.append("international prefix")
        fg = _GROUP.findall(printed)
        if len(tg) > 1 and tg == fg:
            score += min(0.1 * (len(tg) - 1), 0.3)
            why.append(f"grouped as printed ({len(tg)} groups)")
        elif len(tg) > 1 and _merged(tg, fg):
            score += min(0.05 * (len(tg) - 1), 0.15)
            why.append("groups merged from the printed form")
        elif valid and len(tg) == 1 and len(digits) >= 11 and pn.number_type(num) == pn.PhoneNumberType.MOBILE:
            score += 0.1
            why.append("unseparated mobile number")
        if ext:
            score += 0.1
            why.append(f"extension {ext.group(1)}")
        short = not intl and len(str(num.national_number)) <= 8
        if best is None or (score, valid) > best[0]:
            best = ((score, valid), tuple(why), short, num.country_code)
    if best is None:
        return None
    return round(best[0][0], 3), best[1], best[2], best[3]


def _merged(tg: list[str], fg: list[str]) -> bool:
    """Each written group is a run of consecutive printed groups."""
    i = 0
    for g in tg:
        acc = ""
        while i < len(fg) and len(acc) < len(g):
            acc += fg[i]
            i += 1
        if acc != g:
            return False
    return i == len(fg)


def phone_candidates(text: str, regions: tuple[str, ...], floor: float = 0.0, window: int = 32,
                     windows: list[tuple[int, int]] | None = None, taken: list[tuple[int, int]] = ()) -> list[Span]:
    """Phone candidates in ``text`` (ASCII digits; full-width forms already folded), each with a confidence,
    looked for only inside ``windows`` (start, end) when given. A reading whose best possible confidence
    (from its form and context alone) is below ``floor``, or that lies inside a ``taken`` span, is not
    handed to ``phonenumbers`` at all: that is what keeps text full of other numbers fast."""
    out: list[Span] = []
    spans = windows if windows is not None else [(0, len(text))]
    for m in (m for a, b in spans for m in _RUN.finditer(text, a, b)):
        run = m.group()
        if sum(ch.isdigit() for ch in run) >= 7:
            for a, b in _pieces(run):
                a, b = m.start() + a, m.start() + b
                if not any(x <= a and b <= y for x, y in taken):
                    out.extend(_piece_candidates(text, a, b, regions, window, floor))
    return out


def _bound(text: str, s: int, e: int, adj: float, cue: int, regions: tuple[str, ...]) -> float:
    """The most confidence a reading of text[s:e] can get, before ``phonenumbers`` reads it."""
    body = _EXT.sub("", text[s:e])
    digits = re.sub(r"\D", "", body)
    nd = len(digits)
    intl = body.startswith(("+", "(+")) or (body.startswith("00") and nd > 9)
    if intl:
        base = 0.8
    else:
        valid, possible = _regions_for(digits, regions)
        base = 0.45 if valid else 0.25 if possible else -1.0
    g = len(_GROUP.findall(body))
    top = base + (min(0.1 * (g - 1), 0.3) if g > 1 else 0.1 * (nd >= 11)) + 0.1 * (body != text[s:e])
    top += adj + (0.35 if cue > 0 else -0.6 if cue < 0 else 0.0)
    if cue <= 0 and not intl and nd <= 8:
        top -= 0.2
    return top


def _windows(text: str, a: int, b: int, cue: int) -> list[tuple[int, int, float, str]]:
    """(start, end, adjustment, note) of the readings to try for the piece text[a:b]."""
    piece = text[a:b]
    body = _EXT.sub("", piece)
    nd = sum(ch.isdigit() for ch in body)
    out = [(a, b, 0.0, "")] if nd <= MAX_DIGITS else []
    groups = [g.span() for g in _GROUP.finditer(body)]
    if len(groups) < 2:
        return out
    if groups[0][1] <= 3 and not piece.startswith(("+", "(")):  # a country or trunk code written without +
        out.append((a + groups[1][0], b, 0.0, f"first group {piece[:groups[0][1]]!r} kept in the mask"))
    if cue > 0 or nd > MAX_DIGITS:  # two numbers side by side, or a number inside a longer run
        blocks = uniform_blocks(body, groups)
        for i in range(len(groups)):
            for j in range(i + 1, min(len(groups), i + 6) + 1):
                if any(p < i < q or p < j < q for p, q in blocks):
                    continue  # never cut a block printed in uniform fours (a card or reference number)
                if (i, j) != (0, len(groups)) and 7 <= sum(e - s for s, e in groups[i:j]) <= MAX_DIGITS:
                    s, e = groups[i][0], groups[j - 1][1]
                    s -= s > 0 and body[s - 1] in "(+"
                    e += e < len(body) and body[e] == ")" and body.count("(", s, e) > body.count(")", s, e)
                    out.append((a + s, a + e, -0.3, "a number inside a longer run"))
    return out


def _piece_candidates(text: str, a: int, b: int, regions, window: int, floor: float) -> list[Span]:
    if isbn_valid(re.sub(r"\D", "", text[a:b])):
        return []  # a book number, whatever part of it reads as a phone
    cue, word = PHONE_CUES.before(text, a, window)
    if cue == 0:
        cue, word = max(PHONE_CUES.after(text, b), (0, ""))  # a word after may name the line ("office")
    found: list[Span] = []
    for s, e, adj, note in _windows(text, a, b, cue):
        if floor > 0 and _bound(text, s, e, adj, cue, regions) < floor:
            continue
        reading = read_number(text[s:e], regions)
        if reading is None:
            continue
        score, why, short, cc = reading
        why = list(why) + ([note] if note else [])
        s = a if note.startswith("first group") else s
        score += adj
        if cue > 0:
            score += 0.35
            why.append(f"context word {word!r}")
        else:
            if cue < 0:
                score -= 0.6
                why.append(f"context word {word!r} names another kind of number")
            if short:
                score -= 0.2
                why.append("short number, no phone word")
        if _UNIT_AFTER.match(text, e) or _CURRENCY_BEFORE.search(text, max(0, s - 5), s):
            score -= 0.6
            why.append("an amount or a measure")
        found.append(Span(s, e, "PHONE_CN" if cc == 86 else "PHONE", text[s:e], round(min(max(score, 0.0), 0.99), 2),
                          tuple(why)))
    chosen: list[Span] = []  # the most confident readings that do not overlap
    for c in sorted(found, key=lambda c: (-c.confidence, c.start - c.end)):
        if all(c.end <= k.start or c.start >= k.end for k in chosen):
            chosen.append(c)
    return chosen


def clear_caches() -> None:
    """Forget every number read so far (for benchmarks: a corpus rarely repeats a number)."""
    read_number.cache_clear()
    _regions_for.cache_clear()
