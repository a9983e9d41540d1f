"""JavaScript / TypeScript imports with tree-sitter: ES `import`, `export ... from`,
`require`, dynamic `import()`, TS `import x = require()`.

Resolution follows the bundler/TypeScript rules that matter inside one repository:
relative paths with extension probing and `index` files (and `./x.js` naming `x.ts`);
then, in TypeScript's order, the file's project `paths` and `baseUrl` (the nearest
`tsconfig.json`/`jsconfig.json`, following `extends` chains and, for a solution config,
the referenced project that includes the file, such as `tsconfig.app.json`); then the
package.json `imports` map (`#x`) where it declares a matching key; then packages of the
repository by name (workspaces and self-imports) through their `exports` map.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field, replace

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
# Bundlers import styles, images and data too: unresolved, but said to be assets.
ASSET_SUFFIXES = frozenset({".css", ".scss", ".sass", ".less", ".svg", ".png", ".jpg", ".jpeg",
                            ".gif", ".webp", ".ico", ".json", ".md", ".mdx", ".html", ".txt",
                            ".wasm", ".woff", ".woff2", ".ttf", ".yaml", ".yml"})
_NODES = frozenset({"import_statement", "export_statement", "call_expression",
                    "import_require_clause"})


@dataclass(frozen=True)
class TsConfig:
    """The settings of one tsconfig/jsconfig after its `extends` chain, as resolution needs
    them. `baseUrl` and the folder `paths` are relative to are repo paths; `include`,
    `exclude` and `files` are patterns relative to the folder of the config that set them."""

    path: str
    base_url: str | None = None
    paths: dict[str, list[str]] = field(default_factory=dict)
    paths_dir: str = ""
    include: tuple[str, tuple[str, ...]] | None = None  # (folder, patterns)
    exclude: tuple[str, tuple[str, ...]] | None = None
    files: tuple[str, tuple[str, ...]] | None = None
    references: tuple[str, ...] = ()

    def covers(self, path: str) -> bool:
        """Is `path` one of this project's files (`files`, else `include` minus `exclude`)?"""
        listed = self.files is not None and any(
            join_norm(self.files[0], f) == path for f in self.files[1])
        if self.files is not None and self.include is None:
            return listed
        include = self.include or (posixpath.dirname(self.path), ("**/*",))
        if not listed and not _glob_any(include, path):
            return False
        return listed or self.exclude is None or not _glob_any(self.exclude, path)


