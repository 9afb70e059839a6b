"""The web UI's pages: sign-in, projects, and per project its assets, quality, export, members and
settings; the account page with the user's API keys.

Each page is thin: it checks the session (and, for a POST, the CSRF token), builds the acting context
of the signed-in user, calls the services (which check the roles), and renders a Jinja2 template
(autoescaped). A page the user may not see answers 403 or 404 with the service's message; an
unknown session is sent to the sign-in page (GET) or refused with 401 (POST).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from labelport import __version__
from labelport.colors import category_colors
from labelport.enums import AssetStatus, LabelType, ProjectRole
from labelport.errors import FilterError, LabelportError, NotFound, PermissionDenied
from labelport.export import formats
from labelport.server.web import auth, draw, thumbs
from labelport.services import api_keys, browse, queries, sign_in, users
from labelport.services.context import ActingContext
from labelport.store.engine import Store
from labelport.timeutil import now_ts

HERE = Path(__file__).parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
#: The tabs of a project, in order: (label, path suffix).
TABS = (
    ("Assets", "assets"),
    ("Quality", "quality"),
    ("Export", "export"),
    ("Members", "members"),
    ("Settings", "settings"),
)
#: Asset filters of the filter bar taking several values (checkboxes or comma-separated text).
LIST_FILTERS = ("status_in", "label_type_in", "label_labeler_in", "label_reviewer_in", "external_id_in")
#: Asset filters taking a number.
NUMBER_FILTERS = ("consensus_mark_gte", "consensus_mark_lte", "honeypot_mark_gte", "honeypot_mark_lte")
PAGE_SIZE = 48
_SAFE_NEXT = re.compile(r"^/(?!/)[^\s\\]*$")


@dataclass
class Web:
    """One request as a page sees it."""

    request: Request
    store: Store
    session: sign_in.Session
    form: dict[str, str] = field(default_factory=dict)

    @property
    def ctx(self) -> ActingContext:
        return ActingContext(self.store, self.session.email, new_user_role=None, disable_tqdm=True)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return render(self.request, template, status, session=self.session, **values)


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(request=request, version=__version__, tabs=TABS, **values)
    headers = {
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    return HTMLResponse(html, status_code=status, headers=headers)


Handler = Callable[[Web], Response]


def page(get_store: Callable[[], Store], handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint: the session checked (and the CSRF token, for a POST), the handler run in a thread,
    labelport errors shown as pages with their message."""

    async def endpoint(request: Request) -> Response:
        store = get_store()
        session = await auth.current_session(request, store)
        if request.method == "POST":
            form = await auth.read_form(request)
            if form is None:
                return _refused(request, 400, "The request body is not a form (or is larger than 1 MiB).")
            if session is None:
                return _refused(request, 401, "Sign in first: this request has no valid session.")
            if not auth.csrf_ok(session, request, form):
                return _refused(request, 403, "This request lacks the CSRF token of your session; reload the page.")
        else:
            form = {}
            if session is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
        web = Web(request, store, session, form)
        try:
            return await run_in_threadpool(handler, web)
        except PermissionDenied as error:
            return web.render("error.html", 403, title="Not allowed", message=str(error))
        except NotFound as error:
            return web.render("error.html", 404, title="Not found", message=str(error))
        except LabelportError as error:
            return web.render("error.html", 400, title="Not possible", message=str(error))

    return endpoint


