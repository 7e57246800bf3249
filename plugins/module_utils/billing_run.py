# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Billing orchestration: usage -> one ConnectWise agreement addition per company and period.

I/O goes through :class:`~client.ConnectWiseClient` and :class:`~msp360.MBSClient`; every amount and every
rule of the additions' history is computed by :mod:`billing_compute` (nothing here does arithmetic
on money or dates). :func:`bill` is the billing module's whole run.

Flow:

1. :func:`build_config` validates every input before any request. ``period: auto`` outside the
   window gives a config with ``period=None`` and a ``skipped_reason``: no request at all.
2. Usage: inline records, a CSV/JSON file or the MSP360 API (one billing read for the month).
3. :class:`BillingRun`: usage company names are mapped to ConnectWise company identifiers and
   grouped per identifier. Bulk reads: the agreements of each configured name (paged), the
   companies that have none (chunked ``in (...)``), the catalog items. Then, per agreement in a
   bounded thread pool: read the product's additions, write (or predict), re-read after writing
   and settle the history until the re-read needs nothing more.

Decisions the rules leave open, taken here:

* A usage company with no ConnectWise company, a company without an agreement of the configured
  name, and a company whose agreements of that name do not cover the period are ``skipped``
  (with the reason), not ``failed``: the vendor's guide has the MSP create the agreement for each
  company it wants billed. The module adds one warning listing the companies with usage skipped
  this way. Two or more covering agreements of the name for one company: ``failed``.
* Exactly once, whoever else runs: each addition carries this collection's marker for its period
  (``billing_compute.MARKER``), so the period's addition is found by marker whatever its effective
  date. After every write the run re-reads the agreement's additions; of two additions of one
  period (overlapping runs) the lowest id is kept and the others, which carry the marker, are
  removed: every run applies the same rule, so they agree without a lock.
* A POST whose answer is lost is never re-sent blindly (``client.create_once``).
* A company with no usage, or absent from the usage while its agreement covers the period, has its
  earlier open addition cancelled (``previous_additions: cancel``, ``absent_companies: cancel``):
  an addition bills every month until cancelled. Reported as ``cancelled``.
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
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.msp360 import NO_COMPANY, MBSClient, MBSError
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import ApiError, NotFoundError
from ansible_collections.mbs.connectwise.plugins.module_utils.usage_sources import normalise_inline, read_usage_file

OUTSIDE_WINDOW = "outside the auto-billing window"
NO_USAGE = "no usage"
MAX_PARALLEL = 16
# Write, re-read, fix: rounds before a run gives up settling one agreement's history (another run
# keeps changing it) and says so.
SETTLE_ROUNDS = 4

AGREEMENTS = "finance/agreements"
COMPANY_FIELDS = ("id", "identifier", "name")
AGREEMENT_FIELDS = ("id", "name", "company/id", "company/identifier", "company/name", "agreementStatus",
                    "cancelledFlag", "dateCancelled", "startDate", "endDate", "noEndingDateFlag", "billStartDate",
                    "nextInvoiceDate", "prorateFlag")
CATALOG_FIELDS = ("id", "identifier", "inactiveFlag")
ADDITION_FIELDS = ("id", "product/id", "product/identifier", "effectiveDate", "cancelledDate", "quantity",
                   "unitCost", "unitPrice", "invoiceDescription", "billCustomer", "description")

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


# What --diff shows of an addition removed as a duplicate of its period.
REMOVAL_DIFF_FIELDS = ("description", "quantity", "unitPrice", "effectiveDate", "cancelledDate")


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
    # The ``companies`` key as the user wrote it (None for the defaults), for messages naming the entry.
    identifier: object = None


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
    usage: object = None
    usage_file: object = None
    mbs: object = None
    current_period: bool = False

    def settings_for(self, identifier):
        return self.overrides.get(fold(identifier), self.defaults)

    @property
    def all_settings(self):
        return [self.defaults] + list(self.overrides.values())


def _checked(function, *args):
    """``function(*args)``, its ValueError turned into the InputError a module reports."""
    try:
        return function(*args)
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(str(exc))


def _rate(value, what):
    return None if value is None else _checked(bc.to_decimal, value, what)


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


