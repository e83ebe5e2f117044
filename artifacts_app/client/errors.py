"""Exceptions raised by the client. Every one carries the server's message when there is one."""


class ArtifactsError(Exception):
    """Base class for every client error."""

    def __init__(self, message: str, status_code: int | None = None, body=None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body


class ArtifactNotFound(ArtifactsError):
    """404: no artifact with that id or key."""


class AuthenticationError(ArtifactsError):
    """401/403: missing, wrong or revoked ARTIFACTS_API_TOKEN."""


class ValidationError(ArtifactsError):
    """4xx for bad input (422/400/413): the message names the field the server refused."""


class ServerError(ArtifactsError):
    """5xx after all retries, or the server could not be reached."""
