#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: agreement
short_description: Ensure a company's agreement exists in ConnectWise Manage, for one company or hundreds
version_added: 0.1.0
description:
  - Manages the per-company agreement (C(finance/agreements)) of the backup vendor's ConnectWise
    billing setup, the agreement that the vendor's billing sends its additions to.
  - The vendor's guide requires the management solution, the agreement type and the agreements
    to share one name (C(ManagedBackupService) in its examples).
  - The natural key is the company (O(company) or an entry of O(companies)) plus O(name).
    The agreement type is not part of the key; it is compared, and an agreement of that name
    with another type is changed to O(agreement_type).
    Two agreements of one company with the same name (ConnectWise allows it) are ambiguous;
    that company fails and nothing of it is changed.
  - With O(companies) one task ensures the agreements of many companies with a few bulk reads
    (companies, existing agreements and contacts are read with chunked C(in (...)) conditions,
    page by page) plus one write per created, changed or deleted agreement.
  - One company's failure (unknown identifier, no contact, ambiguous agreements, a refused
    write) never stops the others. All companies are processed, then the task fails, listing
    the failed companies with their reasons; RV(results) is returned with the failure too.
  - Only the options you give are compared; a second run with the same options changes nothing.
author:
  - mbs.connectwise maintainers (@mbs-connectwise)
extends_documentation_fragment:
  - mbs.connectwise.connection
attributes:
  check_mode:
    support: full
    description: Reads ConnectWise and predicts every company's result without writing.
  diff_mode:
    support: full
    description: Returns a list with one before/after entry per changed agreement.
options:
  company:
    description:
      - The identifier of one ConnectWise company (C(company/companies) C(identifier), for example C(AcmeCorp)).
      - Mutually exclusive with O(companies); one of the two is required.
    type: str
  companies:
    description:
      - Many companies in one task. Each entry is a company identifier, or a dictionary with the
        identifier under C(identifier) (or C(company)) and optional per-company overrides of
        O(start_date), O(bill_start_date), O(end_date) and O(contact) under those names.
      - An entry's overrides replace the task-level option for that company only.
      - A company may appear only once (identifiers compare case-insensitively).
      - An empty list does nothing.
      - Mutually exclusive with O(company); one of the two is required.
    type: list
    elements: raw
  name:
    description:
      - The agreement's name. At most 100 characters.
      - Together with the company, the natural key.
    type: str
    required: true
  agreement_type:
    description:
      - The name of the agreement type (C(finance/agreements/types)), for example C(ManagedBackupService).
      - Required when O(state=present). Ignored when O(state=absent).
    type: str
  start_date:
    description:
      - The agreement's start date, C(YYYY-MM-DD).
    type: str
  end_date:
    description:
      - The agreement's end date, C(YYYY-MM-DD).
      - Giving it (here or in a O(companies) entry) makes O(no_ending_date) default to V(false)
        for that company; giving it together with O(no_ending_date=true) is an error.
    type: str
  no_ending_date:
    description:
      - Whether the agreement has no ending date (C(noEndingDateFlag)).
      - When not set, V(true) for a company without an O(end_date), and V(false) for one with an O(end_date).
      - V(true) together with an O(end_date) is refused, and so is V(false) without an O(end_date).
      - An agreement with no ending date has its end date (C(endDate)) cleared, so one that had an
        O(end_date) before does not keep ending on it.
    type: bool
  bill_start_date:
    description:
      - The billing start date, C(YYYY-MM-DD). Agreement additions dated before it are refused
        by ConnectWise, so set it no later than the first billed month.
    type: str
  contact:
    description:
      - The agreement's contact, one of the company's contacts, given either as its numeric
        ConnectWise id (for example C("4711")) or as its full name C(First Last), matched
        case-insensitively against the company's contacts' first and last names.
        A name that matches no contact, or several, fails for that company.
      - When given, it is compared and changed on existing agreements too.
      - When not given, a new agreement gets the company's default contact (C(defaultContact)),
        and an existing agreement's contact is left as it is. Creating an agreement for a company
        without a default contact fails for that company, naming it.
    type: str
  allow_name_mismatch:
    description:
      - The vendor's guide requires the agreement to have the same name as its agreement type (and
        the management solution). By default an O(name) that differs from O(agreement_type)
        (compared case-insensitively) fails before any request, naming both.
      - V(true) allows a different name, for a ConnectWise set up otherwise on purpose.
      - Not checked with O(state=absent).
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the agreements; V(absent) deletes each company's agreement
        named O(name) (for teardown).
    type: str
    choices: [present, absent]
    default: present
