"""Numbers that carry a check: payment cards (issuer range + Luhn), IBANs (ISO 13616), mainland China
resident IDs (MOD 11-2) and US social security numbers (no check, so they lean on form and context).

A card candidate is a whole run of 12–19 digits joined by single spaces or dashes; a longer run (or one
that fails) is looked into for card-shaped pieces (one group, printed in fours, 4-6-5, 4-6-4). Confidence:
0.7 for a number in an issuer's range and lengths that passes Luhn (0.35 with no issuer: it needs a card
word or card grouping); +0.15 printed in card groups, -0.2 in other groups; -0.15 for 12–13 digits without
a card word; +0.25 for a card word nearby (``card``, ``visa``, ``卡号``, ``信用卡``), -0.6 for a word naming
another kind of number (``order``, ``reference``, ``订单``). A failed Luhn check, the shape of a resident
ID or a valid ISBN drops it. A run printed in uniform fours is one number: it is never cut into pieces.

>>> [(s.type, s.confidence, s.why[0]) for s in number_candidates("卡号 6762 3328 7116，订单 4111111111111112")]
[('CREDIT_CARD', 0.99, 'Maestro range, Luhn ok'), ('CREDIT_CARD', 0.0, 'Luhn check fails')]
"""

from __future__ import annotations

import re

from gristmill.protect.pii_checks import IBAN_LENGTHS, card_issuer, cn_id_valid, iban_check, isbn_valid, luhn
from gristmill.protect.pii_context import CARD_WORDS, NOT_PERSONAL_WORDS, SSN_WORDS, Cues
from gristmill.protect.pii_types import Span

CARD_CUES = Cues(CARD_WORDS, NOT_PERSONAL_WORDS)
SSN_CUES = Cues(SSN_WORDS, NOT_PERSONAL_WORDS)
_RUN = re.compile(r"(?<![\w.,\-/])(?<!\d:)\d+(?:[ -]\d+)*(?![\w]|[.,\-]\d)", re.A)
_GROUP = re.compile(r"\d+")
_CARD_GROUPS = re.compile(r"\d{4}(?:([ -])\d{4}){2,3}(?:\1\d{1,4})?|\d{4}([ -])\d{6}\2\d{4,5}|\d{12,19}", re.A)
_CN_ID = re.compile(r"(?<![\dA-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                    r"(?![\dA-Za-z])")
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2})\d{2}(?=[ ]?[A-Z0-9])")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")


def number_candidates(text: str, types: frozenset[str] | set[str] = frozenset({"CREDIT_CARD", "CN_ID", "IBAN",
                                                                                  "US_SSN"}),
                      windows: list[tuple[int, int]] | None = None) -> list[Span]:
    """Card, resident ID, IBAN and SSN candidates in ``text`` (full-width digits already folded), looked for
    only inside ``windows`` (start, end) when given."""
    spans = windows if windows is not None else [(0, len(text))]
    out: list[Span] = []
    if "CREDIT_CARD" in types:
        for m in _scan(_RUN, text, spans):
            if sum(ch.isdigit() for ch in m.group()) >= 12:
                out.extend(_cards(text, m.start(), m.end()))
    if "CN_ID" in types:
        for m in _scan(_CN_ID, text, spans):
            ok = cn_id_valid(m.group())
            out.append(Span(m.start(), m.end(), "CN_ID", m.group(), 0.95 if ok else 0.0,
                            ("check digit ok" if ok else "check digit fails",)))
    if "IBAN" in types and spans:
        out.extend(_ibans(text))
    if "US_SSN" in types:
        for m in _scan(_SSN, text, spans):
            score, why = 0.6, ["area, group and serial in the issued ranges"]
            cue, word = SSN_CUES.before(text, m.start())
            if cue:
                score += 0.3 if cue > 0 else -0.6
                why.append(f"context word {word!r}")
            out.append(Span(m.start(), m.end(), "US_SSN", m.group(), round(max(score, 0.0), 2), tuple(why)))
    return out


def _scan(rx: re.Pattern, text: str, spans: list[tuple[int, int]]):
    for a, b in spans:
        yield from rx.finditer(text, a, b)


