#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: setup_info
short_description: Predict what the setup modules would do, for all of the setup's objects in one run
version_added: 0.1.0
description:
  - Reads ConnectWise once for several objects of the backup vendor's billing setup and returns, per object,
    what its own module (M(mbs.connectwise.management_solution), M(mbs.connectwise.agreement_type),
    M(mbs.connectwise.product), M(mbs.connectwise.managed_devices_integration),
    M(mbs.connectwise.cross_reference), M(mbs.connectwise.agreement)) would do now with the same options,
    exactly what that module returns in check mode, from the same code.
  - Never writes and always reports no change. A play runs it first, stops before any write when a
    prediction shows a problem, and runs an object's own module only when its prediction is not V(none),
    so one module runs instead of one per object when nothing has to change.
  - Each object is predicted against ConnectWise as it is now. An object that an earlier object of the
    setup creates (the integration of a cross-reference, the agreement type of the agreements) is
    predicted as its module predicts it in check mode, as a placeholder listed in C(unresolved).
  - Every object's options are checked, like its module checks them, before the first request.
author:
  - mbs.connectwise maintainers (@mbs-connectwise)
extends_documentation_fragment:
  - mbs.connectwise.connection
attributes:
  check_mode:
    support: full
    description: Reads only, in check mode as in a real run.
  diff_mode:
    support: none
    description: Each object's prediction has its own C(diff) when it differs.
