"""The inspection team's web pages: triage each flag, decide, see what changed since last night.

``python -m zhaoshang web --host 127.0.0.1 --port 8765`` serves them (``make web``). The pages
read the published warehouse (``zhaoshang.web.data.open_inspection_db``) and write decisions
to the decisions store (``zhaoshang.decisions``); the nightly run feeds those into
``audit.dq_flags`` (``zhaoshang.triage``). Users: ``python -m zhaoshang users add NAME --role R``.

FastAPI is imported only by ``create_app``/``serve``, so the nightly run never loads it.
"""

from __future__ import annotations

from zhaoshang.settings import Settings


def create_app(settings: Settings):
    from zhaoshang.web.app import create_app as build

    return build(settings)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8765) -> None:
    import uvicorn

    # access_log off: request lines are not needed and a query string is user input
    uvicorn.run(create_app(settings), host=host, port=port, access_log=False, log_level="info")
