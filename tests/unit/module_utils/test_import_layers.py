"""The import graph of ``plugins/module_utils``: no cycle, and no module imports one above its layer.

``LAYERS`` declares the layers from the top (what the modules call) to the bottom (what
everything uses). A module (its dotted name below ``module_utils``: ``ensure.engine``; a
package's ``__init__.py`` is the package, ``ensure``) is placed by the first layer with a
pattern (``fnmatch``) that matches it. It may import modules of its own layer and of the
layers below, never above; and no chain of imports may lead back to where it started. The
edges are read from the source (every ``import``, also inside functions), so a new import is
checked the day it is written; a new file fails the test until its layer is declared here.
"""

import ast
import fnmatch
import os
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULE_UTILS = os.path.join(ROOT, "plugins", "module_utils")
PACKAGE = "ansible_collections.mbs.connectwise.plugins.module_utils"
CONTRIBUTING = os.path.join(ROOT, "docs", "CONTRIBUTING.md")
PICTURE_START = "<!-- the layers: python -m tests.unit.module_utils.test_import_layers -->"
PICTURE_END = "<!-- end of the layers -->"

LAYERS = (
    ("module shape: connection options, one client, errors -> fail_json", ("connectwise_module",)),
    ("declarations: each ensure module's resource, options and run", ("resources",)),
    ("runs: ensure outcomes -> module results; the billing run", ("ensure", "ensure.results", "billing.call", "billing.run")),
    ("the ensure engine; billing's steps: usage sources, checks of the whole run, writes",
     ("ensure.engine", "billing.sources", "billing.guard", "billing.apply", "billing.product_run",
      "billing.product_sources")),
    ("the engine's parts; billing's plan and configuration",
     ("ensure.references", "ensure.in_use", "ensure.create_body", "billing.plan", "billing.config",
      "billing.product_config")),
    ("what a declaration says; a company's billing outcome, its payloads, its agreement",
     ("ensure.declarations", "ensure.options", "ensure.values", "ensure.outcome",
      "billing.outcome", "billing.payloads", "billing.agreements")),
    ("the roles' customer records, checked by the billing module's rules", ("customer_record",)),
    ("billing rules: history, effective dates, lines, invoice text, pricing, totals, a month's parts, changes in words",
     ("billing.history", "billing.effective_dates", "billing.lines", "billing.invoice_text", "billing.pricing",
      "billing.totals", "billing.product_lines", "billing.parts", "billing.change_lines")),
    ("usage and product sources: MSP360, files, inline, licenses, storage accounts",
     ("msp360_products", "msp360", "usage_sources", "license_history", "licenses", "storage_split",
      "product_options", "license_counts")),
    ("shared types: numbers, periods, usage records, names on one line, the caller's names of the options",
     ("billing", "billing.numbers", "billing.periods", "billing.usage", "billing.text", "option_names")),
    ("one escaping rule for printed text", ("printable",)),
    ("the ConnectWise wire", ("client",)),
    ("conditions", ("conditions",)),
    ("HTTP", ("transport",)),
    ("HTTP's pace and origin, one fold, one date", ("pacing", "origin", "identity", "dates")),
    ("every exception the collection raises", ("errors",)),
)


def module_names(root=MODULE_UTILS):
    """``{dotted name: file}`` of every module below ``root``."""
    found = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if not name.endswith(".py"):
                continue
            parts = os.path.relpath(os.path.join(folder, name), root)[:-3].split(os.sep)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts:
                found[".".join(parts)] = os.path.join(folder, name)
    return found


def imported(source, importer, known):
    """The modules of ``known`` that ``source`` (the module ``importer``) imports."""
    targets = set()
    package = importer.split(".")[:-1] if importer in known and not known[importer].endswith("__init__.py") \
        else importer.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            targets.update(name[len(PACKAGE) + 1:] for name in names if name.startswith(PACKAGE + "."))
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
        elif node.module == PACKAGE or (node.module or "").startswith(PACKAGE + "."):
            base = node.module[len(PACKAGE) + 1:]
        else:
            continue
        for alias in node.names:
            submodule = "%s.%s" % (base, alias.name) if base else alias.name
            targets.add(submodule if submodule in known else base)
    return {target for target in targets if target in known}


def import_graph(modules):
    """``{module: {modules it imports}}`` for ``{dotted name: file}``."""
    graph = {}
    for name, path in modules.items():
        with open(path) as handle:
            graph[name] = imported(handle.read(), name, modules)
    return graph


def layer_of(name, layers=LAYERS):
    for index, (_title, patterns) in enumerate(layers):
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
            return index
    return None


def upward_edges(graph, layers=LAYERS):
    """``[(importer, imported)]`` where the imported module is in a layer above the importer's."""
    return sorted((source, target) for source, targets in graph.items() for target in targets
                  if layer_of(target, layers) < layer_of(source, layers))


