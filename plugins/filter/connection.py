# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' ConnectWise site checked before any request, naming the roles' variables.

The rule is the modules' own (``client.site_root``: a host or a URL, no user name or password in it,
no plain HTTP to another machine unless allowed); a module would name its options ``site`` and
``allow_http``, which the roles' users never write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.mbs.connectwise.plugins.module_utils.client import site_root

NAMES = ("connectwise_site", "connectwise_allow_http (or CW_ALLOW_HTTP=true)")


def connection_problem(site, allow_http=False):
    """Why ``connectwise_site`` cannot be used (a message naming the roles' variables), or ''."""
    try:
        site_root(site, bool(allow_http), NAMES)
    except ValueError as exc:
        return "%s. Nothing was sent to ConnectWise." % to_text(exc)
    return ""


class FilterModule(object):
    def filters(self):
        return {"connection_problem": connection_problem}
