#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: company_info
short_description: Read companies from ConnectWise Manage
version_added: 0.1.0
description:
  - Reads companies (C(company/companies)), all of them or those selected by identifier or by a
    conditions expression, following ConnectWise's pagination to the last page.
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
  identifiers:
    description:
      - Only the companies with these identifiers (compared case-insensitively by ConnectWise).
      - Read with chunked C(identifier in (...)) conditions; the values are quoted and escaped
        by the module.
      - An identifier that matches no company is left out of RV(companies) and listed in RV(missing).
      - An empty list reads no company.
    type: list
    elements: str
  conditions:
    description:
      - A raw ConnectWise conditions expression, passed as is (for example
        C(status/name = "Active" and deletedFlag = false)).
      - You quote the values yourself; strings in double quotes, with a double quote inside
        written C(\\") and a backslash C(\\\\), dates in brackets C([2026-10-01T00:00:00Z]).
      - Combined with O(identifiers) by C(and) when both are given.
      - Neither O(identifiers) nor O(conditions) reads every company.
    type: str
  fields:
    description:
      - Only these fields of each company (the C(fields) query parameter), for example
        C([id, identifier, name, defaultContact]). Nested fields are written with C(/).
      - All fields when not given.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Read the billed companies
  mbs.connectwise.company_info:
    site: api-na.myconnectwise.net
    company_id: mymsp
    public_key: "{{ cw_public_key }}"
    private_key: "{{ cw_private_key }}"
    client_id: "{{ cw_client_id }}"
    identifiers: [AcmeCorp, Globex]
    fields: [id, identifier, name, defaultContact]
  register: billed

- name: Read every active company
  mbs.connectwise.company_info:
    conditions: status/name = "Active" and deletedFlag = false
  register: active
"""

RETURN = r"""
companies:
  description: The companies as ConnectWise returns them (only O(fields) when given), in the order read.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 19
      identifier: AcmeCorp
      name: Acme Corp
      defaultContact: {"id": 7, "name": "Wile Coyote"}
missing:
  description: The O(identifiers) that matched no company.
  returned: when O(identifiers) is given
  type: list
  elements: str
  sample: [Ghost]
"""

from ansible_collections.mbs.connectwise.plugins.module_utils.connectwise_module import ConnectWiseModule
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

PATH = "company/companies"


def read_companies(client, identifiers=None, conditions=None, fields=None):
    """``(companies, missing)``; ``missing`` is None when no identifiers were given."""
    if identifiers is None:
        return list(client.list(PATH, conditions=conditions or None, fields=fields)), None
    found = client.find_by(PATH, "identifier", identifiers, fields=fields, conditions=conditions or None)
    missing = [i for i in identifiers if not found[fold(i)]]
    rows = [row for group in found.values() for row in group]
    if fields and "identifier" not in fields:  # read only to tell the missing ones
        rows = [dict((k, v) for k, v in row.items() if k != "identifier") for row in rows]
    return rows, missing


def main():
    module = ConnectWiseModule(
        argument_spec=dict(
            identifiers=dict(type="list", elements="str"),
            conditions=dict(type="str"),
            fields=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    try:
        companies, missing = read_companies(module.client, module.params["identifiers"],
                                            module.params["conditions"], module.params["fields"])
    except ApiError as exc:
        module.fail_from(exc)
    result = dict(changed=False, companies=companies)
    if missing is not None:
        result["missing"] = missing
    module.exit_json(**result)


if __name__ == "__main__":
    main()
