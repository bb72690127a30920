"""``pii``: find personal data (English and Chinese formats), count it per type as signals, and mask it,
replace it with a stable pseudonym, or reject the document — chosen per type."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa

from gristmill.params import param
from gristmill.protect.pii import TYPES, find_pii
from gristmill.steps.base import Result, Step, register, text_column, with_column

Action = Literal["mask", "pseudonym", "reject", "keep"]


@dataclass
class PiiParams:
    types: list[Literal["EMAIL", "PHONE", "PHONE_CN", "CN_ID", "CREDIT_CARD", "IP", "IP_PRIVATE",
                        "URL_CREDENTIALS", "SECRET", "US_SSN"]] = param(list(TYPES), "which kinds of PII to look for")
    action: Action = param("mask", "what to do with a match: mask (<EMAIL>), pseudonym (EMAIL_1a2b3c4d, a salted "
                                   "hash: the same value gets the same pseudonym), reject the document, or keep")
    actions: dict[str, Action] = param({"IP_PRIVATE": "keep"}, "per-type overrides of action")
    salt: str = param("gristmill", "salt of the pseudonym hash (keep it secret to prevent reversal)")


@register
class Pii(Step):
    """Detect PII (e-mail, phones incl. China, China ID, cards, IPs, credentials, keys, SSN); mask or reject."""

    name = "pii"
    Params = PiiParams
    outputs = ("text", "pii_total", *(f"pii_{t.lower()}" for t in TYPES))

    def columns(self) -> list[str]:
        return ["pii_total", *(f"pii_{t.lower()}" for t in self.params.types)]

    def _replacement(self, typ: str, value: str, action: str) -> str:
        if action == "mask":
            return f"<{typ}>"
        digest = hashlib.blake2b((self.params.salt + "\x00" + value).encode(), digest_size=4).hexdigest()
        return f"{typ}_{digest}"

    def process(self, table: pa.Table) -> Result:
        p: PiiParams = self.params
        types = frozenset(p.types)
        out, counts = [], {t: [] for t in p.types}
        totals = []
        reject = np.zeros(table.num_rows, dtype=bool)
        reasons, details = [], []
        for i, text in enumerate(text_column(table)):
            spans = find_pii(text, types)
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
