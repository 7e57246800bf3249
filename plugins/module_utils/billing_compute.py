# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The billing rules' public names in one namespace, for the role filters and the tests.

Each rule lives in one file of ``module_utils/billing/`` (numbers, periods, usage, pricing, lines,
invoice_text, effective_dates, payloads, history, totals); this module only gathers their names,
so ``billing_compute.round_money`` is ``billing.numbers.round_money``. New code imports the topic's
own module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.effective_dates import (
    EFFECTIVE_DATE_POLICIES,
    INVOICED_POLICIES,
    INVOICED_REFUSAL,
    NOT_BILLING_YET,
    EffectiveDate,
    EffectiveDateRefused,
    InvoicedPeriodRefused,
    NotBillingYet,
    agreement_term,
    effective_date,
    invoiced_effective_date,
    is_invoiced_refusal,
    past_invoiced_span,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.history import (
    MARKER,
    Cancel,
    addition_marker,
    addition_period,
    history_cancellations,
    is_late_charge,
    later_periods_billed,
    marked_period,
    one_time_end,
    period_additions,
    period_winner,
    product_matches,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.invoice_text import (
    INVOICE_DESCRIPTION_MAX,
    PRODUCT_DESCRIPTION,
    TEMPLATE_PLACEHOLDERS,
    render_invoice_description,
    validate_template,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.lines import (
    DEFAULT_MODE,
    MODES,
    Line,
    check_mode,
    plan_line,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import (
    DEFAULT_UNIT,
    MONEY_STEP,
    QUANTITY_STEP,
    UNIT_STEP,
    UNITS,
    ZERO,
    bytes_to_quantity,
    check_unit,
    exact_quantity,
    round_money,
    round_quantity,
    round_unit,
    to_decimal,
    to_json_number,
    to_json_value,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.payloads import (
    addition_changes,
    addition_fields,
    wire_fields,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import (
    Period,
    auto_billing_period,
    check_period_ended,
    parse_period,
    period_of,
    previous_period,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.pricing import (
    Pricing,
    raw_cost,
    raw_price,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.totals import (
    ACTIONS,
    BILLED_ACTIONS,
    NOT_BILLED_CANCELLED,
    summarise,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.usage import (
    CompanyUsage,
    UsageRecord,
    aggregate,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.dates import cw_datetime, parse_cw_date

__all__ = (
    "ACTIONS",
    "BILLED_ACTIONS",
    "Cancel",
    "CompanyUsage",
    "DEFAULT_MODE",
    "DEFAULT_UNIT",
    "EFFECTIVE_DATE_POLICIES",
    "EffectiveDate",
    "EffectiveDateRefused",
    "INVOICED_POLICIES",
    "INVOICED_REFUSAL",
    "INVOICE_DESCRIPTION_MAX",
    "InvoicedPeriodRefused",
    "Line",
    "MARKER",
    "MODES",
    "MONEY_STEP",
    "NOT_BILLED_CANCELLED",
    "NOT_BILLING_YET",
    "NotBillingYet",
    "PRODUCT_DESCRIPTION",
    "Period",
    "Pricing",
    "QUANTITY_STEP",
    "TEMPLATE_PLACEHOLDERS",
    "UNITS",
    "UNIT_STEP",
    "UsageRecord",
    "ZERO",
    "addition_changes",
    "addition_fields",
    "addition_marker",
    "addition_period",
    "aggregate",
    "agreement_term",
    "auto_billing_period",
    "bytes_to_quantity",
    "check_mode",
    "check_period_ended",
    "check_unit",
    "cw_datetime",
    "effective_date",
    "exact_quantity",
    "history_cancellations",
    "invoiced_effective_date",
    "is_invoiced_refusal",
    "is_late_charge",
    "later_periods_billed",
    "marked_period",
    "one_time_end",
    "parse_cw_date",
    "parse_period",
    "past_invoiced_span",
    "period_additions",
    "period_of",
    "period_winner",
    "plan_line",
    "previous_period",
    "product_matches",
    "raw_cost",
    "raw_price",
    "render_invoice_description",
    "round_money",
    "round_quantity",
    "round_unit",
    "summarise",
    "to_decimal",
    "to_json_number",
    "to_json_value",
    "validate_template",
    "wire_fields",
)
