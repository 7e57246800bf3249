"""The billing report page parsed back: every element closed in order, and the cells of its tables.

Used by the report's unit tests and by the integration tests that check the page a real run wrote.
"""

from html.parser import HTMLParser


class Structure(HTMLParser):
    """Every element closed in order, and the text of the tables' cells, so a broken page fails the test."""

    VOID = frozenset(("meta", "br", "line", "rect", "hr", "img", "input", "link"))

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open = []
        self.tables = []
        self.cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = ""
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        assert tag in self.VOID, tag

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.open and self.open[-1] == tag, "</%s> closes %s" % (tag, self.open[-3:])
        self.open.pop()
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data

    def check(self, page):
        self.feed(page)
        self.close()
        assert self.open == [], self.open
        for word in ("None", "Undefined", "{{", "{%", "Decimal("):
            assert word not in page, word
        return self


def tables(page):
    parsed = Structure().check(page)
    return parsed.tables


def reconciliation_bytes(page):
    """``({group: bytes}, all companies' bytes)`` from the page's reconciliation table (its first table)."""
    rows = tables(page)[0]
    groups = dict((row[0], int(row[2].replace(",", ""))) for row in rows[1:] if row[0] and row[0] != "Balance"
                  and not row[0].startswith(("All companies", "Usage of the month", "The billing module")))
    everything = next(row for row in rows if row[0] == "All companies")
    return groups, int(everything[2].replace(",", ""))
