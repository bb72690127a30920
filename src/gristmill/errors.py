"""User-facing errors: one clear line plus a hint, never a traceback.

>>> str(GristmillError("no such file: x.yaml", hint="check the path"))
'no such file: x.yaml'
"""

from __future__ import annotations


class GristmillError(Exception):
    """An error caused by the user's input (recipe, paths, options); the CLI prints it without a traceback."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __reduce__(self):  # keep the hint when the error crosses from a worker process
        return (_rebuild, (str(self), self.hint))


def _rebuild(message: str, hint: str | None) -> GristmillError:
    return GristmillError(message, hint=hint)


class RecipeError(GristmillError):
    """A recipe that does not match the schema. The message names file, line, key and what was expected."""

    def __init__(self, file: str, line: int | None, key: str, expected: str, got: object = None,
                 *, hint: str | None = None) -> None:
        where = f"{file}:{line}" if line else file
        got_s = "" if got is None else f", got {short_repr(got)}"
        super().__init__(f"{where}: {key}: expected {expected}{got_s}", hint=hint)
        self.file, self.line, self.key, self.expected = file, line, key, expected


def short_repr(value: object, limit: int = 200) -> str:
    """``repr(value)`` of at most ``limit`` characters, built without expanding large or nested values.

    >>> short_repr("x" * 1000)[-24:], short_repr(list(range(10**6)))
    ("x'... (1,000 characters)", '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...]')
    """
    import reprlib

    r = reprlib.Repr()
    r.maxstring = r.maxother = r.maxlong = limit
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = 10
    r.maxlevel = 3
    s = r.repr(value)
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value):,} characters)"
    return s if len(s) <= limit else s[:limit] + "..."


class MissingExtra(GristmillError):
    """A step needs an optional package that is not installed."""

    def __init__(self, step: str, module: str, extra: str) -> None:
        super().__init__(f"step '{step}' needs the Python module '{module}', which is not installed",
                         hint=f"pip install 'gristmill[{extra}]'")
