"""URLs as they may be shown or logged: no password, no API key, wherever the URL or its parts appear.

>>> redacted_url("postgresql://kyt:s3cret@db.internal:5432/cases")
'postgresql://kyt:***@db.internal:5432/cases'
>>> redacted_url("https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef?apikey=xyz")
'https://mainnet.infura.io/v3/***?apikey=***'
>>> redacted_url("sqlite:///freezecase.db")
'sqlite:///freezecase.db'
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

HIDDEN = "***"
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{16,}")
"""A path segment of a node's URL this long, of letters, digits, - and _, is taken for a key (Infura, Alchemy, ...)."""
_WEB = ("http", "https", "ws", "wss")


def redacted_url(url: str) -> str:
    """`url` with its password, its query's values and (for a web URL) key-like path segments replaced by ***."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return HIDDEN  # not a URL we can take apart: show none of it
    if not parts.scheme:
        return HIDDEN if "@" in url or "?" in url else url
    netloc = parts.hostname or ""
    if ":" in netloc:  # IPv6
        netloc = f"[{netloc}]"
    if parts.username is not None:
        netloc = f"{parts.username}{':' + HIDDEN if parts.password is not None else ''}@{netloc}"
    if port is not None:
        netloc += f":{port}"
    path = parts.path
    if parts.scheme.lower() in _WEB:
        path = "/".join(HIDDEN if _TOKEN.fullmatch(segment) else segment for segment in path.split("/"))
    query = "&".join(f"{key}={HIDDEN}" for key, _ in parse_qsl(parts.query, keep_blank_values=True))
    slashes = "//" if url[len(parts.scheme) + 1:].startswith("//") else ""
    return f"{parts.scheme}:{slashes}{netloc}{path}" + (f"?{query}" if query else "")


def scrubbed(text: str, url: str) -> str:
    """`text` (an error message, say) with every appearance of `url`, of its secret parts and of its path
    (as an HTTP library quotes it: "with url: /v3/KEY") replaced by their redacted forms.

    >>> scrubbed("Max retries exceeded with url: /v3/0123456789abcdef0123456789abcdef",
    ...          "https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef")
    'Max retries exceeded with url: /v3/***'
    """
    shown = redacted_url(url)
    text = text.replace(url, shown)
    try:
        parts, hidden = urlsplit(url), urlsplit(shown)
    except ValueError:
        return text
    for secret, replacement in ((parts.path + ("?" + parts.query if parts.query else ""),
                                 hidden.path + ("?" + hidden.query if hidden.query else "")),
                                (parts.path, hidden.path), (parts.password or "", HIDDEN)):
        if secret and secret != replacement and len(secret) > 3:
            text = text.replace(secret, replacement)
    return text
