"""What a PII detector returns: a span of text with its type, a confidence and the reasons for it.

>>> Span(0, 8, "IP", "10.0.0.5", 0.9, ("context word 'server'",)).value
'10.0.0.5'
"""

from __future__ import annotations

from dataclasses import dataclass

TYPES = ("EMAIL", "PHONE", "PHONE_CN", "CN_ID", "CREDIT_CARD", "IBAN", "IP", "IP_PRIVATE", "URL_CREDENTIALS",
         "SECRET", "US_SSN")
# more specific types win ties between equally long overlapping spans
PRIORITY = {"SECRET": 0, "URL_CREDENTIALS": 1, "IBAN": 2, "CN_ID": 2, "CREDIT_CARD": 3, "US_SSN": 4, "EMAIL": 5,
            "IP": 6, "IP_PRIVATE": 6, "PHONE_CN": 7, "PHONE": 8}


@dataclass(frozen=True)
class Span:
    """A candidate or a detection: ``text[start:end] == value``; ``confidence`` in [0, 1]; ``why`` lists the
    evidence (validator results, context words) in the order it was weighed."""

    start: int
    end: int
    type: str
    value: str
    confidence: float = 1.0
    why: tuple[str, ...] = ()
