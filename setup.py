"""Builds the optional C extensions; everything else is configured in pyproject.toml.

Without a C compiler the build goes on without them (``optional=True``) and gristmill uses the Python
definitions of the same results (see ``gristmill/text/native.py`` and ``gristmill/text/token_lists.py``, ``gristmill/dedup/substring.py``).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("gristmill._qsignals", ["src/gristmill/_native/qsignals.c"], optional=True,
                             depends=["src/gristmill/_native/prose_lines.c"]),  # included by qsignals.c
                   Extension("gristmill.text._tokhash", ["src/gristmill/_native/tokhash.c"], optional=True),
                   Extension("gristmill.dedup._substring", ["src/gristmill/_native/substring.c"], optional=True)])
