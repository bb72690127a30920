"""The report of a run, from its manifest and the profiles its tasks wrote (never from the corpus).

>>> import gristmill, tempfile, json, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "in.jsonl").write_text(json.dumps({"text": "Hello world, this is a document."}) + "\\n")
>>> _ = gristmill.run(inputs=[str(d / "in.jsonl")], output=str(d / "out"), workers=1, quiet=True)
>>> sorted(p.name for p in (d / "out").glob("*.*"))
['README.md', 'analysis.json', 'manifest.json', 'profile.json', 'report.html']
>>> report_for_run(str(d / "out")).endswith("report.html")
True
"""

from __future__ import annotations

import glob
import os

import orjson

from gristmill.errors import GristmillError
from gristmill.report.analysis import build, finite
from gristmill.report.page import render
from gristmill.report.profile import Profile, prune_parts


def _read(path: str):
    with open(path, "rb") as f:
        return orjson.loads(f.read())


def _write(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_report(root: str, manifest: dict | None, profile: Profile, *, title: str, html_path: str | None = None,
                 **kw) -> str:
    """Write ``analysis.json`` into ``root`` and the page to ``html_path`` (default ``root/report.html``)."""
    a = finite(build(manifest, profile, title=title, **kw))
    _write(os.path.join(root, "analysis.json"), orjson.dumps(a, option=orjson.OPT_INDENT_2))
    out = html_path or os.path.join(root, "report.html")
    _write(out, render(a).encode())
    return out


class ProfileParts:
    """The tasks' profiles, read by the run process as each task finishes (between its own tasks, not all
    at the end when every worker is idle), for :func:`write_run_report`. Sampled documents that can no longer be in the merged samples (hash at or above
    the lowest rate of any part read so far: the merge keeps only those below the lowest rate of all) and
    documents and examples that no merge can keep (:func:`~gristmill.report.profile.prune_parts`)
    are dropped as soon as they are known, so the run holds a fraction of them; the merge is the same."""

    SAMPLES = ("sample", "texts")

    def __init__(self) -> None:
        self.parts: dict[str, dict] = {}
        self.tau = dict.fromkeys(self.SAMPLES, 1.0)
        self.pruned_at = 0  # parts held at the last prune_parts

    def read(self, path: str) -> None:
        if not os.path.exists(path):
            return
        d = self.parts[path] = _read(path)
        for key in self.SAMPLES:
            lower = d[key]["tau"] < self.tau[key]
            self.tau[key] = min(self.tau[key], d[key]["tau"])
            for part in (self.parts.values() if lower else [d]):
                part[key]["items"] = [x for x in part[key]["items"] if x[0] < self.tau[key]]
        if len(self.parts) >= 2 * self.pruned_at:  # each time the parts double: linear in all, not quadratic
            prune_parts(self.parts.values())  # the documents and examples that no merge can keep any more
            self.pruned_at = len(self.parts)


def write_run_report(root: str, manifest: dict, profile_paths: list[str], loaded: dict | None = None) -> str:
    """Merge the tasks' profiles into ``profile.json`` and write the report. ``loaded``: profiles already read
    (path -> its JSON, e.g. :attr:`ProfileParts.parts`); all merge in the order of ``profile_paths``."""
    loaded = loaded or {}
    parts = (loaded[p] if p in loaded else _read(p) for p in profile_paths if p in loaded or os.path.exists(p))
    profile = Profile.merge(parts)  # one part read at a time: what was not loaded is never all in memory
    _write(os.path.join(root, "profile.json"), orjson.dumps(profile.to_dict()))  # orjson: NaN, inf -> null
    return write_report(root, manifest, profile, title=manifest["recipe"]["name"])


def report_for_run(run_dir: str, output: str | None = None) -> str:
    """(Re)write the report of a finished run folder; ``output`` names another HTML file to write."""
    mpath = os.path.join(run_dir, "manifest.json")
    if not os.path.exists(mpath):
        raise GristmillError(f"{run_dir} holds no manifest.json", hint="pass the output folder of a finished run")
    manifest = _read(mpath)
    ppath = os.path.join(run_dir, "profile.json")
    if os.path.exists(ppath):
        profile = Profile.merge([_read(ppath)])
    else:
        parts = sorted(glob.glob(os.path.join(run_dir, "_work", "profile", "*.json")))
        if not parts:
            raise GristmillError(f"{run_dir} has no profile (the run had output.report: false)",
                                 hint="run it again with output.report: true")
        profile = Profile.merge([_read(p) for p in parts])
    return write_report(run_dir, manifest, profile, title=manifest["recipe"]["name"], html_path=output)
