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
from gristmill.io.encoding import check_setting
from gristmill.io.storage import check_options
from gristmill.params import Size, param, validate_params
from gristmill.steps import REGISTRY, Step
from gristmill.yamlguard import BoundedLoader, YamlLimitError, YamlLimits, check_size


@dataclass
class InputParams:
    paths: list[str] = param([], "files, folders or globs on any fsspec path (local, memory://, s3:// …)",
                             example=["data/*.jsonl.gz", "s3://bucket/crawl/"])
    format: Literal["auto", "jsonl", "parquet", "text", "warc", "html", "csv", "tsv", "pdf", "docx", "epub",
                    "markdown", "rst", "code"] = param(
        "auto", "input format; auto = from the file name (.warc/.warc.gz: WARC; .html/.htm: one page per file; "
                ".txt/.md: text; .csv/.tsv: a header row, then one document per row; .pdf/.docx/.epub/.rst/"
                ".markdown: documents, see document_unit); code (never automatic): each folder a source tree, each "
                ".zip/.tar(.gz) an archive, one document per file (docs/code.md)")
    text_field: str = param("text", "field holding the text; dotted paths reach into nested JSON (doc.body)",
                            example="doc.body")
    id_field: str = param("id", "field holding the id; records without one get SOURCE:OFFSET", example="url")
    text_unit: Literal["file", "paragraph", "line"] = param(
        "file", "plain text: one document per file (a README is one document), per paragraph (lines between "
                "blank lines) or per line", example="paragraph")
    encoding: str = param("auto", "text/JSONL/CSV: auto (byte-order mark, UTF-16/32 zero bytes, UTF-8, then "
                                  "charset-normalizer; GBK read as GB18030, Big5 as Big5-HKSCS) or a Python codec "
                                  "(utf-8, gb18030, big5, utf-16 …); all but utf-8 add encoding and "
                                  "encoding_confidence columns; the manifest records the decision per file",
                          example="gb18030")
    max_record_bytes: Size = param(Size(32 * 2**20), "records larger than this go to quarantine (a "
                                                   "sign of broken input; raise it for very long books)",
                                   example="256MiB")
    max_expansion: float = param(200.0, ".gz/.zst: a file that decompresses to more than this many times its "
                                        "compressed size (past 64 MiB) stops there, with a file problem in the "
                                        "manifest (0: no limit)", min=0)
    document_unit: Literal["file", "page", "chapter"] = param(
        "file", "PDF, DOCX, EPUB, Markdown, reStructuredText: one document per file, per page (PDF) or per "
                "chapter (EPUB spine item; DOCX, Markdown, reST top-level heading; PDF top-level bookmark)",
        example="page")
    document_timeout: float = param(60.0, "seconds one document file may take to parse (in a child process "
                                          "that is killed); slower files go to quarantine (0: no limit)", min=0)
    max_document_bytes: Size = param(Size(256 * 2**20), "document files (PDF, DOCX, EPUB, Markdown, reST) "
                                                        "larger than this go to quarantine unread",
                                     example="1GiB")
    strip_markup: bool = param(False, "Markdown and reStructuredText: remove the markup (headings' marks, "
                                      "emphasis, links to their text, directives), keep the words")
    code_max_file_bytes: Size = param(Size(2**20), "code: source files larger than this go to quarantine "
                                                   "(The Stack's 1 MB cut)", example="4MiB")
    code_max_archive_members: int = param(200_000, "code: files read from one archive or source "
                                                   "tree; the rest go to quarantine as one entry", min=1)
    code_max_archive_bytes: Size = param(Size(8 * 2**30), "code: uncompressed bytes read from one archive "
                                                          "or tree (zip and tar bombs)", example="1GiB")
    code_binary: Literal["skip", "quarantine"] = param("skip", "code: binary files (by extension or a NUL byte) "
                                                               "are counted as skipped, or quarantined with why")
    quarantine_bytes: Size = param(Size(4096), "raw bytes kept per quarantined record (with its length and "
                                               "SHA-256)")
    shard_size: Literal["auto"] | Size = param(
        "auto", "uncompressed JSONL/text files larger than this are split into byte ranges, Parquet files into "
                "row-group ranges; auto: the inputs' total size over 256 shards, at least 16 MB and at most "
                "128 MB each, files cut into equal parts and the last part (8 MB or more) into pieces of 1/2, 1/4, "
                "1/8 and 1/8, which run last (docs/scaling.md)", min=1024, example="512MB")
    batch_rows: int = param(2000, "rows per Arrow batch between steps", min=1, example=500)
    storage_options: dict[str, Any] = param({}, "fsspec options for s3://, gs://, az:// … inputs (endpoint_url, "
                                                 "profile, anon, client_kwargs …); credentials only as ${ENV_VAR}",
                                     example={"endpoint_url": "http://minio:9000", "key": "${S3_KEY}",
                                              "secret": "${S3_SECRET}"})
    sft: Literal["auto", "alpaca", "sharegpt", "openai", "preference", "sharegpt_pref", "kto"] | None = param(
        None, "read fine-tuning records (JSONL) in this format (auto: detected per record); invalid records go "
              "to quarantine with the exact problem; the text steps see the conversation as role: content lines",
        example="auto")


