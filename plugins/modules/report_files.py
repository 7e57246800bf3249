#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# The action plugin of the same name (plugins/action/report_files.py) does the work, on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: report_files
short_description: Keep billing reports in a private folder on the controller, written atomically
version_added: 0.1.0
description:
  - Checks a report folder before anything is written to ConnectWise, creates it when missing, and
    writes, appends to and reads back the report files in it. Runs on the controller (an action
    plugin), where the reports are; it makes no request and needs no connection.
  - A folder it creates is private to its owner (mode C(0700); missing parent folders get the
    default permissions of your umask). An existing folder, or a symbolic link to one, is used as it
    is and never chmodded.
  - A folder is refused, naming O(setting), when it is a file, a symbolic link to a file or to
    nothing, or when a new file cannot be made in it (it is proven by making one and removing it).
  - Each file of O(files) is written to a new temporary file of the folder (mode C(0600)) and renamed
    over the report, so a reader never sees half a report and a symbolic link in the report's place is
    replaced, never followed.
  - Each line of O(append) is added to its file (created C(0600)) in one write; a symbolic link in the
    file's place is replaced by a new file holding the line.
  - The mbs.connectwise.billing role runs it before billing (the folder) and after (the reports, the
    month's state and the run log).
author:
  - mbs.connectwise maintainers (@mbs-connectwise)
attributes:
  check_mode:
    support: full
    description: Checks the folder (a missing one through its nearest existing parent) and reads, but creates
      and writes nothing; RV(written) lists what would be written. The billing role runs it with
      C(check_mode=false), since a preview report is not a ConnectWise write.
  diff_mode:
    support: none
    description: Reports are whole files; no diff is shown.
options:
  dir:
    description:
      - The report folder on the controller. C(~) is expanded; a relative path is relative to the
        directory C(ansible-playbook) runs in.
    type: path
    required: true
  setting:
    description:
      - The name the folder is known by to the user (the billing role passes C(billing_report_dir)); error
        messages name it.
    type: str
    default: dir
  files:
    description:
      - File name (in O(dir), no path) -> the file's whole text, written C(0600) and atomically.
    type: dict
    default: {}
  append:
    description:
      - File name (in O(dir), no path) -> one line (no newline in it) to add at the end of the file.
    type: dict
    default: {}
  read:
    description:
      - File names (in O(dir)) whose text to return in RV(contents). A missing file, a symbolic link or
        anything but a regular file is left out.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Check the report folder before billing (created private when missing)
  mbs.connectwise.report_files:
    dir: "{{ billing_report_dir }}"
    setting: billing_report_dir

- name: Write the reports and append to the run log
  mbs.connectwise.report_files:
    dir: "{{ billing_report_dir }}"
    setting: billing_report_dir
    files:
      billing-2026-10.csv: "{{ billing_report | mbs.connectwise.billing_csv }}"
    append:
      billing-runs.log: "2026-11-02T06:00:01Z period=2026-10 rc=0"
"""

RETURN = r"""
path:
  description: The folder, absolute.
  returned: always
  type: str
  sample: /home/billing/mbs-connectwise-reports
created:
  description: Whether the folder was created (in check mode, would be).
  returned: always
  type: bool
written:
  description: The files written or appended to (in check mode, that would be).
  returned: always
  type: list
  elements: str
contents:
  description: File name -> text, for the files of O(read) that are regular files.
  returned: always
  type: dict
"""
