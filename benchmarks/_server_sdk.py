"""The kili SDK's side of benchmarks/server_bench.py, run with the Python of the kili venv (``.venv-kili``),
never labelport's. ``KILI_API_KEY`` and ``KILI_API_ENDPOINT`` name the server and the caller; the result is
one JSON line on stdout.

    python _server_sdk.py record PROJECT_ID ASSET_ID FIELDS_JSON RESPONSE_JSON
        the HTTP requests (headers, JSON body) the SDK sends for ``kili.assets(PROJECT_ID, fields=FIELDS,
        first=100, skip=100)`` and for ``kili.append_labels`` of one DEFAULT label on ASSET_ID, as the
        load phases replay them;
    python _server_sdk.py assets PROJECT_ID FIELDS_JSON
        ``kili.assets(PROJECT_ID, fields=FIELDS)``, timed by a timer around the call, and a digest of
        the answer (the caller compares it with labelport's own ``Client.assets``);
    python _server_sdk.py export PROJECT_ID FILENAME
        ``kili.export_labels(PROJECT_ID, FILENAME, fmt="kili", with_assets=False)``, timed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import time
from typing import Any

GRAPHQL_HEADERS = ("Content-Type", "Accept", "Authorization", "X-Kili-Client-Name", "X-Kili-Client-Version")


def _recording() -> list[dict[str, Any]]:
    """Every GraphQL request the SDK sends from now on (body decompressed), in order."""
    import requests.adapters

    sent: list[dict[str, Any]] = []
    original = requests.adapters.HTTPAdapter.send

    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        body = request.body
        if isinstance(body, bytes) and request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if request.method == "POST" and body:
            headers = {name: value for name, value in request.headers.items() if name in GRAPHQL_HEADERS}
            sent.append({"headers": headers, "body": json.loads(body)})
        return original(self, request, *args, **kwargs)

    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]
    return sent


def _operation(sent: list[dict[str, Any]], root: str) -> dict[str, Any]:
    for request in sent:
        if f"{root}(" in request["body"].get("query", ""):
            return request
    raise SystemExit(f"the SDK sent no {root} request; it sent: {[r['body'].get('query', '')[:80] for r in sent]}")


def picked(value: Any, fields: list[str]) -> Any:
    """Only the dotted ``fields`` of answers (the SDK adds a few to those asked for: ``content``,
    ``jsonContent``, ``resolution`` and ``jsonResponseUrl`` with ``labels.jsonResponse``)."""
    if isinstance(value, list):
        return [picked(item, fields) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for head in dict.fromkeys(name.partition(".")[0] for name in fields):
        if head in value:
            inner = [name.partition(".")[2] for name in fields if name.startswith(head + ".")]
            out[head] = picked(value[head], inner) if inner else value[head]
    return out


def digest(rows: list[dict[str, Any]]) -> str:
    """A digest of answers as JSON with sorted keys (server_bench.py compares Client.assets' with it)."""
    return hashlib.sha256(json.dumps(rows, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def main(argv: list[str]) -> dict[str, Any]:
    from kili.client import Kili

    mode = argv[0]
    if mode == "record":
        project_id, asset_id, fields, response = argv[1], argv[2], json.loads(argv[3]), json.loads(argv[4])
        kili = Kili(disable_tqdm=True)
        sent = _recording()
        kili.assets(project_id, fields=fields, first=100, skip=100, disable_tqdm=True)
        assets = _operation(sent, "assets")
        sent.clear()
        kili.append_labels(
            asset_id_array=[asset_id], json_response_array=[response], label_type="DEFAULT", disable_tqdm=True
        )
        return {"assets": assets, "append": _operation(sent, "appendManyLabels")}
    if mode == "assets":
        project_id, fields = argv[1], json.loads(argv[2])
        kili = Kili(disable_tqdm=True)
        start = time.perf_counter()
        rows = kili.assets(project_id, fields=fields, disable_tqdm=True)
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "count": len(rows), "digest": digest(picked(list(rows), fields))}
    if mode == "export":
        project_id, filename = argv[1], argv[2]
        kili = Kili(disable_tqdm=True)
        start = time.perf_counter()
        kili.export_labels(project_id, filename, fmt="kili", with_assets=False, disable_tqdm=True)
        return {"seconds": time.perf_counter() - start}
    raise SystemExit(f"unknown mode {mode!r}: record, assets or export")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
