"""The tables the quality signals are defined by, shared by the C core (:mod:`gristmill.text.native`) and the
Python reference (:mod:`gristmill.steps.quality`): the signal families and the character sets.

>>> "gopher" in FAMILIES, all(ch in SYMBOLS for ch in "...!?"), "。".endswith(TERMINAL)
(True, True, True)
"""

from __future__ import annotations

FAMILIES = ("gopher", "repetition", "c4", "fineweb", "redpajama", "chinese", "prose")
# datatrove's PUNCTUATION_SET: a "symbol word" is made of these characters only
SYMBOLS = frozenset("!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»"
                    + "".join(map(chr, [*range(0, 9), *range(11, 32), *range(127, 160)])))
TERMINAL = tuple("!.?…。！？．｡؟।॥‼‽⁇⁈⁉︒﹒﹖﹗")  # FineWeb's line-end characters (main scripts)
