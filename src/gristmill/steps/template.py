"""``template``: build the text from other fields with a template (e.g. instruction data to plain text).

>>> import pyarrow as pa, json
>>> t = pa.table({"id": ["1"], "text": [""], "meta": [json.dumps({"instruction": "Add 2 and 2.", "output": "4"})]})
>>> from gristmill.record import meta_column
>>> step = Template(TemplateParams(template="Q: {instruction}\\nA: {output}"))
>>> step.process(t, lambda n: meta_column(t, n)).table.column("text").to_pylist()
['Q: Add 2 and 2.\\nA: 4']

Only ``{field}``, ``{field!r}``/``{field!s}`` and a short format spec (fill, alignment, width and
precision up to ``max_width``) are accepted, checked when the recipe loads: no attribute or index access.

>>> Template(TemplateParams(template="{text.__class__}"))
Traceback (most recent call last):
...
gristmill.errors.GristmillError: template field 'text.__class__': only {name}, {name!r} or {name:>20} are allowed (no attribute or index access)
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import pyarrow as pa

from gristmill.errors import GristmillError
from gristmill.params import param
from gristmill.steps.base import Result, Step, register, with_column


@dataclass
class TemplateParams:
    template: str = param("{text}", "Python format string over fields, e.g. \"{instruction}\\n{input}\\n{output}\"; "
                                    "a missing or null field is empty")
    collapse_blank_lines: bool = param(True, "remove the blank lines an empty field leaves")
    max_width: int = param(10_000, "largest width or precision a field's format spec may ask for", min=0)


_SPEC = re.compile(r"(?:(?P<fill>[^{}])?[<>^])?(?P<width>\d+)?(?:\.(?P<precision>\d+))?s?")
_NAME = re.compile(r"[^.\[\]{}!:]+")
MAX_TEMPLATE_CHARS = 100_000


def check_template(template: str, max_width: int) -> list[str]:
    """The fields of ``template``; a :class:`GristmillError` for anything beyond plain fields."""
    if not isinstance(template, str) or len(template) > MAX_TEMPLATE_CHARS:
        raise GristmillError(f"template must be a string of at most {MAX_TEMPLATE_CHARS:,} characters")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise GristmillError(f"template is not a valid format string: {e}") from None
    fields = []
    for _, name, spec, conv in parts:
        if name is None:
            continue
        shown = repr(name[:60])
        if not _NAME.fullmatch(name) or name.isdigit():
            raise GristmillError(f"template field {shown}: only {{name}}, {{name!r}} or {{name:>20}} are allowed "
                                 "(no attribute or index access)")
        if conv not in (None, "r", "s"):
            raise GristmillError(f"template field {shown}: conversion !{conv} is not allowed (only !r and !s)")
        m = _SPEC.fullmatch(spec or "")
        if m is None or len(spec) > 24:
            raise GristmillError(f"template field {shown}: format spec {spec[:40]!r} is not allowed "
                                 "(fill, alignment, width and precision only, e.g. {name:>20.100})")
        for k in ("width", "precision"):
            if m.group(k) and int(m.group(k)) > max_width:
                raise GristmillError(f"template field {shown}: {k} {int(m.group(k)):,} is over max_width "
                                     f"({max_width:,})")
        fields.append(name)
    return fields


@register
class Template(Step):
    """Make each document's text from its fields with a format template (e.g. instruction data)."""

    name = "template"
    Params = TemplateParams
    reads_input_fields = True
    outputs = ("text",)

    def __init__(self, params: TemplateParams, label: str | None = None) -> None:
        super().__init__(params, label)
        self.fields = check_template(params.template, params.max_width)

    def process(self, table: pa.Table, resolve=None) -> Result:
        cols = {}
        for f in self.fields:
            if f in table.column_names:
                cols[f] = table.column(f).to_pylist()
            else:
                try:
                    cols[f] = resolve(f).to_pylist() if resolve else [None] * table.num_rows
                except Exception:
                    cols[f] = [None] * table.num_rows
        out = []
        for i in range(table.num_rows):
            vals = {f: "" if cols[f][i] is None else str(cols[f][i]) for f in self.fields}
            s = self.params.template.format(**vals)
            if self.params.collapse_blank_lines:
                while "\n\n\n" in s:
                    s = s.replace("\n\n\n", "\n\n")
                s = s.strip()
            out.append(s)
        return Result(with_column(table, "text", pa.array(out, pa.string())))
