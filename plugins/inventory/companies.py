# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: companies
short_description: ConnectWise Manage companies as inventory hosts
version_added: 0.1.0
description:
  - Reads the companies of a ConnectWise Manage site, page by page, and adds each as a host
    named after its company identifier.
  - Host variables C(connectwise_company_id), C(connectwise_company_name),
    C(connectwise_company_types) (list of type names) and C(connectwise_company_status).
  - With O(agreements), each host also gets C(connectwise_agreements), that company's agreements
    of that name, read in one paged request for all companies.
  - The inventory source file name must end in C(.connectwise.yml) or C(.connectwise.yaml).
  - The hosts can serve as the customers of the setup and billing roles through
    C(connectwise_customers_group).
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks the file as a source for this plugin.
    type: str
    required: true
    choices: [mbs.connectwise.companies]
  site:
    description:
      - The ConnectWise Manage site, a host such as C(api-na.myconnectwise.net) or a base URL
        with scheme such as C(http://127.0.0.1:8765) (the sandbox).
    type: str
    required: true
    env:
      - name: CW_SITE
  company_id:
    description: The ConnectWise company ID used to log in.
    type: str
    required: true
    env:
      - name: CW_COMPANY_ID
  public_key:
    description: The API member's public key.
    type: str
    required: true
    env:
      - name: CW_PUBLIC_KEY
  private_key:
    description: The API member's private key. Never logged, cached or shown in an error.
    type: str
    required: true
    env:
      - name: CW_PRIVATE_KEY
  client_id:
    description: The integration's clientId, sent on every request.
    type: str
    required: true
    env:
      - name: CW_CLIENT_ID
  codebase:
    description:
      - The codebase path segment such as C(v4_6_release/); discovered when not given.
    type: str
    env:
      - name: CW_CODEBASE
  api_version:
    description:
      - The ConnectWise API version sent in the C(Accept) header, such as C(2025.8) (the default).
      - ConnectWise refuses a version retired more than 12 months ago; the error then names this option.
    type: str
    env:
      - name: CW_API_VERSION
  validate_certs:
    description: Whether to verify the site's TLS certificate.
    type: bool
    default: true
  allow_http:
    description:
      - Allow an C(http://) O(site) on another machine than this one. Plain HTTP sends the API keys
        unencrypted, readable by anyone on the network; only for a server on a network you trust.
      - An C(http://) site on this machine (C(localhost), 127.0.0.0/8, ::1) needs no such permission.
    type: bool
    default: false
    env:
      - name: CW_ALLOW_HTTP
  timeout:
    description: Seconds to wait for one HTTP response.
    type: int
    default: 30
  conditions:
    description:
      - A ConnectWise C(conditions) expression that the company read must match,
        for example C(deletedFlag = false and city = "Springfield").
    type: str
  company_types:
    description:
      - Only companies with at least one of these type names (for example C(Client)).
      - Filtered on the controller after the read, since the company list's C(childConditions)
        on C(types/name) is not honoured by every ConnectWise version.
    type: list
    elements: str
  statuses:
    description: Only companies whose status has one of these names (for example C(Active)).
    type: list
    elements: str
  agreements:
    description:
      - An agreement name. When set, each host gets C(connectwise_agreements), the list of that
        company's agreements with this name (C(id), C(name), C(type), C(agreementStatus),
        C(startDate), C(endDate), C(billStartDate)); empty when it has none.
    type: str
notes:
  - Requires the C(requests) Python library on the controller.
requirements:
  - requests
"""

EXAMPLES = r"""
# inventory/customers.connectwise.yml; credentials from CW_SITE, CW_COMPANY_ID,
# CW_PUBLIC_KEY, CW_PRIVATE_KEY and CW_CLIENT_ID
plugin: mbs.connectwise.companies
statuses: [Active]
company_types: [Client]
agreements: MSP360 Backup
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/mbs.connectwise
cache_timeout: 3600
groups:
  # The setup and billing roles read this group's hosts as their customers with
  # connectwise_customers_group: connectwise_customers
  connectwise_customers: true
  without_backup_agreement: connectwise_agreements | length == 0
keyed_groups:
  - key: connectwise_company_status
    prefix: status
compose:
  ansible_connection: "'local'"
"""


from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.client import (
    CONNECTION_OPTIONS,
    ConnectWiseClient,
    InputError,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import ApiError

COMPANY_FIELDS = ("id", "identifier", "name", "status", "types")
AGREEMENT_FIELDS = ("id", "name", "type", "company", "agreementStatus", "startDate", "endDate",
                    "billStartDate")


def _name(reference):
    return reference.get("name") if isinstance(reference, dict) else reference


def company_conditions(conditions=None, statuses=None):
    """The ``conditions`` of the company read: the user's expression and the status names."""
    return cond.all_of(conditions, cond.is_in("status/name", statuses) if statuses else None)


def company_host_vars(company):
    return {
        "connectwise_company_id": company.get("id"),
        "connectwise_company_name": company.get("name"),
        "connectwise_company_types": [_name(t) for t in company.get("types") or []],
        "connectwise_company_status": _name(company.get("status")),
    }


def agreement_vars(agreement):
    return {
        "id": agreement.get("id"),
        "name": agreement.get("name"),
        "type": _name(agreement.get("type")),
        "agreementStatus": agreement.get("agreementStatus"),
        "startDate": agreement.get("startDate"),
        "endDate": agreement.get("endDate"),
        "billStartDate": agreement.get("billStartDate"),
    }


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "mbs.connectwise.companies"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(
            (".connectwise.yml", ".connectwise.yaml"))

    def _client(self):
        kwargs = dict((name, self.get_option(name)) for name in CONNECTION_OPTIONS)
        try:
            return ConnectWiseClient(**kwargs)
        except InputError as error:
            raise AnsibleParserError("mbs.connectwise.companies: %s" % error)

    def _fetch(self):
        """Companies and (when asked) agreements as plain data: what the cache holds."""
        client = self._client()
        statuses = self.get_option("statuses")
        try:
            where = company_conditions(self.get_option("conditions"), statuses)
        except ValueError as error:
            raise AnsibleParserError("mbs.connectwise.companies: %s" % error)
        try:
            companies = list(client.list("company/companies", conditions=where,
                                         fields=COMPANY_FIELDS, order_by="identifier"))
            agreements = []
            name = self.get_option("agreements")
            if name:
                agreements = list(client.list("finance/agreements",
                                              conditions=cond.equals("name", name),
                                              fields=AGREEMENT_FIELDS, order_by="id"))
        except ApiError as error:
            # ApiError's text names method, path and status; transport strips the secrets from it.
            raise AnsibleParserError("mbs.connectwise.companies: reading ConnectWise failed: %s"
                                     % error)
        return {"companies": companies, "agreements": agreements}

    def _populate(self, data):
        types = set(self.get_option("company_types") or [])
        by_company = {}
        for agreement in data["agreements"]:
            company = agreement.get("company") or {}
            by_company.setdefault(company.get("id"), []).append(agreement_vars(agreement))
        strict = self.get_option("strict")
        for company in data["companies"]:
            host_vars = company_host_vars(company)
            if types and not types.intersection(host_vars["connectwise_company_types"]):
                continue
            if self.get_option("agreements"):
                host_vars["connectwise_agreements"] = by_company.get(company.get("id"), [])
            host = self.inventory.add_host(company["identifier"])
            for key, value in host_vars.items():
                self.inventory.set_variable(host, key, value)
            # The host's own vars (with inventory_hostname) feed compose; groups and keyed
            # groups then see the composed vars too.
            self._set_composite_vars(self.get_option("compose"),
                                     self.inventory.get_host(host).get_vars(), host, strict=strict)
            host_vars = self.inventory.get_host(host).get_vars()
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, host,
                                           strict=strict)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        user_cache_setting = self.get_option("cache")
        attempt_to_read_cache = user_cache_setting and cache
        cache_needs_update = user_cache_setting and not cache
        data = None
        if attempt_to_read_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                cache_needs_update = True
        if data is None:
            data = self._fetch()
        if cache_needs_update:
            self._cache[cache_key] = data
        self._populate(data)
