# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the products besides storage read: license counts and storage per account, before any ConnectWise write.

MSP360 requests (one login per run is the client's), beside the storage billing's companies and
billing reads:

* licenses from the API: ``GET api/Users`` and ``GET api/Licenses``, once each. The users answer
  serves the licenses' companies and the ``{destinations}`` placeholder alike, so it is read once
  (:func:`read_users` before the usage). A run with ``license_products`` and without
  ``storage_products`` makes 5 MSP360 requests: login, companies, billing, users, licenses.
* licenses from the usage-history export (``license_history_file``): no request; the file is read
  before any request.
* ``storage_products``: ``GET api/Accounts`` once, then ``PUT api/Billing/Details`` once per user with
  usage in the month (``AverageSpace > 0``), ``parallel`` at a time.

``unmapped_license_types: fail`` refuses here, before ConnectWise is read or written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses

from ansible_collections.mbs.connectwise.plugins.module_utils import license_counts as lc
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.config import MAX_PARALLEL, checked
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.text import shown
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError, ProductOptionError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.license_history import read_license_history
from ansible_collections.mbs.connectwise.plugins.module_utils.licenses import count_licenses
from ansible_collections.mbs.connectwise.plugins.module_utils.msp360_products import ProductReads
from ansible_collections.mbs.connectwise.plugins.module_utils.storage_split import resolve_storage_products


@dataclasses.dataclass
class ProductUsage:
    """The month's license counts (None without ``license_products``) and what splits storage by account.

    ``details``/``detail_errors``: each user's ``PUT api/Billing/Details`` answer or failure (by user id);
    ``routes``: the checked ``storage_products`` (None without them).
    """

    licenses: object = None
    details: dict = dataclasses.field(default_factory=dict)
    detail_errors: dict = dataclasses.field(default_factory=dict)
    routes: object = None
    warnings: list = dataclasses.field(default_factory=list)

    def check_unmapped(self, policy):
        """Before any write: the warnings of license types no entry maps, or UnmappedLicenseTypes (``fail``)."""
        return [] if self.licenses is None else lc.check_unmapped_license_types(self.licenses, policy)

    def summary(self, identifier_of):
        """The module's ``licenses`` result: the counts read and how they reconcile (None without licenses).

        ``identifier_of(name)``: the ConnectWise identifier of an MSP360 company name (the run's company map).
        """
        counts = self.licenses
        if counts is None:
            return None
        read, counted, not_billed = counts.reconcile()
        return {"source": counts.source, "read": read, "counted": counted, "not_billed": not_billed,
                "not_billed_by_reason": dict((bucket.reason, bucket.count) for bucket in counts.not_billed),
                "reasons": dict((bucket.reason, lc.REASON_TEXT[bucket.reason]) for bucket in counts.not_billed),
                "unmapped_types": dict((name, len(items)) for name, items in lc.unmapped_types(counts).items()),
                "not_billed_by_company": _not_billed_by_company(counts, identifier_of)}


def _not_billed_by_company(counts, identifier_of):
    """``[{company, usage_company, reasons: {reason: count}}]`` of the licenses not billed, by MSP360 company.

    Licenses of no company (a pool, a user without one or unknown) are one entry whose company is None.
    """
    found = {}
    for bucket in counts.not_billed:
        for item in bucket.items:
            entry = found.setdefault(fold(item.company), {
                "company": shown(identifier_of(item.company)) if item.company else None,
                "usage_company": shown(item.company), "reasons": {}})
            entry["reasons"][bucket.reason] = entry["reasons"].get(bucket.reason, 0) + 1
    return [found[key] for key in sorted(found, key=lambda key: (key is None, key or ""))]


def licenses_from_the_api(config):
    products = config.products
    return products is not None and products.bills_licenses and not products.license_history_file


def wants_users(config):
    """Whether the run reads ``GET api/Users``: for the licenses' companies, or the ``{destinations}`` placeholder."""
    return licenses_from_the_api(config) or any("{destinations}" in (s.template or "") for s in config.all_settings)


def read_users(config, mbs):
    """``GET api/Users`` once, when the run needs it (None otherwise)."""
    return ProductReads(mbs).users() if mbs is not None and wants_users(config) else None


def read_history(config):
    """The license counts of the usage-history export (no request), or None; InputError naming the file."""
    products = config.products
    if products is None or not products.license_history_file:
        return None
    return checked(read_license_history, products.license_history_file, config.period, products.licenses,
                   config.names("license_history_file"), products.license_history_date_order)


def _users_with_usage(records):
    users = []
    for record in records:
        if record.user and record.used_bytes > 0 and record.user not in users:
            users.append(record.user)
    return users


def _storage_split(config, mbs, records, usage):
    reads = ProductReads(mbs)
    try:
        usage.routes = resolve_storage_products(config.products.storage, reads.accounts())
    except ProductOptionError as exc:
        raise InputError("%s. Nothing was sent to ConnectWise." % exc)
    read = reads.billing_details_many(_users_with_usage(records), config.period,
                                      parallel=min(config.parallel, MAX_PARALLEL))
    usage.details, usage.detail_errors = read.details, read.errors


def load_product_usage(config, mbs, users, records, history=None):
    """The run's :class:`ProductUsage`: the MSP360 reads the product options need (none without them).

    ``users``: :func:`read_users`' answer; ``history``: :func:`read_history`'s counts. MBSError when
    MSP360 cannot be read, InputError for configuration MSP360's answers refute (an account no
    storage account is), UnmappedLicenseTypes for ``unmapped_license_types: fail``.
    """
    usage, products = ProductUsage(), config.products
    if products is None:
        return usage
    if history is not None:
        usage.licenses = history
    elif products.bills_licenses:
        usage.licenses = count_licenses(ProductReads(mbs).licenses(), users, config.period, products.licenses)
    if products.splits_storage:
        _storage_split(config, mbs, records, usage)
    return usage
