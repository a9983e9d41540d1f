"""Rust: the module tree from `mod x;` declarations, then paths against it.

Crates come from each `Cargo.toml`: the library (`[lib] path`, else `src/lib.rs`), binaries,
tests, examples and benches (their `[[bin]]`/`[[test]]`/... `path`, and the conventional
folders), `build.rs`; plus any unreached `lib.rs`/`main.rs`. `mod x;` in a mod-rs file
(`lib.rs`, `main.rs`, `mod.rs`, or a file loaded by `#[path]`) looks in its folder, in
other files in the folder named after the file; `#[path = "..."]` is relative to the
declaring file's folder. A file two crates include (one `#[path]` file shared by two
binaries) is a module of each, and its paths resolve in each.

Paths are read from the syntax tree, never from text: `use` trees, qualified paths in code,
and `crate::`/`self::`/`super::` paths in macro token trees (rustc resolves those in a
`macro_rules!` body against this crate when it expands them here, and reports them at the
body); `$crate::` (resolved wherever the macro is used, often another crate), comments
(doc comments too) and strings give no edge. `crate::`, `self::`, `super::` (relative to the enclosing inline `mod x { }`, not
just the file), paths through a child module, and paths through the name of a crate of the
repository (its own library, or a `path` dependency under its dependency name, as a Cargo
workspace member imports another) resolve to the file of the deepest module they name.
"""

from __future__ import annotations

import posixpath
import re
from collections import deque
from dataclasses import dataclass, field

from tree_sitter import Node

from longweave.sources.repos.resolve_base import FileImports, RepoIndex, Resolver, join_norm
from longweave.sources.repos.treesitter import node_text, parse

_PATH_ATTR = re.compile(r'^#\[\s*path\s*=\s*"([^"]+)"\s*\]$')
_MACRO_PATH = re.compile(r"(?<![$\w])(?:crate|super|self)(?:\s*::\s*[A-Za-z_]\w*)+")
_STRING = re.compile(r'r#*"(?:.|\n)*?"#*|b?"(?:\\.|[^"\\])*"')
MOD_RS_NAMES = ("lib.rs", "main.rs", "mod.rs")
DEPENDENCY_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")
TARGET_TABLES = ("bin", "test", "example", "bench")
# Subtrees that name no module: comments (doc comments too), strings, attributes.
_NO_PATHS = frozenset({"line_comment", "block_comment", "string_literal",
                       "raw_string_literal", "attribute_item", "inner_attribute_item"})
_PATH_NODES = frozenset({"scoped_identifier", "scoped_type_identifier"})
ModuleKey = tuple[str, tuple[str, ...]]  # (crate root file, module path)


@dataclass
class Manifest:
    """What resolution needs from one `Cargo.toml`."""

    folder: str
    name: str | None = None
    lib_name: str | None = None
    lib_path: str | None = None
    targets: list[str] = field(default_factory=list)  # explicit target `path`s
    build: str | None = None
    path_deps: dict[str, str] = field(default_factory=dict)  # extern name -> folder
    workspace_deps: dict[str, str] = field(default_factory=dict)  # name -> folder
    inherited: list[str] = field(default_factory=list)  # `x = { workspace = true }`


