"""The `fashion-mlp` command: parses flags into library calls; no logic of its own.

`parser.py` defines every command's flags (and imports nothing heavy); `commands/<name>.py`
does the command's work and is imported only when that command runs.
"""

from __future__ import annotations

import importlib
import sys
import traceback

from fashion_mlp.cli.parser import build_parser
from fashion_mlp.errors import FashionMLPError


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        command = importlib.import_module(f"fashion_mlp.cli.commands.{args.command}")
        return command.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a command that stopped reading (e.g. head)
        sys.stderr.close()
        return 0
    except (FashionMLPError, OSError) as error:
        if args.debug:
            traceback.print_exc()
        else:
            print(f"error: {error}", file=sys.stderr)
            print("(run with --debug for the full traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
