"""Two-column pages: where the gutter is, and the reading order of a page's lines around it (each column
top to bottom, full-width lines such as titles between the column blocks they separate).

Pure geometry in PDF points (y grows upwards); :mod:`gristmill.io.documents.pdf` supplies the text runs'
boxes and splits lines that a producer wrote row by row across both columns.

>>> runs = [(50, 700 - 14 * i, 280, 708 - 14 * i) for i in range(8)] + [(310, 700 - 14 * i, 545, 708 - 14 * i)
...                                                                    for i in range(8)]
>>> gutter(runs, 595)
294.25
"""

from __future__ import annotations

import numpy as np

from gristmill.io.documents.layout import Line


def gutter(boxes: list[tuple[float, float, float, float]], width: float, min_runs: int = 8) -> float | None:
    """The x of a vertical gap between two columns of prose, or None: in the middle 30% of the page, the x
    crossed by the fewest text runs (``boxes``: left, bottom, right, top), when at most 5% of the runs
    cross it and each side holds at least a quarter of the runs, wide ones (a median over 30% of the
    page: prose, not a table's narrow cells)."""
    if len(boxes) < min_runs or width <= 0:
        return None
    b = np.asarray(boxes, dtype=float)
    left, right = b[:, 0], b[:, 2]
    xs = np.arange(0.35 * width, 0.65 * width, 2.0)
    cover = ((left[:, None] < xs) & (right[:, None] > xs)).sum(0)
    best = int(np.argmin(cover))
    if cover[best] > 0.05 * len(b):
        return None
    # the middle of the free band around the best x
    free = cover <= cover[best]
    lo = hi = best
    while lo > 0 and free[lo - 1]:
        lo -= 1
    while hi + 1 < len(xs) and free[hi + 1]:
        hi += 1
    g = float((xs[lo] + xs[hi]) / 2)
    lhs, rhs = right <= g, left >= g
    if lhs.sum() < 0.25 * len(b) or rhs.sum() < 0.25 * len(b):
        return None
    # a column of prose: its lines reach across most of the column (runs may be words: take line extents)
    for side in (lhs, rhs):
        rows: dict[int, tuple[float, float]] = {}
        for (lft, bot, rgt, _top), s in zip(b, side, strict=True):
            if s:
                k = round(bot)
                lo_, hi_ = rows.get(k, (lft, rgt))
                rows[k] = (min(lo_, lft), max(hi_, rgt))
        widths = sorted(h - lo_ for lo_, h in rows.values())
        if not widths or widths[len(widths) // 2] < 0.3 * width:
            return None
    return g


def reading_order(lines: list[Line], g: float) -> list[Line]:
    """``lines`` of a two-column page in reading order: from the top, each block of column lines as its
    left column then its right column, a line that crosses the gutter ``g`` (a title, a wide figure
    caption) ending the block above it.

    >>> ln = [Line("R1", 310, 500, 700, 700), Line("L1", 50, 280, 700, 700), Line("L2", 50, 280, 686, 686),
    ...       Line("R2", 310, 500, 686, 686), Line("Title", 50, 500, 740, 740)]
    >>> [x.text for x in reading_order(ln, 296)]
    ['Title', 'L1', 'L2', 'R1', 'R2']
    """
    out: list[Line] = []
    lhs: list[Line] = []
    rhs: list[Line] = []
    for ln in sorted(lines, key=lambda x: (-x.first, x.left)):
        if ln.right <= g:
            ln.column = 1
            lhs.append(ln)
        elif ln.left >= g:
            ln.column = 2
            rhs.append(ln)
        else:
            out += lhs + rhs + [ln]
            lhs, rhs = [], []
    return out + lhs + rhs
