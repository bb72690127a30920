"""A tokenizer folder that ``transformers`` loads as it is: ``tokenizer.json`` plus ``tokenizer_config.json``
and ``special_tokens_map.json``, which name the end-of-document (``eos``), beginning (``bos``) and padding
(``pad``) tokens and ``model_max_length``. ``AutoTokenizer.from_pretrained(folder)`` then gives a fast
tokenizer whose ``encode``/``decode`` equal the ``tokenizers`` library's (no BOS/EOS added, no clean-up of
spaces), in transformers 4.x and 5.x alike.

>>> import tempfile, os
>>> from gristmill.tokenize.tokenizer import train_tokenizer
>>> d = tempfile.mkdtemp()
>>> files = save_tokenizer(train_tokenizer(["one two", "三四"] * 20, vocab_size=270), d, model_max_length=1024)
>>> sorted(os.path.basename(f) for f in files)
['special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']
"""

from __future__ import annotations

import os

import orjson

from gristmill.errors import GristmillError
from gristmill.tokenize.tokenizer import eos_id

BOS_NAMES = ("<|begin_of_text|>", "<s>", "<bos>")
PAD_NAMES = ("<|pad|>", "<pad>", "[PAD]", "<|finetune_right_pad_id|>")


def output_files(output: str) -> tuple[str, bool]:
    """(the ``tokenizer.json`` to write, whether to write the transformers files beside it) for ``-o output``.

    A folder (any path not ending in ``.json``) gets all three files. A file path gets the transformers files
    beside it only when it is named ``tokenizer.json`` (then its folder is a transformers tokenizer folder);
    a file under another name is written alone, since transformers looks for ``tokenizer.json`` by that name.
    """
    if not output.lower().endswith(".json") or os.path.isdir(output):
        return os.path.join(output, "tokenizer.json"), True
    return output, os.path.basename(output) == "tokenizer.json"


def special_tokens(tok) -> dict[str, str]:
    """``eos``, ``bos`` and ``pad`` token strings of ``tok``: BOS is the first of ``<|begin_of_text|>``, ``<s>``,
    ``<bos>`` that exists, else EOS (GPT-2's convention); pad is ``<|pad|>``, ``<pad>`` or ``[PAD]`` if present."""
    eos = tok.id_to_token(eos_id(tok))
    out = {"bos_token": next((t for t in BOS_NAMES if tok.token_to_id(t) is not None), eos), "eos_token": eos}
    pad = next((t for t in PAD_NAMES if tok.token_to_id(t) is not None), None)
    if pad is not None:
        out["pad_token"] = pad
    return out


def save_tokenizer(tok, output: str, model_max_length: int = 2048) -> list[str]:
    """Write ``tok`` to ``output`` (a folder, or a file path, see ``output_files``); returns the files written."""
    if model_max_length < 1:
        raise GristmillError(f"model_max_length must be at least 1, got {model_max_length}")
    path, with_config = output_files(output)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tok.save(path)
    if not with_config:
        return [path]
    folder = os.path.dirname(os.path.abspath(path))
    specials = special_tokens(tok)
    added = {str(i): {"content": t.content, "lstrip": t.lstrip, "normalized": t.normalized, "rstrip": t.rstrip,
                      "single_word": t.single_word, "special": t.special}
             for i, t in sorted(tok.get_added_tokens_decoder().items())}
    config = {"tokenizer_class": "PreTrainedTokenizerFast", **specials, "model_max_length": model_max_length,
              "clean_up_tokenization_spaces": False, "added_tokens_decoder": added}
    files = [path]
    for name, body in (("tokenizer_config.json", config), ("special_tokens_map.json", specials)):
        p = os.path.join(folder, name)
        with open(p + ".tmp", "wb") as f:
            f.write(orjson.dumps(body, option=orjson.OPT_INDENT_2))
        os.replace(p + ".tmp", p)
        files.append(p)
    return files
