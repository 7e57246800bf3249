"""setup_info's failures name the setup role's variables (``option_names``), and the roles' site check.

The setup role's table (``roles/setup/vars/main.yml``) names every object and option of setup_info;
with it, an option the role sets from ``connectwise_product`` fails naming ``connectwise_product.<key>``.
"""

import os

import pytest
import yaml

from ansible_collections.mbs.connectwise.plugins.filter.connection import connection_problem
from ansible_collections.mbs.connectwise.plugins.modules import setup_info

from ..sandbox_client import run_module
from .test_setup_info import SETUP, cw

__all__ = ["cw"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def role_table():
    with open(os.path.join(ROOT, "roles", "setup", "vars", "main.yml")) as handle:
        return yaml.safe_load(handle)["__connectwise_option_names"]


def role_variables():
    with open(os.path.join(ROOT, "roles", "setup", "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


NAMES = role_table()


def test_the_roles_table_names_every_object_and_option_of_setup_info():
    assert set(NAMES) == setup_info.object_paths()
    variables = role_variables()
    for path, name in NAMES.items():
        for word in (name or "").replace("(", " ").replace(")", " ").replace(",", " ").split():
            if word.startswith("connectwise_"):
                variable, _dot, key = word.partition(".")
                assert variable in variables and (not key or key in variables[variable]["options"]), (path, name)


def test_an_option_the_role_sets_from_its_variables_is_named_as_the_variable(cw):
    options = dict(SETUP, product=dict(SETUP["product"], description="x" * 80))
    result, failed = run_module(setup_info, dict(options, option_names=NAMES))
    assert failed
    assert result["msg"] == ("connectwise_product.description: %r is 80 characters long; ConnectWise allows at most 60"
                             % ("x" * 80))
    assert cw.writes() == []


def test_without_names_the_object_and_option_are_the_modules(cw):
    options = dict(SETUP, product=dict(SETUP["product"], description="x" * 80))
    result, failed = run_module(setup_info, options)
    assert failed and result["msg"].startswith("product: description: 'xxx")


def test_a_table_naming_what_setup_info_does_not_have_is_refused(cw):
    result, failed = run_module(setup_info, dict(SETUP, option_names={"product.colour": "connectwise_product.colour"}))
    assert failed and "option_names: 'product.colour' is not an option of setup_info" in result["msg"]
    assert cw.log == []


@pytest.mark.parametrize("site, allow_http, expected", [
    ("https://na.myconnectwise.net", False, ""),
    ("api-na.myconnectwise.net", False, ""),
    ("http://127.0.0.1:8765", False, ""),
    ("", False, "connectwise_site is empty: give a host such as api-na.myconnectwise.net or a URL. Nothing was sent"),
    ("http://cw.example.com", False, "connectwise_site http://cw.example.com uses plain HTTP: the credentials would "
                                     "cross the network unencrypted"),
    ("http://cw.example.com", True, ""),
    ("https://me:secret@cw.example.com", False, "connectwise_site must not hold a user name or password"),
])
def test_the_roles_site_is_checked_by_the_modules_rule_naming_the_roles_variables(site, allow_http, expected):
    problem = connection_problem(site, allow_http)
    assert problem.startswith(expected) if expected else problem == ""
    assert "secret" not in problem
    if "plain HTTP" in expected:
        assert "set connectwise_allow_http (or CW_ALLOW_HTTP=true): true" in problem
