# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Customer records and the roles' input checks, in Python rather than in Jinja.

``connectwise_customers`` (and the hosts of ``connectwise_customers_group``) are the one place
a customer is declared; both roles read them through :func:`customers`, which applies the rules
of ``module_utils/customer_record.py`` and words its refusals for the roles' users.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.mbs.connectwise.plugins.module_utils.customer_record import (
    BILLING_OVERRIDE_KEYS,
    DATE_KEYS,
    customer_records,
    date_problem,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import CustomerError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

CONNECTION_VARIABLES = (("connectwise_site", "CW_SITE"), ("connectwise_company_id", "CW_COMPANY_ID"),
                        ("connectwise_public_key", "CW_PUBLIC_KEY"), ("connectwise_private_key", "CW_PRIVATE_KEY"),
                        ("connectwise_client_id", "CW_CLIENT_ID"))
NAME_VARIABLES = ("connectwise_management_solution_name", "connectwise_agreement_type_name",
                  "connectwise_agreement_name")
# The references of the setup's predictions that name objects the setup itself creates.
CREATED_BY_THE_SETUP = ("integration", "agreement_type", "product")
# Variables of earlier versions of the roles, read by neither role now: set, they would be ignored
# silently (a setup creating no agreement, a billing leaving customers unmapped).
REPLACED_VARIABLES = {
    "connectwise_companies": (
        "the setup role reads connectwise_customers, one entry per customer (an identifier, or a record with "
        "identifier, start_date, bill_start_date, end_date, contact...), for example connectwise_customers: "
        "[AcmeCorp, {identifier: Initech, start_date: \"2026-10-01\"}]"),
    "billing_company_map": (
        "the MSP360 company name of a customer is its mbs_company in connectwise_customers, for example "
        "connectwise_customers: [{identifier: Initech, mbs_company: \"Initech Inc.\"}] instead of "
        "billing_company_map: {\"Initech Inc.\": Initech}"),
    "billing_companies": (
        "a customer's own rates, cost mode, invoice description and bill: false are keys of its record in "
        "connectwise_customers, for example connectwise_customers: [{identifier: Globex, price_per_gb: \"0.08\"}, "
        "{identifier: Umbrella, bill: false}]"),
}


def customers(value, hostvars=None, hosts=None):
    """``connectwise_customers`` (+ the hosts of a group) -> normalised records, checked.

    The rules of a record are :mod:`module_utils.customer_record`'s (ansible-core's argument-spec
    validator); a host contributes only its documented customer keys.
    """
    if hosts and hostvars is None:
        raise AnsibleFilterError("customers: hostvars is needed to read the customers of an inventory group")
    try:
        return customer_records(value, [(to_text(name), hostvars[name]) for name in hosts or []])
    except CustomerError as error:
        raise AnsibleFilterError(to_text(error))


def replaced_variables(names):
    """The message for variables that ``connectwise_customers`` replaced, set in ``names``; else ''."""
    found = [name for name in sorted(set(to_text(n) for n in names or [])) if name in REPLACED_VARIABLES]
    if not found:
        return ""
    return ("%s. Nothing was sent to ConnectWise." % "; ".join(
        "%s is no longer read and was replaced by connectwise_customers: %s" % (name, REPLACED_VARIABLES[name])
        for name in found))


def unknown_customers(records, missing):
    """The message for customers ConnectWise does not know (``company_info``'s ``missing``), or ''."""
    missing = set(fold(to_text(m)) for m in missing or [])
    unknown = [r for r in records if fold(r["identifier"]) in missing]
    if not unknown:
        return ""
    return ("%d customer%s %s no ConnectWise company (company/companies identifier): %s. Correct the identifier "
            "or create the company; nothing was written"
            % (len(unknown), "s" if len(unknown) > 1 else "", "have" if len(unknown) > 1 else "has",
               "; ".join("%r (%s)" % (r["identifier"], r["where"]) for r in unknown)))