class JsResolver(Resolver):
    language = "javascript"
    suffixes = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts")

    def __init__(self, index: RepoIndex, repo: str = "") -> None:
        super().__init__(index)
        self._nearest: dict[str, str | None] = {}
        self._loaded: dict[str, TsConfig] = {}
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
        config = self.config_for(path)
        for spec, amd in _specifiers(path, self.index.files[path]):
            clean = spec.split("?", 1)[0]
            target, miss = self._resolve(folder, clean, extensions, config)
            if target is None and amd and not spec.startswith("."):
                target, _ = self._resolve(folder, "./" + clean, extensions, config)  # AMD id
                miss = None if target else miss
            if miss and target is None:
                suffix = posixpath.splitext(clean)[1].lower()
                if suffix in ASSET_SUFFIXES:
                    miss = f"names a {suffix} file, not code"
                found.miss(spec, miss)
            else:
                found.add(target, spec, path)
        return found

    def _resolve(self, folder: str, spec: str, extensions: tuple[str, ...],
                 config: TsConfig | None) -> tuple[str | None, str | None]:
        """(target, why an in-repository-looking specifier found no file). TypeScript's
        order: relative paths; then `paths`, then `baseUrl`; then the package.json `imports`
        of the importer's package (`#x`, only where declared and matching); then a package
        of the repository by name, through its `exports`."""
        if spec.startswith(("./", "../")) or spec in (".", ".."):
            base = join_norm(folder, spec)
            hit = None if base is None else self._probe(base, extensions)
            return hit, None if hit else "relative path matches no file"
        if not spec or spec.startswith("/") or ":" in spec.split("/", 1)[0]:
            return None, None  # absolute file paths, node:fs, https://...
        miss = None
        if config is not None:
            targets = _match_paths(spec, config.paths)
            for target in targets:
                hit = self._probe_under(config.base_url if config.base_url is not None
                                        else config.paths_dir, target, extensions)
                if hit:
                    return hit, None
            miss = "tsconfig paths alias matches no file" if targets else None
            if config.base_url is not None:
                hit = self._probe_under(config.base_url, spec, extensions)
                if hit:
                    return hit, None
        if spec.startswith("#"):
            hit, declared = self._subpath_import(folder, spec, extensions)
            if hit or declared:
                return hit, None if hit else "package.json imports entry matches no file"
        hit, named = self._workspace_package(spec, extensions)
        if named and not hit:
            miss = miss or "repository package has no such file"
        return hit, None if hit else miss

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
                        ) -> tuple[str | None, bool]:
        """Node subpath imports (`#x/y`) from the `imports` map of the nearest package.json:
        (target, whether that map declares a key matching `spec`)."""
        while True:
            manifest_path = f"{folder}/package.json" if folder else "package.json"
            if manifest_path in self.index.aux:
                imports = _load_json(self.index.aux[manifest_path]).get("imports")
                if not isinstance(imports, dict):
                    return None, False
                mapping = {k: t for k, v in imports.items()
                           if (t := _condition_target(v, extensions))}
                targets = _match_paths(spec, {k: [v] for k, v in mapping.items()})
                for target in targets:
                    hit = self._probe_output(folder, target, extensions)
                    if hit:
                        return hit, True
                return None, bool(targets)
            if not folder:
                return None, False
            folder = posixpath.dirname(folder)

    def _workspace_package(self, spec: str, extensions: tuple[str, ...]
                           ) -> tuple[str | None, bool]:
        """A package of the repository imported by name (a workspace member, or a package
        importing itself): through its `exports` map when it has one, else by path.
        Returns (target, whether the name is a package of the repository)."""
        parts = spec.split("/")
        name_len = 2 if spec.startswith("@") else 1
        folder = self.packages.get("/".join(parts[:name_len]))
        if folder is None:
            return None, False
        rest = "/".join(parts[name_len:])
        exports = _load_json(self.index.aux.get(
            f"{folder}/package.json" if folder else "package.json", "")).get("exports")
        if exports is not None:
            subpath = f"./{rest}" if rest else "."
            if isinstance(exports, (str, list)) or (isinstance(exports, dict) and not any(
                    key.startswith(".") for key in exports)):
                exports = {".": exports}  # sugar: the package root only
            if isinstance(exports, dict):
                mapping = {k: t for k, v in exports.items()
                           if (t := _condition_target(v, extensions))}
                for target in _match_paths(subpath, {k: [v] for k, v in mapping.items()}):
                    hit = self._probe_output(folder, target, extensions)
                    if hit:
                        return hit, True
                return None, True
        return self._probe(posixpath.join(folder, rest) if rest else folder, extensions), True

    def _probe_output(self, package_dir: str, target: str, extensions: tuple[str, ...]
                      ) -> str | None:
        """An `exports`/`imports` target, or the source it is built from: TypeScript maps a
        path under the package's `outDir` back to `rootDir` (`./dist/x.js` -> `src/x.ts`)."""
        hit = self._probe_under(package_dir, target, extensions)
        if hit:
            return hit
        config_path = next((p for name in CONFIG_NAMES if (p := posixpath.join(
            package_dir, name)) in self.index.aux), None)
        options = (_load_json(self.index.aux[config_path]).get("compilerOptions") or {}
                   if config_path else {})
        out_dir, root_dir = options.get("outDir"), options.get("rootDir", "src")
        full = join_norm(package_dir, target)
        out = join_norm(package_dir, out_dir) if isinstance(out_dir, str) else None
        if full and out is not None and isinstance(root_dir, str) and (
                full.startswith(out + "/")):
            source = join_norm(package_dir, root_dir)
            if source is not None:
                stem = posixpath.splitext(posixpath.join(source, full[len(out) + 1:]))[0]
                return self._probe(stem.removesuffix(".d"), extensions)
        return None

    def config_for(self, path: str) -> TsConfig | None:
        """The project `path` belongs to: the nearest tsconfig/jsconfig above it, or, when
        that is a solution config (`references`, not covering the file itself), the first
        referenced project (`tsconfig.app.json`) whose files include it."""
        nearest = self._nearest_config(posixpath.dirname(path))
        if nearest is None:
            return None
        config = self._load(nearest)
        if config.references and not config.covers(path):
            for reference in config.references:
                referenced = self._load(reference)
                if referenced.covers(path):
                    return referenced
        return config

    def _nearest_config(self, folder: str) -> str | None:
        if folder in self._nearest:
            return self._nearest[folder]
        result = None
        for name in CONFIG_NAMES:
            path = f"{folder}/{name}" if folder else name
            if path in self.index.aux:
                result = path
                break
        else:
            if folder:
                result = self._nearest_config(posixpath.dirname(folder))
        self._nearest[folder] = result
        return result

    def _load(self, path: str, depth: int = 0) -> TsConfig:
        """One config with its `extends` chain applied (a string or a list, later entries
        winning; bases outside the checkout, such as `@tsconfig/node18`, are skipped)."""
        if path in self._loaded:
            return self._loaded[path]
        data = _load_json(self.index.aux.get(path, ""))
        folder = posixpath.dirname(path)
        merged = TsConfig(path)
        parents = data.get("extends")
        for parent in [parents] if isinstance(parents, str) else (parents or []):
            parent_path = (_config_file(folder, parent, self.index.aux)
                           if isinstance(parent, str) else None)
            if parent_path is not None and depth < 8 and parent_path != path:
                base = self._load(parent_path, depth + 1)
                merged = replace(base, path=path, references=())
        options = data.get("compilerOptions") or {}
        changes: dict[str, object] = {}
        if isinstance(options.get("baseUrl"), str):
            changes["base_url"] = join_norm(folder, options["baseUrl"]) or ""
        if isinstance(options.get("paths"), dict):
            changes["paths"] = {k: [v for v in vs if isinstance(v, str)]
                                for k, vs in options["paths"].items() if isinstance(vs, list)}
            changes["paths_dir"] = folder  # TS 4.1+: without baseUrl, relative to the config
        for key in ("include", "exclude", "files"):
            if isinstance(data.get(key), list):
                changes[key] = (folder, tuple(p for p in data[key] if isinstance(p, str)))
        references = [ref.get("path") for ref in data.get("references") or []
                      if isinstance(ref, dict)]
        changes["references"] = tuple(
            found for ref in references if isinstance(ref, str)
            and (found := _config_file(folder, ref, self.index.aux)) is not None)
        config = replace(merged, **changes)
        self._loaded[path] = config
        return config