def _default_settings(params):
    _template(params["invoice_description"], params["cost_mode"], "invoice_description")
    destinations = params["cost_per_gb_by_destination"] or {}
    if not isinstance(destinations, dict):
        raise InputError("cost_per_gb_by_destination must be a mapping of destination name to rate")
    pricing = bc.Pricing(_rate(params.get("cost_per_gb"), "cost_per_gb"),
                         _rate(params.get("price_per_gb"), "price_per_gb"),
                         dict((str(name), _rate(rate, "cost_per_gb_by_destination[%s]" % name))
                              for name, rate in destinations.items()))
    return CompanySettings(agreement=params["agreement"], product=params["product"], mode=params["cost_mode"],
                           template=params["invoice_description"], pricing=pricing)


def _company_settings(identifier, raw, defaults):
    """One ``companies`` entry on top of the defaults; InputError naming the entry."""
    where = "companies[%s]" % identifier
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError("%s must be a mapping of overrides (%s)" % (where, ", ".join(COMPANY_OVERRIDE_SPEC)))
    checked = ArgumentSpecValidator(COMPANY_OVERRIDE_SPEC).validate(raw)
    if checked.error_messages:
        raise InputError("%s: %s" % (where, "; ".join(checked.error_messages)))
    values = checked.validated_parameters
    mode = values.get("cost_mode") or defaults.mode
    template = _template(values.get("invoice_description") or defaults.template, mode, where + ".invoice_description")
    cost = _rate(values.get("cost_per_gb"), where + ".cost_per_gb")
    price = _rate(values.get("price_per_gb"), where + ".price_per_gb")
    base = defaults.pricing
    # A company's own cost rate replaces the destination rates too: it is that company's whole cost.
    pricing = bc.Pricing(cost if cost is not None else base.cost_per_unit,
                         price if price is not None else base.price_per_unit,
                         {} if cost is not None else base.cost_per_unit_by_destination)
    return CompanySettings(agreement=values.get("agreement") or defaults.agreement,
                           product=values.get("product") or defaults.product, mode=mode, template=template,
                           pricing=pricing, skip=bool(values.get("skip")), identifier=identifier)


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


def _mapping_hint(job):
    """What makes an unmapped usage company billable (the roles set ``company_map`` from ``mbs_company``)."""
    if job.result["usage_company"] == NO_COMPANY:
        return "its MSP360 users have no company (the warnings name them): give them their company in MSP360"
    return ("map the usage company to a ConnectWise identifier with company_map (the roles: the customer's "
            "mbs_company)")


def _company_map(mapping):
    company_map = {}
    for name, identifier in (mapping or {}).items():
        if not isinstance(identifier, str) or not identifier.strip():
            raise InputError("company_map[%s]: %r is not a ConnectWise company identifier" % (name, identifier))
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
            where = "companies[%s]: " % identifier if identifier else ""
            raise InputError(
                "%scost_mode %s with the MSP360 source needs %s: MSP360's TotalCost is taken as the %s "
                "(mbs.total_cost_is: %s), so no company would have a %s. Set %s%s, set mbs.total_cost_is, or use "
                "cost_mode: quantity_only. Nothing was sent."
                % (where, settings.mode, option, from_source, from_source, missing_side, option,
                   " for this company" if identifier else ""))


def build_config(params):
    """Validate the module's parameters (no I/O); InputError on bad input.

    The module's argument spec has already checked types, choices and defaults; this checks what
    it cannot say: dates and periods, money, templates, per-company overrides, ranges.
    """
    today = _today(params.get("today"), params["timezone"])
    period, skipped_reason = resolve_period(params.get("period"), today, params["auto_window_days"])
    current_period = False
    if period is not None:
        current_period = _checked(bc.check_period_ended, period, today, bool(params.get("allow_current_period")))
    parallel = params["parallel"]
    if isinstance(parallel, bool) or not isinstance(parallel, int) or not 1 <= parallel <= MAX_PARALLEL:
        raise InputError("parallel %r must be a whole number from 1 to %d" % (parallel, MAX_PARALLEL))
    defaults = _default_settings(params)
    config = Config(
        period=period, skipped_reason=skipped_reason, today=today, unit=params["unit"], defaults=defaults,
        overrides=_overrides(params.get("companies"), defaults), company_map=_company_map(params.get("company_map")),
        effective_date_policy=params["effective_date_policy"],
        invoiced_period_policy=params["invoiced_period_policy"], previous_additions=params["previous_additions"],
        absent_companies=params["absent_companies"], send_zero=bool(params.get("send_zero")), parallel=parallel,
        current_period=current_period, source=_source(params), usage=params.get("usage"),
        usage_file=params.get("usage_file"), mbs=params.get("mbs"))
    _check_prices_can_come(config)
    return config