options:
  management_solution:
    description:
      - The options of M(mbs.connectwise.management_solution) (without the connection options).
    type: dict
  agreement_type:
    description:
      - The options of M(mbs.connectwise.agreement_type) (without the connection options).
    type: dict
  product:
    description:
      - The options of M(mbs.connectwise.product) (without the connection options).
    type: dict
  managed_devices_integration:
    description:
      - The options of M(mbs.connectwise.managed_devices_integration) (without the connection options).
    type: dict
  cross_reference:
    description:
      - The options of M(mbs.connectwise.cross_reference) (without the connection options).
    type: dict
  agreement:
    description:
      - The options of M(mbs.connectwise.agreement) (without the connection options).
    type: dict
  products:
    description:
      - More catalog items, each the options of M(mbs.connectwise.product) (without the connection options), such as
        the setup role's license and storage-account products. Each is predicted like O(product).
    type: list
    elements: dict
  objects:
    description:
      - Whether the predictions carry the predicted objects (C(object) of each prediction and of each
        agreement's entry in C(results)), as the modules return them.
      - V(false) leaves them out (null), so a play that reads only what would be done, such as the setup
        role's preflight, spares Ansible hundreds of agreements' bytes. Everything else is unchanged.
    type: bool
    default: true
  option_names:
    description:
      - How the caller's users name the objects and their options, for the messages. Each key is an object
        (V(product)) or one of its options (V(product.description)); each value is the name to show
        (V(connectwise_product.description)), so a caller that sets the options from variables of its own (the setup
        role) shows the names its users write. A key given with an empty value is shown as the module's option.
      - A key that is not an object or an option of one is an error before any request.
    type: dict
    default: {}
notes:
  - At least one object is required. An unknown option or a bad value of an object fails before any
    request, naming the object and the option.
  - An error while predicting an object (a length limit, an ambiguous name, a refused request) fails the
    module, naming the object. A company of O(agreement) that cannot get its agreement does not; it is
    in that prediction's C(failed_companies), as its module would report it.
"""

EXAMPLES = r"""
- name: What the setup would do (read-only)
  mbs.connectwise.setup_info:
    management_solution:
      name: ManagedBackupService
    agreement_type:
      name: ManagedBackupService
    product:
      identifier: OnlineBackup
      description: Managed Backup Service online backup
    agreement:
      name: ManagedBackupService
      agreement_type: ManagedBackupService
      companies: [AcmeCorp, Globex]
      today: "2026-11-10"
  register: setup

- name: Create or correct the product only when it has to change
  mbs.connectwise.product:
    identifier: OnlineBackup
    description: Managed Backup Service online backup
  when: setup.product.operation != 'none'

- name: The companies ConnectWise does not know
  ansible.builtin.debug:
    msg: "{{ setup.agreement.missing_companies }}"
"""

RETURN = r"""
management_solution:
  description:
    - What M(mbs.connectwise.management_solution) returns in check mode with these options.
    - C(changed), C(operation), C(object) (the predicted object, C(id) null for one to be created),
      C(unresolved), C(warnings) and, when it differs, C(diff) (the fields before and after).
  returned: when O(management_solution) is given
  type: dict
  sample:
    changed: false
    operation: none
    object: {"id": 3, "name": "ManagedBackupService", "managementSolutionName": "ManagedBackupService"}
    unresolved: []
    warnings: []
agreement_type:
  description: What M(mbs.connectwise.agreement_type) returns in check mode, with the same keys as RV(management_solution).
  returned: when O(agreement_type) is given
  type: dict
products:
  description: One prediction per entry of O(products), in order, each as RV(product).
  returned: when O(products) is given
  type: list
  elements: dict
product:
  description: What M(mbs.connectwise.product) returns in check mode, with the same keys as RV(management_solution).
  returned: when O(product) is given
  type: dict
  sample:
    changed: true
    operation: update
    object: {"id": 12, "identifier": "OnlineBackup", "price": 0.07}
    unresolved: []
    warnings: []
    diff: {"before": {"price": 0.05}, "after": {"price": 0.07}}
managed_devices_integration:
  description:
    - What M(mbs.connectwise.managed_devices_integration) returns in check mode, with the same keys as
      RV(management_solution).
    - C(unresolved) lists an integrator login ConnectWise lacks.
  returned: when O(managed_devices_integration) is given
  type: dict
cross_reference:
  description:
    - What M(mbs.connectwise.cross_reference) returns in check mode, with the same keys as RV(management_solution).
    - C(unresolved) lists the integration, agreement type, product and configuration type ConnectWise lacks
      (the first three are created by the setup before the cross-reference).
  returned: when O(cross_reference) is given
  type: dict
  sample:
    changed: true
    operation: create
    object: {"id": null, "vendorType": "SpaceUsage", "vendorLevel": "HighLevel"}
    unresolved:
      - {"option": "integration", "label": "managed devices integration", "name": "ManagedBackupService",
         "path": "company/managedDevicesIntegrations"}
    warnings: ["managed devices integration 'ManagedBackupService' does not exist yet; assuming an earlier task creates it"]
agreement:
  description:
    - What M(mbs.connectwise.agreement) returns in check mode with these options.
    - C(changed), per-company C(results), C(counts), C(missing_companies) (the identifiers ConnectWise has no
      company for), C(warnings), C(diff) (one before/after per agreement that differs) and, when a company
      cannot get its agreement, C(failed) true, C(failed_companies) and C(msg), as the module would fail.
  returned: when O(agreement) is given
  type: dict
  sample:
    changed: true
    counts: {"create": 1, "update": 0, "delete": 0, "none": 1, "failed": 1}
    results:
      - {"company": "AcmeCorp", "operation": "none", "id": 41, "object": {}, "error": null, "converged": null}
      - {"company": "Globex", "operation": "create", "id": null, "object": {}, "error": null, "converged": null}
      - {"company": "Ghost", "operation": "none", "id": null, "object": null, "converged": null,
         "error": "company 'Ghost': no company with this identifier in ConnectWise (company/companies)"}
    missing_companies: ["Ghost"]
    failed: true
    failed_companies: {"Ghost": "company 'Ghost': no company with this identifier in ConnectWise (company/companies)"}
    msg: "1 of 3 companies failed: Ghost: company 'Ghost': no company with this identifier in ConnectWise (company/companies)"
    warnings: []
"""

from ansible_collections.mbs.connectwise.plugins.module_utils.connectwise_module import ConnectWiseModule
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError, InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.option_names import OptionNames, about_option, table_problem
from ansible_collections.mbs.connectwise.plugins.module_utils.resources import (
    AGREEMENT_MODULE,
    AGREEMENT_TYPE_MODULE,
    CROSS_REFERENCE_MODULE,
    MANAGED_DEVICES_INTEGRATION_MODULE,
    MANAGEMENT_SOLUTION_MODULE,
    PRODUCT_MODULE,
)

# The setup's order: what an object refers to comes before it.
OBJECTS = (MANAGEMENT_SOLUTION_MODULE, AGREEMENT_TYPE_MODULE, PRODUCT_MODULE, AGREEMENT_MODULE,
           MANAGED_DEVICES_INTEGRATION_MODULE, CROSS_REFERENCE_MODULE)


def prediction(ensured, objects=True):
    """An object's prediction: its module's check-mode result, as that module would return it.

    Without ``objects``, the predicted objects are left out (the rest is what the module returns).
    """
    predicted = dict(ensured.result, warnings=ensured.warnings)
    if ensured.error is not None:
        predicted.update(failed=True, msg=ensured.error)
    if not objects:
        if "object" in predicted:
            predicted["object"] = None
        if "results" in predicted:
            predicted["results"] = [dict(entry, object=None) for entry in predicted["results"]]
    return predicted


def validated_as(declared, params, about):
    """``declared.validate(params)``; an entry of O(products) is named by its place."""
    try:
        return declared.validate(params)
    except InputError as exc:
        if about == declared.name:
            raise
        raise InputError("%s (%s)" % (about, exc))


def object_paths():
    """The objects and their options, as ``option_names`` names them (``product``, ``product.description``), and
    the list of extra catalog items (``products``)."""
    paths = {"products"}
    for declared in OBJECTS:
        paths.add(declared.name)
        paths.update("%s.%s" % (declared.name, option) for option in declared.options)
    return paths


def main():
    names = [declared.name for declared in OBJECTS]
    spec = dict((name, dict(type="dict")) for name in names)
    spec["products"] = dict(type="list", elements="dict")
    spec["objects"] = dict(type="bool", default=True)
    spec["option_names"] = dict(type="dict", default={})
    module = ConnectWiseModule(argument_spec=spec, required_one_of=[names + ["products"]], supports_check_mode=True)
    problem = table_problem(module.params["option_names"], object_paths(), "setup_info",
                            "product, product.description")
    if problem:
        module.fail_json(msg=problem)
    option_names = OptionNames(module.params["option_names"])
    given = [(declared, module.params[declared.name], declared.name) for declared in OBJECTS
             if module.params[declared.name] is not None]
    # The extra catalog items come after the product, in the setup's order.
    at = len([entry for entry in given if OBJECTS.index(entry[0]) <= OBJECTS.index(PRODUCT_MODULE)])
    given[at:at] = [(PRODUCT_MODULE, params, "products[%d]" % index)
                    for index, params in enumerate(module.params["products"] or [])]
    try:
        validated = [(declared, validated_as(declared, params, about), about) for declared, params, about in given]
    except InputError as exc:
        module.fail_json(msg=str(exc))
    predictions = {}
    for declared, params, about in validated:
        try:
            ensured = declared.ensure(module.client, params, check_mode=True, diff=True)
        except InputError as exc:
            message = about_option(str(exc), declared.name, declared.options, option_names) \
                if about == declared.name else "%s: %s" % (about, exc)
            module.fail_json(msg=message, **predictions)
        except ApiError as exc:
            module.fail_from(exc, about=about, **predictions)
        predicted = prediction(ensured, module.params["objects"])
        if about == declared.name:
            predictions[about] = predicted
        else:
            predictions.setdefault("products", []).append(predicted)
    module.exit_json(changed=False, **predictions)


if __name__ == "__main__":
    main()
