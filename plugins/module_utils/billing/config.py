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
from ansible_collections.mbs.connectwise.plugins.module_utils.option_names import OptionNames
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
    # How the caller's users name the options (option_names): every message naming one asks it.
    names: OptionNames = OptionNames()
    # A call that bills the month in parts: the companies it bills (None: every company),
    # the stops a check of the whole month let through (folded), and whether this run is that check.
    only_companies: object = None
    approved_stops: frozenset = frozenset()
    month_check: bool = False

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


def _zone(timezone, names=OptionNames()):
    """The IANA zone; UTC needs no time zone database (minimal images have none)."""
    if timezone in ("UTC", "Etc/UTC", "Z"):
        return datetime.timezone.utc
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("%s %r is not an IANA time zone name such as UTC or Europe/Berlin (other zones than UTC "
                         "need the tzdata package or system time zone data)" % (names("timezone"), timezone))


def _today(value, timezone, names=OptionNames()):
    zone = _zone(timezone, names)
    if value in (None, ""):
        return _now(zone).date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.datetime.strptime(str(value).strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InputError("%s %r is not a date written YYYY-MM-DD" % (names("today"), value))


def resolve_period(period, today, window_days, names=OptionNames()):
    """``(Period, None)`` or ``(None, skipped_reason)`` for the ``period`` option."""
    try:
        auto = auto_billing_period(today, window_days)
    except ValueError as exc:
        raise InputError("%s: %s" % (names("auto_window_days"), exc))
    if period in (None, ""):
        return previous_period(today), None
    if isinstance(period, str) and period.strip().lower() == "auto":
        return (auto, None) if auto is not None else (None, OUTSIDE_WINDOW)
    try:
        return parse_period(period, names("period")), None
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


def _bounds(values, base, names=OptionNames(), identifier=None):
    """``Bounds`` from ``max_company_usage``/``max_growth`` in ``values`` (absent keys keep ``base``'s).

    ``identifier``: the bounds of that company's ``companies`` entry, named as its entry.
    """
    where = "" if identifier is None else "companies[*]."
    bounds = base
    if values.get("max_company_usage") is not None:
        option = names(where + "max_company_usage", identifier)
        bounds = dataclasses.replace(bounds, max_bytes=byte_size(values["max_company_usage"], option),
                                     max_bytes_option=option)
    if values.get("max_growth") is not None:
        option = names(where + "max_growth", identifier)
        bounds = dataclasses.replace(bounds, max_growth=growth_factor(values["max_growth"], option),
                                     max_growth_option=option)
    return bounds


def _safety(params, source, names=OptionNames()):
    correction = params.get("zero_usage_correction") or "remove"
    if correction not in ZERO_USAGE_CORRECTIONS:
        raise InputError("%s %r is not one of %s" % (names("zero_usage_correction"), correction,
                                                     ", ".join(ZERO_USAGE_CORRECTIONS)))
    return Safety(
        complete_source=source == "mbs" or bool(params.get("usage_complete")),
        confirm_mass_change=bool(params.get("confirm_mass_change")),
        mass_change_share=share(_given(params, "mass_change_share", DEFAULT_MASS_CHANGE_SHARE),
                                names("mass_change_share")),
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


def _default_settings(params, names=OptionNames()):
    _template(params["invoice_description"], params["cost_mode"], names("invoice_description"))
    destinations = params["cost_per_gb_by_destination"] or {}
    if not isinstance(destinations, dict):
        raise InputError("%s must be a mapping of destination name to rate" % names("cost_per_gb_by_destination"))
    pricing = Pricing(_rate(params.get("cost_per_gb"), names("cost_per_gb")),
                      _rate(params.get("price_per_gb"), names("price_per_gb")),
                      dict((str(name), _rate(rate, names("cost_per_gb_by_destination[*]", name)))
                           for name, rate in destinations.items()))
    bounds = _bounds({"max_company_usage": _given(params, "max_company_usage", DEFAULT_MAX_COMPANY_USAGE),
                      "max_growth": _given(params, "max_growth", DEFAULT_MAX_GROWTH)}, Bounds(), names)
    return CompanySettings(agreement=params["agreement"], product=params["product"], mode=params["cost_mode"],
                           template=params["invoice_description"], pricing=pricing, bounds=bounds)


def _company_settings(identifier, raw, defaults, names=OptionNames()):
    """One ``companies`` entry on top of the defaults; InputError naming the entry."""
    where = names("companies[*]", identifier)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError("%s must be a mapping of overrides (%s)" % (where, ", ".join(COMPANY_OVERRIDE_SPEC)))
    checked_values = ArgumentSpecValidator(COMPANY_OVERRIDE_SPEC).validate(raw)
    if checked_values.error_messages:
        raise InputError("%s: %s" % (where, "; ".join(checked_values.error_messages)))
    values = checked_values.validated_parameters
    mode = values.get("cost_mode") or defaults.mode
    template = _template(values.get("invoice_description") or defaults.template, mode,
                         names("companies[*].invoice_description", identifier))
    cost = _rate(values.get("cost_per_gb"), names("companies[*].cost_per_gb", identifier))
    price = _rate(values.get("price_per_gb"), names("companies[*].price_per_gb", identifier))
    base = defaults.pricing
    # A company's own cost rate replaces the destination rates too: it is that company's whole cost.
    pricing = Pricing(cost if cost is not None else base.cost_per_unit,
                      price if price is not None else base.price_per_unit,
                      {} if cost is not None else base.cost_per_unit_by_destination)
    return CompanySettings(agreement=values.get("agreement") or defaults.agreement,
                           product=values.get("product") or defaults.product, mode=mode, template=template,
                           pricing=pricing, skip=bool(values.get("skip")), identifier=identifier,
                           bounds=_bounds(values, defaults.bounds, names, identifier))


def _overrides(companies, defaults, names=OptionNames()):
    overrides = {}
    for identifier, raw in sorted((companies or {}).items(), key=lambda item: str(item[0])):
        if not str(identifier).strip():
            raise InputError("%s: a ConnectWise company identifier is empty" % names("companies"))
        key = fold(identifier)
        if key in overrides:
            raise InputError("%s: %r is given twice (identifiers match case-insensitively)"
                             % (names("companies"), identifier))
        overrides[key] = _company_settings(identifier, raw, defaults, names)
    return overrides


def _company_map(mapping, names=OptionNames()):
    """``company_map`` checked: identifiers given, and no two keys that name one usage company."""
    company_map, seen = {}, {}
    for name, identifier in (mapping or {}).items():
        if not isinstance(identifier, str) or not identifier.strip():
            raise InputError("%s: %r is not a ConnectWise company identifier" % (names("company_map[*]", name), identifier))
        key = fold(name)
        if key in seen:
            raise InputError("%s: the keys %r and %r name the same usage company (names match ignoring case "
                             "and spacing), so one of them would be ignored; keep one"
                             % (names("company_map"), seen[key], name))
        seen[key] = name
        company_map[str(name)] = identifier.strip()
    return company_map


def _source(params, names=OptionNames()):
    sources = [name for name in ("usage", "usage_file", "mbs") if params.get(name) is not None]
    if len(sources) != 1:
        raise InputError("give exactly one usage source: %s, %s or %s (got %s)"
                         % (names("usage"), names("usage_file"), names("mbs"),
                            ", ".join(names(name) for name in sources) or "none"))
    mbs = params.get("mbs")
    if mbs is not None and (not mbs.get("username") or not mbs.get("password")):
        raise InputError("%s: username and password are required (or MBS_USERNAME and MBS_PASSWORD)" % names("mbs"))
    return sources[0]


def _check_prices_can_come(config):
    """Refuse, before any request, settings that leave every company without a cost or price.

    MSP360's billing rows carry one money total (``TotalCost``, taken as the price or as the cost
    by ``mbs.total_cost_is``) and no destination; the other side can only come from a rate. Without
    it, every company would fail after all the reads.
    """
    if config.source != "mbs":
        return
    names = config.names
    if config.defaults.pricing.cost_per_unit_by_destination:
        raise InputError("%s needs usage records with a destination, which the MSP360 billing API does not give; "
                         "use %s or %s with a destination column, or %s"
                         % (names("cost_per_gb_by_destination"), names("usage_file"), names("usage"),
                            names("cost_per_gb")))
    from_source = config.mbs["total_cost_is"]
    missing_side, rate_key = ("cost", "cost_per_gb") if from_source == "price" else ("price", "price_per_gb")
    for settings in config.all_settings:
        if settings.skip or settings.mode == "quantity_only":
            continue
        rate = settings.pricing.cost_per_unit if missing_side == "cost" else settings.pricing.price_per_unit
        if rate is None:
            raise InputError(_no_rate_message(settings, names, rate_key, from_source, missing_side))


def _no_rate_message(settings, names, rate_key, from_source, missing_side):
    """Why MSP360's usage cannot be priced for ``settings`` (the defaults, or one company's entry)."""
    identifier = settings.identifier
    where = "" if identifier is None else "companies[*]."
    return ("%s%s %s with the MSP360 source needs %s: MSP360's TotalCost is taken as the %s (%s: %s), so no company "
            "would have a %s. Set %s, set %s, or use %s: quantity_only. Nothing was sent."
            % ("" if identifier is None else names("companies[*]", identifier) + ": ",
               names(where + "cost_mode", identifier), settings.mode, names(where + rate_key, identifier), from_source,
               names("mbs.total_cost_is"), from_source, missing_side, names(where + rate_key, identifier),
               names("mbs.total_cost_is"), names(where + "cost_mode", identifier)))


def _identifiers(params, option, names, allow_empty=True):
    """A list option of ConnectWise company identifiers, as results show them; None when not given."""
    values = params.get(option)
    if values is None:
        return None
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in values):
        raise InputError("%s must be a list of ConnectWise company identifiers (non-empty texts)" % names(option))
    if not values and not allow_empty:
        raise InputError("%s is empty, so this call would bill no company; leave it out to bill every company"
                         % names(option))
    return tuple(shown(value) for value in values)


def _parts(config, params):
    """``only_companies``, ``approved_stops`` and ``month_check`` of a call that bills a month in parts."""
    config.only_companies = _identifiers(params, "only_companies", config.names, allow_empty=False)
    config.approved_stops = frozenset(fold(value) for value in _identifiers(params, "approved_stops", config.names) or ())
    config.month_check = bool(params.get("month_check"))
    if config.month_check and config.only_companies is not None:
        raise InputError("%s checks the whole month: it cannot be given %s"
                         % (config.names("month_check"), config.names("only_companies")))
    return config


def build_config(params):
    """Validate the module's parameters (no I/O); InputError on bad input, naming options as ``option_names`` says."""
    names = OptionNames(params.get("option_names"))
    today = _today(params.get("today"), params["timezone"], names)
    period, skipped_reason = resolve_period(params.get("period"), today, params["auto_window_days"], names)
    current_period = False
    if period is not None:
        current_period = checked(check_period_ended, period, today, bool(params.get("allow_current_period")),
                                 names("allow_current_period") if names.can_set("allow_current_period") else None,
                                 names("period"))
    parallel = params["parallel"]
    if isinstance(parallel, bool) or not isinstance(parallel, int) or not 1 <= parallel <= MAX_PARALLEL:
        raise InputError("%s %r must be a whole number from 1 to %d" % (names("parallel"), parallel, MAX_PARALLEL))
    defaults = _default_settings(params, names)
    source = _source(params, names)
    config = Config(
        period=period, skipped_reason=skipped_reason, today=today, unit=params["unit"], defaults=defaults,
        overrides=_overrides(params.get("companies"), defaults, names),
        company_map=_company_map(params.get("company_map"), names),
        effective_date_policy=params["effective_date_policy"],
        invoiced_period_policy=params["invoiced_period_policy"], previous_additions=params["previous_additions"],
        absent_companies=params["absent_companies"], send_zero=bool(params.get("send_zero")), parallel=parallel,
        current_period=current_period, source=source, safety=_safety(params, source, names), usage=params.get("usage"),
        usage_file=params.get("usage_file"), mbs=params.get("mbs"), names=names)
    _check_prices_can_come(config)
    return _parts(config, params)
