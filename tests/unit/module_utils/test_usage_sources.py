# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from decimal import Decimal

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.usage import aggregate
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import UsageError
from ansible_collections.mbs.connectwise.plugins.module_utils.usage_sources import normalise_inline, read_usage_file

D = Decimal
GIB = 2 ** 30
DATA = os.path.join(os.path.dirname(__file__), "data")


# ---------------------------------------------------------------- inline


def test_inline_happy_path():
    records = normalise_inline([
        {"company": "Acme", "used_bytes": 10 * GIB, "destination": "S3", "cost": "0.5", "price": 2},
        {"company": " Globex ", "used_bytes": "1073741824", "destination": "", "cost": None},
        {"company": "Acme", "used_bytes": 1e9, "destination": "B2", "price": 0.1},
    ])
    assert [(r.company, r.used_bytes, r.destination, r.cost, r.price, r.source_ref) for r in records] == [
        ("Acme", 10 * GIB, "S3", D("0.5"), D(2), "usage[0]"),
        ("Globex", GIB, None, None, None, "usage[1]"),
        ("Acme", 10 ** 9, "B2", None, D("0.1"), "usage[2]"),
    ]


@pytest.mark.parametrize("record, message", [
    ({"company": "A", "used_bytes": "-5"}, r"^usage\[1\]\.used_bytes: '-5' is negative$"),
    ({"company": "A", "used_bytes": -5}, r"usage\[1\]\.used_bytes: -5 is negative"),
    ({"company": "A", "used_bytes": "lots"}, r"usage\[1\]\.used_bytes: 'lots' is not a number"),
    ({"company": "A", "used_bytes": "1.5"}, r"usage\[1\]\.used_bytes: '1.5' is not a whole number"),
    ({"company": "A", "used_bytes": True}, r"usage\[1\]\.used_bytes: True is a boolean"),
    ({"company": "A", "used_bytes": ""}, r"usage\[1\]\.used_bytes: is empty"),
    ({"company": "A", "used_bytes": "NaN"}, r"usage\[1\]\.used_bytes: .*finite"),
    ({"company": "A"}, r"usage\[1\]\.used_bytes: is missing"),
    ({"used_bytes": 1}, r"usage\[1\]\.company: is missing or empty"),
    ({"company": "  ", "used_bytes": 1}, r"usage\[1\]\.company: is missing or empty"),
    ({"company": ["A"], "used_bytes": 1}, r"usage\[1\]\.company: \['A'\] is not a string"),
    ({"company": "A", "used_bytes": 1, "price": False}, r"usage\[1\]\.price: False is a boolean"),
    ({"company": "A", "used_bytes": 1, "cost": "cheap"}, r"usage\[1\]\.cost: 'cheap' is not a number"),
    ({"company": "A", "used_bytes": 1, "cost": "-1"}, r"usage\[1\]\.cost: '-1' is negative"),
    ({"company": "A", "used_bytes": 1, "used_gb": 3}, r"usage\[1\]: unknown field 'used_gb'"),
    ({"company": "A", "CompanyName": "A", "used_bytes": 1}, r"usage\[1\]: mixes canonical fields"),
    ("Acme", r"usage\[1\]: is str, not a mapping"),
])
def test_inline_errors_name_the_record(record, message):
    with pytest.raises(UsageError, match=message):
        normalise_inline([{"company": "ok", "used_bytes": 0}, record])


def test_inline_must_be_a_list_and_duplicates_refused():
    with pytest.raises(UsageError, match="must be a list"):
        normalise_inline({"company": "A", "used_bytes": 1})
    with pytest.raises(UsageError, match=r"usage\[2\]: duplicate of usage\[0\]"):
        normalise_inline([{"company": "A", "used_bytes": 1, "destination": "S3"},
                          {"company": "A", "used_bytes": 1, "destination": "B2"},
                          {"company": "A", "used_bytes": 2, "destination": "S3"}])


def test_inline_msp360_names_and_total_cost_mapping():
    row = {"CompanyName": "Acme", "AverageSpace": 1.5, "TotalCost": "2.50", "UserId": "u1", "PlanCost": 9}
    as_price = normalise_inline([row])[0]
    assert (as_price.used_bytes, as_price.price, as_price.cost, as_price.user) == (2, D("2.50"), None, "u1")
    as_cost = normalise_inline([row], total_cost_is="cost")[0]
    assert (as_cost.price, as_cost.cost) == (None, D("2.50"))
    with pytest.raises(ValueError, match="total_cost_is"):
        normalise_inline([row], total_cost_is="both")


# ---------------------------------------------------------------- files


def test_csv_canonical():
    records = read_usage_file(os.path.join(DATA, "usage_canonical.csv"))
    assert [r.source_ref for r in records] == ["usage_file row %d" % n for n in (2, 3, 4, 5)]
    assert records[3].company == "Globex, Inc." and records[3].destination is None and records[3].user is None
    acme = aggregate(records)["Acme"]
    assert acme.used_bytes == 16 * GIB and acme.destinations == ("B2", "S3")
    assert acme.cost == D("0.65") and acme.price == D("3.25")


def msp360_export_as_excel_saves_it(tmp_path):
    """The export as spreadsheet tools write it: UTF-8 byte order mark and CRLF line ends.

    Kept LF/no-BOM in the repository (sanity rules) and converted here.
    """
    with open(os.path.join(DATA, "usage_msp360_export.csv"), encoding="utf-8") as handle:
        text = handle.read()
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    return str(path)


