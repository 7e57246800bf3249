# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Customer records and the roles' input checks, in Python rather than in Jinja.

``connectwise_customers`` (and the hosts of ``connectwise_customers_group``) are the one place
a customer is declared; both roles read them through :func:`customers`, which refuses an
unknown key naming the customer, the key and the allowed keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
from decimal import Decimal, InvalidOperation

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

COST_MODES = ("average_cost", "total", "quantity_only")
DATE_KEYS = ("start_date", "bill_start_date", "end_date")
RATE_KEYS = ("price_per_gb", "cost_per_gb")
# The documented keys of a customer record, in the order the docs list them.
CUSTOMER_KEYS = ("identifier", "mbs_company", "bill", "start_date", "bill_start_date", "end_date", "contact",
                 "price_per_gb", "cost_per_gb", "cost_mode", "invoice_description")
# Host variables that are Ansible's or the roles', never customer settings.
IGNORED_PREFIXES = ("ansible_", "connectwise_", "billing_", "molecule_")
IGNORED_HOST_VARS = frozenset(("inventory_hostname", "inventory_hostname_short", "group_names", "groups",
                               "inventory_dir", "inventory_file", "playbook_dir", "omit", "role_names",
                               "hostvars", "environment"))
CONNECTION_VARIABLES = (("connectwise_site", "CW_SITE"), ("connectwise_company_id", "CW_COMPANY_ID"),
                        ("connectwise_public_key", "CW_PUBLIC_KEY"), ("connectwise_private_key", "CW_PRIVATE_KEY"),
                        ("connectwise_client_id", "CW_CLIENT_ID"))
NAME_VARIABLES = ("connectwise_management_solution_name", "connectwise_agreement_type_name",
                  "connectwise_agreement_name")
SOLUTION_NAME_MAX = 30
# The references of the setup's predictions that name objects the setup itself creates.
CREATED_BY_THE_SETUP = ("integration", "agreement_type", "product")


def _allowed():
    return ", ".join(CUSTOMER_KEYS)


def check_date(value, where):
    """The message for a value that is not a calendar date written YYYY-MM-DD, else None."""
    text = to_text(value).strip()
    try:
        parsed = datetime.datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        parsed = None
    if parsed is None or parsed.isoformat() != text:
        return '%s is "%s", not a date in the form YYYY-MM-DD (a calendar date)' % (where, to_text(value))
    return None


def _rate(value, where):
    if isinstance(value, bool):
        raise AnsibleFilterError("%s is %r, not a rate such as \"0.06\"" % (where, value))
    try:
        # A float goes through its shortest text (0.06, not 0.0599999...).
        rate = Decimal(repr(value) if isinstance(value, float) else to_text(value).strip())
    except (InvalidOperation, ValueError):
        raise AnsibleFilterError("%s is %r, not a rate such as \"0.06\"" % (where, value))
    if not rate.is_finite() or rate < 0:
        raise AnsibleFilterError("%s is %r: a rate must be zero or more" % (where, value))
    return str(rate)


def _record(raw, where):
    """One normalised record; AnsibleFilterError naming the customer, the key and the allowed keys."""
    if isinstance(raw, str):
        raw = {"identifier": raw}
    if not isinstance(raw, dict):
        raise AnsibleFilterError("%s must be a company identifier or a record with the keys %s, got %r"
                                 % (where, _allowed(), raw))
    identifier = raw.get("identifier")
    if not isinstance(identifier, str) or not identifier.strip():
        raise AnsibleFilterError("%s needs an identifier (the ConnectWise company identifier, a non-empty string), "
                                 "got %r" % (where, identifier))
    identifier = identifier.strip()
    who = "customer %r (%s)" % (identifier, where)
    unknown = sorted(str(key) for key in raw if key not in CUSTOMER_KEYS)
    if unknown:
        raise AnsibleFilterError("%s: unknown key%s %s; the allowed keys are %s"
                                 % (who, "s" if len(unknown) > 1 else "", ", ".join(unknown), _allowed()))
    record = dict((key, None) for key in CUSTOMER_KEYS)
    record["identifier"] = identifier
    names = raw.get("mbs_company")
    if names is None:
        names = []
    elif isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise AnsibleFilterError("%s: mbs_company is %r, not an MSP360 company name (or a list of names)"
                                 % (who, raw.get("mbs_company")))
    record["mbs_company"] = [n.strip() for n in names]
    bill = raw.get("bill", True)
    if not isinstance(bill, bool):
        raise AnsibleFilterError("%s: bill is %r, not true or false" % (who, bill))
    record["bill"] = bill
    for key in DATE_KEYS:
        if raw.get(key) not in (None, ""):
            problem = check_date(raw[key], "%s: %s" % (who, key))
            if problem:
                raise AnsibleFilterError(problem)
            record[key] = to_text(raw[key]).strip()
    contact = raw.get("contact")
    if contact not in (None, ""):
        if isinstance(contact, bool) or not isinstance(contact, (str, int)):
            raise AnsibleFilterError("%s: contact is %r, not a contact id or a \"First Last\" name" % (who, contact))
        record["contact"] = contact
    for key in RATE_KEYS:
        if raw.get(key) not in (None, ""):
            record[key] = _rate(raw[key], "%s: %s" % (who, key))
    mode = raw.get("cost_mode")
    if mode not in (None, ""):
        if mode not in COST_MODES:
            raise AnsibleFilterError("%s: cost_mode is %r, not one of %s" % (who, mode, ", ".join(COST_MODES)))
        record["cost_mode"] = mode
    description = raw.get("invoice_description")
    if description not in (None, ""):
        if not isinstance(description, str):
            raise AnsibleFilterError("%s: invoice_description is %r, not a text" % (who, description))
        record["invoice_description"] = description
    record["where"] = where
    return record


