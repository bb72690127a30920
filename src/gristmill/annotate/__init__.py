"""Model-based quality labels, the FineWeb-Edu way: a deterministic stratified sample (``sample``), scoring
prompts in English and Chinese (``prompts``), robust score parsing (``parse``), and the resumable run against
any OpenAI-compatible endpoint (``run``, reusing :mod:`gristmill.sft.client`). Training a scorer from the labels
is :mod:`gristmill.classify.scores`; per-language cut-offs from scored documents are ``threshold``."""
