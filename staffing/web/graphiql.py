"""GraphiQL from the package's own files (issue 13): the IDE strawberry ships loads React and GraphiQL
from a public CDN, and stays blank on an offline network. Here the same page points at the vendored
copies (``staffing.web.assets``), keeping each ``integrity`` attribute (the files are the same bytes)."""

from __future__ import annotations

import re
from functools import cache

from strawberry.http.ides import get_graphql_ide_html

__all__ = ["STATIC_PREFIX", "graphiql_html"]

STATIC_PREFIX = "/static/vendor"

#: every CDN address strawberry's GraphiQL page loads -> the vendored file serving it
_LOCAL = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": "react-dom.production.min.js",
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": "plugin-explorer.umd.js",
}


@cache
def graphiql_html() -> str:
    """Strawberry's GraphiQL page with every asset served by the service itself. Refuses (at the first
    request, and in the tests) a page that still names an outside address: a strawberry upgrade that
    changes its assets must update the vendored files too."""
    html = get_graphql_ide_html(graphql_ide="graphiql")
    for remote, name in _LOCAL.items():
        html = html.replace(remote, f"{STATIC_PREFIX}/{name}")
    outside = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    if outside:
        raise RuntimeError(f"GraphiQL would load {outside}; vendor them (staffing.web.assets) and map them here")
    return html
