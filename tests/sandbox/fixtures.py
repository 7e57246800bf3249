"""Sandbox fixtures: the bundled ``demo`` file and a deterministic generator for benchmarks.

A fixture is a dict ``{"connectwise": {table: [rows]}, "mbs": {...}}`` (see README.md).
ConnectWise rows are loaded through the same validation as API writes, so references may
name rows by ``name``/``identifier`` (readable) or by ``id`` (fast, used by the generator).
"""

import copy
import json
import random
import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from .clock import shift_month

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
GIB = 2 ** 30
SETUP_NAME = "ManagedBackupService"
PRODUCT_ID = "OnlineBackup"
BILL_START = "2026-01-01T00:00:00Z"
# Per-GiB storage rates by destination and a per-user plan fee, in the MBS billing currency.
DESTINATION_RATES = {"Amazon S3": Decimal("0.023"), "Wasabi": Decimal("0.0059"), "Backblaze B2": Decimal("0.005")}
PLAN_COST = Decimal("5.00")
RESTORE_RATE = Decimal("0.01")
# Tables a freshly generated fixture takes from the demo (reference data every ConnectWise has).
REFERENCE_TABLES = ("companyStatuses", "billingCycles", "unitOfMeasures", "categories", "subcategories",
                    "productTypes", "configurationTypes", "integratorLogins")


def load_fixture(source):
    """``"demo"`` (or another bundled name), a JSON file path, or a dict -> a fresh fixture dict."""
    if isinstance(source, dict):
        return copy.deepcopy(source)
    if source is None:
        source = "demo"
    path = Path(source)
    bundled = FIXTURES_DIR / f"{source}.json"
    if not path.suffix and bundled.is_file():
        path = bundled
    if not path.is_file():
        known = sorted(p.stem for p in FIXTURES_DIR.glob("*.json"))
        raise ValueError(f"fixture {source!r} is neither a bundled fixture {known} nor a JSON file")
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def guid(*parts):
    """A stable GUID for MSP360 ids, so fixtures and journals are reproducible."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "sandbox/" + "/".join(str(p) for p in parts)))


def _money(value):
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def usage_row(user_id, destination, average_bytes, restore_bytes, computer):
    """One month of an MSP360 user's usage, with costs computed from the rates above."""
    storage = Decimal(average_bytes) / GIB * DESTINATION_RATES.get(destination, Decimal("0.01"))
    restore = Decimal(restore_bytes) / GIB * RESTORE_RATE
    plan = PLAN_COST if average_bytes else Decimal(0)
    return {
        "UserId": user_id, "AverageSpace": average_bytes, "CurrentSpace": average_bytes,
        "TotalVolumeRestore": restore_bytes, "PlanCost": _money(plan), "StorageCost": _money(storage),
        "RestoreCost": _money(restore), "TotalCost": _money(plan + storage + restore),
        "Details": [{"Computer": computer, "SizeBackup": average_bytes, "SizeRestore": restore_bytes,
                     "Prefix": computer.lower(), "AccountID": guid("account", destination),
                     "Destination": destination}],
    }


def setup_tables():
    """What the setup role creates: solution, agreement type, product, integration, cross-reference."""
    return {
        "managementItSolutions": [{"name": SETUP_NAME, "managementItSolutionType": "Custom",
                                   "managementSolutionName": SETUP_NAME}],
        "agreementTypes": [{"name": SETUP_NAME, "billTime": "Billable", "billExpenses": "Billable",
                            "billProducts": "Billable", "employeeCompNotExceed": "Billing",
                            "employeeCompRate": "Actual", "invoicingCycle": "CalendarYear",
                            "applicationCycle": "CalendarMonth", "billingCycle": {"name": "Monthly"}}],
        "catalog": [{"identifier": PRODUCT_ID, "description": "MBS Online Backup",
                     "customerDescription": "Managed Backup Service provides a reliable backup solution.",
                     "category": {"name": "Managed Services"}, "subcategory": {"name": "Managed Services"},
                     "type": {"name": "Software"}, "productClass": "Service", "unitOfMeasure": {"name": "Each"},
                     "price": 0.1, "cost": 0.02}],
        "managedDevicesIntegrations": [{"name": SETUP_NAME, "solution": SETUP_NAME, "loginBy": "Global",
                                        "defaultBillingLevel": "Summary",
                                        "integratorLogin": {"name": "MBSIntegrator"}}],
        "crossReferences": [{"managedDevicesIntegration": {"name": SETUP_NAME}, "vendorType": "SpaceUsage",
                             "vendorLevel": "HighLevel", "agreementType": {"name": SETUP_NAME},
                             "product": {"identifier": PRODUCT_ID}, "configurationType": {"name": "Backup Stats"}}],
    }


