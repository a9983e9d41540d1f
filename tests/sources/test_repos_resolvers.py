"""Resolver failure classes found on real repositories (issue 14), one small fixture each:
TypeScript aliases and project configs, Rust crates and module scopes, Python generated
files and missing modules, C dead branches, Go build tags, and the language labels."""

from __future__ import annotations

from pathlib import Path

from tests.sources.test_repos_languages import edges, make_repo, read_one


# --- TypeScript ------------------------------------------------------------------------------
def test_ts_hash_alias_in_tsconfig_paths_without_package_imports(tmp_path: Path) -> None:
    """`#/*` in tsconfig `paths` (a real frontend's alias); package.json has no `imports`."""
    root = make_repo(tmp_path / "front", {
        "package.json": '{"name": "front", "private": true}',
        "tsconfig.json": '{"compilerOptions": {"paths": {"#/*": ["./src/*"]}}}',
        "src/main.ts": "import { a } from '#/lib/a';\nimport type { T } from '#/types';\n"
                       "import '#/styles/app.css';\nimport './missing';\n",
        "src/lib/a.ts": "export const a = 1;\n",
        "src/types/index.ts": "export type T = number;\n",
    })
    doc = read_one(root)
    assert edges(doc) == {("src/main.ts", "src/lib/a.ts"),
                          ("src/main.ts", "src/types/index.ts")}
    assert doc.meta["unresolved_imports"] == {
        "src/main.ts -> #/styles/app.css": "names a .css file, not code",
        "src/main.ts -> ./missing": "relative path matches no file"}


def test_ts_package_imports_only_where_declared_and_matching(tmp_path: Path) -> None:
    """package.json `imports` serves `#internal/*`; `#/*` is not declared there, so tsconfig
    `paths` answers it."""
    root = make_repo(tmp_path / "mixed", {
        "package.json": '{"name": "mixed", "imports": {"#internal/*": "./src/internal/*.ts"}}',
        "tsconfig.json": '{"compilerOptions": {"paths": {"#/*": ["./src/*"]}}}',
        "src/main.ts": "import '#internal/x';\nimport '#/util';\nimport '#internal/gone';\n",
        "src/internal/x.ts": "export {};\n",
        "src/util.ts": "export {};\n",
    })
    doc = read_one(root)
    assert edges(doc) == {("src/main.ts", "src/internal/x.ts"), ("src/main.ts", "src/util.ts")}
    assert doc.meta["unresolved_imports"] == {
        "src/main.ts -> #internal/gone": "package.json imports entry matches no file"}


def test_ts_extends_chain_and_referenced_app_config(tmp_path: Path) -> None:
    """Vite layout: the root tsconfig only references `tsconfig.app.json`, which extends a
    base config two levels down the chain where `baseUrl` and `paths` live."""
    root = make_repo(tmp_path / "vite", {
        "tsconfig.json": '{"files": [], "references": [{"path": "./tsconfig.node.json"},'
                         ' {"path": "./tsconfig.app.json"}]}',
        "tsconfig.node.json": '{"include": ["vite.config.ts"]}',
        "tsconfig.app.json": '{"extends": "./config/tsconfig.base.json", "include": ["src"]}',
        "config/tsconfig.base.json": '{"extends": "./tsconfig.paths", '
                                     '"compilerOptions": {"strict": true}}',
        "config/tsconfig.paths.json": '{"compilerOptions": {"baseUrl": "..",'
                                      ' "paths": {"@/*": ["src/*"]}}}',
        "vite.config.ts": "import x from '@/app';\n",
        "src/app.tsx": "import { Button } from '@/components/button';\nimport 'lib/log';\n",
        "src/components/button.tsx": "export const Button = 1;\n",
        "lib/log.ts": "export {};\n",
    })
    doc = read_one(root)
    # baseUrl ".." from config/ is the root: `lib/log` resolves through it; the node config
    # (vite.config.ts) has no paths, so its `@/app` stays unresolved.
    assert edges(doc) == {("src/app.tsx", "src/components/button.tsx"),
                          ("src/app.tsx", "lib/log.ts")}


