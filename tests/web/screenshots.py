"""Screenshots of the web UI's main pages for the docs: ``python -m tests.web.screenshots`` builds the demo
project in a temporary folder, serves it on a free port, and writes docs/img/web-*.png (1280×800
viewport, headless Chromium from Debian's packages)."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

import labelport
from labelport.demo import ADMIN_EMAIL, build_demo_project
from labelport.server.app import ServerConfig, create_app
from labelport.services import sign_in
from tests.web.test_browser import CHROMEDRIVER, CHROMIUM, _free_port, _viewport

OUT = Path(__file__).resolve().parents[2] / "docs" / "img"
PASSWORD = "screenshot password"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        url = f"sqlite:///{root / 'demo.db'}"
        with labelport.Client(url, ADMIN_EMAIL, media_dir=root / "media", disable_tqdm=True) as client:
            built = build_demo_project(client, root / "scenes", scenes=24)
            sign_in.set_password(client.ctx, ADMIN_EMAIL, PASSWORD)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(ServerConfig(url, root / "media")), host="127.0.0.1", port=port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--window-size=1280,800",
            "--force-device-scale-factor=1",
            "--hide-scrollbars",
        ):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        _viewport(driver, 1280, 800)
        base = f"http://127.0.0.1:{port}"
        try:
            driver.get(base + "/signin")
            driver.find_element(By.ID, "email").send_keys(ADMIN_EMAIL)
            driver.find_element(By.ID, "password").send_keys(PASSWORD)
            driver.find_element(By.XPATH, "//button[text()='Sign in']").click()
            time.sleep(0.5)
            project = f"{base}/projects/{built.project_id}"
            with labelport.Client(url, ADMIN_EMAIL, media_dir=root / "media", disable_tqdm=True) as client:
                asset_id = client.assets(built.project_id, fields=["id"], external_id_strictly_in=[built.reviewed[0]])[
                    0
                ]["id"]
            pages = {
                "web-projects": base + "/",
                "web-assets": project + "/assets?consensus_mark_gte=0.5",
                "web-asset": f"{project}/assets/{asset_id}",
                "web-quality": project + "/quality",
                "web-export": project + "/export",
            }
            OUT.mkdir(parents=True, exist_ok=True)
            for name, address in pages.items():
                driver.get(address)
                time.sleep(1.0)  # thumbnails are made on first request
                target = OUT / f"{name}.png"
                driver.save_screenshot(str(target))
                with Image.open(target) as shot:  # small files: a palette of 128 colours
                    shot.convert("RGB").quantize(128).save(target, optimize=True)
                print(f"wrote {target}")
        finally:
            driver.quit()
            server.should_exit = True
            thread.join(timeout=10)


if __name__ == "__main__":
    main()
