"""RFC 9457 problem+json errors with stable codes, as the generated app answers them.

FastAPI's own validation errors (query string, JSON syntax) are translated here;
constraint violations are mapped to 409/422 without showing the database's message.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.responses import Response

TITLES = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
          412: "Precondition Failed", 413: "Content Too Large", 415: "Unsupported Media Type",
          422: "Unprocessable Content", 500: "Internal Server Error"}
# Query-string fields whose errors have a code of their own; any other field's is invalid_parameter.
QUERY_CODES = {"limit": "invalid_limit", "sort": "invalid_sort", "include": "invalid_include"}
UNIQUE = {"uq_products_sku": ["sku"], "uq_products_supplier_id_name": ["supplier_id", "name"],
          "products.sku": ["sku"], "products.supplier_id, products.name": ["supplier_id", "name"]}


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str, errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.errors, self.headers = status, code, detail, errors, headers


def invalid(field: str, message: str, code: str) -> ApiError:
    return ApiError(422, "validation_failed", "The request is not valid.",
                    [{"field": field, "message": message, "code": code}])


def not_found() -> ApiError:
    return ApiError(404, "not_found", "No such Product.")


def render(request: Request, error: ApiError) -> Response:
    document: dict[str, Any] = {
        "type": f"urn:catalog:problem:{error.code}", "title": TITLES.get(error.status, "Error"),
        "status": error.status, "detail": error.detail, "instance": request.url.path, "code": error.code,
        "request_id": request.scope.get("state", {}).get("request_id"),
    }
    if error.errors:
        document["errors"] = error.errors
    return Response(orjson.dumps(document), error.status, headers=error.headers,
                    media_type="application/problem+json")


def from_validation(errors: Any) -> ApiError:
    """Pydantic's errors, named by field; the values sent are never echoed back."""
    out = []
    for error in errors:
        where, *path = error["loc"] if error["loc"] else ("body",)
        if error["type"] == "json_invalid":
            return ApiError(400, "malformed_json", "The request body is not valid JSON.")
        field = "/".join(str(part) for part in path)
        code = error["type"]
        if where == "query":
            code = "unknown_parameter" if code == "extra_forbidden" else QUERY_CODES.get(field, "invalid_parameter")
        out.append({"field": field, "message": "unknown field" if code == "extra_forbidden" else error["msg"],
                    "code": code})
    return ApiError(422, "validation_failed", "The request is not valid.", out)


def from_integrity(exc: IntegrityError) -> ApiError:
    message = str(exc.orig)
    for constraint, fields in UNIQUE.items():
        if constraint in message:
            return ApiError(409, "already_exists", f"Another record already has this {', '.join(fields)}.",
                            [{"field": f, "message": "is already taken", "code": "unique"} for f in fields])
    return ApiError(409, "conflict", "The change conflicts with the data already stored.")


def install(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return render(request, exc)

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return render(request, from_validation(exc.errors()))

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return render(request, ApiError(exc.status_code, code, TITLES.get(exc.status_code, "Error")))

    async def unexpected(request: Request, exc: Exception) -> Response:
        return render(request, ApiError(500, "internal_error", "Something went wrong on our side."))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(Exception, unexpected)
