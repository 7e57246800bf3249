# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The billing module's options, checked before any request: :func:`build_config` -> :class:`Config`.

The module's argument spec has already checked types, choices and defaults; this checks what it
cannot say (dates and periods, money and the safety bounds, templates, per-company overrides,
ranges) and says which option holds the bad value and what the value is. Money and the numeric
safety options are taken as text (or numbers) and parsed here, so a message always names the
value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses
import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.invoice_text import validate_template
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.lines import MODES
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import to_decimal
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import (
    auto_billing_period,
    check_period_ended,
    parse_period,
    previous_period,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.pricing import Pricing
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.text import shown
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

OUTSIDE_WINDOW = "outside the auto-billing window"
MAX_PARALLEL = 16
ZERO_USAGE_CORRECTIONS = ("remove", "zero")

# The safety bounds' defaults (documented in the module): a company above 1 PiB in a month, or above
# ten times its previous billed month, is far more likely a wrong number than a customer.
DEFAULT_MAX_COMPANY_USAGE = "1 PiB"
DEFAULT_MAX_GROWTH = "10"
DEFAULT_MASS_CHANGE_SHARE = "0.1"

BYTE_UNITS = {
    "B": 1, "KB": 10 ** 3, "MB": 10 ** 6, "GB": 10 ** 9, "TB": 10 ** 12, "PB": 10 ** 15,
    "KIB": 2 ** 10, "MIB": 2 ** 20, "GIB": 2 ** 30, "TIB": 2 ** 40, "PIB": 2 ** 50,
}
_SIZE = re.compile(r"^\s*([0-9.eE+]+)\s*([A-Za-z]*)\s*$")

# Per-company overrides (option ``companies``), validated with Ansible's own engine.
COMPANY_OVERRIDE_SPEC = dict(
    agreement=dict(type="str"),
    product=dict(type="str"),
    cost_mode=dict(type="str", choices=list(MODES)),
    invoice_description=dict(type="str"),
    price_per_gb=dict(type="raw"),
    cost_per_gb=dict(type="raw"),
    max_company_usage=dict(type="raw"),
    max_growth=dict(type="raw"),
    skip=dict(type="bool", default=False),
    # Checked by product_config.py, which knows the run's products.
    products=dict(type="list", elements="str"),
    product_prices=dict(type="dict"),
    max_company_licenses=dict(type="raw"),
)


@dataclasses.dataclass(frozen=True)
class Bounds:
    """What a plausible month of one company is: at most ``max_bytes`` and ``max_growth`` x the previous month.

    ``None`` turns a bound off. ``*_option`` name the option that set it, for the message that
    names it.
    """

    max_bytes: object = None
    max_growth: object = None
    max_bytes_option: str = "max_company_usage"
    max_growth_option: str = "max_growth"
    # License lines: at most this many licenses of one product (product_config.py sets it).
    max_licenses: object = None
    max_licenses_option: str = "max_company_licenses"


@dataclasses.dataclass(frozen=True)
class CompanySettings:
    agreement: str
    product: str
    mode: str
    template: str
    pricing: object
    skip: bool = False
    # The ``companies`` key as the user wrote it (None for the defaults), for messages naming the entry.
    identifier: object = None
    bounds: Bounds = Bounds()


@dataclasses.dataclass(frozen=True)
class Safety:
    """The run-level rules: what a source may stop, and when a change is too large to make unconfirmed."""

    complete_source: bool
    confirm_mass_change: bool
    mass_change_share: Decimal
    zero_usage_correction: str


@dataclasses.dataclass
class Config:
    period: object
    skipped_reason: object
    today: datetime.date
    unit: str
    defaults: CompanySettings
    overrides: dict
    company_map: dict
    effective_date_policy: str
    invoiced_period_policy: str
    previous_additions: str
    absent_companies: str
    send_zero: bool
    parallel: int
    source: str
    safety: Safety = None
    usage: object = None
    usage_file: object = None
    mbs: object = None
    current_period: bool = False
    # The products besides storage (product_config.ProductConfig), set by the run after build_config.
    products: object = None

    def settings_for(self, identifier):
        return self.overrides.get(fold(identifier), self.defaults)

    def identifier_of(self, name):
        """The ConnectWise identifier of a usage company name: its ``company_map`` entry (names fold), else the name."""
        mapped = self.__dict__.get("_mapped")
        if mapped is None:
            mapped = self.__dict__["_mapped"] = dict((fold(key), value) for key, value in self.company_map.items())
        return mapped.get(fold(name), name)

    @property
    def all_settings(self):
        return [self.defaults] + list(self.overrides.values())

    @property
    def latest_ended_period(self):
        """The month before today's: a month before it is billed after a later month has ended."""
        return previous_period(self.today)


def checked(function, *args):
    """``function(*args)``, its ValueError turned into the InputError a module reports."""
    try:
        return function(*args)
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(str(exc))


def _rate(value, what):
    return None if value is None else checked(to_decimal, value, what)


def _now(zone):
    """The current time in ``zone`` (one place, so tests can fix the clock)."""
    return datetime.datetime.now(zone)


def _zone(timezone):
    """The IANA zone; UTC needs no time zone database (minimal images have none)."""
    if timezone in ("UTC", "Etc/UTC", "Z"):
        return datetime.timezone.utc
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("timezone %r is not an IANA time zone name such as UTC or Europe/Berlin "
                         "(other zones than UTC need the tzdata package or system time zone data)" % (timezone,))


def _today(value, timezone):
    zone = _zone(timezone)
    if value in (None, ""):
        return _now(zone).date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.datetime.strptime(str(value).strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InputError("today %r is not a date written YYYY-MM-DD" % (value,))


def resolve_period(period, today, window_days):
    """``(Period, None)`` or ``(None, skipped_reason)`` for the ``period`` option."""
    try:
        auto = auto_billing_period(today, window_days)
    except ValueError as exc:
        raise InputError("auto_window_days: %s" % exc)
    if period in (None, ""):
        return previous_period(today), None
    if isinstance(period, str) and period.strip().lower() == "auto":
        return (auto, None) if auto is not None else (None, OUTSIDE_WINDOW)
    try:
        return parse_period(period), None
    except ValueError as exc:
        raise InputError("%s, or auto" % exc)


# ---------------------------------------------------------------------------
# the safety options


def byte_size(value, what):
    """A size option -> whole bytes, or None for 0 (the check turned off).

    A number of bytes (``1125899906842624``, ``"1e15"``) or a number and a unit (``"1 PiB"``,
    ``"500 TB"``, ``"800GiB"``; KB/MB/GB/TB/PB are powers of 1000, KiB/MiB/GiB/TiB/PiB of 1024).
    """
    if isinstance(value, str):
        match = _SIZE.match(value)
        unit = match.group(2).upper() if match else None
        if match is None or (unit and unit not in BYTE_UNITS):
            raise InputError("%s: %r is not a size: write a number of bytes or a number and a unit such as "
                             "\"1 PiB\" or \"500 TB\"" % (what, value))
        number, scale = match.group(1), BYTE_UNITS[unit or "B"]
    else:
        number, scale = value, 1
    size = checked(to_decimal, number, what) * scale
    if size != size.to_integral_value():
        raise InputError("%s: %r is not a whole number of bytes" % (what, value))
    return int(size) or None


def growth_factor(value, what):
    """A growth factor option -> Decimal (> 1), or None for 0 (the check turned off)."""
    factor = checked(to_decimal, value, what)
    if factor == 0:
        return None
    if factor <= 1:
        raise InputError("%s: %r must be more than 1 (how many times the previous month's usage a company may "
                         "reach), or 0 to turn the check off" % (what, value))
    return factor


def share(value, what):
    """A share option (``0.1``, ``"10%"``) -> Decimal from 0 to 1."""
    text = value.strip() if isinstance(value, str) else value
    percent = isinstance(text, str) and text.endswith("%")
    number = checked(to_decimal, text[:-1] if percent else text, what)
    number = number / 100 if percent else number
    if number > 1:
        raise InputError("%s: %r is more than the whole (write a share from 0 to 1, such as 0.1, or a "
                         "percentage such as \"10%%\")" % (what, value))
    return number


def _bounds(values, base, where=""):
    """``Bounds`` from ``max_company_usage``/``max_growth`` in ``values`` (absent keys keep ``base``'s)."""
    bounds = base
    if values.get("max_company_usage") is not None:
        option = where + "max_company_usage"
        bounds = dataclasses.replace(bounds, max_bytes=byte_size(values["max_company_usage"], option),
                                     max_bytes_option=option)
    if values.get("max_growth") is not None:
        option = where + "max_growth"
        bounds = dataclasses.replace(bounds, max_growth=growth_factor(values["max_growth"], option),
                                     max_growth_option=option)
    return bounds


def _safety(params, source):
    correction = params.get("zero_usage_correction") or "remove"
    if correction not in ZERO_USAGE_CORRECTIONS:
        raise InputError("zero_usage_correction %r is not one of %s" % (correction, ", ".join(ZERO_USAGE_CORRECTIONS)))
    return Safety(
        complete_source=source == "mbs" or bool(params.get("usage_complete")),
        confirm_mass_change=bool(params.get("confirm_mass_change")),
        mass_change_share=share(_given(params, "mass_change_share", DEFAULT_MASS_CHANGE_SHARE), "mass_change_share"),
        zero_usage_correction=correction)


def _given(params, name, default):
    value = params.get(name)
    return default if value is None or value == "" else value


# ---------------------------------------------------------------------------
# companies, the map and the source


def _template(template, mode, where):
    try:
        return validate_template(template, mode)
    except ValueError as exc:
        raise InputError("%s: %s" % (where, exc))


def _default_settings(params):
    _template(params["invoice_description"], params["cost_mode"], "invoice_description")
    destinations = params["cost_per_gb_by_destination"] or {}
    if not isinstance(destinations, dict):
        raise InputError("cost_per_gb_by_destination must be a mapping of destination name to rate")
    pricing = Pricing(_rate(params.get("cost_per_gb"), "cost_per_gb"),
                      _rate(params.get("price_per_gb"), "price_per_gb"),
                      dict((str(name), _rate(rate, "cost_per_gb_by_destination[%s]" % name))
                           for name, rate in destinations.items()))
    bounds = _bounds({"max_company_usage": _given(params, "max_company_usage", DEFAULT_MAX_COMPANY_USAGE),
                      "max_growth": _given(params, "max_growth", DEFAULT_MAX_GROWTH)}, Bounds())
    return CompanySettings(agreement=params["agreement"], product=params["product"], mode=params["cost_mode"],
                           template=params["invoice_description"], pricing=pricing, bounds=bounds)


def _company_settings(identifier, raw, defaults):
    """One ``companies`` entry on top of the defaults; InputError naming the entry."""
    where = "companies[%s]" % shown(identifier)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError("%s must be a mapping of overrides (%s)" % (where, ", ".join(COMPANY_OVERRIDE_SPEC)))
    checked_values = ArgumentSpecValidator(COMPANY_OVERRIDE_SPEC).validate(raw)
    if checked_values.error_messages:
        raise InputError("%s: %s" % (where, "; ".join(checked_values.error_messages)))
    values = checked_values.validated_parameters
    mode = values.get("cost_mode") or defaults.mode
    template = _template(values.get("invoice_description") or defaults.template, mode, where + ".invoice_description")
    cost = _rate(values.get("cost_per_gb"), where + ".cost_per_gb")
    price = _rate(values.get("price_per_gb"), where + ".price_per_gb")
    base = defaults.pricing
    # A company's own cost rate replaces the destination rates too: it is that company's whole cost.
    pricing = Pricing(cost if cost is not None else base.cost_per_unit,
                      price if price is not None else base.price_per_unit,
                      {} if cost is not None else base.cost_per_unit_by_destination)
    return CompanySettings(agreement=values.get("agreement") or defaults.agreement,
                           product=values.get("product") or defaults.product, mode=mode, template=template,
                           pricing=pricing, skip=bool(values.get("skip")), identifier=identifier,
                           bounds=_bounds(values, defaults.bounds, where + "."))


def _overrides(companies, defaults):
    overrides = {}
    for identifier, raw in sorted((companies or {}).items(), key=lambda item: str(item[0])):
        if not str(identifier).strip():
            raise InputError("companies: a ConnectWise company identifier is empty")
        key = fold(identifier)
        if key in overrides:
            raise InputError("companies: %r is given twice (identifiers match case-insensitively)" % identifier)
        overrides[key] = _company_settings(identifier, raw, defaults)
    return overrides


def _company_map(mapping):
    """``company_map`` checked: identifiers given, and no two keys that name one usage company."""
    company_map, seen = {}, {}
    for name, identifier in (mapping or {}).items():
        if not isinstance(identifier, str) or not identifier.strip():
            raise InputError("company_map[%s]: %r is not a ConnectWise company identifier" % (shown(name), identifier))
        key = fold(name)
        if key in seen:
            raise InputError("company_map: the keys %r and %r name the same usage company (names match ignoring case "
                             "and spacing), so one of them would be ignored; keep one"
                             % (seen[key], name))
        seen[key] = name
        company_map[str(name)] = identifier.strip()
    return company_map


def _source(params):
    sources = [name for name in ("usage", "usage_file", "mbs") if params.get(name) is not None]
    if len(sources) != 1:
        raise InputError("give exactly one usage source: usage, usage_file or mbs (got %s)"
                         % (", ".join(sources) or "none"))
    mbs = params.get("mbs")
    if mbs is not None and (not mbs.get("username") or not mbs.get("password")):
        raise InputError("mbs: username and password are required (or MBS_USERNAME and MBS_PASSWORD)")
    return sources[0]


def _check_prices_can_come(config):
    """Refuse, before any request, settings that leave every company without a cost or price.

    MSP360's billing rows carry one money total (``TotalCost``, taken as the price or as the cost
    by ``mbs.total_cost_is``) and no destination; the other side can only come from a rate. Without
    it, every company would fail after all the reads.
    """
    if config.source != "mbs":
        return
    if config.defaults.pricing.cost_per_unit_by_destination:
        raise InputError("cost_per_gb_by_destination needs usage records with a destination, which the MSP360 "
                         "billing API does not give; use usage_file or usage with a destination column, "
                         "or cost_per_gb")
    from_source = config.mbs["total_cost_is"]
    missing_side, option = ("cost", "cost_per_gb") if from_source == "price" else ("price", "price_per_gb")
    for settings in config.all_settings:
        identifier = settings.identifier
        if settings.skip or settings.mode == "quantity_only":
            continue
        rate = settings.pricing.cost_per_unit if missing_side == "cost" else settings.pricing.price_per_unit
        if rate is None:
            where = "companies[%s]: " % shown(identifier) if identifier else ""
            raise InputError(
                "%scost_mode %s with the MSP360 source needs %s: MSP360's TotalCost is taken as the %s "
                "(mbs.total_cost_is: %s), so no company would have a %s. Set %s%s, set mbs.total_cost_is, or use "
                "cost_mode: quantity_only. Nothing was sent."
                % (where, settings.mode, option, from_source, from_source, missing_side, option,
                   " for this company" if identifier else ""))


def build_config(params):
    """Validate the module's parameters (no I/O); InputError on bad input."""
    today = _today(params.get("today"), params["timezone"])
    period, skipped_reason = resolve_period(params.get("period"), today, params["auto_window_days"])
    current_period = False
    if period is not None:
        current_period = checked(check_period_ended, period, today, bool(params.get("allow_current_period")))
    parallel = params["parallel"]
    if isinstance(parallel, bool) or not isinstance(parallel, int) or not 1 <= parallel <= MAX_PARALLEL:
        raise InputError("parallel %r must be a whole number from 1 to %d" % (parallel, MAX_PARALLEL))
    defaults = _default_settings(params)
    source = _source(params)
    config = Config(
        period=period, skipped_reason=skipped_reason, today=today, unit=params["unit"], defaults=defaults,
        overrides=_overrides(params.get("companies"), defaults), company_map=_company_map(params.get("company_map")),
        effective_date_policy=params["effective_date_policy"],
        invoiced_period_policy=params["invoiced_period_policy"], previous_additions=params["previous_additions"],
        absent_companies=params["absent_companies"], send_zero=bool(params.get("send_zero")), parallel=parallel,
        current_period=current_period, source=source, safety=_safety(params, source), usage=params.get("usage"),
        usage_file=params.get("usage_file"), mbs=params.get("mbs"))
    _check_prices_can_come(config)
    return config
