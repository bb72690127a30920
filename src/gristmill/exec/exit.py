"""Ending a gristmill process without the interpreter's teardown.

After a run the interpreter spends 0.1-0.2 s freeing every module and object one by one (measured on the peer
corpus and its Chinese part), serial time at the end of every command. :func:`exit_process` ends the process
once everything a plain exit does for the outside world is done: the exit handlers (``atexit``: coverage,
temporary folders, multiprocessing's finalizers) have run and Python's and the C library's output buffers are
flushed. It takes the plain :func:`sys.exit` when a tracer or profiler is attached (cProfile writes its numbers
after the code returns) or a thread that is not a daemon still runs. Only for a process's own entry point (the
``gristmill`` command, ``python -m gristmill``, a benchmark's child): a caller that embeds
:func:`gristmill.cli.main` keeps ``SystemExit``.

>>> import subprocess, sys
>>> code = "from gristmill.exec.exit import exit_process; print('done'); exit_process(3)"
>>> r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
>>> r.returncode, r.stdout
(3, 'done\\n')
"""

from __future__ import annotations

import os
import sys
import threading

NO_SPACE = 120  # what Python's own exit gives when flushing standard output fails


def exit_process(code: int = 0) -> None:
    """End this process with ``code`` (see the module's docstring)."""
    if sys.gettrace() is not None or sys.getprofile() is not None or any(
            not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:  # the reader went away: nothing left to say, as a plain exit
            pass
        except (OSError, ValueError):  # a full disk, a closed stream: a plain exit reports it with 120
            code = code or NO_SPACE
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)  # what native code printed through the C library's buffers
    except Exception:  # noqa: S110 - no C library to flush: nothing is lost
        pass
    os._exit(code)
