# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The billing options of the products besides storage, checked before any request: :func:`product_config`.

``license_products`` maps MSP360 license types to catalog items (:mod:`licenses`), ``storage_products``
storage accounts to catalog items (:mod:`storage_split`); each product is one more line per company,
billed by the same rules as storage. A customer may choose its products (``companies[X].products``)
and have its own prices per product (``companies[X].product_prices``, the vendor's per-company
"billing configuration"). Every message names the option and the value.

One catalog item bills one line of a company, so a product may not be the storage product and a
license product (or a storage-account product) at once: the two lines would each take the other's
addition for their own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses

from ansible_collections.mbs.connectwise.plugins.module_utils import product_options as po
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.config import checked
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import to_decimal
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.pricing import Pricing
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.text import shown
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError, ProductOptionError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.license_counts import check_unmapped_policy
from ansible_collections.mbs.connectwise.plugins.module_utils.license_history import DATE_ORDERS
from ansible_collections.mbs.connectwise.plugins.module_utils.licenses import LicenseProducts, parse_license_products
from ansible_collections.mbs.connectwise.plugins.module_utils.storage_split import StorageProducts, parse_storage_products

DEFAULT_MAX_COMPANY_LICENSES = "10000"
LICENSE_PRICE_KEYS = ("unit_price", "unit_cost", "included")
STORAGE_PRICE_KEYS = ("price_per_gb", "cost_per_gb")


@dataclasses.dataclass(frozen=True)
class CustomerProducts:
    """One customer's choice: ``products`` (folded identifiers; None = every product) and ``prices`` per product."""

    identifier: str
    products: object = None
    prices: dict = dataclasses.field(default_factory=dict)
    max_licenses: object = None
    max_licenses_option: str = ""


@dataclasses.dataclass(frozen=True)
class ProductConfig:
    """The products besides storage. Empty (no option given) bills storage alone, as without them."""

    licenses: LicenseProducts = LicenseProducts()
    storage: StorageProducts = StorageProducts()
    unmapped_license_types: str = "report"
    license_history_file: object = None
    license_history_date_order: object = None
    max_licenses: object = None
    # How the caller names max_company_licenses (option_names): the plausibility failure names it.
    max_licenses_option: str = "max_company_licenses"
    customers: dict = dataclasses.field(default_factory=dict)

    @property
    def bills_licenses(self):
        return bool(self.licenses.products)

    @property
    def splits_storage(self):
        return bool(self.storage.products)

    def customer(self, identifier):
        return self.customers.get(fold(identifier))

    def chooses(self, identifier, product):
        """Whether the customer is billed for ``product`` (every product unless its ``products`` says otherwise)."""
        customer = self.customer(identifier)
        return customer is None or customer.products is None or fold(product) in customer.products

    def prices(self, identifier, product):
        """The customer's own terms for ``product`` (``{}`` when it has none)."""
        customer = self.customer(identifier)
        return dict(customer.prices.get(fold(product), {})) if customer else {}

    def license_terms(self, identifier, product):
        """``(unit_cost, unit_price, included)`` of a license product for a customer; None: the catalog item's."""
        terms, own = self.licenses.terms(product), self.prices(identifier, product)
        return (own.get("unit_cost", terms.unit_cost), own.get("unit_price", terms.unit_price),
                own.get("included", terms.included))

    def storage_pricing(self, identifier, product, company_pricing):
        """The rates of a storage-account product for a customer: its own, else the entry's, else the company's."""
        terms, own = self.storage.terms(product), self.prices(identifier, product)
        cost = own.get("cost_per_gb", terms.cost_per_gb)
        price = own.get("price_per_gb", terms.price_per_gb)
        return Pricing(company_pricing.cost_per_unit if cost is None else cost,
                       company_pricing.price_per_unit if price is None else price), cost is not None, price is not None

    def max_licenses_for(self, identifier):
        customer = self.customer(identifier)
        if customer is not None and customer.max_licenses_option:
            return customer.max_licenses, customer.max_licenses_option
        return self.max_licenses, self.max_licenses_option


def _parsed(parse, value, name):
    try:
        return parse(value, name)
    except ProductOptionError as exc:
        raise InputError(str(exc))


def _license_bound(value, what):
    """A bound on a license count -> int, or None for 0 (the check turned off)."""
    number = checked(to_decimal, value, what)
    if number != number.to_integral_value():
        raise InputError("%s: %r is not a whole number of licenses (0 turns the check off)" % (what, value))
    return int(number) or None


def _storage_products_of(config):
    """``{fold(product): where}`` of every storage product the run bills (the default and each company's)."""
    found = {fold(config.defaults.product): config.names("product")}
    for settings in config.overrides.values():
        found.setdefault(fold(settings.product), config.names("companies[*].product", shown(settings.identifier)))
    return found


def _check_distinct(config, licenses, storage):
    """One catalog item bills one line: refuse a product that two kinds of line name."""
    taken = dict((key, ("the storage product", where)) for key, where in _storage_products_of(config).items())
    for option, products in ((config.names("license_products"), licenses.products),
                             (config.names("storage_products"), storage.products)):
        for terms in products:
            other = taken.get(fold(terms.product))
            if other is not None:
                raise InputError("%s names product %r, which is also %s (%s): one catalog item bills one line of a "
                                 "company, so give each its own catalog item" % (option, terms.product, other[0],
                                                                                 other[1]))
        for terms in products:
            taken[fold(terms.product)] = ("a product of %s" % option, option)


