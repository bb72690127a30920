"""A recipe checked before a run: its columns (:mod:`gristmill.recipe_columns`) against a sample of the input
(the first :data:`SAMPLE_RECORDS` records of the first :data:`SAMPLE_FILES` input files), and after a run the
steps that rejected nearly everything.
"""

from __future__ import annotations

import orjson

from gristmill.errors import GristmillError
from gristmill.recipe import Recipe
from gristmill.recipe_columns import (  # noqa: F401 - their old home
    ALWAYS,
    DERIVED_OUTPUT,
    InputSample,
    all_step_columns,
    column_problems,
    produced,
    reads,
)

SAMPLE_RECORDS = 100  # records read from the start of each sampled input file
SAMPLE_FILES = 3      # input files sampled (in the order the run reads them)


def sample_input(recipe: Recipe) -> InputSample | None:
    """Fields of the first records of the first input files (bounded: :data:`SAMPLE_RECORDS` records per
    file, :data:`SAMPLE_FILES` files); None when the recipe names no input."""
    from gristmill.io.paths import plan_shards
    from gristmill.io.readers import ReadOptions, read_shard
    from gristmill.io.storage import configure_inputs

    inp = recipe.input
    if not inp.paths:
        return None
    configure_inputs(inp.paths, inp.storage_options)
    shards, files = [], set()
    for sh in plan_shards(inp.paths, inp.format, inp.shard_size):
        if sh.path not in files and len(files) < SAMPLE_FILES:
            files.add(sh.path)
            shards.append(sh)
    opts = ReadOptions(text_field=inp.text_field, id_field=inp.id_field, text_unit=inp.text_unit,
                       max_record_bytes=inp.max_record_bytes, batch_rows=SAMPLE_RECORDS, sft=inp.sft,
                       encoding=inp.encoding)
    fields: set[str] = set()
    names = []
    for sh in shards:
        batches = read_shard(sh, opts)
        try:
            for rb in batches:
                if rb.table is not None and rb.table.num_rows:
                    fields |= _fields(rb.table)
                    names.append(sh.source)
                    break
        except GristmillError:
            raise
        except Exception:  # an unreadable file is the run's to report (quarantine, input problems)  # noqa: S112
            continue
        finally:
            batches.close()
    if not names:
        return None
    return InputSample(fields, f"the first {SAMPLE_RECORDS} records of {', '.join(names)}")


def _fields(table) -> set[str]:
    out = set(table.column_names)
    if "meta" in out:
        for m in table.column("meta").to_pylist():
            if m:
                _paths(orjson.loads(m), "", out, 3)
    return out


def _paths(node, prefix: str, out: set[str], depth: int) -> None:
    if not isinstance(node, dict) or depth == 0:
        return
    for k, v in node.items():
        out.add(prefix + str(k))
        _paths(v, f"{prefix}{k}.", out, depth - 1)


def check_recipe(path=None, *, text: str | None = None, inputs: list[str] | None = None
                 ) -> tuple[Recipe, InputSample | None]:
    """What ``gristmill validate`` and ``gristmill run`` check: the schema and every column, against a sample
    of the input (``inputs`` or the recipe's ``input.paths``). Raises every problem at once."""
    from gristmill.recipe import draft_recipe, raise_all

    draft = draft_recipe(path, text=text)
    recipe = draft.recipe
    if inputs:
        recipe.input.paths = [str(p) for p in inputs]
    input_ok = not any(e.key.startswith("input") for e in draft.problems)
    sample = None
    if input_ok:
        try:
            sample = sample_input(recipe)
        except GristmillError:  # no input to sample: the recipe's own problems come first
            raise_all(draft.problems)
            raise
    raise_all(draft.problems + column_problems(recipe, sample, draft.unbuilt))
    return recipe, sample


WARN_SHARE = 0.99  # a step that rejects at least this share of the documents it sees gets a warning


def rejection_warnings(manifest: dict) -> list[str]:
    """A line for each step that rejected >= 99% of the documents it saw, naming its top reason (and, for a
    filter rule, the rule's expression): the sign of a typo or a threshold on the wrong scale."""
    specs = {s.get("name"): s for s in manifest.get("recipe", {}).get("steps", [])}
    out = []
    for st in manifest.get("steps", []):
        n, rejected = st.get("in", 0), st.get("rejected", {})
        if not n or sum(rejected.values()) < WARN_SHARE * n:
            continue
        reason, count = max(rejected.items(), key=lambda kv: kv[1])
        expr = _rule_source(specs.get(st["name"]), reason)
        out.append(f"step {st['name']} rejected {sum(rejected.values()):,} of {n:,} documents "
                   f"({sum(rejected.values()) / n:.1%}); top reason: {reason} ({count:,} documents"
                   + (f"; rule: {expr}" if expr else "") + "); check its thresholds and the columns it reads "
                   "(gristmill calibrate shows their percentiles)")
    return out


def _rule_source(spec: dict | None, reason: str) -> str | None:
    if not spec or spec.get("step") != "filter":
        return None
    from gristmill.steps.filter import Filter, FilterParams

    try:
        step = Filter(FilterParams(preset=spec.get("preset", []), keep=spec.get("keep"), rules=spec.get("rules", {})))
    except GristmillError:
        return None
    return next((e.source for r, e in step.rules if r == reason), None)
