"""PII detectors for English and Chinese text: e-mail, phone numbers (E.164, US, mainland China mobile and
landline), mainland China resident ID (checksum), payment cards (Luhn), IPv4/IPv6 (public or private), URLs
carrying credentials or tokens, secret/API-key shapes, US SSN.

Full-width digits (１３８…) are matched like ASCII ones. Overlapping candidates are resolved
deterministically: the longest span wins, then the more specific type, then the earlier one — so a phone
pattern never takes part of a card or ID number.

>>> [(s.type, s.value) for s in find_pii("邮箱 li.lei@example.cn，手机１３８１２３４５６７８")]
[('EMAIL', 'li.lei@example.cn'), ('PHONE_CN', '１３８１２３４５６７８')]
>>> [s.type for s in find_pii("card 4111 1111 1111 1111, order 13812345678901")]
['CREDIT_CARD']
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_FW = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"＋": "+", "－": "-", "（": "(", "）": ")"})

TYPES = ("EMAIL", "PHONE", "PHONE_CN", "CN_ID", "CREDIT_CARD", "IP", "IP_PRIVATE", "URL_CREDENTIALS", "SECRET",
         "US_SSN")
# more specific types win ties between equally long overlapping spans
PRIORITY = {"SECRET": 0, "URL_CREDENTIALS": 1, "CN_ID": 2, "CREDIT_CARD": 3, "US_SSN": 4, "EMAIL": 5,
            "IP": 6, "IP_PRIVATE": 6, "PHONE_CN": 7, "PHONE": 8}

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+"
                    r"[A-Za-z]{2,24}(?![A-Za-z0-9-])")
_PHONE_CN = re.compile(r"(?<![\dA-Za-z])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
_LANDLINE_CN = re.compile(r"(?<![\dA-Za-z])(?:\(0\d{2,3}\)|0\d{2,3}-)[ ]?\d{7,8}(?!\d)")
_PHONE_INTL = re.compile(r"(?<![\w+])\+(?!86)[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4}(?!\d)")
# national numbers written with a trunk 0 and groups: 0490 75 40 81, 07700 063 966, (08) 8747 6301
_PHONE_NATIONAL = re.compile(r"(?<![\dA-Za-z.-])(?:\(0[1-9]\d{0,3}\)|0[1-9]\d{0,3})[ .-]?\d{2,5}(?:[ .-]\d{2,5}){1,3}(?![\d.-]?\d)")
_PHONE_US = re.compile(r"(?<![\dA-Za-z])(?:\+?1[ .-]?)?(?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\d)")
_CN_ID = re.compile(r"(?<!\d)[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.]\d)")
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")  # validated by ipaddress
_URL_CRED = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@[^\s]+|\bhttps?://[^\s]*[?&](?:access_token|token|api_?key|"
                       r"apikey|key|secret|password|passwd|pwd|sig|signature|auth)=[^\s&#]{6,}[^\s]*", re.I)
_SECRETS = re.compile(
    r"\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{40,}\b|\bxox[baprs]-[A-Za-z0-9-]{10,}\b"
    r"|\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b|\bAIza[0-9A-Za-z_-]{35}\b|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    type: str
    value: str


def luhn(digits: str) -> bool:
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def cn_id_valid(s: str) -> bool:
    """ISO 7064 MOD 11-2 check digit of an 18-digit mainland China resident ID."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(s[:17], weights, strict=True))
    return "10X98765432"[total % 11] == s[17].upper()


def _card_ok(raw: str) -> bool:
    d = re.sub(r"[ -]", "", raw)
    if not 13 <= len(d) <= 19 or not luhn(d) or len(set(d)) == 1:
        return False
    if len(d) == 18 and _CN_ID.fullmatch(d):  # shaped like a resident ID (region, birth date): not a card
        return False
    # Visa, Mastercard, Amex, Discover, UnionPay, JCB (incl. 1800/2131), Diners, Maestro
    return bool(re.match(r"4|5[1-5]|2[2-7]|3[47]|6(?:011|5|4[4-9]|2)|35|1800|2131|30[0-5]|36|38|50[12]\d|5038|5893"
                         r"|6304|6759|676[1-3]", d))


_CLUSTER = re.compile(r"[+(]?\d[\d \-.()]{6,}[\dXx]")      # a run of digits and separators: where numbers live
_SECRET_HINTS = ("AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "sk-", "AIza", "eyJ",
                 "PRIVATE KEY")
