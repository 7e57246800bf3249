# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mbs.connectwise.report_files: the report folder on the controller (see plugins/modules/report_files.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase

from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ReportFolderError
from ansible_collections.mbs.connectwise.plugins.plugin_utils import report_folder

ARGUMENT_SPEC = dict(
    dir=dict(type="path", required=True),
    setting=dict(type="str", default="dir"),
    files=dict(type="dict", default={}),
    append=dict(type="dict", default={}),
    read=dict(type="list", elements="str", default=[]),
)


class ActionModule(ActionBase):
    """Runs on the controller, where the reports are: no connection, no module shipped to a host."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        setting, check_mode = args["setting"], bool(self._task.check_mode)
        try:
            folder, created = report_folder.prepare(args["dir"], setting, check_mode=check_mode)
            contents = dict((name, report_folder.read(folder, name, setting)) for name in args["read"]) \
                if not (check_mode and created) else dict((name, None) for name in args["read"])
            written = self._write(folder, args, setting, check_mode)
        except ReportFolderError as exc:
            result.update(failed=True, changed=False, msg=str(exc))
            return result
        result.update(path=folder, created=created, written=written,
                      contents=dict((name, text) for name, text in contents.items() if text is not None),
                      changed=created or bool(written))
        return result

    @staticmethod
    def _write(folder, args, setting, check_mode):
        """The files written (or, in check mode, that would be): replaced whole, then the lines appended."""
        for name in list(args["files"]) + list(args["append"]):
            report_folder.check_name(name, setting)
        if check_mode:
            return [os.path.join(folder, name) for name in sorted(set(args["files"]) | set(args["append"]))]
        written = [report_folder.write(folder, name, "" if text is None else str(text), setting)
                   for name, text in args["files"].items()]
        written += [report_folder.append(folder, name, str(line), setting) for name, line in args["append"].items()]
        return written
