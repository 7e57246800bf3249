"""Agreement invoicing as ConnectWise runs it (Finance > Invoicing > Agreement Invoicing, or
Create Invoice on an agreement).

An agreement is invoiced one billing cycle at a time, from its next invoice date (or, before its
first invoice, the first of the month its billing starts: agreement invoices "always become
available on the first of the month"). Invoicing through a day (the screen's Thru Date) makes one
``Invoice`` per outstanding cycle starting on or before it and moves ``nextInvoiceDate`` to the day
after the last cycle, which is what makes ConnectWise refuse an addition effective before it on an
agreement that does not prorate (``rules._addition_check``).

Each invoice has one line per addition in force during the cycle (effective on or before its last
day, not cancelled before its first), ``DoNotBill`` additions left out and ``NoCharge`` ones at 0.
A line bills the addition's ``billedQuantity`` (quantity less ``lessIncluded``) at its unit price:
in full when the agreement does not prorate, for the days in force / the cycle's days when it does.
On a prorating agreement, days an addition was in force inside a cycle invoiced before it existed
(an addition dated back into an invoiced month, which such an agreement accepts) are billed on the
next invoice as a catch-up line, once. ConnectWise publishes no invoice-line endpoint; the sandbox
keeps the lines with the invoice (``lines()``, ``GET /_sandbox/invoices/{id}/lines``).
"""

import calendar
import copy
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

CYCLE_MONTHS = {"Monthly": 1, "BiMonthly": 2, "Quarterly": 3, "SemiAnnual": 6, "Yearly": 12}
MAX_CYCLES = 600   # one call never invoices more than 50 years of monthly cycles
CENT = Decimal("0.01")
ONE_DAY = timedelta(days=1)


class InvoicingError(ValueError):
    """Nothing can be invoiced as asked; the message says why and what to do."""


def _day(text):
    return datetime.strptime(text[:10], "%Y-%m-%d").date() if text else None


def _cw(day):
    return day.strftime("%Y-%m-%dT00:00:00Z")


def _add_months(day, months):
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def cycle_months(store, agreement):
    """Months per billing cycle, from the agreement's billing cycle (Monthly when it has none)."""
    cycle = store.tables["billingCycles"].get((agreement.get("billingCycle") or {}).get("id")) or {}
    option = cycle.get("billingOptions") or "Monthly"
    if option not in CYCLE_MONTHS:
        raise InvoicingError(f"agreement {agreement['id']} bills {option}: the sandbox invoices "
                             f"{', '.join(CYCLE_MONTHS)} cycles only")
    return CYCLE_MONTHS[option]


def first_cycle_start(agreement, through):
    """Where the next invoice's cycle starts: the next invoice date, else the first of the month
    billing starts (or of ``through``'s month for an agreement without dates)."""
    following = _day(agreement.get("nextInvoiceDate"))
    if following is not None:
        return following
    start = _day(agreement.get("billStartDate") or agreement.get("startDate")) or through
    return start.replace(day=1)


def _term_reaches(agreement, start):
    """Whether the agreement still runs on or after ``start`` (not ended, not cancelled before it)."""
    end = None if agreement.get("noEndingDateFlag") else _day(agreement.get("endDate"))
    cancelled = _day(agreement.get("dateCancelled"))
    if agreement.get("cancelledFlag") and cancelled is None:
        return False
    return not ((end is not None and end < start) or (cancelled is not None and cancelled < start))


def outstanding_cycles(store, agreement, through):
    """``[(first day, last day)]`` of the cycles Agreement Invoicing lists through ``through``."""
    months = cycle_months(store, agreement)
    start, cycles = first_cycle_start(agreement, through), []
    while start <= through and _term_reaches(agreement, start):
        end = _add_months(start, months) - ONE_DAY
        cycles.append((start, end))
        if len(cycles) > MAX_CYCLES:
            raise InvoicingError(f"agreement {agreement['id']}: more than {MAX_CYCLES} cycles to invoice "
                                 f"through {through}; set its nextInvoiceDate closer")
        start = end + ONE_DAY
    return cycles