def test_ts_self_import_through_package_exports(tmp_path: Path) -> None:
    """A package importing itself by name: `exports` maps `./utils` to the built file,
    which TypeScript maps back to its source through `outDir` -> `rootDir`."""
    root = make_repo(tmp_path / "lib", {
        "package.json": '{"name": "@acme/lib", "exports": {".": {"types": "./dist/index.d.ts",'
                        ' "default": "./dist/index.js"}, "./utils": "./dist/utils/index.js"}}',
        "tsconfig.json": '{"compilerOptions": {"outDir": "dist", "rootDir": "src"}}',
        "src/index.ts": "export * from './feature';\n",
        "src/feature.ts": "import { u } from '@acme/lib/utils';\nimport '@acme/lib/nope';\n",
        "src/utils/index.ts": "export const u = 1;\n",
        "test/feature.test.ts": "import { feature } from '@acme/lib';\n",
    })
    doc = read_one(root)
    assert edges(doc) == {("src/index.ts", "src/feature.ts"),
                          ("src/feature.ts", "src/utils/index.ts"),
                          ("test/feature.test.ts", "src/index.ts")}
    assert doc.meta["unresolved_imports"] == {
        "src/feature.ts -> @acme/lib/nope": "repository package has no such file"}


# --- Rust ------------------------------------------------------------------------------------
def test_rust_path_file_shared_by_two_crates_resolves_in_each(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "bins", {
        "Cargo.toml": '[package]\nname = "bins"\n\n[[bin]]\nname = "one"\npath = "one/main.rs"\n'
                      '\n[[bin]]\nname = "two"\npath = "two/main.rs"\n',
        "one/main.rs": '#[path = "../shared/common.rs"]\nmod common;\nmod settings;\n',
        "one/settings.rs": "pub struct S;\n",
        "two/main.rs": '#[path = "../shared/common.rs"]\nmod common;\nmod settings;\n',
        "two/settings.rs": "pub struct S;\n",
        "shared/common.rs": "use crate::settings::S;\n",
    })
    doc = read_one(root)
    assert edges(doc) == {
        ("one/main.rs", "shared/common.rs"), ("one/main.rs", "one/settings.rs"),
        ("two/main.rs", "shared/common.rs"), ("two/main.rs", "two/settings.rs"),
        ("shared/common.rs", "one/settings.rs"), ("shared/common.rs", "two/settings.rs"),
    }
    assert doc.meta["graph"]["cycles"] == 0


def test_rust_paths_in_doc_comments_strings_and_dollar_crate_are_not_edges(
        tmp_path: Path) -> None:
    """rustc's view: doc comments, strings and an exported macro's `$crate::` paths name
    nothing here; a `crate::` path in a local `macro_rules!` body is resolved in this crate."""
    root = make_repo(tmp_path / "docs", {
        "Cargo.toml": '[package]\nname = "docs"\n',
        "src/lib.rs": "mod a;\nmod b;\nmod c;\nmod d;\n",
        "src/a.rs": "/// Works like [`crate::b::f`]; see also crate::c::g.\n"
                    "// crate::b::old\n"
                    "#[macro_export]\nmacro_rules! call { () => { $crate::b::f() }; }\n"
                    "macro_rules! local { () => { crate::d::h() }; }\n"
                    'const S: &str = "crate::c::g";\n'
                    "pub fn run() { crate::c::g(); }\n",
        "src/b.rs": "pub fn f() {}\n",
        "src/c.rs": "pub fn g() { println!(\"{}\", crate::b::f as usize); }\n",
        "src/d.rs": "pub fn h() {}\n",
    })
    doc = read_one(root)
    assert edges(doc) == {("src/lib.rs", "src/a.rs"), ("src/lib.rs", "src/b.rs"),
                          ("src/lib.rs", "src/c.rs"), ("src/lib.rs", "src/d.rs"),
                          ("src/a.rs", "src/c.rs"), ("src/a.rs", "src/d.rs"),
                          ("src/c.rs", "src/b.rs")}


