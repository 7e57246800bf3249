#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: product
short_description: Ensure a product (catalog item) exists in ConnectWise Manage
version_added: 0.1.0
description:
  - Manages a ConnectWise product, a catalog item of C(procurement/catalog), such as the
    C(OnlineBackup) product the backup vendor's billing is sent as.
  - The product is found by its Product ID (O(identifier)).
  - Only the options you give are compared; a second run with the same options changes nothing.
  - ConnectWise requires O(description), O(customer_description), O(subcategory) and
    O(product_type) to create a product; creating one without them fails before anything is
    written, naming the missing options. They are not needed to update or delete a product.
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
  identifier:
    description:
      - The Product ID (C(identifier)), the product's natural key. At most 75 characters.
    type: str
    required: true
  description:
    description:
      - The product's description (C(description)). At most 75 characters. Required on create.
    type: str
  customer_description:
    description:
      - The customer description (C(customerDescription)). At most 6000 characters. Required on create.
    type: str
  category:
    description:
      - The name of the product category (C(category)), looked up in C(procurement/categories).
    type: str
  subcategory:
    description:
      - The name of the product subcategory (C(subcategory)), looked up among the subcategories
        of O(category) in C(procurement/subcategories). Required on create.
      - Requires O(category), since a subcategory name is only unique within its category.
    type: str
  product_type:
    description:
      - The name of the product type (C(type)), looked up in C(procurement/types), for example
        V(Software). Required on create.
    type: str
  product_class:
    description:
      - The product class (C(productClass)). When not given on create, ConnectWise uses V(NonInventory);
        the vendor's guide uses V(Service).
    type: str
    choices: [Agreement, Bundle, Inventory, NonInventory, Service]
  price:
    description:
      - The unit price (C(price)).
    type: float
  cost:
    description:
      - The unit cost (C(cost)).
    type: float
  unit_of_measure:
    description:
      - The name of the unit of measure (C(unitOfMeasure)), looked up in C(procurement/unitOfMeasures).
    type: str
  taxable:
    description:
      - Whether the product is taxable (C(taxableFlag)).
    type: bool
  inactive:
    description:
      - Whether the product is inactive (C(inactiveFlag)).
    type: bool
  state:
    description:
      - V(present) creates or updates the product; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - A reference given by a name that does not exist in ConnectWise fails before anything is written.
    In check mode it is a warning instead, assuming an earlier task of the run creates it.
"""

EXAMPLES = r"""
- name: Ensure the OnlineBackup product exists, as the vendor's guide creates it
  mbs.connectwise.product:
    site: api-na.myconnectwise.net
    company_id: mymsp
    public_key: "{{ cw_public_key }}"
    private_key: "{{ cw_private_key }}"
    client_id: "{{ cw_client_id }}"
    identifier: OnlineBackup
    description: MBS Backup for Windows
    customer_description: Managed Backup Service provides a reliable backup solution.
    category: Managed Services
    subcategory: Managed Services
    product_type: Software
    product_class: Service

- name: Change only the price of an existing product
  mbs.connectwise.product:
    identifier: OnlineBackup
    price: 0.05

- name: Remove an old product
  mbs.connectwise.product:
    identifier: OldBackup
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
    - The catalog item as ConnectWise returns it after the operation.
    - In check mode, the predicted object (C(id) is null for one that would be created).
    - Null after a deletion.
  returned: always
  type: dict
  sample:
    id: 12
    identifier: OnlineBackup
    description: MBS Backup for Windows
    customerDescription: Managed Backup Service provides a reliable backup solution.
    category:
      id: 3
      name: Managed Services
    subcategory:
      id: 5
      name: Managed Services
    type:
      id: 2
      name: Software
    productClass: Service
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
from ansible_collections.mbs.connectwise.plugins.module_utils.resources import PRODUCT_MODULE


def main():
    run_declared(ConnectWiseModule(**PRODUCT_MODULE.module_arguments()), PRODUCT_MODULE)


if __name__ == "__main__":
    main()
