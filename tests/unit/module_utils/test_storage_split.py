# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A company's storage split per storage account (plugins/module_utils/storage_split.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
from decimal import Decimal
from fractions import Fraction

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils import storage_split as ss
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ProductOptionError, StorageDataError

D = Decimal
GIB = 2 ** 30
ACCOUNTS = [
    {"ResellerAccountID": "r", "AccountID": "acc-s3", "DateCreated": "2025-01-01T00:00:00", "DisplayName": "Amazon S3",
     "StorageType": "AmazonS3", "Destinations": [
         {"DestinationID": "d-s3-eu", "AccountID": "acc-s3", "Destination": "backups-eu", "DestinationDisplayName": "EU"},
         {"DestinationID": "d-s3-us", "AccountID": "acc-s3", "Destination": "backups-us", "DestinationDisplayName": "US"}]},
    {"AccountID": "acc-wasabi", "DisplayName": "Wasabi", "StorageType": "Wasabi",
     "Destinations": [{"DestinationID": "d-w", "AccountID": "acc-wasabi", "Destination": "wasabi-1",
                       "DestinationDisplayName": "Wasabi 1"}]},
    {"AccountID": "acc-b2", "DisplayName": "Backblaze", "StorageType": "BackblazeB2", "Destinations": None},
]
PRODUCTS = ss.parse_storage_products([
    {"account": "Amazon S3", "product": "STORAGE-S3", "price_per_gb": "0.05"},
    {"account": "ACC-WASABI", "product": "STORAGE-WASABI", "cost_per_gb": 0.0059},
])
ROUTES = ss.resolve_storage_products(PRODUCTS, ACCOUNTS)


def details(user_id, *rows):
    return {"TotalBackupBytes": sum(row[2] for row in rows), "TotalRestoreBytes": 0, "UserID": user_id,
            "UserDetailList": [{"Computer": "PC-%d" % index, "SizeBackup": size, "SizeRestore": 0, "Prefix": "p",
                                "AccountID": account, "Destination": destination}
                               for index, (account, destination, size) in enumerate(rows)]}


def parts(split):
    return [(part.kind, part.label, part.used_bytes) for part in split.parts]


def test_a_company_on_two_accounts_gets_two_products_adding_up_to_its_storage():
    split = ss.split_storage("Acme", {"u1": 100 * GIB + 1}, {"u1": details(
        "u1", ("acc-s3", "backups-eu", 30 * GIB), ("acc-wasabi", "wasabi-1", 10 * GIB))}, ROUTES)
    assert parts(split) == [("product", "STORAGE-S3", 75 * GIB + 1), ("product", "STORAGE-WASABI", 25 * GIB)]
    assert split.bytes_of("storage-s3") + split.bytes_of("STORAGE-WASABI") == 100 * GIB + 1
    assert split.reconcile() == 100 * GIB + 1 and split.warnings == ()
    assert split.parts[0].sources == (("acc-s3", "backups-eu"),) and split.parts[0].size_backup == 30 * GIB


def test_each_users_bytes_split_by_its_own_proportions_then_added_up():
    split = ss.split_storage("Acme", {"u1": 1000, "U2": 500}, {
        "U1": details("u1", ("acc-s3", "backups-eu", 1), ("acc-wasabi", "wasabi-1", 1)),
        "u2": details("u2", ("acc-wasabi", "wasabi-1", 10 ** 12))}, ROUTES)
    # Company-wide proportions would give Wasabi almost everything; each user's own keep its bytes.
    assert parts(split) == [("product", "STORAGE-S3", 500), ("product", "STORAGE-WASABI", 1000)]


def test_largest_remainder_ties_go_to_the_first_bucket_whatever_the_input_order():
    rows = [("acc-wasabi", "wasabi-1", 1), ("acc-s3", "backups-us", 1), ("acc-b2", None, 1)]
    for order in (rows, rows[::-1]):
        split = ss.split_storage("Acme", {"u1": 11}, {"u1": details("u1", *order)}, ROUTES)
        assert parts(split) == [("product", "STORAGE-S3", 4), ("product", "STORAGE-WASABI", 4),
                                ("unmapped_account", "Backblaze (acc-b2)", 3)]