def test_rust_use_super_inside_inline_module_is_the_file_itself(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "inline", {
        "Cargo.toml": '[package]\nname = "inline"\n',
        "src/lib.rs": "pub mod net;\nmod generated;\npub fn top() {}\n",
        "src/net.rs": "pub mod tcp;\n",
        "src/net/tcp.rs": "pub fn connect() {}\n\n#[cfg(test)]\nmod tests {\n"
                          "    use super::*;\n    use super::super::super::top;\n}\n",
    })
    doc = read_one(root)
    # `super` in `tcp::tests` is `tcp` (this file); `super::super::super` is the crate root.
    assert edges(doc) == {("src/lib.rs", "src/net.rs"), ("src/net.rs", "src/net/tcp.rs"),
                          ("src/net/tcp.rs", "src/lib.rs")}
    assert doc.meta["unresolved_imports"] == {
        "src/lib.rs -> mod generated": "module file not in checkout"}


def test_rust_workspace_path_dependencies_by_dependency_name(tmp_path: Path) -> None:
    """Members import each other by crate name: renamed path dependencies (`package =`),
    a `[lib] path` off the default, and `workspace = true` inheritance."""
    root = make_repo(tmp_path / "ws", {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n\n[workspace.dependencies]\n'
                      'u = { package = "my-util", path = "crates/util" }\n',
        "crates/core/Cargo.toml": '[package]\nname = "my-core"\n\n[lib]\npath = "src/core.rs"\n',
        "crates/core/src/core.rs": "pub mod thing;\n",
        "crates/core/src/thing.rs": "pub struct Thing;\n",
        "crates/util/Cargo.toml": '[package]\nname = "my-util"\n',
        "crates/util/src/lib.rs": "pub fn help() {}\n",
        "crates/app/Cargo.toml": '[package]\nname = "app"\n\n[dependencies]\n'
                                 'core2 = { package = "my-core", path = "../core" }\n'
                                 "u.workspace = true\n",
        "crates/app/src/main.rs": "use core2::thing::Thing;\n\nfn main() { u::help(); }\n",
    })
    doc = read_one(root)
    assert edges(doc) == {
        ("crates/core/src/core.rs", "crates/core/src/thing.rs"),
        ("crates/app/src/main.rs", "crates/core/src/thing.rs"),
        ("crates/app/src/main.rs", "crates/util/src/lib.rs"),
    }


def test_rust_cfg_alternatives_and_item_paths(tmp_path: Path) -> None:
    """Two `#[path]` files for one cfg-selected `mod imp;` are both the module, and an item
    reached through the facade's `pub use self::imp::*` lives in them; in code the last
    segment of a path is an item (`flags::parse()` calls a function, not module `parse`)."""
    root = make_repo(tmp_path / "alt", {
        "Cargo.toml": '[package]\nname = "alt"\n',
        "src/main.rs": "mod flags;\nmod index;\n"
                       "fn main() { crate::flags::parse(); index::open(); }\n",
        "src/flags/mod.rs": "mod parse;\npub use self::parse::parse;\n",
        "src/flags/parse.rs": "pub fn parse() {}\n",
        "src/index/mod.rs": "pub use self::imp::*;\n"
                            '#[cfg(not(feature = "x"))]\n#[path = "off.rs"]\npub mod imp;\n'
                            '#[cfg(feature = "x")]\n#[path = "on.rs"]\npub mod imp;\n',
        "src/index/off.rs": "pub fn open() {}\n",
        "src/index/on.rs": "pub fn open() {}\n",
    })
    doc = read_one(root)
    assert edges(doc) == {
        ("src/main.rs", "src/flags/mod.rs"), ("src/main.rs", "src/index/mod.rs"),
        ("src/main.rs", "src/index/off.rs"), ("src/main.rs", "src/index/on.rs"),
        ("src/flags/mod.rs", "src/flags/parse.rs"),
        ("src/index/mod.rs", "src/index/off.rs"), ("src/index/mod.rs", "src/index/on.rs"),
    }


