"""Small inline SVG charts (no JavaScript, no network): horizontal bars and histograms with thresholds.

>>> s = bars([("kept", 10), ("rejected", 5)], unit="docs")
>>> s.count("<rect") >= 2 and 'class="plot"' in s
True
>>> h = histogram({"kept": [1, 2, 3], "rejected": [0, 1, 0]}, [0, 1, 2, 3], marks=[(1.5, "x >= 1.5")])
>>> "<line" in h and h.count("<rect") >= 4
True
"""

from __future__ import annotations

import html
import math

import numpy as np

COLORS = {"kept": "#2e7d32", "rejected": "#c62828", "input": "#546e7a", "documents": "#1565c0"}
PALETTE = ["#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#558b2f", "#4e342e", "#37474f"]
# common CJK fonts by platform, so Chinese labels render wherever one of them is installed (see docs/report.md)
CJK_FONTS = ("'PingFang SC'", "'Hiragino Sans GB'", "'Microsoft YaHei'", "'Noto Sans CJK SC'", "'Noto Sans SC'",
             "'Source Han Sans SC'", "'WenQuanYi Micro Hei'", "'WenQuanYi Zen Hei'")
FONT = 'font-family="system-ui,' + ",".join(CJK_FONTS).replace("'", "&apos;") + ',sans-serif"'


def _e(s) -> str:
    return html.escape(str(s), quote=True)


def fmt(v: float) -> str:
    """Compact number: 1234567 -> 1.23M, 0.1234 -> 0.123.

    >>> fmt(1234567), fmt(0.1234), fmt(12), fmt(2.5e-5), fmt(1040.5)
    ('1.23M', '0.123', '12', '2.5e-05', '1,040')
    """
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.3g}G"
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    if a >= 1000:
        return f"{v:,.0f}"
    if a == int(a):
        return str(int(v))
    if a >= 0.001:
        return f"{v:.3g}"
    return f"{v:.2g}"


def bars(items: list[tuple[str, float]], *, unit: str = "", width: int = 640, color: str = "#1565c0",
         label_width: int = 220) -> str:
    """Horizontal bars, one per ``(label, value)``, with the value written at the end."""
    if not items:
        return '<svg class="plot empty" width="10" height="10"></svg>'
    row = 22
    h = row * len(items) + 8
    vmax = max(v for _, v in items) or 1
    span = width - label_width - 130
    out = [f'<svg class="plot" role="img" width="{width}" height="{h}" viewBox="0 0 {width} {h}" {FONT} '
           f'font-size="12" data-points="{len(items)}">']
    for i, (label, v) in enumerate(items):
        y = 4 + i * row
        w = max(v / vmax * span, 1 if v else 0)
        shown = label if len(label) <= label_width // 7 else "…" + label[-(label_width // 7 - 1):]
        out.append(f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">{_e(shown)}</text>'
                   f'<rect x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{color}">'
                   f'<title>{_e(label)}: {v:,} {unit}</title></rect>'
                   f'<text x="{label_width + w + 4:.1f}" y="{y + 15}">{fmt(v)} {_e(unit)}</text>')
    out.append("</svg>")
    return "".join(out)


def label_rows(xs: list[float], widths: list[float]) -> list[int]:
    """A row for each label so that labels in one row do not overlap (greedy, left to right).

    >>> label_rows([10, 20, 200], [50, 50, 50])
    [0, 1, 0]
    """
    ends: list[float] = []
    rows = [0] * len(xs)
    for k in sorted(range(len(xs)), key=lambda k: xs[k]):
        for r, end in enumerate(ends):
            if xs[k] >= end + 4:
                rows[k], ends[r] = r, xs[k] + widths[k]
                break
        else:
            rows[k] = len(ends)
            ends.append(xs[k] + widths[k])
    return rows


