"""Helpers shared by the ensure-module tests."""

from urllib.parse import parse_qs, urlsplit


def conditions(rsps, url):
    """The ``conditions`` of every GET sent to ``url`` (any query string), in order."""
    path = urlsplit(url).path
    return [parse_qs(urlsplit(c.request.url).query).get("conditions", [None])[0]
            for c in rsps.calls if c.request.method == "GET" and urlsplit(c.request.url).path == path]
