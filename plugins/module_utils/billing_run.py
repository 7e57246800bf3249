# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Billing orchestration: usage -> one ConnectWise agreement addition per company and period.

I/O goes through :class:`~client.ConnectWiseClient` and :class:`~usage_sources.MBSClient`;
every amount is computed by :mod:`billing_compute` (nothing here does arithmetic on money).

Flow (``billing-rules.md``):

1. :func:`build_config` validates every input before any request (period, unit, mode,
   templates, rates, per-company overrides). ``period: auto`` outside the window gives a
   config with ``period=None`` and a ``skipped_reason``: the caller makes no request at all.
2. :func:`load_usage`: inline records, a CSV/JSON file or the MSP360 API.
3. :class:`BillingRun`: usage company names are mapped to ConnectWise company identifiers
   and aggregated per identifier; one chunked read of companies, one chunked read of
   agreements per agreement name, one read of the catalog items; then per agreement, in a
   bounded thread pool: read its additions of the product, plan, write (or predict).

Decisions the rules leave open, taken here:

* A usage company with no ConnectWise company, a company without an agreement of the
  configured name, and a company whose agreements of that name are all cancelled,
  expired or inactive are ``skipped`` (with the reason), not ``failed``: the vendor's guide
  has the MSP create the agreement for each company it wants billed, so a missing one is a
  choice, and failing would make every scheduled run fail. The module adds one warning
  listing the companies with usage that were skipped this way.
* Two or more active agreements of the configured name for one company: ``failed``
  (ConnectWise allows it; the run cannot tell which one to bill).
* A catalog item (product) that does not exist: every company billed with it ``failed``.
* Zero usage without ``send_zero``: ``skipped: no usage``; an addition of the period made
  by an earlier run is left as it is, with a warning.
* Per-company ``cost_per_gb`` replaces both the default cost rate and the per-destination
  rates for that company; per-company ``price_per_gb`` replaces the default price rate.
* The addition's product is sent as ``{"id": N}`` (the id of the catalog item looked up
  by identifier): ConnectWise accepts an id reference on every version.
* A POST whose outcome is unknown (connection dropped, 502/503/504 to a POST) is followed
  by a re-read of the agreement's additions of the product in the period: one found is
  adopted (no second POST); none found -> POST again, at most :data:`MAX_POST_ATTEMPTS`
  POSTs in all; two found -> the company fails.
* Earlier additions are cancelled only after this period's addition was created or found.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses
import datetime
from concurrent.futures import ThreadPoolExecutor

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - Python 3.11 is required (tests/config.yml)
    ZoneInfo = None
    ZoneInfoNotFoundError = KeyError

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.mbs.connectwise.plugins.module_utils import billing_compute as bc
from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.client import InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import company_key
from ansible_collections.mbs.connectwise.plugins.module_utils.msp360 import DEFAULT_MBS_API_URL, MBSClient, MBSError
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import ApiError, OutcomeUnknown
from ansible_collections.mbs.connectwise.plugins.module_utils.usage_sources import normalise_inline, read_usage_file

DEFAULT_AGREEMENT = "ManagedBackupService"
DEFAULT_PRODUCT = "OnlineBackup"
PREVIOUS_ADDITIONS = ("cancel", "keep")
OUTSIDE_WINDOW = "outside the auto-billing window"
NO_USAGE = "no usage"
MAX_POST_ATTEMPTS = 3
MAX_PARALLEL = 16

COMPANY_FIELDS = ("id", "identifier", "name")
AGREEMENT_FIELDS = ("id", "name", "company/id", "company/identifier", "agreementStatus", "cancelledFlag",
                    "dateCancelled", "startDate", "endDate", "noEndingDateFlag", "billStartDate")
CATALOG_FIELDS = ("id", "identifier", "inactiveFlag")
ADDITION_FIELDS = ("id", "product/id", "product/identifier", "effectiveDate", "cancelledDate", "quantity",
                   "unitCost", "unitPrice", "invoiceDescription", "billCustomer")
# The fields of an addition this module manages (shown in diffs).
MANAGED_FIELDS = ("product", "billCustomer", "quantity", "effectiveDate", "unitCost", "unitPrice",
                  "invoiceDescription")