def histogram(series: dict[str, list[float]], edges: list[float], *, marks: list[tuple[float, str]] = (),
              width: int = 420, height: int = 170, log_x: bool = False, log_y: bool = False,
              xlabel: str = "") -> str:
    """Stacked histogram of several series over shared bin ``edges``, with vertical threshold ``marks``.

    With ``log_x`` the edges are log10 values and the axis is labelled with 10^x; with ``log_y`` bar heights
    are log-scaled (for data whose mass is in one bin). Threshold labels are stacked in rows above the plot
    so that none overlaps another.
    """
    n = len(edges) - 1
    totals = [sum(s[i] for s in series.values()) for i in range(n)]
    top = max(totals) if totals and max(totals) > 0 else 1
    x0e, x1e = edges[0], edges[-1]
    shown = [(math.log10(v) if log_x else v, label) for v, label in marks
             if not (log_x and v <= 0) and x0e <= (math.log10(v) if log_x and v > 0 else v) <= x1e]
    left, bottom, right = 40, 34, 10
    pw0 = width - left - right
    lx = [left + (v - x0e) / ((x1e - x0e) or 1) * pw0 for v, _ in shown]
    rows = label_rows(lx, [5.2 * len(lb) for _, lb in shown])
    n_rows = max(rows, default=-1) + 1
    top_pad = 22 + 10 * n_rows
    height += 10 * n_rows

    def H(c: float) -> float:  # bar height on the chosen scale
        return (math.log1p(c) / math.log1p(top) if log_y else c / top) * ph
    pw, ph = width - left - right, height - bottom - top_pad
    x0, x1 = edges[0], edges[-1]
    span = (x1 - x0) or 1

    def X(v: float) -> float:
        return left + (v - x0) / span * pw

    points = sum(1 for t in totals if t)
    out = [f'<svg class="plot" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" {FONT} '
           f'font-size="10" data-points="{points}">',
           f'<line x1="{left}" y1="{top_pad + ph}" x2="{left + pw}" y2="{top_pad + ph}" stroke="#888"/>',
           f'<text x="{left - 4}" y="{top_pad + 8}" text-anchor="end">{fmt(top)}</text>',
           f'<text x="{left - 4}" y="{top_pad + ph}" text-anchor="end">0</text>']
    for i in range(n):
        base = 0.0
        base_count = 0
        for j, (name, s) in enumerate(series.items()):
            c = s[i]
            if not c:
                continue
            hgt = H(base_count + c) - H(base_count)
            base_count += c
            y = top_pad + ph - base - hgt
            color = COLORS.get(name, PALETTE[j % len(PALETTE)])
            lo, hi = edges[i], edges[i + 1]
            rng = f"{fmt(10 ** lo)}–{fmt(10 ** hi)}" if log_x else f"{fmt(lo)}–{fmt(hi)}"
            out.append(f'<rect x="{X(lo) + 0.5:.1f}" y="{y:.1f}" width="{max(X(hi) - X(lo) - 1, 0.8):.1f}" '
                       f'height="{hgt:.1f}" fill="{color}"><title>{_e(name)} {rng}: {c:,}</title></rect>')
            base += hgt
    for k in range(5):
        v = x0 + span * k / 4
        label = fmt(10 ** v) if log_x else fmt(v)
        out.append(f'<text x="{X(v):.1f}" y="{top_pad + ph + 12}" text-anchor="middle">{_e(label)}</text>')
    if xlabel:
        out.append(f'<text x="{left + pw / 2}" y="{height - 4}" text-anchor="middle">{_e(xlabel)}</text>')
    for (xv, label), row in zip(shown, rows, strict=True):
        x = X(xv)
        ty = 22 + 10 * row
        out.append(f'<line class="threshold" x1="{x:.1f}" y1="{ty - 2}" x2="{x:.1f}" y2="{top_pad + ph}" '
                   f'stroke="#000" stroke-dasharray="4 2"><title>{_e(label)}</title></line>'
                   f'<text class="threshold-label" x="{x + 2:.1f}" y="{ty + 6}" font-size="9">{_e(label)}</text>')
    if log_y:
        out.append(f'<text x="{left + pw}" y="{top_pad - 2}" text-anchor="end" font-size="9" fill="#777">'
                   f'log scale</text>')
    legend_x = left
    for j, name in enumerate(series):
        color = COLORS.get(name, PALETTE[j % len(PALETTE)])
        out.append(f'<rect x="{legend_x}" y="2" width="8" height="8" fill="{color}"/>'
                   f'<text x="{legend_x + 11}" y="10">{_e(name)}</text>')
        legend_x += 16 + 7 * len(str(name))
    out.append("</svg>")
    return "".join(out)


def _finite(values) -> np.ndarray:
    """The finite values of a list (None allowed) or array, as float64."""
    if not isinstance(values, np.ndarray):
        values = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    values = values.astype(np.float64, copy=False)
    return values[np.isfinite(values)]


def bins_for(values, marks=(), n: int = 30) -> tuple[list[float], bool]:
    """Bin edges covering the values (a list or an array) and the marks; log10 edges when positive values
    span > 3 decades."""
    vals = _finite(values)
    fm = [float(m) for m in marks if math.isfinite(m)]
    allv = np.concatenate([vals, np.array(fm, dtype=np.float64)])
    if not len(allv):
        return [0.0, 1.0], False
    lo, hi = float(allv.min()), float(allv.max())
    pos = allv[allv > 0]
    if lo >= 0 and len(pos) and float(pos.max()) / float(pos.min()) > 1000 \
            and int(np.count_nonzero(vals > 0)) >= 0.9 * len(vals):
        p0, p1 = float(pos.min()), float(pos.max())
        a, b = math.floor(math.log10(p0) * 10) / 10, math.ceil(math.log10(p1) * 10) / 10 + 0.1
        return [a + (b - a) * i / n for i in range(n + 1)], True
    if hi == lo:
        hi = lo + 1
    if len(vals) >= 20:  # a long tail squeezes the rest into one bin: the last bin takes values above p99
        p99 = float(np.sort(vals)[int(0.99 * (len(vals) - 1))])
        if hi - lo > 4 * (p99 - lo) > 0:
            hi = max([p99] + fm)
    if bool(np.all(np.floor(allv) == allv)) and hi - lo < n:
        return [lo - 0.5 + i for i in range(int(hi - lo) + 2)], False
    return [lo + (hi - lo) * i / n for i in range(n + 1)], False


def counts(values, edges: list[float], log_x: bool = False) -> list[int]:
    """How many values (a list or an array) fall in each bin (the last bin includes its right edge)."""
    n = len(edges) - 1
    lo, hi = edges[0], edges[-1]
    v = _finite(values)
    if log_x:  # math.log10, value by value: the same bin edges as math gives, to the last bit
        v = np.array([math.log10(x) for x in v[v > 0].tolist()], dtype=np.float64)
    if not len(v):
        return [0] * n
    if hi > lo:
        k = np.clip((v - lo) / (hi - lo) * n, 0, n - 1).astype(np.int64)  # truncates toward zero, as int()
    else:
        k = np.zeros(len(v), dtype=np.int64)
    return np.bincount(k, minlength=n).tolist()
