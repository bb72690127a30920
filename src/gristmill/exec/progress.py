"""Progress: a live display on a terminal (docs/s, MB/s, shards, ETA), plain periodic lines otherwise."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class Reporter:
    """Receives task completions from the executor. ``quiet`` prints nothing."""

    def __init__(self, *, quiet: bool = False, interval: float = 10.0, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console or Console(stderr=True)
        self.live = not quiet and self.console.is_terminal
        self.interval = interval
        self._progress: Progress | None = None
        self._task = None
        self.docs = 0
        self.bytes = 0
        self.done = 0
        self.total = 0
        self.t0 = time.perf_counter()
        self._last = 0.0

    def start(self, total_tasks: int, total_bytes: int, already: int = 0) -> None:
        self.total = total_tasks
        self.done = already
        self.total_bytes = total_bytes
        if self.live:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} tasks"),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=self.console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task("gristmill", total=total_tasks, completed=already, rate="")

    def stage(self, index: int, count: int, label: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=f"stage {index + 1}/{count} {label}")
        elif not self.quiet:
            self._line(f"stage {index + 1}/{count}: {label}")

    def task_done(self, counts: dict) -> None:
        self.done += 1
        read = counts.get("read") or {}
        self.docs += counts.get("in", 0)
        self.bytes += read.get("bytes", 0)
        el = max(time.perf_counter() - self.t0, 1e-9)
        rate = f"{self.docs / el:,.0f} docs/s  {self.bytes / el / 1e6:,.1f} MB/s"
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done, rate=rate)
        elif not self.quiet and (time.perf_counter() - self._last >= self.interval or self.done == self.total):
            left = self.total - self.done
            eta = el / max(self.done, 1) * left
            self._line(f"tasks {self.done}/{self.total}  {rate}  eta {eta:,.0f}s")

    def _line(self, msg: str) -> None:
        self._last = time.perf_counter()
        print(f"[gristmill] {msg}", file=sys.stderr, flush=True)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