def _refused(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", status, session=None, title="Refused", message=message)


# -- sign-in ------------------------------------------------------------------------------------------


def _next(value: str | None) -> str:
    return value if value and _SAFE_NEXT.match(value) and not value.startswith("/signin") else "/"


async def sign_in_page(request: Request, store: Store) -> Response:
    token = auth.sign_in_token(request)
    error, status, email = None, 200, ""
    target = _next(request.query_params.get("next"))
    if request.method == "POST":
        form = await auth.read_form(request) or {}
        target = _next(form.get("next"))
        email = form.get("email", "")
        if not auth.sign_in_token_ok(request, form):
            error, status = "The sign-in form expired; try again.", 403
        else:
            opened = await run_in_threadpool(sign_in.sign_in, store, email, form.get("password", ""))
            if opened is not None:
                redirect = RedirectResponse(target, status_code=303)
                auth.set_session_cookie(redirect, request, opened[0])
                return redirect
            error, status = "Wrong email or password (or no password set: `labelport user set-password EMAIL`).", 401
    response = render(request, "signin.html", status, session=None, csrf=token, error=error, email=email, next=target)
    auth.set_sign_in_cookie(response, request, token)
    return response


def sign_out(web: Web) -> Response:
    sign_in.sign_out(web.store, web.request.cookies.get(auth.SESSION_COOKIE))
    response = RedirectResponse("/signin", status_code=303)
    auth.clear_session_cookie(response)
    return response


# -- projects -----------------------------------------------------------------------------------------


def projects_page(web: Web) -> Response:
    rows = browse.project_summaries(web.ctx)
    return web.render("projects.html", projects=rows, statuses=list(AssetStatus))


def _project(web: Web) -> browse.ProjectView:
    return browse.project_view(web.ctx, web.request.path_params["project_id"])


def settings_page(web: Web) -> Response:
    view = _project(web)
    return web.render("settings.html", view=view, tab="settings", colors=category_colors(view.info.ontology))


# -- assets -------------------------------------------------------------------------------------------


def asset_filters(params: Mapping[str, Any], getlist: Callable[[str], list[str]]) -> dict[str, Any]:
    """The ``assets()`` filters a filter bar's query string asks for (empty fields ignored)."""
    found: dict[str, Any] = {}
    for name in LIST_FILTERS:
        values = [part.strip() for value in getlist(name) for part in value.split(",") if part.strip()]
        if values:
            found[name] = values
    for name in NUMBER_FILTERS:
        value = (params.get(name) or "").strip()
        if value:
            try:
                found[name] = float(value)
            except ValueError:
                raise FilterError(f"Filter {name}: {value!r} is not a number.") from None
    honeypot = params.get("is_honeypot") or ""
    if honeypot in ("true", "false"):
        found["is_honeypot"] = honeypot == "true"
    key, value = (params.get("metadata_key") or "").strip(), (params.get("metadata_value") or "").strip()
    if key:
        found["metadata_where"] = {key: value}
    return found


def _query_without(request: Request, *names: str) -> str:
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in names and v != ""]
    return urlencode(pairs)


def assets_page(web: Web) -> Response:
    view = _project(web)
    request = web.request
    error = None
    page_ = browse.AssetPage([], None, 0)
    try:
        filters_ = asset_filters(request.query_params, request.query_params.getlist)
        page_ = browse.asset_page(web.ctx, view.info.id, filters_, request.query_params.get("after") or None, PAGE_SIZE)
    except LabelportError as failure:
        if isinstance(failure, PermissionDenied | NotFound):
            raise
        error = str(failure)
    cells = [
        {
            "asset": asset,
            "shapes": draw.shapes(
                (asset.get("latestLabel") or {}).get("jsonResponse"),
                view.info.ontology,
                *_size(asset),
            ),
            "size": _size(asset),
        }
        for asset in page_.assets
    ]
    base = _query_without(request, "after")
    return web.render(
        "assets.html",
        view=view,
        tab="assets",
        cells=cells,
        page=page_,
        error=error,
        params=request.query_params,
        statuses=list(AssetStatus),
        label_types=[t for t in LabelType if t != LabelType.AUTOSAVE],
        next_query=(base + "&" if base else "") + urlencode({"after": page_.next_after}) if page_.next_after else None,
        first_query=base if request.query_params.get("after") else None,
        filter_query=base,
    )


def _size(asset: Mapping[str, Any]) -> tuple[int | None, int | None]:
    resolution = asset.get("resolution") or {}
    return resolution.get("width"), resolution.get("height")


