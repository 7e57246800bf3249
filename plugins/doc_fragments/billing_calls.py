# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The billing module's options for a caller that wraps it (the billing role): names of its own for
    # the options, and a month billed in parts with progress between them.
    DOCUMENTATION = r"""
options:
  option_names:
    description:
      - How the caller's users name this module's options, for the messages. Each key is an option
        (V(cost_per_gb)), a suboption (V(mbs.total_cost_is)) or an entry of a mapping option written with
        C(*) (V(companies[*].price_per_gb), V(company_map[*]), V(cost_per_gb_by_destination[*])); each value
        is the name to show, in which C(*) stands for the entry (the company identifier, the usage name).
      - Every message that names an option names it this way, so a caller that sets the options from
        variables of its own (the billing role sets O(cost_per_gb) from C(billing_cost_per_gb)) shows the
        names its users write. A key given with an empty value is an option the caller does not let its
        users set; messages do not suggest it.
      - A key that is not an option of this module is an error before any request.
    type: dict
    default: {}
  only_companies:
    description:
      - Bill only these ConnectWise company identifiers (matched like O(companies)), for a month billed in
        parts with progress between the calls, as the billing role does with C(billing_batch_size).
      - The month is read and grouped whole (the usage, the agreements of the name, the companies with
        unknown usage for the rename check); only the companies listed are planned, written and reported,
        and the rules for companies absent from the usage apply to those alone. A company listed that the run
        does not meet at all is reported as skipped (C(not in this run)).
      - Give the parts the usage of one read, O(usage) from the month's check's RV(usage) (O(month_check)) with
        O(usage_complete) as it returned, so MSP360 is read once a month.
      - The run-level checks (an empty month, a mass change) judge the companies of this call, except those
        whose stop O(approved_stops) lists.
    type: list
    elements: str
  approved_stops:
    description:
      - Companies whose billing a check of the whole month let stop or go down (a line of another product is the
        company, then its product in brackets) - the RV(stops) of a check-mode run of the same usage without
        O(only_companies). A call of O(only_companies) does not judge them again as an empty month or a mass
        change (a part of a month is not the month), and judges any other stop as usual.
    type: list
    elements: str
    default: []
  month_check:
    description:
      - This run checks the whole month for the calls that then bill it in parts (O(only_companies)), in check
        mode (anything else is refused). It reads the usage once and returns it as RV(usage), so the parts bill the
        same records without reading MSP360 again; it judges the whole month (an empty month, a mass change) and
        returns the stops it let through as RV(stops), for their O(approved_stops).
      - Its warnings are the usage source's only (such as MSP360 users without a company); each company's warnings
        come from the call that bills it.
    type: bool
    default: false
"""
