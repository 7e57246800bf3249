# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MSP360 reads of license and storage-account billing (plugins/module_utils/msp360_products.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
import time

import pytest
import responses
from responses import matchers

from ansible_collections.mbs.connectwise.plugins.module_utils import licenses as lic
from ansible_collections.mbs.connectwise.plugins.module_utils import storage_split as ss
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import MBSError
from ansible_collections.mbs.connectwise.plugins.module_utils.msp360 import MBSClient
from ansible_collections.mbs.connectwise.plugins.module_utils.msp360_products import ProductReads, check_details_parallel
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import RetryPolicy

URL = "https://mbs.test"
PASSWORD = "S3cr3t-pa55word"
TOKEN = "tok-AAAA-1111"
LICENSE = {"ID": "0f5c6f2e-1111-4a5b-9c1d-000000000001", "Number": 1, "ComputerName": "PC-1",
           "OperatingSystem": "Windows Server 2022", "IsTrial": False, "IsTaken": True, "LicenseType": "Server",
           "DateExpired": "2027-08-28T11:07:01.0922535+00:00", "Transaction": "T-1", "User": "ann@acme.test",
           "UserID": "u-1"}
USER = {"ID": "u-1", "Email": "ann@acme.test", "FirstName": "Ann", "LastName": "A", "Company": "Acme",
        "Enabled": True, "SpaceUsed": 10, "DestinationList": []}
ACCOUNT = {"ResellerAccountID": "r-1", "AccountID": "acc-1", "DateCreated": "2025-01-01T00:00:00", "DisplayName": "S3",
           "StorageType": "AmazonS3", "Destinations": [{"DestinationID": "d-1", "AccountID": "acc-1",
                                                        "Destination": "bucket", "DestinationDisplayName": "Bucket"}]}


def _client():
    return MBSClient(URL, "api-user", PASSWORD, retry=RetryPolicy(max_attempts=2, sleep=lambda seconds: None))


def _login(rsps):
    return rsps.add(responses.POST, URL + "/api/Provider/Login", json={"access_token": TOKEN})


def _bearer():
    return [matchers.header_matcher({"Authorization": "Bearer " + TOKEN})]


def _details(user_id, size=10):
    return {"TotalBackupBytes": size, "TotalRestoreBytes": 0, "UserID": user_id,
            "UserDetailList": [{"Computer": "PC", "SizeBackup": size, "SizeRestore": 0, "Prefix": "p",
                                "AccountID": "acc-1", "Destination": "bucket"}]}


def test_licenses_users_and_accounts_are_one_request_each_and_count():
    with responses.RequestsMock() as rsps:
        login = _login(rsps)
        licenses = rsps.add(responses.GET, URL + "/api/Licenses", json=[LICENSE], match=_bearer())
        users = rsps.add(responses.GET, URL + "/api/Users", json=[USER], match=_bearer())
        accounts = rsps.add(responses.GET, URL + "/api/Accounts", json=[ACCOUNT], match=_bearer())
        client = _client()
        reads = ProductReads(client)
        counts = lic.count_licenses(reads.licenses(), reads.users(), "2026-09",
                                    lic.parse_license_products([{"license_type": "server", "product": "SRV"}]))
        assert counts.quantities() == {("Acme", "SRV"): 1}
        assert reads.accounts() == [ACCOUNT]
        assert (login.call_count, licenses.call_count, users.call_count, accounts.call_count) == (1, 1, 1, 1)
        assert dict(client.stats) == {"POST": 1, "GET": 3}


@pytest.mark.parametrize("method, path, answer, message", [
    ("licenses", "/api/Licenses", {"body": ""}, r"^MSP360 GET api/Licenses answered with no body, not a list of License "
                                                r"objects: MSP360 may be failing; run again later$"),
    ("licenses", "/api/Licenses", {"json": {"Message": "An error has occurred."}},
     r"^MSP360 GET api/Licenses answered something that is not a list of License objects: MSP360 licenses: dict is not"),
    ("licenses", "/api/Licenses", {"json": [dict(LICENSE, IsTrial=None)]},
     r"^MSP360 GET api/Licenses answered something that is not a list of License objects: MSP360 license 1\.IsTrial: "
     r"None is not true or false$"),
    ("licenses", "/api/Licenses", {"json": [LICENSE, LICENSE]}, r"MSP360 license 2 \(ID .*\) is MSP360 license 1"),
    ("licenses", "/api/Licenses", {"json": [dict(LICENSE, DateExpired="tomorrow")]}, r"\.DateExpired: 'tomorrow' is not"),
    ("users", "/api/Users", {"json": "users"}, r"^MSP360 GET api/Users answered something that is not a list of users: "),
    ("users", "/api/Users", {"json": [{"Email": "a@b"}]}, r"MSP360 user 1\.ID: is missing or empty$"),
    ("users", "/api/Users", {"body": ""}, r"^MSP360 GET api/Users answered with no body"),
    ("accounts", "/api/Accounts", {"json": {"AccountID": "a"}},
     r"^MSP360 GET api/Accounts answered something that is not a list of storage accounts: MSP360 storage accounts: dict"),
    ("accounts", "/api/Accounts", {"json": [dict(ACCOUNT, Destinations="bucket")]},
     r"MSP360 storage account 1\.Destinations: is str, not a list$"),
])
def test_an_answer_that_is_not_what_msp360_documents_is_an_error_naming_the_call(method, path, answer, message):
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.GET, URL + path, **answer)
        with pytest.raises(MBSError, match=message):
            getattr(ProductReads(_client()), method)()