def asset_page(web: Web) -> Response:
    view = _project(web)
    asset = browse.asset_detail(web.ctx, view.info.id, web.request.path_params["asset_id"])
    width, height = _size(asset)
    latest_id = (asset.get("latestLabel") or {}).get("id")
    labels = []
    frame_numbers: set[int] = set()
    for label in reversed(asset.get("labels") or []):
        response = label.get("jsonResponse")
        frames = draw.frames_of(response) if view.info.input_type == "VIDEO" else None
        if frames is not None:
            frame_numbers.update(frames)
            per_frame = {n: draw.shapes(r, view.info.ontology, width, height) for n, r in sorted(frames.items())}
            answers = [(n, a) for n, r in sorted(frames.items()) for a in draw.answers(r, view.info.ontology)]
        else:
            per_frame = {0: draw.shapes(response, view.info.ontology, width, height)}
            answers = [(None, a) for a in draw.answers(response, view.info.ontology)]  # type: ignore[misc]
        labels.append({"label": label, "frames": per_frame, "answers": answers, "latest": label["id"] == latest_id})
    if labels and not any(item["latest"] for item in labels):
        labels[0]["latest"] = True
    frame_total = 0
    if view.info.input_type == "VIDEO":
        frame_total = max([*frame_numbers, -1]) + 1
    jobs = [job for job in view.info.ontology if job.is_object_job]
    return web.render(
        "asset.html",
        view=view,
        tab="assets",
        asset=asset,
        labels=labels,
        jobs=jobs,
        colors=category_colors(view.info.ontology),
        width=width,
        height=height,
        frame_total=frame_total,
        back=web.request.query_params.get("back", ""),
    )


def _image(web: Web, thumbnail: bool) -> Response:
    params = web.request.path_params
    frame_text = web.request.query_params.get("frame")
    frame = int(frame_text) if frame_text and frame_text.isdigit() else None
    source = browse.image_source(web.ctx, params["project_id"], params["asset_id"], frame)
    version = thumbs.version_of(source)
    if version is None or source.path is None:
        raise NotFound(
            f"Asset {params['asset_id']!r} has no picture stored here"
            + (f" (its content is the URL {source.url}, which the server does not fetch)." if source.url else ".")
        )
    etag = f'"{version}-{"t" if thumbnail else "f"}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
    if web.request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if thumbnail:
        made = thumbs.thumbnail(web.store.media_dir, source, version)
        if made is None:
            raise NotFound(f"The picture of asset {params['asset_id']!r} is not an image Pillow reads.")
        return FileResponse(made, media_type="image/jpeg", headers=headers)
    if not thumbs.is_image(source.path):
        raise NotFound(f"The picture of asset {params['asset_id']!r} is not an image Pillow reads.")
    media_type = mimetypes.guess_type(source.path.name)[0] or "application/octet-stream"
    return FileResponse(source.path, media_type=media_type, headers=headers)


def thumbnail_route(web: Web) -> Response:
    return _image(web, True)


def image_route(web: Web) -> Response:
    return _image(web, False)


# -- quality ------------------------------------------------------------------------------------------


def quality_page(web: Web) -> Response:
    view = _project(web)
    found = browse.quality(web.ctx, view.info.id)
    lowers = [0.0, *browse.BUCKETS[:-1]]
    charts = []
    for name, counts, none in (
        ("consensus", found.consensus, found.consensus_none),
        ("honeypot", found.honeypot, found.honeypot_none),
    ):
        bars = [
            {
                "low": low,
                "high": high,
                "count": count,
                "query": urlencode({f"{name}_mark_gte": low, f"{name}_mark_lte": high}),
            }
            for low, high, count in zip(lowers, browse.BUCKETS, counts, strict=True)
        ]
        charts.append({"name": name, "bars": bars, "none": none, "top": max([*counts, 1])})
    return web.render("quality.html", view=view, tab="quality", quality=found, charts=charts)


# -- export -------------------------------------------------------------------------------------------


def export_page(web: Web) -> Response:
    view = _project(web)
    names = sorted({spec.name for spec in formats.specs()})
    filter_query = _query_without(web.request)
    filters_: dict[str, Any] = {}
    error = None
    try:
        filters_ = asset_filters(web.request.query_params, web.request.query_params.getlist)
        matched = queries.count_assets(web.ctx, view.info.id, filters_) if filters_ else None
    except LabelportError as failure:
        if isinstance(failure, PermissionDenied | NotFound):
            raise
        error, matched = str(failure), None
    return web.render(
        "export.html",
        view=view,
        tab="export",
        formats=names,
        label_types=[t for t in LabelType if t != LabelType.AUTOSAVE],
        filters=filters_,
        filter_query=filter_query,
        matched=matched,
        error=error,
    )


