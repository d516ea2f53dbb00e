"""The one registry: command type → its handler, and command name → command type.

A handler is ``handler(command, work) -> Result``: it loads what it needs through ``work``,
decides (the aggregates and ``domain.reorganisation`` check the rules) and returns a typed result.
It never saves: the unit of work (``staffing.application.service``) does, for every handler alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from staffing.application.commands import Command
from staffing.application.results import Result
from staffing.application.work import Work

__all__ = ["HANDLERS", "Handler", "command_named", "command_types", "handles", "result_type"]

C = TypeVar("C", bound=Command)
Handler = Callable[[Any, Work], Result]

HANDLERS: dict[type[Command], Handler] = {}
_RESULTS: dict[type[Command], type[Result]] = {}
_BY_NAME: dict[str, type[Command]] = {}


def handles(command: type[C], result: type[Result]) -> Callable[[Callable[[C, Work], Any]], Callable[[C, Work], Any]]:
    """Register the decorated function as the one handler of ``command``, returning ``result``."""
    def register(fn: Callable[[C, Work], Any]) -> Callable[[C, Work], Any]:
        if command in HANDLERS:
            raise RuntimeError(f"{command.__name__} already has a handler")
        HANDLERS[command] = fn
        _RESULTS[command] = result
        _BY_NAME[command.command_name()] = command
        return fn
    return register


def _loaded() -> None:
    import staffing.application.handlers  # noqa: F401  (registers every handler)


def command_types() -> list[type[Command]]:
    _loaded()
    return list(HANDLERS)


def command_named(name: str) -> type[Command] | None:
    """``assignQuota`` → ``AssignQuota`` (the names import files and plans use).

    A look-up, not a scan: an import asks once per line (a scan of the two dozen handlers was 1.9% of
    the national flow's samples).
    """
    _loaded()
    return _BY_NAME.get(name)


def result_type(command: type[Command]) -> type[Result]:
    _loaded()
    return _RESULTS[command]
