"""The web UI in a real browser: headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
installed by .ci/run) driven by Selenium, against ``labelport serve``'s application running on a free
port of 127.0.0.1 (stopped at the end of each test)."""

from __future__ import annotations

import io
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from PIL import Image

import labelport
from labelport.demo import ADMIN_EMAIL
from labelport.server.app import ServerConfig, create_app
from tests.web.conftest import ALICE, PASSWORD, WebStore

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver; .ci/run does)",
)
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WAIT = 20  # seconds a page may take to show what a step waits for (an upper bound, not a measurement)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(web_store: WebStore) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        create_app(ServerConfig(web_store.url, web_store.media)), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not instance.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=WAIT)


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,800",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    _viewport(driver, 1280, 800)
    try:
        yield driver
    finally:
        driver.quit()


def _viewport(driver, width: int, height: int) -> None:
    """Make the page's viewport (not the window) ``width`` × ``height`` CSS pixels."""
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    outer = driver.get_window_size()
    driver.set_window_size(outer["width"] + width - inner[0], outer["height"] + height - inner[1])


def _wait(driver, condition):
    return WebDriverWait(driver, WAIT).until(condition)


def _sign_in(driver, base: str, email: str) -> None:
    driver.get(base + "/")
    _wait(driver, lambda d: "/signin" in d.current_url)
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.XPATH, "//button[text()='Sign in']").click()
    _wait(driver, lambda d: d.find_elements(By.XPATH, "//h1[text()='Projects']"))


def _client(web_store: WebStore) -> labelport.Client:
    return labelport.Client(web_store.url, ADMIN_EMAIL, media_dir=web_store.media, disable_tqdm=True)


def test_find_the_project_filter_and_see_a_box_where_it_is(server, browser, web_store):
    _sign_in(browser, server, ADMIN_EMAIL)
    # find the seed-like project and read its ID on "Settings"
    browser.find_element(By.LINK_TEXT, "Shapes demo").click()
    browser.find_element(By.LINK_TEXT, "Settings").click()
    shown_id = _wait(browser, lambda d: d.find_element(By.ID, "project-id")).text
    assert shown_id == web_store.project_id

    # filter the assets to consensus ≥ 0.5
    browser.find_element(By.LINK_TEXT, "Assets").click()
    field = _wait(browser, lambda d: d.find_element(By.NAME, "consensus_mark_gte"))
    field.send_keys("0.5")
    browser.find_element(By.XPATH, "//button[text()='Filter']").click()
    _wait(browser, lambda d: "consensus_mark_gte=0.5" in d.current_url)
    with _client(web_store) as client:
        expected = client.assets(
            web_store.project_id, fields=["id", "externalId", "latestLabel.jsonResponse"], consensus_mark_gte=0.5
        )
    assert expected, "the demo project has assets with a consensus of 0.5 or more"
    cells = browser.find_elements(By.CSS_SELECTOR, "li.cell")
    assert [c.get_attribute("data-asset-id") for c in cells] == [a["id"] for a in expected]
    assert browser.find_element(By.ID, "matched").text == str(len(expected))

    # open an asset and check that its box is drawn at the right pixels
    asset = expected[0]
    cells[0].find_element(By.TAG_NAME, "a").click()
    picture = _wait(browser, lambda d: d.find_element(By.ID, "picture"))
    _wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    box = asset["latestLabel"]["jsonResponse"]["SHAPES"]["annotations"][0]
    xs = [v["x"] for v in box["boundingPoly"][0]["normalizedVertices"]]
    ys = [v["y"] for v in box["boundingPoly"][0]["normalizedVertices"]]
    color = (0xFF, 0xD6, 0x00) if box["categories"][0]["name"] == "SQUARE" else (0xFF, 0x6D, 0x00)
    shape = picture.find_element(By.CSS_SELECTOR, f'g.label:not(.hidden) [data-mid="{box["mid"]}"]')
    assert shape.get_attribute("data-category") == box["categories"][0]["name"]
    assert shape.tag_name == "rect"
    rect = browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center'}); const r = arguments[0].getBoundingClientRect();"
        "return [r.left, r.top, r.width, r.height, window.innerWidth, window.innerHeight];",
        picture,
    )
    left, top, width, height, view_width, view_height = rect
    assert top >= 0 and top + height <= view_height and left + width <= view_width  # all of it on the screenshot
    assert (width, height) == (720, 540)  # the demo's 320×240 images, shown larger
    screenshot = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
    x0, x1 = left + min(xs) * width, left + max(xs) * width
    y0, y1 = top + min(ys) * height, top + max(ys) * height
    middle_x, middle_y = (x0 + x1) / 2, (y0 + y1) / 2
    edges = {"left": (x0, middle_y), "right": (x1, middle_y), "top": (middle_x, y0), "bottom": (middle_x, y1)}
    for name, (x, y) in edges.items():
        # the stroke is 2 px wide, centred on the edge: one of the pixels touching the edge has the colour
        found = [screenshot.getpixel((int(x) + dx, int(y) + dy)) for dx in (-1, 0) for dy in (-1, 0)]
        assert any(sum(abs(a - b) for a, b in zip(p, color, strict=True)) < 40 for p in found), (name, found)
    # five pixels inside the box, the stroke is not there
    inside = screenshot.getpixel((int(x0) + 5, int(middle_y)))
    assert sum(abs(a - b) for a, b in zip(inside, color, strict=True)) >= 40

    # hiding the category hides its shapes
    browser.find_element(
        By.CSS_SELECTOR, f'input[data-toggle-category="SHAPES/{box["categories"][0]["name"]}"]'
    ).click()
    assert not shape.is_displayed()


