# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MSP360 reads that license and storage-account billing need, on :meth:`msp360.MBSClient.call`.

Every answer is checked against the shape MSP360 documents by the rules that read it
(:mod:`licenses`, :mod:`storage_split`): an answer that is not that shape (no body, an object
where a list belongs, a license without ``IsTrial``) is an :class:`msp360.MBSError` naming the
call and what was wrong, never "no licenses".

Requests (one login per run is the client's):

* :meth:`ProductReads.licenses`: ``GET api/Licenses``, one request;
* :meth:`ProductReads.users`: ``GET api/Users``, one request (the same answer serves the license
  companies and the billing's destinations: read it once per run);
* :meth:`ProductReads.accounts`: ``GET api/Accounts``, one request;
* :meth:`ProductReads.billing_details_many`: ``PUT api/Billing/Details``, one per distinct user
  given, ``parallel`` at a time. Give only the users with usage (``AverageSpace > 0``) of the
  companies to split: at most one request per user with usage.

So a run with licenses and without ``storage_products`` makes 5 MSP360 requests (login, companies,
billing, users, licenses); with ``storage_products``, 6 plus one per user with usage.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import parse_period
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import LicenseDataError, MBSError, StorageDataError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.licenses import read_licenses, read_users
from ansible_collections.mbs.connectwise.plugins.module_utils.storage_split import read_accounts, read_details

DETAILS_PATH = "api/Billing/Details"
DEFAULT_DETAILS_PARALLEL = 4
MAX_DETAILS_PARALLEL = 16


@dataclass(frozen=True)
class DetailsRead:
    """``details``: ``{user id: DetailModels answer}``; ``errors``: ``{user id: MBSError}`` of the reads that failed.

    One user's failed read fails the company that user belongs to, never the others.
    """

    details: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


def check_details_parallel(parallel):
    """The details reads' parallelism (1 to 16), or ValueError naming the value."""
    if isinstance(parallel, bool) or not isinstance(parallel, int) or not 1 <= parallel <= MAX_DETAILS_PARALLEL:
        raise ValueError("the parallelism of MSP360 details reads %r must be a whole number from 1 to %d"
                         % (parallel, MAX_DETAILS_PARALLEL))
    return parallel


class ProductReads:
    """License, user, storage-account and per-user detail reads of one :class:`msp360.MBSClient`."""

    def __init__(self, client):
        self.client = client

    def _read(self, method, path, what, check, json=None):
        """``client.call`` and ``check(answer)``; MBSError naming the call when the answer is not ``what``."""
        answer = self.client.call(method, path, json=json)
        if answer is None:
            raise MBSError("MSP360 %s %s answered with no body, not %s: MSP360 may be failing; run again later"
                           % (method, path, what))
        try:
            check(answer)
        except (LicenseDataError, StorageDataError) as exc:
            raise MBSError("MSP360 %s %s answered something that is not %s: %s" % (method, path, what, exc))
        return answer

    def licenses(self):
        """``GET api/Licenses``: the list of ``License`` objects, checked (see :func:`licenses.read_licenses`)."""
        return self._read("GET", "api/Licenses", "a list of License objects", read_licenses)

    def users(self):
        """``GET api/Users``: the list of users, checked (each with an ``ID``, listed once)."""
        return self._read("GET", "api/Users", "a list of users", read_users)

    def accounts(self):
        """``GET api/Accounts``: the list of storage accounts, checked (see :func:`storage_split.read_accounts`)."""
        return self._read("GET", "api/Accounts", "a list of storage accounts", read_accounts)

    def billing_details(self, user_id, period):
        """``PUT api/Billing/Details`` of one user and month: the ``DetailModels`` answer, checked.

        An answer for another user than the one asked for is refused.
        """
        if not isinstance(user_id, str) or not user_id.strip():
            raise ValueError("an MSP360 user id is required for billing details, not %r" % (user_id,))
        period = parse_period(period)
        body = {"UserID": user_id.strip(), "Date": "%sT00:00:00Z" % period.first_day.isoformat()}

        def check(answer):
            read_details(answer, "the answer")
            answered = answer.get("UserID")
            if answered is not None and fold(answered) != fold(user_id):
                raise StorageDataError("the answer is for user %s, not %s" % (answered, user_id.strip()))

        return self._read("PUT", DETAILS_PATH, "billing details of user %s for %s" % (user_id.strip(), period), check,
                          json=body)

    def billing_details_many(self, user_ids, period, parallel=DEFAULT_DETAILS_PARALLEL):
        """``PUT api/Billing/Details`` of each distinct user (ids fold; empty ones skipped), ``parallel`` at a time.

        Returns a :class:`DetailsRead` keyed by each user id as first given; a read that fails with
        an MBSError is recorded in ``errors`` and the others go on.
        """
        check_details_parallel(parallel)
        period = parse_period(period)
        wanted = {}
        for user_id in user_ids:
            if isinstance(user_id, str) and user_id.strip():
                wanted.setdefault(fold(user_id), user_id)
        if not wanted:
            return DetailsRead()

        def read(user_id):
            try:
                return user_id, self.billing_details(user_id, period), None
            except MBSError as exc:
                return user_id, None, exc

        with ThreadPoolExecutor(max_workers=min(parallel, len(wanted))) as pool:
            answers = list(pool.map(read, wanted.values()))
        return DetailsRead(details=dict((user_id, answer) for user_id, answer, error in answers if error is None),
                           errors=dict((user_id, error) for user_id, answer, error in answers if error is not None))
