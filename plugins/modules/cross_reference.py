#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cross_reference
short_description: Ensure a cross-reference of a managed devices integration exists in ConnectWise Manage
version_added: 0.1.0
description:
  - Manages a cross-reference (C(company/managedDevicesIntegrations/{id}/crossReferences)) of a
    managed devices integration, that is which agreement type, product and configuration type the
    backup vendor's billing of a type and level (C(SpaceUsage) / C(HighLevel) in the guide) goes to.
  - A cross-reference is found by its integration, O(type) and O(level).
  - Only the options you give are compared; a second run with the same options changes nothing.
  - ConnectWise requires O(agreement_type) or O(configuration_type) to create a cross-reference;
    creating one with neither fails before anything is written.
author:
  - mbs.connectwise maintainers (@mbs-connectwise)
extends_documentation_fragment:
  - mbs.connectwise.connection
attributes:
  check_mode:
    support: full
    description:
      - Reads ConnectWise and predicts the result without writing.
      - When the integration or a referenced object does not exist yet, check mode warns and
        predicts a create, assuming an earlier task of the run creates it.
  diff_mode:
    support: full
    description: Shows the changed fields before and after.
options:
  integration:
    description:
      - The name of the managed devices integration the cross-reference belongs to
        (see M(mbs.connectwise.managed_devices_integration)).
      - An unknown integration fails before anything is written.
    type: str
    required: true
  type:
    description:
      - The vendor type (C(vendorType)), for example V(SpaceUsage). At most 255 characters.
    type: str
    required: true
  level:
    description:
      - The vendor level (C(vendorLevel)), for example V(HighLevel). At most 255 characters.
    type: str
    required: true
  agreement_type:
    description:
      - The name of the agreement type (C(agreementType)), looked up in C(finance/agreements/types).
    type: str
  product:
    description:
      - The Product ID (catalog C(identifier)) of the product (C(product)), looked up in C(procurement/catalog).
    type: str
  configuration_type:
    description:
      - The name of the configuration type (C(configurationType)), looked up in
        C(company/configurations/types), for example V(Backup Stats).
      - A fresh ConnectWise may lack V(Backup Stats); a missing configuration type fails with
        an error naming it (in check mode it is a warning).
    type: str
  inactive:
    description:
      - Whether the cross-reference is inactive (C(inactiveFlag)).
    type: bool
  state:
    description:
      - V(present) creates or updates the cross-reference; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - A reference given by a name that does not exist in ConnectWise fails before anything is written.
"""

EXAMPLES = r"""
- name: Ensure the SpaceUsage / HighLevel cross-reference of the guide exists
  mbs.connectwise.cross_reference:
    site: api-na.myconnectwise.net
    company_id: mymsp
    public_key: "{{ cw_public_key }}"
    private_key: "{{ cw_private_key }}"
    client_id: "{{ cw_client_id }}"
    integration: ManagedBackupService
    type: SpaceUsage
    level: HighLevel
    agreement_type: ManagedBackupService
    product: OnlineBackup
    configuration_type: Backup Stats

- name: Remove a cross-reference
  mbs.connectwise.cross_reference:
    integration: ManagedBackupService
    type: SpaceUsage
    level: LowLevel
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
    - The cross-reference as ConnectWise returns it after the operation.
    - In check mode, the predicted object (C(id) is null for one that would be created).
    - Null after a deletion.
  returned: always
  type: dict
  sample:
    id: 9
    vendorType: SpaceUsage
    vendorLevel: HighLevel
    agreementType:
      id: 4
      name: ManagedBackupService
    product:
      id: 12
      identifier: OnlineBackup
    configurationType:
      id: 3
      name: Backup Stats
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
from ansible_collections.mbs.connectwise.plugins.module_utils.resources import CROSS_REFERENCE_MODULE


def main():
    run_declared(ConnectWiseModule(**CROSS_REFERENCE_MODULE.module_arguments()), CROSS_REFERENCE_MODULE)


if __name__ == "__main__":
    main()
