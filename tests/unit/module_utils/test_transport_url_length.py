"""Every request URL stays within ConnectWise's 2,000 characters, whatever the identifiers hold."""

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.client import IN_CHUNK, ConnectWiseClient
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import MAX_URL_LENGTH

from ..conftest import API, CONNECTION, no_sleep_policy

# Characters that each need an escape in a query string: quotes (escaped again by the
# conditions syntax), &, spaces, %, +, non-ASCII and 4-byte UTF-8.
NASTY = '"&\' %+#ü😀'


def worst_case(count, length):
    """``count`` distinct values of exactly ``length`` characters, almost all needing escapes."""
    values = []
    for n in range(count):
        tag = "%04d" % n
        body = (NASTY * length)[:length - len(tag)]
        values.append(body + tag)
    return values


@pytest.mark.parametrize("field,length", [("identifier", 30), ("name", 100)])
def test_worst_case_identifiers_stay_within_the_url_limit(mocked, field, length):
    client = ConnectWiseClient(retry=no_sleep_policy(), **CONNECTION)
    mocked.get(API + "company/companies", json=[])
    values = worst_case(300, length)
    extra = cond.equals("deletedFlag", False)
    list(client.list_in("company/companies", field, values, conditions=extra,
                        fields=["id", "identifier", "name", "defaultContact"], order_by="id"))
    urls = [call.request.url for call in mocked.calls]
    assert len(urls) > 300 // IN_CHUNK  # a count of 100 per read would have overflowed
    assert max(len(url) for url in urls) <= MAX_URL_LENGTH
    assert client.longest_url == max(len(url) for url in urls)
    chunks = list(client.in_chunks("company/companies", field, values, extra,
                                   ["id", "identifier", "name", "defaultContact"], "id"))
    assert sorted(v for chunk in chunks for v in chunk) == sorted(values)
    # Greedy, not timid: each full read could not have taken the next value (on its pages after the
    # first, which page by key: the longest id ConnectWise can have).
    for chunk, following in zip(chunks, chunks[1:]):
        wider = cond.all_of(cond.all_of(cond.is_in(field, chunk + following[:1]), extra), "id > 2147483647")
        longer = client.transport.encoded_url(client.api_path("company/companies"), {
            "conditions": wider, "fields": "id,identifier,name,defaultContact", "orderBy": "id asc",
            "pageSize": 1000, "page": 1})
        assert len(chunk) == IN_CHUNK or len(longer) > MAX_URL_LENGTH


def test_a_long_base_url_leaves_less_room(mocked):
    long_site = "https://" + "a" * 60 + ".example.test/" + "b" * 300
    connection = dict(CONNECTION)
    connection["site"] = long_site
    client = ConnectWiseClient(retry=no_sleep_policy(), **connection)
    mocked.get(long_site + "/v4_6_release/apis/3.0/company/companies", json=[])
    values = worst_case(120, 30)
    list(client.list_in("company/companies", "identifier", values))
    assert max(len(call.request.url) for call in mocked.calls) <= MAX_URL_LENGTH
    short = ConnectWiseClient(retry=no_sleep_policy(), **CONNECTION)
    assert len(list(client.in_chunks("company/companies", "identifier", values))) > \
        len(list(short.in_chunks("company/companies", "identifier", values)))


def test_short_values_are_still_capped_per_read(mocked):
    client = ConnectWiseClient(retry=no_sleep_policy(), **CONNECTION)
    chunks = list(client.in_chunks("company/companies", "id", list(range(250))))
    assert [len(c) for c in chunks] == [100, 100, 50]


def test_a_value_that_cannot_fit_is_named_not_sent(mocked):
    client = ConnectWiseClient(retry=no_sleep_policy(), **CONNECTION)
    monster = "😀" * 200
    with pytest.raises(InputError) as err:
        list(client.list_in("company/companies", "name", ["ok", monster]))
    assert "name" in str(err.value) and "2000" in str(err.value)
    assert len(mocked.calls) == 0


def test_longest_url_counts_the_encoded_url_sent(mocked):
    client = ConnectWiseClient(retry=no_sleep_policy(), **CONNECTION)
    mocked.get(API + "company/companies", json=[])
    client.get("company/companies", params={"conditions": 'name = "a b&c"'})
    assert client.longest_url == len(mocked.calls[0].request.url)
    assert "%26" in mocked.calls[0].request.url


def measured_chunks(client, field, values, extra):
    """The chunks of measuring every candidate's encoded URL: what ``in_chunks`` must give, only faster.

    The URL measured is the longest a read in id order sends: a page after the first, keyed by the
    largest id ConnectWise has (32 bits)."""
    target = client.api_path("company/companies")

    def length(chunk):
        return len(client.transport.encoded_url(target, {
            "conditions": cond.all_of(cond.all_of(cond.is_in(field, chunk), extra), "id > 2147483647"),
            "orderBy": "id asc", "pageSize": 1000, "page": 1}))

    chunks, chunk = [], []
    for value in sorted(set(values), key=str):
        if chunk and (len(chunk) >= IN_CHUNK or length(chunk + [value]) > MAX_URL_LENGTH):
            chunks.append(chunk)
            chunk = []
        chunk.append(value)
    return chunks + [chunk]


@pytest.mark.parametrize("values", [
    ["C%05d" % n for n in range(500)],
    list(range(1, 501)),
    worst_case(150, 30),
    ["Company %d %s" % (n, NASTY[:n % len(NASTY)] * (n % 7)) for n in range(400)],
], ids=["identifiers", "ids", "worst-case", "mixed"])
def test_chunks_are_those_of_measuring_every_candidate(values):
    client = ConnectWiseClient(retry=no_sleep_policy(), **CONNECTION)
    extra = cond.equals("name", "ManagedBackupService")
    assert list(client.in_chunks("company/companies", "f", values, extra)) == measured_chunks(client, "f", values, extra)
