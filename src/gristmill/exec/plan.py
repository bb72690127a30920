"""Cut a recipe's steps into stages at each global step (a step that needs the whole corpus).

>>> from gristmill.recipe import load_recipe
>>> [(s.apply and s.apply.step, [m.step for m in s.maps], s.collect and s.collect.step)
...  for s in stages(load_recipe().steps)]
[(None, ['normalize', 'langid'], 'exact_dedup'), ('exact_dedup', ['quality', 'filter'], None)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gristmill.recipe import StepSpec
from gristmill.steps import REGISTRY


@dataclass
class Stage:
    index: int
    apply: StepSpec | None = None           # global step whose decision this stage applies first
    maps: list[StepSpec] = field(default_factory=list)
    collect: StepSpec | None = None         # global step whose state this stage writes for survivors

    @property
    def final(self) -> bool:
        return self.collect is None


def stages(steps: list[StepSpec]) -> list[Stage]:
    out = [Stage(0)]
    for s in steps:
        if REGISTRY[s.step].kind == "global":
            out[-1].collect = s
            out.append(Stage(len(out), apply=s))
        else:
            out[-1].maps.append(s)
    return out