def test_a_labeler_does_not_see_a_project_they_are_not_in(server, browser, web_store):
    _sign_in(browser, server, ALICE)
    body = browser.find_element(By.TAG_NAME, "main").text
    assert "Shapes demo" in body and "Other project" not in body
    browser.get(f"{server}/projects/{web_store.other_project_id}/assets")
    heading = _wait(browser, lambda d: d.find_element(By.TAG_NAME, "h1"))
    assert heading.text == "Not allowed"
    assert (
        f"is not a member of project '{web_store.other_project_id}'"
        in browser.find_element(By.CSS_SELECTOR, "p.error").text
    )


def test_requests_without_session_or_csrf_token_are_refused(server, browser, web_store):
    _sign_in(browser, server, ADMIN_EMAIL)
    path = f"/projects/{web_store.project_id}/members"
    post = (
        "const [url, headers, done] = arguments;"
        "fetch(url, {method: 'POST', credentials: 'same-origin', headers: Object.assign("
        "{'Content-Type': 'application/x-www-form-urlencoded'}, headers),"
        " body: 'action=add&email=mallory%40example.com&role=ADMIN'}).then(r => done(r.status));"
    )
    assert browser.execute_async_script(post, path, {}) == 403  # the session's cookie, no CSRF token
    assert browser.execute_async_script(post, path, {"X-CSRF-Token": "forged"}) == 403
    token = browser.find_element(By.CSS_SELECTOR, 'meta[name="csrf-token"]').get_attribute("content")
    browser.delete_cookie("lp_session")
    assert browser.execute_async_script(post, path, {"X-CSRF-Token": token}) == 401  # no session
    with _client(web_store) as client:
        assert client.count_project_users(web_store.project_id, email="mallory@example.com") == 0


def test_export_coco_with_assets_from_the_browser(server, browser, web_store):
    _sign_in(browser, server, ADMIN_EMAIL)
    browser.get(f"{server}/projects/{web_store.project_id}/export")
    form = _wait(browser, lambda d: d.find_element(By.ID, "export-form"))
    form.find_element(By.CSS_SELECTOR, "#fmt option[value='coco']").click()
    include = form.find_element(By.ID, "with_assets")
    assert include.is_selected()
    browser.find_element(By.XPATH, "//button[text()='Start export']").click()
    bar = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[role='progressbar']"))
    WebDriverWait(browser, 120).until(lambda d: bar.get_attribute("aria-valuenow") == "100")
    link = _wait(browser, lambda d: d.find_element(By.LINK_TEXT, "Download"))
    _wait(browser, lambda d: link.is_displayed())
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    archive = httpx.get(link.get_attribute("href"), cookies=cookies, timeout=60)
    assert archive.status_code == 200
    from pycocotools.coco import COCO

    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        names = zipped.namelist()
        annotation_files = [n for n in names if n.endswith("labels.json")]
        assert annotation_files, names
        target = Path(web_store.media).parent / "coco.json"
        target.write_bytes(zipped.read(annotation_files[0]))
        assert sum(n.lower().endswith(".png") for n in names) == len(web_store.external_ids)
    coco = COCO(str(target))
    assert len(coco.getImgIds()) == len(web_store.external_ids)