AS_OF = "2026-12-01"  # the date the generated dates are written for (see clock.py)
# License types the generator hands out, in turn (MSP360 does not enumerate them: opaque keys).
LICENSE_TYPES = ("Server", "Desktop", "VM Server")
STORAGE_TYPES = ("AmazonS3", "Wasabi", "BackblazeB2", "Azure")


def storage_account(name, storage_type, destinations):
    """An MSP360 storage account (``GET api/Accounts``) with its destinations (bucket names)."""
    return {"ResellerAccountID": guid("reseller-account", name), "AccountID": guid("account", name),
            "DateCreated": "2025-01-15T10:00:00", "DisplayName": name, "StorageType": storage_type,
            "Destinations": [{"DestinationID": guid("destination", destination), "AccountID": guid("account", name),
                              "Destination": destination, "DestinationDisplayName": destination}
                             for destination in destinations]}


def license_row(number, kind, user=None, computer="", trial=False, expired=None):
    """An MSP360 ``License``; without ``user`` a pool license (not taken, ``UserID`` null)."""
    return {"ID": guid("license", number), "Number": number, "ComputerName": computer if user else "",
            "OperatingSystem": "Windows Server 2022" if user else "", "IsTrial": trial, "IsTaken": bool(user),
            "LicenseType": kind, "DateExpired": expired, "Transaction": "" if trial else f"PO-{number:06d}",
            "User": user["Email"] if user else "", "UserID": user["ID"] if user else None}


def _company_licenses(number, user, count, first_period):
    """``count`` licenses of one company's user: types in turn; of each ten, the 8th is a trial, the 9th
    expired before the first billed month, the 10th in the pool (no user)."""
    expired_before = shift_month(first_period, -1) + "-20T00:00:00+00:00"
    rows = []
    for index in range(count):
        serial = number * 1000 + index
        kind, slot = LICENSE_TYPES[index % len(LICENSE_TYPES)], index % 10
        computer = f"PC-{number:04d}-{index + 1:02d}"
        rows.append(license_row(serial, kind, None if slot == 9 else user, computer, trial=slot == 7,
                                expired=expired_before if slot == 8 else None))
    return rows


def _spread_over_accounts(mbs, accounts):
    """Put each user's usage on the generated accounts: user i on account i mod K, and every 4th
    user's bytes split 3:1 with the next account (a user backing up to two accounts)."""
    usage_of = {}
    for rows in mbs["usage"].values():
        for row in rows:
            usage_of.setdefault(row["UserId"], []).append(row)
    for number, user in enumerate(mbs["users"], start=1):
        mine = [accounts[number % len(accounts)]]
        if len(accounts) > 1 and number % 4 == 0:
            mine.append(accounts[(number + 1) % len(accounts)])
        user["DestinationList"] = [{"AccountID": a["AccountID"], "Destination": a["Destinations"][0]["Destination"]}
                                   for a in mine]
        for row in usage_of.get(user["ID"], []):
            row["Details"] = _split_detail(row["Details"][0], mine)


def _split_detail(detail, accounts):
    second = detail["SizeBackup"] // 4 if len(accounts) > 1 else 0
    parts = [dict(detail, SizeBackup=detail["SizeBackup"] - second)] + \
        [dict(detail, SizeBackup=second, SizeRestore=0)] * (len(accounts) > 1)
    return [dict(part, AccountID=account["AccountID"], Destination=account["Destinations"][0]["Destination"])
            for part, account in zip(parts, accounts)]