notes:
  - The lookups are case-insensitive, like ConnectWise's own conditions.
"""

EXAMPLES = r"""
- name: Ensure the ManagedBackupService agreement for one company
  mbs.connectwise.agreement:
    site: api-na.myconnectwise.net
    company_id: mymsp
    public_key: "{{ cw_public_key }}"
    private_key: "{{ cw_private_key }}"
    client_id: "{{ cw_client_id }}"
    company: AcmeCorp
    name: ManagedBackupService
    agreement_type: ManagedBackupService
    start_date: "2026-10-01"
    bill_start_date: "2026-10-01"

- name: Ensure the agreements of every billed company in one task
  module_defaults:
    group/mbs.connectwise.connectwise:
      site: http://127.0.0.1:8765
      company_id: sandbox
      public_key: sandbox-public
      private_key: sandbox-private
      client_id: 00000000-0000-0000-0000-000000000000
  block:
    - name: Agreements for all companies, one with its own dates and contact
      mbs.connectwise.agreement:
        name: ManagedBackupService
        agreement_type: ManagedBackupService
        start_date: "2026-10-01"
        bill_start_date: "2026-10-01"
        companies:
          - AcmeCorp
          - Globex
          - identifier: Initech
            start_date: "2026-11-01"
            bill_start_date: "2026-11-01"
            end_date: "2027-10-31"
            contact: Bill Lumbergh
      register: agreements

    - name: Show the agreement ids
      ansible.builtin.debug:
        msg: "{{ agreements.results | items2dict(key_name='company', value_name='id') }}"

    - name: Remove the test agreements again
      mbs.connectwise.agreement:
        name: ManagedBackupService
        companies: "{{ billed_companies }}"
        state: absent
"""

RETURN = r"""
results:
  description:
    - One entry per company, in the order given.
    - Returned on failure too, with the entries of the companies that succeeded.
  returned: always
  type: list
  elements: dict
  contains:
    company:
      description: The company identifier as given.
      type: str
      sample: AcmeCorp
    operation:
      description: V(create), V(update), V(delete) or V(none) (also for a failed company).
      type: str
      sample: create
    id:
      description: The agreement's id; null when it was deleted, failed, or would be created in check mode.
      type: int
      sample: 42
    object:
      description:
        - The agreement as ConnectWise returns it after the operation (the prediction in check mode).
        - Null after a deletion and for a failed company.
      type: dict
    converged:
      description:
        - Set when an overlapping run created the same agreement at the same time; null otherwise.
        - C(kept) is the id that stays (the lowest), C(removed) the ids of this run's own duplicates it deleted.
      type: dict
      sample: {"kept": 41, "removed": [42]}
    error:
      description: Why this company failed; null when it did not.
      type: str
      sample: "company 'Ghost': no company with this identifier in ConnectWise (company/companies)"
counts:
  description: How many companies had each operation, plus how many failed.
  returned: always
  type: dict
  sample: {"create": 248, "update": 1, "delete": 0, "none": 0, "failed": 1}
operation:
  description: What was done to the agreement of O(company) (only with O(company)).
  returned: when O(company) is given
  type: str
  sample: update
object:
  description: The agreement of O(company) after the operation (only with O(company)).
  returned: when O(company) is given
  type: dict
  sample:
    id: 42
    name: ManagedBackupService
    type: {"id": 3, "name": "ManagedBackupService"}
    company: {"id": 19, "identifier": "AcmeCorp", "name": "Acme Corp"}
    contact: {"id": 7, "name": "Wile Coyote"}
    startDate: "2026-10-01T00:00:00Z"
    billStartDate: "2026-10-01T00:00:00Z"
    noEndingDateFlag: true
failed_companies:
  description: The identifiers of the companies that failed, with their reasons.
  returned: failure
  type: dict
  sample: {"Ghost": "company 'Ghost': no company with this identifier in ConnectWise (company/companies)"}
diff:
  description: One before/after entry per created, changed or deleted agreement, when run with C(--diff).
  returned: changed and diff mode
  type: list
  elements: dict
