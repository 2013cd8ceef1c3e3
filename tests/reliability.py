"""The reliability suite's record: what load was held, which faults survived, which inputs
tried, collected while the tests run and written to docs/reliability.md when asked.

``GONG_AUTHLIB_RELIABILITY_DOC=docs/reliability.md pytest -m reliability`` writes the document
from the figures of that very run; ``benchmarks/run`` does this as one of its steps.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

# The hand-written account of the trials (what the rows mean) lives on its own page, which a
# run's rewrite of docs/reliability.md must keep pointing to.
TRIALS_POINTER = (
    "What the issue-26 trials mean (the kill -9 window, the stall after a holder's death, a store\n"
    "emptied or replaced): [Refreshes that survive the store failing](reliability-trials.md)."
)

KINDS = {
    "load": "Load held",
    "fault": "Faults survived",
    "input": "Inputs tried",
    "security": "Security properties",
}


@dataclass
class Reliability:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def record(self, kind: str, what: str, how: str, outcome: str) -> None:
        assert kind in KINDS
        self.rows.append((kind, what, how, outcome))

    def render(self, command: str) -> str:
        out = [
            "# Reliability",
            "",
            "Figures of one run of the reliability suite, written by the run itself.",
            "",
            f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
            f"- machine: {platform.machine()}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}",
            f"- command: `{command}`",
            "",
            TRIALS_POINTER,
            "",
        ]
        for kind, title in KINDS.items():
            rows = sorted(row for row in self.rows if row[0] == kind)
            if not rows:
                continue
            out += [f"## {title}", "", "| what | how | outcome |", "|---|---|---|"]
            out += [f"| {what} | {how} | {outcome} |" for _, what, how, outcome in rows]
            out.append("")
        return "\n".join(out)

    def write(self, path: Path, command: str) -> None:
        path.write_text(self.render(command), encoding="utf-8")
