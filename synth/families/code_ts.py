"""The TypeScript / JavaScript side of the code families: named imports and exported
declarations from tree-sitter, so "where is this imported name defined" works beyond
Python. The checker reads the same two facts with regular expressions instead, so a
tree-sitter misreading and a regex misreading must agree before a sample exists.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from functools import cache

from longweave.synth.families.base import Unit, line_span

GRAMMARS = {".ts": ("tree_sitter_typescript", "language_typescript"),
            ".tsx": ("tree_sitter_typescript", "language_tsx"),
            ".js": ("tree_sitter_javascript", "language"),
            ".jsx": ("tree_sitter_javascript", "language"),
            ".mjs": ("tree_sitter_javascript", "language")}
DECLARATIONS = {"function_declaration", "class_declaration", "abstract_class_declaration",
                "interface_declaration", "type_alias_declaration", "enum_declaration",
                "generator_function_declaration"}
_EXPORT = r"export\s+(?:declare\s+)?(?:async\s+)?(?:abstract\s+)?" \
          r"(?:function\*?|const|let|var|class|interface|type|enum)\s+{name}\b"
_NAMED_IMPORT = re.compile(r"\bimport\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*"
                           r"[\"']([^\"']+)[\"']", re.S)


def suffix(path: str) -> str:
    dot = path.rfind(".")
    return path[dot:] if dot > path.rfind("/") else ""


def is_script(path: str) -> bool:
    return suffix(path) in GRAMMARS


@cache
def _parser(module_name: str, function: str):  # noqa: ANN202 - tree_sitter.Parser
    from tree_sitter import Language, Parser

    return Parser(Language(getattr(importlib.import_module(module_name), function)()))


@dataclass
class ScriptFile:
    """Named imports and exported top-level declarations of one script file."""

    unit: Unit
    imports: dict[str, str] = field(default_factory=dict)  # name -> module specifier
    exports: dict[str, int] = field(default_factory=dict)  # name -> offset of the export


def parse_script(text: str, unit: Unit) -> ScriptFile | None:
    try:
        parser = _parser(*GRAMMARS[suffix(unit.name)])
    except (ImportError, AttributeError, KeyError):
        return None
    body = text[unit.body_start:unit.end]
    data = body.encode("utf-8")
    # tree-sitter offsets are bytes; map them back to characters of the body
    char_at = _byte_to_char(body) if len(data) != len(body) else None
    root = parser.parse(data).root_node
    out = ScriptFile(unit)
    for node in root.children:
        if node.type == "import_statement":
            source = node.child_by_field_name("source")
            spec = source.text.decode("utf-8", "replace").strip("\"'") if source else ""
            for item in _descendants(node, "import_specifier"):
                name, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
                if name is not None and alias is None and spec:
                    out.imports.setdefault(name.text.decode("utf-8", "replace"), spec)
        elif node.type == "export_statement":
            declaration = node.child_by_field_name("declaration")
            for name in _declared_names(declaration):
                start = node.start_byte if char_at is None else char_at[node.start_byte]
                out.exports.setdefault(name, unit.body_start + start)
    return out


def _descendants(node, kind: str) -> list:  # noqa: ANN001 - tree_sitter.Node
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        if current.type == kind:
            found.append(current)
        stack.extend(reversed(current.children))
    return found


def _declared_names(declaration) -> list[str]:  # noqa: ANN001 - tree_sitter.Node | None
    if declaration is None:
        return []
    if declaration.type in DECLARATIONS:
        name = declaration.child_by_field_name("name")
        return [name.text.decode("utf-8", "replace")] if name is not None else []
    if declaration.type in ("lexical_declaration", "variable_declaration"):
        names = []
        for item in _descendants(declaration, "variable_declarator"):
            name = item.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                names.append(name.text.decode("utf-8", "replace"))
        return names
    return []


def _byte_to_char(text: str) -> list[int]:
    table = []
    for i, ch in enumerate(text):
        table.extend([i] * len(ch.encode("utf-8")))
    table.append(len(text))
    return table


def specifier_names(spec: str, target: str, stem: str) -> bool:
    """Whether an import specifier can name the file `target` (its last segment is the
    file's stem, or its folder for an index file)."""
    last = spec.rstrip("/").rsplit("/", 1)[-1]
    last = re.sub(r"\.(?:[cm]?[jt]sx?)$", "", last)
    return last == stem


def regex_imports(body: str) -> dict[str, str]:
    """Named imports found by a regular expression (the checker's independent reading)."""
    out: dict[str, str] = {}
    for match in _NAMED_IMPORT.finditer(body):
        for item in match.group(1).split(","):
            item = re.sub(r"^\s*type\s+", "", item).strip()
            if item and " as " not in item and re.fullmatch(r"[\w$]+", item):
                out.setdefault(item, match.group(2))
    return out


def regex_exports(line: str, name: str) -> bool:
    return re.search(_EXPORT.format(name=re.escape(name)), line) is not None


def export_line(text: str, unit: Unit, offset: int) -> tuple[int, int]:
    return line_span(text, unit.body_start, unit.end, offset)
