"""Tokenizers and training-ready token shards: train or load a byte-level BPE (saved as a folder that
``transformers`` loads), pack documents into uint16/int32 memmaps (or Megatron ``.bin/.idx``) with EOS between
documents, and read them back."""
