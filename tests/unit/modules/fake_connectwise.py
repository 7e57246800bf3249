"""A small in-memory ConnectWise behind ``responses``, for tests that count and inspect requests.

Conditions are parsed with the sandbox's strict parser (``tests/sandbox/conditions.py``), so a
badly quoted or escaped value is a 400 here as on ConnectWise. Lists are paged with a ``Link``
header (``rel="next"``/``rel="last"``) and the page size is capped at ``page_limit``.
"""

import copy
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import responses

from tests.sandbox.conditions import ConditionError, evaluate, parse

from ..conftest import API


class FakeConnectWise:

    def __init__(self, rsps, page_limit=1000):
        self.tables = {}
        self.page_limit = page_limit
        self.next_id = 10000
        pattern = re.compile(re.escape(API) + r".*")
        for method in (responses.GET, responses.POST, responses.PATCH, responses.DELETE):
            rsps.add_callback(method, pattern, callback=self._handle)
        self.log = []  # (method, path, query) of every request
        self.sent = []  # (method, path, body) of every write
        self.refuse = None  # refuse(method, path, body) -> (status, body) or None: inject errors

    # ---- data ---------------------------------------------------------------------------------
    def add(self, path, **row):
        if "id" not in row:
            row["id"] = self._new_id()
        self.tables.setdefault(path, []).append(row)
        return row

    def rows(self, path):
        return self.tables.setdefault(path, [])

    def _new_id(self):
        self.next_id += 1
        return self.next_id

    # ---- inspection ---------------------------------------------------------------------------
    def calls(self, method=None, path=None):
        return [c for c in self.log if (method is None or c[0] == method) and (path is None or c[1] == path)]

    def writes(self):
        return [c for c in self.log if c[0] != "GET"]

    # ---- HTTP -----------------------------------------------------------------------------------
    def _handle(self, request):
        parts = urlsplit(request.url)
        path = parts.path.split("/apis/3.0/", 1)[1].strip("/")
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.log.append((request.method, path, query))
        body = json.loads(request.body) if request.body else None
        if request.method != "GET":
            self.sent.append((request.method, path, body))
            refused = self.refuse(request.method, path, body) if self.refuse else None
            if refused:
                return refused[0], {}, json.dumps(refused[1])
        if request.method == "GET":
            if path in self.tables or not path.rsplit("/", 1)[-1].isdigit():
                return self._list(request.url, path, query)
            table, object_id = path.rsplit("/", 1)
            found = [r for r in self.rows(table) if r["id"] == int(object_id)]
            return (200, {}, json.dumps(found[0])) if found else self._error(404, "NotFound", "not found")
        if request.method == "POST":
            row = dict(body, id=self._new_id())
            self._expand(row)
            self.rows(path).append(row)
            return 201, {}, json.dumps(row)
        table, object_id = path.rsplit("/", 1)
        found = [r for r in self.rows(table) if r["id"] == int(object_id)]
        if not found:
            return self._error(404, "NotFound", "not found")
        if request.method == "DELETE":
            self.rows(table).remove(found[0])
            return 204, {}, ""
        for operation in body:
            found[0][operation["path"]] = operation["value"]
        self._expand(found[0])
        return 200, {}, json.dumps(found[0])

    def _expand(self, row):
        """References come back with their names, as ConnectWise returns them."""
        company = row.get("company")
        if isinstance(company, dict) and "id" in company:
            for c in self.rows("company/companies"):
                if c["id"] == company["id"]:
                    row["company"] = {"id": c["id"], "identifier": c["identifier"], "name": c.get("name")}
        agreement_type = row.get("type")
        if isinstance(agreement_type, dict) and "id" in agreement_type:
            for t in self.rows("finance/agreements/types"):
                if t["id"] == agreement_type["id"]:
                    row["type"] = {"id": t["id"], "name": t["name"]}

    def _list(self, url, path, query):
        rows = self.rows(path)
        if query.get("conditions"):
            try:
                tree = parse(query["conditions"])
            except ConditionError as exc:
                return self._error(400, "InvalidObject", str(exc))
            rows = [r for r in rows if evaluate(tree, lambda field, row=r: _get(row, field))]
        size = min(int(query.get("pageSize", 25)), self.page_limit)
        page = int(query.get("page", 1))
        chunk = rows[(page - 1) * size:page * size]
        if query.get("fields"):
            chunk = [_trim(r, query["fields"].split(",")) for r in chunk]
        headers = {}
        last = max(1, -(-len(rows) // size))
        if page < last:
            base = url.split("?", 1)[0]
            links = []
            for rel, number in (("next", page + 1), ("last", last)):
                links.append('<%s?%s>; rel="%s"' % (base, urlencode(dict(query, page=number)), rel))
            headers["Link"] = ", ".join(links)
        return 200, headers, json.dumps(copy.deepcopy(chunk))

    @staticmethod
    def _error(status, code, message):
        return status, {}, json.dumps({"code": code, "message": message})


def _get(row, field):
    value = row
    for part in field:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _trim(row, fields):
    out = {}
    for field in fields:
        head = field.split("/")[0]
        if head in row:
            out[head] = row[head]
    return out
