"""Loading the local causal LMs that selection (IFD) and serving use: a ``gristmill train`` folder or a
Hugging Face model folder (the latter needs ``transformers``; nothing is downloaded: ``local_files_only``)."""

from __future__ import annotations

import os

from gristmill.errors import GristmillError


def kind(path: str) -> str:
    """``proxy`` (model.pt), ``hf`` (config.json) or an error naming what a model folder holds."""
    if os.path.exists(os.path.join(path, "model.pt")):
        return "proxy"
    if os.path.exists(os.path.join(path, "config.json")):
        return "hf"
    raise GristmillError(f"{path} is not a model folder", hint="gristmill train … -o MODEL, or a Hugging Face folder")


def load_hf(path: str):
    """(model in eval mode, tokenizer) of a Hugging Face causal-LM folder."""
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        raise GristmillError(f"{path} is a Hugging Face model folder and transformers is not installed",
                             hint="pip install transformers") from None
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    return AutoModelForCausalLM.from_pretrained(path, local_files_only=True).eval(), tok