"""

import re

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.client import InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.connectwise_module import ConnectWiseModule
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure import CLEAR, Engine, Field, Ref, Referrer, Resource
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import ApiError

COMPANIES = "company/companies"
CONTACTS = "company/contacts"
COMPANY_REF = Ref(COMPANIES, match="identifier", label="company")
TYPE_REF = Ref("finance/agreements/types", label="agreement type")
CONTACT_REF = Ref(CONTACTS, label="contact")
OVERRIDES = ("start_date", "bill_start_date", "end_date", "contact")
OPERATIONS = ("create", "update", "delete", "none")
_CONTACT_ID = re.compile(r"^\s*[0-9]+\s*$")


def agreement_resource(default_contact=None):
    """The agreement :class:`Resource`; ``default_contact(desired, resolved)`` gives a new one's contact."""
    return Resource(
        name="agreement",
        path="finance/agreements",
        key=("company", "name"),
        fields={
            "company": Field("company", kind="ref", ref=COMPANY_REF),
            "name": Field("name", max_length=100),
            "agreement_type": Field("type", kind="ref", ref=TYPE_REF),
            "contact": Field("contact", kind="ref", ref=CONTACT_REF, create_default=default_contact),
            "start_date": Field("startDate", kind="date"),
            "end_date": Field("endDate", kind="date"),
            "no_ending_date": Field("noEndingDateFlag", kind="bool"),
            "bill_start_date": Field("billStartDate", kind="date"),
        },
        required_on_create=("name", "agreement_type", "company", "contact"),
        referrers=(Referrer("finance/agreements/{id}/additions", None, "agreement addition"),
                   Referrer("finance/agreements", "parentAgreement/id", "child agreement")),
    )


def _fold(value):
    return value.lower() if isinstance(value, str) else value


def _full_name(contact):
    return " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p).lower()


def check_same_name(params):
    """The guide's rule: agreement and agreement type share one name (unless allowed otherwise)."""
    if params["state"] != "present" or params.get("allow_name_mismatch"):
        return
    if _fold(params["name"]) != _fold(params.get("agreement_type")):
        raise InputError("name %r differs from agreement_type %r: the vendor's guide requires the management "
                         "solution, the agreement type and the agreements to have the same name; give the same "
                         "name, or set allow_name_mismatch: true" % (params["name"], params.get("agreement_type")))


def parse_entries(params):
    """``[(identifier, overrides)]`` from ``company`` or ``companies``; input errors only, no I/O."""
    if params.get("company") is not None:
        raw = [params["company"]]
    else:
        raw = params.get("companies") or []
    entries, seen = [], {}
    for position, entry in enumerate(raw, 1):
        where = "companies[%d]" % position if params.get("company") is None else "company"
        if isinstance(entry, dict):
            unknown = sorted(set(entry) - set(OVERRIDES) - {"identifier", "company"})
            if unknown:
                raise InputError("%s: unknown key(s) %s; allowed: identifier (or company), %s"
                                 % (where, ", ".join(unknown), ", ".join(OVERRIDES)))
            if "identifier" in entry and "company" in entry:
                raise InputError("%s: give the identifier as identifier or as company, not both" % where)
            identifier = entry.get("identifier", entry.get("company"))
            overrides = {k: entry[k] for k in OVERRIDES if entry.get(k) is not None}
        else:
            identifier, overrides = entry, {}
        if isinstance(identifier, bool) or not isinstance(identifier, (str, int)) or not str(identifier).strip():
            raise InputError("%s: a company identifier (a non-empty string) is required, got %r"
                             % (where, identifier))
        identifier = str(identifier)
        if _fold(identifier) in seen:
            raise InputError("%s: company %r is listed more than once (also %s)"
                             % (where, identifier, seen[_fold(identifier)]))
        seen[_fold(identifier)] = where
        entries.append((identifier, overrides))
    return entries


