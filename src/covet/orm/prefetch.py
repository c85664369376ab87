"""``prefetch_related`` / ``fetch_related``: one batched ``IN`` query per relation level.

Forward FK/one-to-one results land in the instance's relation cache (``post.author``);
reverse FK and many-to-many lists land in ``obj._prefetched[name]`` where the related
managers find them (``user.posts.all()`` then runs no query; ``list(user.posts)`` works).
Nested names (``"posts__tags"``) prefetch level by level.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from covet.orm.exceptions import FieldError
from covet.orm.relations import PREFETCH

if TYPE_CHECKING:
    from covet.orm.base import Model

__all__ = ("prefetch_objects",)

_REL = "_rel_"
#: keys per ``IN`` query; more keys run several queries whose results are merged
#: (long lists are one array parameter on PostgreSQL and SQLite, see the compiler)
_CHUNK = 10_000


async def _in_chunks(qs_factory: Any, keys: list[Any]) -> list[Any]:
    out: list[Any] = []
    for start in range(0, len(keys), _CHUNK):
        out.extend(await qs_factory(keys[start : start + _CHUNK]))
    return out


async def prefetch_objects(objs: list[Model], names: list[str], forward: bool = True) -> None:
    """Load each relation in ``names`` for every object in ``objs`` (same model)."""
    if not objs:
        return
    # one query per relation, even when several paths start with it
    # ("posts__tags", "posts__author"): the nested paths then share its rows
    nested: dict[str, list[str]] = {}
    for name in names:
        if not isinstance(name, str) or not name:
            raise FieldError(f"invalid relation name {name!r}")
        first, _, rest = name.partition("__")
        nested.setdefault(first, [])
        if rest:
            nested[first].append(rest)
    for first, rests in nested.items():
        children = await _prefetch_one(objs, first)
        if rests and children:
            await prefetch_objects(children, rests)


async def _prefetch_one(objs: list[Model], name: str) -> list[Model]:
    model = type(objs[0])
    meta = model._meta
    field = meta.by_name.get(name)
    if field is not None and field.relation is not None and not field.is_m2m:
        target = field.related_model
        assert target is not None
        ids = list({o.__dict__.get(field.attname) for o in objs} - {None})
        found = await _in_chunks(lambda c: target.objects.filter(pk__in=c), ids)
        by_pk = {o.pk: o for o in found}
        for o in objs:
            key = o.__dict__.get(field.attname)
            o.__dict__[_REL + name] = by_pk.get(key) if key is not None else None
        return found
    pks = [o.pk for o in objs if o.pk is not None]
    if field is not None and field.is_m2m:
        return await _prefetch_m2m(objs, pks, field, reverse=False, name=name)
    rel = meta.get_reverse(name)
    if rel is None:
        choices = sorted(
            [
                *(f.name for f in meta.fields if f.relation),
                *(f.name for f in meta.m2m),
                *(r.name for r in meta.related_objects),
            ]
        )
        raise FieldError(
            f"{model.__name__} has no relation {name!r}; choices: {', '.join(choices)}"
        )
    if rel.field.is_m2m:
        return await _prefetch_m2m(objs, pks, rel.field, reverse=True, name=name)
    attname = rel.field.attname
    found = await _in_chunks(
        lambda c: rel.model.objects.filter(**{f"{attname}__in": c}).order_by("pk"), pks
    )
    groups: dict[Any, list[Any]] = defaultdict(list)
    for child in found:
        groups[child.__dict__.get(attname)].append(child)
    for o in objs:
        if rel.multiple:
            o.__dict__.setdefault(PREFETCH, {})[name] = groups.get(o.pk, [])
        else:
            items = groups.get(o.pk)
            o.__dict__[_REL + name] = items[0] if items else None
    return found


async def _prefetch_m2m(
    objs: list[Model], pks: list[Any], field: Any, *, reverse: bool, name: str
) -> list[Model]:
    through = field.through
    src, dst = field.through_fields
    src_attr = through._meta.by_name[src].attname
    dst_attr = through._meta.by_name[dst].attname
    if reverse:
        src_attr, dst_attr = dst_attr, src_attr
        target = field.model
    else:
        target = field.related_model
    links = await _in_chunks(
        lambda c: through.objects.filter(**{f"{src_attr}__in": c}).values_list(src_attr, dst_attr),
        pks,
    )
    target_ids = list({d for _, d in links})
    found = await _in_chunks(lambda c: target.objects.filter(pk__in=c).order_by("pk"), target_ids)
    by_pk = {t.pk: t for t in found}
    groups: dict[Any, list[Any]] = defaultdict(list)
    for s, d in sorted(links, key=lambda x: (x[0], x[1])):
        if d in by_pk:
            groups[s].append(by_pk[d])
    for o in objs:
        o.__dict__.setdefault(PREFETCH, {})[name] = groups.get(o.pk, [])
    return found
