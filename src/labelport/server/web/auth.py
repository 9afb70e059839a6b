"""Who a browser request is: the session cookie, and the CSRF token its state-changing requests carry.

The cookie ``lp_session`` holds a random session token (HttpOnly, SameSite=Lax, Secure over HTTPS);
the store keeps its hash and the session's CSRF token (:mod:`labelport.services.sign_in`). Every form
carries the CSRF token in a hidden ``csrf_token`` field, and the pages' JavaScript sends it as the
``X-CSRF-Token`` header; a POST without the session's token is refused with HTTP 403. The sign-in
form, posted before there is a session, carries a double-submit token: the same random value in the
``lp_signin`` cookie and in the form.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from labelport.services import sign_in
from labelport.store.engine import Store

SESSION_COOKIE = "lp_session"
SIGN_IN_COOKIE = "lp_signin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: The most a form body may hold.
MAX_FORM_BYTES = 1 << 20


async def current_session(request: Request, store: Store) -> sign_in.Session | None:
    """The session of the request's cookie, None when it has none (or it ended)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return await run_in_threadpool(sign_in.session, store, token)


def session_email(store: Store, method: str, cookies: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    """For the JSON routes the pages call (the export jobs' API), in a worker thread: the email of the
    signed-in user of the request's session cookie; for a method other than GET and HEAD, only when the
    request also carries the session's CSRF token in the ``X-CSRF-Token`` header. None otherwise (the
    route then tries an API key, or answers 401)."""
    found = sign_in.session(store, cookies.get(SESSION_COOKIE))
    if found is None:
        return None
    if method.upper() not in ("GET", "HEAD") and not sign_in.csrf_matches(found, headers.get(CSRF_HEADER)):
        return None
    return found.email


def csrf_ok(session: sign_in.Session, request: Request, form: dict[str, str]) -> bool:
    """Whether a state-changing request carries its session's CSRF token (form field or header)."""
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    return sign_in.csrf_matches(session, given)


async def read_form(request: Request) -> dict[str, str] | None:
    """A url-encoded form body as a dict of single values (the last of repeated names is kept, except
    that repeated names are joined by newlines); None when the body is too large or not a form."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", ""):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=1000)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: "\n".join(values) for name, values in parsed.items()}


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=sign_in.SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def sign_in_token(request: Request) -> str:
    """The double-submit token of the sign-in form: the browser's cookie, or a new one."""
    found = request.cookies.get(SIGN_IN_COOKIE)
    return found if found and 20 <= len(found) <= 100 else secrets.token_urlsafe(24)


def set_sign_in_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SIGN_IN_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/signin"
    )


def sign_in_token_ok(request: Request, form: dict[str, str]) -> bool:
    cookie, given = request.cookies.get(SIGN_IN_COOKIE), form.get(CSRF_FIELD)
    return bool(cookie and given) and hmac.compare_digest(str(cookie).encode(), str(given).encode())