def cycles(graph):
    """Every import cycle, each as the path that closes it (``[a, b, a]``), found depth first."""
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"
    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def layer_picture(graph, layers=LAYERS):
    """The layers from the top, each module with what it imports: docs/CONTRIBUTING.md shows this text."""
    lines = []
    for index, (title, _patterns) in enumerate(layers):
        lines.append("%2d  %s" % (index + 1, title))
        for name in sorted(name for name in graph if layer_of(name, layers) == index):
            imports = ", ".join(sorted(graph[name])) or "-"
            lines.extend(textwrap.wrap(imports, 110, initial_indent="      %-24s -> " % name,
                                       subsequent_indent=" " * 34, break_on_hyphens=False))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def graph():
    return import_graph(module_names())


def test_every_module_has_a_declared_layer(graph):
    assert [name for name in sorted(graph) if layer_of(name) is None] == [], \
        "declare the layer of these modules in LAYERS (tests/unit/module_utils/test_import_layers.py)"


def test_every_declared_pattern_names_a_module(graph):
    stale = [pattern for _title, patterns in LAYERS for pattern in patterns
             if not any(fnmatch.fnmatchcase(name, pattern) for name in graph)]
    assert stale == [], "LAYERS names modules that do not exist: move or remove these entries"


def test_no_module_imports_one_above_its_layer(graph):
    assert upward_edges(graph) == []


def test_the_import_graph_has_no_cycle(graph):
    assert cycles(graph) == []


def test_the_graph_is_read_from_the_source(graph):
    """The reader sees what the setup route imports: module -> wrapper -> declarations -> engine."""
    assert {"client", "transport"} <= graph["connectwise_module"]
    assert {"ensure.engine", "ensure.results", "ensure.declarations"} <= graph["resources"]
    assert "connectwise_module" not in graph["resources"]
    assert "conditions" in graph["ensure.engine"]  # ``from ...module_utils import conditions as cond``


def test_the_checks_find_an_upward_edge_and_a_cycle():
    layers = (("top", ("top",)), ("middle", ("middle.*",)), ("bottom", ("bottom",)))
    graph = {"top": {"middle.a"}, "middle.a": {"middle.b", "bottom"}, "middle.b": {"middle.a"}, "bottom": {"top"}}
    assert upward_edges(graph, layers) == [("bottom", "top")]
    assert cycles(graph) == [["bottom", "top", "middle.a", "bottom"], ["middle.a", "middle.b", "middle.a"]]


def test_relative_and_package_imports_are_resolved(tmp_path):
    (tmp_path / "pkg").mkdir()
    for name, source in {"pkg/__init__.py": "", "pkg/one.py": "from . import two\n",
                         "pkg/two.py": "from .three import x\n", "pkg/three.py": "x = 1\n",
                         "top.py": "from %s.pkg import one\nimport %s.pkg.two\n" % (PACKAGE, PACKAGE)}.items():
        (tmp_path / name).write_text(source)
    assert import_graph(module_names(str(tmp_path))) == {
        "pkg": set(), "pkg.one": {"pkg.two"}, "pkg.two": {"pkg.three"}, "pkg.three": set(),
        "top": {"pkg.one", "pkg.two"}}


def test_contributing_shows_the_layers_as_they_are(graph):
    """The picture in docs/CONTRIBUTING.md is the one drawn from LAYERS and the imports read now."""
    with open(CONTRIBUTING) as handle:
        text = handle.read()
    shown = text.split(PICTURE_START, 1)[1].split(PICTURE_END, 1)[0].strip().removeprefix("```").removesuffix("```")
    shown = shown.strip("\n")
    assert shown == layer_picture(graph), "run python -m tests.unit.module_utils.test_import_layers and paste its output"


def plugin_imports(kind):
    """``{file: {plugin kinds it imports from}}`` for the files of ``plugins/<kind>``."""
    found = {}
    prefix = "ansible_collections.mbs.connectwise.plugins."
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "plugins", kind)):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name)) as handle:
                    tree = ast.parse(handle.read())
                found[name] = {node.module[len(prefix):].split(".")[0] for node in ast.walk(tree)
                               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(prefix)}
    return found


def test_module_utils_is_the_bottom_of_the_plugins_and_plugin_utils_above_it():
    assert {name: kinds for name, kinds in plugin_imports("module_utils").items() if kinds - {"module_utils"}} == {}
    assert {name: kinds for name, kinds in plugin_imports("plugin_utils").items()
            if kinds - {"module_utils", "plugin_utils"}} == {}
    for kind in ("modules", "filter", "action", "inventory"):
        assert all(kinds <= {"module_utils", "plugin_utils"} for kinds in plugin_imports(kind).values()), kind


if __name__ == "__main__":
    print(layer_picture(import_graph(module_names())))
