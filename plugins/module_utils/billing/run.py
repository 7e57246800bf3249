# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One billing run: usage -> one ConnectWise agreement addition per company and period.

I/O goes through :class:`~client.ConnectWiseClient`; every amount and every rule is computed by the
pure modules beside this one. The run is four steps, and no write happens before the last:

1. Bulk reads: usage company names are mapped to ConnectWise identifiers and grouped
   (:class:`~outcome.CompanyBill` each); the agreements of each configured name (paged), the
   companies that have none (chunked ``in (...)``), the catalog items.
2. Plans: per agreement, in a bounded thread pool, its additions are read once (for every product
   line of the company: storage, license and storage-account products, :mod:`product_run`) and each
   line's plan decided (:func:`plan.plan_company`).
3. Checks (:mod:`guard`): renames, an empty month, a mass change; a refusal stops the run here.
4. Apply: per agreement, in the pool, each line's plan is written (or predicted in check mode), the
   additions re-read once for all the lines, and each line settled (:func:`apply.apply_lines`).

Decisions the rules leave open, taken here:

* A usage company with no ConnectWise company, a company without an agreement of the configured
  name, and a company whose agreements of that name do not cover the period are ``skipped`` (with
  the reason), not ``failed``: the vendor's guide has the MSP create the agreement for each company
  it wants billed. One warning lists the companies with usage skipped this way, with the money of
  the usage ConnectWise has no company for.
