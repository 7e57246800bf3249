#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: billing
short_description: Send a month of backup storage usage to ConnectWise agreement additions
version_added: 0.1.0
description:
  - Bills one calendar month of MSP360 Managed Backup storage usage, with one agreement addition of the
    backup product per company on the company's agreement (C(finance/agreements/{id}/additions)),
    as the backup vendor's "send billing" does.
  - "Besides storage, a company can be billed for its MSP360 licenses (O(license_products)) and for its storage
    per storage account (O(storage_products)): each product is one more line of the company, one addition per
    agreement, product and period, planned and applied by the same rules as storage."
  - "Idempotent: there is one addition per agreement, product and period. Each addition this module makes
    carries a marker for its period in its C(description) (C(mbs.connectwise billing 2026-10)), so the
    period's addition is recognised whatever its effective date; an addition without the marker (made by
    hand, or before the marker existed) is the period's when its C(effectiveDate) falls inside the period,
    and gets the marker on the next run. A second run updates it in place (PATCH of the changed fields only)
    or leaves it alone; it never creates a second one."
  - "Overlapping runs (two AWX templates, a schedule and a manual send, several AWX nodes): after every write
    the run re-reads the agreement's additions. Of two additions of one period the lowest id is kept and the
    others, which carry the marker, are removed (RV(results[].removed)); every run applies the same rule, so
    any interleaving ends with one addition per agreement, product and period and one open addition of the
    product. Two additions of one period of which one has no marker (made by hand) make that company fail
    without any write."
  - Usage comes from exactly one source, O(usage), O(usage_file) or O(mbs); all give the same records.
    Records of one ConnectWise company (several users, several destinations) add up to one line.
  - "Quantities are rounded half-up to 2 decimals, unit cost and unit price to 4, totals to 2, all in
    decimal arithmetic."
  - One company's failure never stops the others. The module bills every company, then fails if any
    company failed, listing them with their reasons and still returning RV(results) and RV(totals).
    A re-run completes the failed companies and changes nothing for the others.
  - "Data safety: billing changes an invoice only when the data proves it should. A source that cannot be right
    stops the run before any write (an empty month while agreements still bill, a mass change); a company whose
    usage is implausible (above O(max_company_usage), or above O(max_growth) times its previous billed month)
    fails alone; a company absent from a partial source (O(usage) or O(usage_file) not declared
    O(usage_complete)) is left exactly as it is. Every refusal says what to do next."
  - "Skipped, not failed: a usage company with no ConnectWise company of the mapped identifier; a company
    without an agreement named O(agreement); a company none of whose agreements of that name covers the
    period; an agreement whose billing start date is after the period; zero usage (unless
    O(send_zero)). Companies with usage skipped for want of a company or agreement are also listed in one
    warning."
  - "The agreement billed is the one whose term covers the period, judged by its dates, not by its
    C(agreementStatus) on the day of the run: C(startDate) on or before the period's last day; no
    C(endDate) (or C(noEndingDateFlag)), or an end on or after the period's first day; C(dateCancelled)
    not before the period's first day. An agreement that ended on 2026-10-31 reads C(Expired) in December and
    its October is still billed. One cancelled inside the period is billed, with a warning naming the
    cancellation date. A status C(Cancelled) or C(Expired) without the date that explains it, and
    C(Inactive), are not billed."
  - "Agreements replaced inside the period: two agreements of the name that cover parts of the period one after the
    other (the old one ends or is cancelled before the new one starts) bill the month once, on the agreement in
    force on the period's last day, with a warning naming both (RV(results[].replaced_agreements)). When the
    replaced agreement already holds an addition of the period, the company fails with no write."
  - "Failed: two or more agreements of the name covering the same day of the period for one company; a product not
    in the catalog; a missing rate; the billing start date inside the period with O(effective_date_policy=fail);
    usage above O(max_company_usage) or O(max_growth); a company absent from a complete source while unknown usage
    appears (it may be renamed); any API error for that company."
  - "A POST whose outcome is unknown (no answer, connection dropped after sending, 500/502/503/504) is never
    re-sent blindly: the agreement's additions are re-read, and while the request may still be running on
    ConnectWise (no answer, 502/504) the re-read is repeated over twice O(timeout) before a second POST, so a
    commit that lands after the timeout is adopted, not doubled (at most 3 POSTs per company)."
author:
  - mbs.connectwise maintainers (@mbs-connectwise)
extends_documentation_fragment:
  - mbs.connectwise.connection
  - mbs.connectwise.billing_products
  - mbs.connectwise.billing_calls
attributes:
  check_mode:
    support: full
    description: Reads usage and ConnectWise and reports per company what it would create, update, cancel or
      skip, with the exact values; no write.
  diff_mode:
    support: full
    description: One line per company that changes (or would change), its writes joined - a new addition with its
      quantity, unit price and total, changed fields before and after, earlier additions cancelled, duplicates
      removed; the same texts are each company's RV(results[].changes).
