"""List reads as ConnectWise answers them: the filters, ``fields``, and both kinds of paging.

Navigable paging (the default): ``page``/``pageSize`` and a ``Link`` header that always carries
``rel="last"`` (on the last page too), ``first``/``prev`` from page 2 on and ``next`` while more
pages follow. Forward-only paging (request header ``pagination-type: forward-only``): rows by
ascending id, no ``orderBy``, and the ``Link`` header's ``next`` carries ``pageId=<last id>`` (read
as ``id > pageId``) while rows remain; on the last page the header is empty.
"""

import re
from urllib.parse import quote, urlencode

from .conditions import ConditionError, parse
from .errors import ApiError

DEFAULT_PAGE_SIZE = 25
FORWARD_ONLY = "forward-only"
FILTERS = (("conditions", "where"), ("childConditions", "children"), ("customFieldConditions", "custom"))


def _bad(message):
    return ApiError(400, message, "InvalidObject")


def positive_int(request, name, default, minimum=1):
    text = request.param(name)
    if text is None or text == "":
        return default
    if not re.fullmatch(r"\d+", text.strip()) or int(text) < minimum:
        raise _bad(f"{name} must be a positive integer, not {text!r}")
    return int(text)


def order_by(text):
    """``name asc, id desc`` -> [(("name",), False), (("id",), True)]."""
    if not text or not text.strip():
        return []
    order = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise _bad(f"orderBy is invalid: {part.strip()!r}; use 'field asc' or 'field desc'")
        order.append((tuple(words[0].split("/")), len(words) == 2 and words[1].lower() == "desc"))
    return order


def fields(request):
    """The ``fields`` parameter as paths: ``id,company/identifier`` -> [("id",), ("company", "identifier")]."""
    return [tuple(f.strip().split("/")) for f in (request.param("fields") or "").split(",") if f.strip()]


def trim(obj, paths):
    """Keep only the ``fields`` asked for; nested paths keep their nesting (in each member of an array)."""
    if not paths:
        return obj
    out = {}
    for path in paths:
        _trim_into(obj, out, path)
    return out


def _trim_into(source, target, path):
    head, rest = path[0], path[1:]
    if not isinstance(source, dict) or head not in source:
        return
    value = source[head]
    if not rest:
        target[head] = value
    elif isinstance(value, list):
        kept = target.setdefault(head, [{} for _member in value])
        for member, into in zip(value, kept):
            _trim_into(member, into, rest)
    elif isinstance(value, dict):
        _trim_into(value, target.setdefault(head, {}), rest)


def forward_only(request):
    return (request.headers.get("pagination-type") or "").strip().lower() == FORWARD_ONLY


def select(store, request, table, parent, ordered=True):
    """The rows the request's filters (and, when ``ordered``, its ``orderBy``) select; 400 when invalid."""
    trees = {}
    try:
        for param, name in FILTERS:
            text = request.param(param)
            try:
                trees[name] = parse(text) if text is not None and text.strip() else None
            except ConditionError as exc:
                raise ConditionError(f"{param} is invalid: {exc}") from exc
        order = order_by(request.param("orderBy")) if ordered else []
        return store.select(table, parent, order=order, **trees)
    except ConditionError as exc:
        raise _bad(str(exc)) from exc


def _url(request, pairs):
    return f"{request.scheme}://{request.host}{request.raw_path}?{urlencode(pairs, quote_via=quote)}"


def _kept(request, *dropped):
    return [(k, v) for k, v in request.query if k.lower() not in dropped]


def navigable_links(request, page, last_page):
    """``first``/``prev`` from page 2 on, ``next`` while more pages follow, ``last`` always."""
    def url(number):
        return _url(request, _kept(request, "page") + [("page", str(number))])
    links = []
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(min(page - 1, last_page))}>; rel="prev"']
    if page < last_page:
        links.append(f'<{url(page + 1)}>; rel="next"')
    links.append(f'<{url(last_page)}>; rel="last"')
    return ", ".join(links)


def read_page(store, request, table, parent, max_page_size):
    """``(rendered rows, headers)`` of one list read, navigable or forward-only."""
    page_size = min(positive_int(request, "pageSize", DEFAULT_PAGE_SIZE), max_page_size)
    if forward_only(request):
        return _forward_only_page(store, request, table, parent, page_size)
    if request.param("pageId") is not None:
        raise _bad("pageId is for forward-only pagination: send the header 'pagination-type: forward-only' too")
    page = positive_int(request, "page", 1)
    with store.lock:
        rows = select(store, request, table, parent)
        start = (page - 1) * page_size
        items = [trim(store.render(table, row), fields(request)) for row in rows[start:start + page_size]]
    return items, {"Link": navigable_links(request, page, max(1, -(-len(rows) // page_size)))}


def _forward_only_page(store, request, table, parent, page_size):
    if request.param("orderBy") is not None:
        raise _bad("orderBy cannot be used with forward-only pagination: its rows come in ascending id order")
    if positive_int(request, "page", 1) != 1:
        raise _bad("page cannot be used with forward-only pagination: follow the Link header's next URL (pageId)")
    after = positive_int(request, "pageId", 0, minimum=0)
    with store.lock:
        rows = [row for row in select(store, request, table, parent, ordered=False) if row["id"] > after]
        items = [trim(store.render(table, row), fields(request)) for row in rows[:page_size]]
    link = ""
    if len(rows) > page_size:
        link = f'<{_url(request, _kept(request, "page", "pageid") + [("pageId", str(rows[page_size - 1]["id"]))])}>; rel="next"'
    return items, {"Link": link}
