"""Import resolution per language on small fixture repositories with known edges."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import networkx as nx
import pytest

from longweave.schemas.document import Document
from longweave.schemas.recipe_sources import RepoOptions
from longweave.sources.repos import RepoReader


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def read_one(root: Path, **options: object) -> Document:
    docs = list(RepoReader.read("code", str(root), RepoOptions(**options)))
    assert len(docs) == 1 and isinstance(docs[0], Document), docs
    return docs[0]


def file_order(doc: Document) -> list[str]:
    return [s.label.removeprefix("file:") for s in doc.spans_with_prefix("file:")]


def edges(doc: Document) -> set[tuple[str, str]]:
    order = file_order(doc)
    return {(order[i], order[j]) for i, j, _ in doc.meta["dependency_edges"]}


def test_python_relative_alias_src_layout_nested_and_cycle(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "proj", {
        "src/pkg/__init__.py": "from .core import run\n",
        "src/pkg/core.py": "import pkg.util as u\nfrom . import models\n",
        "src/pkg/util.py": "def f():\n    from pkg.sub import deep\n",
        "src/pkg/models.py": "try:\n    import numpy\nexcept ImportError:\n    pass\n"
                             "if True:\n    from .a import x\n",
        "src/pkg/a.py": "from pkg import b\n",
        "src/pkg/b.py": "from .a import y\n",
        "src/pkg/sub/__init__.py": "",
        "src/pkg/sub/deep.py": "from ..util import f\nfrom ... import nowhere\n",
        "setup.py": "import setuptools\n",
    })
    doc = read_one(root)
    assert edges(doc) == {
        ("src/pkg/__init__.py", "src/pkg/core.py"),
        ("src/pkg/core.py", "src/pkg/util.py"),
        ("src/pkg/core.py", "src/pkg/models.py"),
        ("src/pkg/util.py", "src/pkg/sub/deep.py"),
        ("src/pkg/models.py", "src/pkg/a.py"),
        ("src/pkg/a.py", "src/pkg/b.py"),
        ("src/pkg/b.py", "src/pkg/a.py"),
        ("src/pkg/sub/deep.py", "src/pkg/util.py"),
    }
    graph = doc.meta["graph"]
    assert graph["cycles"] == 2 and graph["files_in_cycles"] == 4
    assert {"numpy", "setuptools"} <= set(doc.meta["external_imports"])
    assert doc.text.startswith("<repo_name>proj\n<file_sep>")


def test_js_ts_tsconfig_alias_index_require_dynamic(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "web", {
        "tsconfig.json": '{\n // comment\n "compilerOptions": {"baseUrl": ".",'
                         ' "paths": {"@lib/*": ["src/lib/*"]},},\n}',
        "src/main.ts": "import { a } from '@lib/a';\nexport * from './widgets';\n"
                       "const c = require('./c.js');\nconst d = await import('./d');\n"
                       "import React from 'react';\n",
        "src/lib/a.ts": "export const a = 1;\n",
        "src/widgets/index.tsx": "import {a} from '../lib/a.js';\nexport const W = () => <div/>;\n",
        "src/c.js": "module.exports = require('./d.mjs');\n",
        "src/d.mjs": "export default 1;\n",
        "src/d.ts": "export {};\n",
        "node_modules/react/index.js": "module.exports = {};\n",
    })
    doc = read_one(root)
    assert edges(doc) == {
        ("src/main.ts", "src/lib/a.ts"), ("src/main.ts", "src/widgets/index.tsx"),
        ("src/main.ts", "src/c.js"), ("src/main.ts", "src/d.ts"),
        ("src/widgets/index.tsx", "src/lib/a.ts"), ("src/c.js", "src/d.mjs"),
    }
    assert "react" in doc.meta["external_imports"]
    assert doc.meta["skipped"]["node_modules/"] == "vendored"


def test_c_includes_with_include_dir_and_c_file(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "clib", {
        "include/lib/api.h": '#include "lib/types.h"\n',
        "include/lib/types.h": "typedef int t;\n",
        "src/impl.c": '#include <stdio.h>\n#include "lib/api.h"\n#include "local.h"\n'
                      'static int table[] = {\n#include "table.c"\n};\n',
        "src/local.h": "#define X 1\n",
        "src/table.c": "1, 2, 3\n",
    })
    doc = read_one(root)
    assert edges(doc) == {
        ("include/lib/api.h", "include/lib/types.h"), ("src/impl.c", "include/lib/api.h"),
        ("src/impl.c", "src/local.h"), ("src/impl.c", "src/table.c"),
    }
    assert "stdio.h" in doc.meta["external_imports"]


def test_go_package_spread_over_files(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "gomod", {
        "go.mod": "module example.com/app\n\ngo 1.21\n",
        "main.go": 'package main\n\nimport (\n\t"fmt"\n\tu "example.com/app/util"\n)\n',
        "util/a.go": "package util\n",
        "util/b.go": 'package util\n\nimport "example.com/app/util/inner"\n',
        "util/a_test.go": "package util\n",
        "util/inner/i.go": "package inner\n",
    })
    doc = read_one(root)
    assert edges(doc) == {("main.go", "util/a.go"), ("main.go", "util/b.go"),
                          ("util/b.go", "util/inner/i.go")}
    assert "fmt" in doc.meta["external_imports"]


def test_rust_mod_path_attribute_and_use_crate(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "crate", {
        "Cargo.toml": '[package]\nname = "my-crate"\nversion = "0.1.0"\n',
        "src/lib.rs": 'mod net;\n#[path = "platform/unix_impl.rs"]\nmod platform;\n'
                      "pub mod util { pub mod inner; }\n",
        "src/net/mod.rs": "mod tcp;\nuse crate::util::inner::helper;\n",
        "src/net/tcp.rs": "use super::super::platform::{self, Sock};\nuse std::io;\n",
        "src/platform/unix_impl.rs": "pub struct Sock;\n",
        "src/util/inner.rs": "pub fn helper() {}\n",
        "src/main.rs": "use my_crate::net;\nfn main() {}\n",
    })
    doc = read_one(root)
    assert edges(doc) == {
        ("src/lib.rs", "src/net/mod.rs"), ("src/lib.rs", "src/platform/unix_impl.rs"),
        ("src/lib.rs", "src/util/inner.rs"), ("src/net/mod.rs", "src/net/tcp.rs"),
        ("src/net/mod.rs", "src/util/inner.rs"),
        ("src/net/tcp.rs", "src/platform/unix_impl.rs"), ("src/main.rs", "src/net/mod.rs"),
    }


def test_java_imports_wildcard_static_and_same_package(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "jv", {
        "src/com/x/app/Main.java": "package com.x.app;\nimport com.x.util.*;\n"
                                   "import static com.x.model.User.create;\nimport java.util.List;\n"
                                   "class Main { Helper h; }\n",
        "src/com/x/app/Helper.java": "package com.x.app;\nclass Helper {}\n",
        "src/com/x/util/Strings.java": "package com.x.util;\npublic class Strings {}\n",
        "src/com/x/util/Lists.java": "package com.x.util;\npublic class Lists {}\n",
        "src/com/x/model/User.java": "package com.x.model;\nimport com.x.util.Strings;\n"
                                     "public class User {}\n",
    })
    doc = read_one(root)
    main = "src/com/x/app/Main.java"
    assert edges(doc) == {
        (main, "src/com/x/util/Strings.java"), (main, "src/com/x/util/Lists.java"),
        (main, "src/com/x/model/User.java"), (main, "src/com/x/app/Helper.java"),
        ("src/com/x/model/User.java", "src/com/x/util/Strings.java"),
    }
    assert "java.util.List" in doc.meta["external_imports"]


@pytest.mark.parametrize("package", ["email", "json", "importlib"])
def test_stdlib_package_dependencies_come_first(package: str) -> None:
    root = Path(sysconfig.get_paths()["stdlib"]) / package
    if not root.is_dir():
        pytest.skip(f"stdlib package {package} not found at {root}")
    doc = read_one(root)
    order = {path: i for i, path in enumerate(file_order(doc))}
    starts = {s.label.removeprefix("file:"): s.start for s in doc.spans_with_prefix("file:")}
    graph = doc.meta["graph"]
    assert graph["edges"] > 3 and graph["files"] == len(order)
    cycle_of = {path: i for i, members in enumerate(
        nx.strongly_connected_components(nx.DiGraph(sorted(edges(doc))))) for path in members}
    in_cycle_backward = 0
    for importer, imported in edges(doc):
        if order[imported] > order[importer]:
            assert cycle_of[imported] == cycle_of[importer], (importer, imported)
            in_cycle_backward += 1
        else:
            assert starts[imported] < starts[importer]
    assert in_cycle_backward == graph["edge_chars"].get("backward", 0)
    assert in_cycle_backward <= graph["files_in_cycles"] ** 2
    bounds = doc.meta["components"]
    assert bounds[0]["start"] == len(f"<repo_name>{package}\n")
    assert bounds[-1]["end"] == len(doc.text)
