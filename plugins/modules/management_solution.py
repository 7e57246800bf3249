#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: management_solution
short_description: Ensure a custom Management IT solution exists in ConnectWise Manage
version_added: 0.1.0
description:
  - Manages a row of the ConnectWise "Management IT" setup table (C(company/managementItSolutions))
    of type C(Custom), the first object of the backup vendor's ConnectWise billing setup.
  - The vendor's guide requires the management solution, the agreement type and the agreements
    to share one name (C(ManagedBackupService) in its examples).
  - Only the options you give are compared; a second run with the same options changes nothing.
author:
  - mbs.connectwise maintainers (@mbs-connectwise)
extends_documentation_fragment:
  - mbs.connectwise.connection
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
      - The management solution's name, its natural key. At most 30 characters.
    type: str
    required: true
  custom_solution_name:
    description:
      - The Custom Solution Name (C(managementSolutionName)). At most 30 characters.
      - Defaults to O(name), as the guide asks.
    type: str
  state:
    description:
      - V(present) creates or updates the solution; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Ensure the ManagedBackupService management solution exists
  mbs.connectwise.management_solution:
    site: api-na.myconnectwise.net
    company_id: mymsp
    public_key: "{{ cw_public_key }}"
    private_key: "{{ cw_private_key }}"
    client_id: "{{ cw_client_id }}"
    name: ManagedBackupService

- name: Same, with the connection set once for the play
  module_defaults:
    group/mbs.connectwise.connectwise:
      site: http://127.0.0.1:8765
      company_id: sandbox
      public_key: sandbox-public
      private_key: sandbox-private
      client_id: 00000000-0000-0000-0000-000000000000
  block:
    - name: Remove an old solution
      mbs.connectwise.management_solution:
        name: OldBackupSolution
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
    - The management solution as ConnectWise returns it after the operation.
    - In check mode, the predicted object (C(id) is null for one that would be created).
    - Null after a deletion.
  returned: always
  type: dict
  sample:
    id: 3
    name: ManagedBackupService
    managementItSolutionType: Custom
    managementSolutionName: ManagedBackupService
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
from ansible_collections.mbs.connectwise.plugins.module_utils.resources import MANAGEMENT_SOLUTION_MODULE


def main():
    run_declared(ConnectWiseModule(**MANAGEMENT_SOLUTION_MODULE.module_arguments()), MANAGEMENT_SOLUTION_MODULE)


if __name__ == "__main__":
    main()
