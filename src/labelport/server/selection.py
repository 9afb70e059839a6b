"""What a GraphQL query selects, as the dotted field paths labelport's queries take.

``assets { id latestLabel { author { email } } }`` selects ``["id", "latestLabel.author.email"]``, the
``fields`` argument of ``Client.assets``: the store then reads exactly those columns and links, a page
at a time, and returns nested dicts with Kili's field names, which GraphQL's default resolvers read.
Fields of Kili's object model that labelport does not store (``steps``, ``currentStep``,
``jsonResponseUrl``…) are left out of the store's query and answered by the resolvers of their types
(``server/resolvers.py``), with what they need added as *companion* paths.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLResolveInfo, InlineFragmentNode
from graphql.language import SelectionSetNode

from labelport.store.fields import ENTITIES, Computed, Entity, Link

#: (type, wire-only field) → the stored paths its resolver reads, relative to the object.
COMPANIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Asset", "projectId"): ("project.id",),
    ("Label", "projectId"): ("labelOf.project.id",),
    ("Label", "isLastForStep"): ("isLatestLabelForUser",),
    ("Label", "totalSecondsToLabel"): ("secondsToLabel",),
}
#: The GraphQL type of each stored entity.
TYPE_OF_ENTITY = {
    "Asset": "Asset",
    "Label": "Label",
    "Project": "Project",
    "ProjectUser": "ProjectUser",
    "User": "User",
}


def selected_paths(info: GraphQLResolveInfo) -> list[str]:
    """Every leaf path under the field being resolved (fragments expanded, ``__typename`` left out)."""
    paths: dict[str, None] = {}
    for node in info.field_nodes:
        if node.selection_set is not None:
            for path in _paths(node.selection_set, info.fragments, ""):
                paths.setdefault(path, None)
    return list(paths)


def _paths(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode], prefix: str
) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name.startswith("__"):
                continue
            if selection.selection_set is None:
                yield prefix + name
            else:
                yield from _paths(selection.selection_set, fragments, f"{prefix}{name}.")
        elif isinstance(selection, InlineFragmentNode):
            yield from _paths(selection.selection_set, fragments, prefix)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _paths(fragment.selection_set, fragments, prefix)


def stored_paths(entity_name: str, paths: list[str]) -> list[str]:
    """The paths the store can answer, plus the companions of the wire-only ones; a link whose selected
    fields are all wire-only is still read (by its ``id``), so that its object exists to resolve them."""
    found: dict[str, None] = {}
    for path in paths:
        for stored in _stored(ENTITIES[entity_name], path.split("."), ""):
            found.setdefault(stored, None)
    if not found:
        found["id"] = None
    return list(found)


def _stored(entity: Entity, parts: list[str], prefix: str) -> list[str]:
    head, rest = parts[0], parts[1:]
    spec = entity.fields.get(head)
    if spec is None:
        companions = COMPANIONS.get((TYPE_OF_ENTITY.get(entity.name, entity.name), head), ())
        return [prefix + companion for companion in companions] or ([prefix + "id"] if prefix else [])
    if isinstance(spec, Link):
        if not rest:
            return [f"{prefix}{head}.id"]
        return _stored(ENTITIES[spec.target], rest, f"{prefix}{head}.")
    if isinstance(spec, Computed) and spec.subfields is not None:
        if not rest:
            return [f"{prefix}{head}.{spec.subfields[0]}"]
        return [f"{prefix}{head}.{rest[0]}"] if rest[0] in spec.subfields else [f"{prefix}{head}.{spec.subfields[0]}"]
    return [prefix + head]