def uniform_blocks(text: str, groups: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(first, last + 1) indices into ``groups`` (digit runs of ``text``) of three or more four-digit groups
    joined by one separator: a number printed that way is one number, never to be cut into pieces."""
    out, k = [], 0
    while k < len(groups):
        q = k
        while (q + 1 < len(groups) and groups[q][1] - groups[q][0] == 4 and groups[q + 1][1] - groups[q + 1][0] == 4
               and text[groups[q][1]:groups[q + 1][0]] == text[groups[k][1]:groups[k + 1][0]]):
            q += 1
        if q - k >= 2:
            out.append((k, q + 1))
        k = q + 1
    return out


def _cards(text: str, a: int, b: int) -> list[Span]:
    """The run text[a:b] read whole when it has 12–19 digits; else (or when that fails the checks) its
    card-shaped pieces: one group of 12–19 digits, or groups of four (the last 1–4), 4-6-5, 4-6-4, never
    cutting a block printed in uniform fours."""
    groups = [g.span() for g in _GROUP.finditer(text, a, b)]
    nd = sum(e - s for s, e in groups)
    whole = [_card(text, a, b)] if 12 <= nd <= 19 else []
    if whole and whole[0].confidence > 0:
        return whole
    blocks = uniform_blocks(text, groups)
    found = []
    for i in range(len(groups)):
        for j in range(i + 1, min(len(groups), i + 5) + 1):
            if (i, j) == (0, len(groups)) or any(p < i < q or p < j < q for p, q in blocks):
                continue
            s, e = groups[i][0], groups[j - 1][1]
            if 12 <= sum(y - x for x, y in groups[i:j]) <= 19 and _CARD_GROUPS.fullmatch(text, s, e):
                found.append(_card(text, s, e))
    chosen: list[Span] = []
    for c in sorted((c for c in found if c.confidence > 0), key=lambda c: (-c.confidence, c.start - c.end)):
        if all(c.end <= k.start or c.start >= k.end for k in chosen):
            chosen.append(c)
    return whole + chosen


def _card(text: str, a: int, b: int) -> Span:
    raw = text[a:b]
    d = re.sub(r"\D", "", raw)
    value = Span(a, b, "CREDIT_CARD", raw, 0.0)
    if len(set(d)) == 1:
        return _with(value, 0.0, "one repeated digit")
    if not luhn(d):
        return _with(value, 0.0, "Luhn check fails")
    if len(d) == 18 and _CN_ID.fullmatch(d):
        return _with(value, 0.0, "shaped like a resident ID (region, birth date)")
    if isbn_valid(d):
        return _with(value, 0.0, "a valid ISBN")
    issuer = card_issuer(d)
    if issuer:
        score, why = 0.7, [f"{issuer} range, Luhn ok"]
    else:
        score, why = 0.35, [f"Luhn ok, but no issuer has {len(d)}-digit numbers starting {d[:4]}"]
    if len(re.findall(r"\d+", raw)) > 1:
        if _CARD_GROUPS.fullmatch(raw):
            score += 0.15
            why.append("printed in card groups")
        else:
            score -= 0.2
            why.append("grouped unlike a card")
    cue, word = CARD_CUES.before(text, a)
    if cue > 0:
        score += 0.25
        why.append(f"context word {word!r}")
    elif cue < 0:
        score -= 0.6
        why.append(f"context word {word!r} names another kind of number")
    if len(d) <= 13 and cue <= 0:
        score -= 0.15
        why.append(f"short ({len(d)} digits), no card word")
    return Span(a, b, "CREDIT_CARD", raw, round(min(max(score, 0.0), 0.99), 2), tuple(why))


def _with(s: Span, confidence: float, why: str) -> Span:
    return Span(s.start, s.end, s.type, s.value, confidence, (why,))


def _ibans(text: str) -> list[Span]:
    out = []
    for m in _IBAN_START.finditer(text):
        want = IBAN_LENGTHS.get(m.group(1))
        if want is None:
            continue
        i, n = m.start(), 0
        while i < len(text) and n < want:
            if text[i].isascii() and text[i].isalnum():
                n += 1
            elif not (text[i] == " " and i + 1 < len(text) and text[i + 1].isalnum() and text[i - 1] != " "):
                break
            i += 1
        if n < want or (i < len(text) and text[i].isascii() and text[i].isalnum()):
            continue
        value = text[m.start():i]
        check = iban_check(value)
        ok = check == "ok"
        out.append(Span(m.start(), i, "IBAN", value, 0.95 if ok else 0.0,
                        (f"{m.group(1)} length and mod-97 check ok" if ok else check,)))
    return out
