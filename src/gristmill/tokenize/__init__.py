"""Tokenizers and training-ready token shards: train or load a byte-level BPE, pack documents into
uint16/uint32 memmaps (or Megatron ``.bin/.idx``) with EOS between documents, and read them back."""