# ---------------------------------------------------------------------------
# usage


def read_local_usage(config):
    """Inline records or a file -> UsageRecords (no request); None for the MSP360 source."""
    if config.source == "usage":
        return _checked(normalise_inline, config.usage, "usage")
    if config.source == "usage_file":
        return _checked(read_usage_file, config.usage_file)
    return None


def mbs_client(config):
    mbs = config.mbs
    return MBSClient(mbs["url"], mbs["username"], mbs["password"], timeout=mbs["timeout"],
                     validate_certs=mbs["validate_certs"], allow_http=bool(mbs.get("allow_http")))


def load_mbs_usage(config, client):
    """``(records, warnings)`` from the MSP360 API; MBSError when it cannot be read."""
    return client.usage_for_period(config.period, total_cost_is=config.mbs["total_cost_is"],
                                   with_destinations=any("{destinations}" in (s.template or "")
                                                         for s in config.all_settings))


# ---------------------------------------------------------------------------
# the run


@dataclasses.dataclass
class Job:
    """One ConnectWise company of the run (``absent``: it has an agreement but no usage record)."""

    identifier: str
    usage_names: list
    records: list
    settings: CompanySettings
    result: dict
    company: dict = None
    agreement: dict = None
    product: dict = None
    wrote: bool = False
    absent: bool = False
    no_named_agreement: bool = False
    diffs: list = dataclasses.field(default_factory=list)

    @property
    def used_bytes(self):
        return sum(record.used_bytes for record in self.records)


def _blank_result(job, period, unit):
    settings = job.settings
    return {
        "company": job.identifier,
        "company_name": None,
        "usage_company": ", ".join(job.usage_names) or None,
        "agreement": settings.agreement,
        "agreement_id": None,
        "product": settings.product,
        "cost_mode": settings.mode,
        "period": period.label,
        "effective_date": None,
        "used_bytes": job.used_bytes,
        "quantity": None,
        "used_quantity": _text(bc.bytes_to_quantity(job.used_bytes, unit)),
        "unit": unit,
        "destinations": [],
        "unit_cost": None,
        "unit_price": None,
        "total_cost": None,
        "total_price": None,
        "action": None,
        "addition_id": None,
        "marker": None,
        "cancelled": [],
        "removed": [],
        "backfill": False,
        "invoiced_moved": False,
        "changed_fields": [],
        "reason": None,
        "warnings": [],
    }


def _text(value):
    """A Decimal as its exact string ("12.50"); None stays None."""
    return None if value is None else str(value)


def _invoiced_refusal(exc):
    """ConnectWise's "already been invoiced" text from a refused write (top-level or a field error), or None."""
    if exc.status != 400:
        return None
    for text in [exc.api_message] + [error.get("message") for error in exc.errors]:
        if bc.is_invoiced_refusal(text):
            return text
    return None


