"""Command line: ``python -m serials validate FILE --prefix P --width N ...``.

Imports the engine only (NumPy, the standard library), never Django. Exit status: 0 nothing to
report, 1 findings, 2 the command could not do its job (message on standard error, nothing on
standard output).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence

from serials.engine import (
    CHECK_SCHEMES,
    NumberingRule,
    SerialFileError,
    read_serial_cells,
    render_text,
    run_file,
    validate_codes,
)
from serials.engine.reader import CODE_HEADER_NAMES

PROG = "serials"
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def _width(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _range(text: str) -> tuple[int, int]:
    match = _RANGE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected LO-HI with whole numbers, like 1-5000, not {text!r}"
        )
    lo, hi = int(match.group(1)), int(match.group(2))
    if lo > hi:
        raise argparse.ArgumentTypeError(f"LO is greater than HI in {text!r}")
    return lo, hi


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Serial list tools (no web app needed)."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    validate = commands.add_parser(
        "validate",
        help="validate a serial file against a numbering rule",
        description="Validate a CSV/TXT/XLSX serial file: rule conformance, used range, "
        "missing ranges, duplicates, malformed and out-of-range serials.",
    )
    validate.add_argument("file", metavar="FILE", help="CSV/TXT or XLSX file (told by its bytes)")
    validate.add_argument("--prefix", required=True, metavar="PREFIX", help="serial prefix")
    validate.add_argument("--width", required=True, type=_width, metavar="N", help="counter digits")
    validate.add_argument(
        "--check", choices=CHECK_SCHEMES, default="none", help="check digit scheme"
    )
    validate.add_argument("--range", type=_range, metavar="LO-HI", help="expected counter range")
    validate.add_argument(
        "--limit", type=_limit, default=1000, metavar="N", help="entries per list (default 1000)"
    )
    validate.add_argument(
        "--format", choices=("json", "text"), default="json", help="report format"
    )

    codes = commands.add_parser(
        "codes",
        help="compare used codes with an allocated code list",
        description="Non-sequential codes: unknown (used, not allocated), unused and "
        "duplicated codes.",
    )
    codes.add_argument("file", metavar="FILE", help="used codes (CSV/TXT or XLSX)")
    codes.add_argument("--allocated", required=True, metavar="FILE", help="allocated codes")
    codes.add_argument(
        "--limit", type=_limit, default=1000, metavar="N", help="entries per list (default 1000)"
    )
    return parser


def _validate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        rule = NumberingRule(prefix=args.prefix, width=args.width, check=args.check)
    except ValueError as exc:
        parser.error(str(exc))
    if args.range is not None and args.range[1] > rule.max_counter:
        parser.error(
            f"argument --range: {args.range[0]}-{args.range[1]} does not fit --width "
            f"{rule.width} (largest counter {rule.max_counter})"
        )
    validation = run_file(args.file, rule, args.range, args.limit)
    if args.format == "json":
        output = json.dumps(validation.report.to_json()) + "\n"
    else:
        output = render_text(validation)
    sys.stdout.write(output)
    sys.stdout.flush()
    return 1 if validation.report.has_findings else 0


def _codes(args: argparse.Namespace) -> int:
    used_lines, used = read_serial_cells(args.file, CODE_HEADER_NAMES)
    _, allocated = read_serial_cells(args.allocated, CODE_HEADER_NAMES)
    report = validate_codes(used, allocated, used_lines, args.limit)
    sys.stdout.write(json.dumps(report.to_json()) + "\n")
    sys.stdout.flush()
    return 1 if report.has_findings else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    subparsers = parser._subparsers  # noqa: SLF001
    assert subparsers is not None  # build_parser adds the commands
    commands = subparsers._group_actions[0]  # noqa: SLF001
    assert isinstance(commands, argparse._SubParsersAction)  # noqa: SLF001
    validate_parser = commands.choices[args.command]
    try:
        if args.command == "validate":
            return _validate(args, validate_parser)
        return _codes(args)
    except SerialFileError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
    except MemoryError:
        print(f"{PROG}: error: {args.file}: too large to validate in memory", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (| head); do not let Python complain at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 2
    except Exception as exc:  # never a traceback for the operator
        print(
            f"{PROG}: error: {args.file}: could not validate ({type(exc).__name__}: {exc})",
            file=sys.stderr,
        )
    return 2
