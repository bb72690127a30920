"""The step contract: a plain object with one batch-in, batch-out method.

Annotating steps add columns and reject nothing; filtering steps return a mask of the rows they reject,
with a short reason (counted in the manifest) and a detail (kept beside the rejected row). Executors only
schedule steps over shards; a step never knows which executor runs it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pyarrow as pa

from gristmill.errors import MissingExtra


@dataclass
class Result:
    """What a step returns for one batch: the (annotated) table and, optionally, the rows it rejects.

    ``reject`` is a boolean mask over ``table``'s rows; ``reason`` and ``detail`` hold one string per
    rejected row, in row order.
    """

    table: pa.Table
    reject: np.ndarray | None = None
    reason: list[str] | None = None
    detail: list[str] | None = None
    notes: dict[str, int] | None = None  # counts reported to the run manifest (e.g. where the language came from)

    @property
    def n_rejected(self) -> int:
        return 0 if self.reject is None else int(self.reject.sum())


class Step:
    """Base class. Subclasses set ``name``, ``Params`` (a dataclass of :func:`gristmill.params.param`)."""

    name: ClassVar[str] = ""
    Params: ClassVar[type]
    kind: ClassVar[str] = "map"
    requires: ClassVar[dict[str, str]] = {}  # python module -> extra that installs it
    outputs: ClassVar[tuple[str, ...]] = ()  # columns the step adds
    reads_input_fields: ClassVar[bool] = False  # process(table, resolve) can read fields kept inside meta
    path_params: ClassVar[tuple[str, ...]] = ()  # parameters naming local files/folders (shipped to Ray workers)

    def __init__(self, params: object, label: str | None = None) -> None:
        self.params = params
        self.label = label or self.name

    @classmethod
    def requirements(cls, params: object) -> dict[str, str]:
        """Optional modules these parameters need (python module -> extra); by default ``requires``."""
        return cls.requires

    @classmethod
    def check_requirements(cls, params: object = None) -> None:
        """Fail at recipe load time, with the install hint, if an optional dependency is missing."""
        for module, extra in cls.requirements(params).items():
            if importlib.util.find_spec(module) is None:
                raise MissingExtra(cls.name, module, extra)

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    def setup(self) -> None:
        """Load models or tables once per worker process (called before the first batch)."""

    def process(self, table: pa.Table) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError


REGISTRY: dict[str, type[Step]] = {}


def register(cls: type[Step]) -> type[Step]:
    REGISTRY[cls.name] = cls
    return cls


def text_column(table: pa.Table) -> list[str]:
    """The ``text`` column as a list of strings (the caller's own list: changing it changes nothing else).

    A column that :func:`with_text` made from a list is not converted back: its list is copied (the last one
    made in this process is kept, with the column, whose buffers it identifies)."""
    col = table.column("text")
    key, kept, texts = _LAST_TEXT
    if kept is not None and len(col) == len(kept) and _buffers(col) == key:
        return list(texts)
    return col.to_pylist()


def with_text(table: pa.Table, texts: list[str]) -> pa.Table:
    """``table`` with its ``text`` column replaced by ``texts``; a step's next :func:`text_column` of the result
    takes a copy of ``texts`` instead of converting the column back."""
    col = pa.chunked_array([pa.array(texts, pa.string())])
    _LAST_TEXT[:] = [_buffers(col), col, list(texts)]  # col held: its buffers stay allocated, their addresses its own
    return with_column(table, "text", col)


_LAST_TEXT: list = [None, None, None]  # [buffer addresses, column, its texts]


def _buffers(col: pa.ChunkedArray) -> tuple:
    """Which memory a column's values are in: each chunk's offset, length and buffer addresses."""
    return tuple((c.offset, len(c), *(b.address if b is not None else 0 for b in c.buffers())) for c in col.chunks)


def with_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    """Add or replace a column."""
    i = table.schema.get_field_index(name)
    if i >= 0:
        return table.set_column(i, name, values)
    return table.append_column(name, values)
