"""IPv4 and IPv6 addresses, told apart from versions, OIDs and section numbers by form and context.

An IPv4 candidate is a run of exactly four dotted numbers. It is dropped outright when it is a piece of a
longer dotted run (``1.3.6.1.4.1``, ``4.2.1.3.5``), when a part has a leading zero (``01.02.03.04``) or is
over 255, when it is glued to a word (``v1.2.3.4``, ``libfoo-1.2.3.4``), and under ``rule="context"`` when a
version word comes right before it (``version``, ``build``, ``release``, ``v``, ``版本``, ``版``). Otherwise
its confidence starts at 0.7: -0.3 when every part is below 100 and two are below 10 (the shape of a
version: ``1.2.10.4``, ``2.5.29.35``), +0.25 for an address word nearby (``server``, ``host``, ``gateway``,
``地址``, ``服务器``), +0.2 for a ``:port`` or ``/prefix`` after it. ``rule="strict"`` also takes 0.3 off an address without an address word;
``rule="any"`` keeps every well-formed address at 0.9 (the behaviour before context rules).

>>> [(s.value, s.confidence) for s in ip_candidates("build version 3.3.8.11, server 81.2.69.160")]
[('3.3.8.11', 0.0), ('81.2.69.160', 0.95)]
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Literal

from gristmill.protect.pii_context import IP_WORDS, VERSION_WORDS, Cues
from gristmill.protect.pii_types import Span

IpRule = Literal["context", "strict", "any"]
_DOTTED = re.compile(r"(?<![\d.])\d+(?:\.\d+){3,}(?!\.?\d)")
_SUFFIX = re.compile(r":\d{1,5}(?!\d)|/\d{1,2}(?!\d)")
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,8}(?![\w:])")
ADDRESS_CUES = Cues(IP_WORDS)


def ip_candidates(text: str, rule: IpRule = "context", version_words: tuple[str, ...] = VERSION_WORDS,
                  window: int = 24, windows: list[tuple[int, int]] | None = None) -> list[Span]:
    """IPv4 and IPv6 candidates in ``text``, with confidences and reasons (dropped ones at confidence 0);
    IPv4 looked for only inside ``windows`` (start, end) when given."""
    out: list[Span] = []
    if "." in text:
        versions = _version_cues(version_words)
        spans = windows if windows is not None else [(0, len(text))]
        for m in (m for a, b in spans for m in _DOTTED.finditer(text, a, b)):
            out.append(_ipv4(text, m, rule, versions, window))
    if "::" in text or text.count(":") >= 7:
        out.extend(_ipv6(text))
    return out


@lru_cache(maxsize=16)
def _version_cues(words: tuple[str, ...]) -> Cues:
    return Cues(words)


def _ipv4(text: str, m: re.Match, rule: IpRule, versions: Cues, window: int) -> Span:
    a, b, value = m.start(), m.end(), m.group()
    parts = value.split(".")

    def drop(why: str) -> Span:
        return Span(a, b, "IP", value, 0.0, (why,))

    if len(parts) != 4:
        return drop(f"a dotted run of {len(parts)} numbers: a version, OID or section number")
    if any(len(p) > 3 or int(p) > 255 for p in parts):
        return drop("a part is over 255")
    if any(len(p) > 1 and p[0] == "0" for p in parts):
        return drop("a part has a leading zero")
    ip = ipaddress.ip_address(value)
    typ = "IP_PRIVATE" if (ip.is_private or ip.is_loopback or ip.is_reserved or ip.is_link_local
                           or ip.is_multicast or ip.is_unspecified) else "IP"
    if rule == "any":
        return Span(a, b, typ, value, 0.9, ("well-formed address (rule: any)",))
    if a and ((text[a - 1].isascii() and text[a - 1].isalnum()) or text[a - 1] in "_-"):
        return Span(a, b, typ, value, 0.0, (f"glued to the word before ({text[max(0, a - 8):a]!r}): a version",))
    cue, word = versions.right_before(text, a)
    if cue > 0:
        return Span(a, b, typ, value, 0.0, (f"after the version word {word!r}",))
    score, why = 0.7, ["well-formed address"]
    if all(int(p) < 100 for p in parts) and sum(int(p) < 10 for p in parts) >= 2:
        score -= 0.3
        why.append("small parts (all below 100, two below 10), the shape of a version")
    cue, word = ADDRESS_CUES.before(text, a, window)
    if cue > 0:
        score += 0.25
        why.append(f"context word {word!r}")
    elif rule == "strict":
        score -= 0.3
        why.append("no address word nearby (rule: strict)")
    if _SUFFIX.match(text, b):
        score += 0.2
        why.append("port or prefix length after it")
    return Span(a, b, typ, value, round(min(max(score, 0.0), 0.99), 2), tuple(why))


def _ipv6(text: str) -> list[Span]:
    out = []
    for m in _IPV6.finditer(text):
        v = m.group()
        head, _, port = v.rpartition(":")
        if v.count(":") == 8 and port.isdigit() and "::" not in v:
            v = head  # eight groups and a port: 2001:db8:0:0:0:0:0:1:22
        if sum(1 for g in v.split(":") if g) < 2 and v != "::1":
            continue
        if "::" not in v and v.count(":") != 7:
            continue
        try:
            ip = ipaddress.ip_address(v)
        except ValueError:
            continue
        typ = "IP_PRIVATE" if (ip.is_private or ip.is_loopback or ip.is_link_local) else "IP"
        out.append(Span(m.start(), m.start() + len(v), typ, v, 0.9, ("valid IPv6 address",)))
    return out
