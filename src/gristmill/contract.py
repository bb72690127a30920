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
    return table.column("text").to_pylist()


def with_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    """Add or replace a column."""
    i = table.schema.get_field_index(name)
    if i >= 0:
        return table.set_column(i, name, values)
    return table.append_column(name, values)
