# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Text the billing module prints: names and messages on one line each, whatever the names hold.

Company names come from MSP360's console and from ConnectWise, typed by people. A newline in one
would start a new line of Ansible's output (a forged ``PLAY RECAP``), a terminal escape would
recolour it: every name and message the module returns goes through :func:`shown`, which writes
each control character as its escape (``\\n``, ``\\x1b``, ``\\u2028``), so one item is one line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidirectional
# overrides (which reorder what a terminal shows).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match):
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def shown(value):
    """``value`` as text with every control character escaped; None stays None."""
    if value is None:
        return None
    return _CONTROL.sub(_escape, str(value))


def listed(names, limit=None):
    """Names joined with ", ", each :func:`shown`; after ``limit`` names, how many more."""
    names = [shown(name) for name in names]
    if limit is not None and len(names) > limit:
        return "%s and %d more" % (", ".join(names[:limit]), len(names) - limit)
    return ", ".join(names)


def plural(count, one, many):
    return "%d %s" % (count, one if count == 1 else many)
