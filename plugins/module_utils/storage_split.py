# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A company's storage split by storage account, into one part per ``storage_products`` product. Pure, no I/O.

MSP360 bills storage per user (``AverageSpace``, bytes averaged over the month); bytes per storage
account exist only per user, in ``PUT api/Billing/Details`` (``UserDetailList``: ``SizeBackup``,
``AccountID``, ``Destination``), whose ``SizeBackup`` is not documented to be a monthly average.
So the details give the *proportions* and the billing gives the *bytes*: each user's
``AverageSpace`` is split in proportion to that user's ``SizeBackup`` per account, and the parts
of all the company's users are added up per product. The parts add up exactly to the company's
``AverageSpace`` total, the storage billing's number.

Rounding (whole bytes)
    Largest remainder, per user: each bucket gets ``floor(bytes * weight / total weight)``, and
    the bytes left (fewer than the number of buckets) go one each to the buckets with the largest
    remainders, ties to the bucket first in :func:`_bucket_order` (products, then unmapped accounts,
    then unknown accounts, each by folded name). ``SizeBackup`` is rounded half-up to a whole byte.

Buckets (:class:`StoragePart` ``kind``), so that no byte is dropped
    ``product``: accounts (and destinations) a ``storage_products`` entry maps;
    ``unmapped_account``: a storage account of ``GET api/Accounts`` no entry maps;
    ``unknown_account``: an ``AccountID`` that ``GET api/Accounts`` does not list;
    ``unsplit``: a user with usage whose details are missing or all zero (nothing to split by).

Matching
    An entry's ``account`` is a storage account's ``DisplayName`` or ``AccountID``; its optional
    ``destination`` is one of that account's ``Destinations`` (``Destination``,
    ``DestinationDisplayName`` or ``DestinationID``). A detail row goes to the entry of its account
    and destination, else to the entry of its account without a destination. Names compare after
    :func:`identity.fold`. :func:`resolve_storage_products` checks the entries against the accounts
    once, before any write: an entry that names no account, or two, is refused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP

from ansible_collections.mbs.connectwise.plugins.module_utils import product_options as po
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import to_decimal
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ProductOptionError, StorageDataError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

STORAGE_PRODUCT_KEYS = ("account", "destination", "product", "cost_per_gb", "price_per_gb")
PRODUCT = "product"
UNMAPPED_ACCOUNT = "unmapped_account"
UNKNOWN_ACCOUNT = "unknown_account"
UNSPLIT = "unsplit"
KINDS = (PRODUCT, UNMAPPED_ACCOUNT, UNKNOWN_ACCOUNT, UNSPLIT)


# ---------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class StorageProduct:
    """One ``storage_products`` entry, checked. ``None`` rates are not given by this entry."""

    account: str
    product: str
    destination: object = None
    cost_per_gb: object = None
    price_per_gb: object = None
    where: str = ""


@dataclass(frozen=True)
class StorageProductTerms:
    """One storage product over all its entries (rates None: the billing's own rates)."""

    product: str
    cost_per_gb: object
    price_per_gb: object


@dataclass(frozen=True)
class StorageProducts:
    """The checked ``storage_products``: :func:`parse_storage_products` makes it."""

    entries: tuple = ()
    products: tuple = ()

    def terms(self, product):
        for terms in self.products:
            if fold(terms.product) == fold(product):
                return terms
        raise KeyError(product)


def _storage_product(where, entry):
    po.check_keys(entry, where, STORAGE_PRODUCT_KEYS, ("account", "product"))
    return StorageProduct(account=po.text(entry, "account", where),
                          product=po.text(entry, "product", where, max_length=po.PRODUCT_MAX_LENGTH),
                          destination=po.text(entry, "destination", where),
                          cost_per_gb=po.amount(entry, "cost_per_gb", where),
                          price_per_gb=po.amount(entry, "price_per_gb", where), where=where)


