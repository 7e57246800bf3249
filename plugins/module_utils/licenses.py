# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MSP360 licenses -> how many of each product each company is billed for a month. Pure, no I/O.

``GET api/Licenses`` answers the licenses as they are at the time of the call (there is no
activation history in the API): the count is a snapshot at run time. A license carries no
company: its company is its user's (``GET api/Users`` -> ``Company``, a name).

Which licenses count, and why the others do not
    Every license read ends in exactly one bucket: counted for (company, product), or not billed
    for the *first* of these reasons, in this order (:data:`API_REASONS`):

    1. ``trial``: ``IsTrial`` is true (the vendor bills no trial);
    2. ``expired``: ``DateExpired`` is before the period's first day (a license expiring on the
       first day or later was valid when the period began, and counts);
    3. ``unassigned``: no ``UserID`` (a pool license, the MSP's, not a customer's);
    4. ``not_taken``: ``IsTaken`` is false (granted to a user, in use on no computer);
    5. ``unknown_user``: ``UserID`` is not one of ``GET api/Users``;
    6. ``no_company``: the user has no company;
    7. ``unmapped_type``: no ``license_products`` entry maps the ``LicenseType``.

    The license's own state comes first, then its link to a customer, then the configuration,
    so ``unmapped_type`` holds exactly the licenses that would be billed if their type were
    mapped: that is what ``unmapped_license_types: fail`` refuses
    (:func:`license_counts.check_unmapped_license_types`), and a free trial of a type nobody bills does not.

Dates
    ``DateExpired`` is read as the calendar date it is written with (``2026-08-28T23:30:00+02:00``
    is 28 August): MSP360 writes UTC (``+00:00``), and a period is a calendar month. .NET's empty
    date (year 1) is no date.

Matching
    ``LicenseType`` matches an entry's ``license_type``, user ids and company names match, after
    :func:`identity.fold` (case and spacing never tell two apart).

The result is a :class:`license_counts.LicenseCounts`, the shape the usage-history export gives too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
from dataclasses import dataclass, field

from ansible_collections.mbs.connectwise.plugins.module_utils import license_counts as lc
from ansible_collections.mbs.connectwise.plugins.module_utils import product_options as po
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import parse_period
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import LicenseDataError, ProductOptionError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

API_REASONS = (lc.TRIAL, lc.EXPIRED, lc.UNASSIGNED, lc.NOT_TAKEN, lc.UNKNOWN_USER, lc.NO_COMPANY, lc.UNMAPPED_TYPE)
LICENSE_PRODUCT_KEYS = ("license_type", "product", "unit_cost", "unit_price", "included")


# ---------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class LicenseProduct:
    """One ``license_products`` entry, checked. ``None`` terms are not given by this entry."""

    license_type: str
    product: str
    unit_cost: object = None
    unit_price: object = None
    included: object = None
    where: str = ""


@dataclass(frozen=True)
class ProductTerms:
    """One license product: its terms over all its entries (cost/price None = the catalog item's)."""

    product: str
    unit_cost: object
    unit_price: object
    included: int
    license_types: tuple


@dataclass(frozen=True)
class LicenseProducts:
    """The checked ``license_products``: :func:`parse_license_products` makes it."""

    entries: tuple = ()
    products: tuple = ()
    _by_type: dict = field(default_factory=dict, repr=False, compare=False)

    def entry_for(self, license_type):
        """The entry mapping ``license_type`` (folded), or None."""
        return self._by_type.get(fold(license_type))

    def terms(self, product):
        """The :class:`ProductTerms` of ``product`` (folded); KeyError for a product no entry names."""
        for terms in self.products:
            if fold(terms.product) == fold(product):
                return terms
        raise KeyError(product)


def _license_product(where, entry):
    po.check_keys(entry, where, LICENSE_PRODUCT_KEYS, ("license_type", "product"))
    return LicenseProduct(
        license_type=po.text(entry, "license_type", where),
        product=po.text(entry, "product", where, max_length=po.PRODUCT_MAX_LENGTH),
        unit_cost=po.amount(entry, "unit_cost", where, unit_places=True),
        unit_price=po.amount(entry, "unit_price", where, unit_places=True),
        included=po.whole_number(entry, "included", where),
        where=where)


