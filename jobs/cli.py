"""The `longweave` command: run, demo, status, verify, validate, report, inspect."""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from typing import TYPE_CHECKING

from longweave.jobs.progress import quiet_logging, say

if TYPE_CHECKING:
    from longweave.schemas.recipe import Recipe


def demo_recipe_path() -> str:
    return str(resources.files("longweave.recipes").joinpath("demo.yaml"))


def _split_beam_args(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        index = argv.index("--")
        return argv[:index], argv[index + 1:]
    return argv, []


# Flags that may come before or after the subcommand (`longweave -v demo`, `longweave demo
# -v`), with their defaults; the run flags belong to `run` and `demo` only.
GLOBAL_DEFAULTS: dict[str, object] = {"verbose": False}
RUN_DEFAULTS: dict[str, object] = {"workdir": None, "until": "report", "scheduler_host": None,
                                   "retries": 0, "assume_inputs_unchanged": False,
                                   "hash_inputs": False}
RUN_COMMANDS = ("run", "demo", "plan")


def _flag_parents() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The global flags and the run flags, as argparse parents.

    Every default is SUPPRESS, filled in after parsing: a subparser's default would
    otherwise overwrite a flag given before the subcommand (`longweave -v demo`).
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show Beam/luigi INFO logs")
    run = argparse.ArgumentParser(add_help=False)
    run.add_argument("--workdir", default=argparse.SUPPRESS,
                     help="work folder (default ./longweave-work/<name>)")
    run.add_argument("--until", default=argparse.SUPPRESS, metavar="STAGE",
                     help="last stage to run (default: report, the last)")
    run.add_argument("--scheduler-host", default=argparse.SUPPRESS,
                     help="luigi central scheduler HOST[:PORT] (default: a local one)")
    run.add_argument("--retries", type=int, default=argparse.SUPPRESS,
                     help="times a crashed stage is run again before the run gives up")
    run.add_argument("--assume-inputs-unchanged", action="store_true",
                     default=argparse.SUPPRESS,
                     help="reuse the input fingerprint collect recorded instead of listing "
                     "every input file (huge remote corpora)")
    run.add_argument("--hash-inputs", action="store_true", default=argparse.SUPPRESS,
                     help="fingerprint inputs by content (sha256) too, not only size and mtime")
    return common, run


def _parser() -> argparse.ArgumentParser:
    common, run_flags = _flag_parents()
    parser = argparse.ArgumentParser(
        prog="longweave", parents=[common, run_flags],
        description="Build long-context training data on Apache Beam. "
        "Arguments after `--` go to Beam (an option Beam does not know is an error).")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("run", "run a recipe"), ("demo", "run the embedded demo recipe")):
        cmd = sub.add_parser(name, help=helptext, parents=[common, run_flags])
        if name == "run":
            cmd.add_argument("recipe")
    sub.add_parser("plan", help="run up to synthesize and estimate the pack plan (tokens per "
                   "source and bucket, shares, shortfalls) before tokenize",
                   parents=[common, run_flags]).add_argument("recipe")
    sub.add_parser("validate", help="validate a recipe and exit",
                   parents=[common]).add_argument("recipe")
    sub.add_parser("status", help="stages done in a work folder",
                   parents=[common]).add_argument("folder", metavar="workdir")
    sub.add_parser("verify", help="check every committed file of a work folder against its "
                   "stage's record and the manifest's shard hashes (exit 1 if any differs)",
                   parents=[common]).add_argument("folder", metavar="workdir")
    report = sub.add_parser("report", help="(re)build the report of an output folder",
                            parents=[common])
    report.add_argument("out", help="the pack output folder (<workdir>/pack)")
    inspect = sub.add_parser("inspect", help="show one packed row decoded", parents=[common])
    inspect.add_argument("shard")
    inspect.add_argument("--row", type=int, default=0)
    publish = sub.add_parser("publish", help="write (and upload) a Hugging Face dataset folder",
                             parents=[common])
    publish.add_argument("out", help="the pack output folder (<workdir>/pack)")
    publish.add_argument("--repo-id", help="ORG/NAME on the Hub: upload there (default: "
                         "write the local dataset folder only)")
    publish.add_argument("--private", action="store_true")
    publish.add_argument("--folder", help="dataset folder to write (default <workdir>/publish)")
    mds = sub.add_parser("export-mds", help="export shards as MosaicML streaming MDS "
                         "(ProLong's input_ids + indices columns), one dataset per bucket",
                         parents=[common])
    mds.add_argument("out", help="the pack output folder (<workdir>/pack)")
    mds.add_argument("dest", help="folder to write <bucket>/index.json and shards into")
    mds.add_argument("--compression", choices=["zstd"], default=None)
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line (without the Beam arguments after `--`); a bad flag or
    `--until` stage exits 2 with argparse's usage message."""
    parser = _parser()
    args = parser.parse_args(argv)
    given = sorted(f"--{k.replace('_', '-')}" for k in RUN_DEFAULTS if k in vars(args))
    if args.command not in RUN_COMMANDS and given:
        parser.error(f"{', '.join(given)}: only for {', '.join(RUN_COMMANDS)}")
    if args.command == "plan" and "until" in vars(args):
        parser.error("--until: plan always runs up to synthesize")
    defaults = {**GLOBAL_DEFAULTS, **(RUN_DEFAULTS if args.command in RUN_COMMANDS else {})}
    for key, value in defaults.items():
        vars(args).setdefault(key, value)
    if args.command in RUN_COMMANDS:
        from longweave.jobs.stages import STAGE_ORDER

        if args.until not in STAGE_ORDER:
            parser.error(f"argument --until: invalid choice: {args.until!r} "
                         f"(choose from {', '.join(STAGE_ORDER)})")
    return args