# Per-company overrides (option ``companies``), validated with Ansible's own engine.
COMPANY_OVERRIDE_SPEC = dict(
    agreement=dict(type="str"),
    product=dict(type="str"),
    cost_mode=dict(type="str", choices=list(bc.MODES)),
    invoice_description=dict(type="str"),
    price_per_gb=dict(type="raw"),
    cost_per_gb=dict(type="raw"),
    skip=dict(type="bool", default=False),
)


class BillingConflict(ValueError):
    """ConnectWise holds something the run must not guess about (two additions for one period...)."""


class BillsNothing(ValueError):
    """The configuration matches no agreement of any company with usage: a typo, not a quiet month."""


# ---------------------------------------------------------------------------
# configuration


@dataclasses.dataclass(frozen=True)
class CompanySettings:
    agreement: str
    product: str
    mode: str
    template: str
    pricing: object
    skip: bool = False


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
    previous_additions: str
    send_zero: bool
    parallel: int
    source: str
    usage: object = None
    usage_file: object = None
    mbs: object = None
    current_period: bool = False

    def settings_for(self, identifier):
        return self.overrides.get(identifier.casefold(), self.defaults)


def _rate(value, what):
    if value is None:
        return None
    try:
        return bc.to_decimal(value, what)
    except ValueError as exc:
        raise InputError(str(exc))


def _now(zone):
    """The current time in ``zone`` (one place, so tests can fix the clock)."""
    return datetime.datetime.now(zone)


def _zone(timezone):
    """The IANA zone; UTC needs no time zone database (minimal images have none)."""
    if timezone in ("UTC", "Etc/UTC", "Z"):
        return datetime.timezone.utc
    if ZoneInfo is None:  # pragma: no cover
        raise InputError("the zoneinfo module (Python 3.9+) is required for timezone")
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
        auto = bc.auto_billing_period(today, window_days)
    except ValueError as exc:
        raise InputError("auto_window_days: %s" % exc)
    if period in (None, ""):
        return bc.previous_period(today), None
    if isinstance(period, str) and period.strip().lower() == "auto":
        return (auto, None) if auto is not None else (None, OUTSIDE_WINDOW)
    try:
        return bc.parse_period(period), None
    except ValueError as exc:
        raise InputError("%s, or auto" % exc)


def _template(template, mode, where):
    try:
        return bc.validate_template(template, mode)
    except ValueError as exc:
        raise InputError("%s: %s" % (where, exc))


