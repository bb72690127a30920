"""Named selection presets (data, not code): ordered rules ``name: keep-expression``, optionally built from
other presets with a ``when`` condition (the rules apply only to rows where it holds) and a name ``prefix``.

>>> rules = load_preset("bilingual")
>>> rules["en:gopher_short_doc"]
"not (lang == 'en') or (gq_words >= 50)"
>>> sorted(available())
['bilingual', 'c4', 'code', 'code-permissive', 'fineweb', 'fineweb-only', 'gopher', 'repetition', 'sft', 'zh-web']
"""

from __future__ import annotations

import functools
from importlib import resources

import yaml

from gristmill.errors import GristmillError


def available() -> list[str]:
    root = resources.files("gristmill") / "presets"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def describe(name: str) -> str:
    return " ".join(str(_read(name).get("description", "")).split())


def _read(name: str) -> dict:
    """The preset's YAML, parsed once per process (a run builds its filters several times: the recipe check,
    the column checks, each task, the report's thresholds). Callers only read it."""
    if name not in available():
        raise GristmillError(f"unknown preset {name!r}", hint="presets: " + ", ".join(available()))
    return _parsed(name)


@functools.cache
def _parsed(name: str) -> dict:
    return yaml.safe_load((resources.files("gristmill") / "presets" / f"{name}.yaml").read_text(encoding="utf-8"))


def load_preset(name: str, _seen: tuple[str, ...] = ()) -> dict[str, str]:
    """The preset's rules, in order, with includes expanded."""
    if name in _seen:
        raise GristmillError(f"preset {name!r} includes itself")
    data = _read(name)
    rules: dict[str, str] = {}
    for inc in data.get("include") or []:
        sub = load_preset(inc["preset"], (*_seen, name))
        when, prefix = inc.get("when"), inc.get("prefix", "")
        for k, v in sub.items():
            rules[prefix + k] = f"not ({when}) or ({v})" if when else v
    rules.update(data.get("rules") or {})
    return rules
