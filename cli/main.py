"""Entry point of the ``ganeval`` command: the click group and the error contract.

Every command only parses arguments, calls the public API and prints. A
:class:`~ganeval.errors.GanevalError` (bad input) becomes one line ``error: ...`` on stderr
and exit status 2, with no traceback unless ``--debug``; click's own usage errors also exit 2.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import io
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator

import click

from ganeval import __version__
from ganeval.errors import GanevalError

# command modules, each exposing COMMANDS: a list of click commands
COMMAND_MODULES = [
    "ganeval_cli.metric_commands",
    "ganeval_cli.feature_metrics",
    "ganeval_cli.train",
    "ganeval_cli.report",
    "ganeval_cli.extractors_cmd",
    "ganeval_cli.stats_import",
]
#: the module holding one command per registered metric (generated from the registry)
METRIC_COMMANDS = "ganeval_cli.metric_commands"
#: the module of each hand-written command, so that running one imports only its module; a
#: name not listed here is looked for first among the generated metric commands
#: (:data:`METRIC_COMMANDS`), then by importing every module; see :class:`LazyGroup`
COMMAND_HOME = {
    "eval": "ganeval_cli.feature_metrics",
    "stats": "ganeval_cli.stats_import",
    "metrics": METRIC_COMMANDS,
    "extractors": "ganeval_cli.extractors_cmd",
    **dict.fromkeys(("train", "sample", "datasets", "modes"), "ganeval_cli.train"),
    "report": "ganeval_cli.report",
}


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show the library's warnings as one ``warning: ...`` line each on stderr; a warning
    repeated (the same text) is shown once, with the repeat count."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            counts: dict[str, int] = {}
            for w in caught:
                if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
                    text = _one_line(str(w.message))
                    counts[text] = counts.get(text, 0) + 1
            for text, n in counts.items():
                _echo_err(f"warning: {text}" + (f" (repeated {n} times)" if n > 1 else ""))


def _one_line(text: str) -> str:
    """Messages are one line: newlines and runs of spaces collapse to one space."""
    return " ".join(str(text).split()) or "(no message)"


def _echo_err(text: str) -> None:
    """Write a line to stderr; a closed or full stderr is not an error of its own."""
    try:
        click.echo(text, err=True)
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush
    cannot raise again (the usual Python recipe for BrokenPipeError)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


def _os_error_message(exc: OSError) -> str:
    """``error:`` text for an environment failure (full disk, broken pipe, I/O error)."""
    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        return "output closed before everything was written (broken pipe)"
    where = exc.filename if exc.filename is not None else ("standard output" if exc.errno == errno.ENOSPC else None)
    what = exc.strerror or type(exc).__name__
    return f"{where}: {what}" if where else f"{what} ({type(exc).__name__})"


_OPTION_RE = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _command_options(ctx: click.Context) -> set[str] | None:
    """The option strings (``--batch-size``, ``-o``...) of the command being run."""
    group = ctx.command
    sub_name = ctx.invoked_subcommand
    sub = group.get_command(ctx, sub_name) if isinstance(group, click.Group) and sub_name else None
    if sub is None:
        return None
    return {o for p in sub.params if isinstance(p, click.Option) for o in (*p.opts, *p.secondary_opts)} | {
        "--debug",
        "--help",
        "--version",
        "--verbose",
    }


def _drop_foreign_suggestions(message: str, options: set[str] | None) -> str:
    """Library messages suggest options by their CLI names; a command without that option
    must not suggest it. Clauses (``; ...``) and parentheses naming an option the command
    does not have are dropped (the first clause, which says what is wrong, is kept).

    >>> _drop_foreign_suggestions("x: bad row 2; fill it, or drop such rows (--skip-invalid)", {"--json"})
    'x: bad row 2'
    >>> _drop_foreign_suggestions("x: too big (use --sliced)", {"--sliced"})
    'x: too big (use --sliced)'
    """
    if options is None:
        return message

    def foreign(text: str) -> bool:
        return any(o not in options for o in _OPTION_RE.findall(text))

    if not foreign(message):
        return message
    head, *rest = message.split("; ")
    message = "; ".join([head] + [c for c in rest if not foreign(c)])
    return re.sub(r"\s*\([^()]*\)", lambda m: "" if foreign(m.group(0)) else m.group(0), message)


def _has_option(ctx: click.Context, name: str) -> bool:
    group = ctx.command
    sub_name = ctx.invoked_subcommand
    sub = group.get_command(ctx, sub_name) if isinstance(group, click.Group) and sub_name else None
    return sub is not None and any(p.name == name for p in sub.params)


class GanevalGroup(click.Group):
    """The error boundary: every failure of a command becomes one ``error: ...`` line.

    ==========================================  =========  =========================================
    failure                                     exit code  line
    ==========================================  =========  =========================================
    bad input (:class:`GanevalError`)           2          the library's message (names the input)
    out of memory (``MemoryError``)             2          the command and what to make smaller
    environment (``OSError``: full disk,        1          the file and the system's reason
    broken pipe, I/O error)
    interrupted (Ctrl-C)                        130        ``interrupted``
    anything else (a bug)                       1          ``internal error ...`` (``--debug``
                                                           shows the traceback)
    ==========================================  =========  =========================================
    """

    def invoke(self, ctx: click.Context):
        try:
            with _warnings_as_lines():
                return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except click.exceptions.Abort:
            raise
        except GanevalError as exc:
            if ctx.meta.get("ganeval.debug"):
                raise
            _echo_err(f"error: {_drop_foreign_suggestions(_one_line(str(exc)), _command_options(ctx))}")
            ctx.exit(2)
        except (MemoryError, RuntimeError) as exc:
            if ctx.meta.get("ganeval.debug"):
                raise
            if isinstance(exc, RuntimeError) and not _is_allocation_failure(exc):
                return self._internal_error(ctx, exc)
            hint = (
                "smaller inputs or a smaller --batch-size"
                if _has_option(ctx, "batch_size")
                else "smaller inputs or option values"
            )
            _echo_err(f"error: out of memory in '{ctx.invoked_subcommand}'; try {hint}")
            ctx.exit(2)
        except KeyboardInterrupt:
            if ctx.meta.get("ganeval.debug"):
                raise
            _echo_err("error: interrupted")
            ctx.exit(130)
        except OSError as exc:
            if ctx.meta.get("ganeval.debug"):
                raise
            if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
                _silence_stdout()
            _echo_err(f"error: {_one_line(_os_error_message(exc))}")
            ctx.exit(1)
        except Exception as exc:  # a bug: still one line, the traceback with --debug
            if ctx.meta.get("ganeval.debug"):
                raise
            self._internal_error(ctx, exc)

    @staticmethod
    def _internal_error(ctx: click.Context, exc: BaseException) -> None:
        _echo_err(
            f"error: internal error in '{ctx.invoked_subcommand}' ({type(exc).__name__}: "
            f"{_one_line(str(exc))[:300]}); rerun with --debug for the traceback and please report it"
        )
        ctx.exit(1)


class LazyGroup(GanevalGroup):
    """The command group, whose command modules load on first use: ``ganeval fid a.npz b.npz``
    imports only the metric commands (no torch, scikit-learn or matplotlib), while
    ``--help``, listing or an unknown name loads every module in ``COMMAND_MODULES``.
    ``commands`` (click's attribute) is the full table, loaded when read."""

    def __init__(self, *args, **kwargs) -> None:
        self._loaded: set[str] = set()
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]  # a lazy-loading property over click's plain attribute
    def commands(self) -> dict[str, click.Command]:
        self._load(*COMMAND_MODULES)
        return self._commands

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._commands = dict(value)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        self._commands[name] = cmd

    def _load(self, *modules: str) -> None:
        for module in modules:
            if module not in self._loaded:
                self._loaded.add(module)
                for command in importlib.import_module(module).COMMANDS:
                    self.add_command(command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self._commands:
            self._load(COMMAND_HOME.get(cmd_name, METRIC_COMMANDS))
        if cmd_name not in self._commands:
            self._load(*COMMAND_MODULES)
        return self._commands.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands)


