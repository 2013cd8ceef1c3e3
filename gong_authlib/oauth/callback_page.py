"""The page a browser shows at the end of an OAuth callback, for every front end that has one.

The ``authorize`` command's loopback server and the web helpers both answer Gong's redirect with
a small HTML page; one builder keeps their markup (and its escaping) the same. The page never
shows a code, a token or a state: callers pass only words a person can act on.
"""

from __future__ import annotations

import html


def callback_page(title: str, message: str, *, ok: bool, next_step: str = "") -> str:
    """A complete HTML page: ``title`` as its heading (``#result`` or ``#error``), then the text.

    Browser tests and scripts find the outcome by those element ids.
    """
    element = "result" if ok else "error"
    step = f'<p id="next">{html.escape(next_step)}</p>' if next_step else ""
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{html.escape(title)} - gong-authlib</title></head><body>"
        f'<h1 id="{element}">{html.escape(title)}</h1>'
        f'<p id="message">{html.escape(message)}</p>{step}</body></html>'
    )
