"""``filter``: keep rows for which every named rule holds; the first failing rule is the reason, and the
detail is the condition the row met instead, as a reader would say it (``n_chars < 200``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gristmill.conditions import failed
from gristmill.expr import Expr, ExprLimits
from gristmill.params import param
from gristmill.steps.base import Result, Step, register


@dataclass
class FilterParams:
    preset: list[str] = param([], "named rule sets to start from: gopher, c4, fineweb, zh-web, bilingual, "
                                  "repetition, fineweb-only (gristmill presets lists them)")
    keep: str | None = param(None, "one expression a row must satisfy, e.g. \"len(text) >= 200\"")
    rules: dict[str, str | None] = param({}, "named expressions, all of which a row must satisfy; checked in "
                                             "order, the first one that fails is the rejection reason. A name "
                                             "from a preset replaces that rule; null removes it")


@functools.lru_cache(maxsize=4096)
def _compiled(source: str, limits: ExprLimits) -> Expr:
    """An expression parsed and checked once per process: a run builds its filters several times (the recipe
    check, the column checks, each task), each with the same ~60 preset rules. Expressions are not changed
    after they are made (their Arrow constants are made once, on first use)."""
    return Expr(source, limits)


@register
class Filter(Step):
    """Keep rows that satisfy expressions over columns (safe grammar: comparisons, and/or/not, in, len())."""

    name = "filter"
    Params = FilterParams
    reads_input_fields = True

    def __init__(self, params: FilterParams, label: str | None = None) -> None:
        super().__init__(params, label)
        from gristmill.presets import load_preset

        rules: dict[str, str | None] = {}
        for name in params.preset:
            rules.update(load_preset(name))
        if params.keep:
            rules["keep"] = params.keep
        rules.update(params.rules)
        limits = ExprLimits.from_env()
        self.rules = [(name, _compiled(src, limits)) for name, src in rules.items() if src is not None]
        self.failed = [failed(expr.source) for _, expr in self.rules]

    def process(self, table: pa.Table, resolve=None) -> Result:
        """``resolve(name)`` supplies columns that are not in the table (input fields inside ``meta``)."""
        n = table.num_rows
        reject = np.zeros(n, dtype=bool)
        first = np.full(n, -1, dtype=np.int32)
        memo: dict = {}  # columns and column-vs-constant comparisons, shared by the rules on this batch
        for i, (_, expr) in enumerate(self.rules):
            if n and reject.all():
                break  # every row has its reason: later rules cannot change it
            ok = expr.evaluate(table, resolve, memo).to_numpy(zero_copy_only=False)
            newly = ~ok & ~reject
            first[newly] = i
            reject |= newly
        idx = first[reject].tolist()
        names = [name for name, _ in self.rules]
        return Result(table, reject, [names[i] for i in idx], [self.failed[i] for i in idx])