* A company absent from the usage: from a complete source (MSP360, or usage declared complete) it
  is billed like a month without usage (its open addition stops); from a partial one it is left
  exactly as it is and listed as ``not in this run's usage``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.billing import change_lines, guard, product_run
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.agreements import choose_agreement
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.apply import AGREEMENTS, apply_lines, read_agreement_additions
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.effective_dates import NotBillingYet, agreement_term
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.lines import plan_line
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.outcome import (
    LICENSE,
    NO_COMPANY,
    NO_USAGE,
    NOT_IN_USAGE,
    SKIP_SET,
    STORAGE_ACCOUNT,
    CompanyBill,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.plan import check_size, check_started, plan_company
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.product_sources import ProductUsage
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.text import listed, plural, shown
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.totals import run_totals
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.usage import CompanyUsage, aggregate
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError, BillsNothing
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.msp360 import NO_COMPANY as NO_MSP360_COMPANY

COMPANY_FIELDS = ("id", "identifier", "name")
AGREEMENT_FIELDS = ("id", "name", "company/id", "company/identifier", "company/name", "agreementStatus",
                    "cancelledFlag", "dateCancelled", "startDate", "endDate", "noEndingDateFlag", "billStartDate",
                    "nextInvoiceDate", "prorateFlag")
# cost and price: a license line's unit cost and price when license_products leaves them out.
CATALOG_FIELDS = ("id", "identifier", "inactiveFlag", "cost", "price")
# How many unbilled companies the warning names (the results list them all).
UNBILLED_NAMED = 50
# A company of only_companies that the run did not meet at all (reported, so no company goes missing).
NOT_MET = "not in this run"


@dataclasses.dataclass
class RunReport:
    """What a run did: every company (in result order), whether ConnectWise changed, the diffs, the totals."""

    bills: list
    changed: bool
    diffs: list
    totals: dict
    # The lines whose billing this run stops or lowers, as the run's checks judged them (their labels).
    stops: list = dataclasses.field(default_factory=list)


def _mapping_hint(bill, names):
    """What makes an unmapped usage company billable (the roles set ``company_map`` from ``mbs_company``)."""
    if bill.usage_names == [NO_MSP360_COMPANY]:
        return "its MSP360 users have no company (the warnings name them): give them their company in MSP360"
    return "map the usage company to a ConnectWise identifier with %s" % names("company_map")


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
    def _bill(self, identifier, names, records, absent=False):
        return CompanyBill(identifier=identifier, usage_names=sorted(names), records=records,
                           settings=self.config.settings_for(identifier), period=self.period, unit=self.config.unit,
                           absent=absent)

    def _group(self, records):
        groups = {}
        for record in records:
            identifier = self.config.identifier_of(record.company)
            group = groups.setdefault(fold(identifier), {"identifier": identifier, "names": [], "records": []})
            if record.company not in group["names"]:
                group["names"].append(record.company)
            group["records"].append(dataclasses.replace(record, company=group["identifier"]))
        return [self._bill(g["identifier"], g["names"], g["records"]) for _key, g in sorted(groups.items())]

    # ------------------------------------------------------------------ bulk reads
    def _read_agreements(self):
        """``{name key: {company key: [rows]}}``: one paged read of each agreement name the run may bill.

        Reading by name (not by company) costs one request per 1,000 agreements, gives each row's
        company (id, identifier, name) and finds the agreements of companies absent from the usage.
        """
        names = set(settings.agreement for settings in self.config.all_settings if not settings.skip)
        found = {}
        for name in sorted(names, key=fold):
            rows = found.setdefault(fold(name), {})
            for row in self.client.list(AGREEMENTS, conditions=cond.equals("name", name), fields=AGREEMENT_FIELDS,
                                        order_by="id asc"):
                rows.setdefault(fold((row.get("company") or {}).get("identifier")), []).append(row)
        return found

    def choose_agreement(self, bill, rows):
        choice = choose_agreement(rows, self.period, bill.settings.agreement, bill.identifier)
        if choice.skipped:
            bill.skip(choice.skipped)
        elif choice.failed:
            bill.fail(choice.failed)
        else:
            bill.found_agreement(choice.agreement, choice.agreement.get("company"))
            bill.replaced = choice.replaced
            for warning in choice.warnings:
                bill.warn(warning)

    def _attach_agreements(self, bills, agreements):
        without = []
        for bill in bills:
            rows = agreements.get(fold(bill.settings.agreement), {}).get(fold(bill.identifier))
            if rows:
                self.choose_agreement(bill, rows)
            else:
                without.append(bill)
        self._explain_missing_agreements(without)

    def _explain_missing_agreements(self, bills):
        """Tell a company ConnectWise lacks from one without the agreement (one chunked read)."""
        known = self.client.find_by("company/companies", "identifier", product_run.distinct(bill.identifier for bill in bills),
                                    fields=COMPANY_FIELDS)
        for bill in bills:
            companies = known[fold(bill.identifier)]
            if not companies:
                bill.unmapped = True
                bill.skip("%s with identifier %r (usage company %s); %s"
                          % (NO_COMPANY, bill.identifier, bill.usage_company, _mapping_hint(bill, self.config.names)))
                continue
            bill.company = companies[0]
            bill.no_named_agreement = True
            bill.skip("no agreement named %r for company %s" % (bill.settings.agreement, bill.identifier))

    def _absent(self, bills, agreements):
        """Companies with a covering agreement of the name but no usage record.

        A complete source stops their billing (they are billed like a month without usage); a
        partial one leaves them as they are, listed as ``not in this run's usage``.
        """
        if self.config.absent_companies != "cancel":
            return []
        present = set(fold(bill.identifier) for bill in bills)
        absent = []
        for rows_by_company in agreements.values():
            for key, rows in sorted(rows_by_company.items()):
                if key is None or key in present:
                    continue
                identifier = (rows[0].get("company") or {}).get("identifier")
                settings = self.config.settings_for(identifier)
                if settings.skip or fold(settings.agreement) != fold(rows[0].get("name")):
                    continue
                if not any(agreement_term(row, self.period)[0] for row in rows):
                    continue
                present.add(key)
                bill = self._bill(identifier, [], [], absent=True)
                if self.config.safety.complete_source:
                    self.choose_agreement(bill, rows)
                else:
                    self._leave_as_it_is(bill, rows)
                absent.append(bill)
        return absent

    def _leave_as_it_is(self, bill, rows):
        """A company a partial source does not list: named in the results, never read further nor written."""
        choice = choose_agreement(rows, self.period, bill.settings.agreement, bill.identifier)
        if choice.agreement is not None:
            bill.found_agreement(choice.agreement, choice.agreement.get("company"))
        else:
            bill.company = dict(rows[0].get("company") or {})
        bill.not_in_usage = True
        bill.skip(NOT_IN_USAGE)

    def _refuse_config_that_bills_nothing(self, bills):
        """Fail before any write when no company with usage has an agreement of the configured name(s).

        A misspelled agreement name otherwise skips every company and the run "succeeds" with nothing
        billed; naming the agreements that do exist shows the typo.
        """
        with_usage = [bill for bill in bills if bill.company is not None and (self.config.send_zero or bill.has_usage)]
        if not with_usage or not all(bill.no_named_agreement for bill in with_usage):
            return
        names = set()
        for row in self.client.list_in(AGREEMENTS, "company/identifier",
                                       product_run.distinct(bill.company["identifier"] for bill in with_usage), fields=("id", "name")):
            if isinstance(row.get("name"), str):
                names.add(row["name"])
        wanted = sorted(set(bill.settings.agreement for bill in with_usage))
        option = self.config.names
        raise BillsNothing(
            "no company with usage in %s has an agreement named %s, so nothing would be billed; nothing was "
            "written. Agreement names of these %s: %s. Set %s%s to the agreement's name" % (
                self.period.label, " or ".join(repr(n) for n in wanted),
                plural(len(product_run.distinct(bill.identifier for bill in with_usage)), "company", "companies"),
                ", ".join(repr(n) for n in sorted(names)) if names else "none (run the setup role first)",
                option("agreement"), " (or %s)" % option("companies[*].agreement", "...")
                if option.can_set("companies[*].agreement") else ""))

    def _read_products(self, bills):
        found = self.client.find_by("procurement/catalog", "identifier", set(bill.settings.product for bill in bills),
                                    fields=CATALOG_FIELDS)
        for bill in bills:
            products = found[fold(bill.settings.product)]
            bill.product = products[0] if products else None
            if bill.product is None:
                bill.fail("product %r is not in the ConnectWise catalog (procurement/catalog)" % bill.settings.product)

    # ------------------------------------------------------------------ lines and plans
    def line_of(self, bill):
        """The company's line for the period; ValueError (a missing rate) naming the company."""
        if bill.kind == LICENSE:
            return product_run.license_line_of(self.config, bill)
        usage = aggregate(bill.records).get(bill.identifier) or CompanyUsage(
            company=bill.identifier, used_bytes=0, destinations=(), cost=None, price=None, records=0)
        return plan_line(usage, bill.settings.mode, self.config.unit, bill.settings.pricing,
                         used_quantity=bill.quantity_share)

    def _price(self, bill):
        try:
            bill.price(self.line_of(bill))
            check_size(bill)
        except ValueError as exc:
            bill.fail(str(exc))

    def _started(self, bill):
        try:
            check_started(bill, self.config)
            return True
        except NotBillingYet as exc:
            bill.skip(str(exc))
        except ValueError as exc:
            bill.fail(str(exc))
        return False

    def _plan(self, bills):
        """Read one agreement's additions once, for all its lines (products), and decide each line (no write)."""
        started = [bill for bill in bills if self._started(bill)]
        if not started:
            return bills
        products = [bill.product for bill in started]
        try:
            additions = read_agreement_additions(self.client, started[0].agreement, products, self.period)
            replaced = [(row, read_agreement_additions(self.client, row, products, self.period))
                        for row in started[0].replaced]
        except ApiError as exc:
            for bill in started:
                bill.fail(str(exc))
            return bills
        for bill in started:
            try:
                bill.adopt(plan_company(bill, additions, self.config, replaced))
            except NotBillingYet as exc:
                bill.skip(str(exc))
            except ValueError as exc:
                bill.fail(str(exc))
        return bills

    def _apply(self, bills):
        apply_lines(self.client, self.config, bills, check_mode=self.check_mode, diff=self.diff)
        return bills

    def _in_pool(self, work, bills):
        """``work(lines of one agreement)`` for each agreement of ``bills``, in the bounded pool."""
        groups = product_run.by_agreement(bills)
        if groups:
            with ThreadPoolExecutor(max_workers=min(self.config.parallel, len(groups))) as pool:
                list(pool.map(work, groups))

    # ------------------------------------------------------------------ entry point
    def _product_lines(self, bills, products):
        """The storage lines split by storage account, and the license lines (none without those products)."""
        if products.routes is not None:
            bills = product_run.split_storage_lines(self, bills, products)
        if products.licenses is not None:
            spelled = dict((fold(bill.identifier), bill.identifier) for bill in bills)
            bills = bills + product_run.license_lines(self, products.licenses, spelled)
        return bills

    def _check(self, planned, unmapped, records, products):
        """The run's checks before any write (guard.py), each product's lines judged together.

        ``unmapped``: the whole month's lines of usage ConnectWise has no company for (a call billing
        part of the month judges renames against all of them). The stops a check of the whole month
        let through (``approved_stops``) are not refused again.
        """
        approved = self.config.approved_stops
        for lines in product_run.by_product(planned):
            product = fold(lines[0].settings.product)
            guard.check_renames(lines, [bill for bill in unmapped if fold(bill.settings.product) == product],
                                self.config)
        guard.check_empty_month([bill for bill in planned if bill.kind != LICENSE], records, self.config, approved)
        if products is not None and products.licenses is not None:
            guard.check_empty_licenses([bill for bill in planned if bill.kind == LICENSE], products.licenses,
                                       self.config, approved)
        guard.check_mass_change(planned, self.config, approved)

    def run(self, records, products=None):
        """Bill ``records`` (and ``products``, a :class:`product_sources.ProductUsage`): a :class:`RunReport`.

        ApiError from the bulk reads, RunRefused from the checks.
        """
        bills = self._group(records)
        for bill in bills:
            if bill.settings.skip:
                bill.skip(SKIP_SET % bill.identifier)
        bills = self._product_lines(bills, products or ProductUsage())
        agreements = self._read_agreements()
        self._attach_agreements([bill for bill in bills if bill.pending], agreements)
        self._refuse_config_that_bills_nothing([bill for bill in bills if not bill.settings.skip])
        absent = self._absent(bills, agreements)
        if self.config.products is not None:
            absent += product_run.absent_lines(self, bills + absent, agreements)
        # The whole month's unknown usage (renames), before a call billing part of the month keeps its own.
        unmapped = [bill for bill in bills if bill.unmapped and bill.has_usage]
        bills, absent = self._this_call(bills, absent)
        pending = [bill for bill in bills + absent if bill.pending]
        if pending:
            self._read_products(pending)
        for bill in [bill for bill in pending if bill.pending]:
            self._price(bill)
        planned = [bill for bill in pending if bill.pending]
        self._in_pool(self._plan, planned)
        self._check(planned, unmapped, records, products)
        stops = [shown(bill.label) for bill in guard.stopping(planned)]
        self._in_pool(self._apply, [bill for bill in planned if bill.pending])
        # An absent company (or product line) with nothing to stop is not part of the month.
        bills += [bill for bill in absent if bill.action != "skipped" or bill.not_in_usage]
        split = set(fold(bill.identifier) for bill in bills if bill.kind == STORAGE_ACCOUNT and bill.has_usage)
        bills = product_run.result_order([bill for bill in bills if product_run.shown_in_result(bill, split)])
        totals = run_totals(bills, self.config.unit, self.line_of)
        self._collect_warnings(bills, totals["unmapped"])
        return RunReport(bills=bills, changed=any(bill.changed for bill in bills),
                         diffs=[change_lines.diff_entry(bill.label, bill.changes) for bill in bills if bill.changes],
                         totals=totals, stops=stops)

    def _this_call(self, bills, absent):
        """The companies of ``only_companies`` (every company without it); one listed but not met is skipped.

        The month was grouped, read and judged whole; a call billing part of it plans, writes and
        reports only its own companies (every product line of each), so the parts of a month bill
        each company once.
        """
        if self.config.only_companies is None:
            return bills, absent
        only = set(fold(identifier) for identifier in self.config.only_companies)
        met = set(fold(shown(bill.identifier)) for bill in bills + absent)
        keep = [bill for bill in bills if fold(shown(bill.identifier)) in only]
        for identifier in self.config.only_companies:
            if fold(identifier) in met:
                continue
            met.add(fold(identifier))
            missing = self._bill(identifier, [], [])
            missing.skip("%s: neither in the usage of %s nor with an agreement named %r covering it"
                         % (NOT_MET, self.period.label, missing.settings.agreement))
            keep.append(missing)
        return keep, [bill for bill in absent if fold(shown(bill.identifier)) in only]

    def _collect_warnings(self, bills, unmapped):
        not_billed = [bill for bill in bills if bill.action == "skipped" and bill.reason != NO_USAGE
                      and not bill.settings.skip and bill.has_usage and product_run.chosen(self.config, bill)]
        if not_billed:
            money = ""
            if unmapped["companies"]:
                money = "; the usage ConnectWise has no company for is %s %s%s" % (
                    unmapped["quantity"], self.config.unit,
                    ", price %s" % unmapped["total_price"] if unmapped["total_price"] is not None else "")
            named = len(product_run.distinct(bill.identifier for bill in not_billed))
            self.warnings.append("%s with usage %s not billed (no ConnectWise company or agreement): %s%s"
                                 % (plural(named, "company", "companies"), "was" if named == 1 else "were",
                                    listed(product_run.distinct(bill.identifier for bill in not_billed), UNBILLED_NAMED), money))
        for bill in bills:
            for warning in bill.warnings:
                self.warnings.append(shown("%s: %s" % (bill.label, warning)))