def build_config(params):
    """Validate the module's parameters (no I/O except reading nothing); InputError on bad input."""
    today = _today(params.get("today"), params.get("timezone") or "UTC")
    period, skipped_reason = resolve_period(params.get("period"), today, params.get("auto_window_days", 3))
    current_period = False
    if period is not None:
        try:
            current_period = bc.check_period_ended(period, today, bool(params.get("allow_current_period")))
        except ValueError as exc:
            raise InputError(str(exc))
    unit = params.get("unit") or bc.DEFAULT_UNIT
    try:
        bc.check_unit(unit)
    except ValueError as exc:
        raise InputError(str(exc))
    mode = params.get("cost_mode") or bc.DEFAULT_MODE
    if mode not in bc.MODES:
        raise InputError("cost_mode %r is not one of %s" % (mode, ", ".join(bc.MODES)))
    template = params.get("invoice_description") or bc.PRODUCT_DESCRIPTION
    _template(template, mode, "invoice_description")
    policy = params.get("effective_date_policy") or "clamp"
    if policy not in bc.EFFECTIVE_DATE_POLICIES:
        raise InputError("effective_date_policy %r is not one of %s"
                         % (policy, ", ".join(bc.EFFECTIVE_DATE_POLICIES)))
    previous = params.get("previous_additions") or "cancel"
    if previous not in PREVIOUS_ADDITIONS:
        raise InputError("previous_additions %r is not one of %s" % (previous, ", ".join(PREVIOUS_ADDITIONS)))
    parallel = params.get("parallel")
    if parallel is None:
        parallel = 4
    if isinstance(parallel, bool) or not isinstance(parallel, int) or not 1 <= parallel <= MAX_PARALLEL:
        raise InputError("parallel %r must be a whole number from 1 to %d" % (parallel, MAX_PARALLEL))

    cost = _rate(params.get("cost_per_gb"), "cost_per_gb")
    price = _rate(params.get("price_per_gb"), "price_per_gb")
    by_destination = params.get("cost_per_gb_by_destination") or {}
    if not isinstance(by_destination, dict):
        raise InputError("cost_per_gb_by_destination must be a mapping of destination name to rate")
    by_destination = dict((str(k), _rate(v, "cost_per_gb_by_destination[%s]" % k))
                          for k, v in by_destination.items())
    agreement = params.get("agreement") or DEFAULT_AGREEMENT
    product = params.get("product") or DEFAULT_PRODUCT
    defaults = CompanySettings(agreement=agreement, product=product, mode=mode, template=template,
                               pricing=bc.Pricing(cost, price, by_destination))

    overrides = {}
    for identifier, raw in sorted((params.get("companies") or {}).items(), key=lambda item: str(item[0])):
        where = "companies[%s]" % identifier
        if not str(identifier).strip():
            raise InputError("companies: a ConnectWise company identifier is empty")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise InputError("%s must be a mapping of overrides (%s)" % (where, ", ".join(COMPANY_OVERRIDE_SPEC)))
        checked = ArgumentSpecValidator(COMPANY_OVERRIDE_SPEC).validate(raw)
        if checked.error_messages:
            raise InputError("%s: %s" % (where, "; ".join(checked.error_messages)))
        values = checked.validated_parameters
        company_mode = values.get("cost_mode") or mode
        company_template = values.get("invoice_description") or template
        _template(company_template, company_mode, where + ".invoice_description")
        company_cost = _rate(values.get("cost_per_gb"), where + ".cost_per_gb")
        company_price = _rate(values.get("price_per_gb"), where + ".price_per_gb")
        pricing = bc.Pricing(
            company_cost if company_cost is not None else cost,
            company_price if company_price is not None else price,
            {} if company_cost is not None else by_destination)
        key = str(identifier).strip().casefold()
        if key in overrides:
            raise InputError("companies: %r is given twice (identifiers match case-insensitively)" % identifier)
        overrides[key] = CompanySettings(
            agreement=values.get("agreement") or agreement, product=values.get("product") or product,
            mode=company_mode, template=company_template, pricing=pricing, skip=bool(values.get("skip")))

    company_map = {}
    for name, identifier in (params.get("company_map") or {}).items():
        if not isinstance(identifier, str) or not identifier.strip():
            raise InputError("company_map[%s]: %r is not a ConnectWise company identifier" % (name, identifier))
        company_map[str(name)] = identifier.strip()

    sources = [name for name in ("usage", "usage_file", "mbs") if params.get(name) is not None]
    if len(sources) != 1:
        raise InputError("give exactly one usage source: usage, usage_file or mbs (got %s)"
                         % (", ".join(sources) or "none"))
    mbs = params.get("mbs")
    if mbs is not None and by_destination:
        # MSP360's billing rows carry no destination: the rates would be silently ignored.
        raise InputError("cost_per_gb_by_destination needs usage records with a destination, which the MSP360 "
                         "billing API does not give; use usage_file or usage with a destination column, "
                         "or cost_per_gb")
    if mbs is not None:
        if not mbs.get("username") or not mbs.get("password"):
            raise InputError("mbs: username and password are required (or MBS_USERNAME and MBS_PASSWORD)")
        if (mbs.get("total_cost_is") or "price") not in ("price", "cost"):
            raise InputError("mbs.total_cost_is must be price or cost")

    config = Config(period=period, skipped_reason=skipped_reason, today=today, unit=unit, defaults=defaults,
                    overrides=overrides, company_map=company_map, effective_date_policy=policy,
                    previous_additions=previous, send_zero=bool(params.get("send_zero")), parallel=parallel,
                    current_period=current_period,
                    source=sources[0], usage=params.get("usage"), usage_file=params.get("usage_file"), mbs=mbs)
    return config


def read_local_usage(config):
    """Inline records or a file -> UsageRecords (no request); None for the MSP360 source."""
    try:
        if config.source == "usage":
            return normalise_inline(config.usage, "usage")
        if config.source == "usage_file":
            return read_usage_file(config.usage_file)
    except ValueError as exc:
        raise InputError(str(exc))
    return None


