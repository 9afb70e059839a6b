"""A media file is never deleted while a committed asset uses it, whatever the interleaving.

Three writers race, each with its own client (its own connections) on one store, round after round
on a new image each round (a barrier starts the three together): one appends the image to an asset and
deletes that asset again (the deletion removes files no asset uses), one appends it to an asset it
keeps, one appends it in a batch that is refused (the refusal removes the files the batch copied).
Before the media rule, kept assets ended up pointing at a missing file, through both removals
(docs/concepts.md, "Media files").
"""

from __future__ import annotations

import threading
from pathlib import Path

import labelport
from labelport.errors import ValidationError
from tests import factories

#: Rounds of the race per backend (a few seconds).
ROUNDS = 150


def _writer(
    url: str, media: Path, body, rounds: int, start: threading.Barrier, errors: list[BaseException]
) -> threading.Thread:
    def run() -> None:
        try:
            with labelport.Client(url, "racer@example.com", media_dir=media, disable_tqdm=True) as client:
                for round_ in range(rounds):
                    start.wait()
                    body(client, round_)
        except BaseException as error:  # reported by the test
            start.abort()
            errors.append(error)

    return threading.Thread(target=run)


def test_no_committed_asset_ever_loses_its_media_file(database_url, tmp_path):
    media = tmp_path / "media"
    factory = factories.ImageFactory(tmp_path / "images")
    images = [str(factory.make(f"{i}.png", color=(i % 256, i // 256, 7))) for i in range(ROUNDS)]
    with labelport.Client(database_url, "racer@example.com", media_dir=media, disable_tqdm=True) as client:
        project_id = client.create_project("Race", "IMAGE", factories.image_interface())["id"]

    def churn(client: labelport.Client, round_: int) -> None:
        client.append_many_to_dataset(project_id, [images[round_]], external_id_array=[f"churn-{round_}"])
        client.delete_many_from_dataset(external_ids=[f"churn-{round_}"], project_id=project_id)

    def keep(client: labelport.Client, round_: int) -> None:
        client.append_many_to_dataset(project_id, [images[round_]], external_id_array=[f"keep-{round_}"])

    def refuse(client: labelport.Client, round_: int) -> None:
        try:
            client.append_many_to_dataset(
                project_id,
                [images[round_], images[round_]],
                external_id_array=[f"refused-{round_}", f"bad-{round_}"],
                json_metadata_array=[{}, "not json"],
            )
        except ValidationError:
            return
        raise AssertionError("the batch with bad metadata was stored")

    errors: list[BaseException] = []
    start = threading.Barrier(3, timeout=60)
    threads = [_writer(database_url, media, body, ROUNDS, start, errors) for body in (churn, keep, refuse)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with labelport.Client(database_url, "racer@example.com", media_dir=media, disable_tqdm=True) as client:
        rows = client.assets(project_id, fields=["externalId", "content"], disable_tqdm=True)
    kept = [row for row in rows if row["externalId"].startswith("keep-")]
    assert kept, "the race made no asset"
    assert [row["externalId"] for row in rows if not Path(row["content"]).is_file()] == []
    assert {row["externalId"].split("-")[0] for row in rows} == {"keep"}
