"""Write ``src/gristmill/code/license_fingerprints.json``: shingle hashes (never texts) of common licences.

Run on a Debian machine with the project's .venv: ``.venv/bin/python tools/license_fingerprints.py``.
Sources: full texts in /usr/share/common-licenses; standard notices cut from those texts' appendices;
DEP-5 ``License:`` paragraphs in /usr/share/doc/*/copyright; LICENSE files of a few named packages in the
venv (those packages are left out of the licence test that checks detection against package metadata).
"""

from __future__ import annotations

import base64
import glob
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "src"))
from gristmill.code.licenses import shingles  # noqa: E402

CL = "/usr/share/common-licenses/"
SITE = sorted(glob.glob(str(pathlib.Path(__file__).resolve().parents[1] / ".venv/lib/python3*/site-packages")))[0]
REFERENCE_PACKAGES = ("annotated_types", "cfn_lint", "lazy_object_proxy", "click")  # excluded from tests/test_code_licenses.py


def whole(path: str) -> str:
    return pathlib.Path(path).read_text(encoding="utf-8", errors="replace")


def cut(path: str, start: str, end: str) -> str:
    t = whole(path)
    i = t.index(start)
    return t[i:t.index(end, i) + len(end)]


def dep5(path: str, name: str) -> str:
    """The text of the file's stand-alone ``License: NAME`` paragraph (the one followed by indented lines)."""
    lines = whole(path).splitlines()
    for i, head in enumerate(lines[:-1]):
        if head == f"License: {name}" and lines[i + 1].startswith((" ", "\t")):
            out = []
            for line in lines[i + 1:]:
                if not line.startswith((" ", "\t")):
                    break
                out.append("" if line.strip() == "." else line.strip())
            return "\n".join(out)
    raise ValueError(f"no License: {name} paragraph in {path}")


def package(name: str) -> str:
    return whole(glob.glob(f"{SITE}/{name}-*.dist-info/licenses/LICENSE*")[0])


SOURCES = [
    ("Apache-2.0", "text", lambda: whole(CL + "Apache-2.0")),
    ("Apache-2.0", "notice", lambda: cut(CL + "Apache-2.0", "Licensed under the Apache License",
                                         "limitations under the License.")),
    ("BSD-3-Clause", "text", lambda: whole(CL + "BSD")),
    ("GPL-2.0-only", "text", lambda: whole(CL + "GPL-2")),
    ("GPL-2.0-or-later", "notice", lambda: cut(CL + "GPL-2", "This program is free software; you can",
                                               "for more details.")),
    ("GPL-3.0-only", "text", lambda: whole(CL + "GPL-3")),
    ("GPL-3.0-or-later", "notice", lambda: cut(CL + "GPL-3", "This program is free software: you can",
                                               "for more details.")),
    ("LGPL-2.1-only", "text", lambda: whole(CL + "LGPL-2.1")),
    ("LGPL-2.1-or-later", "notice", lambda: cut(CL + "LGPL-2.1", "This library is free software; you can",
                                                "for more details.")),
    ("LGPL-3.0-only", "text", lambda: whole(CL + "LGPL-3")),
    ("MPL-2.0", "text", lambda: whole(CL + "MPL-2.0")),
    ("MPL-2.0", "notice", lambda: cut(CL + "MPL-2.0", "This Source Code Form is subject to the terms",
                                      "You can obtain one at")),
    ("MPL-1.1", "text", lambda: whole(CL + "MPL-1.1")),
    ("CC0-1.0", "text", lambda: whole(CL + "CC0-1.0")),
    ("Artistic-1.0-Perl", "text", lambda: whole(CL + "Artistic")),
    ("GFDL-1.3-only", "text", lambda: whole(CL + "GFDL-1.3")),
    ("ISC", "text", lambda: dep5("/usr/share/doc/curl/copyright", "ISC")),
    ("Zlib", "text", lambda: dep5("/usr/share/doc/cmake/copyright", "Zlib")),
    ("Unlicense", "text", lambda: dep5("/usr/share/doc/librsvg2-2/copyright", "Unlicense")),
    ("MIT", "text", lambda: package("annotated_types")),
    ("MIT-0", "text", lambda: package("cfn_lint")),
    ("BSD-2-Clause", "text", lambda: package("lazy_object_proxy")),
    ("BSD-3-Clause", "text", lambda: package("click")),
]


def main() -> None:
    out = []
    for spdx, kind, get in SOURCES:
        text = get()
        h = shingles(text)
        out.append({"spdx": spdx, "kind": kind, "n": int(len(h)),
                    "shingles": base64.b64encode(h.astype("<u4").tobytes()).decode()})
        print(f"{spdx:20} {kind:6} {len(h):5} shingles", file=sys.stderr)
    dest = pathlib.Path(__file__).resolve().parents[1] / "src/gristmill/code/license_fingerprints.json"
    doc = {"about": "xxh32 hashes of normalised word 4-grams of licence texts and notices "
                    "(gristmill.code.licenses.shingles); made by tools/license_fingerprints.py", "licenses": out}
    dest.write_text(json.dumps(doc, indent=0) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
