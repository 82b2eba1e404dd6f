"""The layout the README's "Architecture" section promises: apps form a one-way stack, no
module imports itself back through others, and the project package imports no app outside
its wiring files. Imports are read from the source, those inside functions included;
a dotted path in a string (an RQ task, a setting) is not an import."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first: an app may import the apps before it, never those after it.
STACK = ("campaignid", "campaigns", "cards", "verification", "distribution", "dhis2")
APP_OF_PACKAGE = {"campaigns.dhis2": "dhis2"}
WIRING = {"campaignid.urls", "campaignid.routing", "campaignid.asgi"}


def _modules():
    found = {}
    for package in ("campaignid", "campaigns", "cards", "verification", "distribution"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _known(name):
    """The project module an imported name lives in (a name may be a module's attribute)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module):
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return _imports_in(path.read_text(), package) - {module}


def _imports_in(source, package):
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(target for target in map(_known, names) if target)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _app(module):
    for package, app in APP_OF_PACKAGE.items():
        if module == package or module.startswith(package + "."):
            return app
    return module.partition(".")[0]


def _cycles():
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return groups


def test_the_reader_counts_imports_inside_functions_and_relative_ones():
    source = (
        "def later():\n"
        "    from cards.models import Card\n"
        "from . import models\n"
        "queue = 'distribution.tasks.dispatch_run'\n"
    )
    assert _imports_in(source, "campaigns") == {"cards.models", "campaigns.models", "campaigns"}


def test_no_module_imports_itself_back_through_others():
    assert _cycles() == []


@pytest.mark.parametrize("app", STACK)
def test_an_app_imports_only_the_apps_below_it(app):
    below = set(STACK[: STACK.index(app) + 1])
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if _app(module) == app and module not in WIRING
        for target in targets
        if _app(target) not in below
    )
    assert upward == []


def test_the_project_package_imports_apps_only_in_its_wiring_files():
    leaks = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if _app(module) == "campaignid" and module not in WIRING
        for target in targets
        if _app(target) != "campaignid"
    )
    assert leaks == []
