# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The billing module's products besides storage: licenses and storage accounts
    # (plugins/module_utils/billing/product_config.py checks them).
    DOCUMENTATION = r"""
options:
  license_products:
    description:
      - Bills MSP360 licenses, as the vendor's own ConnectWise integration sends "the number and cost of activated
        licenses". Each entry maps one MSP360 license type to a catalog item; each company gets one addition per
        mapped product and period, with the number of its licenses as the quantity, by the same rules as storage
        (the period's marker, the effective date, invoiced periods, overlapping runs, cancelling the month before,
        corrections, the safety checks).
      - "A license counts for the period when it is paid (not a trial), in use on a computer, assigned to a user of a
        company, and did not expire before the period began. The others are never billed and never dropped: the
        result's RV(licenses) counts them by reason - C(trial), C(expired), C(unassigned) (a pool license),
        C(not_taken), C(unknown_user), C(no_company), C(unmapped_type) - and the warnings name the unmapped types."
      - "The count is a snapshot at the time of the run: MSP360's API has no activation history. To bill a past
        month as it was, give its usage-history export (O(license_history_file))."
      - With licenses from the API, the run reads C(GET api/Users) and C(GET api/Licenses) once each (5 MSP360
        requests in all); it needs O(mbs), or O(license_history_file).
      - "A catalog item bills one line of a company: it may not be the storage product (O(product)) nor a product of
        O(storage_products)."
    type: list
    elements: dict
    suboptions:
      license_type:
        description:
          - MSP360's C(LicenseType) (such as C(Server), C(Desktop), C(VM Server)), matched ignoring case and spacing.
            Each type is mapped once; several types may map to one product (their counts add up).
        type: str
        required: true
      product:
        description: The catalog item identifier of the additions (the setup role creates it).
        type: str
        required: true
      unit_cost:
        description: Cost of one license, at most 4 decimals. Not set - the catalog item's cost (0 when it has none).
        type: raw
      unit_price:
        description: Price of one license, at most 4 decimals. Not set - the catalog item's price (0 when it has none).
        type: raw
      included:
        description:
          - Licenses included in the agreement at no charge, sent as the addition's C(lessIncluded); ConnectWise bills
            the quantity less these. Default 0.
        type: int
  license_history_file:
    description:
      - Path of MSP360's license "Usage History" CSV export (Licenses > Usage History; columns Type, Company, User,
        Endpoint, Status, Activated, Deactivated, Days Active), read instead of the API's snapshot. It has the
        activation dates, so it counts a past month as it was - a license counts when it was active on a day of the
        period (each endpoint's license of a type once).
      - Export every company's history, unfiltered. The file is read as every license of the month, so a license line
        of a company it does not list stops billing (the safety checks still apply).
      - Needs O(license_products); works with any usage source.
    type: path
  license_history_date_order:
    description:
      - Whether the export's numeric dates (C(03/04/2026)) are month first or day first. Not set - told by the file's
        own dates; a file whose dates could be either is refused, naming the row.
    type: str
    choices: [month_first, day_first]
  unmapped_license_types:
    description:
      - What to do with licenses that would be billed but for their type, which no O(license_products) entry maps.
      - V(report) bills the mapped types and reports these with their counts per type and company (a warning and
        C(unmapped_types) of RV(licenses)).
      - V(fail) stops the run before any write, naming the types, so a new license type is never left unbilled.
    type: str
    choices: [report, fail]
    default: report
  max_company_licenses:
    description:
      - The most licenses of one product a company can plausibly have. A license line above it fails with the count and
        this option named; the company's other lines and the other companies are billed. V(0) turns the check off.
        Per company in O(companies).
      - License lines are judged by O(max_growth) too, once they reach 20 licenses.
    type: raw
    default: "10000"
  storage_products:
    description:
      - Bills each company's storage per MSP360 storage account, one addition per product, as the vendor's
        integration maps storage accounts to ConnectWise products. Each entry maps a storage account (its
        C(DisplayName) or C(AccountID)), or one destination of it, to a catalog item.
      - "A company's storage (MSP360's C(AverageSpace), the number storage billing bills) is split in proportion to
        its users' backups per account (C(SizeBackup) of C(PUT api/Billing/Details)), to the byte, and the lines'
        quantities add up to the company's quantity exactly. Storage on an account no entry maps stays on the
        storage product (O(product))."
      - Needs O(mbs). Requests - C(GET api/Accounts) once, then one C(PUT api/Billing/Details) per user with usage
        in the period, O(parallel) at a time. An entry that names no storage account stops the run before any write.
      - Without it, storage is billed on O(product) alone.
    type: list
    elements: dict
    suboptions:
      account:
        description: The storage account's C(DisplayName) or C(AccountID), matched ignoring case and spacing.
        type: str
        required: true
      destination:
        description: One destination of the account (its name, display name or id); without it, the whole account.
        type: str
      product:
        description: The catalog item identifier of the additions.
        type: str
        required: true
      cost_per_gb:
        description: Cost per O(unit) on this account. Not set - the company's (O(cost_per_gb), or MSP360's total).
        type: raw
      price_per_gb:
        description: Price per O(unit) on this account. Not set - the company's (O(price_per_gb), or MSP360's total).
        type: raw
"""
