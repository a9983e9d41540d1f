"""JavaScript / TypeScript imports with tree-sitter: ES `import`, `export ... from`,
`require`, dynamic `import()`, TS `import x = require()`.

Resolution follows the bundler/TypeScript rules that matter inside one repository:
relative paths with extension probing and `index` files (and `./x.js` naming `x.ts`),
the nearest `tsconfig.json`/`jsconfig.json` `paths` and `baseUrl` (following `extends`),
and workspace packages named by a `package.json` inside the repository.
"""

from __future__ import annotations

import json
import posixpath
import re

from longweave.sources.repos.resolve_base import FileImports, RepoIndex, Resolver, join_norm
from longweave.sources.repos.treesitter import node_text, parse, string_value, walk

# TypeScript prefers its own sources; Node (for a JS importer) prefers JS.
TS_FIRST = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
JS_FIRST = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".d.ts")
TS_SUFFIXES = (".ts", ".tsx", ".mts", ".cts")
IMPORT_CONDITIONS = ("import", "require", "node", "default")
MANIFEST_TS = ("types", "typings", "main", "module")  # package.json entry fields, by importer
MANIFEST_JS = ("main", "module")
JS_TO_TS = {".js": (".ts", ".tsx", ".d.ts"), ".jsx": (".tsx",), ".mjs": (".mts", ".d.mts"),
            ".cjs": (".cts", ".d.cts")}
CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")
_NODES = frozenset({"import_statement", "export_statement", "call_expression",
                    "import_require_clause"})


class JsResolver(Resolver):
    language = "javascript"
    suffixes = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts")

    def __init__(self, index: RepoIndex, repo: str = "") -> None:
        super().__init__(index)
        self._configs: dict[str, tuple[str, dict[str, list[str]]] | None] = {}
        self.packages: dict[str, str] = {}
        for path in sorted(index.aux):
            if posixpath.basename(path) == "package.json":
                name = _load_json(index.aux[path]).get("name")
                if isinstance(name, str) and name:
                    self.packages.setdefault(name, posixpath.dirname(path))

    def imports(self, path: str) -> FileImports:
        found = FileImports()
        folder = posixpath.dirname(path)
        extensions = TS_FIRST if path.endswith(TS_SUFFIXES) else JS_FIRST
        for spec, amd in _specifiers(path, self.index.files[path]):
            target = self._resolve(folder, spec.split("?", 1)[0], extensions)
            if target is None and amd and not spec.startswith("."):
                target = self._resolve(folder, "./" + spec, extensions)  # AMD module id
            found.add(target, spec, path)
        return found

    def _resolve(self, folder: str, spec: str, extensions: tuple[str, ...]) -> str | None:
        if spec.startswith(("./", "../")) or spec in (".", ".."):
            base = join_norm(folder, spec)
            return None if base is None else self._probe(base, extensions)
        if spec.startswith("#"):
            return self._subpath_import(folder, spec, extensions)
        if not spec or spec.startswith("/") or ":" in spec.split("/", 1)[0]:
            return None  # absolute file paths, node:fs, https://...
        config = self._config_for(folder)
        if config:
            base_dir, paths = config
            for target in _match_paths(spec, paths):
                hit = self._probe_under(base_dir, target, extensions)
                if hit:
                    return hit
            hit = self._probe_under(base_dir, spec, extensions)
            if hit:
                return hit
        return self._workspace_package(spec, extensions)

    def _probe_under(self, base_dir: str, target: str, extensions: tuple[str, ...]
                     ) -> str | None:
        base = join_norm(base_dir, target)
        return None if base is None else self._probe(base, extensions)

    def _probe(self, base: str, extensions: tuple[str, ...]) -> str | None:
        """File `base`, `base` + an extension, `./x.js` meaning `x.ts`, or a folder index."""
        files = self.index.files
        if base in files:
            return base
        for ext in extensions:
            if base + ext in files:
                return base + ext
        stem, ext = posixpath.splitext(base)
        for alternative in JS_TO_TS.get(ext, ()):
            if stem + alternative in files:
                return stem + alternative
        prefix = f"{base}/" if base else ""
        manifest = _load_json(self.index.aux.get(f"{prefix}package.json", ""))
        fields = MANIFEST_TS if extensions[0] == ".ts" else MANIFEST_JS
        for field_name in fields:
            entry = manifest.get(field_name)
            if isinstance(entry, str):
                target = join_norm(base, entry)
                if target and target != base:
                    hit = self._probe(target, extensions)
                    if hit:
                        return hit
        for ext in extensions:
            if f"{prefix}index{ext}" in files:
                return f"{prefix}index{ext}"
        return None

    def _subpath_import(self, folder: str, spec: str, extensions: tuple[str, ...]
                        ) -> str | None:
        """Node subpath imports (`#x/y`) from the `imports` map of the nearest package.json."""
        while True:
            manifest_path = f"{folder}/package.json" if folder else "package.json"
            if manifest_path in self.index.aux:
                imports = _load_json(self.index.aux[manifest_path]).get("imports")
                if not isinstance(imports, dict):
                    return None
                mapping = {k: t for k, v in imports.items() if (t := _condition_target(v))}
                for target in _match_paths(spec, {k: [v] for k, v in mapping.items()}):
                    hit = self._probe_under(folder, target, extensions)
                    if hit:
                        return hit
                return None
            if not folder:
                return None
            folder = posixpath.dirname(folder)

    def _workspace_package(self, spec: str, extensions: tuple[str, ...]) -> str | None:
        parts = spec.split("/")
        name_len = 2 if spec.startswith("@") else 1
        folder = self.packages.get("/".join(parts[:name_len]))
        if folder is None:
            return None
        rest = "/".join(parts[name_len:])
        return self._probe(posixpath.join(folder, rest) if rest else folder, extensions)

    def _config_for(self, folder: str) -> tuple[str, dict[str, list[str]]] | None:
        """Nearest tsconfig/jsconfig above `folder`: (base dir, paths), memoized per folder."""
        if folder in self._configs:
            return self._configs[folder]
        result = None
        for name in CONFIG_NAMES:
            path = f"{folder}/{name}" if folder else name
            if path in self.index.aux:
                result = self._load_config(path, depth=0)
                break
        else:
            if folder:
                result = self._config_for(posixpath.dirname(folder))
        self._configs[folder] = result
        return result

    def _load_config(self, path: str, depth: int) -> tuple[str, dict[str, list[str]]] | None:
        data = _load_json(self.index.aux.get(path, ""))
        folder = posixpath.dirname(path)
        base_dir, paths = folder, {}
        parent = data.get("extends")
        if isinstance(parent, str) and parent.startswith(".") and depth < 5:
            parent_path = join_norm(folder, parent if parent.endswith(".json")
                                    else parent + ".json")
            inherited = self._load_config(parent_path, depth + 1) if parent_path else None
            if inherited:
                base_dir, paths = inherited
        options = data.get("compilerOptions") or {}
        if isinstance(options.get("baseUrl"), str):
            base_dir = join_norm(folder, options["baseUrl"]) or ""
        if isinstance(options.get("paths"), dict):
            paths = {k: [v for v in vs if isinstance(v, str)]
                     for k, vs in options["paths"].items() if isinstance(vs, list)}
            if not isinstance(options.get("baseUrl"), str):
                base_dir = folder  # TS 4.1+: paths without baseUrl are relative to the config
        return base_dir, paths


