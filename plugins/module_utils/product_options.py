# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks shared by the product mappings (``license_products``, ``storage_products``).

Each mapping is a list of entries (mappings) that a billing administrator writes by hand in
YAML; every error names the entry and the key (``license_products[2].unit_price``) and says
what to write instead. No I/O.

One product may be named by several entries (two license types billed as one product, two
storage accounts billed as one). The product's terms (price, cost, included quantity) are then
those its entries give: an entry that omits a term takes it from the others, and two entries
that give different values are refused (:func:`product_terms`), since one ConnectWise addition
has one unit price.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import UNIT_STEP, to_decimal
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ProductOptionError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

# ConnectWise's catalog item identifier (CatalogItem.identifier, connectwise-api.md).
PRODUCT_MAX_LENGTH = 75


def entries_of(entries, name):
    """``[(where, entry)]`` of a mapping option (``None`` is no entries); the option must be a list."""
    if entries is None:
        return []
    if not isinstance(entries, (list, tuple)):
        raise ProductOptionError("%s must be a list of entries, not %s" % (name, type(entries).__name__))
    return [("%s[%d]" % (name, index), entry) for index, entry in enumerate(entries)]


def check_keys(entry, where, allowed, required):
    """The entry is a mapping with only ``allowed`` keys and every ``required`` one.

    An unknown key is named with the nearest allowed one ("did you mean 'unit_price'?"), since
    a misspelt optional key would otherwise be silently left out of the bill.
    """
    if not isinstance(entry, dict):
        raise ProductOptionError("%s must be a mapping with the keys %s, not %s"
                                 % (where, ", ".join(allowed), type(entry).__name__))
    for key in sorted(entry, key=str):
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        hint = "did you mean %r? " % close[0] if close else ""
        raise ProductOptionError("%s: unknown key %r; %sallowed: %s" % (where, key, hint, ", ".join(allowed)))
    for key in required:
        if entry.get(key) is None:
            raise ProductOptionError("%s.%s is required" % (where, key))


def text(entry, key, where, max_length=None):
    """A non-empty text value (a YAML number is its text), stripped; None when not given."""
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ProductOptionError("%s.%s: %r is not a text" % (where, key, value))
    value = str(value).strip()
    if not value:
        raise ProductOptionError("%s.%s is empty" % (where, key))
    if max_length is not None and len(value) > max_length:
        raise ProductOptionError("%s.%s: %r is longer than %d characters (ConnectWise's limit)"
                                 % (where, key, value, max_length))
    return value


def amount(entry, key, where, unit_places=False):
    """A non-negative exact Decimal (strings and numbers alike), or None when not given.

    ``unit_places`` refuses more decimals than ConnectWise keeps on a unit cost or price (4):
    it would round them, and the invoice would no longer be the amount configured.
    """
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, str) and not value.strip():
        raise ProductOptionError("%s.%s is empty: give an amount or leave the key out" % (where, key))
    try:
        number = to_decimal(value, "%s.%s" % (where, key))
    except ValueError as exc:
        raise ProductOptionError(str(exc))
    if unit_places and number != number.quantize(UNIT_STEP):
        raise ProductOptionError("%s.%s: %r has more than 4 decimals, which ConnectWise would round; give at most 4"
                                 % (where, key, value))
    return number


def whole_number(entry, key, where, default=None):
    """A whole number >= 0 (``3``, ``"3"``, ``3.0``), or ``default`` when not given."""
    value = entry.get(key)
    if value is None:
        return default
    try:
        number = to_decimal(value, "%s.%s" % (where, key))
    except ValueError as exc:
        raise ProductOptionError("%s; give a whole number of 0 or more" % exc)
    if number != number.to_integral_value():
        raise ProductOptionError("%s.%s: %r is not a whole number" % (where, key, value))
    return int(number)


def product_terms(entries, terms):
    """``{fold(product): {term: value}}`` over entries with ``product``, ``where`` and the ``terms``.

    The product is spelled as its first entry spells it (``"product"`` in the result). A term
    given by one entry of a product applies to the product; a term two entries give differently
    is refused, naming both entries.
    """
    merged = {}
    for entry in entries:
        key = fold(entry.product)
        known = merged.setdefault(key, {"product": entry.product, "given_by": {}})
        for term in terms:
            value = getattr(entry, term)
            if value is None:
                continue
            first = known["given_by"].get(term)
            if first is not None and known[term] != value:
                raise ProductOptionError(
                    "%s.%s is %s but %s gives product %r the %s %s: one product has one %s; give it on one "
                    "entry, or the same on each" % (entry.where, term, value, first, known["product"], term,
                                                    known[term], term))
            known[term] = value
            known["given_by"].setdefault(term, entry.where)
    for known in merged.values():
        for term in terms:
            known.setdefault(term, None)
        del known["given_by"]
    return merged
