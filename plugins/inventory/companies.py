# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: companies
short_description: ConnectWise Manage companies as inventory hosts, selected as backup customers
version_added: 0.1.0
description:
  - Reads the companies of a ConnectWise Manage site, page by page, and adds each as a host
    named after its company identifier (or its name, O(hostname)).
  - Selects the customers of a backup service among them - the companies holding an agreement of a
    type or name (O(agreement_type), O(agreement_name), O(require_agreement)), with a custom field
    (O(custom_field_conditions)), matching a C(conditions) expression (a name pattern,
    O(conditions)), a status or a company type.
  - "Host variables, each named with O(host_var_prefix) (default C(connectwise_)) before it:
    C(company_id), C(company_identifier), C(company_name), C(company_types) (list of type names),
    C(company_status), and with O(agreement_name) or O(agreement_type) C(agreements), the company's
    agreements of that name or type (read in one paged request for all companies)."
  - The hosts are the customers of the setup and billing roles through C(connectwise_customers_group);
    the roles read only a host's variables named like a customer key (C(mbs_company), C(price_per_gb)...),
    which O(compose) can set.
  - The inventory source file name must end in C(.connectwise.yml) or C(.connectwise.yaml).
  - As an AWX or Automation Platform inventory source - C(Sourced from a Project) with the source file in
    the project (C(awx/customers.connectwise.yml) in this collection), the credential of the collection's
    credential type (it injects the C(CW_*) connection variables), and the selection in the source's
    variables, which AWX passes to the plugin as environment variables (the C(CW_INVENTORY_*) names below).
    C(awx/configure_awx.yml) creates it with C(awx_customers_source=true).
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
        for example C(deletedFlag = false and city = "Springfield") or a name pattern
        C(name like "Acme%").
    type: str
    env:
      - name: CW_INVENTORY_CONDITIONS
  custom_field_conditions:
    description:
      - A ConnectWise C(customFieldConditions) expression the company read must match, to select the
        companies whose custom field says they are backup customers, for example
        C(caption = "Backup Customer" and value = true) or C(caption = "Backup Tier" and value = "Gold").
    type: str
    env:
      - name: CW_INVENTORY_CUSTOM_FIELD_CONDITIONS
  child_conditions:
    description:
      - A ConnectWise C(childConditions) expression on the companies' lists (types, communication
        items) that the company read must match, for example C(types/name = "Client").
    type: str
    env:
      - name: CW_INVENTORY_CHILD_CONDITIONS
  company_types:
    description:
      - Only companies with at least one of these type names (for example C(Client)).
      - Filtered on the controller after the read, for the ConnectWise versions that do not honour
        O(child_conditions) on C(types/name).
    type: list
    elements: str
    env:
      - name: CW_INVENTORY_COMPANY_TYPES
  statuses:
    description: Only companies whose status has one of these names (for example C(Active)).
    type: list
    elements: str
    env:
      - name: CW_INVENTORY_STATUSES
  agreement_name:
    description:
      - An agreement name (the setup role's C(connectwise_solution_name), C(ManagedBackupService) by default).
        Each host gets the variable C(agreements) (with O(host_var_prefix)), the list of that company's
        agreements with this name (C(id), C(name), C(type), C(agreementStatus), C(startDate), C(endDate),
        C(billStartDate)); empty when it has none.
      - With O(agreement_type) too, the agreements must have both.
    type: str
    env:
      - name: CW_INVENTORY_AGREEMENT_NAME
  agreement_type:
    description:
      - An agreement type name. As O(agreement_name), for the agreements of this type.
    type: str
    env:
      - name: CW_INVENTORY_AGREEMENT_TYPE
  require_agreement:
    description:
      - Keep only the companies holding at least one agreement of O(agreement_name) and O(agreement_type)
        (whatever its status), so the hosts are the customers the setup gave an agreement, or whose
        agreement was added in ConnectWise by hand.
      - Needs O(agreement_name) or O(agreement_type).
    type: bool
    default: false
    env:
      - name: CW_INVENTORY_REQUIRE_AGREEMENT
  hostname:
    description:
      - What names a host - the company C(identifier), or its C(name).
      - With C(name), each host also gets the variable C(identifier) (the customer key the roles read
        instead of the host name), and two companies of the same name are an error naming both.
    type: str
    choices: [identifier, name]
    default: identifier
    env:
      - name: CW_INVENTORY_HOSTNAME
  host_var_prefix:
    description:
      - Put before the name of every host variable the plugin sets (not O(compose)'s), so they cannot clash
        with other sources' variables. The default C(connectwise_) gives C(connectwise_company_id)...
      - The roles leave variables starting with C(connectwise_) alone; with another prefix they leave alone
        every variable not named like a customer key.
    type: str
    default: connectwise_
    env:
      - name: CW_INVENTORY_HOST_VAR_PREFIX
notes:
  - Requires the C(requests) Python library on the controller.
  - Two paged reads in all, whatever the number of companies - the companies, then (with O(agreement_name)
    or O(agreement_type)) the agreements of every company.
requirements:
  - requests
"""

EXAMPLES = r"""
# inventory/customers.connectwise.yml; credentials from CW_SITE, CW_COMPANY_ID,
# CW_PUBLIC_KEY, CW_PRIVATE_KEY and CW_CLIENT_ID
plugin: mbs.connectwise.companies
statuses: [Active]
# The backup customers: the companies with an agreement of the setup's type.
agreement_type: ManagedBackupService
require_agreement: true
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/mbs.connectwise
cache_timeout: 3600
groups:
  # The setup and billing roles read this group's hosts as their customers with
  # connectwise_customers_group: connectwise_customers
  connectwise_customers: true
keyed_groups:
  - key: connectwise_company_status
    prefix: status
compose:
  ansible_connection: "'local'"

# Customers flagged by a custom field, hosts named after the company, MSP360 knowing them by that name.
plugin: mbs.connectwise.companies
custom_field_conditions: caption = "Backup Customer" and value = true
hostname: name
host_var_prefix: cw_
groups:
  connectwise_customers: true
compose:
  mbs_company: cw_company_name

# A name pattern and all agreements of a name, without requiring one (a group shows who lacks it).
plugin: mbs.connectwise.companies
conditions: name like "Acme%"
agreement_name: ManagedBackupService
groups:
  without_backup_agreement: connectwise_agreements | length == 0

# AWX: the source's variables (Inventories > Sources > Source variables) select, for a source file
# that holds only the plugin name and the groups:
#   CW_INVENTORY_AGREEMENT_TYPE: ManagedBackupService
#   CW_INVENTORY_REQUIRE_AGREEMENT: "true"
#   CW_INVENTORY_STATUSES: Active
"""


import difflib

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.client import CONNECTION_OPTIONS, ConnectWiseClient
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError, InputError

COMPANY_FIELDS = ("id", "identifier", "name", "status", "types")
AGREEMENT_FIELDS = ("id", "name", "type", "company", "agreementStatus", "startDate", "endDate",
                    "billStartDate")
# ConnectWise's list parameters for custom fields and list members, by option.
LIST_PARAMETERS = (("custom_field_conditions", "customFieldConditions"), ("child_conditions", "childConditions"))


def _name(reference):
    return reference.get("name") if isinstance(reference, dict) else reference


def company_conditions(conditions=None, statuses=None):
    """The ``conditions`` of the company read: the user's expression and the status names."""
    return cond.all_of(conditions, cond.is_in("status/name", statuses) if statuses else None)


def agreement_conditions(name=None, agreement_type=None):
    """The ``conditions`` of the agreement read: the name and the type name, each quoted."""
    return cond.all_of(cond.equals("name", name) if name else None,
                       cond.equals("type/name", agreement_type) if agreement_type else None)


def company_host_vars(company, prefix="connectwise_"):
    return {
        prefix + "company_id": company.get("id"),
        prefix + "company_identifier": company.get("identifier"),
        prefix + "company_name": company.get("name"),
        prefix + "company_types": [_name(t) for t in company.get("types") or []],
        prefix + "company_status": _name(company.get("status")),
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

    def _error(self, message):
        return AnsibleParserError("%s: %s" % (self.NAME, message))

    def _client(self):
        kwargs = dict((name, self.get_option(name)) for name in CONNECTION_OPTIONS)
        try:
            return ConnectWiseClient(**kwargs)
        except InputError as error:
            raise self._error(error)

    def _selection(self):
        """The reads' conditions and parameters from the options, checked before any request."""
        name, agreement_type = self.get_option("agreement_name"), self.get_option("agreement_type")
        if self.get_option("require_agreement") and not (name or agreement_type):
            raise self._error("require_agreement needs agreement_name or agreement_type: which agreement makes a "
                              "company a customer (for example agreement_type: ManagedBackupService)")
        try:
            companies = company_conditions(self.get_option("conditions"), self.get_option("statuses"))
            agreements = agreement_conditions(name, agreement_type)
        except ValueError as error:
            raise self._error(error)
        params = dict((parameter, self.get_option(option)) for option, parameter in LIST_PARAMETERS
                      if self.get_option(option))
        return companies, params, agreements

    def _fetch(self):
        """Companies and (when asked) agreements as plain data: what the cache holds."""
        where, params, agreement_where = self._selection()
        client = self._client()
        try:
            companies = list(client.list("company/companies", conditions=where, fields=COMPANY_FIELDS,
                                         params=params or None))
            agreements = []
            if agreement_where:
                agreements = list(client.list("finance/agreements", conditions=agreement_where,
                                              fields=AGREEMENT_FIELDS))
        except ApiError as error:
            # ApiError's text names method, path and status; transport strips the secrets from it.
            raise self._error("reading ConnectWise failed: %s" % error)
        return {"companies": companies, "agreements": agreements}

    def _selected(self, data):
        """``[(host name, host vars)]`` of the companies the options keep, in host-name order."""
        prefix, by_name = self.get_option("host_var_prefix") or "", self.get_option("hostname") == "name"
        types = set(self.get_option("company_types") or [])
        with_agreements = bool(self.get_option("agreement_name") or self.get_option("agreement_type"))
        by_company = {}
        for agreement in data["agreements"]:
            company = agreement.get("company") or {}
            by_company.setdefault(company.get("id"), []).append(agreement_vars(agreement))
        hosts = {}
        for company in data["companies"]:
            host_vars = company_host_vars(company, prefix)
            if types and not types.intersection(host_vars[prefix + "company_types"]):
                continue
            held = by_company.get(company.get("id"), [])
            if self.get_option("require_agreement") and not held:
                continue
            if with_agreements:
                host_vars[prefix + "agreements"] = held
            name = company["identifier"]
            if by_name:
                name = company.get("name")
                host_vars["identifier"] = company["identifier"]
                if name in hosts:
                    raise self._error("two companies are named %r (identifiers %s and %s): with hostname: name "
                                      "each company needs its own name; use hostname: identifier or narrow the "
                                      "selection" % (name, hosts[name]["identifier"], company["identifier"]))
            hosts[name] = host_vars
        return sorted(hosts.items(), key=lambda item: item[0])

    def _populate(self, data):
        strict = self.get_option("strict")
        for name, host_vars in self._selected(data):
            host = self.inventory.add_host(name)
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

    def _refuse_unknown_options(self, config):
        """A misspelt selection option would widen the selection silently (every company billed)."""
        unknown = sorted(str(key) for key in config if key not in self._options)
        if unknown:
            described = []
            for key in unknown:
                close = difflib.get_close_matches(key, list(self._options), n=1, cutoff=0.75)
                described.append("%s (did you mean %s?)" % (key, close[0]) if close else key)
            raise self._error("unknown option%s %s in the source file; see ansible-doc -t inventory %s"
                              % ("s" if len(unknown) > 1 else "", ", ".join(described), self.NAME))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        self._refuse_unknown_options(self._read_config_data(path))
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
