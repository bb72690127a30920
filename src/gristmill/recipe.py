"""Recipes: YAML (safe load) → a validated plan of steps. Errors name the file, line, key and expectation.

>>> r = load_recipe(text='''
... steps:
...   - step: langid
...     keep: [en, zh]
... ''')
>>> r.steps[0].params.keep
['en', 'zh']
>>> load_recipe(text="steps:\\n  - step: langid\\n    min_score: high\\n")
Traceback (most recent call last):
...
gristmill.errors.RecipeError: <recipe>:3: steps[0] (langid).min_score: expected a number between 0 and 1, got 'high'
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from gristmill.errors import GristmillError, RecipeError
from gristmill.expr import ExprError
from gristmill.io.storage import check_options
from gristmill.params import Size, param, validate_params
from gristmill.steps import REGISTRY, Step


@dataclass
class InputParams:
    paths: list[str] = param([], "files, folders or globs on any fsspec path (local, memory://, s3:// …)")
    format: Literal["auto", "jsonl", "parquet", "text", "warc", "html"] = param(
        "auto", "input format; auto = from the file name (.warc/.warc.gz: WARC; .html/.htm: one page per file)")
    text_field: str = param("text", "field holding the text; dotted paths reach into nested JSON (doc.body)")
    id_field: str = param("id", "field holding the id; records without one get SOURCE:OFFSET")
    text_unit: Literal["line", "file"] = param("line", "plain text: one document per line or per file")
    max_record_bytes: Size = param(Size(32 * 2**20), "records larger than this go to quarantine (a "
                                                   "sign of broken input; raise it for very long books)")
    shard_size: Size = param(Size(128 * 10**6), "uncompressed JSONL/text files larger than this are split "
                                               "into byte ranges, Parquet files into row-group ranges")
    batch_rows: int = param(2000, "rows per Arrow batch between steps", min=1)
    storage_options: dict[str, Any] = param({}, "fsspec options for s3://, gs://, az:// … inputs (endpoint_url, "
                                                 "profile, anon, client_kwargs …); credentials only as ${ENV_VAR}")
    sft: Literal["auto", "alpaca", "sharegpt", "openai", "preference", "sharegpt_pref", "kto"] | None = param(
        None, "read fine-tuning records (JSONL) in this format (auto: detected per record); invalid records go "
              "to quarantine with the exact problem; the text steps see the conversation as role: content lines")


@dataclass
class OutputParams:
    path: str = param("gristmill-out", "output folder (kept/, rejected/, quarantine/, manifest.json)")
    format: Literal["jsonl", "parquet"] = param("jsonl", "format of kept/ and rejected/")
    compression: Literal["auto", "none", "gzip", "zstd", "snappy", "lz4"] = param(
        "auto", "auto = none for JSONL, zstd for Parquet; snappy and lz4 are for Parquet only")
    write_rejected: bool = param(True, "write rejected rows (with rejected_by, reason, detail columns)")
    text_field: str | None = param(None, "field of the text in JSONL output (null: the input's text field, "
                                         "or text when an extract step turned pages into text)")
    columns: list[str] | None = param(None, "write only these columns of kept rows (null: all); text_preview "
                                            "(first 300 characters) and text_bytes are also available")
    storage_options: dict[str, Any] = param({}, "fsspec options for an s3://, gs://, az:// … output (as "
                                                 "input.storage_options); the run is staged in a local folder "
                                                 "and published when complete")
    report: bool = param(True, "profile kept and rejected documents as the run goes and write report.html "
                               "(statistics and samples; the corpus is not read again)")


@dataclass
class StepSpec:
    step: str
    label: str
    params: Any
    line: int | None

    def build(self) -> Step:
        return REGISTRY[self.step](self.params, self.label)


@dataclass
class Recipe:
    name: str
    description: str
    input: InputParams
    output: OutputParams
    steps: list[StepSpec]
    file: str = "<recipe>"

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description,
                "input": dataclasses.asdict(self.input), "output": dataclasses.asdict(self.output),
                "steps": [{"step": s.step, "name": s.label, **dataclasses.asdict(s.params)} for s in self.steps]}

    def output_text_field(self) -> str:
        if self.output.text_field:
            return self.output.text_field
        if self.input.sft:
            return ""
        return "text" if any(s.step == "extract" for s in self.steps) else self.input.text_field

    def plan_hash(self) -> str:
        """Hash of everything that decides the output (not the output folder)."""
        d = self.to_dict()
        d["output"].pop("path")
        d.pop("description")
        d.pop("name")
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --- YAML with line numbers ----------------------------------------------------------------------------
class _LineDict(dict):
    line: int = 0
    lines: dict


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    d = _LineDict()
    d.line = node.start_mark.line + 1
    d.lines = {}
    for k_node, v_node in node.value:
        k = loader.construct_object(k_node, deep=True)
        if k in d:
            raise RecipeError(loader.name, k_node.start_mark.line + 1, str(k), "each key once", "a repeated key")
        d[k] = loader.construct_object(v_node, deep=True)
        d.lines[k] = k_node.start_mark.line + 1
    return d


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _lines(d: Any) -> dict:
    return getattr(d, "lines", {})


def _line(d: Any) -> int | None:
    return getattr(d, "line", None)


def default_recipe_path() -> Path:
    return Path(str(resources.files("gristmill") / "recipes" / "default.yaml"))


def load_recipe(path: str | Path | None = None, *, text: str | None = None) -> Recipe:
    """Load and validate a recipe from a file, from YAML text, or (neither given) the default recipe."""
    if text is None:
        path = Path(path) if path is not None else default_recipe_path()
        if not path.exists():
            raise GristmillError(f"recipe not found: {path}", hint="gristmill run RECIPE.yaml, or no recipe for the default")
        text = path.read_text(encoding="utf-8")
        file = str(path)
    else:
        file = "<recipe>"
    try:
        loader = _Loader(text)
        loader.name = file
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise RecipeError(file, line, "(document)", "valid YAML", None, hint=str(e.problem)) from None
    return parse_recipe(data if data is not None else _LineDict(), file)


def parse_recipe(data: Any, file: str = "<recipe>") -> Recipe:
    if not isinstance(data, dict):
        raise RecipeError(file, _line(data), "(top level)", "a mapping with input, output and steps", type(data).__name__)
    top = {"name", "description", "input", "output", "steps"}
    lines = _lines(data)
    for k in data:
        if k not in top:
            close = difflib.get_close_matches(str(k), list(top), n=1)
            raise RecipeError(file, lines.get(k), str(k), "one of " + ", ".join(sorted(top)), None,
                              hint=f"did you mean '{close[0]}'?" if close else None)
    for k in ("input", "output"):
        if data.get(k) is not None and not isinstance(data[k], dict):
            raise RecipeError(file, lines.get(k), k, "a mapping", data[k])
    inp = validate_params(InputParams, data.get("input") or {}, where=(file, _lines(data.get("input")),
                          _line(data.get("input")) or lines.get("input")), key="input")
    out = validate_params(OutputParams, data.get("output") or {}, where=(file, _lines(data.get("output")),
                          _line(data.get("output")) or lines.get("output")), key="output")
    for key, section, opts in (("input", data.get("input"), inp.storage_options),
                               ("output", data.get("output"), out.storage_options)):
        problem = check_options(opts, f"{key}.storage_options")
        if problem:
            raise RecipeError(file, _lines(section).get("storage_options"), f"{key}.storage_options",
                              "no credential written in the recipe (use ${ENV_VAR})", problem.split(": ", 1)[0])
    if out.compression in ("snappy", "lz4") and out.format != "parquet":
        raise RecipeError(file, _lines(data.get("output")).get("compression"), "output.compression",
                          "none, gzip or zstd for JSONL output", out.compression)
    steps_raw = data.get("steps") or []
    if not isinstance(steps_raw, list):
        raise RecipeError(file, lines.get("steps"), "steps", "a list of steps", steps_raw)
    steps: list[StepSpec] = []
    labels: set[str] = set()
    for i, item in enumerate(steps_raw):
        key = f"steps[{i}]"
        line = _line(item) or lines.get("steps")
        if not isinstance(item, dict) or "step" not in item:
            raise RecipeError(file, line, key, "a mapping with a 'step' key (e.g. step: langid)", item)
        name = item["step"]
        if name not in REGISTRY:
            close = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
            raise RecipeError(file, _lines(item).get("step", line), f"{key}.step", "a known step", name,
                              hint=(f"did you mean '{close[0]}'? " if close else "") + "see: gristmill steps")
        cls = REGISTRY[name]
        label = str(item.get("name") or name)
        if label in labels:
            label = f"{label}#{i}"
        labels.add(label)
        values = {k: v for k, v in item.items() if k not in ("step", "name")}
        params = validate_params(cls.Params, values, where=(file, _lines(item), line), key=f"{key} ({name})")
        cls.check_requirements(params)
        spec = StepSpec(name, label, params, line)
        try:
            spec.build()
        except ExprError as e:
            raise RecipeError(file, line, f"{key} ({name})", "a valid expression", None, hint=str(e)) from None
        except GristmillError as e:
            raise RecipeError(file, line, f"{key} ({name})", "usable parameters", None,
                              hint=f"{e}" + (f"; {e.hint}" if e.hint else "")) from None
        steps.append(spec)
    return Recipe(str(data.get("name") or Path(file).stem), str(data.get("description") or ""), inp, out, steps, file)
