"""Errors the sandbox answers with, in ConnectWise's body shape."""

STATUS_CODES = {
    400: "InvalidObject", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    409: "Conflict", 429: "TooManyRequests", 500: "ConnectWiseApi", 502: "BadGateway",
    503: "ServiceUnavailable", 504: "GatewayTimeout",
}


class ApiError(Exception):
    """A request the sandbox refuses; ``body`` is what ConnectWise would send."""

    def __init__(self, status, message, code=None, errors=None):
        super().__init__(message)
        self.status = status
        self.body = {"code": code or STATUS_CODES.get(status, "ConnectWiseApi"), "message": message}
        if errors:
            self.body["errors"] = errors


def field_error(resource, field, message, code="InvalidField"):
    """One entry of an InvalidObject body's ``errors`` list."""
    return {"code": code, "message": message, "resource": resource, "field": field}


def invalid_object(resource, errors):
    """The 400 ConnectWise answers a write that fails validation with."""
    return ApiError(400, f"{resource} object is invalid", "InvalidObject", errors)


def not_found(what):
    return ApiError(404, f"{what} was not found", "NotFound")