def mbs_client(config):
    mbs = config.mbs
    return MBSClient(mbs.get("url") or DEFAULT_MBS_API_URL, mbs["username"], mbs["password"],
                     timeout=mbs.get("timeout") or 30, validate_certs=mbs.get("validate_certs", True) is not False)


def load_mbs_usage(config, client):
    """``(records, warnings)`` from the MSP360 API; MBSError when it cannot be read."""
    templates = [config.defaults.template] + [settings.template for settings in config.overrides.values()]
    return client.usage_for_period(config.period, total_cost_is=config.mbs.get("total_cost_is") or "price",
                                   with_destinations=any("{destinations}" in (t or "") for t in templates))


# ---------------------------------------------------------------------------
# the run


@dataclasses.dataclass
class Job:
    """One ConnectWise company of the run."""

    identifier: str
    usage_names: list
    records: list
    settings: CompanySettings
    result: dict
    company: dict = None
    agreement: dict = None
    product: dict = None
    wrote: bool = False
    no_named_agreement: bool = False
    diffs: list = dataclasses.field(default_factory=list)


def _blank_result(identifier, usage_names, settings, period, unit):
    return {
        "company": identifier,
        "company_name": None,
        "usage_company": ", ".join(usage_names),
        "agreement": settings.agreement,
        "agreement_id": None,
        "product": settings.product,
        "cost_mode": settings.mode,
        "period": period.label,
        "effective_date": None,
        "quantity": None,
        "used_quantity": None,
        "unit": unit,
        "destinations": [],
        "unit_cost": None,
        "unit_price": None,
        "total_cost": None,
        "total_price": None,
        "action": None,
        "addition_id": None,
        "cancelled": [],
        "backfill": False,
        "changed_fields": [],
        "reason": None,
        "warnings": [],
    }


def _text(value):
    """A Decimal as its exact string ("12.50"); None stays None."""
    return None if value is None else str(value)


def _identifier_of(row, key="identifier"):
    value = row.get(key)
    return value.casefold() if isinstance(value, str) else None


