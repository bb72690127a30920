"""Proxy language models: a small GPT trained for a token budget on packed shards and scored in bits per
byte on fixed English and Chinese held-out sets. Needs the ``train`` extra (PyTorch)."""
