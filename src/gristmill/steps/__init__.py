"""Per-document steps, one module each. ``REGISTRY`` maps a recipe's step name to its class.

A step's module is imported when its class is first looked up, so a run imports the steps its recipe names
and no others (``in``, ``len`` and the names need no import; ``values()`` and ``items()`` import them all).

>>> "langid" in REGISTRY and "no_such_step" not in REGISTRY
True
>>> REGISTRY["langid"].__name__
'LangId'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module

from gristmill.contract import REGISTRY as REGISTERED
from gristmill.steps.base import Result, Step

# step name -> the module that defines and registers it (``@register``); REGISTRY lists the names in this order
MODULES = {
    "exact_dedup": "gristmill.dedup.exact",
    "line_dedup": "gristmill.dedup.lines",
    "minhash_dedup": "gristmill.dedup.minhash",
    "substring_dedup": "gristmill.dedup.substring",
    "c4_clean": "gristmill.steps.c4_clean",
    "classifier": "gristmill.steps.classifier",
    "code_signals": "gristmill.steps.code_signals",
    "decontaminate": "gristmill.steps.decontaminate",
    "extract": "gristmill.steps.extract",
    "filter": "gristmill.steps.filter",
    "langid": "gristmill.steps.langid",
    "mix": "gristmill.steps.mix",
    "normalize": "gristmill.steps.normalize",
    "perplexity": "gristmill.steps.perplexity",
    "pii": "gristmill.steps.pii",
    "quality": "gristmill.steps.quality",
    "sft_signals": "gristmill.steps.sft",
    "rouge_dedup": "gristmill.steps.sft",
    "target_select": "gristmill.steps.target_select",
    "template": "gristmill.steps.template",
    "toxicity": "gristmill.steps.toxicity",
    "url_filter": "gristmill.steps.url_filter",
    "zh_spam": "gristmill.steps.zh_spam",
}


class StepRegistry(Mapping):
    """Step name -> step class: the steps of :data:`MODULES`, each module imported at its first look-up, then
    any step registered otherwise (``contract.register``)."""

    def __getitem__(self, name: str) -> type[Step]:
        if name not in REGISTERED and name in MODULES:
            import_module(MODULES[name])
        return REGISTERED[name]

    def __contains__(self, name: object) -> bool:
        return name in MODULES or name in REGISTERED

    def __iter__(self) -> Iterator[str]:
        yield from MODULES
        yield from [n for n in REGISTERED if n not in MODULES]

    def __len__(self) -> int:
        return len(MODULES) + sum(n not in MODULES for n in REGISTERED)

    def __repr__(self) -> str:
        return f"StepRegistry({list(self)})"


REGISTRY = StepRegistry()

__all__ = ["MODULES", "REGISTRY", "Result", "Step", "StepRegistry"]
