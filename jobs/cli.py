"""The `longweave` command: run, demo, status, validate, report, inspect."""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources

from longweave.jobs.progress import quiet_logging, say


def demo_recipe_path() -> str:
    return str(resources.files("longweave.recipes").joinpath("demo.yaml"))


def _split_beam_args(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        index = argv.index("--")
        return argv[:index], argv[index + 1:]
    return argv, []


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="longweave", description="Build long-context training data on Apache Beam. "
        "Arguments after `--` go to Beam unchanged.")
    parser.add_argument("-v", "--verbose", action="store_true", help="show Beam/luigi INFO logs")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("run", "run a recipe"), ("demo", "run the embedded demo recipe")):
        cmd = sub.add_parser(name, help=helptext)
        if name == "run":
            cmd.add_argument("recipe")
        cmd.add_argument("--workdir", help="work folder (default ./longweave-work/<name>)")
        cmd.add_argument("--until", default="report", help="last stage to run")
        cmd.add_argument("--scheduler-host", help="luigi central scheduler HOST[:PORT] (default: a local one)")
        cmd.add_argument("--retries", type=int, default=0,
                         help="times a failed stage is run again before the run gives up")
    sub.add_parser("validate", help="validate a recipe and exit").add_argument("recipe")
    sub.add_parser("status", help="stages done in a work folder").add_argument("workdir")
    report = sub.add_parser("report", help="(re)build the report of an output folder")
    report.add_argument("out")
    inspect = sub.add_parser("inspect", help="show one packed row decoded")
    inspect.add_argument("shard")
    inspect.add_argument("--row", type=int, default=0)
    publish = sub.add_parser("publish", help="write (and upload) a Hugging Face dataset folder")
    publish.add_argument("out", help="the pack output folder (<workdir>/pack)")
    publish.add_argument("--repo-id", required=True, help="ORG/NAME on the Hub")
    publish.add_argument("--private", action="store_true")
    publish.add_argument("--folder", help="dataset folder to write (default <workdir>/publish)")
    mds = sub.add_parser("export-mds", help="export shards as MosaicML streaming MDS "
                         "(ProLong's input_ids + indices columns), one dataset per bucket")
    mds.add_argument("out", help="the pack output folder (<workdir>/pack)")
    mds.add_argument("dest", help="folder to write <bucket>/index.json and shards into")
    mds.add_argument("--compression", choices=["zstd"], default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    own, beam_args = _split_beam_args(list(sys.argv[1:] if argv is None else argv))
    args = _parser().parse_args(own)
    quiet_logging(args.verbose)
    from longweave.schemas.recipe import RecipeError, load_recipe

    try:
        if args.command in ("run", "demo", "validate"):
            recipe_path = demo_recipe_path() if args.command == "demo" else args.recipe
            recipe = load_recipe(recipe_path)
            if args.command == "validate":
                print(f"{recipe_path}: valid recipe {recipe.name!r} ({recipe.recipe_hash})")
                return 0
            return _run(recipe_path, recipe.name, args, beam_args)
        if args.command == "status":
            from longweave.jobs.status import format_status, workdir_status

            print(format_status(workdir_status(args.workdir)))
            return 0
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


def _run(recipe_path: str, name: str, args: argparse.Namespace, beam_args: list[str]) -> int:
    from longweave.jobs.workflow import FAILURES, run_workflow

    workdir = args.workdir or os.path.join("longweave-work", name)
    workdir = workdir if "://" in workdir else os.path.abspath(workdir)
    say(f"longweave: recipe {recipe_path} -> {workdir}")
    ok = run_workflow(recipe_path, workdir, beam_args, until=args.until,
                      scheduler_host=args.scheduler_host, verbose=args.verbose,
                      retries=args.retries)
    if not ok:
        say("longweave: run failed" + (":\n" + "\n".join(FAILURES) if FAILURES else ""))
        return 1
    from longweave.schemas import fs, layout
    from longweave.schemas.packed import Manifest

    out = layout.output_folder(workdir)
    if Manifest.exists(out):
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