def _ids(additions):
    return ", ".join(str(a.get("id")) for a in additions)


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
    def _job(self, identifier, names, records, absent=False):
        settings = self.config.settings_for(identifier)
        job = Job(identifier=identifier, usage_names=sorted(names), records=records, settings=settings, result=None,
                  absent=absent)
        job.result = _blank_result(job, self.period, self.config.unit)
        return job

    def _jobs(self, records):
        groups = {}
        mapped = dict((fold(name), identifier) for name, identifier in self.config.company_map.items())
        for record in records:
            identifier = mapped.get(fold(record.company), record.company)
            group = groups.setdefault(fold(identifier), {"identifier": identifier, "names": [], "records": []})
            if record.company not in group["names"]:
                group["names"].append(record.company)
            group["records"].append(dataclasses.replace(record, company=group["identifier"]))
        return [self._job(g["identifier"], g["names"], g["records"]) for _key, g in sorted(groups.items())]

    @staticmethod
    def _finish(job, action, reason=None):
        job.result["action"] = action
        if reason is not None:
            job.result["reason"] = reason

    # ------------------------------------------------------------------ bulk reads
    def _read_agreements(self, jobs):
        """``{company key: [rows]}`` per agreement name: one paged read of each name the run bills.

        Reading by name (not by company) costs one request per 1,000 agreements, gives each row's
        company (id, identifier, name) and finds the agreements of companies absent from the usage.
        """
        names = set(job.settings.agreement for job in jobs)
        if self.config.absent_companies == "cancel" and self.config.previous_additions == "cancel":
            names.update(settings.agreement for settings in self.config.all_settings if not settings.skip)
        found = {}
        for name in sorted(names, key=fold):
            rows = found.setdefault(fold(name), {})
            for row in self.client.list(AGREEMENTS, conditions=cond.equals("name", name), fields=AGREEMENT_FIELDS,
                                        order_by="id asc"):
                rows.setdefault(fold((row.get("company") or {}).get("identifier")), []).append(row)
        return found

    def _choose_agreement(self, job, rows):
        """The one agreement of the job's name whose term covers the period, or the reason there is none."""
        name = job.settings.agreement
        terms = [(row, bc.agreement_term(row, self.period)) for row in rows]
        covering = [row for row, (covers, _note) in terms if covers]
        if not covering:
            self._finish(job, "skipped", "no agreement named %r of company %s covers %s: %s" % (
                name, job.identifier, self.period.label,
                "; ".join("id %s %s" % (row.get("id"), note) for row, (_covers, note) in terms)))
        elif len(covering) > 1:
            self._finish(job, "failed", "company %s has %d active agreements named %r (ids %s): cannot tell which "
                                        "one to bill; cancel or rename the extra ones"
                         % (job.identifier, len(covering), name, _ids(covering)))
        else:
            job.agreement = covering[0]
            job.company = dict(covering[0].get("company") or {})
            job.result.update(agreement_id=job.agreement.get("id"), company_name=job.company.get("name"))
            note = [note for row, (_covers, note) in terms if row is job.agreement][0]
            if note:
                job.result["warnings"].append(note)

    def _attach_agreements(self, jobs, agreements):
        without = []
        for job in jobs:
            rows = agreements.get(fold(job.settings.agreement), {}).get(fold(job.identifier))
            if rows:
                self._choose_agreement(job, rows)
            else:
                without.append(job)
        self._explain_missing_agreements(without)

    def _explain_missing_agreements(self, jobs):
        """Tell a company ConnectWise lacks from one without the agreement (one chunked read)."""
        known = self.client.find_by("company/companies", "identifier", [job.identifier for job in jobs],
                                    fields=COMPANY_FIELDS)
        for job in jobs:
            companies = known[fold(job.identifier)]
            if not companies:
                self._finish(job, "skipped", "no ConnectWise company with identifier %r (usage company %s); %s"
                             % (job.identifier, job.result["usage_company"], _mapping_hint(job)))
                continue
            job.company = companies[0]
            job.result["company_name"] = job.company.get("name")
            job.no_named_agreement = True
            self._finish(job, "skipped", "no agreement named %r for company %s" % (job.settings.agreement,
                                                                                   job.identifier))

    def _absent_jobs(self, jobs, agreements):
        """Companies with a covering agreement but no usage record: their open additions must stop."""
        if self.config.absent_companies != "cancel" or self.config.previous_additions != "cancel":
            return []
        present = set(fold(job.identifier) for job in jobs)
        absent = []
        for rows_by_company in agreements.values():
            for key, rows in sorted(rows_by_company.items()):
                if key is None or key in present:
                    continue
                identifier = (rows[0].get("company") or {}).get("identifier")
                settings = self.config.settings_for(identifier)
                if settings.skip or fold(settings.agreement) != fold(rows[0].get("name")):
                    continue
                if not any(bc.agreement_term(row, self.period)[0] for row in rows):
                    continue
                present.add(key)
                job = self._job(identifier, [], [], absent=True)
                self._choose_agreement(job, rows)
                absent.append(job)
        return absent

    def _refuse_config_that_bills_nothing(self, jobs):
        """Fail before any write when no company with usage has an agreement of the configured name(s).

        A misspelled agreement name otherwise skips every company and the run "succeeds" with nothing
        billed; naming the agreements that do exist shows the typo.
        """
        with_usage = [job for job in jobs if job.company is not None and (self.config.send_zero or job.used_bytes > 0)]
        if not with_usage or not all(job.no_named_agreement for job in with_usage):
            return
        names = set()
        for row in self.client.list_in(AGREEMENTS, "company/identifier", [job.company["identifier"] for job in with_usage],
                                       fields=("id", "name")):
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
        found = self.client.find_by("procurement/catalog", "identifier", set(job.settings.product for job in jobs),
                                    fields=CATALOG_FIELDS)
        for job in jobs:
            products = found[fold(job.settings.product)]
            job.product = products[0] if products else None
            if job.product is None:
                self._finish(job, "failed", "product %r is not in the ConnectWise catalog (procurement/catalog)"
                             % job.settings.product)

    # ------------------------------------------------------------------ per agreement
    def _additions_path(self, job):
        return "%s/%s/additions" % (AGREEMENTS, job.agreement["id"])

    def _read_additions(self, job):
        """The product's additions that bill the period, or later, or still bill into it."""
        first = self.period.first_day
        conditions = cond.all_of(
            cond.equals("product/id", job.product["id"]),
            cond.any_of(cond.equals("cancelledDate", None),
                        cond.condition("cancelledDate", ">=", first - datetime.timedelta(days=1)),
                        cond.condition("effectiveDate", ">=", first)))
        return list(self.client.list(self._additions_path(job), conditions=conditions, fields=ADDITION_FIELDS,
                                     order_by="id asc"))

    def _bill(self, job):
        try:
            History(self, job).bill()
        except bc.NotBillingYet as exc:
            self._finish(job, "skipped", str(exc))
        except (ApiError, ValueError) as exc:
            self._finish(job, "failed", str(exc))
        return job

    def diff_entry(self, job, existing, changes, label=None):
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

    def diff_removal(self, job, addition, reason):
        if not self.diff:
            return
        header = "%s: remove addition %s, %s" % (job.identifier, addition.get("id"), reason)
        before = dict((key, addition[key]) for key in REMOVAL_DIFF_FIELDS if key in addition)
        job.diffs.append({"before_header": header, "after_header": header, "before": before, "after": {}})

    # ------------------------------------------------------------------ entry point
    def run(self, records):
        """Bill ``records``; returns ``(results, changed, diffs)``. ApiError from the bulk reads."""
        jobs = self._jobs(records)
        for job in jobs:
            if job.settings.skip:
                self._finish(job, "skipped", "skip is set for company %s in companies" % job.identifier)
        pending = [job for job in jobs if job.result["action"] is None]
        agreements = self._read_agreements(pending)
        self._attach_agreements(pending, agreements)
        self._refuse_config_that_bills_nothing(pending)
        absent = self._absent_jobs(jobs, agreements)
        pending = [job for job in pending + absent if job.result["action"] is None]
        if pending:
            self._read_products(pending)
        pending = [job for job in pending if job.result["action"] is None]
        if pending:
            with ThreadPoolExecutor(max_workers=min(self.config.parallel, len(pending))) as pool:
                list(pool.map(self._bill, pending))
        # An absent company with nothing to stop is not part of the month.
        jobs += [job for job in absent if job.result["action"] != "skipped"]
        self._collect_warnings(jobs)
        changed = any(job.result["action"] in ("created", "updated", "cancelled") or job.result["cancelled"]
                      or job.result["removed"] or job.wrote for job in jobs)
        diffs = [d for job in jobs for d in job.diffs]
        return [job.result for job in jobs], changed, diffs

    def _collect_warnings(self, jobs):
        not_billed = [job.identifier for job in jobs if job.result["action"] == "skipped"
                      and job.result["reason"] != NO_USAGE and not job.settings.skip and job.used_bytes > 0]
        if not_billed:
            self.warnings.append("%d compan%s with usage %s not billed (no ConnectWise company or agreement): %s"
                                 % (len(not_billed), "y" if len(not_billed) == 1 else "ies",
                                    "was" if len(not_billed) == 1 else "were", ", ".join(not_billed)))
        for job in jobs:
            for warning in job.result["warnings"]:
                self.warnings.append("%s: %s" % (job.identifier, warning))


