#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: agreement_info
short_description: Read agreements, and optionally their additions, from ConnectWise Manage
version_added: 0.1.0
description:
  - Reads agreements (C(finance/agreements)) filtered by company, name, agreement type and/or a
    conditions expression, following ConnectWise's pagination to the last page.
  - With O(additions=true), also reads each agreement's additions
    (C(finance/agreements/{id}/additions), every page), a few agreements at a time in parallel.
  - Never writes.
author:
  - mbs.connectwise maintainers (@mbs-connectwise)
extends_documentation_fragment:
  - mbs.connectwise.connection
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode runs it unchanged.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
options:
  companies:
    description:
      - Only the agreements of these companies, given by company identifier
        (C(company/identifier in (...)), read in chunks; values are quoted and escaped by the module).
      - An empty list reads no agreement.
    type: list
    elements: str
  name:
    description:
      - Only the agreements with this name (C(name = "...")).
    type: str
  agreement_type:
    description:
      - Only the agreements of the agreement type with this name (C(type/name = "...")).
    type: str
  conditions:
    description:
      - A raw ConnectWise conditions expression, passed as is, for example
        C(agreementStatus = "Active" and billStartDate >= [2026-01-01T00:00:00Z]).
      - You quote the values yourself; strings in double quotes, with a double quote inside
        written C(\\") and a backslash C(\\\\), dates in brackets.
      - Combined by C(and) with the other filters.
      - Without any filter every agreement is read.
    type: str
  additions:
    description:
      - Whether to read each agreement's additions into its C(additions) key.
      - One paged read per agreement; at most four run at the same time.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Read the ManagedBackupService agreements of two companies with their additions
  mbs.connectwise.agreement_info:
    site: api-na.myconnectwise.net
    company_id: mymsp
    public_key: "{{ cw_public_key }}"
    private_key: "{{ cw_private_key }}"
    client_id: "{{ cw_client_id }}"
    companies: [AcmeCorp, Globex]
    name: ManagedBackupService
    additions: true
  register: billed

- name: Read every active agreement of one type
  mbs.connectwise.agreement_info:
    agreement_type: ManagedBackupService
    conditions: agreementStatus = "Active"
  register: active
"""

RETURN = r"""
agreements:
  description:
    - The agreements as ConnectWise returns them, in the order read.
    - With O(additions=true) each has an C(additions) list (the additions as ConnectWise returns them).
  returned: always
  type: list
  elements: dict
  sample:
    - id: 42
      name: ManagedBackupService
      type: {"id": 3, "name": "ManagedBackupService"}
      company: {"id": 19, "identifier": "AcmeCorp", "name": "Acme Corp"}
      billStartDate: "2026-10-01T00:00:00Z"
      additions:
        - id: 501
          product: {"id": 9, "identifier": "OnlineBackup"}
          quantity: 120.5
          effectiveDate: "2026-10-01T00:00:00Z"
"""

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.connectwise_module import ConnectWiseModule
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError

PATH = "finance/agreements"
ADDITIONS = "finance/agreements/%s/additions"
ADDITION_WORKERS = 4


def read_agreements(client, companies=None, name=None, agreement_type=None, conditions=None):
    extra = cond.all_of(cond.equals("name", name) if name is not None else "",
                        cond.equals("type/name", agreement_type) if agreement_type is not None else "",
                        conditions or "")
    if companies is None:
        return list(client.list(PATH, conditions=extra or None))
    if not companies:
        return []
    return list(client.list_in(PATH, "company/identifier", companies, conditions=extra or None))


def read_additions(client, agreements, workers=ADDITION_WORKERS):
    """Each agreement's additions, every page, at most ``workers`` agreements at a time."""
    def additions_of(agreement):
        return list(client.list(ADDITIONS % agreement["id"]))

    if not agreements:
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(agreements))) as pool:
        for agreement, additions in zip(agreements, pool.map(additions_of, agreements)):
            agreement["additions"] = additions


def main():
    module = ConnectWiseModule(
        argument_spec=dict(
            companies=dict(type="list", elements="str"),
            name=dict(type="str"),
            agreement_type=dict(type="str"),
            conditions=dict(type="str"),
            additions=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        agreements = read_agreements(module.client, params["companies"], params["name"],
                                     params["agreement_type"], params["conditions"])
        if params["additions"]:
            read_additions(module.client, agreements)
    except ApiError as exc:
        module.fail_from(exc)
    module.exit_json(changed=False, agreements=agreements)


if __name__ == "__main__":
    main()
