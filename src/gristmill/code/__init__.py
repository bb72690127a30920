"""Source code as training data: a reader for source trees and archives (``reader``), the language table
(``languages``), StarCoder's file measurements (``signals``) and licence detection (``licenses``).
See docs/code.md; the ``code_signals`` step and the ``code``/``code-permissive`` presets use them."""
