"""Durable files: data reaches the disk before any name or marker that points at it.

A file is written under a temporary name, fsynced, renamed into place, and its folder fsynced after the
rename, so a power loss leaves either the old state or the whole new file, and a completion marker (a
task's ``_work/done`` file, ``manifest.json``, ``_SUCCESS``) is made durable only after everything it
claims. The recipe's ``output.fsync: false`` (or ``GRISTMILL_FSYNC=0``) turns the fsyncs off, for a scratch
run on a disk that is thrown away; the renames and their order stay, so a crash of the process alone is
still safe.

``GRISTMILL_FAULT=after:POINT`` (or ``after:POINT#N``, the N-th time) makes the process exit at once with
status 137, as ``kill -9`` would, right after the step named POINT (:data:`POINTS`): the tests use it to
crash between each pair of steps of a task's and a run's commit sequence.

>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> with open(os.path.join(d, "a.json.tmp"), "wb") as f:
...     _ = f.write(b"{}")
>>> replace(os.path.join(d, "a.json.tmp"), os.path.join(d, "a.json"))
>>> open(os.path.join(d, "a.json"), "rb").read()
b'{}'
"""

from __future__ import annotations

import os

ENV_FSYNC = "GRISTMILL_FSYNC"
ENV_FAULT = "GRISTMILL_FAULT"

# the commit sequence, in order: a task's, then a global step's reduce, then the end of the run
POINTS = ("kept-rename", "rejected-rename", "quarantine-rename", "state", "profile", "marker", "reduce",
          "unify-rename", "manifest", "report", "card", "success", "cleanup",
          "publish-data", "publish-manifest", "publish-success")

_passed: dict[str, int] = {}
_on = True


def configure(fsync: bool) -> None:
    """Set this process's fsync switch from the recipe (``output.fsync``)."""
    global _on
    _on = bool(fsync)


def enabled() -> bool:
    return _on and os.environ.get(ENV_FSYNC, "1").strip().lower() not in ("0", "false", "no", "off")


def sync_file(path: str) -> None:
    """fsync the file at ``path`` (its content and size)."""
    if not enabled():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_dir(path: str) -> None:
    """fsync a folder, so that the renames and removals in it survive a power loss."""
    if not enabled():
        return
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - a platform that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on a folder
        pass
    finally:
        os.close(fd)


def sync_tree(path: str) -> None:
    """fsync every file and folder under ``path`` (files written by code that does not sync them)."""
    if not enabled() or not os.path.isdir(path):
        return
    for dirpath, _, files in os.walk(path):
        for f in files:
            sync_file(os.path.join(dirpath, f))
        sync_dir(dirpath)


def sync_path(path: str) -> None:
    """fsync what a step saved at ``path``: the file or folder there and its siblings ``path*`` (e.g.
    ``PATH.offsets.npy``), then the folder that holds them."""
    if not enabled():
        return
    parent, base = os.path.split(path)
    parent = parent or "."
    for name in os.listdir(parent):
        if name.startswith(base):
            p = os.path.join(parent, name)
            sync_tree(p) if os.path.isdir(p) else sync_file(p)
    sync_dir(parent)


def replace(tmp: str, path: str, *, synced: bool = False) -> None:
    """Rename a finished ``tmp`` to ``path`` durably: its data first (unless ``synced``), then the name."""
    if not synced:
        sync_file(tmp)
    os.replace(tmp, path)
    sync_dir(os.path.dirname(path) or ".")


def write_bytes(path: str, data: bytes) -> None:
    """Write ``path`` whole and durably (temporary name, fsync, rename, folder fsync)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        if enabled():
            os.fsync(f.fileno())
    replace(tmp, path, synced=True)


def fault(point: str) -> None:
    """Exit at once (status 137, no clean-up) if ``GRISTMILL_FAULT`` names this point; else nothing."""
    spec = os.environ.get(ENV_FAULT)
    if not spec or not spec.startswith("after:"):
        return
    name, _, nth = spec[len("after:"):].partition("#")
    if name != point:
        return
    _passed[point] = _passed.get(point, 0) + 1
    if _passed[point] >= int(nth or 1):
        os._exit(137)