def _is_allocation_failure(exc: BaseException) -> bool:
    """torch reports a failed allocation as RuntimeError (CPU: "can't allocate memory";
    CUDA: torch.cuda.OutOfMemoryError, "out of memory")."""
    text = str(exc).lower()
    return "can't allocate memory" in text or "out of memory" in text or type(exc).__name__ == "OutOfMemoryError"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (``ganeval`` and ``python -m ganeval``).

    Usage errors (unknown option, bad option value, missing argument) are reported like
    library errors: one line ``error: ...`` naming the option, exit status 2. A failure to
    write the output (a closed pipe, a full disk: ``ganeval ... > /dev/full``) is one
    ``error:`` line and exit status 1, never a traceback.
    """
    try:
        try:
            rv = cli.main(args=argv, prog_name="ganeval", standalone_mode=False)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare `ganeval`: show help
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            rv = 0
        except click.UsageError as exc:
            hint = (
                f" (see 'ganeval {exc.ctx.info_name} --help')"
                if exc.ctx and exc.ctx.parent
                else " (see 'ganeval --help')"
            )
            _echo_err(f"error: {_one_line(exc.format_message())}{hint}")
            sys.exit(2)
        except click.ClickException as exc:
            _echo_err(f"error: {_one_line(exc.format_message())}")
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            _echo_err("error: aborted")
            sys.exit(130)
        sys.stdout.flush()  # a write error (full disk, closed pipe) shows here, not at exit
    except OSError as exc:  # --help or --version output that could not be written
        if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
            _silence_stdout()
        _echo_err(f"error: {_one_line(_os_error_message(exc))}")
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