class History:
    """One agreement's additions of the product: bill the period, then settle the history.

    Every write is followed by a re-read; the plan is computed again from what ConnectWise holds
    (another run may have written meanwhile) until nothing is left to do. Check mode runs the same
    plan on the additions as they would be, with no write.
    """

    def __init__(self, run, job):
        self.run = run
        self.job = job
        self.client = run.client
        self.period = run.period
        self.config = run.config
        self.check_mode = run.check_mode
        self.product_id = job.product["id"]
        self.path = run._additions_path(job)
        self.ours = None  # the id of the addition this run created, if any
        self.starts = self.period.first_day
        self.line = self.wanted = None

    def read(self):
        return self.run._read_additions(self.job)

    def period_additions(self, additions):
        return bc.period_additions(additions, self.product_id, self.period)

    def find_period_addition(self):
        """The period's addition as ConnectWise holds it now (the lowest id), or None."""
        found = self.period_additions(self.read())
        return found[0] if found else None

    # ---------------------------------------------------------------- the period's addition
    def bill(self):
        job, result = self.job, self.job.result
        line = self._line()
        idle = line.no_usage and not self.config.send_zero
        # Only an addition has an effective date: a month without usage only stops earlier ones.
        effective = None if idle else bc.effective_date(self.period, job.agreement.get("billStartDate"), self.config.effective_date_policy)
        additions = self.read()
        winner, _duplicates = bc.period_winner(self.period_additions(additions), self.period)
        if idle:
            if winner is not None:
                result["addition_id"] = winner.get("id")
                result["warnings"].append("addition %s of %s from an earlier run was left as it is"
                                          % (winner.get("id"), self.period.label))
            self.settle(additions, wrote=False)
            self._finish_without_usage()
            return
        effective = bc.invoiced_effective_date(effective, self.period, job.agreement, self.config.invoiced_period_policy)
        self._note_effective(effective)
        wanted = self.wanted = self._wanted(line, effective)
        # A month before the latest billed one is a one-time charge, ending on its own last day.
        job.result["backfill"] = bc.later_periods_billed(additions, self.product_id, self.period)
        if winner is None:
            if job.result["backfill"] and not effective.one_time:
                wanted = dict(wanted, cancelledDate=bc.cw_datetime(self.period.last_day))
            winner, additions = self.create(wanted, effective, additions)
        else:
            additions = self.update(winner, wanted, additions)
        self.settle(additions, wrote=job.wrote)

    def _line(self):
        job, result, settings = self.job, self.job.result, self.job.settings
        usage = bc.aggregate(job.records).get(job.identifier) or bc.CompanyUsage(
            company=job.identifier, used_bytes=0, destinations=(), cost=None, price=None, records=0)
        line = bc.plan_line(usage, settings.mode, self.config.unit, settings.pricing)
        result.update(quantity=_text(line.quantity), used_quantity=_text(line.used_quantity),
                      unit_cost=_text(line.unit_cost), unit_price=_text(line.unit_price),
                      total_cost=_text(line.total_cost), total_price=_text(line.total_price),
                      destinations=list(line.destinations))
        result["warnings"].extend(line.warnings)
        self.line = line
        return line

    def _note_effective(self, effective):
        result = self.job.result
        result["effective_date"] = effective.date.isoformat()
        result["invoiced_moved"] = bool(effective.one_time)
        if effective.warning:
            result["warnings"].append(effective.warning)
        # A late charge is one-time: the month's place in the history starts on its first day.
        self.starts = self.period.first_day if effective.one_time else effective.date

    def _wanted(self, line, effective):
        job = self.job
        description = bc.render_invoice_description(job.settings.template, line, self.period, job.company.get("name"))
        wanted = bc.addition_fields(line, self.product_id, effective, description, period=self.period)
        self.job.result["marker"] = wanted["description"]
        return wanted

    def create(self, wanted, effective, additions):
        """POST the period's addition (or predict it); returns ``(addition, additions)``."""
        job = self.job
        self.run.diff_entry(job, None, wanted)
        if self.check_mode:
            predicted = dict(bc.wire_fields(wanted), id=None)
            self.run._finish(job, "created")
            return predicted, additions + [predicted]
        try:
            created, adopted = self.client.create_once(self.path, bc.wire_fields(wanted),
                                                       self.find_period_addition)
        except ApiError as exc:
            refusal = _invoiced_refusal(exc)
            if refusal is None:
                raise
            wanted = self.wanted = self._past_invoiced_span(wanted, effective, refusal)
            created, adopted = self.client.create_once(self.path, bc.wire_fields(wanted),
                                                       self.find_period_addition)
        job.wrote = True
        self.ours = created.get("id")
        if adopted:
            job.result["warnings"].append("the answer to POST %s was lost; addition %s found on re-reading and "
                                          "adopted" % (self.path, created.get("id")))
        self.run._finish(job, "created")
        job.result["addition_id"] = created.get("id")
        return created, additions + [created]

    def _past_invoiced_span(self, wanted, effective, refusal):
        """ConnectWise refused the period as invoiced although the agreement did not say so: apply the policy."""
        agreement = self.client.get_by_id(AGREEMENTS, self.job.agreement["id"]) or {}
        moved = bc.past_invoiced_span(effective, self.period, bc.parse_cw_date(agreement.get("nextInvoiceDate")),
                                      self.config.invoiced_period_policy, refusal)
        self._note_effective(moved)
        return self._wanted(self.line, moved)

    def update(self, existing, wanted, additions):
        """Bring the period's addition to ``wanted`` (PATCH of the changed fields only)."""
        job = self.job
        # Cancel dates are the history's (settle): an update never moves one, least of all later.
        wanted = dict((k, v) for k, v in wanted.items() if k != "cancelledDate")
        if bc.is_late_charge(existing):
            # Moved past an invoiced span by an earlier run: its date and one-time end stay.
            wanted = dict((k, v) for k, v in wanted.items() if k not in ("effectiveDate", "cancelledDate"))
            job.result["effective_date"] = (existing.get("effectiveDate") or "")[:10] or None
            job.result["invoiced_moved"] = True
        changes = bc.addition_changes(existing, wanted)
        job.result["addition_id"] = existing.get("id")
        if not changes:
            self.run._finish(job, "unchanged")
            return additions
        job.result["changed_fields"] = sorted(changes)
        self.run.diff_entry(job, existing, changes)
        updated = dict(existing, **bc.wire_fields(changes))
        if not self.check_mode:
            self.client.patch_fields(self.path, existing["id"], bc.wire_fields(changes))
            job.wrote = True
        self.run._finish(job, "updated")
        return [updated if a.get("id") == existing.get("id") else a for a in additions]

    # ---------------------------------------------------------------- the history
    def settle(self, additions, wrote):
        """Re-read after writing and fix what the re-read shows, until nothing is left to fix."""
        for _round in range(SETTLE_ROUNDS):
            if wrote and not self.check_mode:
                additions = self.read()
            steps = self.plan(additions)
            if not steps:
                return
            additions = self.apply(steps, additions)
            wrote = True
            if self.check_mode:
                return
        self.job.result["warnings"].append("the additions of agreement %s kept changing while this run settled them "
                                           "(another run at work?); run billing again to check"
                                           % self.job.agreement["id"])

    def plan(self, additions):
        """``[("remove", addition, reason) | ("cancel", addition, day, reason)]`` for ``additions``."""
        winner, duplicates = bc.period_winner(self.period_additions(additions), self.period)
        self._adopt(winner)
        steps = [("remove", a, "a duplicate of %s's addition %s (the lowest id is kept)"
                  % (self.period.label, winner.get("id"))) for a in duplicates]
        if self.config.previous_additions == "cancel":
            gone = set(id(a) for a in duplicates)
            kept = [a for a in additions if id(a) not in gone]
            steps += [("cancel", c.addition, c.day, c.reason)
                      for c in bc.history_cancellations(kept, self.product_id, self.period, self.starts)]
        return steps

    def _adopt(self, winner):
        """Another run's addition of the period has the lowest id: it is kept, brought to what this run bills."""
        job, result = self.job, self.job.result
        if winner is None or self.ours is None or winner.get("id") in (self.ours, result["addition_id"]):
            return
        result["warnings"].append("another run billed %s at the same time: its addition %s (the lowest id) is kept "
                                  "and this run's %s removed" % (self.period.label, winner.get("id"), self.ours))
        wanted = self.wanted
        if bc.is_late_charge(winner):
            wanted = dict((k, v) for k, v in wanted.items() if k not in ("effectiveDate", "cancelledDate"))
        changes = bc.addition_changes(winner, wanted)
        if changes:
            self.client.patch_fields(self.path, winner["id"], bc.wire_fields(changes))
            result["changed_fields"] = sorted(changes)
        self.run._finish(job, "updated" if changes else "unchanged")
        result["addition_id"] = winner.get("id")

    def apply(self, steps, additions):
        job = self.job
        for step in steps:
            addition = step[1]
            if step[0] == "remove":
                if not self.check_mode:
                    try:
                        self.client.delete(self.path, addition["id"])
                    except NotFoundError:
                        pass  # the run that made it removed it first
                self.run.diff_removal(job, addition, step[2])
                job.result["removed"].append(addition.get("id"))
                additions = [a for a in additions if a is not addition]
                continue
            changes = {"cancelledDate": bc.cw_datetime(step[2])}
            if not self.check_mode:
                try:
                    self.client.patch_fields(self.path, addition["id"], changes)
                except NotFoundError:
                    # A duplicate of its month, removed meanwhile by the run that settled that month:
                    # nothing left to cancel (the next round's re-read no longer has it).
                    additions = [a for a in additions if a is not addition]
                    continue
            self.run.diff_entry(job, addition, changes, label="cancel")
            if addition.get("id") != job.result["addition_id"] and addition.get("id") not in job.result["cancelled"]:
                job.result["cancelled"].append(addition.get("id"))
            additions = [dict(a, **changes) if a is addition else a for a in additions]
        job.wrote = job.wrote or not self.check_mode
        return additions

    def _finish_without_usage(self):
        job, result = self.job, self.job.result
        if not result["cancelled"]:
            self.run._finish(job, "skipped", NO_USAGE)
            return
        why = "absent from the usage of %s" % self.period.label if job.absent else "no usage in %s" % self.period.label
        one = len(result["cancelled"]) == 1
        self.run._finish(job, "cancelled", "%s: earlier addition%s %s cancelled on %s so %s no longer bill" % (
            why, "" if one else "s", ", ".join(str(i) for i in result["cancelled"]),
            (self.period.first_day - datetime.timedelta(days=1)).isoformat(), "it does" if one else "they do"))


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


