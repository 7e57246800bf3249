# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mbs.connectwise.report_mail: the billing report by e-mail, from the controller (see plugins/modules/report_mail.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.mbs.connectwise.plugins.module_utils.errors import MailError
from ansible_collections.mbs.connectwise.plugins.plugin_utils import report_mail

ARGUMENT_SPEC = dict(
    host=dict(type="str"),
    port=dict(type="int"),
    security=dict(type="str", choices=["starttls", "tls", "none"], default="starttls"),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=30),
    sender=dict(type="str", required=True, aliases=["from"]),
    to=dict(type="list", elements="str", required=True),
    subject=dict(type="str", required=True),
    body=dict(type="str", default=""),
    attachments=dict(type="list", elements="path", default=[]),
)


class ActionModule(ActionBase):
    """Runs on the controller, where the report files are (in AWX: the job's execution environment)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            found = report_mail.settings(args)
            mail = report_mail.message(found)
            refused = [] if self._task.check_mode else report_mail.send(found, mail)
        except MailError as exc:
            # A failed result, not an exception: the billing role words this failure itself (failed_when).
            # error stays when the task's failed_when clears failed.
            message = "the billing report was not mailed: %s" % exc
            result.update(failed=True, changed=False, msg=message, error=message)
            return result
        result.update(changed=True, to=[a for a in found["to"] if a not in refused], refused=refused,
                      subject=found["subject"], server="%s:%s" % (found["host"], found["port"]),
                      message_id=mail["Message-ID"])
        if refused:
            self._display.warning("the SMTP server refused the billing report for %s" % ", ".join(refused))
        return result
