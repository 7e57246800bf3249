# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The billing module's call: its options -> the usage and products read -> one :class:`run.BillingRun` -> its result.

Everything the module returns is put together here (results, totals, the requests made, a refusal's
``refused``, the month's check's ``usage`` and ``stops``); the run itself is :mod:`run`'s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.config import build_config
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.product_config import product_config
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.product_sources import (
    load_product_usage,
    read_history,
    read_users,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.run import BillingRun
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.sources import (
    load_mbs_usage,
    mbs_client,
    read_local_usage,
    usage_result,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.text import plural, shown
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.totals import run_totals
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError, InputError, MBSError, RunRefused


@dataclasses.dataclass
class Outcome:
    """What the billing module returns: its result, warnings, and why it fails (if it does)."""

    result: dict
    warnings: list
    error: object = None
    failure: object = None


def failure_message(results):
    failed = [r for r in results if r["action"] == "failed"]
    return "billing of %s failed for %s: %s" % (
        failed[0]["period"], plural(len(failed), "company", "companies"),
        "; ".join("%s: %s" % (r["company"], r["reason"]) for r in failed))


def requests_made(cw_client=None, mbs=None):
    out = {}
    if cw_client is not None:
        out["connectwise"] = dict(cw_client.stats)
    if mbs is not None:
        out["mbs"] = dict(mbs.stats)
    return out


def _read_usage(config, mbs, records, history):
    """``(records, products, warnings)``: MSP360's usage when ``records`` is None, then what the products read."""
    warnings, users = [], None
    if records is None:
        users = read_users(config, mbs)
        records, source_warnings = load_mbs_usage(config, mbs, users)
        warnings.extend(shown(warning) for warning in source_warnings)
    return records, load_product_usage(config, mbs, users, records, history), warnings


def bill(connectwise, params, check_mode=False, diff=False):
    """The billing module's run. ``connectwise()`` gives the ConnectWise client (built only when needed).

    InputError before any request; an API failure of the whole run, or a refusal of the run's checks,
    comes back as ``Outcome.error`` with the requests made, and failed companies as
    ``Outcome.failure`` with every result.
    """
    config = build_config(params)
    if config.month_check and not check_mode:
        raise InputError("%s is the check of a month that is then billed in parts: run it in check mode, it "
                         "writes nothing" % config.names("month_check"))
    if config.period is None:
        return Outcome(dict(changed=False, skipped_reason=config.skipped_reason, period=None, unit=config.unit,
                            results=[], totals=run_totals([], config.unit, None), requests={}), [])
    config.products = product_config(params, config)
    records, history = read_local_usage(config), read_history(config)
    client, mbs, warnings = connectwise(), None, []
    result = dict(period=config.period.label, unit=config.unit, current_period=config.current_period,
                  usage_complete=config.safety.complete_source)
    try:
        mbs = mbs_client(config) if records is None else None
        records, products, source_warnings = _read_usage(config, mbs, records, history)
        warnings.extend(source_warnings)
        result["licenses"] = products.summary(config.identifier_of)
        warnings.extend(shown(warning) for warning in products.check_unmapped(config.products.unmapped_license_types))
        run = BillingRun(client, config, check_mode=check_mode, diff=diff)
        report = run.run(records, products)
    except RunRefused as exc:
        result.update(changed=False, refused=exc.result(), requests=requests_made(client, mbs))
        return Outcome(result, warnings, error=ValueError(shown(exc)))
    except (ApiError, MBSError, ValueError) as exc:
        result["requests"] = requests_made(client, mbs)
        return Outcome(result, warnings, error=exc)
    if not config.month_check:
        # The month's check leaves each company's warnings to the call that bills it.
        warnings.extend(run.warnings)
    results = [one.result() for one in report.bills]
    result.update(changed=report.changed, results=results, totals=report.totals, stops=report.stops,
                  requests=requests_made(client, mbs), longest_url=client.longest_url)
    if config.month_check:
        result["usage"] = usage_result(records)
    if diff:
        result["diff"] = report.diffs
    failure = failure_message(results) if any(r["action"] == "failed" for r in results) else None
    return Outcome(result, warnings, failure=failure)