_IPV4_FAST = re.compile(r"(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.]\d)")
_CRED_HINT = re.compile(r"[?&](?:access_token|token|api_?key|apikey|key|secret|password|passwd|pwd|sig|signature|auth)=",
                        re.I)


def find_pii(text: str, types: tuple[str, ...] | frozenset[str] = TYPES) -> list[Span]:
    """Non-overlapping PII spans in text order.

    Cheap checks first: the number patterns only run inside runs of digits and separators, the e-mail,
    credential and secret patterns only when their tell-tale characters are present.
    """
    t = text.translate(_FW) if not text.isascii() else text
    cands: list[Span] = []

    def add(m, typ, off=0):
        a, b = m.start() + off, m.end() + off
        cands.append(Span(a, b, typ, text[a:b]))

    if "@" in t and "EMAIL" in types:
        for m in _EMAIL.finditer(t):
            add(m, "EMAIL")
    if "://" in t and "URL_CREDENTIALS" in types and ("@" in t or _CRED_HINT.search(t)):
        for m in _URL_CRED.finditer(t):
            add(m, "URL_CREDENTIALS")
    if "SECRET" in types and any(k in t for k in _SECRET_HINTS):
        for m in _SECRETS.finditer(t):
            add(m, "SECRET")
    number_types = frozenset(types) & {"CN_ID", "CREDIT_CARD", "PHONE_CN", "PHONE", "US_SSN"}
    if number_types:
        for c in _CLUSTER.finditer(t):
            a = max(c.start() - 4, 0)
            b = min(c.end() + 1, len(t))
            w = t[a:b]
            if "CN_ID" in types:
                for m in _CN_ID.finditer(w):
                    if cn_id_valid(m.group()):
                        add(m, "CN_ID", a)
            if "CREDIT_CARD" in types:
                for m in _CARD.finditer(w):
                    if _card_ok(m.group()):
                        add(m, "CREDIT_CARD", a)
            if "PHONE_CN" in types:
                for rx in (_PHONE_CN, _LANDLINE_CN):
                    for m in rx.finditer(w):
                        add(m, "PHONE_CN", a)
            if "PHONE" in types:
                for m in _PHONE_INTL.finditer(w):
                    if sum(ch.isdigit() for ch in m.group()) >= 8:
                        add(m, "PHONE", a)
                for m in _PHONE_US.finditer(w):
                    add(m, "PHONE", a)
                for m in _PHONE_NATIONAL.finditer(w):
                    if 9 <= sum(ch.isdigit() for ch in m.group()) <= 12:
                        add(m, "PHONE", a)
            if "US_SSN" in types:
                for m in _SSN.finditer(w):
                    add(m, "US_SSN", a)
    if ("IP" in types or "IP_PRIVATE" in types) and "." in t:
        for m in _IPV4_FAST.finditer(t):
            if _IPV4.fullmatch(m.group()):
                ip = ipaddress.ip_address(m.group())
                add(m, "IP_PRIVATE" if (ip.is_private or ip.is_loopback or ip.is_reserved) else "IP")
    if ("IP" in types or "IP_PRIVATE" in types) and "::" in t or t.count(":") >= 7:
        for m in _IPV6.finditer(t):
            if m.group().count(":") < 2 or ("::" not in m.group() and m.group().count(":") != 7):
                continue
            try:
                ip = ipaddress.ip_address(m.group())
            except ValueError:
                continue
            add(m, "IP_PRIVATE" if (ip.is_private or ip.is_loopback or ip.is_link_local) else "IP")
    # a window is scanned once per cluster, but clusters never overlap, so spans are found once;
    # drop exact repeats defensively before resolving overlaps
    return resolve(list(dict.fromkeys(cands)))


def resolve(cands: list[Span]) -> list[Span]:
    """Longest span first, then the more specific type, then the earlier start; no two spans overlap."""
    chosen: list[Span] = []
    taken: list[tuple[int, int]] = []
    for s in sorted(cands, key=lambda s: (-(s.end - s.start), PRIORITY[s.type], s.start)):
        if all(s.end <= a or s.start >= b for a, b in taken):
            chosen.append(s)
            taken.append((s.start, s.end))
    return sorted(chosen, key=lambda s: s.start)
