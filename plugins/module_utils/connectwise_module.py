# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``AnsibleModule`` with the collection's connection options and error reporting.

Every module that talks to ConnectWise is a :class:`ConnectWiseModule`: it gets
the documented connection options (with their ``CW_*`` environment fallbacks),
one lazily built client, and one way of turning errors into ``fail_json``.
An ensure module is declared once in ``resources.py`` and run by :func:`run_declared`,
which exits with what the declaration's run returns (``ensure/results.py``: an ``Ensured``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mbs.connectwise.plugins.module_utils.client import ConnectWiseClient, connection_argument_spec
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError, InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.origin import url_secrets
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


class ConnectWiseModule(AnsibleModule):

    def __init__(self, argument_spec, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec)
        super(ConnectWiseModule, self).__init__(argument_spec=spec, **kwargs)
        # A password written into a URL option (site, mbs.url) is refused, and masked like no_log values
        # everywhere the module prints, its invocation included.
        self.no_log_values.update(url_secrets(self.params))
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

    def fail_from(self, exc, about=None, **result):
        """One failure shape for every module: a readable message (naming ``about``) plus structured detail."""
        msg = "%s: %s" % (about, exc) if about else str(exc)
        if isinstance(exc, ApiError):
            self.fail_json(msg=msg, error=exc.to_result(), **result)
        self.fail_json(msg=msg, **result)

    def exit_ensured(self, ensured):
        """Exit with what an ensure run returns (``results.Ensured``): its warnings issued once, failed when it failed."""
        for warning in ensured.warnings:
            self.warn(warning)
        if ensured.error is not None:
            self.fail_json(msg=ensured.error, **ensured.result)
        self.exit_json(**ensured.result)


def run_declared(module, declared):
    """Run an ensure module's declaration (:class:`resources.Declared`) and exit; any error ends in ``fail_json``."""
    try:
        ensured = declared.ensure(module.client, module.params, module.check_mode, module._diff)
    except (InputError, ApiError) as exc:
        module.fail_from(exc)
    module.exit_ensured(ensured)
