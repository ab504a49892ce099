"""``supportdesk``: the server's command line, or a plain word where only the support
program is installed (``pip install supportdesk`` without the ``server`` extra)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from supportdesk.cli import main as server_main
    except ModuleNotFoundError as exc:
        print(
            f"supportdesk: the server is not installed here ({exc.name} is missing): "
            "pip install 'supportdesk[server]'. The support program is supportdesk-join.",
            file=sys.stderr,
        )
        return 2
    return server_main(argv)
