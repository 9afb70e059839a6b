"""Commands loaded when used: ``labelport --help`` and argument errors answer without importing the store.

A :class:`LazyGroup` knows its commands by name and ``"module:attribute"``, and imports a command's module
when click asks for that command (to run it, or to show its help or its line in the group's help). A new
command is registered in one line::

    project.lazy("export", "labelport.cli.projects:export")

A command registered with ``summary`` (the first paragraph of its docstring, which a test compares with the
command's own) is listed in its group's help without being imported: ``labelport --help`` imports no command
module at all.

The command modules import the library's heavy parts (the client, SQLAlchemy, the export pipeline) inside
the command functions, so that loading a command to read its options stays cheap too;
tests/cli/test_lazy_imports.py checks that ``--help`` and argument errors import none of them.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

import click


class LazyGroup(click.Group):
    """A group whose commands are imported by name on first use (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: name → (``"module:attribute"``, hidden)
        self.lazy_commands: dict[str, tuple[str, bool]] = {}
        #: name → the first paragraph of the command's help, to list it without importing it
        self.summaries: dict[str, str] = {}

    def lazy(self, name: str, target: str, *, hidden: bool = False, summary: str | None = None) -> None:
        """Register the command ``target`` (``"package.module:attribute"``) as ``name``; ``hidden``: an alias
        left out of the help (the command is copied, so the same command can have a visible name too);
        ``summary``: the first paragraph of its help, to list it in the group's help without importing it."""
        if ":" not in target:
            raise ValueError(f"a lazy command is 'module:attribute', not {target!r}")
        self.lazy_commands[name] = (target, hidden)
        if summary is not None:
            self.summaries[name] = summary

    def _load(self, name: str) -> click.Command | None:
        entry = self.lazy_commands.pop(name, None)
        if entry is None:
            return None
        target, hidden = entry
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        if hidden:
            command = copy.copy(command)
            command.hidden = True
        self.add_command(command, name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        return command if command is not None else self._load(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing of the commands, with the ones not imported yet that have a summary listed by it."""
        rows: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            if name in self.lazy_commands and name in self.summaries:
                if not self.lazy_commands[name][1]:
                    rows.append((name, click.Command(name, help=self.summaries[name])))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in rows])
