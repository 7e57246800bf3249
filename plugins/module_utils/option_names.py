# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's options named as its caller's users know them: :class:`OptionNames`.

The roles set the modules' options from their own variables (``billing_cost_per_gb``, a customer's
record in ``connectwise_customers``, ``connectwise_product``). A message that says "set cost_per_gb"
sends the role's user looking for a variable that does not exist, and Ansible prints the module's
message as it is. So the caller gives ``option_names`` (an option's path -> the name its users write),
and every message naming an option names it through :meth:`OptionNames.__call__` (the billing module)
or :func:`about_option` (``setup_info``, whose objects' messages start with the option they are about).

A path is an option (``cost_per_gb``), a suboption (``mbs.total_cost_is``), or an entry of a mapping
option written with ``*`` (``companies[*].cost_per_gb``, ``company_map[*]``) and named with the entry
(the company identifier, the MSP360 name), which replaces the ``*`` of the name given for the path.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils.printable import printable

ITEM = "*"
# The paths of mapping entries the run names besides the options themselves; ``companies[*].<key>``
# too, for each per-company override (``config.COMPANY_OVERRIDE_SPEC``).
ENTRY_PATHS = ("companies[*]", "company_map[*]", "cost_per_gb_by_destination[*]")


class OptionNames:
    """``names("cost_per_gb")`` -> the name to show: the caller's (``billing_cost_per_gb``), else the path.

    A path given with no name (null or empty) is an option the caller does not let its users set:
    it is shown as the module's option, and :meth:`can_set` tells a message not to suggest it.
    """

    def __init__(self, table=None):
        self.table = dict(table or {})

    def __call__(self, path, item=None):
        name = self.table.get(path)
        if not name:
            name = path if path not in self.table else "the billing module's option %s" % path
        return name if item is None else name.replace(ITEM, printable(item))

    def known(self, path):
        return bool(self.table.get(path))

    def can_set(self, path):
        return path not in self.table or bool(self.table[path])


def known_paths(argument_spec, entry_options=()):
    """Every path a table may name: the options, their suboptions, :data:`ENTRY_PATHS` and ``companies[*].<key>``."""
    paths = set(ENTRY_PATHS)
    for name, spec in argument_spec.items():
        paths.add(name)
        for sub in (spec.get("options") or {}):
            paths.add("%s.%s" % (name, sub))
    paths.update("companies[*].%s" % key for key in entry_options)
    return paths


BILLING_EXAMPLES = "cost_per_gb, mbs.total_cost_is, companies[*].price_per_gb"


def table_problem(table, paths, module="the billing module", examples=BILLING_EXAMPLES):
    """Why ``option_names`` is not a table of ``module``'s known paths to names (a message), or None."""
    if not isinstance(table, dict):
        return "option_names must be a mapping of option path to the name to show, not %s" % type(table).__name__
    unknown = sorted(str(path) for path in table if path not in paths)
    if unknown:
        return ("option_names: %s %s not an option of %s (paths such as %s)"
                % (", ".join(repr(p) for p in unknown), "is" if len(unknown) == 1 else "are", module, examples))
    wrong = sorted(str(path) for path, name in table.items() if name is not None and not isinstance(name, str))
    if wrong:
        return "option_names: the names of %s must be text (or null)" % ", ".join(wrong)
    return None


def about_option(message, about, options, names):
    """``about: message`` for a message about one of object ``about``'s ``options``, as the caller names them.

    The messages of an object's options start with the option (``description: 'x' is 80 characters
    long``): when the caller names that option (``product.description`` -> ``connectwise_product.description``),
    the name replaces both; otherwise the object is named as the caller names it.
    """
    for option in sorted(options, key=len, reverse=True):
        path = "%s.%s" % (about, option)
        if message.startswith(option) and message[len(option):len(option) + 1] in (":", " ") and names.known(path):
            return names(path) + message[len(option):]
    return "%s: %s" % (names(about), message)