# --- Python ----------------------------------------------------------------------------------
def test_python_generated_only_by_a_real_header_stamp(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "gen", {
        "pkg/__init__.py": "",
        "pkg/codegen.py": '"""Writes code that is automatically generated from the schema;\n'
                          'the output is marked "do not edit"."""\nimport pkg.schema\n',
        "pkg/schema.py": "FIELDS = []\n",
        "pkg/models.py": "# Generated by datamodel-codegen from schema.json\nclass M: ...\n",
        "pkg/api.py": "# -*- coding: utf-8 -*-\n# @generated by the build, edits are lost\n",
        "pkg/late.py": "\n" * 30 + "# this line says generated by hand, far from the top\n",
    })
    doc = read_one(root)
    skipped = doc.meta["skipped"]
    assert skipped == {"pkg/models.py": "generated", "pkg/api.py": "generated"}
    assert ("pkg/codegen.py", "pkg/schema.py") in edges(doc)


def test_python_missing_module_is_unresolved_not_the_package_init(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "miss", {
        "src/pkg/__init__.py": "from .core import run\n",
        "src/pkg/core.py": "import pkg._version\nfrom pkg.compat import shim\n"
                           "from pkg import core as again\nfrom .gone import x\n"
                           "def run(): ...\n",
    })
    doc = read_one(root)
    assert edges(doc) == {("src/pkg/__init__.py", "src/pkg/core.py")}
    assert doc.meta["unresolved_imports"] == {
        "src/pkg/core.py -> .gone": "module not in checkout (relative import)",
        "src/pkg/core.py -> pkg._version": "module not in checkout (package pkg is)",
        "src/pkg/core.py -> pkg.compat": "module not in checkout (package pkg is)",
    }
    assert doc.meta["graph"]["unresolved_imports"] == 3


# --- C and Go --------------------------------------------------------------------------------
def test_c_dead_branches_give_no_edge_and_conditional_ones_are_marked(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "cc", {
        "lib.h": "#ifndef LIB_H\n#define LIB_H\n#include \"types.h\"\n#endif\n",
        "types.h": "typedef int t;\n",
        "old.h": "int old(void);\n",
        "win.h": "int win(void);\n",
        "main.c": '#include "lib.h"\n#if 0\n#include "old.h"\n#endif\n'
                  '/* #include "old.h" */\n#ifdef _WIN32\n#include "win.h"\n#endif\n',
    })
    doc = read_one(root)
    assert edges(doc) == {("lib.h", "types.h"), ("main.c", "lib.h"), ("main.c", "win.h")}
    assert doc.meta["conditional_edges"] == {"main.c -> win.h": "defined(_WIN32)"}
    assert doc.meta["graph"]["conditional_edges"] == 1


def test_go_build_tags_are_recorded_and_ignored_files_are_not_package_members(
        tmp_path: Path) -> None:
    root = make_repo(tmp_path / "gotags", {
        "go.mod": "module example.com/app\n",
        "main.go": 'package main\n\nimport "example.com/app/sys"\n',
        "sys/sys.go": "package sys\n",
        "sys/sys_windows.go": "package sys\n",
        "sys/fast.go": "//go:build amd64 && !purego\n\npackage sys\n",
        "sys/gen.go": "//go:build ignore\n\npackage main\n\nimport \"example.com/app/sys\"\n",
    })
    doc = read_one(root)
    assert edges(doc) == {("main.go", "sys/sys.go"), ("main.go", "sys/sys_windows.go"),
                          ("main.go", "sys/fast.go"), ("sys/gen.go", "sys/sys.go"),
                          ("sys/gen.go", "sys/sys_windows.go"), ("sys/gen.go", "sys/fast.go")}
    conditional = doc.meta["conditional_edges"]
    assert conditional["main.go -> sys/sys_windows.go"] == "(windows)"
    assert conditional["main.go -> sys/fast.go"] == "(amd64 && !purego)"
    assert "main.go -> sys/sys.go" not in conditional


def test_language_labels_per_file_suffix(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "poly", {
        "a.ts": "export {};\n", "b.tsx": "export {};\n", "c.js": "module.exports = 1;\n",
        "d.cpp": "int main() {}\n", "e.hpp": "#pragma once\n", "f.c": "int f;\n",
        "g.h": "int g;\n", "h.sh": "echo hi\n",
    })
    doc = read_one(root)
    assert doc.meta["languages"] == {"c": 2, "cpp": 2, "javascript": 1, "shell": 1,
                                     "typescript": 2}