options:
  period:
    description:
      - The month to bill, written C(YYYY-MM) such as V(2026-10).
      - V(auto) is for scheduled jobs. On days 1 to O(auto_window_days) of a month it bills the previous
        month; on other days the module ends with C(changed=false) and RV(skipped_reason) set to
        C(outside the auto-billing window), without any request to either API.
      - When not set, the month before today in O(timezone).
    type: str
  timezone:
    description:
      - IANA time zone name (such as V(Europe/Berlin)) that decides what "today" is for the default period and
        for V(auto).
    type: str
    default: UTC
  auto_window_days:
    description:
      - With O(period=auto), the number of days at the start of a month on which the previous month is billed
        (1 to 28).
    type: int
    default: 3
  today:
    description:
      - The date the run takes as today, written C(YYYY-MM-DD). For testing the auto-billing window and for
        back-dating a run; defaults to the real date in O(timezone).
    type: str
  usage:
    description:
      - Usage records given inline. Each record uses the canonical names C(company), C(used_bytes)
        (whole bytes), and optionally C(destination), C(user), C(cost) and C(price) (money totals for the
        period), or the MSP360 export names C(CompanyName), C(AverageSpace), C(Destination), C(UserId) and
        C(TotalCost) (taken as the price total).
      - When records carry C(cost) or C(price) totals, the rates are not used for that side.
      - Mutually exclusive with O(usage_file) and O(mbs).
    type: list
    elements: dict
  usage_file:
    description:
      - Path of a CSV or JSON usage file on the controller, with the same fields as O(usage) (a CSV header row
        names the columns). MSP360 Billing objects (with C(StatisticBilling)) are accepted in JSON.
      - Mutually exclusive with O(usage) and O(mbs).
    type: path
  mbs:
    description:
      - Read the usage from the MSP360 Managed Backup API (C(PUT /api/Billing) per company).
      - MSP360 users that belong to no company are reported as warnings, never billed.
      - Mutually exclusive with O(usage) and O(usage_file).
    type: dict
    suboptions:
      url:
        description:
          - Base URL of the MSP360 API.
          - If not set, the value of the E(MBS_API_URL) environment variable is used, else the default.
        type: str
        default: https://api.mspbackups.com
      username:
        description:
          - MSP360 API user name (created in the MBS console, Settings > General).
          - If not set, the value of the E(MBS_USERNAME) environment variable is used.
        type: str
      password:
        description:
          - MSP360 API password. Never logged or returned.
          - If not set, the value of the E(MBS_PASSWORD) environment variable is used.
        type: str
      total_cost_is:
        description:
          - What MSP360's C(TotalCost) is. V(price) (the default) takes it as the total the customer is charged
            (the cost side then comes from O(cost_per_gb)); V(cost) takes it as the MSP's cost (the price side
            then comes from O(price_per_gb)).
        type: str
        choices: [price, cost]
        default: price
      timeout:
        description:
          - Seconds to wait for one MSP360 response.
        type: int
        default: 30
      validate_certs:
        description:
          - Whether to verify the MSP360 API's TLS certificate.
        type: bool
        default: true
      allow_http:
        description:
          - Allow an C(http://) O(mbs.url) on another machine than this one. Plain HTTP sends the MSP360 password
            and token unencrypted, readable by anyone on the network; only for a server on a network you trust.
          - An C(http://) URL on this machine (C(localhost), 127.0.0.0/8, ::1), such as the sandbox, needs no such
            permission. A user name or password inside O(mbs.url) is always refused.
        type: bool
        default: false
  company_map:
    description:
      - Usage-source company name to ConnectWise company identifier. A name not in the map is taken as the
        identifier itself. Several names mapped to one identifier add up to one line.
      - Names match ignoring case and spacing, so two keys that differ only in those are an error naming both.
    type: dict
    default: {}
  agreement:
    description:
      - Name of the company agreement the additions are added to (made by the setup role).
      - When no company with usage has an agreement of this name (nor of its C(companies) override), the run
        fails before any write, naming the name and the agreement names those companies do have.
    type: str
    default: ManagedBackupService
  product:
    description:
      - Catalog item identifier (the guide's "Product ID") of the additions.
    type: str
    default: OnlineBackup
  cost_mode:
    description:
      - What is sent, as the vendor's "cost and price settings".
      - V(average_cost) sends the used storage as the quantity, and unit cost and price averaged over it
        (total / quantity, rounded to 4 decimals).
      - V(total) sends quantity 1 and the total cost and price as unit cost and price.
      - V(quantity_only) sends the used storage only; no C(unitCost) or C(unitPrice) is sent, so ConnectWise
        applies the product's own cost and price.
    type: str
    choices: [average_cost, total, quantity_only]
    default: average_cost
  invoice_description:
    description:
      - V(product) sends no C(invoiceDescription); ConnectWise uses the product's description.
      - Any other value is a template sent as C(invoiceDescription), with placeholders in Python format style
        (left alone by Ansible's templating) C({company}) (identifier), C({company_name}), C({period})
        (2026-10), C({month}) (October 2026), C({quantity}), C({unit}), C({unit_price}), C({total_price}),
        C({destinations}). An unknown placeholder, or a price placeholder with O(cost_mode=quantity_only), is
        an error before any request. ConnectWise accepts at most 6000 characters.
    type: str
    default: product
  unit:
    description:
      - Unit of the quantity. V(GiB) (2^30 bytes, as the backup service counts), V(GB) (10^9), V(TiB), V(TB).
      - The unit appears in the results; O(cost_per_gb) and O(price_per_gb) are per one of this unit.
    type: str
    choices: [GiB, GB, TiB, TB]
    default: GiB
  cost_per_gb:
    description:
      - Cost per one O(unit) of storage, used when the usage carries no cost totals.
      - A string (V("0.023"), exact) or a number; converted to a decimal (a float through its shortest text).
      - When it is needed and not set, the companies that need it fail.
    type: raw
  price_per_gb:
    description:
      - Price per one O(unit) of storage, used when the usage carries no price totals. Same format as
        O(cost_per_gb).
    type: raw
  cost_per_gb_by_destination:
    description:
      - Cost per one O(unit) by storage destination name (such as C(Amazon S3)); destinations not listed use
        O(cost_per_gb). The company's cost is then averaged across its destinations by usage.
      - Needs usage records that name their destination (O(usage) or O(usage_file)); with O(mbs) it is an
        error, because MSP360's billing rows carry no destination.
    type: dict
    default: {}
  effective_date_policy:
    description:
      - When the agreement's billing start date falls inside the period, ConnectWise refuses an addition that
        starts on the first day. V(clamp) starts the addition on the billing start date and adds a warning for
        that company; V(fail) makes that company fail with no write.
      - Either way an agreement whose billing start date is after the period is skipped
        (C(agreement not billing yet)).
    type: str
    choices: [clamp, fail]
    default: clamp
  invoiced_period_policy:
    description:
      - On an agreement that does not prorate, ConnectWise refuses an addition effective before the agreement's
        next invoice date (C(Since this period has already been invoiced ...)). The module predicts it from the
        agreement's C(nextInvoiceDate) and C(prorateFlag) (so check mode tells), and handles the refusal too.
      - V(fail) makes that company fail with ConnectWise's message and what to do; nothing is written for it.
      - "V(next_invoice_date) bills the month on the next invoice instead, as a one-time charge: the addition is
        effective on the next invoice date and cancelled at the end of that month, with a warning
        (RV(results[].invoiced_moved)). It keeps its month's marker, so a re-run finds it and never adds a
        second one."
    type: str
    choices: [fail, next_invoice_date]
    default: fail
  usage_complete:
    description:
      - Whether O(usage) or O(usage_file) lists every company billed from it, as MSP360's all-company read does.
      - V(false) (the default) - the source is partial. A company it does not list is left exactly as it is (its
        period's addition and its earlier ones) and is listed in RV(results) as C(not in this run's usage); nothing of
        it is read beyond the agreement list. Re-sending one company's usage never touches the others.
      - V(true) - a company with an agreement that covers the period and no record is billed like a company with no
        usage (O(absent_companies)).
      - The O(mbs) source is always complete.
    type: bool
    default: false
  confirm_mass_change:
    description:
      - "Confirms a run the safety checks would stop before any write: more than O(mass_change_share) of the
        companies whose agreements bill the product would stop or be lowered; a complete source with no usage at all
        for the period while agreements still bill it (MSP360's month not ready yet); a company absent from a complete
        source while usage of a company ConnectWise does not know appears (it may be renamed)."
      - Set it only for the one run you have checked (RV(refused.changes) lists what the run would have done).
    type: bool
    default: false
  mass_change_share:
    description:
      - "The share of the companies whose agreements bill the product (an addition open on the period) that one run
        may stop (cancel, remove, bill at 0) or lower (a billed month re-sent lower) without O(confirm_mass_change).
        More than this share, and at least 2 companies, stops the run before any write and lists what it would
        have done. A decimal from 0 to 1 (V(0.1)) or a percentage (V(10%))."
      - One company stopping is never a mass change; a month MSP360 has filled only in part, or a partial file
        declared complete, is.
    type: raw
    default: "0.1"
  max_company_usage:
    description:
      - The most storage one company can plausibly use in a month. A company above it fails with the values and this
        option named, and nothing is written for it; the other companies are billed.
      - A number of bytes, or a number and a unit (V(1 PiB), V(500 TB); KB, MB, GB, TB, PB are powers of
        1000, KiB, MiB, GiB, TiB, PiB of 1024). V(0) turns the check off. Per company in O(companies).
    type: raw
    default: "1 PiB"
  max_growth:
    description:
      - How many times its previous billed month a company's month may be. A company above it fails with both values
        and this option named, and nothing is written for it; the other companies are billed.
      - The previous billed month is the latest month before the period whose addition the run reads (one that still
        billed into the period); without one the check does not apply. Usage is compared by quantity; in
        O(cost_mode=total) the total price is compared.
      - A company using less than 100 GiB in the period is not judged by growth (a first month of a few days'
        backups followed by a full month grows tenfold; O(max_company_usage) still applies).
      - A number above 1. V(0) turns the check off. Per company in O(companies).
    type: raw
    default: "10"
  zero_usage_correction:
    description:
      - "A company whose usage of an already billed period is corrected to 0 (present with 0 bytes, or absent from a
        complete source): V(remove) deletes the period's addition so ConnectWise stops invoicing it; V(zero) sets its
        quantity to 0. Either way RV(results[].correction) shows the addition and the amount it took off, and
        RV(totals.corrected) the sum."
      - Only an addition made by this module (with its period's marker) is corrected; one made by hand is left, with
        a warning.
    type: str
    choices: [remove, zero]
    default: remove
  previous_additions:
    description:
      - ConnectWise bills an addition every month until its C(cancelledDate). V(cancel) keeps one addition of
        the product billing at a time - an earlier month's addition is cancelled the day before the next one
        starts (at the latest on the last day of its own month when this module made it) - and a month billed
        before the latest billed one is a one-time charge, cancelled on its own last day. Cancel dates are only
        ever brought forward, and an addition of a month after the period is never changed. With no usage in
        the period (and O(send_zero=false)) the open addition is cancelled the day before the period and the
        company is reported as C(cancelled).
      - V(keep) leaves earlier additions as they are.
    type: str
    choices: [cancel, keep]
    default: cancel
  absent_companies:
    description:
      - "A company that has an agreement named O(agreement) covering the period but no record in the usage at
        all (for example deleted from MSP360)."
      - "V(cancel): from a complete source (O(mbs), or O(usage_complete=true)) it is treated like a company with zero
        usage - its open addition is cancelled the day before the period (with O(previous_additions=cancel)), an
        addition of the period is corrected (O(zero_usage_correction)), and it is reported as C(cancelled); a company
        with nothing to stop is not reported. From a partial source it is left exactly as it is and reported as
        skipped, C(not in this run's usage)."
      - V(keep) ignores such companies altogether.
      - Companies with C(skip) in O(companies) are never touched.
    type: str
    choices: [cancel, keep]
    default: cancel
  send_zero:
    description:
      - Whether a company present in the usage with zero usage gets an addition (quantity 0). By default it is
        skipped with reason C(no usage).
      - A company absent from the usage never gets one, and is never set to 0.
    type: bool
    default: false
  parallel:
    description:
      - How many agreements are processed at a time (one request in flight each), 1 to 16. A value outside
        that range is an error before any request.
      - ConnectWise answers a client that sends too much with HTTP 429 and C(Retry-After); the module waits as
        it says (with jitter), so a lower value only matters for a site that throttles hard.
    type: int
    default: 8
  allow_current_period:
    description:
      - A period after the current month (of O(today)) is always an error before any request. The current,
        unfinished month is billed only when this is V(true); the result then has RV(current_period=true).
    type: bool
    default: false
  companies:
    description:
      - Per-company overrides, keyed by ConnectWise company identifier (matched case-insensitively). Each
        value is a mapping with any of C(agreement) (str), C(product) (str), C(cost_mode) (as O(cost_mode)),
        C(invoice_description) (as O(invoice_description)), C(price_per_gb) and C(cost_per_gb) (as
        O(price_per_gb)), C(max_company_usage) and C(max_growth) (as the options, for this company), C(skip) (bool,
        default false; a skipped company is reported and not billed).
      - "The products besides storage (the vendor's per-company billing configuration): C(products) (list) - the
        products this company is billed for, among O(product), O(license_products) and O(storage_products); a
        product it leaves out is never touched for it (not set - every product); C(product_prices) (dict) - per
        product of O(license_products) its C(unit_price), C(unit_cost) and C(included), per product of
        O(storage_products) its C(price_per_gb) and C(cost_per_gb); C(max_company_licenses) (as the option)."
      - A company's C(cost_per_gb) replaces both O(cost_per_gb) and O(cost_per_gb_by_destination) for it.
      - The values are checked like options; an unknown key is an error before any request.
    type: dict
    default: {}
notes:
  - Results report money and quantities as strings with their exact decimals (C("12.50")), so neither YAML nor
    JSON turns them into floats.
  - Every name and message in the warnings, reasons and results has its control characters escaped (C(\n)), so one
    item is always one line of output, whatever a company name in MSP360 or ConnectWise holds.
  - The safety rules in the words of a billing administrator, and how to bill a month later when MSP360 was not
    ready, are in the collection's C(docs/billing.md).
  - The addition's product is sent as an id reference, after looking the identifier up in the catalog.
"""

EXAMPLES = r"""
- name: Bill last month from the MSP360 API (auto-billing job, daily schedule)
  mbs.connectwise.billing:
    period: auto
    timezone: Europe/Berlin
    mbs:
      username: "{{ mbs_api_user }}"
      password: "{{ mbs_api_password }}"
    cost_per_gb: "0.005"
    company_map:
      Initech Inc.: Initech
  register: billing

- name: Bill October 2026 from an exported CSV, total cost and price with quantity 1
  mbs.connectwise.billing:
    period: "2026-10"
    usage_file: /srv/billing/2026-10.csv
    cost_mode: total
    invoice_description: "Online backup {month}: {quantity} {unit}"

- name: Inline usage, per-company overrides, dry run
  mbs.connectwise.billing:
    period: "2026-10"
    usage:
      - company: AcmeCorp
        used_bytes: 536870912000
        destination: Amazon S3
    cost_per_gb: "0.02"
    price_per_gb: "0.10"
    companies:
      AcmeCorp:
        price_per_gb: "0.08"
      Hooli:
        skip: true
  check_mode: true
"""

RETURN = r"""
period:
  description: The period billed (null when outside the auto-billing window).
  returned: always
  type: str
  sample: "2026-10"
current_period:
  description: Whether the period billed is the current, unfinished month (only with O(allow_current_period=true)).
  returned: when a period is billed
  type: bool
  sample: false
unit:
  description: The quantity unit.
  returned: always
  type: str
  sample: GiB
skipped_reason:
  description: Why nothing was done at all.
  returned: when O(period=auto) outside the window
  type: str
  sample: outside the auto-billing window
results:
  description:
    - One entry per ConnectWise company (usage companies mapped to one identifier share an entry).
    - Money and quantities are strings with exact decimals; null when not applicable (quantity_only mode,
      skipped companies).
  returned: always
  type: list
  elements: dict
  contains:
    company:
      description: ConnectWise company identifier.
      type: str
    company_name:
      description: ConnectWise company name (null when the company was not found).
      type: str
    usage_company:
      description: Usage-source company name(s), comma-separated; null for a company absent from the usage.
      type: str
    kind:
      description:
        - What the line bills - C(storage) (the company's storage on O(product)), C(storage_account) (its storage on a
          storage account's product, O(storage_products)) or C(license) (its licenses of a product,
          O(license_products)). A company has one line per product.
      type: str
    licenses:
      description: A license line's number of licenses counted (its quantity); null for storage lines.
      type: int
    license_types:
      description: The MSP360 license types a license line's product maps.
      type: list
      elements: str
    included:
      description: The addition's C(lessIncluded) (license lines); null when not sent.
      type: int
    accounts:
      description: The storage accounts whose storage a line bills (storage split by account).
      type: list
      elements: str
    company_bytes:
      description:
        - The company's whole storage, in bytes, on each of its storage lines when its storage is split by storage
          account (O(storage_products)); the storage lines' RV(results[].used_bytes) add up to it. Null otherwise.
      type: int
    used_bytes:
      description: The company's usage in the period, in bytes (0 when none), on every row, billed or not.
      type: int
    marker:
      description: The period marker the addition carries in its C(description).
      type: str
    removed:
      description: Ids of duplicate additions of the period removed (made by an overlapping run).
      type: list
      elements: int
    correction:
      description:
        - The period's addition of a company whose usage was corrected to 0 (O(zero_usage_correction)), with what it
          billed a month (quantity, total price and cost as exact strings) and C(how) (C(removed) or C(zeroed)); null
          otherwise. A removal is reported with action C(cancelled), a zeroed addition with action C(updated).
      type: dict
      sample: {addition_id: 301, how: removed, quantity: "100.00", total_price: "5.00", total_cost: "1.00"}
    replaced_agreements:
      description: Agreements of the name replaced inside the period by the one billed (RV(results[].agreement_id)).
      type: list
      elements: int
    invoiced_moved:
      description: Whether the period was already invoiced and the addition is a one-time charge on the next
        invoice date (O(invoiced_period_policy=next_invoice_date)).
      type: bool
    agreement:
      description: The agreement name used.
      type: str
    agreement_id:
      description: The agreement billed.
      type: int
    product:
      description: The product identifier.
      type: str
    cost_mode:
      description: The mode used.
      type: str
    period:
      description: The period.
      type: str
    effective_date:
      description: The addition's effective date, C(YYYY-MM-DD).
      type: str
    quantity:
      description: The quantity sent (C("1.00") in total mode).
      type: str
    used_quantity:
      description: The storage used, in RV(unit).
      type: str
    unit:
      description: The unit.
      type: str
    destinations:
      description: Storage destinations of the usage.
      type: list
      elements: str
    unit_cost:
      description: Unit cost sent (4 decimals).
      type: str
    unit_price:
      description: Unit price sent (4 decimals).
      type: str
    total_cost:
      description: Line total cost (2 decimals).
      type: str
    total_price:
      description: Line total price (2 decimals).
      type: str
    action:
      description:
        - C(created), C(updated), C(unchanged), C(cancelled), C(skipped) or C(failed) (in check mode what would be
          done).
        - C(cancelled) is a company with no usage in the period (and O(send_zero=false)), or absent from the
          usage (O(absent_companies)), whose open addition of the product from an earlier period was cancelled (C(cancelledDate) the day before the period, per
          O(previous_additions=cancel)) so it stops billing; C(reason) says so and C(cancelled) lists the ids.
          Its additions are counted in C(totals.counts.cancelled); it has no count of its own.
      type: str
    addition_id:
      description: The period's addition (null when it would be created in check mode).
      type: int
    cancelled:
      description: Ids of earlier additions cancelled (or to be cancelled in check mode).
      type: list
      elements: int
    backfill:
      description:
        - Whether the period is before the latest billed one (an addition of the product is effective after it).
          Such a backfilled addition is a one-time charge, effective and cancelled (C(cancelledDate) its last
          day) inside its own period; the later month's addition is never touched.
      type: bool
    changed_fields:
      description: Fields patched on update.
      type: list
      elements: str
    changes:
      description:
        - What the run did (in check mode, would do) to the company's additions, one short text per write, such as
          C(create addition 2026-10 12.50 GiB x 0.0500 = 0.63), C(update addition 302 quantity 10.00 -> 12.00),
          C(cancel addition 287 from 2026-09-30) or C(remove addition 305, a duplicate of 2026-10's addition 301
          (the lowest id is kept)). Empty when nothing was written.
      type: list
      elements: str
    reason:
      description:
        - Why the company was skipped, cancelled or failed. C(not in this run's usage) - the company has an agreement
          covering the period but a partial source does not list it; it was left exactly as it is.
      type: str
    warnings:
      description: Warnings for this company (such as a clamped effective date).
      type: list
      elements: str
  sample:
    - company: AcmeCorp
      agreement_id: 12
      product: OnlineBackup
      period: "2026-10"
      effective_date: "2026-10-01"
      quantity: "500.00"
      unit: GiB
      unit_cost: "0.0200"
      unit_price: "0.1000"
      total_cost: "10.00"
      total_price: "50.00"
      action: created
      addition_id: 301
      cancelled: [287]
totals:
  description:
    - Counts per action (and of cancelled additions), money totals and quantity per unit over the billed companies
      (created, updated, unchanged); money as strings with 2 decimals.
    - C(unmapped) - the usage of companies ConnectWise has no company for (C(companies), C(used_bytes), C(quantity),
      and C(total_price)/C(total_cost) as they would be billed with the defaults; C(unpriced) counts those without
      a rate).
    - C(corrected) - the months corrected to 0 (C(companies), and the C(total_price)/C(total_cost) a month they no
      longer bill).
    - C(not_in_usage) - companies a partial source does not list, left as they are.
  returned: always
  type: dict
  contains:
    companies:
      description: Companies in RV(results).
      type: int
    counts:
      description: Companies per action, and C(cancelled) - earlier additions cancelled.
      type: dict
    total_cost:
      description: Total cost of the billed companies.
      type: str
    total_price:
      description: Total price of the billed companies.
      type: str
    quantity:
      description: Storage billed, per unit.
      type: dict
    unmapped:
      description: The usage of companies ConnectWise has no company for, in bytes, quantity and money.
      type: dict
    corrected:
      description: The months corrected to 0 and what they no longer bill a month.
      type: dict
    not_in_usage:
      description: Companies a partial source does not list, left as they are.
      type: int
    by_product:
      description:
        - Per product - C(kind), C(unit), C(lines), C(billed) (lines created, updated or unchanged), and the C(quantity),
          C(total_cost) and C(total_price) of the billed lines (exact strings); they add up to the run's totals.
      type: dict
  sample:
    companies: 3
    counts: {created: 1, updated: 0, unchanged: 1, skipped: 1, failed: 0, cancelled: 1}
    total_cost: "12.40"
    total_price: "61.90"
    quantity: {GiB: "620.00"}
    unmapped: {companies: 1, used_bytes: 26843545600, quantity: "25.00", total_price: "1.50", total_cost: "0.25",
               unpriced: 0}
    corrected: {companies: 0, total_price: null, total_cost: null}
    not_in_usage: 0
licenses:
  description:
    - The licenses read for the period (with O(license_products)) and where each went - C(source), C(read),
      C(counted) (billed to a company's product line), C(not_billed), C(not_billed_by_reason) (C(trial), C(expired),
      C(unassigned), C(not_taken), C(unknown_user), C(no_company), C(unmapped_type); the usage-history export's
      C(not_active) and C(repeat)), C(reasons) (each reason in words), C(unmapped_types) (count per license type
      no entry maps) and C(not_billed_by_company) (per MSP360 company - C(company), its ConnectWise identifier or
      null for licenses of no company, C(usage_company) and C(reasons) with their counts). C(read) = C(counted) +
      C(not_billed), always.
    - Null without O(license_products).
  returned: when a period is billed
  type: dict
  sample:
    source: MSP360 licenses of 2026-10 (a snapshot at run time)
    read: 21
    counted: 11
    not_billed: 10
    not_billed_by_reason: {trial: 3, expired: 1, unassigned: 2, not_taken: 0, unknown_user: 1, no_company: 1,
                           unmapped_type: 2}
    unmapped_types: {MS Exchange: 1, Desktop: 1}
usage_complete:
  description: Whether the usage source lists every company (MSP360, or O(usage_complete=true)).
  returned: when a period is billed
  type: bool
  sample: true
refused:
  description:
    - Why the run stopped before any write, and what it would have done. C(rule) is C(empty month) or C(mass change);
      C(changes) lists each company it would have stopped or lowered (C(company), C(agreement_id), C(change) -
      C(cancel), C(remove), C(zero) or C(lower) - C(additions), C(total_price) a month and C(what) in words). For
      a mass change C(companies_billing) and C(share_limit) too.
    - Nothing was written. Check the usage; run again with O(confirm_mass_change=true) only when it is right.
  returned: when the safety checks stop the run
  type: dict
  contains:
    rule:
      description: C(empty month) or C(mass change).
      type: str
    changes:
      description: What the run would have done, one entry per company.
      type: list
      elements: dict
    companies_billing:
      description: Companies whose agreements bill the product (a mass change only).
      type: int
    share_limit:
      description: O(mass_change_share) as the run read it (a mass change only).
      type: str
  sample:
    rule: empty month
    changes:
      - company: AcmeCorp
        agreement_id: 12
        change: cancel
        additions: [280]
        total_price: "25.00"
        what: "cancel addition 280 (2026-10: 500.00 GiB x 0.0500 = 25.00 a month) - no usage in 2026-11"
requests:
  description: HTTP requests sent, by API and method (retries included); for benchmarks.
  returned: always
  type: dict
  sample: {connectwise: {GET: 205, POST: 200}, mbs: {POST: 1, GET: 1, PUT: 1}}
longest_url:
  description: Characters in the longest ConnectWise request URL sent (ConnectWise's guide keeps URLs within 2,000).
  returned: success
  type: int
  sample: 1873
diff:
  description:
    - "One entry per company that changes (or would change in check mode), in Ansible's C(prepared) form - one line
      C(AcmeCorp: create addition 2026-10 12.50 GiB x 0.0500 = 0.63; cancel addition 287 from 2026-09-30), its
      RV(results[].changes) joined - so the C(--diff) of hundreds of companies is one line each. The report has each
      company's whole line."
  returned: diff mode
  type: list
  elements: dict
  sample: [{prepared: "Globex: update addition 302 quantity 10.00 -> 12.00\n"}]
stops:
  description:
    - The companies whose billing this run stops or lowers (cancel, remove, zero, lower), as its run-level checks
      judged them; a line of a license or storage-account product is named with its product in brackets after
      the company.
      A check-mode run of the whole month gives them to the calls that bill it in parts (O(approved_stops)).
  returned: when a period is billed
  type: list
  elements: str
  sample: [Hooli]
usage:
  description:
    - The usage records the run read, as O(usage) takes them (C(company), C(used_bytes), C(destination), C(user),
      C(cost) and C(price) as exact text), names as read rather than escaped. With RV(usage_complete), for the calls
      that bill the month in parts without reading MSP360 again.
  returned: with O(month_check=true), when a period is billed
  type: list
  elements: dict
  sample: [{company: AcmeCorp, used_bytes: 536870912000, user: "5b8e...", price: "25.00"}]
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.mbs.connectwise.plugins.module_utils.billing import call as billing_call
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.config import COMPANY_OVERRIDE_SPEC, ZERO_USAGE_CORRECTIONS
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.effective_dates import EFFECTIVE_DATE_POLICIES, INVOICED_POLICIES
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.lines import MODES
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import UNITS
from ansible_collections.mbs.connectwise.plugins.module_utils.connectwise_module import ConnectWiseModule
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.msp360 import DEFAULT_MBS_API_URL
from ansible_collections.mbs.connectwise.plugins.module_utils.option_names import known_paths, table_problem
from ansible_collections.mbs.connectwise.plugins.module_utils.usage_sources import TOTAL_COST_IS

ARGUMENT_SPEC = dict(
    period=dict(type="str"),
    timezone=dict(type="str", default="UTC"),
    auto_window_days=dict(type="int", default=3),
    today=dict(type="str"),
    usage=dict(type="list", elements="dict"),
    usage_file=dict(type="path"),
    mbs=dict(type="dict", options=dict(
        url=dict(type="str", default=DEFAULT_MBS_API_URL, fallback=(env_fallback, ["MBS_API_URL"])),
        username=dict(type="str", fallback=(env_fallback, ["MBS_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["MBS_PASSWORD"])),
        total_cost_is=dict(type="str", choices=list(TOTAL_COST_IS), default="price"),
        timeout=dict(type="int", default=30),
        validate_certs=dict(type="bool", default=True),
        allow_http=dict(type="bool", default=False),
    )),
    company_map=dict(type="dict", default={}),
    agreement=dict(type="str", default="ManagedBackupService"),
    product=dict(type="str", default="OnlineBackup"),
    cost_mode=dict(type="str", choices=list(MODES), default="average_cost"),
    invoice_description=dict(type="str", default="product"),
    unit=dict(type="str", choices=list(UNITS), default="GiB"),
    cost_per_gb=dict(type="raw"),
    price_per_gb=dict(type="raw"),
    cost_per_gb_by_destination=dict(type="dict", default={}),
    effective_date_policy=dict(type="str", choices=list(EFFECTIVE_DATE_POLICIES), default="clamp"),
    invoiced_period_policy=dict(type="str", choices=list(INVOICED_POLICIES), default="fail"),
    previous_additions=dict(type="str", choices=["cancel", "keep"], default="cancel"),
    absent_companies=dict(type="str", choices=["cancel", "keep"], default="cancel"),
    send_zero=dict(type="bool", default=False),
    parallel=dict(type="int", default=8),
    allow_current_period=dict(type="bool", default=False),
    companies=dict(type="dict", default={}),
    usage_complete=dict(type="bool", default=False),
    confirm_mass_change=dict(type="bool", default=False),
    mass_change_share=dict(type="raw", default="0.1"),
    max_company_usage=dict(type="raw", default="1 PiB"),
    max_growth=dict(type="raw", default="10"),
    zero_usage_correction=dict(type="str", choices=list(ZERO_USAGE_CORRECTIONS), default="remove"),
    license_products=dict(type="list", elements="dict", options=dict(
        license_type=dict(type="str", required=True),
        product=dict(type="str", required=True),
        unit_cost=dict(type="raw"),
        unit_price=dict(type="raw"),
        included=dict(type="int"),
    )),
    license_history_file=dict(type="path"),
    license_history_date_order=dict(type="str", choices=["month_first", "day_first"]),
    unmapped_license_types=dict(type="str", choices=["report", "fail"], default="report"),
    max_company_licenses=dict(type="raw", default="10000"),
    storage_products=dict(type="list", elements="dict", options=dict(
        account=dict(type="str", required=True),
        destination=dict(type="str"),
        product=dict(type="str", required=True),
        cost_per_gb=dict(type="raw"),
        price_per_gb=dict(type="raw"),
    )),
    option_names=dict(type="dict", default={}),
    only_companies=dict(type="list", elements="str"),
    approved_stops=dict(type="list", elements="str", default=[]),
    month_check=dict(type="bool", default=False),
)


def main():
    module = ConnectWiseModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("usage", "usage_file", "mbs")],
        required_one_of=[("usage", "usage_file", "mbs")],
        supports_check_mode=True,
    )
    problem = table_problem(module.params["option_names"], known_paths(ARGUMENT_SPEC, COMPANY_OVERRIDE_SPEC))
    if problem:
        module.fail_json(msg=problem)
    try:
        outcome = billing_call.bill(lambda: module.client, module.params, check_mode=module.check_mode,
                                    diff=module._diff)
    except InputError as exc:
        module.fail_json(msg=str(exc))
    for warning in outcome.warnings:
        module.warn(warning)
    if outcome.error is not None:
        module.fail_from(outcome.error, **outcome.result)
    if outcome.failure is not None:
        module.fail_json(msg=outcome.failure, **outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