def _host_record(name, variables):
    raw = {"identifier": name}
    for key in variables.keys():
        key = to_text(key)
        if key in IGNORED_HOST_VARS or key.startswith(IGNORED_PREFIXES) or key.startswith("__"):
            continue
        raw[key] = variables[key]
    return raw


def customers(value, hostvars=None, hosts=None):
    """``connectwise_customers`` (+ the hosts of a group) -> normalised records, checked."""
    if value is None:
        value = []
    if not isinstance(value, list):
        raise AnsibleFilterError("connectwise_customers must be a list of company identifiers or records, got %r"
                                 % (value,))
    raws = [(raw, "connectwise_customers[%d]" % index) for index, raw in enumerate(value)]
    for name in hosts or []:
        if hostvars is None:
            raise AnsibleFilterError("customers: hostvars is needed to read the customers of an inventory group")
        raws.append((_host_record(to_text(name), hostvars[name]), "inventory host %s" % name))
    records, seen = [], {}
    for raw, where in raws:
        record = _record(raw, where)
        key = record["identifier"].casefold()
        if key in seen:
            raise AnsibleFilterError("customer %r (%s) is declared twice (also %s); identifiers match "
                                     "case-insensitively" % (record["identifier"], where, seen[key]))
        seen[key] = where
        records.append(record)
    names = {}
    for record in records:
        for name in record["mbs_company"]:
            other = names.setdefault(name.casefold(), record["identifier"])
            if other != record["identifier"]:
                raise AnsibleFilterError("MSP360 company %r is the mbs_company of both %r and %r"
                                         % (name, other, record["identifier"]))
    return records


def unknown_customers(records, missing):
    """The message for customers ConnectWise does not know (``company_info``'s ``missing``), or ''."""
    missing = set(to_text(m).casefold() for m in missing or [])
    unknown = [r for r in records if r["identifier"].casefold() in missing]
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
    """Whether ``today`` (empty: the real date in ``timezone``) is on days 1..``days`` of its month.

    The billing module decides the window itself; the role asks only to skip its own read-only
    preflight on the days the module sends no request at all.
    """
    if today in (None, ""):
        if timezone in (None, "", "UTC", "Etc/UTC", "Z"):
            zone = datetime.timezone.utc
        else:
            try:
                from zoneinfo import ZoneInfo
                zone = ZoneInfo(timezone)
            except (ImportError, KeyError, ValueError):
                return True  # the module names the bad zone; let it run
        day = datetime.datetime.now(zone).date()
    else:
        try:
            day = datetime.datetime.strptime(to_text(today).strip(), "%Y-%m-%d").date()
        except ValueError:
            return True  # the module refuses the bad date before any request
    return day.day <= int(days)


def billing_customers(records):
    """The billing module's ``company_map`` and ``companies`` (per-company overrides) from the records."""
    company_map, overrides = {}, {}
    for record in records:
        for name in record["mbs_company"]:
            company_map[name] = record["identifier"]
        override = {}
        for key in RATE_KEYS + ("cost_mode", "invoice_description"):
            if record.get(key) is not None:
                override[key] = record[key]
        if not record["bill"]:
            override["skip"] = True
        if override:
            overrides[record["identifier"]] = override
    return {"company_map": company_map, "companies": overrides}


def setup_input_problems(settings):
    """The setup role's checks that need several variables: a list of messages (empty: all good)."""
    problems = []
    for var, env in CONNECTION_VARIABLES:
        if not to_text(settings.get(var) or "").strip():
            problems.append("%s is empty: set it, or the %s environment variable" % (var, env))
    name = to_text(settings.get("connectwise_solution_name") or "")
    if not name.strip():
        problems.append("connectwise_solution_name is empty")
    elif len(name) > SOLUTION_NAME_MAX:
        problems.append("connectwise_solution_name %r is %d characters long; ConnectWise allows at most %d for a "
                        "management solution and a managed devices integration, which the guide names like the "
                        "agreement type and the agreements" % (name, len(name), SOLUTION_NAME_MAX))
    if settings.get("connectwise_state") == "present" and not to_text(
            settings.get("connectwise_integrator_login") or "").strip():
        problems.append("connectwise_integrator_login is empty: give the user name of an existing integrator login "
                        "(System > Setup Tables > Integrator Login); the guide selects one, it never creates one")
    for var in ("connectwise_agreement_start_date", "connectwise_agreement_bill_start_date", "connectwise_today"):
        if settings.get(var):
            problem = check_date(settings[var], var)
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


def setup_input_problem(settings, hostvars=None, groups=None):
    """The first reason the setup role refuses its input, before any request: a message, or ''.

    In this order: the one name (:func:`name_conflicts`), the variables that need each other
    (:func:`setup_input_problems`), the customers group (``groups``: the inventory's), then every
    customer record (:func:`customers`, the group's hosts read from ``hostvars``).
    """
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
        }