def parse_cargo_toml(folder: str, text: str) -> Manifest:
    """The subset of TOML Cargo manifests use for these keys: `[table]`, `[[table]]`,
    `key = "string"`, `key = { inline = "table" }`, `[dependencies.name]` tables; multi-line
    strings and arrays are skipped."""
    manifest = Manifest(folder)
    section, entry, pending = "", {}, None
    dep_tables: dict[str, dict[str, str]] = {}
    array_entries: list[tuple[str, dict[str, str]]] = []

    def close() -> None:
        if section.startswith("[[") and entry is not None:
            array_entries.append((section.strip("[]"), entry))
    for raw in text.split("\n"):
        line = raw.split(" #", 1)[0].strip()
        if pending:
            if pending in raw:
                pending = None
            continue
        if re.match(r'^[\w.-]+\s*=\s*("""|\'\'\')', line):
            quote = line.split("=", 1)[1].strip()[:3]
            if line.split("=", 1)[1].strip().count(quote) < 2:
                pending = quote
            continue
        if line.startswith("["):
            close()
            closer = "]]" if line.startswith("[[") else "]"
            section, entry = line.split(closer)[0] + closer, {}
            continue
        match = re.match(r'^([\w.-]+|"[^"]+")\s*=\s*(.+)$', line)
        if not match:
            continue
        key, value = match.group(1).strip('"'), match.group(2).strip()
        table = section.strip("[]")
        if table.startswith("target.") and ".dependencies" in table:
            table = table[table.rindex(".", 0, table.rindex("dependencies")) + 1:]
        parts = table.split(".")
        fields = _inline_table(value)
        string = _string(value)
        if section.startswith("[["):
            if string is not None:
                entry[key] = string
        elif table == "package" and key in ("name", "build") and string is not None:
            setattr(manifest, key, string)
        elif table == "lib" and key in ("name", "path") and string is not None:
            setattr(manifest, f"lib_{key}", string)
        elif table in DEPENDENCY_TABLES or table == "workspace.dependencies":
            name, _, sub = key.partition(".")
            dep = dep_tables.setdefault(f"{table}:{name}", {})
            if not sub:
                dep.update(fields)
            elif string is not None or value == "true":
                dep[sub] = string if string is not None else "true"
        elif len(parts) == 2 and parts[0] in DEPENDENCY_TABLES + ("workspace",):
            dep = dep_tables.setdefault(f"{parts[0]}:{parts[1]}", {})
            if string is not None:
                dep[key] = string
            elif value == "true":
                dep[key] = "true"
    close()
    for name, entry_fields in array_entries:
        if name in TARGET_TABLES and "path" in entry_fields:
            manifest.targets.append(entry_fields["path"])
    for key, dep in dep_tables.items():
        table, _, name = key.partition(":")
        extern = name.replace("-", "_")
        if table in ("workspace.dependencies", "workspace") and "path" in dep:
            manifest.workspace_deps[name] = join_norm(folder, dep["path"]) or ""
        elif "path" in dep:
            manifest.path_deps[extern] = join_norm(folder, dep["path"]) or ""
        elif dep.get("workspace") == "true":
            manifest.inherited.append(name)
    return manifest


def _string(value: str) -> str | None:
    match = re.match(r'^"((?:\\.|[^"\\])*)"|^\'([^\']*)\'', value)
    return (match.group(1) if match.group(1) is not None else match.group(2)) if match else None


def _inline_table(value: str) -> dict[str, str]:
    if not value.startswith("{"):
        return {}
    fields = dict(re.findall(r'([\w-]+)\s*=\s*"([^"]*)"', value))
    fields.update({k: "true" for k in re.findall(r"([\w-]+)\s*=\s*true", value)})
    return fields


