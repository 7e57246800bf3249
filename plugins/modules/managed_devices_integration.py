#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: managed_devices_integration
short_description: Ensure a managed devices integration exists in ConnectWise Manage
version_added: 0.1.0
description:
  - Manages a row of the ConnectWise "Managed Devices Integration" setup table
    (C(company/managedDevicesIntegrations)), which ties the backup vendor's billing to an
    integrator login. Its cross-references are managed by M(mbs.connectwise.cross_reference).
  - The vendor's guide writes the same name (C(ManagedBackupService)) in the Name and Solution fields.
  - Only the options you give are compared; a second run with the same options changes nothing.
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
      - The integration's name, its natural key. At most 30 characters.
    type: str
    required: true
  solution:
    description:
      - The solution (C(solution)). At most 30 characters.
      - When not given, O(name) is used on create, as the guide asks, and the field is not compared;
        a later run without O(solution) leaves a solution changed in ConnectWise as it is.
    type: str
  integrator_login:
    description:
      - The user name of the integrator login the integration uses (C(integratorLogin)),
        looked up by C(username) in C(system/integratorlogins).
      - An unknown user name fails before anything is written (in check mode it is a warning).
    type: str
  login_by:
    description:
      - How the integration logs in (C(loginBy)).
      - When not given, V(Global) is used on create and the field is not compared.
    type: str
    choices: [Global, Member]
  default_billing_level:
    description:
      - The default billing level (C(defaultBillingLevel)).
      - When not given, V(Summary) is used on create and the field is not compared.
    type: str
    choices: [Detail, Summary]
  portal_url:
    description:
      - The portal URL (C(portalUrl)). At most 200 characters.
    type: str
  state:
    description:
      - V(present) creates or updates the integration; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Ensure the ManagedBackupService integration exists with the integrator login
  mbs.connectwise.managed_devices_integration:
    site: api-na.myconnectwise.net
    company_id: mymsp
    public_key: "{{ cw_public_key }}"
    private_key: "{{ cw_private_key }}"
    client_id: "{{ cw_client_id }}"
    name: ManagedBackupService
    integrator_login: mbs-integrator

- name: Remove an old integration
  mbs.connectwise.managed_devices_integration:
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
    - The managed devices integration as ConnectWise returns it after the operation.
    - In check mode, the predicted object (C(id) is null for one that would be created).
    - Null after a deletion.
  returned: always
  type: dict
  sample:
    id: 2
    name: ManagedBackupService
    solution: ManagedBackupService
    loginBy: Global
    defaultBillingLevel: Summary
    integratorLogin:
      id: 1
      name: mbs-integrator
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
from ansible_collections.mbs.connectwise.plugins.module_utils.resources import MANAGED_DEVICES_INTEGRATION_MODULE


def main():
    run_declared(ConnectWiseModule(**MANAGED_DEVICES_INTEGRATION_MODULE.module_arguments()), MANAGED_DEVICES_INTEGRATION_MODULE)


if __name__ == "__main__":
    main()
