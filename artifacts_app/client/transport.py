"""HTTP to the artifacts API with httpx: one sync and one async client, same behaviour.

Configured by ARTIFACTS_API_URL (default http://127.0.0.1:8000/api) and ARTIFACTS_API_TOKEN.
Retries with exponential backoff on connection errors, 5xx and 429 (honouring Retry-After)."""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .errors import (
    ArtifactNotFound,
    ArtifactsError,
    AuthenticationError,
    ServerError,
    ValidationError,
)

DEFAULT_URL = "http://127.0.0.1:8000/api"
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class Request:
    method: str
    path: str
    json: Any = None
    params: dict | None = None
    ok_404: bool = False  # a 404 answers None instead of raising
    best_effort: bool = False  # any failure answers None instead of raising (run names)


@dataclass
class Settings:
    api_url: str = field(default_factory=lambda: os.environ.get("ARTIFACTS_API_URL") or DEFAULT_URL)
    api_token: str | None = field(
        default_factory=lambda: os.environ.get("ARTIFACTS_API_TOKEN") or None
    )
    timeout: float = field(
        default_factory=lambda: float(os.environ.get("ARTIFACTS_API_TIMEOUT", "30"))
    )
    retries: int = field(default_factory=lambda: int(os.environ.get("ARTIFACTS_API_RETRIES", "3")))
    backoff: float = 0.25

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "artifacts-dashboard-client"}
        if self.api_token:
            headers["Authorization"] = f"Bearer {self.api_token}"
        return headers


def _message(response: httpx.Response) -> tuple[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase, None
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"]), body
    return str(body)[:500], body


def raise_for(response: httpx.Response, request: Request):
    status = response.status_code
    if status < 400:
        return
    message, body = _message(response)
    text = f"{request.method} {request.path}: {status} {message}"
    if status == 404:
        raise ArtifactNotFound(text, status, body)
    if status in (401, 403):
        raise AuthenticationError(text, status, body)
    if status >= 500 or status == 429:
        raise ServerError(text, status, body)
    if 400 <= status < 500:
        raise ValidationError(text, status, body)
    raise ArtifactsError(text, status, body)


def _delay(settings: Settings, attempt: int, response: httpx.Response | None) -> float:
    if response is not None:
        retry_after = response.headers.get("Retry-After")
        if retry_after:
            try:
                return min(float(retry_after), 30.0)
            except ValueError:
                pass
    return settings.backoff * (2**attempt) * (1 + random.random() / 4)


def _result(response: httpx.Response, request: Request):
    if request.ok_404 and response.status_code == 404:
        return None
    raise_for(response, request)
    if response.status_code == 204 or not response.content:
        return None
    return response.json()


class _Retry(Exception):
    """Internal: the attempt failed in a way worth retrying after `delay` seconds."""

    def __init__(self, delay: float):
        self.delay = delay


class _BaseClient:
    http_class: type = httpx.Client

    def __init__(self, api_url: str | None = None, api_token: str | None = None, **options):
        self.settings = Settings(**options)
        if api_url:
            self.settings.api_url = api_url
        if api_token:
            self.settings.api_token = api_token
        self._http = self.http_class(
            base_url=self.settings.api_url.rstrip("/") + "/",
            headers=self.settings.headers(),
            timeout=self.settings.timeout,
        )

    def _kwargs(self, request: Request) -> dict:
        return {
            "method": request.method,
            "url": request.path.lstrip("/"),
            "json": request.json,
            "params": request.params,
        }

    def _outcome(self, request: Request, attempt: int, response=None, error=None):
        """The answer, or _Retry(delay) while attempts remain; ServerError when none do."""
        last = attempt == self.settings.retries
        if response is not None and (response.status_code not in RETRY_STATUSES or last):
            return _result(response, request)
        if last:
            raise ServerError(f"Cannot reach {self.settings.api_url}: {error}") from error
        raise _Retry(_delay(self.settings, attempt, response))


class ArtifactsClient(_BaseClient):
    """A synchronous client. `with ArtifactsClient() as client:` or pass `client=` to helpers."""

    def send(self, request: Request):
        if request.best_effort:
            try:
                return self._send(request)
            except ArtifactsError:
                return None
        return self._send(request)

    def _send(self, request: Request):
        for attempt in range(self.settings.retries + 1):
            try:
                try:
                    response = self._http.request(**self._kwargs(request))
                except httpx.TransportError as exc:
                    return self._outcome(request, attempt, error=exc)
                return self._outcome(request, attempt, response=response)
            except _Retry as retry:
                time.sleep(retry.delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self):
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class AsyncArtifactsClient(_BaseClient):
    """The asynchronous twin of ArtifactsClient (`async with AsyncArtifactsClient() as client:`)."""

    http_class = httpx.AsyncClient

    async def send(self, request: Request):
        if request.best_effort:
            try:
                return await self._send(request)
            except ArtifactsError:
                return None
        return await self._send(request)

    async def _send(self, request: Request):
        for attempt in range(self.settings.retries + 1):
            try:
                try:
                    response = await self._http.request(**self._kwargs(request))
                except httpx.TransportError as exc:
                    return self._outcome(request, attempt, error=exc)
                return self._outcome(request, attempt, response=response)
            except _Retry as retry:
                await asyncio.sleep(retry.delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self):
        await self._http.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()