def parse_license_products(entries, name="license_products"):
    """The ``license_products`` option -> :class:`LicenseProducts`; ProductOptionError naming the entry.

    Each entry maps one ``license_type`` to a catalog ``product`` (both required); ``unit_cost``
    and ``unit_price`` are exact amounts with at most 4 decimals (omitted: the catalog item's),
    ``included`` a whole number >= 0 (the addition's ``lessIncluded``; 0 when no entry gives it).
    A type mapped twice (after folding) is refused, naming both entries.
    """
    checked = [_license_product(where, entry) for where, entry in po.entries_of(entries, name)]
    by_type = {}
    for entry in checked:
        first = by_type.setdefault(fold(entry.license_type), entry)
        if first is not entry:
            raise ProductOptionError(
                "%s.license_type %r maps the license type %s.license_type %r already maps (types match "
                "case-insensitively): map each license type once" % (entry.where, entry.license_type, first.where,
                                                                     first.license_type))
    merged = po.product_terms(checked, ("unit_cost", "unit_price", "included"))
    products = tuple(ProductTerms(product=terms["product"], unit_cost=terms["unit_cost"],
                                  unit_price=terms["unit_price"], included=terms["included"] or 0,
                                  license_types=tuple(e.license_type for e in checked
                                                      if fold(e.product) == key))
                     for key, terms in merged.items())
    return LicenseProducts(entries=tuple(checked), products=products, _by_type=by_type)


# ---------------------------------------------------------------------------
# MSP360 dates

