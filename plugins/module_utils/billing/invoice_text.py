# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Invoice text: the ``invoice_description`` template, checked before any write and rendered per line."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import string
from decimal import Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import DEFAULT_UNIT
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import parse_period

TEMPLATE_PLACEHOLDERS = (
    "company", "company_name", "period", "month", "quantity", "unit",
    "unit_price", "total_price", "destinations",
)
PRODUCT_DESCRIPTION = "product"
INVOICE_DESCRIPTION_MAX = 6000


_FORMATTER = string.Formatter()


def _template_fields(template):
    """Field names of ``template``; ValueError on malformed braces or unsafe fields."""
    if not isinstance(template, str):
        raise ValueError("invoice description template must be a string, not %r" % (template,))
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise ValueError("invoice description template has malformed braces (%s); write a literal brace "
                         "as {{ or }}" % exc)
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise ValueError("invoice description template: positional placeholder {%s} is not allowed; "
                             "use one of %s" % (name, _placeholder_list()))
        if conversion is not None:
            raise ValueError("invoice description template: conversion !%s in {%s} is not allowed"
                             % (conversion, name))
        if spec and ("{" in spec or "}" in spec):
            raise ValueError("invoice description template: nested placeholder in {%s:%s} is not allowed"
                             % (name, spec))
        names.append((name, spec))
    return names


def _placeholder_list():
    return ", ".join("{%s}" % p for p in TEMPLATE_PLACEHOLDERS)


def validate_template(template, mode=None):
    """Check an invoice description template before any write.

    ``"product"`` is valid (no description). Otherwise: ValueError naming the unknown
    placeholders; malformed braces; ``{unit_price}``/``{total_price}`` in
    ``quantity_only`` mode (there is no price to show); a format spec that does not
    apply to the value (checked by rendering sample values).
    """
    if template == PRODUCT_DESCRIPTION:
        return template
    fields = _template_fields(template)
    if not template.strip():
        raise ValueError("invoice description template is empty; use %r for the product's description"
                         % PRODUCT_DESCRIPTION)
    unknown = sorted(set(name for name, _spec in fields if name not in TEMPLATE_PLACEHOLDERS))
    if unknown:
        raise ValueError("invoice description template: unknown placeholder%s %s; allowed: %s"
                         % ("s" if len(unknown) > 1 else "", ", ".join("{%s}" % n for n in unknown),
                            _placeholder_list()))
    if mode == "quantity_only":
        priced = sorted(set(n for n, _s in fields if n in ("unit_price", "total_price")))
        if priced:
            raise ValueError("invoice description template uses %s but mode quantity_only sends no price"
                             % ", ".join("{%s}" % n for n in priced))
    sample = dict(company="Acme", company_name="Acme Inc.", period="2026-10", month="October 2026",
                  quantity=Decimal("1.00"), unit=DEFAULT_UNIT, unit_price=Decimal("0.0000"),
                  total_price=Decimal("0.00"), destinations="")
    for name, spec in fields:
        try:
            format(sample[name], spec)
        except ValueError as exc:
            raise ValueError("invoice description template: format {%s:%s} is not valid (%s)" % (name, spec, exc))
    return template


def render_invoice_description(template, line, period, company_name):
    """The ``invoiceDescription`` for ``line``, or None for ``"product"``.

    ValueError when the result exceeds ConnectWise's 6000 characters.
    """
    if template == PRODUCT_DESCRIPTION or template is None:
        return None
    validate_template(template, line.mode)
    period = parse_period(period)
    values = dict(
        company=line.company,
        company_name=company_name if company_name is not None else line.company,
        period=period.label,
        month=period.month_name,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        total_price=line.total_price,
        destinations=", ".join(line.destinations),
    )
    text = template.format(**values)
    if len(text) > INVOICE_DESCRIPTION_MAX:
        raise ValueError("invoice description for company %r is %d characters; ConnectWise accepts at most %d"
                         % (line.company, len(text), INVOICE_DESCRIPTION_MAX))
    return text
