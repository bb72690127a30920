"""Set-up of the processes that gristmill owns and runs nothing else in: the command line's (every command)
and the local pool's. Not done by ``import gristmill``: a program that uses the Python API keeps its pyarrow
exactly as it was.

pyarrow imports pandas (about 0.2 CPU seconds, more than the rest of a small run's start-up) the first time it
converts a Python list, only to ask whether the list holds pandas objects, and keeps pandas' ``NA``/``NaT``
sentinels for that. gristmill never hands pyarrow a pandas object, so in its own processes pyarrow is told,
before its first conversion, that there is no pandas (:func:`arrow_without_pandas`).

>>> import subprocess, sys
>>> code = ("import sys; from gristmill.exec.owned import arrow_without_pandas; arrow_without_pandas(); "
...         "import pyarrow as pa; pa.array([1, None]); pa.scalar('x'); print('pandas' in sys.modules)")
>>> subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
'False\\n'
"""

from __future__ import annotations

import sys


class _NoPandas:
    """A meta-path finder under which ``import pandas`` fails."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas":
            raise ModuleNotFoundError("pandas is not used in this gristmill process", name=name)
        return None


class _AfterPyarrow:
    """A meta-path finder that runs :func:`_tell_pyarrow` as soon as pyarrow has been imported."""

    def find_spec(self, name, path=None, target=None):
        if name != "pyarrow":
            return None
        import importlib.util

        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)  # from the finders after this one
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_tell(module) -> None:
            exec_module(module)
            _tell_pyarrow(module)

        spec.loader.exec_module = exec_then_tell
        return spec


def _tell_pyarrow(pa) -> bool:
    api = getattr(pa.lib, "_pandas_api", None)
    if api is None or "pandas" in sys.modules:  # a pyarrow without the shim, or too late: leave it alone
        return False
    block = _NoPandas()
    sys.meta_path.insert(0, block)
    try:
        api.have_pandas  # noqa: B018 - the shim tries its import now and remembers the answer
        pa.array([None])  # the converters' own look (type inference), also once per process
    finally:
        sys.meta_path.remove(block)
    return "pandas" not in sys.modules


def arrow_without_pandas() -> bool:
    """Make pyarrow decide, once for this process, that pandas is not installed: its converters then never
    import it (``Table.to_pandas()`` still would, when called). Done now when pyarrow is imported, else the
    moment it is (a command that never needs pyarrow does not import it for this); returns whether pyarrow
    was told now. Nothing is done when pandas is already imported. Call it first thing, in a process where
    nothing uses pandas: pyarrow does not look again, so pandas objects that arrive later would not be
    recognised as such."""
    if "pandas" in sys.modules:
        return False
    if "pyarrow" not in sys.modules:
        if not any(isinstance(f, _AfterPyarrow) for f in sys.meta_path):
            sys.meta_path.insert(0, _AfterPyarrow())
        return False
    return _tell_pyarrow(sys.modules["pyarrow"])