@dataclasses.dataclass
class Outcome:
    """What the billing module returns: its result, warnings, and why it fails (if it does)."""

    result: dict
    warnings: list
    error: object = None
    failure: object = None


def bill(connectwise, params, check_mode=False, diff=False):
    """The billing module's run. ``connectwise()`` gives the ConnectWise client (built only when needed).

    InputError before any request; an API failure of the whole run comes back as ``Outcome.error``
    with the requests made, and failed companies as ``Outcome.failure`` with every result.
    """
    config = build_config(params)
    if config.period is None:
        return Outcome(dict(changed=False, skipped_reason=config.skipped_reason, period=None, unit=config.unit,
                            results=[], totals=totals([]), requests={}), [])
    records = read_local_usage(config)
    client, mbs, warnings = connectwise(), None, []
    result = dict(period=config.period.label, unit=config.unit, current_period=config.current_period)
    try:
        if records is None:
            mbs = mbs_client(config)
            records, source_warnings = load_mbs_usage(config, mbs)
            warnings.extend(source_warnings)
        run = BillingRun(client, config, check_mode=check_mode, diff=diff)
        results, changed, diffs = run.run(records)
    except (ApiError, MBSError, ValueError) as exc:
        result["requests"] = requests_made(client, mbs)
        return Outcome(result, warnings, error=exc)
    warnings.extend(run.warnings)
    result.update(changed=changed, results=results, totals=totals(results),
                  requests=requests_made(client, mbs), longest_url=client.longest_url)
    if diff:
        result["diff"] = diffs
    failure = failure_message(results) if any(r["action"] == "failed" for r in results) else None
    return Outcome(result, warnings, failure=failure)
