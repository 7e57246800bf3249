# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The deleted_first option of the modules whose objects others refer to (DELETED_FIRST_SPEC).
    DOCUMENTATION = r"""
options:
  deleted_first:
    description:
      - With O(state=absent), the objects that refer to this one and that the caller deletes in
        earlier tasks (a teardown), so that a C(--check) preview does not count them.
      - ConnectWise refuses deleting an object that others still refer to. With O(state=absent) the
        module reads those references first and fails, naming them, before any delete; in check
        mode it predicts that refusal instead of a delete. References listed here are not counted.
    type: dict
    suboptions:
      agreements_named:
        description: Agreements (of any company) with one of these names.
        type: list
        elements: str
        default: []
      cross_references:
        description: Cross-references, each given by its integration's name and its type and level.
        type: list
        elements: dict
        default: []
        suboptions:
          integration:
            description: The managed devices integration's name.
            type: str
            required: true
          type:
            description: The cross-reference's type (C(vendorType)).
            type: str
            required: true
          level:
            description: The cross-reference's level (C(vendorLevel)).
            type: str
            required: true
"""
