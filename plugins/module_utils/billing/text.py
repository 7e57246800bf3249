# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Text the billing module prints: names and messages on one line each, whatever the names hold.

Company names come from MSP360's console and from ConnectWise, typed by people. A newline in one
would start a new line of Ansible's output (a forged ``PLAY RECAP``), a terminal escape would
recolour it: every name and message the module returns goes through :func:`shown`, the one escaping
rule of the collection (:mod:`printable`), so one item is one line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils.printable import printable


def shown(value):
    """``value`` as text with every control character escaped (:func:`printable.printable`); None stays None."""
    if value is None:
        return None
    return printable(value)


def listed(names, limit=None):
    """Names joined with ", ", each :func:`shown`; after ``limit`` names, how many more."""
    names = [shown(name) for name in names]
    if limit is not None and len(names) > limit:
        return "%s and %d more" % (", ".join(names[:limit]), len(names) - limit)
    return ", ".join(names)


def plural(count, one, many):
    return "%d %s" % (count, one if count == 1 else many)