def _msp360_company(identifier, destination):
    return {"Id": guid("company", identifier), "Name": identifier, "StorageLimit": -1, "LicenseSettings": 0,
            "Destinations": [{"DestinationId": guid("destination", destination),
                              "PlanId": guid("plan", identifier, destination)}],
            "DefaultLicense": None, "AllowedLicenses": []}


def generate_fixture(companies=1000, with_agreements=True, with_usage=True,
                     periods=("2026-09", "2026-10", "2026-11"), seed=1, as_of=AS_OF,
                     licenses_per_company=0, accounts=None):
    """A deterministic large fixture: N companies with contacts, agreements and MSP360 usage.

    Rows reference each other by id so loading stays linear. Company ``i`` is
    ``Company0001``..., with contact ``i`` and (with_agreements) agreement ``i`` named
    ``ManagedBackupService`` (billStartDate 2026-01-01); its MSP360 company has the same name,
    with one user. ``licenses_per_company``: that many MSP360 licenses per company
    (``_company_licenses``). ``accounts``: None lists one storage account per destination the users
    back up to; K spreads the users over K generated accounts (``_spread_over_accounts``).
    The dates are written as of ``as_of``: a sandbox whose today is in another month moves them
    (``periods`` stay the months before today); ``as_of=None`` keeps them as written.
    """
    rng = random.Random(seed)
    demo = load_fixture("demo")
    connectwise = {table: demo["connectwise"][table] for table in REFERENCE_TABLES}
    connectwise["companies"], connectwise["contacts"] = [], []
    mbs = {"companies": [], "users": [], "usage": {period: [] for period in periods} if with_usage else {},
           "licenses": []}
    destinations = sorted(DESTINATION_RATES)
    for number in range(1, companies + 1):
        identifier = f"Company{number:04d}"
        connectwise["companies"].append({"id": number, "identifier": identifier, "name": f"Company {number:04d} Ltd"})
        connectwise["contacts"].append({"id": number, "firstName": "Contact", "lastName": f"{number:04d}",
                                        "company": {"id": number}, "defaultFlag": True})
        destination = destinations[number % len(destinations)]
        mbs["companies"].append(_msp360_company(identifier, destination))
        user = {"ID": guid("user", identifier), "Email": f"backup@{identifier.lower()}.example", "FirstName": "Backup",
                "LastName": identifier, "Company": identifier, "Enabled": True, "SpaceUsed": 0,
                "DestinationList": [{"AccountID": guid("account", destination), "Destination": destination}]}
        mbs["users"].append(user)
        mbs["licenses"].extend(_company_licenses(number, user, licenses_per_company, periods[0]))
        base = rng.randrange(0, 2048) * GIB // 4
        for index, period in enumerate(periods if with_usage else ()):
            average = base + index * rng.randrange(0, 8) * GIB
            mbs["usage"][period].append(usage_row(user["ID"], destination, average, rng.choice((0, 0, GIB)),
                                                  f"PC-{number:04d}"))
    if accounts is None:
        mbs["accounts"] = [storage_account(name, name.replace(" ", ""), [name]) for name in destinations]
    else:
        mbs["accounts"] = [storage_account(f"Storage account {n}", STORAGE_TYPES[n % len(STORAGE_TYPES)],
                                           [f"backups-{n}"]) for n in range(1, accounts + 1)]
        _spread_over_accounts(mbs, mbs["accounts"])
    if with_agreements:
        connectwise.update(setup_tables())
        connectwise["agreements"] = [
            {"id": number, "name": SETUP_NAME, "type": {"name": SETUP_NAME}, "company": {"id": number},
             "contact": {"id": number}, "startDate": BILL_START, "billStartDate": BILL_START,
             "noEndingDateFlag": True}
            for number in range(1, companies + 1)
        ]
    fixture = {"connectwise": connectwise, "mbs": mbs}
    if as_of:
        fixture["as_of"] = as_of
    return fixture
