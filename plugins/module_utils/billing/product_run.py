# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A company's bill as several product lines: the lines besides its storage line, for one :class:`run.BillingRun`.

Every line is a :class:`~outcome.CompanyBill` of one product (``kind``): the storage line (the one
line without other products), one line per ``storage_products`` product (the company's storage
split by storage account) and one per ``license_products`` product. From here on the run plans,
checks and applies each line by the same code and rules as storage: one addition per agreement,
product and period, keyed by product.

* Present lines come from the month's data: a company's license count of a product, or its
  storage share on an account's product.
* A company with an agreement gets the lines of every other product too, ``absent`` (no license
  counted, no storage on the account): like a company absent from a complete source, its open
  addition of that product stops. The license sources (the API's snapshot, the usage-history export)
  list every license, and the account split comes from MSP360's complete read, so both are complete.
* A product the customer is not billed for (``companies[X].products``) is never touched; a line of
  it with usage is reported as skipped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.outcome import (
    LICENSE,
    LICENSE_UNIT,
    NO_USAGE,
    SKIP_SET,
    STORAGE,
    STORAGE_ACCOUNT,
    CompanyBill,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.pricing import Pricing
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.product_lines import (
    LICENSE_MODE,
    license_line,
    storage_shares,
    without_total,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.text import shown
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import StorageDataError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.storage_split import split_storage

KIND_ORDER = (STORAGE, STORAGE_ACCOUNT, LICENSE)


def not_chosen(identifier, product):
    return ("product %s is not among the products of company %s (companies[%s].products): it is not billed"
            % (shown(product), shown(identifier), shown(identifier)))


def chosen(config, bill):
    """Whether the customer is billed for the line's product (every product unless it chose some)."""
    return config.products is None or config.products.chooses(bill.identifier, bill.settings.product)


def line_settings(config, identifier, product, kind):
    """The settings of one of a company's product lines: the company's, for ``product``."""
    base, products = config.settings_for(identifier), config.products
    if kind == LICENSE:
        bound, option = products.max_licenses_for(identifier)
        bounds = dataclasses.replace(base.bounds, max_bytes=None, max_licenses=bound, max_licenses_option=option)
        # License lines send no invoice description: ConnectWise prints the product's.
        return dataclasses.replace(base, product=product, mode=LICENSE_MODE, template="product", pricing=Pricing(),
                                   bounds=bounds)
    pricing = products.storage_pricing(identifier, product, base.pricing)[0]
    return dataclasses.replace(base, product=product, pricing=pricing)


def _line(run, identifier, names, records, product, kind, absent=False, **fields):
    config = run.config
    settings = line_settings(config, identifier, product, kind)
    bill = CompanyBill(identifier=identifier, usage_names=sorted(names), records=list(records), settings=settings,
                       period=run.period, unit=LICENSE_UNIT if kind == LICENSE else config.unit, absent=absent,
                       kind=kind, **fields)
    if settings.skip:
        bill.skip(SKIP_SET % identifier)
    elif not config.products.chooses(identifier, product):
        bill.skip(not_chosen(identifier, product))
    return bill


def license_line_of(config, bill):
    """The :class:`~lines.Line` of a license line (its product's catalog item read)."""
    unit_cost, unit_price, included = config.products.license_terms(bill.identifier, bill.settings.product)
    return license_line(bill.identifier, bill.count or 0, unit_cost, unit_price, included, bill.product, bill.unit)


# ---------------------------------------------------------------------------
# present lines


def license_lines(run, counts, spelled):
    """One line per (ConnectWise company, license product) with licenses counted; ``spelled``: identifiers by fold."""
    groups = {}
    for group in counts.billed:
        identifier = run.config.identifier_of(group.company)
        identifier = spelled.get(fold(identifier), identifier)
        entry = groups.setdefault((fold(identifier), fold(group.product)),
                                  {"identifier": identifier, "product": group.product, "names": [], "count": 0})
        if group.company not in entry["names"]:
            entry["names"].append(group.company)
        entry["count"] += group.quantity
    products = run.config.products.licenses
    return [_line(run, entry["identifier"], entry["names"], (), entry["product"], LICENSE, count=entry["count"],
                  license_types=products.terms(entry["product"]).license_types)
            for _key, entry in sorted(groups.items())]


def _split_of(bill, usage):
    """The company's :class:`storage_split.StorageSplit`; ValueError naming the users whose details failed."""
    users = {}
    for record in bill.records:
        if record.user and record.used_bytes:
            users[record.user] = users.get(record.user, 0) + record.used_bytes
    failed = [user for user in users if user in usage.detail_errors]
    if failed:
        raise ValueError("its storage could not be split by storage account: %s; nothing was written for its storage, "
                         "run billing again" % "; ".join(str(usage.detail_errors[user]) for user in failed))
    try:
        return split_storage(bill.identifier, users, usage.details, usage.routes)
    except StorageDataError as exc:
        raise ValueError("its storage could not be split by storage account: %s" % exc)


def split_storage_lines(run, bills, usage):
    """Each company's storage line split into one line per storage-account product (and the rest on the storage product)."""
    lines = []
    for bill in bills:
        if not bill.pending:
            lines.append(bill)  # skip is set: nothing of it is billed, split or not
            continue
        try:
            split = _split_of(bill, usage)
        except ValueError as exc:
            lines.append(bill)
            lines.extend(_failed_account_lines(run, bill, str(exc)))
            bill.fail(str(exc))
            continue
        for share in storage_shares(bill.identifier, bill.records, split, usage.routes, run.config.unit):
            lines.append(_share_line(run, bill, share, split))
    return lines


def _share_line(run, bill, share, split):
    fields = dict(company_bytes=bill.used_bytes, quantity_share=share.used_quantity, accounts=share.accounts)
    if share.product is None:
        line = dataclasses.replace(bill, records=list(share.records), **fields)
    else:
        records = share.records
        own_cost, own_price = run.config.products.storage_pricing(bill.identifier, share.product,
                                                                  bill.settings.pricing)[1:]
        records = without_total(records, "cost") if own_cost else records
        records = without_total(records, "price") if own_price else records
        line = _line(run, bill.identifier, bill.usage_names, records, share.product, STORAGE_ACCOUNT, **fields)
    for warning in split.warnings:
        line.warn(warning)
    return line


def _failed_account_lines(run, bill, reason):
    """Every storage-account line of a company whose split failed: failed, so none of its additions is touched."""
    lines = []
    for terms in run.config.products.storage.products:
        line = _line(run, bill.identifier, bill.usage_names, (), terms.product, STORAGE_ACCOUNT)
        line.fail(reason)
        lines.append(line)
    return lines


# ---------------------------------------------------------------------------
# absent lines, and the result's order


def _product_kinds(config):
    products = config.products
    return ([(terms.product, STORAGE_ACCOUNT) for terms in products.storage.products]
            + [(terms.product, LICENSE) for terms in products.licenses.products])


def absent_lines(run, bills, agreements):
    """The lines of the products a company with an agreement has no line of (see the module docstring).

    ``agreements``: the run's ``{name key: {company key: [rows]}}``.
    """
    if run.config.absent_companies != "cancel":
        return []
    have = set((fold(bill.identifier), fold(bill.settings.product)) for bill in bills)
    companies, lines = {}, []
    for bill in bills:
        if bill.agreement is not None:
            companies.setdefault(fold(bill.identifier), bill.identifier)
    for identifier in companies.values():
        settings = run.config.settings_for(identifier)
        rows = agreements.get(fold(settings.agreement), {}).get(fold(identifier)) or []
        for product, kind in _product_kinds(run.config):
            if (fold(identifier), fold(product)) in have or settings.skip or not rows:
                continue
            line = _line(run, identifier, [], (), product, kind, absent=True, count=0 if kind == LICENSE else None)
            if line.pending:
                run.choose_agreement(line, rows)
            lines.append(line)
    return lines


def shown_in_result(bill, split_companies):
    """Whether a line is part of the month: an absent product line with nothing to stop is not, nor the
    storage product's empty line of a company whose storage is all on its storage-account lines."""
    if bill.kind != STORAGE and bill.absent:
        return bill.action != "skipped"
    if bill.kind == STORAGE and bill.company_bytes and not bill.records:
        return not (bill.action == "skipped" and bill.reason == NO_USAGE and fold(bill.identifier) in split_companies)
    return True


def result_order(bills):
    """Each company's lines together, where its first line was: storage, storage-account products, licenses."""
    position = {}
    for index, bill in enumerate(bills):
        position.setdefault(fold(bill.identifier), index)
    return sorted(bills, key=lambda bill: (position.get(fold(bill.identifier), len(bills)), fold(bill.identifier),
                                           KIND_ORDER.index(bill.kind), fold(bill.settings.product)))


def distinct(identifiers):
    """The identifiers once each (folded), in order: a company with several product lines is one company."""
    seen = {}
    for identifier in identifiers:
        seen.setdefault(fold(identifier), identifier)
    return list(seen.values())


def by_agreement(bills):
    """The lines of each agreement together (one company's products), in order."""
    groups = {}
    for bill in bills:
        groups.setdefault(bill.agreement["id"], []).append(bill)
    return list(groups.values())


def by_product(bills):
    """The lines of each product together, in order."""
    groups = {}
    for bill in bills:
        groups.setdefault(fold(bill.settings.product), []).append(bill)
    return list(groups.values())
