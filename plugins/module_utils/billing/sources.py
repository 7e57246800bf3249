# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run's usage: inline records or a file (no request), or the MSP360 API (one billing read of the month).

Whether a source is complete (it lists every company, so a company absent from it has no usage) is
the configuration's :attr:`config.Safety.complete_source`: MSP360's all-company read is, inline records
and files are only when declared so (``usage_complete``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.config import checked
from ansible_collections.mbs.connectwise.plugins.module_utils.msp360 import MBSClient
from ansible_collections.mbs.connectwise.plugins.module_utils.usage_sources import normalise_inline, read_usage_file


def read_local_usage(config):
    """Inline records or a file -> UsageRecords (no request); None for the MSP360 source."""
    if config.source == "usage":
        return checked(normalise_inline, config.usage, "usage")
    if config.source == "usage_file":
        return checked(read_usage_file, config.usage_file)
    return None


def mbs_client(config):
    mbs = config.mbs
    return MBSClient(mbs["url"], mbs["username"], mbs["password"], timeout=mbs["timeout"],
                     validate_certs=mbs["validate_certs"], allow_http=bool(mbs.get("allow_http")))


def load_mbs_usage(config, client, users=None):
    """``(records, warnings)`` from the MSP360 API; MBSError when it cannot be read.

    ``users``: ``GET api/Users`` already read for the licenses, so it is not read twice.
    """
    return client.usage_for_period(config.period, total_cost_is=config.mbs["total_cost_is"],
                                   with_destinations=any("{destinations}" in (s.template or "")
                                                         for s in config.all_settings), users=users)
