"""Check a built site (``mkdocs build -d DIR``) has what the reader comes for.

``python -m docsgen.check_site DIR``: every CLI command has its section, and GongAuth,
GongOAuthClient, TokenStore and every other public name has its API entry. Exit 1 naming
what is missing. Run by ``.ci/run`` right after ``mkdocs build --strict``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docsgen import api_reference, cli_reference


def missing(site: Path) -> list[str]:
    problems = []
    cli_page = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for command, _ in cli_reference.commands():
        if f'id="{cli_reference.anchor(command)}"' not in cli_page:
            problems.append(f"CLI reference: no section for `{command}`")
    for public_module, name, defined_in in api_reference.public_names():
        group = api_reference.group_of(public_module, defined_in)
        page = site / "reference" / "api" / group / "index.html"
        if f'id="{defined_in}.{name}"' not in page.read_text(encoding="utf-8"):
            problems.append(f"API reference ({group}): no entry for {public_module}.{name}")
    return problems


def main(argv: list[str]) -> int:
    problems = missing(Path(argv[0]))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
