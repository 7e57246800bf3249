# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The billing role's batches (``billing_batch_size``): one result of the month, and a line of progress.

The rules are :mod:`module_utils.billing.parts`'s; these filters only word their refusals for Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.mbs.connectwise.plugins.module_utils.billing import parts


def billing_merge(month, batches, count=None):
    """The month's check and its batches' registered results -> one billing module result (``billing_report`` takes it)."""
    try:
        return parts.merge_month(month, list(batches or []), count)
    except ValueError as exc:
        raise AnsibleFilterError("billing_merge: %s" % exc)


def billing_progress(batches, month, count):
    """The line the role prints after a batch: its counts and how many of the month's companies are done."""
    if not batches:
        raise AnsibleFilterError("billing_progress: no batch has run yet")
    try:
        return parts.progress_line(list(batches), month, int(count))
    except ValueError as exc:
        raise AnsibleFilterError("billing_progress: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {
            "billing_merge": billing_merge,
            "billing_progress": billing_progress,
        }
