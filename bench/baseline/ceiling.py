"""The ceiling: one bare endpoint on the same server stack (uvicorn, FastAPI, orjson).

No middleware, no database, a fixed small JSON body: the most requests per second a
one-worker FastAPI server reaches on this machine. Every API figure is also shown as
a fraction of this one, to tell framework cost from the endpoints' own work.
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI
from starlette.responses import Response

BODY = orjson.dumps({"items": [], "next_cursor": None})


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/bare")
    async def bare() -> Response:
        return Response(BODY, media_type="application/json")

    return app
