"""The MSP360 Managed Backup API calls billing reads (``mbs-api.md``), served under ``/mbs``.

Fixture shape (``fixture["mbs"]``)::

    {"companies": [{"Id", "Name", "StorageLimit", "LicenseSettings",
                    "Destinations": [{"DestinationId", "PlanId"}], "DefaultLicense", "AllowedLicenses"}],
     "users": [{"ID", "Email", "FirstName", "LastName", "Company", "Enabled", "SpaceUsed",
                "DestinationList": [{"AccountID", "Destination", "PackageID"}]}],
     "usage": {"2026-10": [{"UserId", "AverageSpace", "CurrentSpace", "TotalVolumeRestore",
                            "PlanCost", "StorageCost", "RestoreCost", "TotalCost",
                            "Details": [{"Computer", "SizeBackup", "SizeRestore", "Prefix",
                                         "AccountID", "Destination"}]}]},
     "licenses": [{"ID", "Number", "ComputerName", "OperatingSystem", "IsTrial", "IsTaken",
                   "LicenseType", "DateExpired", "Transaction", "User", "UserID"}],
     "accounts": [{"ResellerAccountID", "AccountID", "DateCreated", "DisplayName", "StorageType",
                   "Destinations": [{"DestinationID", "AccountID", "Destination",
                                     "DestinationDisplayName"}]}]}

Billing rows are built from the usage of the month joined with the user, so the company
name a row carries is the user's ``Company`` (empty for a user outside any company). A
month's ``Details`` are what ``PUT api/Billing/Details`` answers for the user: bytes per
computer and storage account (``AccountID`` joins ``GET api/Accounts``). Licenses and
accounts are served as the fixture holds them, in MSP360's own shapes (``mbs-api.md``).
"""

import copy
import re
import secrets
import threading
from datetime import datetime

from .clock import Clock

USERNAME = "sandbox-mbs"
PASSWORD = "sandbox-mbs-password"
TOKEN_LIFETIME = 1209599
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?)?$")
STAT_FIELDS = ("AverageSpace", "TotalVolumeRestore", "PlanCost", "StorageCost", "RestoreCost", "TotalCost")


class MbsError(Exception):
    """An MBS error response: ASP.NET Web API style ``{"Message": ...}`` body."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.body = {"Message": message}


def _month_of(date_text, clock):
    """``2026-10-17`` (or with a time) -> ``2026-10``; absent -> the sandbox's current month."""
    if date_text is None:
        return clock.month()
    match = DATE_RE.match(date_text) if isinstance(date_text, str) else None
    if not match:
        raise MbsError(400, f"The value '{date_text}' is not valid for Date.")
    try:
        datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise MbsError(400, f"The value '{date_text}' is not valid for Date.") from exc
    return f"{match.group(1)}-{match.group(2)}"