def _missing_input(args: argparse.Namespace) -> str | None:
    """Why the folder or file a reading command names cannot be what it wants (a mistyped
    path must not exit 0, nor leave a fresh folder behind)."""
    from longweave.schemas import fs, layout
    from longweave.schemas.packed import Manifest

    if args.command in ("status", "verify") and not fs.exists(args.folder):
        return f"no work folder at {args.folder}"
    if args.command in ("report", "publish", "export-mds") and not Manifest.exists(args.out):
        hint = ""
        if Manifest.exists(layout.output_folder(args.out)):
            hint = f"; did you mean {layout.output_folder(args.out)}?"
        what = "no such folder" if not fs.exists(args.out) else f"no {layout.MANIFEST_FILE}"
        return f"{args.out} is not a pack output folder ({what}){hint}"
    if args.command == "inspect" and not fs.exists(args.shard):
        return f"no shard at {args.shard}"
    return None


def main(argv: list[str] | None = None) -> int:
    own, beam_args = _split_beam_args(list(sys.argv[1:] if argv is None else argv))
    # before parsing: building the parser imports Beam, whose modules log at import time
    # (a missing optional client library) and would otherwise get Python's bare format
    quiet_logging(verbose=bool({"-v", "--verbose"} & set(own)))
    args = parse_args(own)
    from longweave.schemas.recipe import RecipeError, load_recipe

    try:
        if (problem := _missing_input(args)) is not None:
            say(f"longweave {args.command}: {problem}")
            return 2
        if args.command in ("run", "demo", "validate", "plan"):
            recipe_path = demo_recipe_path() if args.command == "demo" else args.recipe
            recipe = load_recipe(recipe_path)
            if args.command == "plan":
                from longweave.jobs.plan import run_plan

                return run_plan(recipe_path, args, beam_args)
            if args.command == "validate":
                from longweave.jobs.runner import check_beam_args

                check_beam_args(recipe.runner)
                print(f"{recipe_path}: valid recipe {recipe.name!r} ({recipe.recipe_hash})")
                return 0
            # forked workers only for the program itself: a caller's process (a test, a
            # notebook) may already hold the gRPC state a fork must not copy
            return _run(recipe_path, recipe, args, beam_args, fork_workers=argv is None)
        if args.command == "status":
            from longweave.jobs.status import format_status, workdir_status

            print(format_status(workdir_status(args.folder)))
            return 0
        if args.command == "verify":
            from longweave.jobs.verify import verify_workdir

            ok, lines = verify_workdir(args.folder)
            print("\n".join(lines))
            return 0 if ok else 1
        if args.command == "report":
            from longweave.pipeline.report.build import build_report

            print(build_report(args.out))
            return 0
        if args.command == "publish":
            from longweave.pipeline.exports.publish import publish

            print(publish(args.out, args.repo_id, private=args.private, folder=args.folder,
                          say=say))
            return 0
        if args.command == "export-mds":
            from longweave.pipeline.exports.mds import export_mds

            for bucket, info in sorted(export_mds(args.out, args.dest,
                                                  compression=args.compression).items()):
                print(f"{bucket}: {info}")
            return 0
        if args.command == "inspect":
            from longweave.jobs.inspect_row import describe_row

            print(describe_row(args.shard, args.row))
            return 0
    except RecipeError as error:
        say(f"recipe error: {error}")
        return 2
    except (ValueError, OSError, IndexError) as error:
        say(f"longweave {args.command}: {error}")
        return 2
    return 1


def _run(recipe_path: str, recipe: Recipe, args: argparse.Namespace, beam_args: list[str],
         fork_workers: bool = False) -> int:
    from longweave.jobs import forked_workers
    from longweave.jobs.workflow import FAILURES, failed_on_recipe_or_data, run_workflow

    if fork_workers:  # before any stage: the driver has no threads or gRPC yet
        from longweave.filters.language import shared_model

        forked_workers.start(preload=[shared_model] if recipe.filters.language_id else [])
    name = recipe.name
    workdir = args.workdir or os.path.join("longweave-work", name)
    workdir = workdir if "://" in workdir else os.path.abspath(workdir)
    say(f"longweave: recipe {recipe_path} -> {workdir}")
    ok = run_workflow(recipe_path, workdir, beam_args, until=args.until,
                      scheduler_host=args.scheduler_host, verbose=args.verbose,
                      retries=args.retries,
                      assume_inputs_unchanged=args.assume_inputs_unchanged,
                      hash_inputs=args.hash_inputs)
    if not ok:
        if failed_on_recipe_or_data():  # said above with the keys; a re-run would fail again
            say("longweave: run stopped: the recipe asks for what the data cannot give; "
                "change the keys named above")
            return 2
        say("longweave: run failed" + (":\n" + "\n".join(FAILURES) if FAILURES else
                                       " (no stage reported an error; -v shows luigi's log)"))
        return 1
    from longweave.jobs.stages import STAGE_ORDER
    from longweave.schemas import fs, layout
    from longweave.schemas.packed import Manifest

    out = layout.output_folder(workdir)
    if STAGE_ORDER.index(args.until) >= STAGE_ORDER.index("pack") and Manifest.exists(out):
        totals = Manifest.read(out).totals
        say(f"longweave: {totals['tokens']:,} tokens in {totals['rows']:,} rows, "
            f"{totals['shards']} shards")
        say(f"  shards:   {out}/<bucket>/shard-*{layout.SHARD_SUFFIX}")
        say(f"  manifest: {fs.join(out, layout.MANIFEST_FILE)}")
        report = fs.join(out, layout.REPORT_DIR, layout.HTML_FILE)
        if fs.exists(report):
            say(f"  report:   {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
