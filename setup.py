"""Builds the optional C core of the quality step; everything else is configured in pyproject.toml.

Without a C compiler the build goes on without it (``optional=True``) and gristmill uses the Python
reference of the same signals (see ``gristmill/text/native.py``).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("gristmill._qsignals", ["src/gristmill/_native/qsignals.c"], optional=True,
                             depends=["src/gristmill/_native/prose_lines.c"])])  # included by qsignals.c
