"""Rooms stay small: no file in ``plugins/`` over 500 lines and no function over 60.

A module's DOCUMENTATION, EXAMPLES and RETURN are its documentation, not its code, so they do not
count towards its lines. A function is counted from its ``def`` (decorators included) to its last
line, docstring and comments included: what a reader has to hold at once.
"""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, "plugins")
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60
DOCUMENTATION_BLOCKS = ("DOCUMENTATION", "EXAMPLES", "RETURN")


def plugin_files():
    found = []
    for folder, _dirs, files in os.walk(PLUGINS):
        found.extend(os.path.relpath(os.path.join(folder, name), ROOT) for name in files if name.endswith(".py"))
    return sorted(found)


def code_lines(source):
    """Lines of ``source`` outside its module-level DOCUMENTATION/EXAMPLES/RETURN assignments."""
    tree = ast.parse(source)
    documentation = sum(node.end_lineno - node.lineno + 1 for node in tree.body
                        if isinstance(node, ast.Assign)
                        and any(isinstance(target, ast.Name) and target.id in DOCUMENTATION_BLOCKS
                                for target in node.targets))
    return len(source.splitlines()) - documentation


def function_lengths(source):
    """``[(qualified name, lines)]`` of every function and method of ``source``, nested ones too."""
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([child.lineno] + [decorator.lineno for decorator in child.decorator_list])
                found.append((prefix + child.name, child.end_lineno - first + 1))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)
    visit(ast.parse(source), "")
    return found


def read(path):
    with open(os.path.join(ROOT, path)) as handle:
        return handle.read()


def test_every_plugin_file_is_measured():
    files = plugin_files()
    assert "plugins/module_utils/ensure/engine.py" in files and "plugins/modules/billing.py" in files
    assert len(files) > 50


@pytest.mark.parametrize("path", plugin_files())
def test_no_file_over_500_lines_of_code(path):
    assert code_lines(read(path)) <= MAX_FILE_LINES, \
        "%s: split it by concern (a folder per concern, as module_utils/ensure/ and module_utils/billing/)" % path


@pytest.mark.parametrize("path", plugin_files())
def test_no_function_over_60_lines(path):
    long = [(name, lines) for name, lines in function_lengths(read(path)) if lines > MAX_FUNCTION_LINES]
    assert long == [], "%s: functions over %d lines: %s" % (path, MAX_FUNCTION_LINES, long)


def test_the_measures_count_what_they_say():
    source = (
        'DOCUMENTATION = r"""\n' + "doc line\n" * 600 + '"""\n'
        "import os\n"
        "\n"
        "@staticmethod\n"
        "def short():\n"
        "    return 1\n"
        "\n"
        "class Room:\n"
        "    def long(self):\n" + "        x = 1\n" * 60 +
        "        def inner():\n"
        "            return 2\n"
        "        return inner\n"
    )
    assert code_lines(source) == len(source.splitlines()) - 602
    assert function_lengths(source) == [("short", 3), ("Room.long", 64), ("Room.long.inner", 2)]
