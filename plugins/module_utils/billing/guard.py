# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run's checks, between every company's plan and the first write: data that cannot be right stops here.

* **Renames**: a company absent from a complete source whose billing would stop, in a run where usage
  of companies ConnectWise does not know appears, may be the same customer renamed (in MSP360 or in
  ConnectWise): it fails, naming the unknown names closest first and how to map them.
* **An empty month**: a complete source with no usage at all while plans would stop billing is a
  month MSP360 has not filled yet: the run stops before any write.
* **A mass change**: more than ``mass_change_share`` of the companies whose agreements bill a
  product would stop or lower their billing of it (and at least :data:`MASS_CHANGE_MIN`): the run
  stops before any write and lists what it would have done. Each product is judged on its own.
* **No license to bill**: a license source that counts no license at all while license lines would
  stop: MSP360's licenses were not read right; the run stops before any write.

``confirm_mass_change`` lets an operator who has checked the data through all three.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.text import plural, shown
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import RunRefused
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

# A single company's billing stopping is a customer leaving, never a mass change.
MASS_CHANGE_MIN = 2
# How many of the changes a refusal's message names (the module's ``refused`` result has them all).
NAMED_IN_MESSAGE = 10
CLOSEST_NAMED = 5
CONFIRM = "confirm_mass_change"


def stopping(bills, approved=frozenset()):
    """The planned lines whose plan stops or lowers billing (not failed: a failed line writes nothing).

    ``approved``: the folded labels (the company, and the product of a line other than storage) whose stop
    a check of the whole month let through (a call that bills the month in parts), left out.
    """
    return [bill for bill in bills if bill.plan is not None and bill.plan.change is not None and bill.action != "failed"
            and fold(shown(bill.label)) not in approved]


def _confirm(config):
    return "%s: true" % config.names(CONFIRM)


def _changes(bills):
    return [dict(bill.plan.change.result(shown(bill.identifier), bill.agreement.get("id")),
                 product=shown(bill.settings.product)) for bill in bills]


def _named(bills):
    return "; ".join("%s: %s" % (shown(bill.label), bill.plan.change.text) for bill in bills[:NAMED_IN_MESSAGE]) + (
        "; and %d more (see refused.changes)" % (len(bills) - NAMED_IN_MESSAGE) if len(bills) > NAMED_IN_MESSAGE else "")


# ---------------------------------------------------------------------------
# renames


def _similarity(bill, name):
    targets = [fold(bill.identifier), fold((bill.company or {}).get("name"))]
    return max(difflib.SequenceMatcher(None, fold(name), target).ratio() for target in targets if target)


def check_renames(bills, unmapped, config):
    """Fail each absent company whose billing would stop while unknown usage appears (it may be renamed)."""
    if not unmapped or config.safety.confirm_mass_change:
        return
    for bill in stopping(bills):
        if not bill.absent:
            continue
        ranked = sorted(unmapped, key=lambda other: (-_similarity(bill, other.identifier), fold(other.identifier)))
        names = ["%r (%s)" % (shown(other.identifier), other.usage_text()) for other in ranked[:CLOSEST_NAMED]]
        more = len(ranked) - CLOSEST_NAMED
        example = ranked[0].identifier
        bill.fail(
            "%s holds an open addition but is not in the usage of %s, while usage of %s ConnectWise does not know "
            "appears: %s%s. If %s is one of them renamed (in MSP360 or in ConnectWise), map it: %s and run again. "
            "Nothing was written for %s; if it really left, run again with %s to stop its billing"
            % (shown(bill.identifier), config.period.label, plural(len(ranked), "company", "companies"),
               ", ".join(names), " and %d more" % more if more > 0 else "", shown(bill.identifier),
               _mapping(config, example, bill.identifier), shown(bill.identifier), _confirm(config)))


def _mapping(config, usage_name, identifier):
    """How the caller maps a usage name to a company: the module's ``company_map``, or the caller's name for it."""
    if config.names("company_map") == "company_map":
        return "company_map: {%r: %r}" % (shown(usage_name), shown(identifier))
    return "%s: %r on the customer %s" % (config.names("company_map"), shown(usage_name), shown(identifier))


