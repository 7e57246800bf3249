# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Text from customers' data made safe to print on one line.

Company names, MSP360 user names and ConnectWise messages come from data other people type. A
newline in one of them printed raw would start a line the reader takes for Ansible's own (a forged
``PLAY RECAP``), a carriage return or an escape sequence would overwrite what the terminal shows, a
bidirectional override would show a name reversed. ``printable`` writes each such character as a
visible escape, so one item is always one line and reads as what it is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import unicodedata

# Unicode's format characters that reorder what is displayed (the "Trojan Source" set); the other
# format characters (soft hyphen, joiners inside emoji) change nothing a reader could be misled by.
BIDI_CONTROLS = frozenset(u"\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
NAMED = {u"\n": u"\\n", u"\r": u"\\r", u"\t": u"\\t"}


def needs_escape(char):
    """A control character (C0, DEL, C1), a line or paragraph separator, or a bidirectional control."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS


def escape_char(char):
    if char in NAMED:
        return NAMED[char]
    code = ord(char)
    return u"\\x%02x" % code if code < 0x100 else u"\\u%04x" % code


def printable(value):
    """``value`` as text with every control character written as an escape (``\\n``, ``\\x1b``, ``\\u202e``).

    None is ''. Text without such characters comes back unchanged, and so does text already escaped
    (a backslash is not a control character), so escaping twice is harmless.
    """
    if value is None:
        return u""
    text = value if isinstance(value, str) else str(value)
    if not any(needs_escape(char) for char in text):
        return text
    return u"".join(escape_char(char) if needs_escape(char) else char for char in text)


def shortened(text, limit):
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[:max(limit - 1, 0)].rstrip() + u"\u2026"