def agreement_companies(records):
    """The agreement module's ``companies`` entries: each customer's identifier, dates and contact."""
    entries = []
    for record in records:
        entry = {"identifier": record["identifier"]}
        for key in DATE_KEYS + ("contact",):
            if record.get(key) is not None:
                entry[key] = record[key]
        entries.append(entry)
    return entries


def result_or_prediction(result, prediction, state="present"):
    """A task's registered result, or its prediction when the task was skipped.

    ``connectwise_state=present`` skips an object's task when ``setup_info``, given the same
    options, predicted no change; the summary then reports the prediction. A teardown has no
    such prediction (one left by an earlier setup in the play is stale).
    """
    if (result or {}).get("operation") is not None or (result or {}).get("results") is not None \
            or state != "present":
        return result or {}
    return prediction or {}


def in_auto_window(today, days, timezone="UTC"):
    """Whether the billing module, given ``today`` (empty: the real date in ``timezone``) and
    ``auto_window_days: days``, bills in auto mode today: the module's own rules decide.

    The role asks only to skip its own read-only preflight on the days the module sends no
    request at all; a value the module refuses gives True, so the module runs and names it.
    """
    # The billing module's configuration is imported by the billing role's call alone (the setup role's tasks load
    # these filters too); _today is billing/config.py's reading of the module's today option.
    from ansible_collections.mbs.connectwise.plugins.module_utils.billing.config import _today as billing_today
    from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import auto_billing_period

    given = to_text(today).strip() if today not in (None, "") else None
    try:
        # The zone only dates the real today; a given date is taken as it is, whatever the zone.
        day = billing_today(given, "UTC" if given else (timezone or "UTC"))
        return auto_billing_period(day, int(days)) is not None
    except (TypeError, ValueError):
        return True


def billing_customers(records):
    """The billing module's ``company_map`` and ``companies`` (per-company overrides) from the records."""
    company_map, overrides = {}, {}
    for record in records:
        for name in record["mbs_company"]:
            company_map[name] = record["identifier"]
        override = {}
        for key in BILLING_OVERRIDE_KEYS:
            if record.get(key) is not None:
                override[key] = record[key]
        if not record["bill"]:
            override["skip"] = True
        if override:
            overrides[record["identifier"]] = override
    return {"company_map": company_map, "companies": overrides}


def solution_name_max():
    """The longest connectwise_solution_name: it names a management solution and a managed devices integration.

    Their declarations are the one place of the limit. resources.py brings the ConnectWise client (and
    requests) with it, so it is imported by this check alone, not by every task that loads these filters.
    """
    from ansible_collections.mbs.connectwise.plugins.module_utils.resources import (
        MANAGED_DEVICES_INTEGRATION,
        MANAGEMENT_SOLUTION,
    )
    return min(MANAGEMENT_SOLUTION.fields["name"].max_length, MANAGED_DEVICES_INTEGRATION.fields["name"].max_length)


def setup_input_problems(settings):
    """The setup role's checks that need several variables: a list of messages (empty: all good)."""
    problems = []
    for var, env in CONNECTION_VARIABLES:
        if not to_text(settings.get(var) or "").strip():
            problems.append("%s is empty: set it, or the %s environment variable" % (var, env))
    name = to_text(settings.get("connectwise_solution_name") or "")
    if not name.strip():
        problems.append("connectwise_solution_name is empty")
    elif len(name) > solution_name_max():
        problems.append("connectwise_solution_name %r is %d characters long; ConnectWise allows at most %d for a "
                        "management solution and a managed devices integration, which the guide names like the "
                        "agreement type and the agreements" % (name, len(name), solution_name_max()))
    if settings.get("connectwise_state") == "present" and not to_text(
            settings.get("connectwise_integrator_login") or "").strip():
        problems.append("connectwise_integrator_login is empty: give the user name of an existing integrator login "
                        "(System > Setup Tables > Integrator Login); the guide selects one, it never creates one")
    for var in ("connectwise_agreement_start_date", "connectwise_agreement_bill_start_date", "connectwise_today"):
        if settings.get(var):
            problem = date_problem(settings[var], var)
            if problem:
                problems.append(problem)
    return problems


