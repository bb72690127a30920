"""Bounded YAML for recipes: document size, aliases, nesting and expanded size are checked while the
document is composed, before any value is built, so an alias bomb ("billion laughs") fails at once.

The limits are settings of the environment (a recipe cannot raise the limits that guard its own loading):
``GRISTMILL_YAML_MAX_BYTES`` (default 1 MiB), ``GRISTMILL_YAML_MAX_ALIASES`` (1,000),
``GRISTMILL_YAML_MAX_DEPTH`` (64) and ``GRISTMILL_YAML_MAX_NODES`` (100,000 nodes, aliases expanded).

>>> bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\\n" + "".join(
...     f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\\n" for p, c in zip("abcdefgh", "bcdefghi"))
>>> try:
...     BoundedLoader(bomb).get_single_data()
... except YamlLimitError as e:
...     print(e)
line 5: the document expands to over 100,000 nodes through aliases (GRISTMILL_YAML_MAX_NODES)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import yaml


class YamlLimitError(ValueError):
    """A YAML document over one of the limits; the message says which and where."""


@dataclass(frozen=True)
class YamlLimits:
    max_bytes: int = 1 << 20
    max_aliases: int = 1000
    max_depth: int = 64
    max_nodes: int = 100_000

    @classmethod
    def from_env(cls) -> YamlLimits:
        d = cls()

        def get(name: str, default: int) -> int:
            v = os.environ.get(f"GRISTMILL_YAML_{name}")
            try:
                return int(v) if v else default
            except ValueError:
                return default

        return cls(get("MAX_BYTES", d.max_bytes), get("MAX_ALIASES", d.max_aliases),
                   get("MAX_DEPTH", d.max_depth), get("MAX_NODES", d.max_nodes))


def check_size(text: str, limits: YamlLimits | None = None) -> None:
    lim = limits or YamlLimits.from_env()
    if len(text) > lim.max_bytes:
        raise YamlLimitError(f"the document is {len(text):,} characters, over {lim.max_bytes:,} "
                             "(GRISTMILL_YAML_MAX_BYTES)")


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that counts aliases, depth and expanded nodes while composing."""

    def __init__(self, stream, limits: YamlLimits | None = None) -> None:
        super().__init__(stream)
        self.limits = limits or YamlLimits.from_env()
        self._aliases = 0
        self._depth = 0
        self._sizes: dict[int, int] = {}

    def _fail(self, what: str) -> None:
        mark = self.peek_event().start_mark if self.check_event() else None
        where = f"line {mark.line + 1}: " if mark else ""
        raise YamlLimitError(where + what)

    def compose_node(self, parent, index):
        lim = self.limits
        alias = self.check_event(yaml.AliasEvent)
        if alias:
            self._aliases += 1
            if self._aliases > lim.max_aliases:
                self._fail(f"more than {lim.max_aliases:,} aliases (GRISTMILL_YAML_MAX_ALIASES)")
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > lim.max_depth:
            self._fail(f"nesting deeper than {lim.max_depth} levels (GRISTMILL_YAML_MAX_DEPTH)")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._sizes.get(id(c), 1) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value)
        if size > lim.max_nodes:
            raise YamlLimitError(f"line {node.start_mark.line + 1}: the document expands to over "
                                 f"{lim.max_nodes:,} nodes through aliases (GRISTMILL_YAML_MAX_NODES)")
        self._sizes[id(node)] = size
        return node


def safe_load(text: str, limits: YamlLimits | None = None):
    """``yaml.safe_load`` within the limits (for any user-supplied YAML: specs, item lists)."""
    check_size(text, limits)
    loader = BoundedLoader(text, limits)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
