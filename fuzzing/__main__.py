"""``python -m fuzzing``: run the fuzz targets and print a Markdown table of the outcome.

Examples::

    python -m fuzzing --inputs 2000                  # a quick look, every target
    python -m fuzzing --inputs 1000000 --jobs 2      # the full run for docs/security.md
    python -m fuzzing --targets rfb-gate --inputs 50000 --seed 3

The exit status is 1 if any target had a crash or an exception other than its clean
errors; the first such input of each is printed (hex) for replay.
"""

from __future__ import annotations

import argparse
import sys

from .runner import all_targets, format_table, run_target, run_targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzzing", description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=1, help="mutator seed (replayable)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes per target")
    parser.add_argument("--targets", nargs="*", default=None, help="default: all")
    args = parser.parse_args(argv)
    names = args.targets or list(all_targets())
    if args.jobs <= 1:
        results = [run_target(name, args.inputs, args.seed * 1000) for name in names]
    else:
        results = run_targets(
            names,
            args.inputs,
            args.seed,
            args.jobs,
            lambda r: print(format_table([r]).splitlines()[-1], file=sys.stderr, flush=True),
        )
    print(format_table(results))
    failed = False
    for r in results:
        if r.failures:
            failed = True
            print(f"\n{r.target}: first failing input {r.first_failure!r:.400}")
            print(r.first_trace)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
