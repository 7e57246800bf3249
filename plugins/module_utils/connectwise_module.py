# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``AnsibleModule`` with the collection's connection options and error reporting.

Every module that talks to ConnectWise is a :class:`ConnectWiseModule`: it gets
the documented connection options (with their ``CW_*`` environment fallbacks),
one lazily built client, and one way of turning errors into ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mbs.connectwise.plugins.module_utils.client import (
    ConnectWiseClient,
    InputError,
    connection_argument_spec,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    ApiError,
)


class ConnectWiseModule(AnsibleModule):

    def __init__(self, argument_spec, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec)
        super(ConnectWiseModule, self).__init__(argument_spec=spec, **kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        self._client = None

    @property
    def client(self):
        if self._client is None:
            try:
                self._client = ConnectWiseClient.from_params(self.params)
            except InputError as exc:
                self.fail_json(msg=str(exc))
        return self._client

    def fail_from(self, exc, **result):
        """One failure shape for every module: a readable message plus structured detail."""
        if isinstance(exc, ApiError):
            self.fail_json(msg=str(exc), error=exc.to_result(), **result)
        self.fail_json(msg=str(exc), **result)

    def exit_outcome(self, outcome, diff_label=None, unresolved=None, **result):
        """Exit with the shape every ensure module returns."""
        if outcome.failed:
            self.fail_json(msg=outcome.error, warnings=outcome.warnings, **result)
        for warning in outcome.warnings:
            self.warn(warning)
        result.update(changed=outcome.changed, operation=outcome.operation, object=outcome.object,
                      unresolved=list(unresolved or []))
        if self._diff and outcome.changed:
            result["diff"] = outcome.diff(diff_label)
        self.exit_json(**result)


def run_ensure(module, engine, params=None):
    """Run one ensure for a module and exit; any error ends in ``fail_json``."""
    try:
        outcome = engine.ensure(params or module.params, module.params.get("state", "present"))
    except (InputError, ApiError) as exc:
        module.fail_from(exc)
    module.exit_outcome(outcome, diff_label="%s %s" % (engine.resource.name, " ".join(
        str(module.params.get(k)) for k in engine.resource.key)), unresolved=engine.unresolved)
