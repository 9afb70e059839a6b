"""The colours categories are drawn in, the same in ``labelport preview`` and the web UI."""

from __future__ import annotations

from labelport.ontology import Ontology

#: Colours of the categories that the ontology gives none, in ontology order.
PALETTE: tuple[str, ...] = (
    "#E6194B",
    "#3CB44B",
    "#4363D8",
    "#F58231",
    "#911EB4",
    "#42D4F4",
    "#F032E6",
    "#BFEF45",
    "#FABED4",
    "#469990",
    "#DCBEFF",
    "#9A6324",
    "#FFE119",
    "#800000",
    "#AAFFC3",
    "#000075",
)


def category_colors(ontology: Ontology) -> dict[tuple[str, str], str]:
    """The colour (``#RRGGBB``) of every (job, category) of the object jobs: the ontology's, else the palette's
    next one, in ontology order."""
    found: dict[tuple[str, str], str] = {}
    following = 0
    for job in ontology:
        if not job.is_object_job:
            continue
        for category in job.categories.values():
            if category.color:
                found[(job.name, category.key)] = category.color
            else:
                found[(job.name, category.key)] = PALETTE[following % len(PALETTE)]
                following += 1
    return found
