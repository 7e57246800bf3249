# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The customer record: the one declaration of a customer that the setup and billing roles read.

A customer is an entry of ``connectwise_customers`` (a company identifier, or a record) or a host
of ``connectwise_customers_group`` (its name the identifier, its variables the record's keys).
Both are checked here, once, by ansible-core's argument-spec validator against
:data:`CUSTOMER_SPEC`; the roles' filters only call :func:`customer_records`.

A record in ``connectwise_customers`` is all customer data, so any other key is an error. A host's
variables also hold what Ansible, AWX (``awx_*``/``tower_*`` job variables), an inventory plugin
(``compose:`` results) and group variables put there: only the documented keys are read, and a
variable close to one of them (``bil``, ``price_per_gib``) is an error saying which key was meant.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import difflib

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.lines import MODES
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import to_decimal
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import CustomerError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

DATE_KEYS = ("start_date", "bill_start_date", "end_date")
RATE_KEYS = ("price_per_gb", "cost_per_gb")
# The documented keys of a customer record, in the order the roles' documentation lists them.
CUSTOMER_KEYS = ("identifier", "mbs_company", "bill", "start_date", "bill_start_date", "end_date", "contact",
                 "price_per_gb", "cost_per_gb", "cost_mode", "invoice_description", "products", "product_prices")
# The keys the billing module takes as the customer's overrides (its ``companies`` entry).
BILLING_OVERRIDE_KEYS = RATE_KEYS + ("cost_mode", "invoice_description", "products", "product_prices")
# A product's own prices (the vendor's per-company billing configuration): a license product's unit
# price, unit cost and included licenses, a storage-account product's rates per billing unit. The
# billing module checks which of them fit the product.
PRODUCT_PRICE_KEYS = ("unit_price", "unit_cost", "included", "price_per_gb", "cost_per_gb")
# ConnectWise's catalog item identifier.
PRODUCT_MAX_LENGTH = 75
# Host variables that are never customer data, so never taken for a misspelt key either: Ansible's,
# the roles' own settings, AWX's job variables (awx_job_id, tower_user_name...) and molecule's.
FOREIGN_PREFIXES = ("ansible_", "connectwise_", "billing_", "awx_", "tower_", "molecule_", "__")
# How alike a host variable and a customer key must be to be taken for a typo (difflib's ratio):
# bil/bill 0.86 and price_per_gib/price_per_gb 0.96 are typos; contact_email/contact 0.70 is not.
TYPO_CUTOFF = 0.8


def calendar_date(value):
    """A calendar date written ``YYYY-MM-DD`` (as text), else ValueError naming the value."""
    text = to_text(value).strip()
    try:
        parsed = datetime.datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        parsed = None
    if parsed is None or parsed.isoformat() != text:
        raise ValueError('"%s" is not a date in the form YYYY-MM-DD (a calendar date)' % to_text(value))
    return text


def date_problem(value, where):
    """The message for a value that is not a calendar date written YYYY-MM-DD, else None."""
    try:
        calendar_date(value)
    except ValueError:
        return '%s is "%s", not a date in the form YYYY-MM-DD (a calendar date)' % (where, to_text(value))
    return None


def rate(value):
    """A rate per billing unit as its exact decimal text, read as the billing module reads its rates.

    :func:`billing.numbers.to_decimal`: a float through its shortest text (0.06), no boolean, finite.
    """
    try:
        number = to_decimal(value, "rate", allow_negative=True)
    except ValueError:
        raise ValueError('%r is not a rate such as "0.06"' % (value,))
    if number < 0:
        raise ValueError("%r: a rate must be zero or more" % (value,))
    return str(number)


def company_identifier(value):
    """The ConnectWise company identifier: non-empty text (a YAML number is its text)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not to_text(value).strip():
        raise ValueError("%r is not a ConnectWise company identifier (company/companies identifier)" % (value,))
    return to_text(value).strip()


def company_names(value):
    """MSP360 company names: one name or a list. Never split at commas, which company names contain."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n.strip() for n in names):
        raise ValueError("%r is not an MSP360 company name (or a list of names)" % (value,))
    return [n.strip() for n in names]


def product_names(value):
    """The catalog items a customer is billed for: a list of product identifiers (one name alone is a list of one)."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not names or not all(
            isinstance(n, str) and n.strip() and len(n.strip()) <= PRODUCT_MAX_LENGTH for n in names):
        raise ValueError("%r is not a list of catalog item identifiers (at most %d characters each)"
                         % (value, PRODUCT_MAX_LENGTH))
    return [n.strip() for n in names]


def _included(value, where):
    text = to_text(value).strip()
    if isinstance(value, bool) or not text.isdigit():
        raise ValueError("%s: %r is not a whole number of licenses" % (where, value))
    return int(text)


def product_prices(value):
    """``{product: {unit_price, unit_cost, included, price_per_gb, cost_per_gb}}``: amounts as exact decimal text."""
    if not isinstance(value, dict):
        raise ValueError("%r is not a mapping of product identifier to its prices" % (value,))
    checked = {}
    for product, prices in value.items():
        where = "product_prices[%s]" % to_text(product)
        if not isinstance(prices, dict) or not prices:
            raise ValueError("%s must be a mapping with some of %s" % (where, ", ".join(PRODUCT_PRICE_KEYS)))
        unknown = sorted(to_text(key) for key in prices if key not in PRODUCT_PRICE_KEYS)
        if unknown:
            raise ValueError("%s: unknown key %s; the allowed keys are %s"
                             % (where, ", ".join(unknown), ", ".join(PRODUCT_PRICE_KEYS)))
        checked[product_names(product)[0]] = dict(
            (key, _included(amount, where + ".included") if key == "included" else rate(amount))
            for key, amount in prices.items() if amount is not None)
    return checked


def contact_reference(value):
    """A contact id or a "First Last" name among the company's contacts."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError('%r is not a contact id or a "First Last" name' % (value,))
    return value


CUSTOMER_SPEC = dict(
    identifier=dict(type=company_identifier, required=True),
    mbs_company=dict(type=company_names, default=[]),
    bill=dict(type="bool", default=True),
    start_date=dict(type=calendar_date),
    bill_start_date=dict(type=calendar_date),
    end_date=dict(type=calendar_date),
    contact=dict(type=contact_reference),
    price_per_gb=dict(type=rate),
    cost_per_gb=dict(type=rate),
    cost_mode=dict(type="str", choices=list(MODES)),
    invoice_description=dict(type="str"),
    products=dict(type=product_names),
    product_prices=dict(type=product_prices),
)
_VALIDATOR = ArgumentSpecValidator(CUSTOMER_SPEC)


def _allowed():
    return ", ".join(CUSTOMER_KEYS)


def _meant(key):
    """The customer key ``key`` is a typo of, or None."""
    close = difflib.get_close_matches(key, CUSTOMER_KEYS, n=1, cutoff=TYPO_CUTOFF)
    return close[0] if close else None


def _unknown_keys_message(keys):
    described = []
    for key in sorted(keys):
        meant = _meant(key)
        described.append("%s (did you mean %s?)" % (key, meant) if meant else key)
    return "unknown key%s %s; the allowed keys are %s" % ("s" if len(keys) > 1 else "", ", ".join(described), _allowed())


def validate(raw, where):
    """One checked record with every documented key (None when not given) and ``where``; CustomerError."""
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        raw = {"identifier": raw}
    if not isinstance(raw, dict):
        raise CustomerError("%s must be a company identifier or a record with the keys %s, got %r"
                            % (where, _allowed(), raw))
    # An empty value is a key not given (a YAML "price_per_gb:" with nothing after it).
    given = dict((to_text(key), value) for key, value in raw.items() if value not in (None, "", []))
    try:
        who = "customer %r (%s)" % (company_identifier(given.get("identifier")), where)
    except ValueError:
        raise CustomerError("%s needs an identifier (the ConnectWise company identifier, a non-empty string), got %r"
                            % (where, raw.get("identifier")))
    unknown = [key for key in given if key not in CUSTOMER_SPEC]
    if unknown:
        raise CustomerError("%s: %s" % (who, _unknown_keys_message(unknown)))
    result = _VALIDATOR.validate(given)
    if result.error_messages:
        raise CustomerError("%s: %s" % (who, "; ".join(result.error_messages)))
    record = dict((key, result.validated_parameters.get(key)) for key in CUSTOMER_KEYS)
    record["where"] = where
    return record


def host_customer(name, variables):
    """The record of the inventory host ``name`` from its variables: only the documented keys.

    Variables close to a documented key are refused (a misspelt ``bil: false`` would otherwise bill
    a customer meant to be skipped); any other variable is someone else's and is left alone.
    """
    raw = {"identifier": name}
    typos = []
    for key in variables.keys():
        key = to_text(key)
        if key in CUSTOMER_SPEC:
            raw[key] = variables[key]
        elif not key.startswith(FOREIGN_PREFIXES) and _meant(key):
            typos.append(key)
    where = "inventory host %s" % name
    if typos:
        raise CustomerError("customer %r (%s): %s" % (to_text(raw["identifier"]), where, _unknown_keys_message(typos)))
    return validate(raw, where)


def customer_records(entries, hosts=()):
    """Every customer checked: ``entries`` (``connectwise_customers``) then ``hosts`` (``[(name, variables)]``).

    Also refused: a customer declared twice (identifiers compared by :func:`identity.fold`) and an
    MSP360 company given to two customers.
    """
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise CustomerError("connectwise_customers must be a list of company identifiers or records, got %r"
                            % (entries,))
    records = [validate(raw, "connectwise_customers[%d]" % index) for index, raw in enumerate(entries)]
    records.extend(host_customer(to_text(name), variables) for name, variables in hosts)
    seen = {}
    for record in records:
        other = seen.setdefault(fold(record["identifier"]), record)
        if other is not record:
            raise CustomerError("customer %r (%s) is declared twice (also %s); identifiers match case-insensitively%s"
                                % (record["identifier"], record["where"], other["where"], _twice_hint(record, other)))
    names = {}
    for record in records:
        for name in record["mbs_company"]:
            other = names.setdefault(fold(name), record["identifier"])
            if other != record["identifier"]:
                raise CustomerError("MSP360 company %r is the mbs_company of both %r and %r"
                                    % (name, other, record["identifier"]))
    return records


def _twice_hint(record, other):
    if record["where"].startswith("inventory host") != other["where"].startswith("inventory host"):
        return (". A host of connectwise_customers_group needs no entry in connectwise_customers: give its keys "
                "as host variables")
    return ""