def parse_contact(value, where):
    """``{"id": N}`` for a numeric id, else the stripped name."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError("%s: contact must be an id or a name, got %r" % (where, value))
    if isinstance(value, int) or _CONTACT_ID.match(str(value)):
        return {"id": int(value)}
    name = " ".join(str(value).split())
    if not name:
        raise InputError("%s: contact must not be empty" % where)
    return name


def item_params(params, identifier, overrides):
    """One company's options for the engine (contact still unresolved)."""
    item = {"company": identifier, "name": params["name"]}
    if params["state"] == "absent":
        return item
    merged = {k: params.get(k) for k in OVERRIDES}
    merged.update(overrides)
    item["agreement_type"] = params["agreement_type"]
    item["start_date"] = merged["start_date"]
    item["bill_start_date"] = merged["bill_start_date"]
    item["end_date"] = merged["end_date"]
    no_ending = params.get("no_ending_date")
    where = "company %r" % identifier
    if no_ending is None:
        no_ending = merged["end_date"] is None
    elif no_ending and merged["end_date"] is not None:
        raise InputError("%s: no_ending_date is true but end_date %r is given; give one of them"
                         % (where, merged["end_date"]))
    elif not no_ending and merged["end_date"] is None:
        raise InputError("%s: no_ending_date is false but no end_date is given" % where)
    item["no_ending_date"] = no_ending
    if no_ending:
        item["end_date"] = CLEAR  # ConnectWise keeps an old endDate beside the flag otherwise
    item["contact"] = parse_contact(merged["contact"], where)
    return item


