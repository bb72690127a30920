"""All or nothing for an output folder: build it in a hidden staging folder next to it, rename it into place
on success, remove it on any failure (an exception, Ctrl-C). A process killed outright (``kill -9``, power
loss) leaves its staging folder ``.NAME.gristmill-PID-XXXXXXXX``; the next write to the same output removes the
ones whose process is gone.

An existing output is replaced only when ``replaceable(path)`` says so (an earlier output of the same kind);
any other non-empty folder is refused, so a mistyped ``-o`` never deletes unrelated files.

>>> import tempfile, os
>>> root = tempfile.mkdtemp()
>>> with staged_folder(os.path.join(root, "shards")) as tmp:
...     _ = open(os.path.join(tmp, "part-00000.bin"), "wb").write(b"")
>>> sorted(os.listdir(root)), os.listdir(os.path.join(root, "shards"))
(['shards'], ['part-00000.bin'])
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator

from gristmill.errors import GristmillError


def _prefix(name: str) -> str:
    return f".{name}.gristmill-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale(parent: str, name: str) -> list[str]:
    """Remove staging folders of ``name`` in ``parent`` left by processes that no longer run."""
    removed = []
    for entry in os.listdir(parent):
        if not entry.startswith(_prefix(name)):
            continue
        pid = entry[len(_prefix(name)):].split("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
            removed.append(entry)
    return removed


def _new_sibling(parent: str, name: str) -> str:
    path = os.path.join(parent, f"{_prefix(name)}{os.getpid()}-{secrets.token_hex(4)}")
    os.mkdir(path)  # mode from the umask, like any folder the user creates
    return path


@contextlib.contextmanager
def staged_folder(output: str, replaceable: Callable[[str], bool] = lambda p: False,
                  what: str = "output") -> Iterator[str]:
    """Yield an empty staging folder; on success it becomes ``output`` (replacing an earlier one that
    ``replaceable`` accepts, or an empty folder); on failure it is removed and ``output`` is untouched."""
    output = os.path.normpath(output)
    parent, name = os.path.split(os.path.abspath(output))
    here = os.path.join(os.getcwd(), "")
    if here.startswith(os.path.join(os.path.abspath(output), "")):
        raise GristmillError(f"{output} is the current folder or holds it", hint=f"name a new folder for the {what}")
    if os.path.exists(output):
        if not os.path.isdir(output):
            raise GristmillError(f"{output} exists and is not a folder", hint=f"choose a new folder for the {what}")
        if os.listdir(output) and not replaceable(output):
            raise GristmillError(f"{output} is not empty and does not hold an earlier {what}",
                                 hint="choose a new or empty folder; nothing was written")
    os.makedirs(parent, exist_ok=True)
    remove_stale(parent, name)
    stage = _new_sibling(parent, name)
    try:
        yield stage
        if os.path.exists(output):  # swap: the old output moves aside, then goes
            old = _new_sibling(parent, name)
            try:
                os.rename(output, os.path.join(old, "old"))
                try:
                    os.rename(stage, output)
                except BaseException:
                    os.rename(os.path.join(old, "old"), output)
                    raise
            finally:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(stage, output)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