# ---------------------------------------------------------------------------
# the month as a whole


def has_usage(records):
    """Whether any record carries usage: bytes, or a money total other than 0."""
    return any(record.used_bytes or record.cost or record.price for record in records)


def check_empty_month(bills, records, config, approved=frozenset()):
    """RunRefused when a complete source has no usage at all for the period while billing would stop."""
    safety = config.safety
    if not safety.complete_source or safety.confirm_mass_change or has_usage(records):
        return
    stops = stopping(bills, approved)
    if not stops:
        return
    source = "MSP360" if config.source == "mbs" else "the usage given (declared complete)"
    raise RunRefused("empty month", (
        "%s reports no usage at all for %s, while %s would stop the billing of %s: the month is probably not ready "
        "in MSP360 yet, so nothing was written. Bill %s again once its usage is there (period: %s; a scheduled job "
        "does it on its next run inside the auto-billing window, later months by hand: see the billing docs). If "
        "no customer used anything in %s, run again with %s. It would have done: %s"
        % (source, config.period.label, "the run", plural(len(stops), "company", "companies"), config.period.label,
           config.period.label, config.period.label, _confirm(config), _named(stops))), _changes(stops))


def _mass_change(bills, config, approved):
    """``(stops, billing)`` of one product's lines when they are a mass change, else None."""
    stops = stopping(bills, approved)
    billing = [bill for bill in bills if bill.plan is not None and bill.plan.billing_before]
    if len(stops) < MASS_CHANGE_MIN or len(stops) <= config.safety.mass_change_share * len(billing):
        return None
    return stops, billing


def check_mass_change(bills, config, approved=frozenset()):
    """RunRefused when more than the configured share of the companies billing a product would stop or be lowered.

    Each product's lines are judged on their own (a company's storage and its licenses are two products).
    """
    safety = config.safety
    if safety.confirm_mass_change:
        return
    groups = {}
    for bill in bills:
        groups.setdefault(fold(bill.settings.product), []).append(bill)
    refused = [(lines, found) for lines, found in
               ((lines, _mass_change(lines, config, approved)) for lines in groups.values()) if found is not None]
    if not refused:
        return
    first, (first_stops, billing) = refused[0]
    stops = [bill for _lines, (more, _billing) in refused for bill in more]
    raise RunRefused("mass change", (
        "billing %s would stop or lower the billing of %d of the %d companies whose agreements bill the product%s "
        "(%d%%, more than %s %s), so nothing was written. Check the usage: a month not complete in "
        "MSP360 or a partial file stops customers who did not leave. If the usage is right, run again with %s. It "
        "would have done: %s"
        % (config.period.label, len(first_stops), len(billing),
           "" if len(groups) == 1 else " " + shown(first[0].settings.product),
           len(first_stops) * 100 // max(len(billing), 1), config.names("mass_change_share"),
           safety.mass_change_share, _confirm(config), _named(stops))),
        _changes(stops), {"companies_billing": len(billing), "share_limit": str(safety.mass_change_share)})


def check_empty_licenses(bills, counts, config, approved=frozenset()):
    """RunRefused when the license source counts nothing to bill while license lines would stop billing."""
    if config.safety.confirm_mass_change or any(group.quantity for group in counts.billed):
        return
    stops = stopping(bills, approved)
    if not stops:
        return
    raise RunRefused("empty month", (
        "%s counts no license to bill for %s (%s read), while the run would stop the license billing of %s: the "
        "licenses were probably not read right (an MSP360 answer without them, an empty or wrong export), so nothing "
        "was written. Check the licenses in MSP360 and run again; if no customer has a paid license any more, run "
        "again with %s. It would have done: %s"
        % (counts.source, config.period.label, plural(counts.read, "license", "licenses"),
           plural(len(stops), "line", "lines"), _confirm(config), _named(stops))), _changes(stops))
