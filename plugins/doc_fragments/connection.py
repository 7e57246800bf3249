# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Kept in step with CONNECTION_OPTIONS in plugins/module_utils/client.py by a unit test.
    DOCUMENTATION = r"""
options:
  site:
    description:
      - The ConnectWise Manage site, either a host such as C(api-na.myconnectwise.net)
        (HTTPS is used) or a full base URL with scheme such as C(http://127.0.0.1:8765) (the sandbox).
      - The API keys are only ever sent to this site's scheme, host and port; a next-page link or a
        redirect to anywhere else is not followed with them.
      - A user name or password inside the URL is refused (the keys have their own options); so is
        C(http://) to another machine unless O(allow_http=true).
      - If not set, the value of the E(CW_SITE) environment variable is used.
    type: str
    required: true
  company_id:
    description:
      - The ConnectWise company ID used to log in (the first part of the API key's user name).
      - If not set, the value of the E(CW_COMPANY_ID) environment variable is used.
    type: str
    required: true
  public_key:
    description:
      - The API member's public key.
      - If not set, the value of the E(CW_PUBLIC_KEY) environment variable is used.
    type: str
    required: true
  private_key:
    description:
      - The API member's private key. Never logged or returned.
      - If not set, the value of the E(CW_PRIVATE_KEY) environment variable is used.
    type: str
    required: true
  client_id:
    description:
      - The integration's clientId (a GUID from the ConnectWise developer portal), sent on every request.
      - If not set, the value of the E(CW_CLIENT_ID) environment variable is used.
    type: str
    required: true
  codebase:
    description:
      - The codebase path segment such as C(v4_6_release/).
      - When not given it is discovered through C(login/companyinfo/{company_id}),
        falling back to C(v4_6_release/).
      - If not set, the value of the E(CW_CODEBASE) environment variable is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the site's TLS certificate. Only turn it off for a test server.
    type: bool
    default: true
  allow_http:
    description:
      - Allow an C(http://) O(site) on another machine than this one. Plain HTTP sends the API keys
        unencrypted, readable by anyone on the network between; only for a server on a network you trust.
      - An C(http://) site on this machine (C(localhost), 127.0.0.0/8, ::1), such as the sandbox, needs no
        such permission.
      - If not set, the value of the E(CW_ALLOW_HTTP) environment variable is used.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for one HTTP response. Retries (on 429, 500, 502, 503, 504 and connection
        errors, honouring C(Retry-After)) come on top, within a bounded total wait (120 seconds per request).
      - A throttled request (429, or 503 with C(Retry-After)) is retried at the pace the server names for as
        long as that wait lasts, and the requests in flight are reduced until answers come back clean.
    type: int
    default: 30
  api_version:
    description:
      - The ConnectWise API version sent in the C(Accept) header
        (C(application/vnd.connectwise.com+json; version=...)), such as C(2025.8).
      - When not given, C(2025.8) is sent (the schema this collection is built against).
      - ConnectWise refuses a version retired more than 12 months ago; the error then names this option.
      - If not set, the value of the E(CW_API_VERSION) environment variable is used.
    type: str
notes:
  - Requires the C(requests) Python library on the host that runs the module (the controller).
  - Part of the C(mbs.connectwise.connectwise) action group, so the connection options can be set
    once with C(module_defaults).
requirements:
  - requests
"""
