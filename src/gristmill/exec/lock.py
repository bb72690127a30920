"""One run per output folder, and no worker outlives its run.

:class:`FolderLock` holds ``.gristmill.lock`` in the output folder with ``fcntl.flock`` on an open file, so
the kernel releases it when the process dies however it dies; the file names the holder (PID, host, start
time) for the message a second run prints. A lock file left by a dead run on this host is taken over with a
warning; one left by a run on another host is refused (this host cannot tell whether that run is alive).

>>> import tempfile
>>> d = tempfile.mkdtemp()
>>> with FolderLock(d):
...     try:
...         FolderLock(d).acquire()
...     except GristmillError as e:
...         print(str(e).startswith(f"output folder {d} is in use by another gristmill run (PID {os.getpid()}"))
True
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import select
import signal
import socket
import sys
import threading
import time

import orjson

from gristmill.errors import GristmillError

LOCK_NAME = ".gristmill.lock"


class FolderLock:
    """An exclusive, advisory lock on a folder (created if missing) for the life of one run."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.path = os.path.join(folder, LOCK_NAME)
        self.fd: int | None = None
        self.warning: str | None = None  # set when a stale lock was taken over

    def acquire(self) -> FolderLock:
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as e:
            raise GristmillError(f"cannot create output folder {self.folder}: {e.strerror}",
                                 hint="choose another --output") from None
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            except OSError as e:
                raise GristmillError(f"cannot write to output folder {self.folder}: {e.strerror}",
                                     hint="choose another --output") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read(fd)
                os.close(fd)
                raise GristmillError(f"output folder {self.folder} is in use by another gristmill run "
                                     f"({_describe(holder)})",
                                     hint="wait for it to finish, or choose another --output") from None
            try:  # a finishing run removes the file: lock the one that is at the path now
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        holder = _read(fd)
        if holder:
            if holder.get("host") != socket.gethostname():
                os.close(fd)
                raise GristmillError(f"output folder {self.folder} holds the lock of a gristmill run on another "
                                     f"host ({_describe(holder)}); this host cannot tell whether it still runs",
                                     hint=f"if it does not, delete {self.path}")
            self.warning = (f"taking over the lock of an earlier run that is no longer running "
                            f"({_describe(holder)})")
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, orjson.dumps(me) + b"\n", 0)
        self.fd = fd
        return self

    def release(self) -> None:
        """Remove the lock file (while still holding it), then let go."""
        if self.fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read(fd: int) -> dict:
    try:
        data = os.pread(fd, 4096, 0)
        holder = orjson.loads(data) if data.strip() else {}
        return holder if isinstance(holder, dict) else {}
    except (OSError, orjson.JSONDecodeError):
        return {"pid": "?", "host": "?"}


def _describe(holder: dict) -> str:
    if not holder:
        return "its lock file names no process"
    return f"PID {holder.get('pid', '?')} on {holder.get('host', '?')}, started {holder.get('started', '?')}"


def die_with_parent(run_pid: int) -> None:
    """Worker initializer: end this worker as soon as the run's process ``run_pid`` ends, however it ends.

    A forkserver pool worker is the child of the forkserver, and the forkserver stays up while any worker
    holds its "alive" pipe, so neither notices on its own when the run is killed: a thread here waits on a
    pidfd of the run's process (Linux; elsewhere it checks every second) and exits the worker; the
    forkserver then exits as its last worker goes. On Linux ``PR_SET_PDEATHSIG`` also ends the worker if
    its own parent dies.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
            pass
    try:
        pidfd = os.pidfd_open(run_pid)
    except ProcessLookupError:  # the run is already gone
        os._exit(1)
    except (AttributeError, OSError):  # pragma: no cover - not Linux 5.3+
        pidfd = None
    threading.Thread(target=_watch_run, args=(run_pid, pidfd), daemon=True, name="gristmill-run-watch").start()


def _watch_run(run_pid: int, pidfd: int | None) -> None:
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable once the process has ended
        os._exit(1)
    while True:  # pragma: no cover - without pidfd
        time.sleep(1.0)
        try:
            os.kill(run_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass
