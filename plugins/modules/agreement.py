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
    that company fails and nothing of it is changed. Because an overlapping run (two AWX nodes,
    a schedule and a manual run) may have created its own a moment ago and is about to remove it
    (the lowest id wins), such a company is read again for up to twice O(timeout) before it fails.
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
      - The agreement's start date, C(YYYY-MM-DD). When given, it is compared and changed on
        existing agreements too.
      - When not given, a new agreement starts on the first day of the month before O(today)
        (the first month the vendor's billing sends), and an existing agreement's start date is
        left as it is, so the default never moves from one month's run to the next.
    type: str
  today:
    description:
      - The date taken as today, C(YYYY-MM-DD), for the default of O(start_date).
      - Defaults to the current date in UTC. Give it to make a run independent of the day it runs on.
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
missing_companies:
  description:
    - The identifiers given that name no ConnectWise company (C(company/companies) C(identifier)), in the order
      given, from the bulk read of the companies (no extra request). With O(state=present) each of them also fails
      (see RV(failed_companies)).
    - Lets a playbook tell an unknown customer from other failures without parsing their reasons.
  returned: always
  type: list
  elements: str
  sample: ["Ghost"]
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

from ansible_collections.mbs.connectwise.plugins.module_utils.connectwise_module import ConnectWiseModule, run_declared
from ansible_collections.mbs.connectwise.plugins.module_utils.resources import AGREEMENT_MODULE


def main():
    run_declared(ConnectWiseModule(**AGREEMENT_MODULE.module_arguments()), AGREEMENT_MODULE)


if __name__ == "__main__":
    main()
