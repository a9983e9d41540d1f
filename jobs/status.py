"""`longweave status WORKDIR`: which stages are done, with their ledgers and timing."""

from __future__ import annotations

from longweave.jobs.stages import STAGE_ORDER
from longweave.schemas import fs
from longweave.schemas.layout import LEDGER_FILE, STAGE_FILE, SUCCESS, stage_folder


def workdir_status(workdir: str) -> list[dict]:
    """One entry per stage: done or not, seconds, hash and ledger when present."""
    rows = []
    for stage in STAGE_ORDER:
        folder = stage_folder(workdir, stage)
        entry: dict = {"stage": stage, "done": fs.exists(fs.join(folder, SUCCESS))}
        if fs.exists(fs.join(folder, STAGE_FILE)):
            info = fs.read_json(fs.join(folder, STAGE_FILE))
            entry.update(seconds=info.get("seconds"), hash=info.get("hash"))
        if fs.exists(fs.join(folder, LEDGER_FILE)):
            entry["ledger"] = fs.read_json(fs.join(folder, LEDGER_FILE))
        rows.append(entry)
    return rows


def format_status(rows: list[dict]) -> str:
    lines = [f"{'stage':<11} {'state':<8} {'seconds':>8}  ledger"]
    for row in rows:
        state = "done" if row["done"] else "-"
        seconds = f"{row['seconds']:.1f}" if row.get("seconds") is not None else ""
        ledger = row.get("ledger")
        text = ""
        if ledger:
            text = f"in {ledger['in']:,} -> out {ledger['out']:,}"
            if ledger.get("created"):
                text += f" (+{ledger['created']:,} created)"
            for reason, n in ledger.get("dropped", {}).items():
                text += f"; {reason} {n:,}"
            if not ledger.get("balanced", True):
                text += "  UNBALANCED"
        lines.append(f"{row['stage']:<11} {state:<8} {seconds:>8}  {text}")
    return "\n".join(lines)
