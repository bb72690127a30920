"""The C core (``gristmill._qsignals``), when it was built and is not turned off: the one place that decides.

The extension is built with the package when a C compiler is present (``setup.py``, optional). Without it, or
with ``GRISTMILL_PURE_PYTHON=1`` in the environment, :data:`AVAILABLE` is false and :data:`CORE` is None, and
every user (the quality signals in :mod:`gristmill.text.native`, :mod:`gristmill.text.scripts`,
:mod:`gristmill.text.prose`, the report's bias counts) takes its Python definition.

>>> AVAILABLE == (CORE is not None)
True
"""

from __future__ import annotations

import os

try:
    from gristmill import _qsignals
except ImportError:  # built without a C compiler
    _qsignals = None

AVAILABLE = _qsignals is not None and not os.environ.get("GRISTMILL_PURE_PYTHON")
CORE = _qsignals if AVAILABLE else None  # the module for other users of its functions (scripts, report)