def parse_storage_products(entries, name="storage_products"):
    """The ``storage_products`` option -> :class:`StorageProducts`; ProductOptionError naming the entry.

    ``account`` and ``product`` are required; ``destination`` narrows an entry to one destination
    of the account; ``cost_per_gb``/``price_per_gb`` are exact amounts (omitted: the billing's
    rates). One account and destination mapped twice (after folding) is refused, naming both.
    """
    checked = [_storage_product(where, entry) for where, entry in po.entries_of(entries, name)]
    seen = {}
    for entry in checked:
        first = seen.setdefault((fold(entry.account), fold(entry.destination)), entry)
        if first is not entry:
            raise ProductOptionError("%s maps the account %r%s that %s already maps: map each account and "
                                     "destination once" % (entry.where, entry.account, _of_destination(entry),
                                                           first.where))
    merged = po.product_terms(checked, ("cost_per_gb", "price_per_gb"))
    return StorageProducts(entries=tuple(checked), products=tuple(
        StorageProductTerms(terms["product"], terms["cost_per_gb"], terms["price_per_gb"]) for terms in merged.values()))


def _of_destination(entry):
    return " (destination %r)" % entry.destination if entry.destination else ""


# ---------------------------------------------------------------------------
# storage accounts


@dataclass(frozen=True)
class StorageAccount:
    """One account of ``GET api/Accounts``: ``destinations`` are the folded names of each destination."""

    account_id: str
    name: str
    destinations: tuple

    @property
    def label(self):
        return "%s (%s)" % (self.name, self.account_id) if self.name != self.account_id else self.name


def _text_field(raw, key, ref, required=False):
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise StorageDataError("%s.%s: %r is not a string" % (ref, key, value))
    value = (value or "").strip() or None
    if required and value is None:
        raise StorageDataError("%s.%s: is missing or empty" % (ref, key))
    return value


def _destinations(raw, ref):
    destinations = raw.get("Destinations")
    if destinations is None:
        return ()
    if not isinstance(destinations, list):
        raise StorageDataError("%s.Destinations: is %s, not a list" % (ref, type(destinations).__name__))
    names = []
    for index, item in enumerate(destinations):
        where = "%s.Destinations[%d]" % (ref, index)
        if not isinstance(item, dict):
            raise StorageDataError("%s: is %s, not a destination" % (where, type(item).__name__))
        keys = ("Destination", "DestinationDisplayName", "DestinationID")
        names.append(tuple(fold(_text_field(item, key, where)) for key in keys))
    return tuple(names)


def read_accounts(raw_accounts, name="MSP360 storage account"):
    """``GET api/Accounts`` -> ``{fold(AccountID): StorageAccount}``; StorageDataError naming the account."""
    if not isinstance(raw_accounts, (list, tuple)):
        raise StorageDataError("%ss: %s is not a list of accounts" % (name, type(raw_accounts).__name__))
    accounts = {}
    for number, raw in enumerate(raw_accounts, 1):
        ref = "%s %d" % (name, number)
        if not isinstance(raw, dict):
            raise StorageDataError("%s: is %s, not an account" % (ref, type(raw).__name__))
        account_id = _text_field(raw, "AccountID", ref, required=True)
        if fold(account_id) in accounts:
            raise StorageDataError("%s: account %s is listed twice" % (ref, account_id))
        accounts[fold(account_id)] = StorageAccount(
            account_id=account_id, name=_text_field(raw, "DisplayName", ref) or account_id,
            destinations=_destinations(raw, ref))
    return accounts


@dataclass(frozen=True)
class StorageRoutes:
    """Where each account's (and destination's) bytes go: :func:`resolve_storage_products` makes it."""

    accounts: dict
    products: StorageProducts
    by_account: dict = field(default_factory=dict)

    def route(self, account_id, destination):
        """``(kind, key, label, product or None)`` of one detail row's account and destination."""
        account = self.accounts.get(fold(account_id))
        if account is None:
            return UNKNOWN_ACCOUNT, fold(account_id), "unknown account %s" % account_id, None
        entries = self.by_account.get(fold(account_id), ())
        wanted = fold(destination)
        for names, entry in entries:
            if names is not None and wanted is not None and wanted in names:
                return self._product(entry)
        for names, entry in entries:
            if names is None:
                return self._product(entry)
        return UNMAPPED_ACCOUNT, fold(account.account_id), account.label, None

    def _product(self, entry):
        product = self.products.terms(entry.product).product
        return PRODUCT, fold(product), product, product


def _matching_accounts(entry, accounts):
    wanted = fold(entry.account)
    return [account for account in accounts.values() if wanted in (fold(account.account_id), fold(account.name))]


