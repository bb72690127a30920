"""A minimal PDF writer for tests: pages of positioned text in Helvetica (Latin) or the non-embedded
Adobe-GB1 font STSong-Light (Chinese, UCS-2 codes), so a test can lay out real text exactly as a case needs
(letter-spaced Chinese, running headers, hyphenated lines) without a typesetting system.

>>> pdf = make_pdf([[(72, 700, 12, "Hello")]])
>>> pdf[:8], pdf.rstrip().endswith(b"%%EOF")
(b'%PDF-1.7', True)
"""

from __future__ import annotations

Item = tuple[float, float, float, str]   # x, y (points from the bottom left), font size, text


def _is_cjk(s: str) -> bool:
    return any(ord(c) > 0xFF for c in s)   # beyond Latin-1: the Chinese font (Adobe-GB1 has “ ” — too)


def _show(x: float, y: float, size: float, text: str) -> bytes:
    if _is_cjk(text):
        body = "<" + "".join(f"{ord(c):04X}" for c in text) + ">"
        return f"BT /F2 {size} Tf {x} {y} Td {body} Tj ET\n".encode()
    esc = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"BT /F1 {size} Tf {x} {y} Td ({esc}) Tj ET\n".encode("latin-1")


def _pdf_text(s: str) -> str:
    """A PDF text string: UTF-16BE with a byte-order mark, as hex."""
    return "<FEFF" + s.encode("utf-16-be").hex().upper() + ">"


def make_pdf(pages: list[list[Item]], width: float = 595, height: float = 842,
             outline: list[tuple[str, int]] = ()) -> bytes:
    """A PDF whose page i shows the items of ``pages[i]``; ``outline``: top-level bookmarks
    ``(title, page index)``."""
    objs: list[bytes] = []

    def add(body: bytes) -> int:
        objs.append(body)
        return len(objs)

    catalog = add(b"")
    tree = add(b"")
    f1 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    desc = add(b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry "
               b"(Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor " + f"{len(objs) + 2} 0 R".encode()
               + b" /DW 1000 >>")
    f2 = add(b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light-UniGB-UCS2-H /Encoding /UniGB-UCS2-H "
             b"/DescendantFonts [" + f"{desc} 0 R".encode() + b"] >>")
    add(b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
    kids = []
    for items in pages:
        stream = b"".join(_show(*it) for it in items)
        content = add(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"endstream")
        kids.append(add(f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {width} {height}] /Contents "
                        f"{content} 0 R /Resources << /Font << /F1 {f1} 0 R /F2 {f2} 0 R >> >> >>".encode()))
    extra = ""
    if outline:
        root = add(b"")
        marks = [len(objs) + 1 + i for i in range(len(outline))]
        for i, (title, page) in enumerate(outline):
            links = (f" /Prev {marks[i - 1]} 0 R" if i else "") + (f" /Next {marks[i + 1]} 0 R" if i + 1 < len(marks) else "")
            add(f"<< /Title {_pdf_text(title)} /Parent {root} 0 R /Dest [{kids[page]} 0 R /XYZ null null null]{links} >>".encode())
        objs[root - 1] = f"<< /Type /Outlines /First {marks[0]} 0 R /Last {marks[-1]} 0 R /Count {len(marks)} >>".encode()
        extra = f" /Outlines {root} 0 R"
    objs[catalog - 1] = f"<< /Type /Catalog /Pages {tree} 0 R{extra} >>".encode()
    objs[tree - 1] = (f"<< /Type /Pages /Count {len(kids)} /Kids [" + " ".join(f"{k} 0 R" for k in kids)
                      + "] >>").encode()
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root {catalog} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def spaced(x: float, y: float, size: float, text: str, gap: float) -> list[Item]:
    """``text`` one character at a time, each ``gap`` points after the previous one's start."""
    return [(x + i * gap, y, size, c) for i, c in enumerate(text)]