def test_largest_remainder_itself():
    assert ss.largest_remainder(10, [("a", 1), ("b", 1), ("c", 1)]) == {"a": 4, "b": 3, "c": 3}
    assert ss.largest_remainder(10, [("a", 1), ("b", 2), ("c", 0)]) == {"a": 3, "b": 7, "c": 0}
    assert ss.largest_remainder(0, [("a", 1), ("b", 2)]) == {"a": 0, "b": 0}
    assert ss.largest_remainder(2, [("a", 5), ("b", 5), ("c", 6)]) == {"a": 1, "b": 0, "c": 1}
    rng = random.Random(21)
    for dummy in range(300):
        weights = [(index, rng.choice([0, 1, rng.randrange(10 ** 12)])) for index in range(rng.randrange(1, 7))]
        if not sum(weight for key, weight in weights):
            continue
        total = rng.randrange(10 ** 13)
        split = ss.largest_remainder(total, weights)
        assert sum(split.values()) == total
        whole = sum(weight for key, weight in weights)
        assert all(abs(split[key] - Fraction(total * weight, whole)) < 1 for key, weight in weights)


def test_a_destination_entry_wins_over_its_accounts_entry():
    products = ss.parse_storage_products([
        {"account": "Amazon S3", "product": "S3-ANY"},
        {"account": "acc-s3", "destination": "EU", "product": "S3-EU"},
    ])
    routes = ss.resolve_storage_products(products, ACCOUNTS)
    split = ss.split_storage("Acme", {"u1": 90}, {"u1": details(
        "u1", ("acc-s3", "backups-eu", 2), ("acc-s3", "BACKUPS-US", 1), ("acc-s3", None, 0))}, routes)
    assert parts(split) == [("product", "S3-ANY", 30), ("product", "S3-EU", 60)]


def test_two_accounts_on_one_product_are_one_part():
    products = ss.parse_storage_products([
        {"account": "Amazon S3", "product": "CLOUD", "price_per_gb": "0.05"},
        {"account": "Wasabi", "product": "cloud"},
    ])
    split = ss.split_storage("Acme", {"u1": 7}, {"u1": details(
        "u1", ("acc-s3", "backups-eu", 5), ("acc-wasabi", "wasabi-1", 9))}, ss.resolve_storage_products(products, ACCOUNTS))
    assert parts(split) == [("product", "CLOUD", 7)]
    assert split.parts[0].sources == (("acc-s3", "backups-eu"), ("acc-wasabi", "wasabi-1"))
    assert products.terms("CLOUD") == ss.StorageProductTerms("CLOUD", None, D("0.05"))


def test_usage_no_product_takes_is_its_own_bucket_never_dropped():
    split = ss.split_storage("Acme", {"u1": 1000, "u2": 300, "u3": 200, "u4": 0}, {
        "u1": details("u1", ("acc-s3", "backups-eu", 1), ("acc-b2", "b2-bucket", 1), ("acc-gone", "x", 2)),
        "u2": details("u2", ("acc-s3", "backups-eu", 0)),
        "u4": details("u4", ("acc-s3", "backups-eu", 5))}, ROUTES)
    assert parts(split) == [("product", "STORAGE-S3", 250), ("unmapped_account", "Backblaze (acc-b2)", 250),
                            ("unknown_account", "unknown account acc-gone", 500), ("unsplit", "no per-account detail", 500)]
    assert split.parts[-1].sources == ("u2", "u3")
    assert split.warnings == ("company 'Acme': MSP360 gives no per-account usage for users u2, u3, so 500 bytes are "
                              "not split by storage account",)
    assert split.reconcile() == 1500


def test_a_company_whose_details_are_all_zero_is_unsplit_explicitly():
    split = ss.split_storage("Acme", {"u1": 5 * GIB}, {"u1": details("u1", ("acc-s3", "backups-eu", 0))}, ROUTES)
    assert parts(split) == [("unsplit", "no per-account detail", 5 * GIB)]
    assert split.bytes_of("STORAGE-S3") == 0 and len(split.warnings) == 1
    empty = ss.split_storage("Acme", {"u1": 5}, {"u1": {"UserID": "u1", "UserDetailList": None}}, ROUTES)
    assert parts(empty) == [("unsplit", "no per-account detail", 5)]


