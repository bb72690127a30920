"""Document readers: PDF (pypdfium2), DOCX (python-docx), EPUB (zip + Resiliparse), Markdown and
reStructuredText; registered as formats in :mod:`gristmill.io.formats` (see docs/input.md#documents)."""
