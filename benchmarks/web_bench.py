"""The web UI's server time on a 100,000-asset project: each page rendered in-process (Starlette's test
client, so the time is the server's: routing, session, services, SQL, template), median of several runs.

The project is export_bench's (100,000 image assets, 3 labels each, marks computed; built once into
benchmarks/out/). Baseline in the same run: the grid's page at the same depth read with OFFSET paging
(``skip``), which keyset paging replaces. Run: ``python benchmarks/web_bench.py [--assets N]``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_bench import cached_project, copy_to_postgres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="10,000 assets")
    parser.add_argument("--postgres", metavar="URL", help="also on PostgreSQL: the project copied into a new schema")
    args = parser.parse_args()
    if args.quick:
        args.assets = 10_000

    database, info = cached_project(args.assets, rebuild=False)
    backends = [("SQLite", f"sqlite:///{database}")]
    prepare(backends[0][1], info["project"], database.parent / "web-bench-media")
    if args.postgres:  # a copy of the prepared store
        backends.append(("PostgreSQL", copy_to_postgres(database, args.postgres)))
    for backend, url in backends:
        measure(backend, url, info["project"], database.parent / "web-bench-media", args)


ADMIN = "bench@labelport.local"
PASSWORD = "benchmark password"


def prepare(url, project, media) -> None:
    """The admin's password (which ends their sessions) and export_bench's labelers as members of the
    project (the Quality page's table)."""
    import labelport
    from labelport.services import sign_in

    with labelport.Client(url, ADMIN, media_dir=media, disable_tqdm=True) as client:
        sign_in.set_password(client.ctx, ADMIN, PASSWORD)
        for index in range(3):
            client.append_to_roles(project, f"user{index}@bench.io", "LABELER")


def measure(backend, url, project, media, args) -> None:
    from starlette.testclient import TestClient

    import labelport
    from labelport.server.app import ServerConfig, create_app
    from labelport.services import browse
    from labelport.services.context import ActingContext
    from labelport.store import query

    admin = ADMIN
    with labelport.Client(url, admin, media_dir=media, disable_tqdm=True) as client:
        ids = [row["id"] for row in client.assets(project, fields=["id"], disable_tqdm=True)]
    deep_after = ids[-100]

    def timed(call) -> float:
        samples = []
        for _ in range(args.runs):
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples) * 1000

    rows: list[tuple[str, float]] = []
    with TestClient(create_app(ServerConfig(url, media))) as http:
        page = http.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        http.post("/signin", data={"email": admin, "password": PASSWORD, "csrf_token": token})
        base = f"/projects/{project}"
        pages = {
            "projects /": "/",
            "assets, first page": base + "/assets",
            "assets, a page near the end (keyset)": base + f"/assets?after={deep_after}",
            "assets, consensus ≥ 0.5": base + "/assets?consensus_mark_gte=0.5",
            "assets, status LABELED + labeler": base + "/assets?status_in=LABELED&label_labeler_in=user0%40bench.io",
            "asset page": base + f"/assets/{ids[len(ids) // 2]}",
            "quality": base + "/quality",
            "settings": base + "/settings",
            "members": base + "/members",
            "export form": base + "/export",
        }
        for name, path in pages.items():
            response = http.get(path)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
            rows.append((name, timed(lambda path=path: http.get(path))))

    store = labelport.Client(url, admin, media_dir=media, disable_tqdm=True)
    ctx = ActingContext(store.store, admin, new_user_role=None, disable_tqdm=True)
    project_pk = _pk(store, project)
    after_pk = len(ids) - 99  # the pk of deep_after (ids[-100]): export_bench's store holds this project only
    fields = list(browse.GRID_FIELDS)

    def page(where, skip=0):
        return list(query.stream(store.store, "Asset", fields, where, first=48, skip=skip, disable_tqdm=True))

    assert page([browse.A.c.project_pk == project_pk], skip=len(ids) - 99) == page(
        [browse.A.c.project_pk == project_pk, browse.A.c.pk > after_pk]
    )
    offset = timed(lambda: page([browse.A.c.project_pk == project_pk], skip=len(ids) - 99))
    keyset = timed(lambda: page([browse.A.c.project_pk == project_pk, browse.A.c.pk > after_pk]))
    service = timed(lambda: browse.asset_page(ctx, project, {}, deep_after, 48))
    store.close()

    print(f"web UI server time, {args.assets:,} assets, {backend}, median of {args.runs} runs")
    print(f"{'page':48} {'ms':>8}")
    for name, ms in rows:
        print(f"{name:48} {ms:8.1f}")
    print()
    print(f"{'grid page near the end (services only)':48} {'ms':>8} {'ratio':>7}")
    print(f"{'OFFSET paging (skip) — baseline':48} {offset:8.1f} {1.0:7.2f}")
    print(f"{'keyset paging (pk > the last one)':48} {keyset:8.1f} {keyset / offset:7.2f}")
    print(f"{'browse.asset_page (keyset + the total count)':48} {service:8.1f} {service / offset:7.2f}")


def _pk(client, project_id: str) -> int:
    from labelport.services.lookups import get_project

    with client.store.read() as conn:
        return get_project(conn, project_id).pk


if __name__ == "__main__":
    main()
