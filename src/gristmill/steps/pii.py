"""``pii``: find personal data (English and Chinese formats; phones of any region), count it per type as
signals, and mask it, replace it with a stable pseudonym, or reject the document — chosen per type.

Every candidate gets a confidence from validators (Luhn, IBAN mod-97, ID check digit, libphonenumber) and
context words; ``min_confidence`` sets the bar per type. ``gristmill pii explain TEXT`` shows why each
candidate is kept or dropped.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa

from gristmill.params import param
from gristmill.protect.pii import DEFAULT_REGIONS, TYPES, find_pii, make_config
from gristmill.protect.pii_context import VERSION_WORDS
from gristmill.steps.base import Result, Step, register, text_column, with_column

Action = Literal["mask", "pseudonym", "reject", "keep"]
PiiType = Literal["EMAIL", "PHONE", "PHONE_CN", "CN_ID", "CREDIT_CARD", "IBAN", "IP", "IP_PRIVATE", "URL_CREDENTIALS",
                  "SECRET", "US_SSN"]


@dataclass
class PiiParams:
    types: list[PiiType] = param(list(TYPES), "which kinds of PII to look for")
    action: Action = param("mask", "what to do with a match: mask (<EMAIL>), pseudonym (EMAIL_1a2b3c4d, a salted "
                                   "hash: the same value gets the same pseudonym), reject the document, or keep")
    actions: dict[str, Action] = param({"IP_PRIVATE": "keep"}, "per-type overrides of action")
    salt: str = param("gristmill", "salt of the pseudonym hash (keep it secret to prevent reversal)")
    min_confidence: dict[str, float] = param({}, "per-type lowest confidence kept, 0 to 1 (0.5 for a type not "
                                                 "named); raise it for fewer false alarms, lower it for recall",
                                             min=0, max=1)
    phone_regions: list[str] = param(list(DEFAULT_REGIONS), "ISO 3166 regions whose national phone formats are "
                                                            "read (numbers with +country code are read for "
                                                            "every region)")
    ip_rule: Literal["context", "strict", "any"] = param(
        "context", "when a dotted quad is an address: context (not after a version word, not in a longer dotted "
                   "run, no leading zeros; small parts need an address word), strict (also needs an address "
                   "word), any (every well-formed address)")
    version_words: list[str] = param(list(VERSION_WORDS), "words after which a dotted number is a version, "
                                                          "not an address")


@register
class Pii(Step):
    """Detect PII (e-mail, phones of any region, China ID, cards, IBAN, IPs, credentials, keys, SSN); mask or reject."""

    name = "pii"
    Params = PiiParams
    outputs = ("text", "pii_total", *(f"pii_{t.lower()}" for t in TYPES))

    def __init__(self, params: PiiParams, label: str | None = None) -> None:
        super().__init__(params, label)
        self.config = make_config(params.types, params.min_confidence, params.phone_regions, params.ip_rule,
                                  params.version_words)

    def columns(self) -> list[str]:
        return ["pii_total", *(f"pii_{t.lower()}" for t in self.params.types)]

    def _replacement(self, typ: str, value: str, action: str) -> str:
        if action == "mask":
            return f"<{typ}>"
        digest = hashlib.blake2b((self.params.salt + "\x00" + value).encode(), digest_size=4).hexdigest()
        return f"{typ}_{digest}"

    def process(self, table: pa.Table) -> Result:
        p: PiiParams = self.params
        out, counts = [], {t: [] for t in p.types}
        totals = []
        reject = np.zeros(table.num_rows, dtype=bool)
        reasons, details = [], []
        for i, text in enumerate(text_column(table)):
            spans = find_pii(text, self.config.types, self.config)
            c = Counter(s.type for s in spans)
            for t in p.types:
                counts[t].append(c.get(t, 0))
            totals.append(len(spans))
            rejecting = sorted({s.type for s in spans if p.actions.get(s.type, p.action) == "reject"})
            if rejecting:
                reject[i] = True
                reasons.append("pii")
                details.append("contains " + ", ".join(f"{t} x{c[t]}" for t in rejecting))
            pieces, last = [], 0
            for s in spans:
                act = p.actions.get(s.type, p.action)
                if act in ("mask", "pseudonym"):
                    pieces.append(text[last:s.start])
                    pieces.append(self._replacement(s.type, s.value, act))
                    last = s.end
            pieces.append(text[last:])
            out.append("".join(pieces) if last else text)
        table = with_column(table, "text", pa.array(out, pa.string()))
        table = with_column(table, "pii_total", pa.array(totals, pa.int64()))
        for t in p.types:
            table = with_column(table, f"pii_{t.lower()}", pa.array(counts[t], pa.int64()))
        return Result(table, reject, reasons, details)
