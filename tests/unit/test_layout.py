"""Collection-level rules that a reviewer would otherwise have to remember."""

import ast
import os

import yaml

from ansible_collections.mbs.connectwise.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.mbs.connectwise.plugins.module_utils.client import CONNECTION_OPTIONS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = os.path.join(ROOT, "plugins", "modules")


def module_names():
    return sorted(f[:-3] for f in os.listdir(MODULES) if f.endswith(".py") and not f.startswith("_"))


def uses_connection(name):
    with open(os.path.join(MODULES, name + ".py")) as handle:
        source = handle.read()
    return "mbs.connectwise.connection" in source and "ConnectWiseModule" in source


def test_action_group_lists_every_connection_module():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        runtime = yaml.safe_load(handle)
    group = runtime["action_groups"]["connectwise"]
    expected = [name for name in module_names() if uses_connection(name)]
    assert expected, "no module found"
    assert sorted(group) == expected


def test_doc_fragment_matches_the_connection_option_table():
    doc = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert sorted(doc) == sorted(CONNECTION_OPTIONS)
    for name, option in CONNECTION_OPTIONS.items():
        documented = doc[name]
        assert documented["type"] == option["type"], name
        assert documented.get("required", False) == option.get("required", False), name
        assert documented.get("default") == option.get("default"), name
        if "env" in option:
            assert "E(%s)" % option["env"] in " ".join(documented["description"]), name
    assert CONNECTION_OPTIONS["private_key"].get("no_log") is True


def test_every_module_has_rendered_docs_sections():
    for name in module_names():
        with open(os.path.join(MODULES, name + ".py")) as handle:
            tree = ast.parse(handle.read())
        assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                    if isinstance(t, ast.Name)}
        assert {"DOCUMENTATION", "EXAMPLES", "RETURN"} <= assigned, name
