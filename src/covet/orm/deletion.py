"""``QuerySet.delete()`` with ``on_delete`` rules.

Foreign keys created by the ORM carry ``ON DELETE`` actions, so the database enforces
cascade / set null / restrict itself. The ORM adds, inside one transaction:

- ``protect``: a check before deleting that raises :class:`ProtectedError` naming the
  referencing model (the database's RESTRICT stays as a second line);
- relations declared with ``db_constraint=False``: cascade / set null / restrict are
  applied by the ORM, since the database knows nothing about them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from covet.db.sql.compiler import Compiler
from covet.db.sql.nodes import Delete
from covet.orm.exceptions import ProtectedError

if TYPE_CHECKING:
    from covet.orm.options import ReverseRelation
    from covet.orm.query import QuerySet

__all__ = ("delete_queryset",)

_CHUNK = 500


def _python_rules(rels: list[ReverseRelation]) -> list[ReverseRelation]:
    return [
        r
        for r in rels
        if not r.field.is_m2m
        and (
            r.field.on_delete == "protect"
            or (not r.field.db_constraint and r.field.on_delete != "do_nothing")
        )
    ]


async def delete_queryset(qs: QuerySet[Any]) -> int:
    model = qs.model
    rels = _python_rules(model._meta.related_objects)
    db = qs.db
    if not rels:
        qb, where = qs._simple_where()
        sql, params = Compiler(db.dialect).compile(Delete(qb.base, where))
        return int(await db.execute(sql, params))
    async with db.transaction():
        pks = list(await qs.values_list("pk", flat=True))
        total = 0
        for start in range(0, len(pks), _CHUNK):
            chunk = pks[start : start + _CHUNK]
            await _apply_rules(rels, chunk, db)
            target = model.objects.using(db).filter(pk__in=chunk)
            qb, where = target._simple_where()
            sql, params = Compiler(db.dialect).compile(Delete(qb.base, where))
            total += int(await db.execute(sql, params))
        return total


async def _apply_rules(rels: list[ReverseRelation], pks: list[Any], db: Any) -> None:
    for rel in rels:
        field = rel.field
        related = rel.model.objects.using(db).filter(**{f"{field.attname}__in": pks})
        action = field.on_delete
        if action in ("protect", "restrict"):
            if await related.exists():
                owner = field.related_model.__name__ if field.related_model else "?"
                raise ProtectedError(
                    f"cannot delete {owner}: referenced by {rel.model.__name__}.{field.name} "
                    f"(on_delete={action!r})",
                    table=rel.model._meta.table,
                )
        elif action == "cascade":
            await related.delete()
        elif action == "set_null":
            await related.update(**{field.attname: None})
        elif action == "set_default":
            await related.update(**{field.attname: field.get_default()})
