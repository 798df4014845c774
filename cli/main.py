"""Entry point of the ``ganeval`` command: the click group and the error contract.

Every command only parses arguments, calls the public API and prints. A
:class:`~ganeval.errors.GanevalError` (bad input) becomes one line ``error: ...`` on stderr
and exit status 2, with no traceback unless ``--debug``; click's own usage errors also exit 2.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
import warnings
from typing import Iterator

import click

from ganeval import __version__
from ganeval.errors import GanevalError

# command modules, each exposing COMMANDS: a list of click commands
COMMAND_MODULES = [
    "ganeval_cli.feature_metrics",
    "ganeval_cli.sample_metrics",
    "ganeval_cli.train",
    "ganeval_cli.extra_metrics",
]


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show the library's warnings as one ``warning: ...`` line each on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
                    click.echo(f"warning: {w.message}", err=True)


class GanevalGroup(click.Group):
    """Turns library errors into the CLI's one-line error contract, warnings into lines."""

    def invoke(self, ctx: click.Context):
        try:
            with _warnings_as_lines():
                return super().invoke(ctx)
        except GanevalError as exc:
            if ctx.meta.get("ganeval.debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)
        except (MemoryError, KeyboardInterrupt) as exc:
            if ctx.meta.get("ganeval.debug"):
                raise
            msg = "interrupted" if isinstance(exc, KeyboardInterrupt) else "out of memory; try smaller inputs or --batch-size"
            click.echo(f"error: {msg}", err=True)
            ctx.exit(130 if isinstance(exc, KeyboardInterrupt) else 2)


@click.group(cls=GanevalGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ganeval")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug) to stderr.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int) -> None:
    """Measure how close generated samples are to real ones.

    Inputs (REAL, FAKE) may be an image folder, a .zip of images, a .npy array (2-D = feature
    rows, 4-D uint8 = images), a .npz (mu/sigma statistics, or features / logits / images
    arrays), a .csv (header row, numeric columns), a built-in data set
    builtin:NAME[/train|/test] (see `ganeval datasets`), or shipped statistics ref:NAME.

    Every metric command prints one human line, or one JSON object with --json. Bad input
    prints `error: ...` and exits with status 2.

    \b
    Examples:
      ganeval fid builtin:digits/train builtin:digits/test
      ganeval kid real.npy fake.npy --subsets 50 --json
      ganeval stats real.npy -o real_stats.npz
    """
    ctx.meta["ganeval.debug"] = debug
    level = logging.WARNING if verbose == 0 else (logging.INFO if verbose == 1 else logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (``ganeval`` and ``python -m ganeval``).

    Usage errors (unknown option, bad option value, missing argument) are reported like
    library errors: one line ``error: ...`` naming the option, exit status 2.
    """
    try:
        rv = cli.main(args=argv, prog_name="ganeval", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # bare `ganeval`: show help
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.UsageError as exc:
        hint = f" (see 'ganeval {exc.ctx.info_name} --help')" if exc.ctx and exc.ctx.parent else " (see 'ganeval --help')"
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