def test_a_company_without_usage_has_no_parts():
    split = ss.split_storage("Acme", {"u1": 0}, {}, ROUTES)
    assert split.parts == () and split.used_bytes == 0 and split.warnings == ()


@pytest.mark.parametrize("user_bytes, answer, message", [
    ({"u1": -1}, None, r"^company 'Acme' user u1: -1 is not a number of bytes$"),
    ({"u1": 1.5}, None, r"^company 'Acme' user u1: 1\.5 is not a number of bytes$"),
    ({"u1": 1}, [], r"^MSP360 billing details of user u1: is list, not a DetailModels object$"),
    ({"u1": 1}, {"UserDetailList": {}}, r"^MSP360 billing details of user u1\.UserDetailList: is dict, not a list$"),
    ({"u1": 1}, {"UserDetailList": ["row"]}, r"^MSP360 billing details of user u1\.UserDetailList\[0\]: is str, not a"),
    ({"u1": 1}, {"UserDetailList": [{"SizeBackup": 1}]},
     r"^MSP360 billing details of user u1\.UserDetailList\[0\]\.AccountID: is missing or empty$"),
    ({"u1": 1}, {"UserDetailList": [{"AccountID": "acc-s3", "SizeBackup": -4}]},
     r"^MSP360 billing details of user u1\.UserDetailList\[0\]\.SizeBackup: -4 is negative$"),
    ({"u1": 1}, {"UserDetailList": [{"AccountID": "acc-s3", "SizeBackup": "big"}]}, r"\.SizeBackup: 'big' is not a number$"),
    ({"u1": 1}, {"UserDetailList": [{"AccountID": "acc-s3", "SizeBackup": True}]}, r"\.SizeBackup: True is not a number"),
    ({"u1": 1}, {"UserDetailList": [{"AccountID": 7, "SizeBackup": 1}]}, r"\.AccountID: 7 is not a string$"),
])
def test_bad_usage_or_details_are_errors(user_bytes, answer, message):
    with pytest.raises(StorageDataError, match=message):
        ss.split_storage("Acme", user_bytes, {"u1": answer} if answer is not None else {}, ROUTES)


def test_a_fractional_size_backup_is_rounded_half_up():
    split = ss.split_storage("Acme", {"u1": 4}, {"u1": {"UserDetailList": [
        {"AccountID": "acc-s3", "Destination": "backups-eu", "SizeBackup": D("0.5")},
        {"AccountID": "acc-wasabi", "Destination": "wasabi-1", "SizeBackup": D("0.49")}]}}, ROUTES)
    assert parts(split) == [("product", "STORAGE-S3", 4), ("product", "STORAGE-WASABI", 0)]


# ---------------------------------------------------------------- storage_products


def test_storage_products_parse_exactly():
    assert PRODUCTS.entries == (
        ss.StorageProduct("Amazon S3", "STORAGE-S3", None, None, D("0.05"), "storage_products[0]"),
        ss.StorageProduct("ACC-WASABI", "STORAGE-WASABI", None, D("0.0059"), None, "storage_products[1]"),
    )
    assert PRODUCTS.terms("storage-wasabi") == ss.StorageProductTerms("STORAGE-WASABI", D("0.0059"), None)
    assert ss.parse_storage_products(None).entries == ()


