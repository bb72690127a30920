"""Check digits and issuer tables behind the number detectors: Luhn, card issuer ranges, ISO 13616 IBAN
(per-country length and mod-97), the mainland China resident ID (ISO 7064 MOD 11-2); ISBN, to tell a book
number from a phone.

>>> luhn("4111111111111111"), card_issuer("4111111111111111"), card_issuer("676233287116")
(True, 'Visa', 'Maestro')
>>> iban_check("GB82 WEST 1234 5698 7654 32"), iban_check("GB82 WEST 1234 5698 7654 33")
('ok', 'mod-97 check fails')
>>> cn_id_valid("11010519491231002X"), isbn_valid("9787111407010")
(True, True)
"""

from __future__ import annotations

import re

# Issuer ranges (prefix intervals, inclusive, compared on the first len(lo) digits) and the card lengths each
# issues. Maestro takes every 50 and 56-69 prefix at 12-19 digits, so a 12-digit number needs that prefix.
ISSUERS: tuple[tuple[str, tuple[tuple[str, str], ...], frozenset[int]], ...] = (
    ("Visa", (("4", "4"),), frozenset({13, 16, 19})),
    ("Mastercard", (("51", "55"), ("2221", "2720")), frozenset({16})),
    ("American Express", (("34", "34"), ("37", "37")), frozenset({15})),
    ("Discover", (("6011", "6011"), ("644", "649"), ("65", "65"), ("622126", "622925")), frozenset(range(16, 20))),
    ("Diners Club", (("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")), frozenset(range(14, 20))),
    ("JCB", (("3528", "3589"),), frozenset(range(16, 20))),
    ("JCB", (("1800", "1800"), ("2131", "2131")), frozenset({15})),
    ("UnionPay", (("62", "62"), ("81", "81")), frozenset(range(16, 20))),
    ("Mir", (("2200", "2204"),), frozenset(range(16, 20))),
    ("RuPay", (("60", "60"), ("65", "65"), ("81", "82"), ("508", "508")), frozenset({16})),
    ("Troy", (("9792", "9792"),), frozenset({16})),
    ("UATP", (("1", "1"),), frozenset({15})),
    ("Maestro", (("50", "50"), ("56", "69")), frozenset(range(12, 20))),
)


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of ASCII digits."""
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def card_issuer(digits: str) -> str | None:
    """The issuer whose range and lengths hold ``digits`` (ASCII digits only), or None."""
    n = len(digits)
    for name, ranges, lengths in ISSUERS:
        if n in lengths and any(lo <= digits[:len(lo)] <= hi for lo, hi in ranges):
            return name
    return None


def cn_id_valid(s: str) -> bool:
    """ISO 7064 MOD 11-2 check digit of an 18-digit mainland China resident ID."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(s[:17], weights, strict=True))
    return "10X98765432"[total % 11] == s[17].upper()


# ISO 13616 IBAN registry (SWIFT, release 2024): country -> total length
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def iban_check(text: str) -> str:
    """'ok' when ``text`` (spaces allowed) is an IBAN of a registry country with its length and mod-97
    remainder 1; otherwise what fails."""
    s = _NOT_ALNUM.sub("", text.upper())
    want = IBAN_LENGTHS.get(s[:2])
    if want is None:
        return f"{s[:2]} is not an IBAN country"
    if len(s) != want:
        return f"{s[:2]} IBANs have {want} characters, this has {len(s)}"
    if int("".join(str(int(c, 36)) for c in s[4:] + s[:4])) % 97 != 1:
        return "mod-97 check fails"
    return "ok"


def isbn_valid(digits: str) -> bool:
    """An ISBN-13: a 978/979 prefix and the mod-10 check (weights 1, 3). ISBN-10's mod-11 check passes one
    random 10-digit number in eleven, too weak to tell a book from a phone, so it is not used."""
    if len(digits) == 13 and digits[:3] in ("978", "979") and digits.isdigit():
        return sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits)) % 10 == 0
    return False