def why_nothing(agreement, through):
    """Why an agreement has no cycle to invoice through ``through`` (for the control API's 400)."""
    start = first_cycle_start(agreement, through)
    if _day(agreement.get("nextInvoiceDate")) is not None and start > through:
        return (f"agreement {agreement['id']} is already invoiced through {start - ONE_DAY} (next invoice date "
                f"{start}): nothing is outstanding through {through}")
    if start > through:
        return f"agreement {agreement['id']} starts billing in the cycle of {start}, after {through}"
    return f"agreement {agreement['id']} has ended or was cancelled before {start}"


def invoice_agreement(store, agreement, through, invoice_date=None):
    """Invoice every outstanding cycle of ``agreement`` through ``through``; returns the new invoice rows.

    A store without an invoice table (a test's own tables) only moves the next invoice date."""
    with store.lock:
        made = []
        for start, end in outstanding_cycles(store, agreement, through):
            if "invoices" in store.tables:
                made.append(_invoice(store, agreement, start, end, invoice_date))
            agreement["nextInvoiceDate"] = _cw(end + ONE_DAY)
        return made


def run(store, agreement_id, through, invoice_date=None):
    """Agreement Invoicing through ``through``: one agreement (its id) or every agreement (None).

    Returns ``(invoice rows, skipped)``; ``skipped`` lists ``{"agreement", "reason"}`` of the agreements
    with nothing outstanding. One named agreement with nothing outstanding is an InvoicingError (the
    agreement's Create Invoice is greyed out); an unknown one a LookupError.
    """
    with store.lock:
        if agreement_id is not None and agreement_id not in store.tables["agreements"]:
            raise LookupError(f"agreement {agreement_id}")
        chosen = [agreement_id] if agreement_id is not None else sorted(store.tables["agreements"])
        made, skipped = [], []
        for number in chosen:
            agreement = store.tables["agreements"][number]
            if not outstanding_cycles(store, agreement, through):
                if agreement_id is not None:
                    raise InvoicingError(why_nothing(agreement, through))
                skipped.append({"agreement": number, "reason": why_nothing(agreement, through)})
                continue
            made.extend(invoice_agreement(store, agreement, through, invoice_date))
        return made, skipped


def through_of(body):
    """The Thru Date a control call names: ``period`` (``YYYY-MM``: its last day) or ``through`` (a day)."""
    period, through = body.get("period"), body.get("through")
    if (period is None) == (through is None):
        raise InvoicingError('name the cycles to invoice with "period": "YYYY-MM" or "through": "YYYY-MM-DD"')
    if through is not None:
        return _date_of(through, "through")
    first = _date_of(f"{period}-01", "period") if isinstance(period, str) else None
    if first is None or len(period) != 7:
        raise InvoicingError(f"period must be a month written YYYY-MM, not {period!r}")
    return _add_months(first, 1) - ONE_DAY


def _date_of(text, what):
    try:
        return datetime.strptime(str(text), "%Y-%m-%d").date()
    except ValueError as exc:
        raise InvoicingError(f"{what} must be a date written YYYY-MM-DD, not {text!r}") from exc


def lines(store, invoice_id):
    """The lines of an invoice (copies), or None when there is no such invoice."""
    with store.lock:
        invoice = store.tables.get("invoices", {}).get(invoice_id)
        return None if invoice is None else copy.deepcopy(invoice.get("_lines", []))


