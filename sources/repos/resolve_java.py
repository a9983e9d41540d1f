"""Java: `package` + `import` to files, wildcard and static imports, same-package types.

Each file contributes its package plus its top-level type names (and its file stem) as
fully qualified names. `import a.b.C.Inner` and static imports strip trailing segments
until a type is found; `import a.b.*` is every file of package `a.b`. Classes of the same
package need no import, so a type name of the own package used in a file is an edge too.
"""

from __future__ import annotations

import posixpath

from longweave.sources.repos.resolve_base import FileImports, RepoIndex, Resolver
from longweave.sources.repos.treesitter import node_text, parse, walk

_TYPE_DECLS = ("class_declaration", "interface_declaration", "enum_declaration",
               "record_declaration", "annotation_type_declaration")


class JavaResolver(Resolver):
    language = "java"
    suffixes = (".java",)

    def __init__(self, index: RepoIndex, repo: str = "") -> None:
        super().__init__(index)
        self.types: dict[str, str] = {}
        self.packages: dict[str, list[str]] = {}
        self.file_package: dict[str, str] = {}
        self.package_types: dict[str, dict[str, str]] = {}
        self._trees = {}
        for path in sorted(p for p in index.files if p.endswith(".java")):
            root = parse("java", index.files[path])
            self._trees[path] = root
            package = ""
            names = [posixpath.splitext(posixpath.basename(path))[0]]
            for child in root.named_children:
                if child.type == "package_declaration" and child.named_children:
                    package = node_text(child.named_children[0])
                elif child.type in _TYPE_DECLS:
                    names.append(node_text(child.child_by_field_name("name")))
            self.file_package[path] = package
            self.packages.setdefault(package, []).append(path)
            for name in names:
                self.types.setdefault(f"{package}.{name}" if package else name, path)
                self.package_types.setdefault(package, {}).setdefault(name, path)

    def imports(self, path: str) -> FileImports:
        found = FileImports()
        root = self._trees[path]
        for node in root.named_children:
            if node.type != "import_declaration" or not node.named_children:
                continue
            name = node_text(node.named_children[0])
            wildcard = any(c.type == "asterisk" for c in node.named_children)
            if wildcard and name in self.packages:
                for target in self.packages[name]:
                    found.add(target, name + ".*", path)
            else:
                found.add(self._type_file(name), name, path)
        local = self.package_types.get(self.file_package[path], {})
        for node in walk(root, frozenset({"type_identifier", "identifier"})):
            target = local.get(node_text(node))
            if target:
                found.add(target, node_text(node), path)
        return found

    def _type_file(self, dotted: str) -> str | None:
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            hit = self.types.get(".".join(parts[:end]))
            if hit:
                return hit
        return None
