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
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.msp360 import MBSClient
from ansible_collections.mbs.connectwise.plugins.module_utils.origin import check_configured_url
from ansible_collections.mbs.connectwise.plugins.module_utils.usage_sources import normalise_inline, read_usage_file


def read_local_usage(config):
    """Inline records or a file -> UsageRecords (no request); None for the MSP360 source."""
    if config.source == "usage":
        return checked(normalise_inline, config.usage, config.names("usage"))
    if config.source == "usage_file":
        try:
            return read_usage_file(config.usage_file)
        except ValueError as exc:
            raise InputError(_named(str(exc), "usage_file", config.names("usage_file")))
    return None


def _named(message, option, name):
    """A usage file's message, which starts with the option's name (``usage_file row 4: ...``), naming it ``name``."""
    return name + message[len(option):] if message.startswith(option) else message


def usage_result(records):
    """The records as inline usage (canonical names, money as exact text, names as read): a later call of the
    same month bills them without reading MSP360 again."""
    result = []
    for record in records:
        item = {"company": record.company, "used_bytes": record.used_bytes}
        for key in ("destination", "user"):
            if getattr(record, key) is not None:
                item[key] = getattr(record, key)
        for key in ("cost", "price"):
            if getattr(record, key) is not None:
                item[key] = str(getattr(record, key))
        result.append(item)
    return result


def mbs_client(config):
    mbs, names = config.mbs, config.names
    # The client checks the URL too, naming the module's options; first as the caller names them.
    checked(check_configured_url, mbs["url"], names("mbs.url"), bool(mbs.get("allow_http")), names("mbs.allow_http"))
    return MBSClient(mbs["url"], mbs["username"], mbs["password"], timeout=mbs["timeout"],
                     validate_certs=mbs["validate_certs"], allow_http=bool(mbs.get("allow_http")))


def load_mbs_usage(config, client, users=None):
    """``(records, warnings)`` from the MSP360 API; MBSError when it cannot be read.

    ``users``: ``GET api/Users`` already read for the licenses, so it is not read twice.
    """
    return client.usage_for_period(config.period, total_cost_is=config.mbs["total_cost_is"],
                                   with_destinations=any("{destinations}" in (s.template or "")
                                                         for s in config.all_settings), users=users)
