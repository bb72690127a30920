"""Per-document steps, one module each. ``REGISTRY`` maps a recipe's step name to its class."""

from gristmill.dedup import exact as _exact  # noqa: F401  (registers exact_dedup)
from gristmill.dedup import lines as _lines  # noqa: F401
from gristmill.dedup import minhash as _minhash  # noqa: F401
from gristmill.dedup import substring as _substring  # noqa: F401
from gristmill.steps import c4_clean as _c4_clean  # noqa: F401
from gristmill.steps import classifier as _classifier  # noqa: F401
from gristmill.steps import code_signals as _code_signals  # noqa: F401
from gristmill.steps import decontaminate as _decontaminate  # noqa: F401
from gristmill.steps import extract as _extract  # noqa: F401
from gristmill.steps import filter as _filter  # noqa: F401
from gristmill.steps import langid as _langid  # noqa: F401
from gristmill.steps import mix as _mix  # noqa: F401
from gristmill.steps import normalize as _normalize  # noqa: F401
from gristmill.steps import perplexity as _perplexity  # noqa: F401
from gristmill.steps import pii as _pii  # noqa: F401
from gristmill.steps import quality as _quality  # noqa: F401
from gristmill.steps import sft as _sft  # noqa: F401
from gristmill.steps import target_select as _target_select  # noqa: F401
from gristmill.steps import template as _template  # noqa: F401
from gristmill.steps import toxicity as _toxicity  # noqa: F401
from gristmill.steps import url_filter as _url_filter  # noqa: F401
from gristmill.steps import zh_spam as _zh_spam  # noqa: F401
from gristmill.steps.base import REGISTRY, Result, Step

__all__ = ["REGISTRY", "Result", "Step"]