class MbsService:
    """MSP360 state: companies, users, monthly usage and issued tokens."""

    def __init__(self, data=None, clock=None):
        self.clock = clock or Clock()
        self.lock = threading.Lock()
        self.tokens = set()
        self.load(data or {})

    def load(self, data):
        data = data or {}
        with self.lock:
            self.companies = copy.deepcopy(data.get("companies", []))
            self.users = copy.deepcopy(data.get("users", []))
            self.usage = copy.deepcopy(data.get("usage", {}))
            self.licenses = copy.deepcopy(data.get("licenses", []))
            self.accounts = copy.deepcopy(data.get("accounts", []))
            self.tokens = set()

    def expire_tokens(self):
        """Invalidate every token, as changing the API credentials in the console does."""
        with self.lock:
            self.tokens = set()

    def handle(self, method, path, headers, body):
        """Answer one call; ``path`` is relative to /mbs (``api/Billing``). Returns (status, body)."""
        route = (method, path.strip("/").lower())
        if route == ("POST", "api/provider/login"):
            return 200, self._login(body)
        self._authorize(headers)
        with self.lock:
            return 200, self._dispatch(route, body)

    def _dispatch(self, route, body):
        method, path = route
        if route == ("GET", "api/companies"):
            return copy.deepcopy(self.companies)
        if method == "GET" and path.startswith("api/companies/"):
            return self._company(path.split("/", 2)[2])
        if route == ("GET", "api/users"):
            return copy.deepcopy(self.users)
        if method == "GET" and path.split("/")[:2] in (["api", "licenses"], ["api", "accounts"]):
            return self._listed(path)
        if route == ("GET", "api/billing"):
            return self._billing(_month_of(None, self.clock), None)
        if route == ("PUT", "api/billing"):
            body = self._object(body)
            return self._billing(_month_of(body.get("Date"), self.clock), body.get("CompanyName"))
        if route == ("PUT", "api/billing/details"):
            body = self._object(body)
            return self._details(body.get("UserID"), _month_of(body.get("Date"), self.clock))
        raise MbsError(404, f"No HTTP resource was found that matches the request URI '{path}'.")

    @staticmethod
    def _object(body):
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise MbsError(400, "The request body must be a JSON object.")
        return body

    def _login(self, body):
        body = self._object(body)
        if body.get("UserName") != USERNAME or body.get("Password") != PASSWORD:
            raise MbsError(401, "The user name or password is incorrect.")
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens.add(token)
        return {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME}

    def _authorize(self, headers):
        scheme, _sep, token = (headers.get("Authorization") or "").partition(" ")
        with self.lock:
            valid = scheme.lower() == "bearer" and token.strip() in self.tokens
        if not valid:
            raise MbsError(401, "Authorization has been denied for this request.")

    def _company(self, company_id):
        for company in self.companies:
            if str(company.get("Id")).lower() == company_id.lower():
                return copy.deepcopy(company)
        raise MbsError(404, f"Company '{company_id}' not found.")

    def _listed(self, path):
        """``GET api/Licenses``, ``api/Accounts`` and one of them by id (``ID`` / ``AccountID``)."""
        parts = path.split("/")
        rows, key, what = (self.licenses, "ID", "License") if parts[1] == "licenses" else \
            (self.accounts, "AccountID", "Account")
        if len(parts) == 2:
            return copy.deepcopy(rows)
        if len(parts) == 3 and parts[2]:
            for row in rows:
                if str(row.get(key)).lower() == parts[2]:
                    return copy.deepcopy(row)
            raise MbsError(404, f"{what} '{parts[2]}' not found.")
        raise MbsError(404, f"No HTTP resource was found that matches the request URI '{path}'.")

    def _billing(self, month, company_name):
        """A ``Billing`` object for one month, all users or the users of one company."""
        users = {user["ID"]: user for user in self.users}
        if company_name:
            if not any(c.get("Name", "").casefold() == company_name.casefold() for c in self.companies):
                raise MbsError(404, f"Company '{company_name}' not found.")
        rows = []
        current = 0
        for usage in self.usage.get(month, []):
            user = users.get(usage["UserId"], {})
            name = user.get("Company") or ""
            if company_name and name.casefold() != company_name.casefold():
                continue
            row = {"UserId": usage["UserId"], "Email": user.get("Email", ""), "FirstName": user.get("FirstName", ""),
                   "LastName": user.get("LastName", ""), "CompanyName": name}
            row.update({key: usage.get(key, 0) for key in STAT_FIELDS})
            rows.append(row)
            current += usage.get("CurrentSpace", usage.get("AverageSpace", 0))
        return {
            "CurrentSpaceUsed": current,
            "AverageSpaceUsed": sum(row["AverageSpace"] for row in rows),
            "TotalRestore": sum(row["TotalVolumeRestore"] for row in rows),
            "StatisticBilling": rows,
        }

    def _details(self, user_id, month):
        if not any(str(user["ID"]).lower() == str(user_id).lower() for user in self.users):
            raise MbsError(404, f"User '{user_id}' not found.")
        usage = next((u for u in self.usage.get(month, []) if str(u["UserId"]).lower() == str(user_id).lower()), {})
        details = copy.deepcopy(usage.get("Details", []))
        return {
            "TotalBackupBytes": sum(d.get("SizeBackup", 0) for d in details),
            "TotalRestoreBytes": sum(d.get("SizeRestore", 0) for d in details),
            "UserID": user_id,
            "UserDetailList": details,
        }