def _route_of(entry, accounts):
    """``(account, destination names or None)`` of one entry; ProductOptionError when it matches none or two."""
    found = _matching_accounts(entry, accounts)
    listed = ", ".join(sorted(account.label for account in accounts.values())) or "none"
    if not found:
        raise ProductOptionError("%s.account %r is no MSP360 storage account (DisplayName or AccountID); the "
                                 "accounts are: %s" % (entry.where, entry.account, listed))
    if len(found) > 1:
        raise ProductOptionError("%s.account %r names %d storage accounts (%s): give the AccountID"
                                 % (entry.where, entry.account, len(found),
                                    ", ".join(sorted(account.label for account in found))))
    account = found[0]
    if entry.destination is None:
        return account, None
    for names in account.destinations:
        if fold(entry.destination) in names:
            return account, names
    raise ProductOptionError("%s.destination %r is not a destination of the storage account %s (it has %s)"
                             % (entry.where, entry.destination, account.label,
                                ", ".join(sorted(n[0] or n[1] or n[2] for n in account.destinations)) or "none"))


def resolve_storage_products(products, accounts):
    """Check ``storage_products`` against ``GET api/Accounts``, before any write -> :class:`StorageRoutes`.

    ProductOptionError for an entry that names no account or several, a destination the account
    lacks, or two entries that name one account and destination in different words.
    """
    if not isinstance(products, StorageProducts):
        raise TypeError("products must be parse_storage_products()'s result")
    known = read_accounts(accounts)
    by_account, first_of = {}, {}
    for entry in products.entries:
        account, names = _route_of(entry, known)
        first = first_of.setdefault((fold(account.account_id), names), entry)
        if first is not entry:
            raise ProductOptionError("%s and %s both map the storage account %s%s: map it once"
                                     % (first.where, entry.where, account.label, _of_destination(entry)))
        by_account.setdefault(fold(account.account_id), []).append((names, entry))
    return StorageRoutes(accounts=known, products=products,
                         by_account=dict((key, tuple(value)) for key, value in by_account.items()))


# ---------------------------------------------------------------------------
# details and the split


def _size(value, where):
    if isinstance(value, bool):
        raise StorageDataError("%s: %r is not a number of bytes" % (where, value))
    try:
        number = to_decimal(0 if value is None else value, where)
    except ValueError as exc:
        raise StorageDataError(str(exc))
    return int(number.to_integral_value(rounding=ROUND_HALF_UP))


def read_details(raw, ref):
    """One ``PUT api/Billing/Details`` answer -> ``[(AccountID, Destination, SizeBackup)]``.

    A null ``UserDetailList`` is no rows; a missing ``SizeBackup`` is 0 bytes. StorageDataError
    names ``ref`` and the field for anything MSP360 does not document.
    """
    if not isinstance(raw, dict):
        raise StorageDataError("%s: is %s, not a DetailModels object" % (ref, type(raw).__name__))
    rows = raw.get("UserDetailList")
    if rows is None:
        return []
    if not isinstance(rows, list):
        raise StorageDataError("%s.UserDetailList: is %s, not a list" % (ref, type(rows).__name__))
    result = []
    for index, row in enumerate(rows):
        where = "%s.UserDetailList[%d]" % (ref, index)
        if not isinstance(row, dict):
            raise StorageDataError("%s: is %s, not a detail row" % (where, type(row).__name__))
        result.append((_text_field(row, "AccountID", where, required=True), _text_field(row, "Destination", where),
                       _size(row.get("SizeBackup"), where + ".SizeBackup")))
    return result


