"""A training run's progress: step, tokens/s, loss and ETA on the terminal and in ``train_log.jsonl``."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn


def clock(seconds: float | None) -> str:
    """``H:MM:SS`` (``-:--:--`` when unknown).

    >>> clock(3725), clock(None)
    ('1:02:05', '-:--:--')
    """
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "-:--:--"
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class TrainProgress:
    """A training run's step, tokens/s, loss and ETA: a live line on a terminal, a plain line every
    ``interval`` seconds otherwise; every logged step also as a JSON line in ``log_path`` (when given).

    >>> import io, json, os, tempfile
    >>> log = os.path.join(tempfile.mkdtemp(), "train_log.jsonl")
    >>> p = TrainProgress(100, 2048, interval=0.0, stream=io.StringIO(), log_path=log)
    >>> p.update(9, 5.25, 0.001)
    >>> p.close()
    >>> "step 10/100" in p.stream.getvalue(), json.loads(open(log).read())["loss"]
    (True, 5.25)
    """

    def __init__(self, steps: int, tokens_per_step: int, *, label: str = "train", quiet: bool = False,
                 interval: float = 5.0, console: Console | None = None, stream=None,
                 log_path: str | None = None) -> None:
        import os

        self.steps, self.tps, self.label, self.quiet = steps, tokens_per_step, label, quiet
        self.console = console or Console(stderr=True)
        self.stream, self.interval = stream, interval
        self._log = None
        if log_path:
            os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
            self._log = open(log_path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 (held to close())
        self._progress = None
        if not quiet and self.console.is_terminal:
            self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(bar_width=24),
                                      TextColumn("{task.fields[info]}"), console=self.console, transient=True,
                                      auto_refresh=False)
            self._progress.start()
            self._task = self._progress.add_task(label, total=steps, info="")
        self._t0 = time.perf_counter()
        self._last = -float("inf")

    def update(self, step: int, loss: float, lr: float) -> None:
        """After ``step`` (0-based) with its ``loss`` and learning rate ``lr``."""
        import json

        done = step + 1
        el = max(time.perf_counter() - self._t0, 1e-9)
        rec = {"step": done, "tokens": done * self.tps, "loss": round(loss, 4), "lr": lr,
               "tokens_per_s": round(done * self.tps / el, 1), "elapsed_s": round(el, 2),
               "eta_s": round(el / done * (self.steps - done), 1)}
        if self._log is not None:
            self._log.write(json.dumps(rec) + "\n")
        if self.quiet:
            return
        info = (f"step {done:,}/{self.steps:,}  {rec['tokens_per_s']:,.0f} tokens/s  loss {loss:.4f}  "
                f"eta {clock(rec['eta_s'])}")
        if self._progress is not None:
            self._progress.update(self._task, completed=done, info=info)
            self._progress.refresh()
        elif el - self._last >= self.interval or done == self.steps:
            self._last = el
            print(f"[gristmill] {self.label}: {info}", file=self.stream or sys.stderr, flush=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self._log is not None:
            self._log.close()
            self._log = None
