"""One errors module: every exception the collection raises is defined in ``module_utils/errors.py``
(or beside the rule that words it, on a base from there), imported from there, and drawn in its
docstring as it is."""

import ast
import builtins
import inspect
import os
import re

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils import errors
from ansible_collections.mbs.connectwise.plugins.module_utils.billing import effective_dates

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLUGINS = os.path.join(ROOT, "plugins")
ERRORS = os.path.join(PLUGINS, "module_utils", "errors.py")
ERRORS_MODULE = "ansible_collections.mbs.connectwise.plugins.module_utils.errors"
# Defined beside their rule (their messages are the rule's), each on a base of errors.py.
BESIDE_THEIR_RULE = {
    "NotBillingYet": effective_dates,
    "EffectiveDateRefused": effective_dates,
    "InvoicedPeriodRefused": effective_dates,
}
# ``module.Error`` reaches for an error through another module instead of importing it from errors.py.
# These three lines belong to files other branches are changing now; once merged, import the error
# from errors.py there and empty this table.
REACHED_THROUGH_ANOTHER_MODULE = set()
BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items()
                      if inspect.isclass(value) and issubclass(value, BaseException)}


def python_files():
    for folder, _dirs, files in os.walk(PLUGINS):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path) as handle:
                    yield os.path.relpath(path, PLUGINS), ast.parse(handle.read())


def base_names(node):
    return [base.id if isinstance(base, ast.Name) else base.attr for base in node.bases
            if isinstance(base, (ast.Name, ast.Attribute))]


def collection_errors():
    return {name for name, value in vars(errors).items()
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == errors.__name__}


def test_every_exception_class_is_defined_in_errors_or_beside_its_rule_on_a_base_from_there():
    ours = collection_errors()
    outside = []
    for path, tree in python_files():
        if path == "module_utils/errors.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and set(base_names(node)) & (BUILTIN_EXCEPTIONS | ours | set(BESIDE_THEIR_RULE)):
                outside.append((path, node.name))
    assert sorted(outside) == sorted(("module_utils/billing/effective_dates.py", name) for name in BESIDE_THEIR_RULE)
    for name, module in BESIDE_THEIR_RULE.items():
        base = getattr(module, name).__mro__[1]
        assert base.__module__ == errors.__name__, "%s must subclass a base of errors.py, not %s" % (name, base)


def test_errors_imports_nothing_of_the_collection():
    with open(ERRORS) as handle:
        tree = ast.parse(handle.read())
    imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported == ["__future__"]


def test_every_module_imports_the_errors_from_errors_py():
    """No ``from ...transport import ApiError``: an error is imported from where it is defined."""
    names = collection_errors()
    wrong, reached = [], set()
    for path, tree in python_files():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module != ERRORS_MODULE \
                    and (node.module or "").startswith("ansible_collections.mbs.connectwise."):
                wrong.extend((path, node.module, alias.name) for alias in node.names if alias.name in names)
            if isinstance(node, ast.Attribute) and node.attr in names and isinstance(node.value, ast.Name):
                reached.add((path, "%s.%s" % (node.value.id, node.attr)))
    assert wrong == []
    assert reached == REACHED_THROUGH_ANOTHER_MODULE


def drawn_hierarchy():
    """``{class name: parent name}`` as the tree in errors.py's docstring draws it (``+-- Name``, indented)."""
    parents, stack = {}, [(-1, "Exception")]
    for line in errors.__doc__.splitlines():
        match = re.search(r"\+-- ([A-Za-z]+)", line)
        if not match:
            continue
        depth = match.start()
        while stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(1)] = stack[-1][1]
        stack.append((depth, match.group(1)))
    return parents


def test_the_docstring_draws_every_error_under_its_real_base():
    drawn = drawn_hierarchy()
    classes = dict((name, getattr(errors, name)) for name in collection_errors())
    classes.update((name, getattr(module, name)) for name, module in BESIDE_THEIR_RULE.items())
    assert sorted(name for name in drawn if name not in ("Exception", "ValueError")) == sorted(classes)
    for name, cls in classes.items():
        assert drawn[name] == cls.__mro__[1].__name__, name


@pytest.mark.parametrize("name", sorted(collection_errors()))
def test_every_error_says_what_it_means(name):
    assert (getattr(errors, name).__doc__ or "").strip()


def test_a_refusal_stays_a_value_error_and_a_skip_is_no_failure():
    """The billing run and the modules catch ``ValueError``: a refusal is one, a skip is not."""
    for name in ("InputError", "CustomerError", "UsageError", "BillingRefused", "RunRefused", "BillsNothing"):
        assert issubclass(getattr(errors, name), ValueError)
    assert issubclass(effective_dates.EffectiveDateRefused, errors.BillingRefused)
    assert not issubclass(effective_dates.NotBillingYet, ValueError)
    assert effective_dates.NotBillingYet.reason == effective_dates.NOT_BILLING_YET