class RustResolver(Resolver):
    language = "rust"
    suffixes = (".rs",)

    def __init__(self, index: RepoIndex, repo: str = "") -> None:
        super().__init__(index)
        self.keys: dict[str, list[ModuleKey]] = {}  # file -> the modules it is (per crate)
        self.file_of: dict[ModuleKey, list[str]] = {}  # cfg alternatives: several files
        self.declared: dict[str, set[tuple[str, str]]] = {}  # file -> {(target, spec)}
        self.missing: dict[str, dict[str, str]] = {}  # file -> {`mod x`: why no file}
        self.crates: dict[str, str] = {}  # extern crate name -> library root, repo-wide
        self.externs: dict[str, dict[str, str]] = {}  # crate root -> its extern names
        self._trees: dict[str, Node] = {}
        self._globs: dict[str, list[list[str]]] = {}
        for root in self._crate_roots():
            self._build_tree(root)
        for path in sorted(p for p in index.files if p.endswith(".rs")):
            if posixpath.basename(path) in ("lib.rs", "main.rs") and path not in self.keys:
                self._build_tree(path)

    def _crate_roots(self) -> list[str]:
        roots: list[str] = []
        files = sorted(self.index.files)
        manifests = [parse_cargo_toml(posixpath.dirname(p), self.index.aux[p])
                     for p in sorted(self.index.aux) if posixpath.basename(p) == "Cargo.toml"]
        libs: dict[str, str] = {}  # package folder -> library root
        workspace: dict[str, str] = {}
        for manifest in manifests:
            prefix = f"{manifest.folder}/" if manifest.folder else ""
            lib = join_norm(manifest.folder, manifest.lib_path or "src/lib.rs")
            if lib in self.index.files:
                libs[manifest.folder] = lib
                name = manifest.lib_name or manifest.name
                if name:
                    self.crates.setdefault(name.replace("-", "_"), lib)
            workspace.update(manifest.workspace_deps)
        for manifest in manifests:
            prefix = f"{manifest.folder}/" if manifest.folder else ""
            own = [libs[manifest.folder]] if manifest.folder in libs else []
            targets = [join_norm(manifest.folder, t) for t in manifest.targets]
            build = join_norm(manifest.folder, manifest.build or "build.rs")
            found = [p for p in (*own, *targets, f"{prefix}src/main.rs", build)
                     if p in self.index.files]
            for sub in ("src/bin/", "tests/", "examples/", "benches/"):
                start = prefix + sub
                found += [p for p in files if p.startswith(start) and p.endswith(".rs")
                          and ("/" not in p[len(start):] or p.endswith("/main.rs"))]
            externs = {alias: libs[folder] for alias, folder in manifest.path_deps.items()
                       if folder in libs}
            for name in manifest.inherited:
                if workspace.get(name) in libs:
                    externs[name.replace("-", "_")] = libs[workspace[name]]
            name = manifest.lib_name or manifest.name
            for root in found:
                crate_externs = dict(externs)
                if own and name and root != own[0]:
                    crate_externs.setdefault(name.replace("-", "_"), own[0])
                self.externs.setdefault(root, crate_externs)
            roots += found
        return list(dict.fromkeys(roots))

    def _tree(self, path: str) -> Node:
        if path not in self._trees:
            self._trees[path] = parse("rust", self.index.files[path])
        return self._trees[path]

    def _register(self, path: str, key: ModuleKey) -> bool:
        """Record that `path` is module `key`; False when this crate already has it."""
        keys = self.keys.setdefault(path, [])
        if any(k[0] == key[0] for k in keys):
            return False
        keys.append(key)
        if path not in self.file_of.setdefault(key, []):
            self.file_of[key].append(path)
        return True

    def _build_tree(self, crate_root: str) -> None:
        if not self._register(crate_root, (crate_root, ())):
            return
        queue = deque([(crate_root, (), True)])
        while queue:
            path, modpath, mod_rs = queue.popleft()
            folder = posixpath.dirname(path)
            child_dir = folder if mod_rs else posixpath.join(folder, _stem(path))
            self._scan_items(self._tree(path), path, crate_root, modpath, child_dir, folder,
                             queue)

    def _scan_items(self, container: Node, path: str, crate_root: str, modpath: tuple,
                    child_dir: str, attr_dir: str, queue: deque) -> None:
        path_attr = None
        for item in container.named_children:
            if item.type == "attribute_item":
                match = _PATH_ATTR.match(re.sub(r"\s+", " ", node_text(item)))
                path_attr = match.group(1) if match else path_attr
                continue
            if item.type == "mod_item":
                name = node_text(item.child_by_field_name("name"))
                body = item.child_by_field_name("body")
                key = (crate_root, (*modpath, name))
                if body is not None:  # inline module: its file is this one
                    if path not in self.file_of.setdefault(key, []):
                        self.file_of[key].append(path)
                    inner = posixpath.join(child_dir, name)
                    self._scan_items(body, path, crate_root, key[1], inner, inner, queue)
                else:
                    target = self._mod_file(child_dir, attr_dir, name, path_attr)
                    if target is None:
                        self.missing.setdefault(path, {})[f"mod {name}"] = (
                            f"#[path] file {path_attr} not in checkout" if path_attr
                            else "module file not in checkout")
                    else:
                        self.declared.setdefault(path, set()).add((target, f"mod {name}"))
                        if self._register(target, key):
                            mod_rs = path_attr is not None or target.endswith("/mod.rs")
                            queue.append((target, key[1], mod_rs))
            path_attr = None

    def _mod_file(self, child_dir: str, attr_dir: str, name: str, attr: str | None
                  ) -> str | None:
        if attr is not None:
            target = join_norm(attr_dir, attr)
            return target if target in self.index.files else None
        for candidate in (f"{name}.rs", f"{name}/mod.rs"):
            target = join_norm(child_dir, candidate)
            if target in self.index.files:
                return target
        return None

    def imports(self, path: str) -> FileImports:
        found = FileImports()
        for target, spec in sorted(self.declared.get(path, ())):
            found.add(target, spec, path)
        for spec, reason in sorted(self.missing.get(path, {}).items()):
            found.miss(spec, reason)
        keys = self.keys.get(path) or [(path, ())]
        for segments, inline, from_use in _path_references(self._tree(path)):
            spec = "::".join(segments)
            # In code a path's last segment names an item (a call, a type), never a module.
            named = segments if from_use else segments[:-1]
            targets = {target for crate_root, modpath in keys
                       for target in self._resolve_use(crate_root, (*modpath, *inline), named,
                                                       item=not from_use)}
            for target in sorted(targets):
                found.add(target, spec, path)
            if from_use and not targets:
                found.add(None, spec, path)
        return found

    def _resolve_use(self, crate_root: str, modpath: tuple[str, ...], segments: list[str],
                     item: bool = False, follow: bool = True) -> list[str]:
        """The file(s) of the deepest module `segments` names (several: cfg alternatives
        such as two `#[path]` files for one `mod imp;`), or [] when it names none. When the
        path goes on to an item of that module (or `item`: the caller cut the item off) and
        the module re-exports a glob (`pub use self::imp::*`, a facade), the glob's source
        modules are where the item may live: their files too."""
        if not segments:
            return []
        head, rest = segments[0], segments[1:]
        if head == "crate":
            base: tuple[str, ...] = ()
        elif head in ("self", "super"):
            base = modpath
            while segments and segments[0] in ("self", "super"):
                if segments[0] == "super":
                    base = base[:-1]
                segments = segments[1:]
            rest = segments
        elif (crate_root, (*modpath, head)) in self.file_of:
            base, rest = modpath, segments
        elif head in self.externs.get(crate_root, {}) or head in self.crates:
            crate_root = self.externs.get(crate_root, {}).get(head) or self.crates[head]
            base = ()
        else:
            return []
        for end in range(len(rest), -1, -1):
            module = (*base, *rest[:end])
            hit = self.file_of.get((crate_root, module))
            if not hit:
                continue
            if not follow or not (item or end < len(rest)):
                return hit
            sources = [source for file in hit for glob in self._glob_exports(file)
                       for source in self._resolve_use(crate_root, module, glob, follow=False)]
            return list(dict.fromkeys([*hit, *sources]))
        return []

    def _glob_exports(self, path: str) -> list[list[str]]:
        """`pub use a::b::*;` at the top level of a file, as [a, b]."""
        if path not in self._globs:
            self._globs[path] = [
                segments for node in self._tree(path).named_children
                if node.type == "use_declaration"
                and any(c.type == "visibility_modifier" for c in node.children)
                and node_text(node.child_by_field_name("argument")).replace(" ", "")
                .endswith("::*")
                for segments in expand_use(node_text(node.child_by_field_name("argument")))]
        return self._globs[path]