class AgreementRun:
    """One task's agreements: input checks, bulk reads, the engine, the result."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.companies = {}  # company id -> company row
        self.engine = Engine(module.client, agreement_resource(self.default_contact), module.check_mode)

    # ---- per-company defaults and lookups ------------------------------------------------
    def default_contact(self, desired, resolved):
        company = self.companies.get((resolved.get("company") or {}).get("id")) or {}
        contact = company.get("defaultContact")
        if isinstance(contact, dict) and contact.get("id") is not None:
            return {"id": contact["id"]}
        raise InputError("company %r (%s) has no default contact (defaultContact): give contact for it, "
                         "or set the company's default contact in ConnectWise"
                         % (company.get("identifier", desired.get("company")), company.get("name")))

    def read_companies(self, identifiers):
        """``{identifier: row, error, or None when unknown}`` with one chunked read of the companies."""
        rows = self.engine.prefetch(COMPANY_REF, identifiers, extra_fields=["name", "defaultContact"])
        known = {}
        for identifier in identifiers:
            matches = rows.get(identifier) or []
            if not matches:
                known[identifier] = None
            elif len(matches) > 1:
                known[identifier] = "company %r: %d companies have this identifier (ids %s)" % (
                    identifier, len(matches), ", ".join(str(m.get("id")) for m in matches))
            else:
                self.companies[matches[0]["id"]] = matches[0]
                known[identifier] = matches[0]
        return known

    def resolve_contacts(self, wanted):
        """``{(company id, name): {"id": N} or error}`` for contacts given by name, one read per name."""
        by_name = {}
        for company_id, name in wanted:
            by_name.setdefault(name.lower(), (name, set()))[1].add(company_id)
        found = {}
        for folded, (name, company_ids) in by_name.items():
            rows = self.engine.client.list_in(CONTACTS, "company/id", company_ids,
                                              conditions=name_condition(name),
                                              fields=["id", "firstName", "lastName", "company"])
            for row in rows:
                if _full_name(row) == folded:
                    found.setdefault(((row.get("company") or {}).get("id"), folded), []).append(row)
        answers = {}
        for company_id, name in wanted:
            matches = found.get((company_id, name.lower()), [])
            company = self.companies[company_id].get("identifier")
            if len(matches) == 1:
                answers[(company_id, name)] = {"id": matches[0]["id"]}
            elif not matches:
                answers[(company_id, name)] = "company %r: no contact named %r among its contacts (%s)" % (
                    company, name, CONTACTS)
            else:
                answers[(company_id, name)] = "company %r: contact %r is ambiguous: %d contacts match (ids %s)" % (
                    company, name, len(matches), ", ".join(str(m.get("id")) for m in matches))
        return answers

    # ---- the run ----------------------------------------------------------------------------
    def run(self):
        params, state = self.params, self.params["state"]
        try:
            check_same_name(params)
            entries = parse_entries(params)
            items = [item_params(params, identifier, overrides) for identifier, overrides in entries]
            for item in items:  # every input check (lengths, dates) before the first request
                self.engine.desired_fields(dict(item, contact=None))
        except InputError as exc:
            self.module.fail_json(msg=str(exc))

        warnings = []
        errors = {}
        try:
            if state == "present" and items:
                # An unknown type fails the task at once, not each company with the same message.
                self.engine.resolve("agreement_type", TYPE_REF, params["agreement_type"], warnings=warnings)
            companies = self.read_companies([item["company"] for item in items]) if items else {}
            by_name = set()
            for index, item in enumerate(items):
                company = companies[item["company"]]
                if company is None and state == "absent":
                    continue  # an unknown company has no agreement to delete: nothing to do
                if company is None:
                    errors[index] = "company %r: no company with this identifier in ConnectWise (%s)" % (
                        item["company"], COMPANIES)
                elif not isinstance(company, dict):
                    errors[index] = company
                elif isinstance(item.get("contact"), str):
                    by_name.add((company["id"], item["contact"]))
            contacts = self.resolve_contacts(sorted(by_name)) if by_name else {}
        except (InputError, ApiError) as exc:
            self.module.fail_from(exc)

        todo = []
        for index, item in enumerate(items):
            if index in errors or companies[item["company"]] is None:
                continue
            if isinstance(item.get("contact"), str):
                answer = contacts[(companies[item["company"]]["id"], item["contact"])]
                if not isinstance(answer, dict):
                    errors[index] = answer
                    continue
                item = dict(item, contact=answer)
            todo.append((index, item))

        try:
            outcomes = self.engine.ensure_many([item for _index, item in todo], state, bulk_key="company")
        except (InputError, ApiError) as exc:
            self.module.fail_from(exc)
        by_index = dict(zip([index for index, _item in todo], outcomes))
        return self.finish(items, by_index, errors, warnings)

    def finish(self, items, outcomes, errors, warnings):
        results, diffs, failed = [], [], {}
        counts = dict((op, 0) for op in OPERATIONS)
        counts["failed"] = 0
        for index, item in enumerate(items):
            outcome = outcomes.get(index)
            error = errors.get(index) or (outcome.error if outcome is not None else None)
            entry = {"company": item["company"], "operation": "none", "id": None, "object": None, "error": error,
                     "converged": None}
            if outcome is not None:
                warnings.extend(outcome.warnings)
                if error is None:
                    entry["operation"] = outcome.operation
                    entry["object"] = outcome.object
                    entry["id"] = (outcome.object or {}).get("id")
                    entry["converged"] = outcome.converged
                    if outcome.changed:
                        diffs.append(outcome.diff("agreement %s of company %s" % (item["name"], item["company"])))
            if error is not None:
                counts["failed"] += 1
                failed[item["company"]] = error
            else:
                counts[entry["operation"]] += 1
            results.append(entry)

        result = dict(changed=any(r["operation"] in ("create", "update", "delete")
                                  or (r["converged"] or {}).get("removed") for r in results),
                      results=results, counts=counts)
        if self.params.get("company") is not None and results:
            result.update(operation=results[0]["operation"], object=results[0]["object"])
        if self.module._diff and diffs:
            result["diff"] = diffs
        for warning in sorted(set(warnings)):
            self.module.warn(warning)
        if failed:
            if len(items) == 1:
                msg = next(iter(failed.values()))
            else:
                msg = "%d of %d companies failed: %s" % (len(failed), len(items), "; ".join(
                    "%s: %s" % (company, reason) for company, reason in failed.items()))
            self.module.fail_json(msg=msg, failed_companies=failed, **result)
        self.module.exit_json(**result)


def name_condition(name):
    """Contacts whose first and last name together are ``name``, whichever word the split is at."""
    words = name.split()
    if len(words) == 1:
        return cond.any_of(cond.equals("firstName", words[0]), cond.equals("lastName", words[0]))
    return cond.any_of(*(cond.all_of(cond.equals("firstName", " ".join(words[:cut])),
                                     cond.equals("lastName", " ".join(words[cut:])))
                         for cut in range(1, len(words))))


def main():
    module = ConnectWiseModule(
        argument_spec=dict(
            company=dict(type="str"),
            companies=dict(type="list", elements="raw"),
            name=dict(type="str", required=True),
            agreement_type=dict(type="str"),
            start_date=dict(type="str"),
            end_date=dict(type="str"),
            no_ending_date=dict(type="bool"),
            bill_start_date=dict(type="str"),
            contact=dict(type="str"),
            allow_name_mismatch=dict(type="bool", default=False),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        mutually_exclusive=[("company", "companies")],
        required_one_of=[("company", "companies")],
        required_if=[("state", "present", ("agreement_type",))],
        supports_check_mode=True,
    )
    AgreementRun(module).run()


if __name__ == "__main__":
    main()
