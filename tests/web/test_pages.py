"""Every page of the web UI through Starlette's test client: sign-in, sessions and CSRF, what each role
sees and may do, the grid's filters and keyset paging, thumbnails and their cache headers."""

from __future__ import annotations

import re
from html import unescape

import pytest
from click.testing import CliRunner

import labelport
from labelport.cli import main
from labelport.demo import ADMIN_EMAIL
from labelport.services import browse, sign_in
from labelport.services.api_keys import authenticate, list_api_keys
from labelport.services.context import ActingContext
from labelport.store.engine import Store
from tests.web.conftest import ALICE, CAROL, MANAGER, OUTSIDER, PASSWORD, csrf_of, sign_in_as


def _client(web_store):
    return labelport.Client(web_store.url, ADMIN_EMAIL, media_dir=web_store.media, disable_tqdm=True)


def _asset_ids(html):
    return re.findall(r'data-asset-id="([^"]+)"', html)


# -- sign-in, sessions, CSRF --------------------------------------------------------------------------


def test_pages_need_a_session(app_client, web_store):
    for path in ("/", f"/projects/{web_store.project_id}/assets", "/account"):
        response = app_client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=")
    thumbnail = app_client.get(f"/projects/{web_store.project_id}/assets/x/thumbnail", follow_redirects=False)
    assert thumbnail.status_code == 303 and thumbnail.headers.get("content-type", "").startswith("image/") is False


