"""Live progress: per batch, per stage (documents, MB, docs/s, MB/s, ETA from bytes read), across workers.

On a terminal a rich live line; otherwise a plain line every ``interval`` seconds. Workers report each batch
to the parent through a shared array of counters (one (documents, bytes) pair per shard, written only by the
worker running that shard, read by the parent between waits); the in-process path calls back directly.

>>> import io
>>> r = Reporter(interval=0.0, stream=io.StringIO())
>>> r.start(1, 2_000_000)
>>> r.stage(0, 1, "normalize")
>>> r.batch(0, 500, 1_000_000)
>>> "500 docs  1.0 MB" in r.stream.getvalue() and "50%" in r.stream.getvalue()
True
"""

from __future__ import annotations

import sys
import time

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from gristmill.train.progress import TrainProgress  # noqa: F401 - its old home
from gristmill.train.progress import clock as _clock

_SLOTS = None  # in a worker process: the shared counters, set by the pool's initializer


def worker_init(slots, then=None) -> None:
    """The process pool's initializer: keep the shared counters, then run ``then`` (e.g. die_with_parent)."""
    global _SLOTS
    _SLOTS = slots
    if then is not None:
        then()


class SlotWriter:
    """The progress callback shipped with a task to a worker: (documents, bytes) into its shard's slot."""

    def __call__(self, shard: int, docs: int, nbytes: int) -> None:
        if _SLOTS is not None:
            _SLOTS[2 * shard] = docs
            _SLOTS[2 * shard + 1] = nbytes


class Slots:
    """One (documents, bytes) int64 pair per shard in shared memory; :meth:`poll` reports the changed ones."""

    def __init__(self, ctx, n_shards: int) -> None:
        self.array = ctx.RawArray("q", 2 * max(n_shards, 1))
        self._view = np.frombuffer(self.array, dtype=np.int64)
        self._seen = np.zeros_like(self._view)

    def reset(self) -> None:
        """Zero every slot (a new stage, no task running)."""
        self._view[:] = 0
        self._seen[:] = 0

    def poll(self, on_batch) -> None:
        if on_batch is None:
            return
        now = self._view.copy()
        changed = np.flatnonzero((now != self._seen).reshape(-1, 2).any(axis=1))
        self._seen = now
        for i in changed.tolist():
            on_batch(i, int(now[2 * i]), int(now[2 * i + 1]))


class Reporter:
    """Receives batches and task completions from the executor. ``quiet`` prints nothing.

    ``interval``: seconds between plain lines (not a terminal); ``refresh``: seconds between live updates.
    """

    def __init__(self, *, quiet: bool = False, interval: float = 5.0, console: Console | None = None,
                 stream=None, refresh: float = 0.25) -> None:
        self.quiet = quiet
        self.console = console or Console(stderr=True)
        self.live = not quiet and self.console.is_terminal
        self.stream = stream
        self.interval, self.refresh = interval, refresh
        self._progress: Progress | None = None
        self._task = None
        self.done = self.total = 0
        self.docs = self.bytes = 0          # whole run, finished tasks
        self._last = self._shown = 0.0
        self._stage(0, 1, "", 0)

    def _stage(self, index: int, count: int, label: str, total: int) -> None:
        self.index, self.count, self.label, self.stage_total = index, count, label, total
        self._live: dict[int, tuple[int, int]] = {}  # running tasks: shard -> (docs, bytes) so far
        self._sdocs = self._sbytes = self._sdone = 0  # this stage's finished tasks
        self._pending = None
        self._t0 = time.perf_counter()

    def start(self, total_tasks: int, total_bytes: int, already: int = 0) -> None:
        self.total, self.done, self.total_bytes = total_tasks, already, total_bytes
        if self.live:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(bar_width=24),
                TextColumn("{task.fields[info]}"),
                console=self.console, transient=True, auto_refresh=False)
            self._progress.start()
            self._task = self._progress.add_task("gristmill", total=max(total_bytes, 1), info="")

    def stage(self, index: int, count: int, label: str, pending=None, markers: dict | None = None) -> None:
        """A stage starts over ``pending`` shards; its size is their input bytes (stage 0) or the text bytes
        the previous stage kept for them (``markers``)."""
        if pending is None:
            total = self.total_bytes if index == 0 else 0
        elif index == 0:
            total = sum(sh.size for sh in pending)
        else:
            prev = markers or {}
            total = sum(prev.get((index - 1, sh.index), {}).get("text_bytes_out", 0) for sh in pending)
        self._stage(index, count, label, total)
        self._pending = len(pending) if pending is not None else None
        self._show(force=True)

    def batch(self, shard: int, docs: int, nbytes: int) -> None:
        """A running task's counts so far (documents; bytes: input read in stage 0, text bytes after)."""
        self._live[shard] = (docs, nbytes)
        self._show()

    def task_done(self, counts: dict) -> None:
        self.done += 1
        nbytes = (counts.get("read") or {}).get("bytes", 0) if counts.get("stage", 0) == 0 \
            else counts.get("text_bytes_in", 0)
        self._live.pop(counts.get("shard"), None)
        self._sdocs += counts.get("in", 0)
        self._sbytes += nbytes
        self._sdone += 1
        self.docs += counts.get("in", 0)
        self.bytes += nbytes
        self._show(force=self.done == self.total or self._sdone == self._pending)  # a stage's last line

    def snapshot(self) -> dict:
        """This stage so far: documents, bytes, rates, fraction done and ETA (seconds, None if unknown)."""
        docs = self._sdocs + sum(d for d, _ in self._live.values())
        nbytes = self._sbytes + sum(b for _, b in self._live.values())
        el = max(time.perf_counter() - self._t0, 1e-9)
        # compressed inputs: bytes read (decompressed) outgrow the files' sizes; then no fraction, no ETA
        frac = nbytes / self.stage_total if self.stage_total and nbytes <= self.stage_total else None
        eta = (self.stage_total - nbytes) / (nbytes / el) if frac is not None and nbytes else None
        return {"docs": docs, "bytes": nbytes, "docs_s": docs / el, "mb_s": nbytes / el / 1e6,
                "fraction": frac,
                "eta": max(eta, 0.0) if eta is not None else None, "elapsed": el}

    def line(self) -> str:
        s = self.snapshot()
        pct = f"  {s['fraction']:.0%}" if s["fraction"] is not None else ""
        return (f"{s['docs']:,} docs  {s['bytes'] / 1e6:,.1f} MB  {s['docs_s']:,.0f} docs/s  "
                f"{s['mb_s']:,.1f} MB/s"
                f"{pct}  eta {_clock(s['eta'])}  tasks {self.done}/{self.total}")

    def _show(self, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        name = f"stage {self.index + 1}/{self.count} {self.label}"
        if self._progress is not None:
            if force or now - self._shown >= self.refresh:
                self._shown = now
                done = self._sbytes + sum(b for _, b in self._live.values())
                self._progress.update(self._task, description=name, total=max(self.stage_total, 1),
                                      completed=min(done, self.stage_total), info=self.line())
                self._progress.refresh()
        elif force or now - self._last >= self.interval:
            self._last = now
            print(f"[gristmill] {name}: {self.line()}", file=self.stream or sys.stderr, flush=True)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
