"""Rust: the module tree from `mod x;` declarations, then `use` paths against it.

Crate roots come from each `Cargo.toml` (`src/lib.rs`, `src/main.rs`, `src/bin/*`, tests,
examples, benches, `build.rs`), plus any unreached `lib.rs`/`main.rs`. `mod x;` in a mod-rs
file (`lib.rs`, `main.rs`, `mod.rs`, or a file loaded by `#[path]`) looks in its folder, in
other files in the folder named after the file; `#[path = "..."]` is relative to the
declaring file's folder. `use crate::`, `self::`, `super::`, paths through a local child
module and paths through the name of a crate of the repository resolve to the file of the
deepest module they name.
"""

from __future__ import annotations

import posixpath
import re
from collections import deque

from tree_sitter import Node

from longweave.sources.repos.resolve_base import FileImports, RepoIndex, Resolver, join_norm
from longweave.sources.repos.treesitter import node_text, parse, walk

_PATH_ATTR = re.compile(r'^#\[\s*path\s*=\s*"([^"]+)"\s*\]$')
_CRATE_NAME = re.compile(r'^\s*\[package\][^\[]*?^\s*name\s*=\s*"([^"]+)"', re.M | re.S)
_QUALIFIED = re.compile(r"\b(?:crate|super|self)(?:::[A-Za-z_]\w*)+")
MOD_RS_NAMES = ("lib.rs", "main.rs", "mod.rs")
ModuleKey = tuple[str, tuple[str, ...]]  # (crate root file, module path)


class RustResolver(Resolver):
    language = "rust"
    suffixes = (".rs",)

    def __init__(self, index: RepoIndex, repo: str = "") -> None:
        super().__init__(index)
        self.module_of: dict[str, ModuleKey] = {}
        self.file_of: dict[ModuleKey, str] = {}
        self.declared: dict[str, set[tuple[str, str]]] = {}  # file -> {(target, spec)}
        self.crates: dict[str, str] = {}
        self._trees: dict[str, Node] = {}
        roots = self._crate_roots()
        for root in roots:
            self._build_tree(root)
        for path in sorted(p for p in index.files if p.endswith(".rs")):
            if posixpath.basename(path) in ("lib.rs", "main.rs") and path not in self.module_of:
                self._build_tree(path)

    def _crate_roots(self) -> list[str]:
        roots: list[str] = []
        files = sorted(self.index.files)
        for manifest in sorted(p for p in self.index.aux if posixpath.basename(p) == "Cargo.toml"):
            folder = posixpath.dirname(manifest)
            prefix = f"{folder}/" if folder else ""
            lib = f"{prefix}src/lib.rs"
            match = _CRATE_NAME.search(self.index.aux[manifest])
            if match and lib in self.index.files:
                self.crates.setdefault(match.group(1).replace("-", "_"), lib)
            roots += [p for p in (lib, f"{prefix}src/main.rs", f"{prefix}build.rs")
                      if p in self.index.files]
            for sub in ("src/bin/", "tests/", "examples/", "benches/"):
                start = prefix + sub
                roots += [p for p in files if p.startswith(start) and p.endswith(".rs")
                          and ("/" not in p[len(start):] or p.endswith("/main.rs"))]
        return list(dict.fromkeys(roots))

    def _tree(self, path: str) -> Node:
        if path not in self._trees:
            self._trees[path] = parse("rust", self.index.files[path])
        return self._trees[path]

    def _build_tree(self, crate_root: str) -> None:
        if crate_root in self.module_of:
            return
        self.module_of[crate_root] = (crate_root, ())
        self.file_of[(crate_root, ())] = crate_root
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
                    self.file_of.setdefault(key, path)
                    inner = posixpath.join(child_dir, name)
                    self._scan_items(body, path, crate_root, key[1], inner, inner, queue)
                else:
                    target = self._mod_file(child_dir, attr_dir, name, path_attr)
                    if target is not None:
                        self.declared.setdefault(path, set()).add((target, f"mod {name}"))
                        if target not in self.module_of:
                            self.module_of[target] = key
                            self.file_of.setdefault(key, target)
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
        root = self._tree(path)
        paths = [seg for node in walk(root, frozenset({"use_declaration"}))
                 for seg in expand_use(node_text(node.child_by_field_name("argument")))]
        paths += [m.group(0).split("::") for m in _QUALIFIED.finditer(self.index.files[path])]
        for segments in paths:
            if segments:
                found.add(self._resolve_use(path, segments), "::".join(segments), path)
        return found

    def _resolve_use(self, path: str, segments: list[str]) -> str | None:
        crate_root, modpath = self.module_of.get(path, (path, ()))
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
        elif head in self.crates:
            crate_root, base = self.crates[head], ()
        elif (crate_root, (*modpath, head)) in self.file_of:
            base, rest = modpath, segments
        else:
            return None
        for end in range(len(rest), -1, -1):
            hit = self.file_of.get((crate_root, (*base, *rest[:end])))
            if hit:
                return hit
        return None


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