def test_the_sign_in_form_and_its_cookie(app_client):
    page = app_client.get("/signin")
    assert page.status_code == 200
    for text in ('<label for="email">Email</label>', '<label for="password">Password</label>', ">Sign in</button>"):
        assert text in page.text
    response = app_client.post(
        "/signin",
        data={"email": ALICE, "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": "/account"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/account"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lp_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie


def test_a_wrong_password_or_unknown_email_is_refused_alike(app_client):
    for email, password in ((ALICE, "wrong password"), ("nobody@example.com", PASSWORD)):
        page = app_client.get("/signin")
        response = app_client.post(
            "/signin", data={"email": email, "password": password, "csrf_token": csrf_of(page.text)}, follow_redirects=False
        )
        assert response.status_code == 401
        assert "Wrong email or password" in response.text
        assert "lp_session" not in response.headers.get("set-cookie", "")


def test_the_sign_in_form_needs_its_csrf_token(app_client):
    app_client.get("/signin")
    response = app_client.post("/signin", data={"email": ALICE, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403 and "lp_session" not in response.headers.get("set-cookie", "")


def test_a_post_without_session_or_csrf_token_is_refused(app_client, web_store):
    path = f"/projects/{web_store.project_id}/members"
    form = {"action": "add", "email": "new@example.com", "role": "LABELER"}
    assert app_client.post(path, data=form, follow_redirects=False).status_code == 401
    token = sign_in_as(app_client, ADMIN_EMAIL)
    assert app_client.post(path, data=form, follow_redirects=False).status_code == 403
    assert app_client.post(path, data={**form, "csrf_token": "forged"}, follow_redirects=False).status_code == 403
    with _client(web_store) as client:
        assert client.count_project_users(web_store.project_id, email="new@example.com") == 0
    response = app_client.post(path, data={**form, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    with _client(web_store) as client:
        assert client.count_project_users(web_store.project_id, email="new@example.com") == 1
    # the header works as well as the form field (the pages' JavaScript sends it)
    response = app_client.post(
        "/account", data={"action": "create", "name": "js"}, headers={"X-CSRF-Token": token}, follow_redirects=False
    )
    assert response.status_code == 200 and 'id="new-key"' in response.text


def test_signing_out_ends_the_session_on_the_server(app_client, web_store):
    token = sign_in_as(app_client, ALICE)
    cookie = app_client.cookies.get("lp_session")
    response = app_client.post("/signout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    app_client.cookies.set("lp_session", cookie)  # a copy of the old cookie no longer works
    assert app_client.get("/", follow_redirects=False).status_code == 303
    store = Store(web_store.url, web_store.media)
    try:
        assert sign_in.session(store, cookie) is None
    finally:
        store.close()


def test_set_password_from_the_command_line(web_store, monkeypatch):
    monkeypatch.setenv("LABELPORT_USER_EMAIL", ADMIN_EMAIL)
    monkeypatch.setenv("LABELPORT_MEDIA_DIR", str(web_store.media))
    runner = CliRunner()
    result = runner.invoke(
        main, ["user", "set-password", ALICE, "--password-stdin", "--db", web_store.url], input="a new secret\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Set the web UI password of {ALICE}.\n"
    store = Store(web_store.url, web_store.media)
    try:
        assert sign_in.sign_in(store, ALICE, PASSWORD) is None
        assert sign_in.sign_in(store, ALICE, "a new secret") is not None
    finally:
        store.close()
    short = runner.invoke(main, ["user", "set-password", ALICE, "--password-stdin", "--db", web_store.url], input="x\n")
    assert short.exit_code == 1
    assert short.stderr == f"Error: The password of {ALICE!r} must have at least 8 characters.\n"
    monkeypatch.setenv("LABELPORT_USER_EMAIL", ALICE)  # a LABELER may not set another user's password
    other = runner.invoke(
        main, ["user", "set-password", CAROL, "--password-stdin", "--db", web_store.url], input="long enough\n"
    )
    assert other.exit_code == 1
    assert other.stderr == (
        f"Error: User {ALICE!r} is not an organization ADMIN; setting the password of {CAROL!r} needs one.\n"
    )


# -- projects, settings -------------------------------------------------------------------------------


def test_the_projects_page_lists_what_the_user_may_see(app_client, web_store):
    sign_in_as(app_client, ALICE)
    page = app_client.get("/").text
    assert "Shapes demo" in page and web_store.project_id in page
    assert "Other project" not in page and web_store.other_project_id not in page
    assert app_client.get(f"/projects/{web_store.other_project_id}/assets").status_code == 403
    assert app_client.get(f"/projects/{web_store.other_project_id}/settings").status_code == 403
    assert app_client.get("/projects/no-such-project/assets").status_code == 404


def test_the_projects_page_shows_counts_by_status(app_client, web_store):
    sign_in_as(app_client, ADMIN_EMAIL)
    page = app_client.get("/").text
    with _client(web_store) as client:
        statuses = [a["status"] for a in client.assets(web_store.project_id, fields=["status"])]
    row = page[page.index("Shapes demo") :].split("</tr>")[0]
    cells = re.findall(r'<td class="num">([\d,]+)</td>', row)
    expected = [len(statuses)] + [statuses.count(s) for s in ("TODO", "ONGOING", "LABELED", "TO_REVIEW", "REVIEWED")]
    assert [int(c.replace(",", "")) for c in cells] == expected
    assert f'data-copy="{web_store.project_id}"' in row


def test_settings_show_the_project_id_ontology_and_quality_settings(app_client, web_store):
    sign_in_as(app_client, ALICE)
    page = app_client.get(f"/projects/{web_store.project_id}/settings").text
    assert f'<dt>Project ID</dt><dd><code id="project-id">{web_store.project_id}</code>' in page
    for tab in ("Assets", "Quality", "Export", "Members", "Settings"):
        assert f">{tab}</a>" in page
    for text in ("SHAPES", "TRIANGLES", "WATER", "Square", 'fill="#FFD600"', "Consensus coverage</dt><dd>100 %"):
        assert text in page
    assert "<dt>Honeypot</dt><dd>on</dd>" in page


# -- assets -------------------------------------------------------------------------------------------


def test_the_grid_filters_like_assets(app_client, web_store):
    sign_in_as(app_client, ALICE)
    base = f"/projects/{web_store.project_id}/assets"
    with _client(web_store) as client:
        cases = {
            "consensus_mark_gte=0.5": {"consensus_mark_gte": 0.5},
            "consensus_mark_lte=0.9&status_in=LABELED&status_in=REVIEWED": {
                "consensus_mark_lte": 0.9,
                "status_in": ["LABELED", "REVIEWED"],
            },
            "is_honeypot=true": {"is_honeypot": True},
            "label_type_in=REVIEW": {"label_type_in": ["REVIEW"]},
            f"label_labeler_in={ALICE}": {"label_labeler_in": [ALICE]},
            "external_id_in=scene_00": {"external_id_in": ["scene_00"]},
            "metadata_key=lake&metadata_value=True": {"metadata_where": {"lake": "True"}},
        }
        for query, filters in cases.items():
            expected = [a["id"] for a in client.assets(web_store.project_id, fields=["id"], **filters)]
            page = app_client.get(f"{base}?{query}")
            assert page.status_code == 200
            assert _asset_ids(page.text) == expected, query
            assert f'<span id="matched">{len(expected)}</span>' in page.text
    assert len(_asset_ids(app_client.get(base).text)) == 8
    bad = app_client.get(f"{base}?consensus_mark_gte=high")
    assert bad.status_code == 200 and "Filter consensus_mark_gte: &#39;high&#39; is not a number." in bad.text


def test_keyset_pages_cover_every_asset_once(web_store):
    store = Store(web_store.url, web_store.media)
    try:
        ctx = ActingContext(store, ALICE, new_user_role=None, disable_tqdm=True)
        seen, after, pages = [], None, 0
        while True:
            page = browse.asset_page(ctx, web_store.project_id, {}, after, size=3)
            seen += [a["id"] for a in page.assets]
            pages += 1
            assert page.total == 8
            if page.next_after is None:
                break
            after = page.next_after
        with _client(web_store) as client:
            assert seen == [a["id"] for a in client.assets(web_store.project_id, fields=["id"])]
        assert pages == 3
        with pytest.raises(labelport.NotFound, match="Asset 'nope' does not exist in project"):
            browse.asset_page(ctx, web_store.project_id, {}, "nope")
        with pytest.raises(labelport.PermissionDenied, match="is not a member of project"):
            browse.asset_page(ActingContext(store, OUTSIDER, new_user_role=None), web_store.project_id, {})
    finally:
        store.close()


def test_grid_cells_draw_the_latest_label(app_client, web_store):
    sign_in_as(app_client, ALICE)
    page = app_client.get(f"/projects/{web_store.project_id}/assets").text
    with _client(web_store) as client:
        assets = client.assets(web_store.project_id, fields=["id", "latestLabel.jsonResponse"])
    for asset in assets:
        cell = page[page.index(f'data-asset-id="{asset["id"]}"') :].split("</li>")[0]
        response = asset["latestLabel"]["jsonResponse"]
        mids = [a["mid"] for job in ("SHAPES", "TRIANGLES", "WATER") for a in response.get(job, {}).get("annotations", [])]
        assert re.findall(r'data-mid="([^"]+)"', cell) == mids
        assert f'/assets/{asset["id"]}/thumbnail"' in cell


def test_the_asset_page_lists_every_label(app_client, web_store):
    sign_in_as(app_client, CAROL)
    with _client(web_store) as client:
        asset = client.assets(
            web_store.project_id, fields=["id", "latestLabel.id", "labels.id"], external_id_strictly_in=["scene_001"]
        )[0]
    page = app_client.get(f"/projects/{web_store.project_id}/assets/{asset['id']}").text
    label_ids = re.findall(r'data-label-id="([^"]+)"', page)
    assert sorted(label_ids) == sorted(label["id"] for label in asset["labels"])
    assert len(label_ids) == 3  # two labelers and a review
    hidden = re.findall(r'<g class="label hidden" data-label-id="([^"]+)"', page)
    assert sorted(set(label_ids) - set(hidden)) == [asset["latestLabel"]["id"]]
    assert 'data-toggle-category="SHAPES/SQUARE"' in page and 'data-toggle-job="WATER"' in page


def test_thumbnails_and_images_with_cache_headers(app_client, web_store):
    sign_in_as(app_client, ALICE)
    with _client(web_store) as client:
        asset_id = client.assets(web_store.project_id, fields=["id"], first=1)[0]["id"]
    url = f"/projects/{web_store.project_id}/assets/{asset_id}/thumbnail"
    first = app_client.get(url)
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert first.content[:3] == b"\xff\xd8\xff"
    assert first.headers["cache-control"] == "private, max-age=86400"
    again = app_client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert list((web_store.media / ".thumbnails").rglob("*.jpg")) != []
    image = app_client.get(f"/projects/{web_store.project_id}/assets/{asset_id}/image")
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    sign_in_as(app_client, OUTSIDER)
    assert app_client.get(url).status_code == 403


# -- quality, export, members, API keys ---------------------------------------------------------------


def test_quality_tables_and_charts_link_to_their_assets(app_client, web_store):
    sign_in_as(app_client, ALICE)
    page = app_client.get(f"/projects/{web_store.project_id}/quality").text
    with _client(web_store) as client:
        marks = [a["consensusMark"] for a in client.assets(web_store.project_id, fields=["consensusMark"])]
        members = client.project_users(web_store.project_id, fields=["user.email", "consensusMark"])
    assert f"?label_labeler_in={ALICE.replace('@', '%40')}" in page
    for member in members:
        if member["consensusMark"] is not None:
            assert f"{member['consensusMark']:.3f}" in page
    counts = [int(c) for c in re.findall(r'<text x="\d+" y="[\d.]+" class="count">(\d+)</text>', page)]
    assert sum(counts[:10]) == sum(m is not None for m in marks)
    assert "consensus_mark_gte=0.9&amp;consensus_mark_lte=1.0" in page


def test_the_export_form_has_every_option(app_client, web_store):
    sign_in_as(app_client, MANAGER)
    page = app_client.get(f"/projects/{web_store.project_id}/export?consensus_mark_gte=0.5").text
    for text in (
        '<label for="fmt">Format</label>',
        '<option value="kili" selected>kili</option>',
        '<option value="coco">coco</option>',
        '<option value="split" selected>split</option>',
        'name="with_assets" checked> Include assets',
        'name="single_file"> Single file',
        'name="include_sent_back_labels" checked>',
        '<option value="latest" selected>latest</option>',
        'value="DEFAULT" checked',
        'value="REVIEW" checked',
        'value="PREDICTION">',
        'id="split_seed" name="split_seed" type="number" value="0"',
        '<label for="workers">Workers</label>',
        '<label for="external_ids">External ids</label>',
        '<label for="split">Train/val/test split</label>',
        'name="split_stratify">',
        'name="strict">',
        '<label for="normalized_coordinates">Normalized coordinates</label>',
        ">Start export</button>",
        'role="progressbar"',
        'aria-valuenow="0"',
        'data-filters="{&#34;consensus_mark_gte&#34;: 0.5}"',
    ):
        assert text in page, text
    sign_in_as(app_client, ALICE)
    refused = app_client.get(f"/projects/{web_store.project_id}/export").text
    assert "Exporting this project needs the TEAM_MANAGER role" in refused and "Start export" not in refused


def test_members_are_managed_by_those_allowed(app_client, web_store):
    path = f"/projects/{web_store.project_id}/members"
    token = sign_in_as(app_client, ALICE)
    page = app_client.get(path).text
    assert "carol@demo.labelport" in page and "Add member" not in page and "Change role" not in page
    refused = app_client.post(path, data={"action": "add", "email": "x@example.com", "role": "LABELER", "csrf_token": token})
    assert refused.status_code == 403
    assert f"User {ALICE!r} is a LABELER of project" in unescape(refused.text)

    token = sign_in_as(app_client, MANAGER)
    added = app_client.post(path, data={"action": "add", "email": "x@example.com", "role": "REVIEWER", "csrf_token": token})
    assert added.status_code == 200 and "Added x@example.com as REVIEWER." in added.text
    with _client(web_store) as client:
        role = client.project_users(web_store.project_id, email="x@example.com", fields=["id", "role"])[0]
    assert role["role"] == "REVIEWER"
    changed = app_client.post(path, data={"action": "role", "role_id": role["id"], "role": "LABELER", "csrf_token": token})
    assert changed.status_code == 200 and "Changed the role to LABELER." in changed.text
    admin = app_client.post(path, data={"action": "role", "role_id": role["id"], "role": "ADMIN", "csrf_token": token})
    assert admin.status_code == 403 and "needs the ADMIN role" in unescape(admin.text)
    removed = app_client.post(path, data={"action": "remove", "role_id": role["id"], "csrf_token": token})
    assert removed.status_code == 200 and "Removed the member." in removed.text
    with _client(web_store) as client:
        assert client.count_project_users(web_store.project_id, email="x@example.com") == 0


def test_each_user_creates_and_revokes_their_own_api_keys(app_client, web_store):
    token = sign_in_as(app_client, ALICE)
    created = app_client.post("/account", data={"action": "create", "name": "notebook", "csrf_token": token})
    key = re.search(r'<code id="new-key">(lp_[^<]+)</code>', created.text).group(1)
    listing = app_client.get("/account").text
    assert key not in listing and f"<code>{key[:8]}…</code>" in listing and "notebook" in listing
    store = Store(web_store.url, web_store.media)
    try:
        assert authenticate(store, {"X-API-Key": key}).email == ALICE
        key_id = list_api_keys(ActingContext(store, ALICE, new_user_role=None), ALICE)[0]["id"]
        # another user's key cannot be revoked from here
        other = sign_in_as(app_client, CAROL)
        refused = app_client.post("/account", data={"action": "revoke", "key_id": key_id, "csrf_token": other})
        assert refused.status_code == 403
        token = sign_in_as(app_client, ALICE)
        revoked = app_client.post("/account", data={"action": "revoke", "key_id": key_id, "csrf_token": token})
        assert revoked.status_code == 200 and "The key is revoked." in revoked.text
        assert authenticate(store, {"X-API-Key": key}) is None
    finally:
        store.close()


def test_pages_carry_security_headers_and_escape_text(app_client, web_store):
    with _client(web_store) as client:
        client.update_properties_in_project(web_store.project_id, title="<script>alert(1)</script>")
    sign_in_as(app_client, ALICE)
    page = app_client.get("/")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["cache-control"] == "no-store"
    static = app_client.get("/static/app.js")
    assert static.status_code == 200 and "function setUpExportPage" in static.text


def test_json_routes_find_the_session_only_with_its_csrf_token(app_client, web_store):
    """What the export jobs' API uses to accept the pages' requests (auth.session_email)."""
    from labelport.server.web.auth import session_email

    token = sign_in_as(app_client, ALICE)
    cookies = {"lp_session": app_client.cookies.get("lp_session")}
    store = Store(web_store.url, web_store.media)
    try:
        assert session_email(store, "GET", cookies, {}) == ALICE
        assert session_email(store, "POST", cookies, {}) is None
        assert session_email(store, "POST", cookies, {"x-csrf-token": "forged"}) is None
        assert session_email(store, "POST", cookies, {"x-csrf-token": token}) == ALICE
        assert session_email(store, "GET", {"lp_session": "unknown"}, {}) is None
    finally:
        store.close()


def test_a_text_asset_shows_its_text(app_client, web_store):
    interface = {"jobs": {"T": {"mlTask": "TRANSCRIPTION", "instruction": "Summary", "content": {"input": "textField"}}}}
    with _client(web_store) as client:
        project = client.create_project("Texts", "TEXT", interface)["id"]
        client.append_many_to_dataset(project, content_array=["Once <b>upon</b> a time"], external_id_array=["t1"])
        client.append_labels(
            project_id=project, asset_external_id_array=["t1"], json_response_array=[{"T": {"text": "a tale"}}]
        )
        asset_id = client.assets(project, fields=["id"])[0]["id"]
    sign_in_as(app_client, ADMIN_EMAIL)
    page = app_client.get(f"/projects/{project}/assets/{asset_id}").text
    assert '<pre class="text-asset">Once &lt;b&gt;upon&lt;/b&gt; a time</pre>' in page
    assert "Summary: <strong>a tale</strong>" in page


def test_the_export_jobs_api_takes_the_session_and_a_post_only_with_its_csrf_token(app_client, web_store):
    token = sign_in_as(app_client, ADMIN_EMAIL)
    listed = app_client.get(f"/api/exports?project_id={web_store.project_id}")
    assert listed.status_code == 200 and listed.json() == {"jobs": []}
    body = {"project_id": web_store.project_id, "fmt": "no_such_format"}
    assert app_client.post("/api/exports", json=body).status_code == 401  # the session's cookie, no token
    assert app_client.post("/api/exports", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 401
    refused = app_client.post("/api/exports", json=body, headers={"X-CSRF-Token": token})
    assert refused.status_code == 400  # signed in: the request reaches the options, which name the format
    assert "no_such_format" in refused.json()["errors"][0]["message"]
    app_client.cookies.clear()
    assert app_client.get(f"/api/exports?project_id={web_store.project_id}").status_code == 401
