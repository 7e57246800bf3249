#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# The action plugin of the same name (plugins/action/report_mail.py) does the work, on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: report_mail
short_description: Mail the billing report through an SMTP server
version_added: 0.1.0
description:
  - Sends one e-mail with a text body and the report files attached, from the controller (an action
    plugin; in AWX the job's execution environment, whose files are thrown away with the job), with
    Python's standard library (C(smtplib), C(email)).
  - The password is sent only over an encrypted connection (O(security=starttls) or O(security=tls));
    O(security=none) with a password is refused unless the server is on this machine (loopback). The
    password never appears in a message or in the result.
  - A recipient the server refuses is listed in RV(refused) with a warning; when every recipient is refused,
    or the server cannot be reached or refuses the login, the task fails saying why.
  - The mbs.connectwise.billing role runs it when C(billing_mail.to) is set.
author:
  - mbs.connectwise maintainers (@mbs-connectwise)
attributes:
  check_mode:
    support: full
    description: Builds the message (reading the attachments) and checks the settings, but connects to no
      server and sends nothing.
  diff_mode:
    support: none
    description: A mail has no before and after.
options:
  host:
    description:
      - The SMTP server. Default the E(BILLING_SMTP_HOST) environment variable.
    type: str
  port:
    description:
      - The server's port. Default C(587) with O(security=starttls), C(465) with O(security=tls), C(25) with
        O(security=none).
    type: int
  security:
    description:
      - C(starttls) - connect in plain text, then switch to TLS before logging in (the submission port, 587).
      - C(tls) - TLS from the first byte (port 465).
      - C(none) - no encryption; a password is then refused unless O(host) is on this machine.
    type: str
    choices: [starttls, tls, none]
    default: starttls
  username:
    description:
      - The SMTP login. Default the E(BILLING_SMTP_USERNAME) environment variable. No login when neither is set.
    type: str
  password:
    description:
      - The SMTP password. Default the E(BILLING_SMTP_PASSWORD) environment variable (an AWX credential can
        inject it). Never logged or returned.
    type: str
  validate_certs:
    description:
      - Verify the server's TLS certificate and name against the system's certificate authorities.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the server.
    type: int
    default: 30
  sender:
    description: The C(From) address.
    type: str
    required: true
    aliases: [from]
  to:
    description: The recipients' addresses.
    type: list
    elements: str
    required: true
  subject:
    description: The subject (one line).
    type: str
    required: true
  body:
    description: The text of the mail.
    type: str
    default: ""
  attachments:
    description: Files on the controller to attach, each with the type its name suggests.
    type: list
    elements: path
    default: []
"""

EXAMPLES = r"""
- name: Mail the month's billing report to finance
  mbs.connectwise.report_mail:
    host: smtp.example.com
    username: billing@example.com
    password: "{{ smtp_password }}"
    from: billing@example.com
    to: [finance@example.com]
    subject: Backup billing 2026-10
    body: "{{ billing_report.summary | join('\n') }}"
    attachments:
      - ~/mbs-connectwise-reports/billing-2026-10.csv
      - ~/mbs-connectwise-reports/billing-2026-10.html
"""

RETURN = r"""
to:
  description: The recipients the server accepted (in check mode, all of them).
  returned: success
  type: list
  elements: str
refused:
  description: The recipients the server refused.
  returned: success
  type: list
  elements: str
subject:
  description: The subject sent.
  returned: success
  type: str
server:
  description: The server and port used, C(host:port).
  returned: success
  type: str
  sample: smtp.example.com:587
message_id:
  description: The mail's C(Message-ID).
  returned: success
  type: str
error:
  description: Why the report was not mailed (the same as C(msg)); kept when the task's C(failed_when) clears C(failed).
  returned: failure
  type: str
"""
