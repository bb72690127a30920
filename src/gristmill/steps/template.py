"""``template``: build the text from other fields with a template (e.g. instruction data to plain text).

>>> import pyarrow as pa, json
>>> t = pa.table({"id": ["1"], "text": [""], "meta": [json.dumps({"instruction": "Add 2 and 2.", "output": "4"})]})
>>> from gristmill.record import meta_column
>>> step = Template(TemplateParams(template="Q: {instruction}\\nA: {output}"))
>>> step.process(t, lambda n: meta_column(t, n)).table.column("text").to_pylist()
['Q: Add 2 and 2.\\nA: 4']
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import pyarrow as pa

from gristmill.params import param
from gristmill.steps.base import Result, Step, register, with_column


@dataclass
class TemplateParams:
    template: str = param("{text}", "Python format string over fields, e.g. \"{instruction}\\n{input}\\n{output}\"; "
                                    "a missing or null field is empty")
    collapse_blank_lines: bool = param(True, "remove the blank lines an empty field leaves")


@register
class Template(Step):
    """Make each document's text from its fields with a format template (e.g. instruction data)."""

    name = "template"
    Params = TemplateParams
    reads_input_fields = True
    outputs = ("text",)

    def __init__(self, params: TemplateParams, label: str | None = None) -> None:
        super().__init__(params, label)
        self.fields = [f for _, f, _, _ in string.Formatter().parse(params.template) if f]

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
