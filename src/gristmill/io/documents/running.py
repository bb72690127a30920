"""Running headers, footers and page numbers of PDF pages: which lines at the top and bottom of each page
are the book's furniture rather than its text.

A line is furniture when it is the top- or bottom-most line of its page (or the one next to it, right
below/above a furniture line) and:

- it is a page number (``12``, ``- 12 -``, ``xiv``, ``Page 3 of 9``, ``12 / 57``, ``第 3 页``);
- the same text stands at the same height on at least ``min_pages`` pages;
- the same text up to numbers stands at the same height on as many pages and one of the numbers moves with
  the page (``Manual 5 / 57``, ``Debian 参考手册 ii``, ``Chapter 4: Functions 12``); a chapter opener's
  ``Chapter 2`` (same place, but its number is not the page's) stays;
- it is the top- or bottom-most line and stands exactly where the document's other running lines stand (a
  header used on fewer pages: ``CHAPTER 2. PREREQUISITES 2.3. SOCIAL DYNAMICS``).

>>> from gristmill.io.documents.layout import Line
>>> p = [[Line(f"Manual {i + 4} / 9", 72, 200, 800, 800), Line(f"text {'abc'[i]}", 72, 100, 700, 700)]
...      for i in range(3)]
>>> running_lines(p)
[{0}, {0}, {0}]
"""

from __future__ import annotations

import re

from gristmill.io.documents.layout import Line

_ROMAN = r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
PAGE_NO = re.compile(rf"^(?:[-–—(\[]\s*)?(?:page\s*|p\.\s*|第\s*)?(?:\d{{1,5}}|{_ROMAN})(?:\s*(?:/|of)\s*\d{{1,5}})?"
                     r"(?:\s*页)?(?:\s*[-–—)\]])?$", re.I)
_NUM = re.compile(rf"(?<![\w.])(?:\d+|{_ROMAN})(?![\w])", re.I)
_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


def number(token: str) -> int:
    """The value of an Arabic or Roman numeral.

    >>> number("42"), number("xiv"), number("MMXXVI")
    (42, 14, 2026)
    """
    if token.isdigit():
        return int(token)
    vals = [_VALUES[c] for c in token.lower()]
    return sum(-v if i + 1 < len(vals) and v < vals[i + 1] else v for i, v in enumerate(vals))


def _shape(text: str) -> tuple[str, list[int]]:
    """(text with its numbers as ``#``, the numbers)."""
    nums = [number(m.group()) for m in _NUM.finditer(text)]
    return " ".join(_NUM.sub("#", text).split()).lower(), nums[:4]


def _moves_with_page(occ: list[tuple[int, list[int]]], need: int) -> bool:
    """True when, at some position, ``number - page index`` is the same on at least ``need`` pages."""
    if len({len(nums) for _, nums in occ}) != 1:
        return False
    for j in range(len(occ[0][1])):
        offsets: dict[int, int] = {}
        for n, nums in occ:
            offsets[nums[j] - n] = offsets.get(nums[j] - n, 0) + 1
        if max(offsets.values()) >= need:
            return True
    return False


def running_lines(pages: list[list[Line]], min_pages: int = 3) -> list[set[int]]:
    """Per page, the indexes (into the page's lines) of its running headers, footers and page numbers."""
    need = max(2, min(min_pages, len(pages)))
    cands: list[list[tuple]] = []
    exact: dict[tuple, int] = {}
    shaped: dict[tuple, list[tuple[int, list[int]]]] = {}
    for n, lines in enumerate(pages):
        order = sorted(range(len(lines)), key=lambda i: -lines[i].first)
        sides = [("top", order[:2]), ("bottom", order[::-1][:2])]
        page, seen = [], set()
        for where, idx in sides:
            for rank, i in enumerate(idx):
                if i in seen:
                    continue
                seen.add(i)
                text = " ".join(lines[i].text.split())
                y = round(lines[i].first / 2)
                key, nums = _shape(text)
                page.append((i, rank, where, y, (where, text, y), (where, key, y), text))
                if nums:
                    shaped.setdefault((where, key, y), []).append((n, nums))
        cands.append(page)
        for c in {c[4] for c in page}:
            exact[c] = exact.get(c, 0) + 1
    moving = {k for k, occ in shaped.items() if len(occ) >= need and _moves_with_page(occ, need)}
    out: list[set[int]] = []
    slots: dict[tuple[str, int], int] = {}
    for lines, page in zip(pages, cands, strict=True):
        drop: set[int] = set()
        for rank in (0, 1):
            for i, r, where, y, ex, sh, text in page:
                if r != rank or not (exact[ex] >= need or sh in moving or PAGE_NO.match(text)):
                    continue
                if rank == 1:   # a second header line: right next to a dropped first one
                    first = next((c for c in page if c[1] == 0 and c[2] == where), None)
                    if first is None or first[0] not in drop or abs(lines[first[0]].first - lines[i].first) > \
                            2.0 * max(lines[i].height, lines[first[0]].height):
                        continue
                drop.add(i)
                if rank == 0:
                    slots[(where, y)] = slots.get((where, y), 0) + 1
        out.append(drop)
    for drop, page in zip(out, cands, strict=True):
        for i, rank, where, y, *_ in page:
            if rank == 0 and i not in drop and slots.get((where, y), 0) >= need:
                drop.add(i)
    return out