# ------------------------------------------------------------------ one invoice
def _invoice(store, agreement, start, end, invoice_date):
    earlier = [inv for inv in store.tables["invoices"].values()   # a fixture's own invoices have no lines
               if inv.get("applyToType") == "Agreement" and inv.get("applyToId") == agreement["id"] and "_period" in inv]
    invoiced = [inv["_period"] for inv in earlier]
    covered = {}
    for inv in earlier:
        for line in inv["_lines"]:
            covered.setdefault(line["additionId"], []).append((_day(line["from"]), _day(line["through"])))
    prorate = bool(agreement.get("prorateFlag"))
    additions = sorted((a for a in store.tables["additions"].values() if a.get("agreementId") == agreement["id"]),
                       key=lambda a: (a.get("sequenceNumber") or 0, a["id"]))
    made = []
    for addition in additions:
        if addition.get("billCustomer") == "DoNotBill":
            continue
        for lo, hi, cycle_days, catch_up in _spans(addition, start, end, prorate, invoiced,
                                                   covered.get(addition["id"], [])):
            made.append(_line(store, addition, len(made) + 1, (lo, hi, cycle_days, catch_up), prorate))
    subtotal = sum((Decimal(repr(line["extPrice"])) for line in made), Decimal(0))
    row = store.add_generated("invoices", {
        "type": "Agreement", "applyToType": "Agreement", "applyToId": agreement["id"],
        "company": dict(agreement["company"]), "billToCompany": dict(agreement["company"]),
        "date": _cw(invoice_date or start), "subtotal": float(subtotal), "salesTax": 0.0,
        "total": float(subtotal), "balance": float(subtotal), "_period": (start, end),
    })
    row["invoiceNumber"] = f"{row['id']:06d}"
    for line in made:
        line["invoiceId"] = row["id"]
    row["_lines"] = made
    return row


def _spans(addition, start, end, prorate, invoiced, covered):
    """``(first, last, days of its cycle, catch_up)`` of what this invoice bills of one addition."""
    effective = _day(addition.get("effectiveDate")) or start
    stop = _day(addition.get("cancelledDate")) or date.max
    cycle_days = (end - start).days + 1
    spans = []
    if prorate and effective < start:
        for lo, hi, days in _pieces((effective, min(stop, start - ONE_DAY)), invoiced):
            spans.extend((a, b, days, True) for a, b in _minus((lo, hi), covered))
    lo, hi = max(effective, start), min(stop, end)
    if lo <= hi:
        spans.append((lo, hi, cycle_days, False))
    return spans


def _pieces(span, periods):
    """The parts of ``span`` inside the invoiced ``periods``, each with its period's length in days."""
    found = []
    for first, last in sorted(periods):
        lo, hi = max(span[0], first), min(span[1], last)
        if lo <= hi:
            found.append((lo, hi, (last - first).days + 1))
    return found


def _minus(span, spans):
    """``span`` less the days of ``spans`` (already billed), as a list of spans."""
    pieces = [span]
    for first, last in spans:
        kept = []
        for lo, hi in pieces:
            if last < lo or first > hi:
                kept.append((lo, hi))
                continue
            if lo < first:
                kept.append((lo, first - ONE_DAY))
            if hi > last:
                kept.append((last + ONE_DAY, hi))
        pieces = kept
    return pieces


def _money(value):
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _line(store, addition, sequence, span, prorate):
    first, last, cycle_days, catch_up = span
    days = (last - first).days + 1
    factor = Decimal(days) / Decimal(cycle_days) if prorate else Decimal(1)
    billed = Decimal(repr(addition.get("billedQuantity") or 0.0))
    price = Decimal(0) if addition.get("billCustomer") == "NoCharge" else Decimal(repr(addition.get("unitPrice") or 0.0))
    cost = Decimal(repr(addition.get("unitCost") or 0.0))
    product = store.reference("catalog", addition["product"]["id"])
    return {
        "sequence": sequence, "additionId": addition["id"],
        "product": {key: product[key] for key in ("id", "identifier") if key in product},
        "description": addition.get("description"), "invoiceDescription": addition.get("invoiceDescription"),
        "billCustomer": addition.get("billCustomer"), "effectiveDate": addition.get("effectiveDate"),
        "cancelledDate": addition.get("cancelledDate"), "from": first.isoformat(), "through": last.isoformat(),
        "days": days, "cycleDays": cycle_days, "prorated": prorate, "catchUp": catch_up,
        "quantity": addition.get("quantity"), "lessIncluded": addition.get("lessIncluded") or 0.0,
        "billedQuantity": float(billed), "unitPrice": addition.get("unitPrice"), "unitCost": addition.get("unitCost"),
        "extPrice": _money(billed * price * factor), "extCost": _money(billed * cost * factor),
    }