def test_csv_msp360_export_with_bom_and_crlf(tmp_path):
    export = msp360_export_as_excel_saves_it(tmp_path)
    records = read_usage_file(export)
    assert [(r.company, r.used_bytes, r.price, r.cost) for r in records] == [
        ("Acme", 2 * GIB, D("3.00"), None),  # 2147483648.4 -> half-up to whole bytes
        ("Acme", GIB, D("1.50"), None),      # 1073741823.5 -> 1073741824
        ("Initech", 0, D("0"), None),
    ]
    assert records[0].user == "6f1c0000-0000-0000-0000-000000000001"
    cost_side = read_usage_file(export, total_cost_is="cost")
    assert cost_side[0].cost == D("3.00") and cost_side[0].price is None


def test_json_records_billing_object_and_list():
    records = read_usage_file(os.path.join(DATA, "usage_records.json"))
    assert [(r.company, r.used_bytes, r.source_ref) for r in records] == [
        ("Acme", 10 * GIB, "usage_file[0]"), ("Acme", GIB, "usage_file[1]"), ("Globex", 0, "usage_file[2]")]
    obj = read_usage_file(os.path.join(DATA, "billing_object.json"))
    assert [(r.company, r.used_bytes, r.price) for r in obj] == [("Acme", 2 * GIB, D("3.0")), ("Acme", GIB, D("1.1"))]
    assert obj[1].source_ref == "usage_file[0].StatisticBilling[1]"
    lst = read_usage_file(os.path.join(DATA, "billing_list.json"))
    assert sorted(aggregate(lst)) == ["Acme", "Globex"]
    assert aggregate(lst)["Globex"].price == D("0.3")


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("name, text, message", [
    ("u.csv", "", "is empty"),
    ("u.csv", "  \n\n", "is empty"),
    ("u.json", "", "is empty"),
    ("u.csv", "company,used_bytes,colour\nA,1,red\n", r"row 1: unknown column 'colour'"),
    ("u.csv", "company,destination\nA,S3\n", "needs a company column .* and a usage column"),
    ("u.csv", "company,used_bytes,company\nA,1,A\n", "duplicate column names"),
    ("u.csv", "company,used_bytes\n", "header but no rows"),
    ("u.csv", "company,used_bytes\nA,1\nB,1O\n", r"usage_file row 3 column used_bytes: '1O' is not a number"),
    ("u.csv", "company,used_bytes,price\nA,1,1,00\n", "row 2: has more values than the header"),
    ("u.csv", "company,used_bytes\nA,1\n,5\n", r"usage_file row 3 column company: is missing"),
    ("u.csv", "company,used_bytes,price\nA,1,\nB,-2,1\n", r"row 3 column used_bytes: '-2' is negative"),
    ("u.csv", "company,used_bytes,destination\nA,1,S3\nB,1,S3\nA,2,S3\n",
     r"usage_file row 4: duplicate of usage_file row 2 \(company 'A', destination 'S3', user None\)"),
    ("u.csv", "CompanyName,UserId,AverageSpace\nA,u1,1\nA,u1,2\n", "row 3: duplicate of usage_file row 2"),
    ("u.csv", "company,used_bytes,TotalCost\nA,1,1\n", "mixes canonical fields"),
    ("u.csv", 'company,used_bytes\n"A,1\n', "not valid CSV: unexpected end of data"),
    ("u.json", "[{\"company\": \"A\", \"used_bytes\": 1},]", "not valid JSON"),
    ("u.json", "{\"company\": \"A\", \"used_bytes\": 1}", "MSP360 Billing object"),
    ("u.json", "\"text\"", "must be a list"),
    ("u.json", "[]", "holds no usage records"),
    ("u.json", "{\"StatisticBilling\": []}", "holds no usage records"),
    ("u.json", "{\"StatisticBilling\": {}}", r"usage_file\[0\]\.StatisticBilling: is not a list"),
    ("u.json", "[{\"company\": \"A\", \"used_bytes\": -1}]", r"usage_file\[0\]\.used_bytes: -1 is negative"),
    ("u.json", "[{\"company\": \"A\", \"used_bytes\": 1.5}]", r"usage_file\[0\]\.used_bytes: .* not a whole"),
    ("u.json", "[{\"company\": \"A\", \"used_bytes\": true}]", r"usage_file\[0\]\.used_bytes: True is a boolean"),
    ("u.json", "[{\"company\": \"A\", \"used_bytes\": 1}, {\"company\": \"A\", \"used_bytes\": 2}]",
     r"usage_file\[1\]: duplicate of usage_file\[0\]"),
    ("u.json", "{\"StatisticBilling\": [{\"CompanyName\": \"A\", \"AverageSpace\": 1, \"Colour\": 1}]}",
     r"StatisticBilling\[0\]: unknown field 'Colour'"),
    ("u.json", "[1, 2]", r"usage_file\[0\]: is int, not a mapping"),
])
def test_file_errors(tmp_path, name, text, message):
    with pytest.raises(UsageError, match=message):
        read_usage_file(_write(tmp_path, name, text))


def test_file_format_sniffed_without_extension_and_missing_file(tmp_path):
    records = read_usage_file(_write(tmp_path, "usage.txt", '[{"company": "A", "used_bytes": 3}]'))
    assert records[0].used_bytes == 3
    records = read_usage_file(_write(tmp_path, "usage.dat", "company,used_bytes\nA,4\n"))
    assert records[0].used_bytes == 4
    with pytest.raises(UsageError, match="cannot be read"):
        read_usage_file(str(tmp_path / "nope.csv"))


def test_file_not_utf8(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(b"company,used_bytes\n\xff\xfe,1\n")
    with pytest.raises(UsageError, match="cannot be read"):
        read_usage_file(str(path))