# .NET's JSON date of old serialisers: /Date(1787914021092)/ or /Date(1787914021092+0200)/.
_DOTNET_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_msp360_date(value, where):
    """An MSP360 date-time (``2026-08-28T11:07:01.0922535+00:00``, ``...Z``, ``2026-08-28``) -> date.

    ``None``, ``""`` and .NET's empty date (year 1) are None; anything else that is not a date is a
    LicenseDataError naming ``where`` and the value.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise LicenseDataError("%s: %r is not a date-time" % (where, value))
    text = value.strip()
    dotnet = _DOTNET_DATE.match(text)
    if dotnet:
        offset = dotnet.group(2) or "+0000"
        minutes = (1 if offset[0] == "+" else -1) * (int(offset[1:3]) * 60 + int(offset[3:]))
        moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=int(dotnet.group(1)), minutes=minutes)
        return moment.date()
    try:
        day = datetime.datetime.fromisoformat(text).date()
    except ValueError:
        raise LicenseDataError("%s: %r is not a date-time such as 2026-08-28T11:07:01+00:00" % (where, value))
    return None if day.year == 1 else day


# ---------------------------------------------------------------------------
# MSP360 licenses and users


@dataclass(frozen=True)
class License:
    """One ``License`` of ``GET api/Licenses``, checked. ``ref`` names it in messages."""

    ref: str
    license_id: str
    number: object
    license_type: object
    is_trial: bool
    is_taken: bool
    expires: object
    user_id: object
    user: object
    computer: object


@dataclass(frozen=True)
class MSPUser:
    """The part of a ``GET api/Users`` user that licenses need: its company name (None when it has none)."""

    user_id: str
    email: object
    company: object


def _optional_text(raw, key, ref):
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise LicenseDataError("%s.%s: %r is not a string" % (ref, key, value))
    return value.strip() or None


def _flag(raw, key, ref):
    value = raw.get(key)
    if not isinstance(value, bool):
        raise LicenseDataError("%s.%s: %r is not true or false" % (ref, key, value))
    return value


def read_license(raw, ref):
    """One ``License`` object -> :class:`License`; LicenseDataError naming ``ref`` and the field."""
    if isinstance(raw, License):
        return raw
    if not isinstance(raw, dict):
        raise LicenseDataError("%s: is %s, not a License object" % (ref, type(raw).__name__))
    license_id = _optional_text(raw, "ID", ref)
    if license_id is None:
        raise LicenseDataError("%s.ID: is missing or empty" % ref)
    number = raw.get("Number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        raise LicenseDataError("%s.Number: %r is not a whole number" % (ref, number))
    return License(ref="%s (ID %s)" % (ref, license_id), license_id=license_id, number=number,
                   license_type=_optional_text(raw, "LicenseType", ref),
                   is_trial=_flag(raw, "IsTrial", ref), is_taken=_flag(raw, "IsTaken", ref),
                   expires=parse_msp360_date(raw.get("DateExpired"), "%s.DateExpired" % ref),
                   user_id=_optional_text(raw, "UserID", ref), user=_optional_text(raw, "User", ref),
                   computer=_optional_text(raw, "ComputerName", ref))


def read_licenses(raw_licenses, name="MSP360 license"):
    """The licenses (a list) -> [:class:`License`]; refs ``"MSP360 license 3"`` (from 1). One ID twice is refused."""
    if not isinstance(raw_licenses, (list, tuple)):
        raise LicenseDataError("%ss: %s is not a list of License objects" % (name, type(raw_licenses).__name__))
    licenses = [read_license(raw, "%s %d" % (name, number)) for number, raw in enumerate(raw_licenses, 1)]
    seen = {}
    for item in licenses:
        first = seen.setdefault(fold(item.license_id), item)
        if first is not item:
            raise LicenseDataError("%s is %s again: each license must be listed once" % (item.ref, first.ref))
    return licenses


def read_users(raw_users, name="MSP360 user"):
    """``GET api/Users`` -> ``{fold(ID): MSPUser}``; LicenseDataError for a user without ID or listed twice."""
    if not isinstance(raw_users, (list, tuple)):
        raise LicenseDataError("%ss: %s is not a list of users" % (name, type(raw_users).__name__))
    users = {}
    for number, raw in enumerate(raw_users, 1):
        ref = "%s %d" % (name, number)
        if not isinstance(raw, dict):
            raise LicenseDataError("%s: is %s, not a user object" % (ref, type(raw).__name__))
        user_id = _optional_text(raw, "ID", ref)
        if user_id is None:
            raise LicenseDataError("%s.ID: is missing or empty" % ref)
        if fold(user_id) in users:
            raise LicenseDataError("%s: user %s is listed twice" % (ref, user_id))
        users[fold(user_id)] = MSPUser(user_id=user_id, email=_optional_text(raw, "Email", ref),
                                       company=_optional_text(raw, "Company", ref))
    return users


# ---------------------------------------------------------------------------
# counting


def _classify(item, user, products, period):
    """The reason ``item`` (a checked :class:`License` of ``user``) is not billed, or None; in precedence order."""
    if item.is_trial:
        return lc.TRIAL
    if item.expires is not None and item.expires < period.first_day:
        return lc.EXPIRED
    if item.user_id is None:
        return lc.UNASSIGNED
    if not item.is_taken:
        return lc.NOT_TAKEN
    if user is None:
        return lc.UNKNOWN_USER
    if user.company is None:
        return lc.NO_COMPANY
    if products.entry_for(item.license_type) is None:
        return lc.UNMAPPED_TYPE
    return None


def count_licenses(licenses, users, period, products):
    """MSP360 licenses -> :class:`license_counts.LicenseCounts` for ``period``.

    ``licenses``: ``GET api/Licenses`` (dicts, or :class:`License`); ``users``: ``GET api/Users``;
    ``period``: ``YYYY-MM`` or Period; ``products``: :func:`parse_license_products`' result.
    LicenseDataError names a license or user that is not what MSP360 documents.
    """
    if not isinstance(products, LicenseProducts):
        raise TypeError("products must be parse_license_products()'s result")
    period = parse_period(period)
    known_users = read_users(users)
    classified = []
    for item in read_licenses(licenses):
        user = known_users.get(fold(item.user_id)) if item.user_id else None
        reason = _classify(item, user, products, period)
        product = None if reason else products.terms(products.entry_for(item.license_type).product).product
        classified.append((lc.LicenseItem(ref=item.ref, license_type=item.license_type,
                                          company=user.company if user else None,
                                          user=item.user or (user.email if user else None), endpoint=item.computer,
                                          license_id=item.license_id, number=item.number), reason, product))
    return lc.tally(period, "MSP360 licenses of %s (a snapshot at run time)" % period, classified, API_REASONS)