@pytest.mark.parametrize("entries, message", [
    ("Amazon S3", r"^storage_products must be a list of entries, not str$"),
    ([{"account": "A", "product": "P", "price_per_gib": 1}],
     r"^storage_products\[0\]: unknown key 'price_per_gib'; did you mean 'price_per_gb'\?"),
    ([{"acount": "A", "product": "P"}], r"^storage_products\[0\]: unknown key 'acount'; did you mean 'account'\?"),
    ([{"product": "P"}], r"^storage_products\[0\]\.account is required$"),
    ([{"account": "A"}], r"^storage_products\[0\]\.product is required$"),
    ([{"account": "A", "product": "P", "destination": ""}], r"^storage_products\[0\]\.destination is empty$"),
    ([{"account": "A", "product": "P", "cost_per_gb": "1,5"}], r"^storage_products\[0\]\.cost_per_gb: '1,5' is not a number$"),
    ([{"account": "A", "product": "P", "price_per_gb": -0.01}], r"^storage_products\[0\]\.price_per_gb: -0\.01 is negative$"),
    ([{"account": "A", "product": "P"}, {"account": " a ", "product": "Q"}],
     r"^storage_products\[1\] maps the account 'a' that storage_products\[0\] already maps"),
    ([{"account": "A", "destination": "EU", "product": "P"}, {"account": "a", "destination": "eu", "product": "Q"}],
     r"^storage_products\[1\] maps the account 'a' \(destination 'eu'\) that storage_products\[0\] already maps"),
    ([{"account": "A", "product": "P", "price_per_gb": 1}, {"account": "B", "product": "P", "price_per_gb": 2}],
     r"^storage_products\[1\]\.price_per_gb is 2 but storage_products\[0\] gives product 'P' the price_per_gb 1"),
])
def test_bad_storage_products_are_refused_naming_the_entry(entries, message):
    with pytest.raises(ProductOptionError, match=message):
        ss.parse_storage_products(entries)


def test_an_account_and_its_destination_twice_in_different_words_is_refused():
    products = ss.parse_storage_products([{"account": "Amazon S3", "destination": "EU", "product": "P"},
                                          {"account": "acc-s3", "destination": "d-s3-eu", "product": "Q"}])
    with pytest.raises(ProductOptionError, match=r"^storage_products\[0\] and storage_products\[1\] both map the "
                                                 r"storage account Amazon S3 \(acc-s3\) \(destination 'd-s3-eu'\)"):
        ss.resolve_storage_products(products, ACCOUNTS)


@pytest.mark.parametrize("entries, accounts, message", [
    ([{"account": "Azure", "product": "P"}], ACCOUNTS,
     r"^storage_products\[0\]\.account 'Azure' is no MSP360 storage account \(DisplayName or AccountID\); the accounts "
     r"are: Amazon S3 \(acc-s3\), Backblaze \(acc-b2\), Wasabi \(acc-wasabi\)$"),
    ([{"account": "Cloud", "product": "P"}], [{"AccountID": "a1", "DisplayName": "Cloud"},
                                              {"AccountID": "a2", "DisplayName": "cloud"}],
     r"^storage_products\[0\]\.account 'Cloud' names 2 storage accounts \(Cloud \(a1\), cloud \(a2\)\): give the AccountID$"),
    ([{"account": "Amazon S3", "destination": "APAC", "product": "P"}], ACCOUNTS,
     r"^storage_products\[0\]\.destination 'APAC' is not a destination of the storage account Amazon S3 \(acc-s3\) "
     r"\(it has backups-eu, backups-us\)$"),
    ([{"account": "Backblaze", "destination": "x", "product": "P"}], ACCOUNTS, r"\(it has none\)$"),
])
def test_entries_that_match_no_account_or_two_are_refused_before_any_write(entries, accounts, message):
    with pytest.raises(ProductOptionError, match=message):
        ss.resolve_storage_products(ss.parse_storage_products(entries), accounts)


@pytest.mark.parametrize("accounts, message", [
    ({"AccountID": "a"}, r"^MSP360 storage accounts: dict is not a list of accounts$"),
    (["a"], r"^MSP360 storage account 1: is str, not an account$"),
    ([{"DisplayName": "A"}], r"^MSP360 storage account 1\.AccountID: is missing or empty$"),
    ([{"AccountID": "a"}, {"AccountID": "A"}], r"^MSP360 storage account 2: account A is listed twice$"),
    ([{"AccountID": "a", "Destinations": {}}], r"^MSP360 storage account 1\.Destinations: is dict, not a list$"),
    ([{"AccountID": "a", "Destinations": [3]}], r"^MSP360 storage account 1\.Destinations\[0\]: is int, not a destination$"),
    ([{"AccountID": "a", "DisplayName": 5}], r"^MSP360 storage account 1\.DisplayName: 5 is not a string$"),
])
def test_bad_accounts_are_errors(accounts, message):
    with pytest.raises(StorageDataError, match=message):
        ss.resolve_storage_products(PRODUCTS, accounts)


def test_resolve_wants_checked_products():
    with pytest.raises(TypeError):
        ss.resolve_storage_products([{"account": "A", "product": "P"}], ACCOUNTS)
