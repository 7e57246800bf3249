#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: agreement_type
short_description: Ensure an agreement type exists in ConnectWise Manage
version_added: 0.1.0
description:
  - Manages a row of the ConnectWise "Agreement Type" setup table (C(finance/agreements/types)),
    the type of the per-company agreements the backup vendor sends its billing to.
  - The vendor's guide requires the management solution, the agreement type and the agreements
    to share one name (C(ManagedBackupService) in its examples).
  - ConnectWise requires the billing options on create. Each has a default suited to a monthly
    billed backup service, applied B(only when the agreement type is created). A default is
    never compared with an existing agreement type, so a later run does not undo a change made
    in ConnectWise; an option you give explicitly is compared and updated.
author:
  - mbs.connectwise maintainers (@mbs-connectwise)
extends_documentation_fragment:
  - mbs.connectwise.connection
  - mbs.connectwise.deleted_first
attributes:
  check_mode:
    support: full
    description: Reads ConnectWise and predicts the result without writing.
  diff_mode:
    support: full
    description: Shows the changed fields before and after.
options:
  name:
    description:
      - The agreement type's name, its natural key. At most 50 characters.
    type: str
    required: true
  bill_time:
    description:
      - Whether time on the agreement is billed (C(billTime)).
      - When not given, V(DoNotBill) is used on create and the field is not compared.
    type: str
    choices: [Billable, DoNotBill, NoCharge, NoDefault]
  bill_expenses:
    description:
      - Whether expenses on the agreement are billed (C(billExpenses)).
      - When not given, V(DoNotBill) is used on create and the field is not compared.
    type: str
    choices: [Billable, DoNotBill, NoCharge, NoDefault]
  bill_products:
    description:
      - Whether products on the agreement are billed (C(billProducts)); the backup usage
        is sent as product additions, so the default bills them.
      - When not given, V(Billable) is used on create and the field is not compared.
    type: str
    choices: [Billable, DoNotBill, NoCharge, NoDefault]
  employee_comp_rate:
    description:
      - The employee compensation rate (C(employeeCompRate)).
      - When not given, V(Actual) is used on create and the field is not compared.
    type: str
    choices: [Actual, Hourly]
  employee_comp_not_exceed:
    description:
      - What employee compensation must not exceed (C(employeeCompNotExceed)).
      - When not given, V(Billing) is used on create and the field is not compared.
    type: str
    choices: [Billing, Amount, Percent]
  invoicing_cycle:
    description:
      - The invoicing cycle (C(invoicingCycle)).
      - When not given, V(CalendarYear) is used on create and the field is not compared.
    type: str
    choices: [ContractYear, CalendarYear]
  billing_cycle:
    description:
      - The name of the billing cycle (C(billingCycle)), looked up in C(finance/billingCycles).
      - When not given, V(Monthly) is used on create and the field is not compared.
      - An unknown name fails before anything is written (in check mode it is a warning,
        assuming an earlier task creates it).
    type: str
  prorate:
    description:
      - Whether agreements of this type are prorated (C(prorateFlag)).
    type: bool
  invoice_description:
    description:
      - The invoice description (C(invoiceDescription)). At most 4000 characters.
    type: str
  inactive:
    description:
      - Whether the agreement type is inactive (C(inactiveFlag)).
    type: bool
  state:
    description:
      - V(present) creates or updates the agreement type; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Ensure the ManagedBackupService agreement type exists (monthly billing, products billable)
  mbs.connectwise.agreement_type:
    site: api-na.myconnectwise.net
    company_id: mymsp
    public_key: "{{ cw_public_key }}"
    private_key: "{{ cw_private_key }}"
    client_id: "{{ cw_client_id }}"
    name: ManagedBackupService

- name: Enforce some billing options on an existing agreement type too
  mbs.connectwise.agreement_type:
    name: ManagedBackupService
    bill_time: DoNotBill
    bill_products: Billable
    billing_cycle: Monthly
    prorate: true
    invoice_description: Managed Backup Service

- name: Remove an old agreement type
  mbs.connectwise.agreement_type:
    name: OldBackupService
    state: absent
"""

RETURN = r"""
operation:
  description: What was done (or, in check mode, would be done).
  returned: always
  type: str
  sample: create
object:
  description:
    - The agreement type as ConnectWise returns it after the operation.
    - In check mode, the predicted object (C(id) is null for one that would be created).
    - Null after a deletion.
  returned: always
  type: dict
  sample:
    id: 4
    name: ManagedBackupService
    billTime: DoNotBill
    billExpenses: DoNotBill
    billProducts: Billable
    employeeCompRate: Actual
    employeeCompNotExceed: Billing
    invoicingCycle: CalendarYear
    billingCycle:
      id: 1
      name: Monthly
unresolved:
  description:
    - In check mode, the references that do not exist in ConnectWise (yet), each with the C(option), a
      readable C(label), the C(name) given and the C(path) of the table it was looked up in.
    - A reference created by an earlier task of the same run appears here in a C(--check) preview; one
      that ConnectWise really lacks makes the real run fail.
    - Always empty outside check mode, where a missing reference is an error.
  returned: always
  type: list
  elements: dict
  sample:
    - option: configuration_type
      label: configuration type
      name: Backup Stats
      path: company/configurations/types
diff:
  description: The changed fields before and after, when run with C(--diff).
  returned: changed and diff mode
  type: dict
"""

from ansible_collections.mbs.connectwise.plugins.module_utils.connectwise_module import ConnectWiseModule, run_declared
from ansible_collections.mbs.connectwise.plugins.module_utils.resources import AGREEMENT_TYPE_MODULE


def main():
    run_declared(ConnectWiseModule(**AGREEMENT_TYPE_MODULE.module_arguments()), AGREEMENT_TYPE_MODULE)


if __name__ == "__main__":
    main()
