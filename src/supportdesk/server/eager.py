"""Start a coroutine on the caller's task, and hand it to a task only if it must wait.

The relay forwards each RFB frame to a WebSocket whose send almost never waits (the
transport takes the bytes at once). Sending through a task costs a trip through the
event loop per frame, which under load is most of the relay's added latency; sending
inline would let one slow viewer stall the whole applet link when its send does wait.
``start_eagerly`` does the first without the risk of the second: it runs the
coroutine until it finishes or first suspends, and only in the second case wraps the
rest in a task. This is what Python 3.12's eager task factory does for every task;
on 3.11 we do it for the one call that needs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def start_eagerly(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coroutine`` now; None if it finished, else the task that finishes it.

    Exceptions raised before the first suspension propagate to the caller.
    """
    try:
        waiting_on = coroutine.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_resume(coroutine, waiting_on))


async def _resume(coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> None:
    # Drive the coroutine as a task would: wait for what it yielded, then resume it
    # with None (the awaited future's __await__ fetches its own result), or with the
    # exception if the wait failed. A cancelled task closes the coroutine (its
    # finally blocks run) and stays cancelled.
    while True:
        try:
            if waiting_on is None:  # a bare yield: give the loop one turn
                await asyncio.sleep(0)
            else:
                # The coroutine yielded this future to its task, setting its
                # "blocking" flag; a task clears the flag when it takes the future
                # over, and so must we before awaiting it ourselves.
                waiting_on._asyncio_future_blocking = False
                await waiting_on
        except asyncio.CancelledError:
            coroutine.close()
            raise
        except Exception as exc:
            try:
                waiting_on = coroutine.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting_on = coroutine.send(None)
        except StopIteration:
            return