def largest_remainder(total, weights):
    """``total`` whole units split over ``[(key, weight)]`` (weights >= 0, sum > 0) -> ``{key: part}``.

    Each key gets ``floor(total * weight / sum)``; the units left go one each to the largest
    remainders, ties to the key listed first. The parts add up to ``total`` exactly.
    """
    whole = sum(weight for key, weight in weights)
    parts = dict((key, total * weight // whole) for key, weight in weights)
    left = total - sum(parts.values())
    by_remainder = sorted(range(len(weights)), key=lambda index: -(total * weights[index][1] % whole))
    for index in by_remainder[:left]:
        parts[weights[index][0]] += 1
    return parts


def _bucket_order(bucket):
    kind, key = bucket
    return KINDS.index(kind), key or ""


@dataclass(frozen=True)
class StoragePart:
    """Bytes of one bucket: a ``product`` (``product`` set), or usage no product takes (see ``kind``).

    ``size_backup`` is the ``SizeBackup`` the bytes were split by; ``sources`` the ``(AccountID,
    Destination)`` pairs that fed the part, or for ``unsplit`` the user ids.
    """

    kind: str
    label: str
    product: object
    used_bytes: int
    size_backup: int
    sources: tuple


@dataclass(frozen=True)
class StorageSplit:
    """One company's storage by bucket; ``parts`` add up to ``used_bytes`` (:meth:`reconcile`)."""

    company: str
    used_bytes: int
    parts: tuple
    warnings: tuple = ()

    def bytes_of(self, product):
        return sum(part.used_bytes for part in self.parts if part.kind == PRODUCT and fold(part.product) == fold(product))

    def reconcile(self):
        if sum(part.used_bytes for part in self.parts) != self.used_bytes:
            raise StorageDataError("company %r: storage parts add up to %d bytes, not %d"
                                   % (self.company, sum(part.used_bytes for part in self.parts), self.used_bytes))
        return self.used_bytes


class _Buckets:
    """Bytes, weights, labels and sources per bucket, filled user by user."""

    def __init__(self):
        self.bytes, self.weight, self.label, self.product, self.sources = {}, {}, {}, {}, {}

    def add(self, bucket, label, product, used, weight, sources):
        self.bytes[bucket] = self.bytes.get(bucket, 0) + used
        self.weight[bucket] = self.weight.get(bucket, 0) + weight
        self.label.setdefault(bucket, label)
        self.product.setdefault(bucket, product)
        known = self.sources.setdefault(bucket, [])
        known.extend(source for source in sources if source not in known)

    def parts(self):
        return tuple(StoragePart(kind=bucket[0], label=self.label[bucket], product=self.product[bucket],
                                 used_bytes=self.bytes[bucket], size_backup=self.weight[bucket],
                                 sources=tuple(self.sources[bucket]))
                     for bucket in sorted(self.bytes, key=_bucket_order))


def _split_user(buckets, user_id, used, rows, routes):
    """Add one user's ``used`` bytes to ``buckets`` in proportion to its rows; False when nothing to split by."""
    weights, seen = {}, {}
    for account_id, destination, size in rows:
        kind, key, label, product = routes.route(account_id, destination)
        weights[(kind, key)] = weights.get((kind, key), 0) + size
        seen.setdefault((kind, key), (label, product, []))[2].append((account_id, destination))
    if not sum(weights.values()):
        return False
    ordered = sorted(weights.items(), key=lambda item: _bucket_order(item[0]))
    for bucket, part in largest_remainder(used, ordered).items():
        label, product, sources = seen[bucket]
        buckets.add(bucket, label, product, part, weights[bucket], sources)
    return True


def split_storage(company, user_bytes, details, routes):
    """One company's storage -> :class:`StorageSplit`.

    ``user_bytes``: ``{user id: AverageSpace bytes}`` of the company's billing rows (one user's rows
    added up); ``details``: ``{user id: PUT api/Billing/Details answer}`` (user ids fold);
    ``routes``: :func:`resolve_storage_products`' result. A user with bytes whose details are
    missing or all zero goes to the ``unsplit`` bucket, with a warning naming the users.
    """
    answers = dict((fold(user_id), answer) for user_id, answer in (details or {}).items())
    buckets, unsplit = _Buckets(), []
    for user_id, used in sorted(user_bytes.items(), key=lambda item: fold(item[0])):
        if isinstance(used, bool) or not isinstance(used, int) or used < 0:
            raise StorageDataError("company %r user %s: %r is not a number of bytes" % (company, user_id, used))
        answer = answers.get(fold(user_id))
        rows = read_details(answer, "MSP360 billing details of user %s" % user_id) if answer is not None else []
        if used and not _split_user(buckets, user_id, used, rows, routes):
            buckets.add((UNSPLIT, None), "no per-account detail", None, used, 0, [user_id])
            unsplit.append(user_id)
    warnings = ()
    if unsplit:
        warnings = ("company %r: MSP360 gives no per-account usage for user%s %s, so %d bytes are not split by "
                    "storage account" % (company, "s" if len(unsplit) > 1 else "", ", ".join(unsplit),
                                         buckets.bytes[(UNSPLIT, None)]),)
    split = StorageSplit(company=company, used_bytes=sum(user_bytes.values()), parts=buckets.parts(), warnings=warnings)
    split.reconcile()
    return split
