"""Credentials for a FHIR server: bearer token, HTTP basic, or OAuth2 client credentials.

Secrets are read from an environment variable or a file (never from the command line, where
`ps` and shell history would keep them). Every secret read is registered with `redact`, which
the CLI applies to everything it prints: a secret never reaches a terminal, a log or an error
message, even when a server echoes it back.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from generator.diagnostics import Diagnostic, GeneratorError

_SECRETS: set[str] = set()
_MASK = "***"


def redact(text: str) -> str:
    """`text` with every secret this process has read replaced by ***."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return text


def _remember(secret: str) -> str:
    if len(secret) >= 4:  # shorter strings would mask ordinary words; such secrets are refused anyway
        _SECRETS.add(secret)
    return secret


def _unusable(message: str) -> GeneratorError:
    return GeneratorError([Diagnostic("SERVER004", message)], exit_code=2)


def read_secret(env: str | None, file: str | None, what: str) -> str | None:
    """The secret from environment variable `env` or file `file` (one of them), None when neither."""
    if env and file:
        raise _unusable(f"{what}: give the environment variable or the file, not both")
    if env:
        value = os.environ.get(env)
        if not value:
            raise _unusable(f"{what}: environment variable {env} is not set")
    elif file:
        try:
            value = Path(file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise _unusable(f"{what}: cannot read {file} ({type(exc).__name__})") from None
        if not value:
            raise _unusable(f"{what}: {file} is empty")
    else:
        return None
    if len(value) < 4:
        raise _unusable(f"{what}: the secret is shorter than 4 characters")
    return _remember(value)


class BearerAuth(httpx.Auth):
    def __init__(self, token: str):
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


class ClientCredentialsAuth(httpx.Auth):
    """OAuth2 client credentials (RFC 6749 4.4): the client authenticates with HTTP basic at the
    token URL; the access token is fetched on first use and once more when the server says 401."""

    requires_response_body = True

    def __init__(self, token_url: str, client_id: str, secret: str, scope: str | None, timeout: float):
        self._token_url, self._client_id, self._secret, self._scope = token_url, client_id, secret, scope
        self._timeout = timeout
        self._token: str | None = None
        self._lock = threading.Lock()

    def _fetch(self) -> str:
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        try:
            response = httpx.post(self._token_url, data=form, auth=(self._client_id, self._secret),
                                  timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise GeneratorError([Diagnostic("SERVER013", f"OAuth2 token URL {self._token_url} unreachable "
                                                          f"({type(exc).__name__})")], exit_code=2) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status_code != 200 or not isinstance(token, str) or not token:
            code = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else ""
            raise GeneratorError([Diagnostic("SERVER013", f"OAuth2 token request refused by {self._token_url}: "
                                                          f"HTTP {response.status_code} {code[:40]}".rstrip())],
                                 exit_code=2)
        return _remember(token)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            if self._token is None:
                self._token = self._fetch()
            token = self._token
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:  # expired or revoked: one fresh token, one more try
            with self._lock:
                if self._token == token:
                    self._token = self._fetch()
                token = self._token
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth({self._token_url}, {self._client_id}, ***)"


@dataclass(frozen=True)
class Credentials:
    """What `cpg load` authenticates with; `describe` says which kind without the secret."""

    auth: httpx.Auth | None = field(default=None, repr=False)
    kind: str = "none"

    def describe(self) -> str:
        return self.kind


def read_credentials(*, token_env: str | None = None, token_file: str | None = None,
                     basic_env: str | None = None, basic_file: str | None = None,
                     oauth_token_url: str | None = None, client_id: str | None = None,
                     client_secret_env: str | None = None, client_secret_file: str | None = None,
                     scope: str | None = None, timeout: float = 30.0) -> Credentials:
    """One kind of credentials from the options (SERVER004/SERVER005 when unusable)."""
    token = read_secret(token_env, token_file, "bearer token")
    basic = read_secret(basic_env, basic_file, "basic credentials")
    secret = read_secret(client_secret_env, client_secret_file, "OAuth2 client secret")
    oauth = oauth_token_url is not None or client_id is not None or secret is not None
    if sum(map(bool, (token, basic, oauth))) > 1:
        raise GeneratorError([Diagnostic("SERVER005", "choose one authentication: bearer token, basic, or OAuth2 "
                                                      "client credentials")], exit_code=2)
    if token:
        return Credentials(BearerAuth(token), "bearer token")
    if basic:
        user, colon, password = basic.partition(":")
        if not colon:
            raise _unusable("basic credentials must be user:password")
        _remember(password)
        _remember(base64.b64encode(basic.encode("utf-8")).decode("ascii"))  # as it travels in the header
        return Credentials(httpx.BasicAuth(user, password), "basic")
    if oauth:
        if not (oauth_token_url and client_id and secret):
            raise GeneratorError([Diagnostic("SERVER005", "OAuth2 client credentials need --oauth-token-url, "
                                                          "--client-id and a client secret (env or file)")],
                                 exit_code=2)
        return Credentials(ClientCredentialsAuth(oauth_token_url, client_id, secret, scope, timeout),
                           "OAuth2 client credentials")
    return Credentials()
