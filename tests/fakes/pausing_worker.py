"""A real Celery worker that stops at a chosen point of the collections code, so a test can kill it
(or the broker) there and nowhere else. Run as

    python -m tests.fakes.pausing_worker worker -A config --pool=solo ...    (celery's own arguments)

with, in the environment:

- PAUSE_DIR: a folder; PAUSE_AT: `<point>:<n>`, the n-th time (from 1) the point is reached the
  worker writes `<PAUSE_DIR>/paused-<point>` and waits until `<PAUSE_DIR>/go-<point>` exists
  (a test that kills the worker never writes it);
- COLLECTIONS_BATCH_SIZE: customers per batch of the run, so a few customers make several batches.

Points: `batch-start` (a batch of the run begins: the earlier batches are committed and their
notices queued), `batch-written` (a batch's notices and dunning states are written, not committed),
`email-sent` (the mail server has taken a notice's email, its status is not recorded yet).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any


def _pause(point: str) -> None:
    folder = Path(os.environ["PAUSE_DIR"])
    (folder / f"paused-{point}").write_text(str(os.getpid()))
    while not (folder / f"go-{point}").exists():
        time.sleep(0.05)


def _install() -> None:
    from django.core.mail import EmailMessage

    from billing.collections.services import run

    if os.environ.get("COLLECTIONS_BATCH_SIZE"):
        run.BATCH_SIZE = int(os.environ["COLLECTIONS_BATCH_SIZE"])
    if not os.environ.get("PAUSE_AT"):
        return
    point, _sep, nth = os.environ["PAUSE_AT"].partition(":")
    wanted = int(nth or 1)
    seen = {"count": 0}

    def reached() -> None:
        seen["count"] += 1
        if seen["count"] == wanted:
            _pause(point)

    if point in ("batch-start", "batch-written"):
        chase_batch = run.chase_batch

        def pausing_chase_batch(**kwargs: Any) -> Any:
            if point == "batch-start":
                reached()
            taken = chase_batch(**kwargs)
            if point == "batch-written":
                reached()
            return taken

        run.chase_batch = pausing_chase_batch  # type: ignore[assignment]
    elif point == "email-sent":
        send = EmailMessage.send

        def pausing_send(self: EmailMessage, fail_silently: bool = False) -> int:
            sent = send(self, fail_silently)
            reached()
            return sent

        EmailMessage.send = pausing_send  # type: ignore[method-assign]
    else:
        raise SystemExit(f"PAUSE_AT: no point {point!r}")


def main() -> None:
    import django

    django.setup()
    _install()
    from celery.__main__ import main as celery_main

    sys.argv = ["celery", *sys.argv[1:]]
    celery_main()


if __name__ == "__main__":
    main()