# -- members ------------------------------------------------------------------------------------------


def members_page(web: Web, message: str | None = None, error: str | None = None, status: int = 200) -> Response:
    view = _project(web)
    fields = ["id", "role", "activated", "user.email", "user.firstname", "user.lastname", "createdAt"]
    members = list(queries.project_users(web.ctx, view.info.id, fields, disable_tqdm=True))
    return web.render(
        "members.html",
        status,
        view=view,
        tab="members",
        members=members,
        roles=list(ProjectRole),
        message=message,
        error=error,
    )


def members_post(web: Web) -> Response:
    project_id = web.request.path_params["project_id"]
    action = web.form.get("action")
    try:
        if action == "add":
            users.append_to_roles(web.ctx, project_id, web.form.get("email", ""), web.form.get("role", ""))
            done = f"Added {web.form.get('email', '').strip().lower()} as {web.form.get('role')}."
        elif action == "role":
            users.update_properties_in_role(web.ctx, web.form.get("role_id", ""), web.form.get("role", ""))
            done = f"Changed the role to {web.form.get('role')}."
        elif action == "remove":
            users.delete_from_roles(web.ctx, web.form.get("role_id", ""))
            done = "Removed the member."
        else:
            return members_page(web, error=f"Unknown action {action!r}.", status=400)
    except PermissionDenied as error:
        return members_page(web, error=str(error), status=403)
    except LabelportError as error:
        return members_page(web, error=str(error), status=400)
    return RedirectResponse(f"/projects/{quote(project_id)}/members?{urlencode({'done': done})}", status_code=303)


# -- account: API keys --------------------------------------------------------------------------------


def account_page(web: Web, created: str | None = None, error: str | None = None, status: int = 200) -> Response:
    keys = api_keys.list_api_keys(web.ctx, web.session.email)
    return web.render("account.html", status, keys=keys, created=created, error=error, now=now_ts())


def account_post(web: Web) -> Response:
    action = web.form.get("action")
    try:
        if action == "create":
            key = api_keys.create_api_key(web.ctx, web.session.email, web.form.get("name") or None)
            return account_page(web, created=key)
        if action == "revoke":
            api_keys.revoke_api_key(web.ctx, web.form.get("key_id", ""))
            return RedirectResponse("/account?done=revoked", status_code=303)
    except LabelportError as error:
        return account_page(web, error=str(error), status=403 if isinstance(error, PermissionDenied) else 400)
    return account_page(web, error=f"Unknown action {action!r}.", status=400)


# -- routes -------------------------------------------------------------------------------------------


def routes(get_store: Callable[[], Store]) -> list[BaseRoute]:
    """The web UI's routes, for the server's application (``get_store``: the store once opened)."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        return page(get_store, handler)

    async def sign_in_route(request: Request) -> Response:
        return await sign_in_page(request, get_store())

    project = "/projects/{project_id}"
    asset = project + "/assets/{asset_id}"

    async def project_root(request: Request) -> Response:
        return RedirectResponse(f"/projects/{quote(request.path_params['project_id'])}/assets", status_code=303)

    return [
        Route("/", wrap(projects_page), methods=["GET"]),
        Route("/signin", sign_in_route, methods=["GET", "POST"]),
        Route("/signout", wrap(sign_out), methods=["POST"]),
        Route("/account", wrap(account_page), methods=["GET"]),
        Route("/account", wrap(account_post), methods=["POST"]),
        Route(project, project_root, methods=["GET"]),
        Route(project + "/assets", wrap(assets_page), methods=["GET"]),
        Route(asset, wrap(asset_page), methods=["GET"]),
        Route(asset + "/thumbnail", wrap(thumbnail_route), methods=["GET"]),
        Route(asset + "/image", wrap(image_route), methods=["GET"]),
        Route(project + "/quality", wrap(quality_page), methods=["GET"]),
        Route(project + "/export", wrap(export_page), methods=["GET"]),
        Route(project + "/members", wrap(members_page), methods=["GET"]),
        Route(project + "/members", wrap(members_post), methods=["POST"]),
        Route(project + "/settings", wrap(settings_page), methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
