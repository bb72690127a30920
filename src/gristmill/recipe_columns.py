"""The recipe's columns, checked when it is loaded: every column a step reads must exist by the time it runs.

A column exists when the input has it (``id``, ``text``, the input record's other fields, sampled from the
first records of the first input files by :func:`gristmill.recipe_check.sample_input`) or when an earlier step
makes it (``Step.outputs``, or ``step.columns()`` where the columns depend on the parameters). Columns are
read by filter rules (presets included), ``exact_dedup.key``, ``minhash_dedup.column``/``keep: max:COL``,
``rouge_dedup.column``, ``mix.by``, ``url_filter.field``, the fields of a ``template`` and
``output.columns``. An unknown name is an error with a did-you-mean hint:

>>> from gristmill.recipe import load_recipe
>>> load_recipe(text="steps:\\n  - step: quality\\n  - step: filter\\n    keep: n_char >= 200\\n")
Traceback (most recent call last):
...
gristmill.errors.RecipeError: <recipe>:4: steps[1] (filter).keep: expected a column that exists before this step, got 'n_char'

Without a sample of the input (``gristmill validate`` without ``--input`` and no ``input.paths``), a name
that is not made by any step could be an input field, so only near-misses of known columns are errors.
"""

from __future__ import annotations

import difflib
import functools
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gristmill.errors import RecipeError
from gristmill.steps import REGISTRY

if TYPE_CHECKING:
    from gristmill.recipe import Recipe, StepSpec

ALWAYS = ("id", "text", "_file")  # in every batch (_file: the input file's name, for rules and mix.by)
DERIVED_OUTPUT = ("text_preview", "text_bytes")  # output.columns may also name these


@dataclass
class InputSample:
    """The fields of the first records of the input: ``fields`` (dotted paths for nested objects)."""

    fields: set[str]
    where: str  # e.g. "the first 100 records of in.jsonl"


def produced(spec: StepSpec) -> set[str]:
    """Columns a step adds: ``columns()`` of the built step where it depends on parameters, else ``outputs``."""
    step = spec.build()
    return set(step.columns()) if hasattr(step, "columns") else set(REGISTRY[spec.step].outputs)


def _line(spec: StepSpec, *keys: str) -> int | None:
    for k in keys:
        if k in spec.lines:
            return spec.lines[k]
    return spec.line


def reads(spec: StepSpec) -> Iterator[tuple[str, str, int | None, str]]:
    """(column, parameter, line, context) for each column the step reads."""
    p = spec.params
    if spec.step == "filter":
        for rule, expr in spec.build().rules:
            if rule in p.rules:
                key, line, ctx = f"rules.{rule}", _line(spec, f"rules.{rule}", "rules"), f"rule {rule}: {expr.source}"
            elif rule == "keep" and p.keep:
                key, line, ctx = "keep", _line(spec, "keep"), f"keep: {expr.source}"
            else:
                key, line = "preset", _line(spec, "preset")
                ctx = f"rule {rule} of preset {', '.join(p.preset)}: {expr.source}"
            for name in sorted(expr.names):
                yield name, key, line, ctx
    elif spec.step == "exact_dedup":
        yield p.key, "key", _line(spec, "key"), f"key: {p.key}"
    elif spec.step in ("minhash_dedup", "rouge_dedup"):
        yield p.column, "column", _line(spec, "column"), f"column: {p.column}"
        keep = getattr(p, "keep", "")
        if keep.startswith("max:"):
            yield keep[4:], "keep", _line(spec, "keep"), f"keep: {keep}"
    elif spec.step == "mix":
        yield p.by, "by", _line(spec, "by"), f"by: {p.by}"
    elif spec.step == "url_filter":
        yield p.field, "field", _line(spec, "field"), f"field: {p.field}"
    elif spec.step == "template":
        for _, f, _, _ in string.Formatter().parse(p.template):
            if f:
                yield f, "template", _line(spec, "template"), f"template field {{{f}}}"


def all_step_columns() -> set[str]:
    return {c for cls in REGISTRY.values() for c in cls.outputs}


def column_problems(recipe: Recipe, sample: InputSample | None, unbuilt: dict[int, set[str]] | None = None
                    ) -> list[RecipeError]:
    """Every column a step (or ``output.columns``) names that does not exist where it is read.

    ``sample`` holds the input's fields; without one, only near-misses of known columns are problems.
    ``unbuilt`` adds the columns of steps that failed to build (so one mistake does not cause others).
    """
    unbuilt = unbuilt or {}
    avail = set(ALWAYS) | (sample.fields if sample else {"meta"})
    makers = [(spec, produced(spec)) for spec in recipe.steps]
    first, made = set(avail), {c for _, cols in makers for c in cols}
    known = functools.cache(lambda: first | all_step_columns() | made)  # imports every step: only when needed
    problems: list[RecipeError] = []
    seen: set[tuple] = set()
    for i, (spec, cols) in enumerate(makers):
        avail |= unbuilt.get(i, set())
        for name, key, line, ctx in reads(spec):
            if name in avail or (spec.label, name, key) in seen:
                continue
            seen.add((spec.label, name, key))
            later = [s.label for s, c in makers[i + 1:] if name in c]
            err = _unknown(recipe, spec, name, key, line, ctx, avail, known(), sample, later)
            if err:
                problems.append(err)
        avail |= cols
    for c in unbuilt.get(len(makers), set()):
        avail.add(c)
    for name in recipe.output.columns or []:
        usable = (avail - {"_file"}) | set(DERIVED_OUTPUT)
        if name in usable:
            continue
        close = difflib.get_close_matches(name, sorted(usable | (known() - {"_file", name})), n=1,
                                          cutoff=0.6 if sample else 0.8)
        if sample is None and (name in known() or not close):
            continue
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(RecipeError(recipe.file, recipe.lines.get("output.columns"), "output.columns",
                                    "a column of the kept rows", name,
                                    hint=hint + "input fields stay inside meta; columns: " + ", ".join(sorted(usable))))
    return problems


def _unknown(recipe, spec, name, key, line, ctx, avail, known, sample, later) -> RecipeError | None:
    where = f"{spec.key or spec.label}.{key}"
    expected = "a column that exists before this step"
    if later:
        return RecipeError(recipe.file, line, where, expected, name,
                           hint=f"{ctx}: '{name}' is made by step {later[0]}, which runs after this one")
    close = difflib.get_close_matches(name, sorted((avail | known) - {name}), n=1, cutoff=0.6 if sample else 0.8)
    if sample is None and (name in known or not close):
        return None  # may be an input field (a column a previous run wrote): the run checks it against the input
    maker = ""
    for cls in REGISTRY.values():
        if name in cls.outputs:
            maker = f" ('{name}' is made by the {cls.name} step: add one before this one)"
            break
    parts = [(f"did you mean '{close[0]}'? " if close else "") + f"in {ctx}{maker}"]
    if sample is not None:
        shown = sorted(sample.fields - {"meta"})
        parts.append(f"input fields in {sample.where}: " + (", ".join(shown[:30]) or "none"))
    else:
        parts.append("if it is an input field, check with the input: gristmill validate RECIPE --input FILE")
    return RecipeError(recipe.file, line, where, expected, name, hint="; ".join(parts))
