"""``filter``: keep rows for which every named rule holds; the first failing rule is the reason."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gristmill.expr import Expr
from gristmill.params import param
from gristmill.steps.base import Result, Step, register


@dataclass
class FilterParams:
    keep: str | None = param(None, "one expression a row must satisfy, e.g. \"len(text) >= 200\"")
    rules: dict[str, str] = param({}, "named expressions, all of which a row must satisfy; checked in order, "
                                      "the first one that fails is the rejection reason")


@register
class Filter(Step):
    """Keep rows that satisfy expressions over columns (safe grammar: comparisons, and/or/not, in, len())."""

    name = "filter"
    Params = FilterParams

    def __init__(self, params: FilterParams, label: str | None = None) -> None:
        super().__init__(params, label)
        rules = dict(params.rules)
        if params.keep:
            rules = {"keep": params.keep, **rules}
        self.rules = [(name, Expr(src)) for name, src in rules.items()]

    def process(self, table: pa.Table, resolve=None) -> Result:
        """``resolve(name)`` supplies columns that are not in the table (input fields inside ``meta``)."""
        n = table.num_rows
        reject = np.zeros(n, dtype=bool)
        first = np.full(n, -1, dtype=np.int32)
        for i, (_, expr) in enumerate(self.rules):
            ok = expr.evaluate(table, resolve).to_numpy(zero_copy_only=False)
            newly = ~ok & ~reject
            first[newly] = i
            reject |= newly
        idx = first[reject]
        reasons = [self.rules[i][0] for i in idx]
        details = [f"not ({self.rules[i][1].source})" for i in idx]
        return Result(table, reject, reasons, details)
