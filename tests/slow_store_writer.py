"""The store's writer process with each transaction held back first (tests of ``staffing.commit_process``):
``python -m tests.slow_store_writer SECONDS PATH TABLE``."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from staffing import store_writer


def main(argv: list[str]) -> None:
    seconds, real = float(argv[0]), store_writer.write

    def slow(recorder: Any, head: int, rows: Sequence[tuple[str, int, str, bytes]]) -> None:
        time.sleep(seconds)
        real(recorder, head, rows)

    store_writer.write = slow  # type: ignore[assignment]
    store_writer.main(argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