@dataclass
class OutputParams:
    path: str = param("gristmill-out", "output folder (kept/, rejected/, quarantine/, manifest.json)",
                      example="s3://bucket/clean/")
    format: Literal["jsonl", "parquet"] = param("jsonl", "format of kept/ and rejected/", example="parquet")
    compression: Literal["auto", "none", "gzip", "zstd", "snappy", "lz4"] = param(
        "auto", "auto = none for JSONL, zstd for Parquet; snappy and lz4 are for Parquet only", example="gzip")
    write_rejected: bool = param(True, "write rejected rows (with rejected_by, reason, detail columns)",
                                 example=False)
    text_field: str | None = param(None, "field of the text in JSONL output (null: the input's text field, "
                                         "or text when an extract step turned pages into text)",
                                         example="content")
    columns: list[str] | None = param(None, "write only these columns of kept rows (null: all); text_preview "
                                            "(first 300 characters) and text_bytes are also available",
                                            example=["id", "text", "lang", "n_chars"])
    storage_options: dict[str, Any] = param({}, "fsspec options for an s3://, gs://, az:// … output (as "
                                                 "input.storage_options); the run is staged in a local folder "
                                                 "and published when complete", example={"anon": False})
    report: bool = param(True, "profile kept and rejected documents as the run goes and write report.html "
                               "(statistics and samples; the corpus is not read again)",
                               example=False)
    fsync: bool = param(True, "fsync each output file before its rename and each folder after, so that a power "
                              "loss never leaves _SUCCESS without its data (false: faster on many small "
                              "shards, for scratch runs; see docs/outputs.md)", example=False)


@dataclass
class StepSpec:
    step: str
    label: str
    params: Any
    line: int | None
    lines: dict[str, int] = dataclasses.field(default_factory=dict)  # parameter (rules.NAME) -> recipe line
    key: str = ""  # where in the recipe, for messages: steps[3] (filter)

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
    lines: dict[str, int] = dataclasses.field(default_factory=dict)  # input.KEY / output.KEY -> recipe line

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
        d["output"].pop("fsync", None)  # how the bytes reach the disk, not which bytes
        d.pop("description")
        d.pop("name")
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --- YAML with line numbers ----------------------------------------------------------------------------
class _LineDict(dict):
    line: int = 0
    lines: dict


class _Loader(BoundedLoader):
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


def bundled_recipe(name: str) -> Path | None:
    """The bundled recipe called ``name`` (``default``, ``sft`` …), if there is one."""
    p = Path(str(resources.files("gristmill") / "recipes" / f"{name}.yaml"))
    return p if name and "/" not in name and p.is_file() else None