def _config_file(folder: str, reference: str, aux: dict[str, str]) -> str | None:
    """An `extends` / `references` entry as a config of the checkout: the file as written,
    with `.json` added, or a folder's `tsconfig.json` (TypeScript's lookup order)."""
    if not reference.startswith("."):
        return None  # a package in node_modules: not part of the checkout
    target = join_norm(folder, reference)
    if target is None:
        return None
    for candidate in (target, f"{target}.json", posixpath.join(target, "tsconfig.json")):
        if candidate in aux:
            return candidate
    return None


def _glob_any(patterns: tuple[str, tuple[str, ...]], path: str) -> bool:
    """tsconfig `include`/`exclude` matching: `**/` any folders, `*` within a name, and a
    pattern without wildcards naming a folder covers everything under it."""
    folder, listed = patterns
    for pattern in listed:
        full = join_norm(folder, pattern)
        if full is None:
            continue
        if full in ("", ".") or path == full or path.startswith(full + "/"):
            return True
        if _glob_regex(full).fullmatch(path):
            return True
    return False


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    for index, part in enumerate(pattern.split("/")):
        last = index == len(pattern.split("/")) - 1
        if part == "**":
            out.append("(?:[^/]+/)*" if not last else ".*")
            continue
        piece = re.escape(part).replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        out.append(piece + ("" if last else "/"))
        if last and "." not in part and "*" not in part:
            out.append("(?:/.*)?")
    return re.compile("".join(out))


def _condition_target(value: object, extensions: tuple[str, ...] = JS_FIRST) -> str | None:
    """A package.json `imports`/`exports` target: a string, an array (first usable) or
    nested condition objects; a TypeScript importer takes `types` first."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return next((t for v in value if (t := _condition_target(v, extensions))), None)
    if isinstance(value, dict):
        conditions = (("types", *IMPORT_CONDITIONS) if extensions[0] == ".ts"
                      else IMPORT_CONDITIONS)
        for condition in conditions:
            if condition in value and (target := _condition_target(value[condition],
                                                                   extensions)):
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
