# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: every task result as one JSON line in $MBS_RESULT_LOG."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: result_log
type: aggregate
short_description: Write task results as JSON lines for the integration tests
description:
  - Appends one JSON object per task result to the file named by E(MBS_RESULT_LOG).
options: {}
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_log"
    CALLBACK_NEEDS_ENABLED = True

    def _log(self, result, status):
        path = os.environ.get("MBS_RESULT_LOG")
        if not path:
            return
        entry = {
            "task": result._task.get_name(),
            "action": result._task.action,
            "host": result._host.get_name(),
            "status": status,
            "result": self._clean_results(dict(result._result), result._task.action) or result._result,
        }
        with open(path, "a") as handle:
            handle.write(json.dumps(entry, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._log(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._log(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._log(result, "skipped")
