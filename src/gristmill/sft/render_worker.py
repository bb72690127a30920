"""Render records in a child process, so that no template can hold the caller past a time or memory limit.

Each record gets ``limits.time_limit`` seconds; a render still running then is killed with its process (which
is restarted for the next record) and the record is reported as rejected with the reason. The child's address
space is capped ``max_memory_mb`` above what it starts with, so a template that builds something huge fails
with a memory error instead of taking the machine. Works with either backend (transformers' renderer cannot be
interrupted from inside).

>>> from gristmill.sft.formats import parse
>>> with IsolatedRenderer(("chatml", "builtin", {}, Limits())) as r:
...     r.render(parse({"instruction": "1+1?", "output": "2"})).text
'<|im_start|>user\\n1+1?<|im_end|>\\n<|im_start|>assistant\\n2<|im_end|>\\n'
"""

from __future__ import annotations

import multiprocessing as mp
import os

from gristmill.sft.chat import Rendered, Template, render
from gristmill.sft.jinja_env import Limits, RenderLimit, TemplateRejected
from gristmill.sft.sample import Sample

_START_TIMEOUT = 300.0  # seconds for a fresh worker to import its backend and compile the template


def _cap_memory(max_memory_mb: int) -> None:
    try:
        import resource

        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = used + max_memory_mb * 1024 * 1024
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no RLIMIT_AS (macOS, Windows): the time limit still holds


def _serve(conn, template_args: tuple, mode: str, max_memory_mb: int) -> None:
    try:
        t = Template(*template_args)
    except Exception as e:  # noqa: BLE001 - sent to the parent, which reports it
        conn.send(("fatal", str(e)))
        return
    _cap_memory(max_memory_mb)
    conn.send(("ready", t.backend))
    while True:
        try:
            sample = conn.recv()
        except EOFError:
            return
        try:
            r = render(sample, t, mode)
            conn.send(("ok", r.text, r.spans))
        except TemplateRejected as e:
            conn.send(("rejected", str(e)))
        except MemoryError:
            conn.send(("rejected", "template rendering ran out of memory (max_memory_mb)"))
        except Exception as e:  # noqa: BLE001 - anything else rejects this record only, with its message
            conn.send(("rejected", f"{type(e).__name__}: {e}"))


class IsolatedRenderer:
    """``render(sample)`` in a worker process; :class:`TemplateRejected` names why a record did not render.

    ``template_args`` are :class:`Template`'s arguments (path, backend, variables, limits)."""

    def __init__(self, template_args: tuple, mode: str = "all", max_memory_mb: int = 2048) -> None:
        self.template_args, self.mode, self.max_memory_mb = template_args, mode, max_memory_mb
        self.limits: Limits = template_args[3]
        methods = mp.get_all_start_methods()
        self._ctx = mp.get_context("fork" if "fork" in methods else "spawn")
        self._proc = None
        self.backend = ""
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        from gristmill.errors import GristmillError

        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_serve, args=(child, self.template_args, self.mode,
                                                            self.max_memory_mb), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        if not parent.poll(_START_TIMEOUT):
            self.close()
            raise GristmillError("the template renderer did not start")
        try:
            kind, detail = parent.recv()
        except EOFError:
            raise GristmillError("the template renderer stopped while starting") from None
        if kind == "fatal":
            raise GristmillError(detail)
        self.backend = detail

    def _restart(self) -> None:
        self._kill()
        self.restarts += 1
        self._start()

    def render(self, sample: Sample) -> Rendered:
        self._conn.send(sample)
        if not self._conn.poll(self.limits.time_limit + 1.0):  # the budget inside usually fires first
            self._restart()
            raise RenderLimit(f"template rendering took longer than {self.limits.time_limit:g} s (time limit)")
        try:
            kind, *rest = self._conn.recv()
        except (EOFError, ConnectionError):
            code = self._proc.exitcode if self._proc else None
            self._restart()
            raise TemplateRejected(f"the renderer process died (exit code {code}); memory limit?") from None
        if kind == "ok":
            return Rendered(rest[0], [tuple(s) for s in rest[1]])
        raise (RenderLimit if "limit" in rest[0] or "memory" in rest[0] else TemplateRejected)(rest[0])

    def _kill(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
        if self._proc is not None:
            self._proc.join(timeout=10)
        self._conn.close()

    def close(self) -> None:
        if self._proc is not None:
            self._kill()
            self._proc = None

    def __enter__(self) -> IsolatedRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