def name_conflicts(settings, solution_name):
    """Names set apart from connectwise_solution_name, which the guide requires to be one name."""
    found = []
    for var in NAME_VARIABLES:
        value = settings.get(var)
        if value not in (None, "") and to_text(value) != to_text(solution_name):
            found.append('%s is "%s" but connectwise_solution_name is "%s"' % (var, value, solution_name))
    return found


NAMES_MESSAGE = ("%s. The vendor's guide requires the management solution, the agreement type and the agreements to "
                 "have the same name: set connectwise_solution_name alone, it names all three (and the managed devices "
                 "integration).")


def setup_input_problem(settings, hostvars=None, groups=None, defined=None):
    """The first reason the setup role refuses its input, before any request: a message, or ''.

    In this order: variables that ``connectwise_customers`` replaced among the ``defined`` names
    (:func:`replaced_variables`), the one name (:func:`name_conflicts`), the variables that need
    each other (:func:`setup_input_problems`), the customers group (``groups``: the inventory's),
    then every customer record (:func:`customers`, the group's hosts read from ``hostvars``).
    """
    replaced = replaced_variables(defined)
    if replaced:
        return replaced
    conflicts = name_conflicts(settings, settings.get("connectwise_solution_name"))
    if conflicts:
        return NAMES_MESSAGE % "; ".join(conflicts)
    problems = setup_input_problems(settings)
    if problems:
        return "Invalid input, nothing was sent to ConnectWise: %s" % "; ".join(problems)
    group, groups = settings.get("connectwise_customers_group"), groups or {}
    if group and group not in groups:
        return ("connectwise_customers_group is %s, but the inventory has no such group (groups: %s). Nothing was "
                "sent to ConnectWise." % (json.dumps(group), ", ".join(sorted(groups))))
    try:
        customers(settings.get("connectwise_customers"), hostvars, groups[group] if group else [])
    except AnsibleFilterError as exc:
        return to_text(exc.message)
    return ""


def unresolved_references(predictions):
    """The references the predictions found missing, except the objects made in this run.

    ``predictions`` is ``setup_info``'s result (or a list of check-mode results). The setup creates
    the agreement type, the product and the integration before the objects that refer to them, so
    on a first run they are missing from those predictions.
    """
    if isinstance(predictions, dict):
        predictions = [value for value in predictions.values() if isinstance(value, dict)]
    missing = []
    for result in predictions or []:
        for ref in (result or {}).get("unresolved") or []:
            described = '%s "%s" (%s)' % (ref.get("label"), ref.get("name"), ref.get("path"))
            if ref.get("option") not in CREATED_BY_THE_SETUP and described not in missing:
                missing.append(described)
    return missing


def preflight_problem(setup, records):
    """Why the setup must stop before its first write, from ``setup_info``'s result: a message, or ''.

    First what ConnectWise lacks (:func:`unresolved_references`), then the customers it has no
    company for (:func:`unknown_customers` of the agreement prediction's ``missing_companies``).
    """
    missing = unresolved_references(setup)
    if missing:
        one = len(missing) == 1
        return ("ConnectWise lacks %s. The vendor's guide selects %s but never creates %s: create %s in ConnectWise "
                "(or change the role's variables) and run again. Nothing was written."
                % (", ".join(missing), "this" if one else "these", "it" if one else "them", "it" if one else "them"))
    agreement = (setup or {}).get("agreement") or {}
    return unknown_customers(records, agreement.get("missing_companies"))


class FilterModule(object):
    def filters(self):
        return {
            "customers": customers,
            "unknown_customers": unknown_customers,
            "agreement_companies": agreement_companies,
            "result_or_prediction": result_or_prediction,
            "billing_customers": billing_customers,
            "in_auto_window": in_auto_window,
            "setup_input_problem": setup_input_problem,
            "unresolved_references": unresolved_references,
            "preflight_problem": preflight_problem,
            "replaced_variables": replaced_variables,
        }
