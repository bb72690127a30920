"""Document readers: speed per core beside a baseline in the same run, and PDF text quality against
``pdftotext`` (poppler-utils) as the reference.

- PDF: gristmill's reader (pypdfium2 + layout clean-up) against ``pdftotext`` on the same files: pages and
  MB per CPU second (one core; ``pdftotext``'s CPU time from ``getrusage`` of its child processes), in
  alternating rounds; and character F1 of each text against ``pdftotext``'s (multisets of non-space
  characters) and character-bigram F1 (the same with spaces removed: order and joins), for gristmill and
  for pdfium's raw text (no clean-up), and gristmill's char F1 against pdftotext's text less the running
  headers, footers and page numbers gristmill drops, so the clean-up's cost in content shows.
- DOCX, EPUB, Markdown/reST: documents and MB per CPU second beside a naive baseline (python-docx's
  ``paragraphs`` joined; lxml ``text_content()`` of each XHTML member; the markup kept as written).

Usage: ``python bench/documents.py [--pdf FILE_OR_DIR ...] [--rounds 3]``. Without ``--pdf``, every PDF under
/usr/share/doc and /usr/share/debian-reference. For the figures in docs/input.md, Debian's debmake-doc,
maint-guide and maint-guide-zh-cn PDFs were unpacked with ``apt-get download PKG; dpkg-deb -x PKG.deb x``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import resource
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def f1(ref: Counter, got: Counter) -> float:
    """F1 of two multisets."""
    common = sum((ref & got).values())
    if not common:
        return 0.0
    p, r = common / sum(got.values()), common / sum(ref.values())
    return 2 * p * r / (p + r)


def chars(text: str) -> Counter:
    return Counter(c for c in text if not c.isspace())


def bigrams(text: str) -> Counter:
    s = "".join(c for c in text if not c.isspace())
    return Counter(s[i:i + 2] for i in range(len(s) - 1))


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def pdftotext(path: Path) -> tuple[str, float]:
    t0 = child_cpu()
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    return out.decode("utf-8", "replace"), child_cpu() - t0


def gristmill_pdf(data: bytes) -> tuple[str, float]:
    from gristmill.io.documents.pdf import read_pdf

    t0 = time.process_time()
    text = "\n\n".join(read_pdf(data).pages)
    return text, time.process_time() - t0


def raw_pdfium(data: bytes) -> tuple[str, float]:
    """pdfium's own text, no clean-up: the floor of gristmill's time."""
    import pypdfium2 as pdfium

    t0 = time.process_time()
    pdf = pdfium.PdfDocument(data)
    text = "\n".join(p.get_textpage().get_text_range() for p in pdf)
    return text, time.process_time() - t0


def furniture(data: bytes) -> str:
    """The running headers, footers and page numbers gristmill drops from the PDF ``data``."""
    import pypdfium2 as pdfium

    from gristmill.io.documents.pdf import page_lines
    from gristmill.io.documents.running import running_lines

    pdf = pdfium.PdfDocument(data)
    pages = [page_lines(p.get_textpage()) for p in pdf]
    return "\n".join(p[i].text for p, d in zip(pages, running_lines(pages), strict=True) for i in d)


def bench_pdf(paths: list[Path], rounds: int) -> None:
    import pypdfium2 as pdfium

    print("## PDF (per core: pages and MB per CPU second; F1 against pdftotext)\n")
    print("| file | pages | MB | gristmill pages/s | pdftotext pages/s | ratio | pdfium raw pages/s | char F1 | "
          "bigram F1 | char F1, furniture out | raw pdfium char F1 | raw bigram F1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    tot = Counter()
    for path in paths:
        data = path.read_bytes()
        n = len(pdfium.PdfDocument(data))
        g_cpu, p_cpu, r_cpu = [], [], []
        for _ in range(rounds):   # alternate, so a change in the machine's load hits all alike
            text, c = gristmill_pdf(data)
            g_cpu.append(c)
            ref, c = pdftotext(path)
            p_cpu.append(c)
            raw, c = raw_pdfium(data)
            r_cpu.append(c)
        g, p, rw = min(g_cpu), min(p_cpu), min(r_cpu)
        mb = len(data) / 1e6
        content = chars(ref) - chars(furniture(data))   # pdftotext's text less the lines gristmill drops
        row = [f1(chars(ref), chars(text)), f1(bigrams(ref), bigrams(text)), f1(content, chars(text)),
               f1(chars(ref), chars(raw)), f1(bigrams(ref), bigrams(raw))]
        tot.update({"pages": n, "mb": mb, "g": g, "p": p, "r": rw})
        print(f"| {path.name} | {n} | {mb:.2f} | {n / g:.0f} | {n / p:.0f} | {p / g:.2f} | {n / rw:.0f} | "
              + " | ".join(f"{x:.3f}" for x in row) + " |")
    print(f"\nall: gristmill {tot['pages'] / tot['g']:.0f} pages/s, {tot['mb'] / tot['g']:.2f} MB/s; pdftotext "
          f"{tot['pages'] / tot['p']:.0f} pages/s, {tot['mb'] / tot['p']:.2f} MB/s; pdfium's raw text "
          f"{tot['pages'] / tot['r']:.0f} pages/s (CPU seconds, best of {rounds})\n")


def _sections() -> list[dict]:
    out = []
    for name in ("text_en/debian_reference_en_shared.jsonl.gz", "text_zh/debian_reference_zh_cn_shared.jsonl.gz"):
        with gzip.open(SHARED / name, "rt", encoding="utf-8") as f:
            out += [json.loads(line) for line in f]
    return out


def _docx(secs: list[dict]) -> bytes:
    import docx

    d = docx.Document()
    for s in secs:
        d.add_heading(s["title"], 1)
        for p in s["text"].split("\n\n")[1:]:
            d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _epub(secs: list[dict]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/container.xml", '<container><rootfiles><rootfile full-path="c.opf"/></rootfiles></container>')
        items = "".join(f'<item id="s{i}" href="s{i}.xhtml" media-type="application/xhtml+xml"/>' for i in range(len(secs)))
        refs = "".join(f'<itemref idref="s{i}"/>' for i in range(len(secs)))
        z.writestr("c.opf", f"<package><manifest>{items}</manifest><spine>{refs}</spine></package>")
        for i, s in enumerate(secs):
            z.writestr(f"s{i}.xhtml", f"<html><body>{s['html']}</body></html>")
    return buf.getvalue()


def _timed(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def bench_others(rounds: int) -> None:
    import docx
    import lxml.html

    from gristmill.io.documents.markup import strip_markdown, strip_rst
    from gristmill.io.documents.units import docx_records, epub_records

    secs = _sections()
    d, e = _docx(secs), _epub(secs)
    md = (ROOT / "tests/data/documents/git-README.md").read_text() * 50
    rst = (ROOT / "tests/data/documents/jansson-README.rst").read_text() * 50

    def naive_docx():
        return "\n".join(p.text for p in docx.Document(io.BytesIO(d)).paragraphs)

    def markdown_it_text():
        from markdown_it import MarkdownIt

        return lxml.html.fromstring(f"<div>{MarkdownIt().render(md)}</div>").text_content()

    def naive_epub():
        z = zipfile.ZipFile(io.BytesIO(e))
        return "\n".join(lxml.html.fromstring(z.read(n)).text_content() for n in z.namelist() if n.endswith(".xhtml"))

    cases = [("DOCX", len(d), lambda: docx_records(d, "file"), naive_docx, "python-docx paragraphs"),
             ("EPUB", len(e), lambda: epub_records(e, "chapter"), naive_epub, "lxml text_content"),
             ("Markdown (strip)", len(md.encode()), lambda: strip_markdown(md), markdown_it_text,
              "markdown-it-py HTML, lxml text"),
             ("reST (strip)", len(rst.encode()), lambda: strip_rst(rst), None, "(no reST parser installed)")]
    print(f"## DOCX, EPUB, Markdown, reST ({len(secs)} Debian Reference sections, en + zh-cn; MB per CPU second)\n")
    print("| reader | input MB | gristmill MB/s | baseline | baseline MB/s | ratio |")
    print("|---|---|---|---|---|---|")
    for name, size, ours, base, label in cases:
        g = _timed(ours, rounds)
        if base is None:
            print(f"| {name} | {size / 1e6:.2f} | {size / 1e6 / g:.1f} | {label} | | |")
            continue
        b = _timed(base, rounds)
        print(f"| {name} | {size / 1e6:.2f} | {size / 1e6 / g:.1f} | {label} | {size / 1e6 / b:.1f} | {b / g:.2f} |")
    one = (ROOT / "tests/data/documents/git-README.md").read_text()
    from markdown_it import MarkdownIt

    ref = lxml.html.fromstring(f"<div>{MarkdownIt().render(one)}</div>").text_content()
    print(f"\nMarkdown stripped vs markdown-it-py's rendered text (git README): char F1 "
          f"{f1(chars(ref), chars(strip_markdown(one))):.3f}, bigram F1 {f1(bigrams(ref), bigrams(strip_markdown(one))):.3f}; "
          f"as written: char F1 {f1(chars(ref), chars(one)):.3f}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pdf", nargs="*", default=None)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    roots = [Path(p) for p in (a.pdf or ["/usr/share/doc", "/usr/share/debian-reference"])]
    pdfs = sorted({p for r in roots for p in ([r] if r.is_file() else r.rglob("*.pdf"))})
    sys.path.insert(0, str(ROOT / "src"))
    print(f"load average {__import__('os').getloadavg()[0]:.2f} (shared machine)\n")
    if pdfs:
        bench_pdf(pdfs, a.rounds)
    bench_others(a.rounds)


if __name__ == "__main__":
    main()
