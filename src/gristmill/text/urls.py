"""URL normalisation, for exact URL dedup (``exact_dedup``'s ``url`` key) and the URL filter.

>>> normalise_url("HTTP://www.Example.com:80/a/b/?utm_source=x&b=2&a=1#top")
'http://example.com/a/b?a=1&b=2'
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|_ga|ref|spm)$", re.I)


def normalise_url(url: str) -> str:
    """Lower-case scheme and host, drop www., default ports, fragments, tracking parameters and a trailing
    slash; sort the query. For exact URL dedup."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = parts.port if parts.port not in (None, 80, 443) else None
    netloc = host + (f":{port}" if port else "")
    path = re.sub(r"/+$", "", parts.path) or ""
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    return urlunsplit((scheme, netloc, path, query, ""))
