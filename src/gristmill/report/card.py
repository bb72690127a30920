"""The run folder's dataset card (``README.md``): Hugging Face ``datasets`` reads its YAML header, so
``load_dataset(RUN_DIR)`` loads ``kept`` and ``load_dataset(RUN_DIR, "rejected")`` / ``"quarantine"`` the
others, each with the typed union of its files as declared features (missing fields read as null), and
never picks up ``manifest.json`` or ``_work/``.

>>> card = card_text({"recipe": {"name": "demo"}, "recipe_hash": "ab", "counts": {"input": 2, "kept": 1,
...     "rejected": 1, "quarantined": 0}, "files": {"kept": ["kept/part-00000.jsonl"],
...     "rejected": ["rejected/part-00000.quality.jsonl"], "quarantine": []}, "steps": []},
...     {"kept": {"struct": {"id": "string", "text": "string"}}})
>>> print(card.split("---")[1].strip().splitlines()[1:7])
['configs:', '- config_name: kept', '  data_files:', '  - split: train', '    path: kept/*.jsonl', '  default: true']
"""

from __future__ import annotations

import os

import yaml

from gristmill.io import schema as ty

CONFIGS = ("kept", "rejected", "quarantine")


SUFFIXES = (".jsonl.gz", ".jsonl.zst", ".jsonl", ".parquet")


def _pattern(files: list[str], group: str) -> str | None:
    """The data-files pattern of one output (``kept/*.jsonl`` …), None when it has no file."""
    exts = {next((e for e in SUFFIXES if f.endswith(e)), "") for f in files}
    if not exts:
        return None
    return f"{group}/*{exts.pop()}" if len(exts) == 1 else f"{group}/*"


def card_text(manifest: dict, unions: dict) -> str:
    configs, infos = [], []
    for group in CONFIGS:
        files = manifest.get("files", {}).get(group, [])
        pattern = _pattern(files, group)
        if pattern is None:
            continue
        c = {"config_name": group, "data_files": [{"split": "train", "path": pattern}]}
        if group == "kept":
            c["default"] = True
        configs.append(c)
        u = unions.get(group)
        if isinstance(u, dict) and "struct" in u:
            infos.append({"config_name": group,
                          "features": [ty.feature_yaml(k, t) for k, t in u["struct"].items()]})
    header = yaml.safe_dump({"configs": configs, "dataset_info": infos} if infos else {"configs": configs},
                            sort_keys=False, allow_unicode=True)
    c = manifest["counts"]
    name = manifest.get("recipe", {}).get("name", "gristmill run")
    lines = [
        "---", "# Written by gristmill: a Hugging Face dataset card (rewritten by every run)", header.rstrip(),
        "---", "",
        f"# {name}", "",
        f"Written by gristmill (recipe hash `{manifest.get('recipe_hash', '')}`). Every input record is in "
        "exactly one of the configurations below; `manifest.json` has the full accounting and `report.html` "
        "the data report.", "",
        "| configuration | records | files |", "|---|---:|---:|",
        f"| kept (default) | {c['kept']:,} | {len(manifest['files'].get('kept', []))} |",
        f"| rejected | {c['rejected']:,} | {len(manifest['files'].get('rejected', []))} |",
        f"| quarantine | {c['quarantined']:,} | {len(manifest['files'].get('quarantine', []))} |", "",
        "```python", "from datasets import load_dataset", "",
        'kept = load_dataset("RUN_DIR", split="train")                 # the kept documents',
        'rejected = load_dataset("RUN_DIR", "rejected", split="train")  # with rejected_by, reason, detail',
        "```", "",
    ]
    steps = manifest.get("steps") or []
    if steps:
        lines += ["| step | in | kept | rejected |", "|---|---:|---:|---:|"]
        lines += [f"| {s['name']} | {s['in']:,} | {s['kept']:,} | {sum(s['rejected'].values()):,} |"
                  for s in steps]
        lines.append("")
    return "\n".join(lines)


def write_card(root: str, manifest: dict, unions: dict) -> str:
    path = os.path.join(root, "README.md")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(card_text(manifest, unions))
    os.replace(tmp, path)
    return path