def _condition_target(value: object) -> str | None:
    """A package.json `imports`/`exports` target: a string or nested condition objects."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for condition in IMPORT_CONDITIONS:
            if condition in value and (target := _condition_target(value[condition])):
                return target
    return None


def _match_paths(spec: str, paths: dict[str, list[str]]) -> list[str]:
    """Targets of the `paths` pattern with the longest matching prefix (TypeScript's rule)."""
    best, best_len, star = None, -1, ""
    for pattern in paths:
        if "*" in pattern:
            head, _, tail = pattern.partition("*")
            if spec.startswith(head) and spec.endswith(tail) and len(head) > best_len:
                if len(spec) >= len(head) + len(tail):
                    best, best_len = pattern, len(head)
                    star = spec[len(head): len(spec) - len(tail)]
        elif pattern == spec:
            return list(paths[pattern])
    if best is None:
        return []
    return [target.replace("*", star) for target in paths[best]]


def _specifiers(path: str, text: str) -> list[tuple[str, bool]]:
    """(specifier, is_amd_dependency) of every import-like construct, in order."""
    language = "tsx" if path.endswith(".tsx") else (
        "typescript" if path.endswith((".ts", ".mts", ".cts")) else "javascript")
    specs: list[tuple[str, bool]] = []
    for node in walk(parse(language, text), _NODES):
        if node.type == "call_expression":
            function = node.child_by_field_name("function")
            name = node_text(function) if function is not None else ""
            if function is None or (function.type != "import"
                                    and name not in ("require", "define")):
                continue
            arguments = node.child_by_field_name("arguments")
            listed = arguments.named_children if arguments else []
            # AMD: define(["./a", "./b"], factory) / require(["./a"], callback)
            array = next((a for a in listed if a.type == "array"), None)
            if array is not None and name in ("require", "define"):
                specs.extend((string_value(e), True) for e in array.named_children
                             if e.type == "string")
            first = listed[0] if listed else None
            if name == "define":
                continue
            if first is not None and first.type == "string":
                specs.append((string_value(first), False))
            elif first is not None and first.type == "template_string" and not any(
                    c.type == "template_substitution" for c in first.named_children):
                specs.append((string_value(first), False))
        else:
            source = node.child_by_field_name("source")
            if source is not None and source.type == "string":
                specs.append((string_value(source), False))
    return specs


def _load_json(text: str) -> dict:
    """JSON with comments and trailing commas, as tsconfig files are written."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        cleaned = re.sub(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/',
                         lambda m: m.group(1) or "", text, flags=re.S)
        cleaned = re.sub(r",(\s*[}\]])", r"\1", cleaned)
        try:
            data = json.loads(cleaned)
        except ValueError:
            return {}
    return data if isinstance(data, dict) else {}
