"""LLaMA-Factory ``dataset_info.json`` entries for files gristmill writes, so ``dataset: NAME`` reads them.

LLaMA-Factory reads ``alpaca``, ``sharegpt`` (with ``ranking`` for ``sharegpt_pref`` and a ``kto_tag`` column for
``sharegpt_kto``) and ``openai`` (tool calls with object arguments, ``tool`` messages as observations). TRL's
``preference`` and ``kto`` layouts (prompt/completion message lists) have no LLaMA-Factory reader: write
``sharegpt_pref`` / ``sharegpt_kto`` for it. An entry names only the columns the file has, because LLaMA-Factory's
converters index every column they are given.

>>> entry("sharegpt_kto", "kto.jsonl", {"conversations", "kto_tag", "system"})
{'file_name': 'kto.jsonl', 'formatting': 'sharegpt', 'columns': {'messages': 'conversations', 'system': 'system', 'kto_tag': 'kto_tag'}}
"""

from __future__ import annotations

import json
import os

from gristmill.errors import GristmillError

_COLUMNS = {  # LLaMA-Factory column name -> gristmill's field, per format
    "alpaca": {"prompt": "instruction", "query": "input", "response": "output", "system": "system",
               "history": "history"},
    "sharegpt": {"messages": "conversations", "system": "system", "tools": "tools"},
    "sharegpt_pref": {"messages": "conversations", "system": "system", "tools": "tools", "chosen": "chosen",
                      "rejected": "rejected"},
    "sharegpt_kto": {"messages": "conversations", "system": "system", "tools": "tools", "kto_tag": "kto_tag"},
    "openai": {"messages": "messages", "tools": "tools"},
}
_OPENAI_TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
                "observation_tag": "tool", "function_tag": "function_call", "system_tag": "system"}


def entry(fmt: str, file_name: str, fields: set[str]) -> dict:
    """The dataset_info entry of a file in ``fmt`` whose records have ``fields`` (the union over records)."""
    if fmt not in _COLUMNS:
        raise GristmillError(f"LLaMA-Factory has no reader for gristmill's {fmt!r} format",
                             hint="write sharegpt_pref (preference) or sharegpt_kto (KTO) for LLaMA-Factory")
    e: dict = {"file_name": file_name, "formatting": "openai" if fmt == "openai" else fmt.split("_")[0]}
    if fmt == "sharegpt_pref":
        e["ranking"] = True
    e["columns"] = {lf: ours for lf, ours in _COLUMNS[fmt].items() if ours in fields}
    if fmt == "openai":
        e["tags"] = dict(_OPENAI_TAGS)
    return e


def add_to(path: str, name: str, value: dict) -> None:
    """Add (or replace) ``name`` in the dataset_info.json at ``path``, keeping its other entries."""
    info = {}
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                info = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise GristmillError(f"cannot update {path}: {e}") from None
    info[name] = value
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(info, f, ensure_ascii=False, indent=2)
    os.replace(path + ".tmp", path)