def test_an_empty_list_is_no_licenses():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.GET, URL + "/api/Licenses", json=[])
        assert ProductReads(_client()).licenses() == []


def test_an_http_error_names_the_call():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.GET, URL + "/api/Licenses", status=403, json={"Message": "denied"})
        with pytest.raises(MBSError, match=r"GET api/Licenses returned HTTP 403") as info:
            ProductReads(_client()).licenses()
        assert info.value.status == 403 and TOKEN not in str(info.value)


def test_billing_details_sends_the_user_and_the_first_of_the_month():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        put = rsps.add(responses.PUT, URL + "/api/Billing/Details", json=_details("u-1"), match=_bearer() + [
            matchers.json_params_matcher({"UserID": "u-1", "Date": "2026-09-01T00:00:00Z"})])
        assert ProductReads(_client()).billing_details(" u-1 ", "2026-09") == _details("u-1")
        assert put.call_count == 1


@pytest.mark.parametrize("answer, message", [
    ({"json": [_details("u-1")]}, r"^MSP360 PUT api/Billing/Details answered something that is not billing details of "
                                  r"user u-1 for 2026-09: the answer: is list, not a DetailModels object$"),
    ({"json": _details("u-2")}, r"billing details of user u-1 for 2026-09: the answer is for user u-2, not u-1$"),
    ({"json": {"UserID": "u-1", "UserDetailList": [{"AccountID": "acc-1", "SizeBackup": "lots"}]}},
     r"the answer\.UserDetailList\[0\]\.SizeBackup: 'lots' is not a number$"),
    ({"body": ""}, r"^MSP360 PUT api/Billing/Details answered with no body"),
])
def test_billing_details_answers_are_checked(answer, message):
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.PUT, URL + "/api/Billing/Details", **answer)
        with pytest.raises(MBSError, match=message):
            ProductReads(_client()).billing_details("u-1", "2026-09")


def test_billing_details_wants_a_user():
    with pytest.raises(ValueError, match="user id is required"):
        ProductReads(_client()).billing_details(" ", "2026-09")


def _details_callback(state, fail=()):
    def callback(request):
        user_id = json.loads(request.body)["UserID"]
        with state["lock"]:
            state["active"] += 1
            state["most"] = max(state["most"], state["active"])
            state["asked"].append(user_id)
        time.sleep(0.05)
        with state["lock"]:
            state["active"] -= 1
        if user_id in fail:
            return 500, {}, json.dumps({"Message": "boom"})
        return 200, {"Content-Type": "application/json"}, json.dumps(_details(user_id))
    return callback


def _state():
    return {"lock": threading.Lock(), "active": 0, "most": 0, "asked": []}


@pytest.mark.parametrize("parallel", [1, 2, 4])
def test_details_are_read_once_per_user_at_most_parallel_at_a_time(parallel):
    state = _state()
    with responses.RequestsMock() as rsps:
        login = _login(rsps)
        rsps.add_callback(responses.PUT, URL + "/api/Billing/Details", callback=_details_callback(state))
        users = ["u-%d" % n for n in range(8)] + ["U-1", " u-2", "", None]
        read = ProductReads(_client()).billing_details_many(users, "2026-09", parallel=parallel)
        assert sorted(read.details) == ["u-%d" % n for n in range(8)] and read.errors == {}
        assert sorted(state["asked"]) == ["u-%d" % n for n in range(8)]
        assert state["most"] == parallel
        assert login.call_count == 1
        assert read.details["u-3"] == _details("u-3")


def test_one_users_failed_read_is_that_users_alone():
    state = _state()
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add_callback(responses.PUT, URL + "/api/Billing/Details", callback=_details_callback(state, fail=("u-2",)))
        read = ProductReads(_client()).billing_details_many(["u-1", "u-2", "u-3"], "2026-09", parallel=3)
        assert sorted(read.details) == ["u-1", "u-3"]
        assert list(read.errors) == ["u-2"] and "HTTP 500" in str(read.errors["u-2"])
        assert state["asked"].count("u-2") == 2   # the PUT is a read: retried once (max_attempts=2), then given up


def test_no_users_no_request():
    with responses.RequestsMock() as rsps:
        read = ProductReads(_client()).billing_details_many([], "2026-09")
        assert read.details == {} and read.errors == {} and len(rsps.calls) == 0


@pytest.mark.parametrize("parallel", [0, 17, True, "4", 2.0])
def test_the_parallelism_is_checked(parallel):
    with pytest.raises(ValueError, match=r"must be a whole number from 1 to 16$"):
        check_details_parallel(parallel)


def test_details_read_feed_the_split():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.GET, URL + "/api/Accounts", json=[ACCOUNT])
        state = _state()
        rsps.add_callback(responses.PUT, URL + "/api/Billing/Details", callback=_details_callback(state))
        reads = ProductReads(_client())
        routes = ss.resolve_storage_products(ss.parse_storage_products([{"account": "S3", "product": "P"}]),
                                             reads.accounts())
        read = reads.billing_details_many(["u-1", "u-2"], "2026-09")
        split = ss.split_storage("Acme", {"u-1": 7, "u-2": 5}, read.details, routes)
        assert [(part.product, part.used_bytes) for part in split.parts] == [("P", 12)]
