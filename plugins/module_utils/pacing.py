# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pace of the requests that the threads sharing one :class:`transport.Transport` send."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import threading


class AdaptiveConcurrency:
    """How many requests the threads sharing one transport may have in flight: AIMD on throttling.

    It starts at ``maximum`` (the connection pool), so a run that is never throttled never waits
    here. A throttled answer halves the limit (at least 1), once per round: answers to requests
    sent before the last decrease were throttled at the old pace and do not lower it again. Each
    clean answer adds ``1 / limit``, about one more request in flight per round of clean answers,
    back up to ``maximum``. The run's own thread pool needs no change: its threads queue here.

    A server that throttles limits the client, not one request: while a throttled request waits
    the ``Retry-After`` it was given (:meth:`paused`), no other request is sent either. Sending
    meanwhile would only earn more 429s and more waits, and the run would fall behind the
    server's pace instead of resuming with the requests the server has room for.
    """

    def __init__(self, maximum):
        self.maximum = max(int(maximum), 1)
        self.limit = float(self.maximum)
        self.lowest = self.limit
        self.decreases = 0
        self._in_flight = 0
        self._round = 0
        self._pausing = 0
        self._changed = threading.Condition()

    def acquire(self):
        """Wait for a free slot; returns the round the request is sent in (give it to :meth:`release`)."""
        with self._changed:
            while self._pausing or self._in_flight >= int(self.limit):
                self._changed.wait()
            self._in_flight += 1
            return self._round

    @contextlib.contextmanager
    def paused(self):
        """No request is sent while this block runs (a throttled request's wait for its ``Retry-After``)."""
        with self._changed:
            self._pausing += 1
        try:
            yield
        finally:
            with self._changed:
                self._pausing -= 1
                self._changed.notify_all()

    def release(self, sent_in, throttled=False, clean=False):
        """The request sent in round ``sent_in`` is done: ``throttled``, answered ``clean``, or neither."""
        with self._changed:
            self._in_flight -= 1
            if throttled and sent_in == self._round:
                self.limit = max(1.0, self.limit / 2.0)
                self.lowest = min(self.lowest, self.limit)
                self.decreases += 1
                self._round += 1
            elif clean and self.limit < self.maximum:
                self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)
            self._changed.notify_all()