class BillingRun:
    """One billing run against one ConnectWise client."""

    def __init__(self, client, config, check_mode=False, diff=False):
        self.client = client
        self.config = config
        self.check_mode = check_mode
        self.diff = diff
        self.period = config.period
        self.warnings = []

    # ------------------------------------------------------------------ grouping
    def _jobs(self, records):
        groups = {}
        mapped = dict((company_key(name), identifier) for name, identifier in self.config.company_map.items())
        for record in records:
            identifier = mapped.get(company_key(record.company), record.company)
            key = company_key(identifier)
            group = groups.setdefault(key, {"identifier": identifier, "names": [], "records": []})
            if record.company not in group["names"]:
                group["names"].append(record.company)
            group["records"].append(dataclasses.replace(record, company=group["identifier"]))
        jobs = []
        for key in sorted(groups):
            group = groups[key]
            settings = self.config.settings_for(group["identifier"])
            jobs.append(Job(identifier=group["identifier"], usage_names=sorted(group["names"]),
                            records=group["records"], settings=settings,
                            result=_blank_result(group["identifier"], sorted(group["names"]), settings,
                                                 self.period, self.config.unit)))
        return jobs

    @staticmethod
    def _finish(job, action, reason=None):
        job.result["action"] = action
        if reason is not None:
            job.result["reason"] = reason

    # ------------------------------------------------------------------ bulk reads
    def _read_companies(self, jobs):
        identifiers = [job.identifier for job in jobs]
        found = {}
        if identifiers:
            for row in self.client.list_in("company/companies", "identifier", identifiers, fields=COMPANY_FIELDS):
                key = _identifier_of(row)
                if key is not None:
                    found.setdefault(key, row)
        for job in jobs:
            job.company = found.get(job.identifier.casefold())
            if job.company is None:
                self._finish(job, "skipped", "no ConnectWise company with identifier %r (usage company %s); "
                                             "map the usage company to a ConnectWise identifier with company_map"
                             % (job.identifier, job.result["usage_company"]))
            else:
                job.result["company_name"] = job.company.get("name")

    def _read_agreements(self, jobs):
        by_name = {}
        for job in jobs:
            by_name.setdefault(job.settings.agreement, []).append(job)
        for name in sorted(by_name):
            named = by_name[name]
            rows = {}
            for row in self.client.list_in("finance/agreements", "company/identifier",
                                           [job.company["identifier"] for job in named],
                                           conditions=cond.equals("name", name), fields=AGREEMENT_FIELDS,
                                           order_by="id asc"):
                rows.setdefault(_identifier_of(row.get("company") or {}), []).append(row)
            for job in named:
                found = rows.get(job.company["identifier"].casefold(), [])
                terms = [(row, bc.agreement_term(row, self.period)) for row in found]
                active = [row for row, (covers, _note) in terms if covers]
                if not found:
                    job.no_named_agreement = True
                    self._finish(job, "skipped", "no agreement named %r for company %s" % (name, job.identifier))
                elif not active:
                    self._finish(job, "skipped", "no agreement named %r of company %s covers %s: %s" % (
                        name, job.identifier, self.period.label, "; ".join(
                            "id %s %s" % (row.get("id"), note) for row, (_covers, note) in terms)))
                elif len(active) > 1:
                    self._finish(job, "failed", "company %s has %d active agreements named %r (ids %s): "
                                                "cannot tell which one to bill; cancel or rename the extra ones"
                                 % (job.identifier, len(active), name,
                                    ", ".join(str(row.get("id")) for row in active)))
                else:
                    job.agreement = active[0]
                    _covers, note = bc.agreement_term(job.agreement, self.period)
                    if note:
                        job.result["warnings"].append(note)
                    job.result["agreement_id"] = active[0].get("id")

    def _refuse_config_that_bills_nothing(self, jobs):
        """Fail before any write when no company with usage has an agreement of the configured name(s).

        A misspelled agreement name otherwise skips every company and the run "succeeds" with nothing
        billed; naming the agreements that do exist shows the typo.
        """
        with_usage = [job for job in jobs
                      if self.config.send_zero or sum(r.used_bytes for r in job.records) > 0]
        if not with_usage or not all(job.no_named_agreement for job in with_usage):
            return
        names = set()
        for row in self.client.list_in("finance/agreements", "company/identifier",
                                       [job.company["identifier"] for job in with_usage], fields=("id", "name")):
            if isinstance(row.get("name"), str):
                names.add(row["name"])
        wanted = sorted(set(job.settings.agreement for job in with_usage))
        raise BillsNothing(
            "no company with usage in %s has an agreement named %s, so nothing would be billed; nothing was "
            "written. Agreement names of these %d compan%s: %s. Set agreement (or companies[...].agreement) "
            "to the agreement's name" % (
                self.period.label, " or ".join(repr(n) for n in wanted), len(with_usage),
                "y" if len(with_usage) == 1 else "ies",
                ", ".join(repr(n) for n in sorted(names)) if names else "none (run the setup role first)"))

    def _read_products(self, jobs):
        identifiers = sorted(set(job.settings.product for job in jobs))
        found = {}
        if identifiers:
            for row in self.client.list_in("procurement/catalog", "identifier", identifiers, fields=CATALOG_FIELDS):
                found.setdefault(_identifier_of(row), row)
        for job in jobs:
            job.product = found.get(job.settings.product.casefold())
            if job.product is None:
                self._finish(job, "failed", "product %r is not in the ConnectWise catalog (procurement/catalog)"
                             % job.settings.product)

    # ------------------------------------------------------------------ per agreement
    def _additions_path(self, job):
        return "finance/agreements/%s/additions" % job.agreement["id"]

    def _read_additions(self, job):
        """The agreement's additions of the product that are open or start in/after the period."""
        conditions = cond.all_of(
            cond.equals("product/id", job.product["id"]),
            cond.any_of(cond.equals("cancelledDate", None),
                        cond.condition("effectiveDate", ">=", self.period.first_day)))
        return list(self.client.list(self._additions_path(job), conditions=conditions, fields=ADDITION_FIELDS,
                                     order_by="id asc"))

    def _this_period(self, job, additions):
        found = bc.period_additions(additions, job.product["id"], self.period)
        if len(found) > 1:
            raise BillingConflict(
                "agreement %s holds %d additions of product %s with an effective date in %s (ids %s); "
                "there must be one per period: remove the extra ones by hand, nothing was written"
                % (job.agreement["id"], len(found), job.settings.product, self.period.label,
                   ", ".join(str(a.get("id")) for a in found)))
        return found[0] if found else None

    def _bill(self, job):
        try:
            self._bill_company(job)
        except bc.NotBillingYet as exc:
            self._finish(job, "skipped", str(exc))
        except (ApiError, ValueError) as exc:
            self._finish(job, "failed", str(exc))
        return job

    def _bill_company(self, job):
        result = job.result
        settings = job.settings
        effective = bc.effective_date(self.period, job.agreement.get("billStartDate"),
                                      self.config.effective_date_policy)
        result["effective_date"] = effective.date.isoformat()
        usage = bc.aggregate(job.records)[job.identifier]
        line = bc.plan_line(usage, settings.mode, self.config.unit, settings.pricing,
                            aliases=tuple(job.usage_names))
        result.update(quantity=_text(line.quantity), used_quantity=_text(line.used_quantity),
                      unit_cost=_text(line.unit_cost), unit_price=_text(line.unit_price),
                      total_cost=_text(line.total_cost), total_price=_text(line.total_price),
                      destinations=list(line.destinations))
        result["warnings"].extend(line.warnings)
        if effective.warning:
            result["warnings"].append(effective.warning)
        description = bc.render_invoice_description(settings.template, line, self.period,
                                                    job.company.get("name"))
        wanted = bc.addition_fields(line, settings.product, effective, description)
        wanted["product"] = {"id": job.product["id"]}

        additions = self._read_additions(job)
        existing = self._this_period(job, additions)
        backfill = bc.backfill_cancel_date(additions, job.product["id"], self.period)
        result["backfill"] = backfill is not None
        if backfill is not None:
            wanted["cancelledDate"] = bc.cw_datetime(backfill)
        if line.no_usage and not self.config.send_zero:
            if existing is not None:
                result["addition_id"] = existing.get("id")
                result["warnings"].append("addition %s of %s from an earlier run was left as it is"
                                          % (existing.get("id"), self.period.label))
            elif self.config.previous_additions == "cancel":
                # An addition recurs until cancelled: left open, last month's storage is billed again.
                first_day = self.period.first_day
                self._cancel_previous(job, additions, first_day, None)
                if result["cancelled"]:
                    self._finish(job, "cancelled", "no usage in %s: open addition%s %s cancelled on %s so %s "
                                                   "no longer bill" % (
                                                       self.period.label, "" if len(result["cancelled"]) == 1
                                                       else "s", ", ".join(str(i) for i in result["cancelled"]),
                                                       bc.cancel_date(first_day).isoformat(),
                                                       "it does" if len(result["cancelled"]) == 1 else "they do"))
                    return
            self._finish(job, "skipped", NO_USAGE)
            return

        if existing is None:
            existing = self._create(job, wanted)
            if existing is None:  # check mode
                self._finish(job, "created")
        if result["action"] is None:
            changes = bc.addition_changes(existing, wanted)
            result["addition_id"] = existing.get("id")
            if changes:
                result["changed_fields"] = sorted(changes)
                self._diff(job, existing, changes)
                if not self.check_mode:
                    self.client.patch(self._additions_path(job), existing["id"], bc.patch_operations(changes))
                    job.wrote = True
                self._finish(job, "updated")
            else:
                self._finish(job, "unchanged")

        if self.config.previous_additions == "cancel":
            self._cancel_previous(job, additions, effective, result["addition_id"])

    def _create(self, job, wanted):
        """POST the addition; None in check mode; the adopted addition after an unknown outcome."""
        body = bc.wire_fields(wanted)
        if self.check_mode:
            self._diff(job, None, wanted)
            return None
        path = self._additions_path(job)
        for attempt in range(1, MAX_POST_ATTEMPTS + 1):
            try:
                created = self.client.create(path, body)
            except OutcomeUnknown as exc:
                found = self._this_period(job, self._read_additions(job))
                if found is not None:
                    job.wrote = True
                    job.result["warnings"].append(
                        "the answer to POST %s was lost (%s); addition %s found on re-reading and adopted"
                        % (path, exc, found.get("id")))
                    self._diff(job, None, wanted)
                    self._finish(job, "created")
                    job.result["addition_id"] = found.get("id")
                    return found
                if attempt == MAX_POST_ATTEMPTS:
                    raise ApiError("POST", path, exc.status,
                                   message="outcome unknown after %d attempts and no addition found on re-reading: "
                                           "%s" % (attempt, exc))
                continue
            job.wrote = True
            self._diff(job, None, wanted)
            self._finish(job, "created")
            job.result["addition_id"] = created.get("id")
            return created
        raise AssertionError("unreachable")  # pragma: no cover

    def _cancel_previous(self, job, additions, effective, keep_id):
        day = bc.cancel_date(effective)
        for addition in bc.previous_additions_to_cancel(additions, job.product["id"], effective):
            if addition.get("id") == keep_id:
                continue
            changes = {"cancelledDate": bc.cw_datetime(day)}
            self._diff(job, addition, changes, label="cancel")
            if not self.check_mode:
                self.client.patch(self._additions_path(job), addition["id"], bc.patch_operations(changes))
                job.wrote = True
            job.result["cancelled"].append(addition.get("id"))

    def _diff(self, job, existing, changes, label=None):
        if not self.diff:
            return
        after = bc.wire_fields(changes)
        if existing is None:
            before = {}
            header = "%s: new addition for %s" % (job.identifier, self.period.label)
        else:
            before = dict((key, existing.get(key)) for key in sorted(changes))
            header = "%s: %s addition %s" % (job.identifier, label or "update", existing.get("id"))
        job.diffs.append({"before_header": header, "after_header": header, "before": before, "after": after})

    # ------------------------------------------------------------------ entry point
    def run(self, records):
        """Bill ``records``; returns ``(results, changed, diffs)``. ApiError from the bulk reads."""
        jobs = self._jobs(records)
        for job in jobs:
            if job.settings.skip:
                self._finish(job, "skipped", "skip is set for company %s in companies" % job.identifier)
        pending = [job for job in jobs if job.result["action"] is None]
        self._read_companies(pending)
        pending = [job for job in pending if job.result["action"] is None]
        if pending:
            self._read_agreements(pending)
            self._refuse_config_that_bills_nothing(pending)
        pending = [job for job in pending if job.result["action"] is None]
        if pending:
            self._read_products(pending)
        pending = [job for job in pending if job.result["action"] is None]
        if pending:
            with ThreadPoolExecutor(max_workers=min(self.config.parallel, len(pending))) as pool:
                list(pool.map(self._bill, pending))
        not_billed = [job.identifier for job in jobs if job.result["action"] == "skipped"
                      and job.result["reason"] != NO_USAGE and not job.settings.skip
                      and sum(r.used_bytes for r in job.records) > 0]
        if not_billed:
            self.warnings.append("%d compan%s with usage %s not billed (no ConnectWise company or agreement): %s"
                                 % (len(not_billed), "y" if len(not_billed) == 1 else "ies",
                                    "was" if len(not_billed) == 1 else "were", ", ".join(not_billed)))
        for job in jobs:
            for warning in job.result["warnings"]:
                self.warnings.append("%s: %s" % (job.identifier, warning))
        changed = any(job.result["action"] in ("created", "updated") or job.result["cancelled"] or job.wrote
                      for job in jobs)
        diffs = [d for job in jobs for d in job.diffs]
        return [job.result for job in jobs], changed, diffs


def totals(results):
    """:func:`billing_compute.summarise` with money and quantities as exact strings."""
    summary = bc.summarise(results)
    summary["total_cost"] = _text(summary["total_cost"])
    summary["total_price"] = _text(summary["total_price"])
    summary["quantity"] = dict((unit, _text(bc.round_quantity(q))) for unit, q in summary["quantity"].items())
    return summary


def failure_message(results):
    failed = [r for r in results if r["action"] == "failed"]
    return "billing of %s failed for %d compan%s: %s" % (
        failed[0]["period"], len(failed), "y" if len(failed) == 1 else "ies",
        "; ".join("%s: %s" % (r["company"], r["reason"]) for r in failed))


def requests_made(cw_client=None, mbs=None):
    out = {}
    if cw_client is not None:
        out["connectwise"] = dict(cw_client.stats)
    if mbs is not None:
        out["mbs"] = dict(mbs.stats)
    return out


__all__ = ["build_config", "read_local_usage", "mbs_client", "load_mbs_usage", "BillingRun", "totals",
           "failure_message", "requests_made", "MBSError", "BillingConflict", "InputError", "OUTSIDE_WINDOW"]
