"""The data report: one self-contained HTML file (inline CSS, SVG and a few lines of script; no network).

>>> import pyarrow as pa
>>> from gristmill.report.profile import Profile
>>> from gristmill.report.analysis import build
>>> p = Profile()
>>> p.add(pa.table({"id": ["a"], "text": ["你好，世界。"], "lang": ["zh"]}), "kept")
>>> page = render(build(None, Profile.merge([p.to_dict()]), title="样本"))
>>> page.count('<section') == len(SECTIONS) and "你好，世界。" in page and "http" not in page.split("<body")[0]
True
"""

from __future__ import annotations

import html
import json

from gristmill.report import svg

SECTIONS = [("summary", "Run summary"), ("funnel", "Funnel"), ("rejections", "Rejection reasons"),
            ("languages", "Languages"), ("lengths", "Length per language"), ("signals", "Signals"),
            ("duplicates", "Duplicates"), ("protection", "PII and contamination"), ("diversity", "Diversity"),
            ("bias", "Bias indicators"), ("examples", "Example documents")]

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei",
"Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","WenQuanYi Micro Hei","WenQuanYi Zen Hei",sans-serif;
margin:0;color:#222;background:#fafafa}
header{background:#263238;color:#fff;padding:1em 2em}header h1{margin:0;font-size:1.4em}
nav{padding:.4em 2em;background:#eceff1;position:sticky;top:0;z-index:2}nav a{margin-right:1em;color:#1565c0}
main{padding:0 2em 3em;max-width:90em}section{background:#fff;border:1px solid #ddd;border-radius:6px;
margin:1.2em 0;padding:.6em 1.2em 1em}h2{font-size:1.15em;border-bottom:1px solid #eee;padding-bottom:.3em}
table{border-collapse:collapse;font-size:.9em;margin:.4em 0}td,th{border:1px solid #ddd;padding:.2em .6em;
text-align:right;vertical-align:top}th{background:#f3f5f6}td.l,th.l{text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:1em}.card{border:1px solid #eee;border-radius:4px;padding:.3em .5em}
.card h3{font-size:.9em;margin:.2em 0;font-weight:600}.muted{color:#777;font-size:.85em}
.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}
.doc{border-top:1px solid #eee;padding:.5em 0}.doc pre{white-space:pre-wrap;font-family:inherit;margin:.2em 0;
max-height:12em;overflow:auto;background:#f7f7f7;padding:.4em}.tag{display:inline-block;background:#eceff1;
border-radius:3px;padding:0 .4em;margin-right:.4em;font-size:.8em}mark{background:#ffe082}
#ex-controls{display:flex;gap:1em;align-items:center;margin:.5em 0}#ex-controls input{width:24em;padding:.3em}
"""

SCRIPT = """
(function(){
  var data = JSON.parse(document.getElementById('examples-data').textContent);
  var sel = document.getElementById('ex-group'), q = document.getElementById('ex-search');
  var list = document.getElementById('ex-list'), count = document.getElementById('ex-count');
  Object.keys(data).forEach(function(g){
    var o = document.createElement('option'); o.value = g; o.textContent = g + ' (' + data[g].length + ')';
    sel.appendChild(o);
  });
  var all = document.createElement('option'); all.value = '*'; all.textContent = 'all groups'; sel.appendChild(all);
  function show(){
    var g = sel.value, needle = q.value.trim().toLowerCase(), shown = 0;
    list.textContent = '';
    var groups = g === '*' ? Object.keys(data) : [g];
    groups.forEach(function(name){
      (data[name] || []).forEach(function(d){
        var hay = (d.text + ' ' + d.id + ' ' + (d.detail || '')).toLowerCase();
        if (needle && hay.indexOf(needle) < 0) return;
        var div = document.createElement('div'); div.className = 'doc';
        var head = document.createElement('div');
        [name, d.lang, d.chars + ' chars', d.id].forEach(function(t){
          var s = document.createElement('span'); s.className = 'tag'; s.textContent = t; head.appendChild(s);
        });
        if (d.detail){ var s = document.createElement('span'); s.className = 'muted'; s.textContent = d.detail;
          head.appendChild(s); }
        var pre = document.createElement('pre'); pre.textContent = d.text;
        div.appendChild(head); div.appendChild(pre); list.appendChild(div); shown++;
      });
    });
    count.textContent = shown + ' shown';
  }
  sel.addEventListener('change', show); q.addEventListener('input', show); show();
  document.body.setAttribute('data-rendered', '1');
})();
"""


def _e(s) -> str:
    return html.escape("" if s is None else str(s))


def _mb(b) -> str:
    return "–" if b is None else f"{b / 1e6:,.2f} MB"


def _table(head: list[str], rows: list[list], left: int = 1) -> str:
    th = "".join(f'<th class="{"l" if i < left else ""}">{_e(h)}</th>' for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td class="{"l" if i < left else ""}">{c if isinstance(c, _Raw) else _e(c)}'
                                    f"</td>" for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


class _Raw(str):
    """Already-escaped HTML for a table cell."""


def _n(v) -> str:
    return "–" if v is None else (f"{v:,}" if isinstance(v, int) else f"{v:,.4g}")


def _summary(a: dict) -> str:
    s = a["summary"]
    rows = []
    if s["mode"] == "run":
        ok = '<span class="ok">reconciled</span>' if s["reconciled"] else '<span class="bad">NOT reconciled</span>'
        rows = [["recipe", f"{s['recipe']} ({s.get('recipe_file') or 'built-in'}), hash {s.get('recipe_hash')}"],
                ["inputs", ", ".join(s["inputs"][:5]) + (" …" if len(s["inputs"]) > 5 else "")],
                ["time", f"{s['started']} → {s['finished']}, {s['wall_seconds']:.1f} s on {s['workers']} workers"],
                ["throughput", f"{_n(s['docs_per_second'])} docs/s, {_n(s['mb_per_second'])} MB/s of text"],
                ["records", _Raw(f"input {s['docs_in']:,} = kept {s['docs_kept']:,} + rejected "
                                 f"{s['docs_rejected']:,} + quarantined {s['quarantined']:,}: {ok}")],
                ["text", f"in {_mb(s['bytes_in'])}, kept {_mb(s['bytes_kept'])}"],
                ["versions", ", ".join(f"{k} {v}" for k, v in s["versions"].items())]]
        if s.get("input_problems"):
            rows.append(["input problems", "; ".join(f"{p['path']}: {p['problem']}" for p in s["input_problems"][:10])])
    else:
        rows = [["data", ", ".join(s.get("inputs", [])[:5])],
                ["documents", f"{s['docs_in']:,} ({_mb(s['bytes_in'])} of text)"],
                ["measured", ", ".join(s.get("measured", []))],
                ["time", f"{s.get('wall_seconds', 0):.1f} s, {_n(s['docs_per_second'])} docs/s"],
                ["versions", ", ".join(f"{k} {v}" for k, v in s.get("versions", {}).items())]]
    smp = a["sample"]
    rows.append(["sampling", f"signal histograms from {smp['docs']:,} documents, diversity from {smp['texts']:,} "
                             f"kept texts (uniform sample by id hash, rate {smp['rate']:.3g}); counts are exact"])
    return _table(["", ""], rows, left=2)


def _funnel(a: dict) -> str:
    f = a["funnel"]
    docs = svg.bars([(r["stage"], r["docs"]) for r in f], unit="docs", color="#2e7d32")
    have_bytes = all(r["bytes"] is not None for r in f)
    byt = svg.bars([(r["stage"], round(r["bytes"] / 1e6, 3)) for r in f], unit="MB", color="#00838f") \
        if have_bytes else ""
    tbl = _table(["stage", "documents", "text"], [[r["stage"], _n(r["docs"]), _mb(r["bytes"])] for r in f])
    return f'<div class="grid"><div>{docs}</div><div>{byt}</div></div>{tbl}'


def _rejections(a: dict) -> str:
    r = a["rejections"]
    if not r:
        return "<p>No document was rejected (an analysis of a dataset applies no selection).</p>"
    plot = svg.bars([(f"{x['step']}: {x['reason']}", x["docs"]) for x in r[:25]], unit="docs",
                    color="#c62828", label_width=300)
    tbl = _table(["step", "reason", "condition met (instead of the rule)", "documents", "share of all", "text"],
                 [[x["step"], x["reason"], x.get("condition") or "", _n(x["docs"]), f"{x['share']:.2%}",
                   _mb(x["bytes"])] for x in r], left=3)
    return plot + tbl


def _languages(a: dict) -> str:
    ls = a["languages"][:25]
    plot = svg.bars([(x["lang"], x["docs"]) for x in ls], unit="docs", label_width=80)
    kept = svg.bars([(x["lang"], x["docs_kept"]) for x in ls], unit="kept", color="#2e7d32", label_width=80)
    tbl = _table(["language", "documents", "kept", "text", "kept text"],
                 [[x["lang"], _n(x["docs"]), _n(x["docs_kept"]), _mb(x["bytes"]), _mb(x["bytes_kept"])] for x in ls])
    return f'<div class="grid"><div><h3>all</h3>{plot}</div><div><h3>kept</h3>{kept}</div></div>{tbl}{_why(a)}'


def _why(a: dict) -> str:
    """Per language: the share rejected and the top reasons, with a sentence when a length rule leads."""
    why = [x for x in a.get("why_rejected", []) if x["docs_rejected"]][:25]
    if not why:
        return ""
    notes = "".join(f"<li>{_e(x['note'])}</li>" for x in why[:6])
    rows = [[x["lang"], _n(x["docs"]), _n(x["docs_rejected"]), f"{x['rejected_share']:.1%}",
             "; ".join(f"{t['step']} {t['reason']}: {t['docs']:,} ({t['share']:.0%})"
                       + (f" [{t['rule']}]" if t["rule"] else "") for t in x["top_reasons"])] for x in why]
    tbl = _table(["language", "documents", "rejected", "share rejected", "top reasons (share of the rejected)"],
                 rows)
    return f'<h3 id="why-rejected">Rejected, per language</h3><ul class="why">{notes}</ul>{tbl}'


def _lengths(a: dict) -> str:
    cards = []
    analyze = a["summary"]["mode"] == "analyze"
    for lg, d in a["lengths"].items():
        series = {"documents": d["kept"]} if analyze else {"kept": d["kept"], "rejected": d["rejected"]}
        h = svg.histogram(series, d["edges"], log_x=True,
                          xlabel="characters (log scale)")
        cards.append(f'<div class="card"><h3>{_e(lg)}: median {_n(d["median_chars_kept"])} characters kept, '
                     f'{_n(d["median_chars_all"])} all</h3>{h}</div>')
    return f'<div class="grid">{"".join(cards)}</div>' if cards else "<p>No documents.</p>"


def _signals(a: dict) -> str:
    if not a["signals"]:
        return "<p>No numeric signals in this data.</p>"
    cards = []
    analyze = a["summary"]["mode"] == "analyze"

    def plot(h: dict) -> str:
        marks = [(t["value"], f"{t['rule']} {t['op']} {svg.fmt(t['value'])}") for t in h["thresholds"]]
        series = {"documents": h["kept"]} if analyze else {"kept": h["kept"], "rejected": h["rejected"]}
        return svg.histogram(series, h["edges"], marks=marks, log_x=h["log_x"], log_y=h.get("log_y", False))

    for s in a["signals"]:
        per = s.get("by_lang") or []
        if per:  # one histogram per language, each with its own thresholds
            h = "".join(f'<div class="lang-plot" data-lang="{_e(x["lang"])}"><div class="muted">{_e(x["lang"])}: '
                        f'{_n(x["sampled"])} sampled</div>{plot(x)}</div>' for x in per)
        else:
            h = plot(s)
        k, r = s["kept_stats"], s["rejected_stats"]
        line = " · ".join(f"{name} n={_n(x['n'])} mean={_n(x['mean'])} [{_n(x['min'])}, {_n(x['max'])}]"
                          for name, x in (("kept", k), ("rejected", r)) if x)
        cards.append(f'<div class="card" data-signal="{_e(s["name"])}"><h3>{_e(s["name"])}</h3>{h}'
                     f'<div class="muted">{_e(line)}</div></div>')
    return (f'<p class="muted">Histograms of a uniform sample, per language (each with its own thresholds: dashed '
            f'lines, labelled rule, operator, value); a plot whose mass is in one bin is drawn on a log scale. '
            f'Statistics under each plot are exact, over all languages.</p><div class="grid">{"".join(cards)}</div>')


def _duplicates(a: dict) -> str:
    d = a["duplicates"]
    parts = []
    for label, info in d["steps"].items():
        sizes = sorted(((int(k), v) for k, v in (info.get("cluster_sizes") or {}).items()), key=lambda kv: kv[0])
        head = f"{label}: {info.get('duplicates', 0):,} duplicates removed"
        if "clusters" in info:
            head += f" in {info['clusters']:,} clusters"
        plot = svg.bars([(f"size {k}", v) for k, v in sizes[:30]], unit="clusters", color="#6a1b9a",
                        label_width=90) if sizes else ""
        parts.append(f'<div class="card"><h3>{_e(head)}</h3>{plot}</div>')
    if not parts:
        parts.append("<p>No deduplication step in this run.</p>")
    ex = "".join(f'<div class="doc"><span class="tag">{_e(e["group"])}</span><span class="muted">{_e(e["detail"])}'
                 f'</span><pre>{_e(e["text"][:300])}</pre></div>' for e in d["examples"])
    return f'<div class="grid">{"".join(parts)}</div>' + (f"<h3>Example duplicates</h3>{ex}" if ex else "")


def _protection(a: dict) -> str:
    p = a["protection"]
    out = []
    if p["pii_measured"]:
        for kind, c in p["pii"].items():
            out.append(f'<div class="card"><h3>PII found in {kind} documents</h3>'
                       f'{svg.bars(list(c.items()), unit="matches", color="#ef6c00", label_width=130)}</div>')
        if not p["pii"]:
            out.append("<p>PII was looked for and none was found.</p>")
    else:
        out.append("<p>No PII step in this run (add <code>- step: pii</code>).</p>")
    if p["contamination_measured"]:
        c = p["contamination"]
        out.append(f'<div class="card"><h3>Documents overlapping benchmarks</h3>'
                   f'{svg.bars(list(c.items()), unit="docs", color="#ad1457", label_width=130)}</div>'
                   if c else "<p>Benchmarks were checked and no overlap was found.</p>")
    else:
        out.append("<p>No decontamination step in this run (<code>- step: decontaminate</code>).</p>")
    return f'<div class="grid">{"".join(out)}</div>'


def _diversity(a: dict) -> str:
    d = a["diversity"]
    rows = [[lg, _n(x["docs"]), _n(x["units"]), f"{x['distinct_1']:.3f}", f"{x['distinct_2']:.3f}",
             f"{x['distinct_3']:.3f}", _n(x["vocabulary"]), f"{x['entropy_bits']:.2f}"]
            for lg, x in d["per_language"].items()]
    tbl = _table(["language", "sampled docs", "units", "distinct-1", "distinct-2", "distinct-3", "vocabulary",
                  "entropy (bits)"], rows)
    plot = svg.bars([(lg, x["distinct_2"]) for lg, x in d["per_language"].items()], unit="distinct-2",
                    label_width=80)
    doms = svg.bars([(k, v) for k, v in d["top_domains"]], unit="docs", label_width=240, color="#00838f") \
        if d["top_domains"] else "<p class='muted'>No URLs in the data.</p>"
    srcs = svg.bars([(s, n) for s, n, _ in d["top_sources"]], unit="docs", label_width=240, color="#558b2f") \
        if d["top_sources"] else "<p class='muted'>No sources recorded.</p>"
    return (f'<p class="muted">Units are words, or characters for Chinese and Japanese; measured on a uniform '
            f'sample of kept documents (first 2,000 characters each).</p>{tbl}<div class="grid">'
            f'<div class="card"><h3>distinct-2 by language</h3>{plot}</div><div class="card"><h3>top domains</h3>'
            f'{doms}</div><div class="card"><h3>top sources (kept documents)</h3>{srcs}</div></div>')


def _bias(a: dict) -> str:
    out = []
    for lg, s in a["bias"].items():
        cats = s["categories"]
        ratio = s["male_female_ratio"]
        plot = svg.bars([(c, v["per_million_chars"]) for c, v in cats.items()], unit="per M chars",
                        label_width=110, color="#4e342e")
        rows = [[c, _n(v["total"]), f"{v['per_million_chars']:.1f}",
                 ", ".join(f"{w} {n}" for w, n in list(v["terms"].items())[:8])] for c, v in cats.items()]
        out.append(f'<div class="card"><h3>{_e(lg)}: male:female term ratio {_n(ratio)}</h3>{plot}'
                   f'{_table(["category", "count", "per M chars", "top terms"], rows)}</div>')
    if not out:
        out.append("<p>No English or Chinese kept documents to measure.</p>")
    lists = "".join(f"<tr><td class='l'>{_e(lg)}</td><td class='l'>{_e(c)}</td><td class='l'>{_e(', '.join(ws))}"
                    f"</td></tr>" for lg, cats in a["bias_terms"].items() for c, ws in cats.items())
    return (f'<p class="muted">Frequencies of listed terms in kept documents (English: whole words, any case; '
            f'Chinese: substrings). They indicate imbalance; they do not measure harm.</p>'
            f'<div class="grid">{"".join(out)}</div><details><summary>Word lists</summary>'
            f'<table><tr><th class="l">language</th><th class="l">category</th><th class="l">terms</th></tr>'
            f'{lists}</table></details>')


def _examples(a: dict) -> str:
    data = json.dumps(a["examples"], ensure_ascii=False).replace("</", "<\\/")
    return (f'<div id="ex-controls"><label>group <select id="ex-group"></select></label>'
            f'<input id="ex-search" type="search" placeholder="search text, id or reason"><span id="ex-count" '
            f'class="muted"></span></div><div id="ex-list"></div>'
            f'<script type="application/json" id="examples-data">{data}</script>')


def render(a: dict) -> str:
    """The report page for an analysis from :func:`gristmill.report.analysis.build`."""
    body = {"summary": _summary, "funnel": _funnel, "rejections": _rejections, "languages": _languages,
            "lengths": _lengths, "signals": _signals, "duplicates": _duplicates, "protection": _protection,
            "diversity": _diversity, "bias": _bias, "examples": _examples}
    nav = "".join(f'<a href="#{k}">{_e(t)}</a>' for k, t in SECTIONS)
    secs = "".join(f'<section id="{k}" data-section="{k}"><h2>{_e(t)}</h2>{body[k](a)}</section>'
                   for k, t in SECTIONS)
    title = a["summary"]["title"]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width"><title>gristmill · {_e(title)}</title><style>{CSS}</style></head>'
            f'<body><header><h1>gristmill · {_e(title)}</h1><div>{_e(a["summary"]["mode"])} report</div></header>'
            f'<nav>{nav}</nav><main>{secs}</main><script>{SCRIPT}</script></body></html>')