class RecipeErrors(RecipeError):
    """Several problems in one recipe, reported together (``errors``, in line order)."""

    def __init__(self, errors: list[RecipeError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.line or 0)
        first = self.errors[0]
        GristmillError.__init__(self, f"{len(errors)} problems in {first.file}:\n" + "\n".join(
            "  " + str(e) + (f" ({e.hint})" if e.hint else "") for e in self.errors))
        self.file, self.line, self.key, self.expected = first.file, first.line, first.key, first.expected


def raise_all(errors: list[RecipeError]) -> None:
    """Raise nothing, the one problem, or :class:`RecipeErrors` holding them all."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise RecipeErrors(errors)


@dataclass
class Draft:
    """A recipe as far as it could be built, every problem found, and what steps that failed would add."""

    recipe: Recipe
    problems: list[RecipeError]
    unbuilt: dict[int, set[str]]  # position in recipe.steps -> columns of failed steps that stood there


def load_recipe(path: str | Path | None = None, *, text: str | None = None) -> Recipe:
    """Load and validate a recipe from a file, from YAML text, a bundled name (``"default"``), or (neither
    given) the default recipe. Every problem found is reported at once (:class:`RecipeErrors`)."""
    from gristmill.recipe_columns import column_problems

    draft = draft_recipe(path, text=text)
    raise_all(draft.problems + column_problems(draft.recipe, None, draft.unbuilt))
    return draft.recipe


def draft_recipe(path: str | Path | None = None, *, text: str | None = None) -> Draft:
    """Parse a recipe, collecting (not raising) schema problems; invalid YAML still raises at once."""
    if text is None:
        if path is None:
            path = default_recipe_path()
        elif not Path(path).exists() and bundled_recipe(str(path)):
            path = bundled_recipe(str(path))
        path = Path(path)
        if not path.exists():
            raise GristmillError(f"recipe not found: {path}", hint="gristmill run RECIPE.yaml, or no recipe for the "
                                 "default (bundled: default, sft)")
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read(YamlLimits.from_env().max_bytes + 1)
        except (OSError, UnicodeDecodeError) as e:
            raise GristmillError(f"cannot read recipe {path}: {getattr(e, 'strerror', None) or e}") from None
        file = str(path)
    else:
        file = "<recipe>"
    try:
        check_size(text)
        loader = _Loader(text)
        loader.name = file
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise RecipeError(file, line, "(document)", "valid YAML", None, hint=str(e.problem)[:200]) from None
    except (yaml.YAMLError, YamlLimitError) as e:
        raise RecipeError(file, None, "(document)", f"valid YAML within the limits ({str(e)[:200]})") from None
    return _draft(data if data is not None else _LineDict(), file)


def parse_recipe(data: Any, file: str = "<recipe>") -> Recipe:
    """A recipe from already-loaded YAML data; raises every problem found."""
    from gristmill.recipe_columns import column_problems

    draft = _draft(data, file)
    raise_all(draft.problems + column_problems(draft.recipe, None, draft.unbuilt))
    return draft.recipe


def _section(cls: type, data: dict, key: str, file: str, problems: list) -> Any:
    sec = data.get(key)
    if sec is not None and not isinstance(sec, dict):
        problems.append(RecipeError(file, _lines(data).get(key), key, "a mapping", sec))
        return cls()
    v = validate_params(cls, sec or {}, where=(file, _lines(sec), _line(sec) or _lines(data).get(key)), key=key,
                        errors=problems)
    return cls() if v is None else v


def _draft(data: Any, file: str) -> Draft:
    if not isinstance(data, dict):
        raise RecipeError(file, _line(data), "(top level)", "a mapping with input, output and steps", type(data).__name__)
    problems: list[RecipeError] = []
    top = {"name", "description", "input", "output", "steps"}
    lines = _lines(data)
    for k in data:
        if k not in top:
            close = difflib.get_close_matches(str(k), list(top), n=1)
            problems.append(RecipeError(file, lines.get(k), str(k), "one of " + ", ".join(sorted(top)), None,
                                        hint=f"did you mean '{close[0]}'?" if close else None))
    inp = _section(InputParams, data, "input", file, problems)
    out = _section(OutputParams, data, "output", file, problems)
    if check_setting(inp.encoding):
        problems.append(RecipeError(file, _lines(data.get("input")).get("encoding"), "input.encoding",
                                    "auto or a Python codec name (utf-8, gb18030, big5, utf-16 …)", inp.encoding))
    for key, section, opts in (("input", data.get("input"), inp.storage_options),
                               ("output", data.get("output"), out.storage_options)):
        problem = check_options(opts, f"{key}.storage_options")
        if problem:
            problems.append(RecipeError(file, _lines(section).get("storage_options"), f"{key}.storage_options",
                                        "no credential written in the recipe (use ${ENV_VAR})",
                                        problem.split(": ", 1)[0]))
    if out.compression in ("snappy", "lz4") and out.format != "parquet":
        problems.append(RecipeError(file, _lines(data.get("output")).get("compression"), "output.compression",
                                    "none, gzip or zstd for JSONL output", out.compression))
    where = {f"{k}.{p}": n for k in ("input", "output") for p, n in _lines(data.get(k)).items()}
    steps, unbuilt = _steps(data, file, problems)
    name = str(data.get("name") or Path(file).stem)
    recipe = Recipe(name, str(data.get("description") or ""), inp, out, steps, file, where)
    return Draft(recipe, problems, unbuilt)


def _steps(data: dict, file: str, problems: list) -> tuple[list[StepSpec], dict[int, set[str]]]:
    lines = _lines(data)
    steps_raw = data.get("steps") or []
    if not isinstance(steps_raw, list):
        problems.append(RecipeError(file, lines.get("steps"), "steps", "a list of steps", steps_raw))
        return [], {}
    steps: list[StepSpec] = []
    unbuilt: dict[int, set[str]] = {}
    labels: set[str] = set()
    for i, item in enumerate(steps_raw):
        key = f"steps[{i}]"
        line = _line(item) or lines.get("steps")
        if not isinstance(item, dict) or "step" not in item:
            problems.append(RecipeError(file, line, key, "a mapping with a 'step' key (e.g. step: langid)", item))
            continue
        name = item["step"]
        if name not in REGISTRY:
            close = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
            problems.append(RecipeError(file, _lines(item).get("step", line), f"{key}.step", "a known step", name,
                                        hint=(f"did you mean '{close[0]}'? " if close else "") + "see: gristmill steps"))
            continue
        cls = REGISTRY[name]
        label = str(item.get("name") or name)
        if label in labels:
            label = f"{label}#{i}"
        labels.add(label)
        values = {k: v for k, v in item.items() if k not in ("step", "name")}
        spec = _build(cls, name, label, values, file, item, line, key, problems)
        if spec is None:  # later checks still know what this step would have added
            cols = set(cls.outputs) | {v for k, v in values.items() if k.endswith("column") and isinstance(v, str)}
            unbuilt.setdefault(len(steps), set()).update(cols)
        else:
            steps.append(spec)
    return steps, unbuilt


def _build(cls, name, label, values, file, item, line, key, problems) -> StepSpec | None:
    params = validate_params(cls.Params, values, where=(file, _lines(item), line), key=f"{key} ({name})",
                             errors=problems)
    if params is None:
        return None
    spec_lines = dict(_lines(item))
    for k, v in values.items():
        spec_lines.update({f"{k}.{sub}": n for sub, n in _lines(v).items()})
    try:
        cls.check_requirements(params)
        spec = StepSpec(name, label, params, line, spec_lines, f"{key} ({name})")
        spec.build()
    except ExprError as e:  # point at the rule's own line
        rules = {f"rules.{k}": v for k, v in (values.get("rules") or {}).items()} | {"keep": values.get("keep")}
        at = next((k for k, v in rules.items() if isinstance(v, str) and repr(v.strip()) in str(e)), None)
        problems.append(RecipeError(file, spec_lines.get(at, line) if at else line,
                                    f"{key} ({name})" + (f".{at}" if at else ""), "a valid expression", None,
                                    hint=str(e)))
        return None
    except RecipeError as e:
        problems.append(e)
        return None
    except GristmillError as e:
        if type(e).__name__ == "MissingExtra":
            problems.append(RecipeError(file, line, f"{key} ({name})", "its optional dependency installed", None,
                                        hint=f"{e}; {e.hint}"))
            return None
        problems.append(RecipeError(file, line, f"{key} ({name})", "usable parameters", None,
                                    hint=f"{e}" + (f"; {e.hint}" if e.hint else "")))
        return None
    return spec
