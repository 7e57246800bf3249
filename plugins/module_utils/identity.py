# -*- coding: utf-8 -*-
# Copyright (c) mbs.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One company identity for usage matching, aggregation and duplicate detection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_INNER_SPACE = re.compile(r"\s+")


def company_key(name):
    """The key two company names share when they name the same company.

    ConnectWise compares company identifiers case-insensitively and MSP360 names are
    typed by hand in its console, so case and surrounding or repeated whitespace never
    make two companies: ``" Company  0001 "`` and ``"company 0001"`` are one.
    ``None`` stays ``None`` (a row without a company).
    """
    if name is None:
        return None
    return _INNER_SPACE.sub(" ", str(name).strip()).casefold()
