"""The step contract, under the name the steps import it by; it lives in :mod:`gristmill.contract` so that
feature packages (``dedup``) can define steps without importing the ``steps`` package.

>>> from gristmill.steps.base import Step
>>> Step.__module__
'gristmill.contract'
"""

from gristmill.contract import REGISTRY, Result, Step, register, text_column, with_column

__all__ = ["REGISTRY", "Result", "Step", "register", "text_column", "with_column"]
