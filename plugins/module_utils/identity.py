# -*- coding: utf-8 -*-
# Copyright (c) mbs.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One fold for every identifier and name the collection compares.

ConnectWise answers conditions case-insensitively (SQL Server collation), so whatever
groups or compares what it returned must fold case the same way, and MSP360 company
names are typed by hand in its console. One function serves both, so a company
matched in billing is the company matched in setup.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_INNER_SPACE = re.compile(r"\s+")


def fold(value):
    """The key two identifiers or names share when they name the same thing.

    Case (``casefold``, so ``"Straße"`` is ``"STRASSE"``), surrounding whitespace and runs
    of inner whitespace never tell two apart: ``" Company  0001 "`` and ``"company 0001"``
    are one. Folding more than ConnectWise does is safe for grouping its answers: an
    ``in (...)`` read only returns rows the server itself found equal to a value asked
    for. Other values are identifiers written as text (a YAML ``1234`` is the identifier
    ``"1234"``); ``None`` stays ``None`` (no value).
    """
    if value is None:
        return None
    return _INNER_SPACE.sub(" ", str(value).strip()).casefold()


# The name billing and usage matching know it by: a company name is one more identifier.
company_key = fold