def _path_references(root: Node) -> list[tuple[list[str], tuple[str, ...], bool]]:
    """(segments, enclosing inline modules, is a `use`) of every path the code names:
    `use` trees, outermost qualified paths, and `crate::`/`self::`/`super::` paths in
    macro token trees (not `$crate::`). Comments, strings and attributes are skipped."""
    out: list[tuple[list[str], tuple[str, ...], bool]] = []
    stack: list[tuple[Node, tuple[str, ...]]] = [(root, ())]
    while stack:
        node, inline = stack.pop()
        kind = node.type
        if kind in _NO_PATHS:
            continue
        if kind == "use_declaration":
            argument = node_text(node.child_by_field_name("argument"))
            out.extend((seg, inline, True) for seg in expand_use(argument) if seg)
            continue
        if kind in _PATH_NODES:
            text = re.sub(r"<[^<>]*>", "", node_text(node))
            segments = [s for s in re.sub(r"\s+", "", text).split("::") if s]
            if len(segments) > 1:
                out.append((segments, inline, False))
            continue
        if kind == "token_tree":
            text = _STRING.sub(" ", node_text(node))
            out.extend((re.sub(r"\s+", "", m.group(0)).split("::"), inline, False)
                       for m in _MACRO_PATH.finditer(text))
            continue
        if kind == "mod_item" and node.child_by_field_name("body") is not None:
            name = node_text(node.child_by_field_name("name"))
            stack.append((node.child_by_field_name("body"), (*inline, name)))
            continue
        stack.extend((child, inline) for child in reversed(node.children))
    return out


def _stem(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path))[0]


def expand_use(text: str) -> list[list[str]]:
    """`a::{b::{C, D}, e as f}` -> [[a, b, C], [a, b, D], [a, e]] (trailing `self` dropped)."""
    text = re.sub(r"\s+as\s+\w+", "", text)
    text = re.sub(r"\s+", "", text)
    if not text:
        return []
    if "{" not in text:
        segments = [s for s in text.split("::") if s and s != "*"]
        return [segments[:-1] if segments and segments[-1] == "self" else segments]
    head, _, body = text.partition("{")
    prefix = [s for s in head.split("::") if s]
    body = body[: body.rfind("}")]
    out: list[list[str]] = []
    for part in _split_top_level(body):
        for tail in expand_use(part) or [[]]:
            out.append(prefix + tail)
    return out


def _split_top_level(body: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in body:
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += (char == "{") - (char == "}")
        current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p]

