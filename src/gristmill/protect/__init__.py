"""Protect: PII detection and masking (English and Chinese formats)."""