def _check_sources(params, config, licenses, storage):
    names = config.names
    if storage.products and config.source != "mbs":
        raise InputError("%s splits MSP360's storage by storage account, which only the MSP360 source (%s) gives; "
                         "with %s, leave %s out" % (names("storage_products"), names("mbs"), config.source,
                                                    names("storage_products")))
    history = params.get("license_history_file")
    if history and not licenses.products:
        raise InputError("%s %r is given without %s: map the license types to catalog items in %s"
                         % (names("license_history_file"), history, names("license_products"),
                            names("license_products")))
    if licenses.products and config.source != "mbs" and not history:
        raise InputError("%s needs MSP360's licenses: the MSP360 source (%s) or the console's license usage-history "
                         "export (%s); the usage source is %s" % (names("license_products"), names("mbs"),
                                                                  names("license_history_file"), config.source))


def _price_terms(where, product, raw, kinds, names):
    """One ``product_prices`` entry -> ``{term: value}``, its keys those of the product's kind.

    A license product's unit cost and price keep at most 4 decimals, as ConnectWise does.
    """
    kind_keys = kinds.get(fold(product))
    if kind_keys is None:
        raise InputError("%s: %r is not a product of %s or %s (%s)"
                         % (where, product, names("license_products"), names("storage_products"),
                            ", ".join(sorted(name for name, _k in kinds.values())) or "none given"))
    keys, entry = kind_keys[1], "%s[%s]" % (where, shown(product))
    try:
        po.check_keys(raw, entry, keys, ())
        terms = dict((key, po.amount(raw, key, entry, unit_places=key in LICENSE_PRICE_KEYS))
                     for key in keys if key != "included" and raw.get(key) is not None)
        if raw.get("included") is not None:
            terms["included"] = po.whole_number(raw, "included", entry)
    except ProductOptionError as exc:
        raise InputError(str(exc))
    return terms


def _customer(identifier, raw, config, kinds):
    """One ``companies`` entry's product keys -> CustomerProducts (None when it has none)."""
    raw = raw if isinstance(raw, dict) else {}
    names, shown_identifier = config.names, shown(identifier)
    chosen = raw.get("products")
    products = None
    if chosen is not None:
        known = dict(kinds)
        known.setdefault(fold(config.settings_for(identifier).product), (config.settings_for(identifier).product, ()))
        for name in chosen:
            if fold(name) not in known:
                raise InputError("%s: %r is none of this run's products (%s)"
                                 % (names("companies[*].products", shown_identifier), name,
                                    ", ".join(sorted(n for n, _k in known.values()))))
        products = frozenset(fold(name) for name in chosen)
    prices = raw.get("product_prices") or {}
    if not isinstance(prices, dict):
        raise InputError("%s must be a mapping of product to its prices"
                         % names("companies[*].product_prices", shown_identifier))
    terms = dict((fold(product), _price_terms(names("companies[*].product_prices", shown_identifier), product,
                                              values, kinds, names))
                 for product, values in prices.items())
    bound, option = None, ""
    if raw.get("max_company_licenses") is not None:
        option = names("companies[*].max_company_licenses", shown_identifier)
        bound = _license_bound(raw["max_company_licenses"], option)
    if products is None and not terms and not option:
        return None
    return CustomerProducts(identifier=str(identifier), products=products, prices=terms, max_licenses=bound,
                            max_licenses_option=option)


def product_config(params, config):
    """The product options of ``params`` -> :class:`ProductConfig`; InputError naming the option and the value."""
    names = config.names
    licenses = _parsed(parse_license_products, params.get("license_products"), names("license_products"))
    storage = _parsed(parse_storage_products, params.get("storage_products"), names("storage_products"))
    _check_sources(params, config, licenses, storage)
    _check_distinct(config, licenses, storage)
    unmapped = params.get("unmapped_license_types") or "report"
    checked(check_unmapped_policy, unmapped)
    order = params.get("license_history_date_order")
    if order is not None and order not in DATE_ORDERS:
        raise InputError("%s %r is not one of %s" % (names("license_history_date_order"), order,
                                                     ", ".join(DATE_ORDERS)))
    kinds = dict((fold(t.product), (t.product, LICENSE_PRICE_KEYS)) for t in licenses.products)
    kinds.update((fold(t.product), (t.product, STORAGE_PRICE_KEYS)) for t in storage.products)
    customers = {}
    for identifier, raw in (params.get("companies") or {}).items():
        customer = _customer(identifier, raw, config, kinds)
        if customer is not None:
            customers[fold(identifier)] = customer
    bound = params.get("max_company_licenses")
    return ProductConfig(licenses=licenses, storage=storage, unmapped_license_types=unmapped,
                         license_history_file=params.get("license_history_file"), license_history_date_order=order,
                         max_licenses=_license_bound(DEFAULT_MAX_COMPANY_LICENSES if bound in (None, "") else bound,
                                                     names("max_company_licenses")),
                         max_licenses_option=names("max_company_licenses"), customers=customers)
