"""Relation annotations (``ForeignKey[User]``, ``OneToOne[User]``, ``ManyToMany[Tag]``),
their attribute descriptors and the related managers.

Relations never do I/O on attribute access: ``post.author`` returns the related object
only when it was loaded (``select_related``, ``prefetch_related``, ``fetch_related`` or
assignment) and raises :class:`~covet.orm.exceptions.RelationNotLoaded` otherwise.
``post.author_id`` always works. Reverse and many-to-many accessors return managers whose
methods are awaited (``await user.posts.all()``, ``await post.tags.add(tag)``).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from covet.orm.exceptions import RelationNotLoaded
from covet.orm.fields import RelationSpec

if TYPE_CHECKING:
    from covet.orm.base import Model
    from covet.orm.fields import ModelField
    from covet.orm.options import ReverseRelation
    from covet.orm.query import QuerySet

__all__ = (
    "ForeignKey",
    "ManyRelatedManager",
    "ManyToMany",
    "OneToOne",
    "RelatedManager",
)

T = TypeVar("T")
R = TypeVar("R", bound="Model")
_CACHE = "_rel_"
_MISSING = object()
PREFETCH = "_prefetched"


class ForwardDescriptor:
    """``post.author``: the loaded related object (or None when the key is NULL)."""

    __slots__ = ("attname", "cache", "field", "name")

    def __init__(self, field: ModelField) -> None:
        self.field = field
        self.name = field.name
        self.attname = field.attname
        self.cache = _CACHE + field.name

    def __get__(self, obj: Model | None, owner: type[Model]) -> Any:
        if obj is None:
            return self
        d = obj.__dict__
        key = d.get(self.attname)
        cached = d.get(self.cache, _MISSING)
        # A cache left over from before ``<name>_id`` was changed is stale.
        if cached is not _MISSING and (
            (cached is None and key is None) or (cached is not None and cached.pk == key)
        ):
            return cached
        if key is None:
            return None
        raise RelationNotLoaded(
            f"{type(obj).__name__}.{self.name} is not loaded: use select_related({self.name!r}), "
            f"prefetch_related({self.name!r}) or 'await obj.fetch_related({self.name!r})'; "
            f"{self.attname} is always available"
        )

    def __set__(self, obj: Model, value: Any) -> None:
        d = obj.__dict__
        if value is None:
            d[self.attname] = None
            d.pop(self.cache, None)
            return
        target = self.field.related_model
        if target is not None and not isinstance(value, target):
            raise TypeError(
                f"{type(obj).__name__}.{self.name} must be a {target.__name__}, not {type(value).__name__}"
            )
        d[self.attname] = value.pk
        d[self.cache] = value


class ReverseOneDescriptor:
    """``user.profile`` for a ``OneToOne`` pointing at User: loaded object or None."""

    __slots__ = ("cache", "rel")

    def __init__(self, rel: ReverseRelation) -> None:
        self.rel = rel
        self.cache = _CACHE + rel.name

    def __get__(self, obj: Model | None, owner: type[Model]) -> Any:
        if obj is None:
            return self
        try:
            return obj.__dict__[self.cache]
        except KeyError:
            raise RelationNotLoaded(
                f"{type(obj).__name__}.{self.rel.name} is not loaded: use prefetch_related"
                f"({self.rel.name!r}) or 'await obj.fetch_related({self.rel.name!r})'"
            ) from None


class _RowsManager(Generic[R]):
    """What the reverse-FK and m2m managers share: the saved-instance check, the rows
    ``prefetch_related`` stored on the instance, and the query shortcuts. Subclasses
    define ``instance`` and ``name`` in their slots, and ``get_queryset()``."""

    __slots__ = ()
    instance: Model
    name: str

    def get_queryset(self) -> QuerySet[R]:
        raise NotImplementedError

    def _saved_pk(self) -> Any:
        pk = self.instance.pk
        if pk is None:
            raise ValueError(f"save the {type(self.instance).__name__} before using {self.name}")
        return pk

    def _prefetched(self) -> list[Any] | None:
        cached: list[Any] | None = self.instance.__dict__.get(PREFETCH, {}).get(self.name)
        return cached

    def _using_prefetched(self, qs: QuerySet[R]) -> QuerySet[R]:
        cached = self._prefetched()
        if cached is not None:
            qs._result_cache = list(cached)
        return qs

    def _forget_prefetched(self) -> None:
        self.instance.__dict__.get(PREFETCH, {}).pop(self.name, None)

    @property
    def loaded(self) -> bool:
        """True when the rows were prefetched (then iterating needs no query)."""
        return self._prefetched() is not None

    def __iter__(self) -> Iterator[R]:
        cached = self._prefetched()
        if cached is None:
            raise RelationNotLoaded(
                f"{type(self.instance).__name__}.{self.name} is not prefetched: "
                f"use 'await obj.{self.name}.all()' or prefetch_related({self.name!r})"
            )
        return iter(cached)

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __await__(self) -> Generator[Any, None, list[R]]:
        return self.get_queryset().all().__await__()

    def all(self) -> QuerySet[R]:
        return self.get_queryset()

    def filter(self, *args: Any, **kwargs: Any) -> QuerySet[R]:
        return self.get_queryset().filter(*args, **kwargs)

    def exclude(self, *args: Any, **kwargs: Any) -> QuerySet[R]:
        return self.get_queryset().exclude(*args, **kwargs)

    def order_by(self, *names: Any) -> QuerySet[R]:
        return self.get_queryset().order_by(*names)

    async def count(self) -> int:
        return await self.get_queryset().count()


class RelatedManager(_RowsManager[R]):
    """``user.posts``: the rows of ``Post`` whose foreign key points at ``user``."""

    __slots__ = ("field", "instance", "model", "name")

    def __init__(self, instance: Model, model: type[R], field: ModelField, name: str) -> None:
        self.instance = instance
        self.model = model
        self.field = field
        self.name = name

    def get_queryset(self) -> QuerySet[R]:
        pk = self._saved_pk()
        return self._using_prefetched(self.model.objects.filter(**{self.field.attname: pk}))

    async def create(self, **kwargs: Any) -> R:
        kwargs[self.field.attname] = self._saved_pk()
        return await self.model.objects.create(**kwargs)

    async def add(self, *objs: Model) -> None:
        """Point ``objs`` at the instance (saves them)."""
        pk = self._saved_pk()
        for obj in objs:
            setattr(obj, self.field.attname, pk)
            obj.__dict__.pop(_CACHE + self.field.name, None)
            await obj.save()

class ManyRelatedManager(_RowsManager[R]):
    """``post.tags`` / ``tag.posts``: rows linked through the m2m through table."""

    __slots__ = ("dst_attr", "field", "instance", "name", "reverse", "src_attr", "target")

    def __init__(self, instance: Model, field: ModelField, reverse: bool, name: str) -> None:
        self.instance = instance
        self.field = field
        self.reverse = reverse
        self.name = name
        src, dst = field.through_fields
        through = field.through
        src_attr = through._meta.by_name[src].attname
        dst_attr = through._meta.by_name[dst].attname
        target = field.model if reverse else field.related_model
        assert target is not None
        self.target: type[R] = target  # type: ignore[assignment]
        if reverse:
            self.src_attr, self.dst_attr = dst_attr, src_attr
        else:
            self.src_attr, self.dst_attr = src_attr, dst_attr

    def _through_qs(self) -> QuerySet[Any]:
        return self.field.through.objects.filter(**{self.src_attr: self._saved_pk()})

    def get_queryset(self) -> QuerySet[R]:
        sub = self._through_qs().values_list(self.dst_attr, flat=True)
        return self._using_prefetched(self.target.objects.filter(pk__in=sub))

    async def count(self) -> int:
        return await self._through_qs().count()

    def _pks(self, objs: tuple[Any, ...]) -> list[Any]:
        from covet.orm.base import Model

        out = []
        for o in objs:
            if isinstance(o, Model):
                if not isinstance(o, self.target):
                    raise TypeError(f"{self.name} takes {self.target.__name__} objects")
                if o.pk is None:
                    raise ValueError(f"save {o!r} before adding it to {self.name}")
                out.append(o.pk)
            else:
                out.append(o)
        return out

    async def add(self, *objs: Any) -> None:
        """Link ``objs`` (instances or primary keys); already linked ones are skipped."""
        pk = self._saved_pk()
        pks = self._pks(objs)
        if not pks:
            return
        existing = set(
            await self._through_qs()
            .filter(**{f"{self.dst_attr}__in": pks})
            .values_list(self.dst_attr, flat=True)
        )
        through = self.field.through
        new = [
            through(**{self.src_attr: pk, self.dst_attr: p})
            for p in dict.fromkeys(pks)
            if p not in existing
        ]
        if new:
            await through.objects.bulk_create(new)
        self._forget_prefetched()

    async def remove(self, *objs: Any) -> None:
        pks = self._pks(objs)
        if pks:
            await self._through_qs().filter(**{f"{self.dst_attr}__in": pks}).delete()
        self._forget_prefetched()

    async def clear(self) -> None:
        await self._through_qs().delete()
        self._forget_prefetched()

    async def set(self, objs: list[Any]) -> None:
        """Make the linked set exactly ``objs``."""
        wanted = self._pks(tuple(objs))
        current = set(await self._through_qs().values_list(self.dst_attr, flat=True))
        drop = [p for p in current if p not in set(wanted)]
        if drop:
            await self._through_qs().filter(**{f"{self.dst_attr}__in": drop}).delete()
        await self.add(*[p for p in wanted if p not in current])

    async def create(self, **kwargs: Any) -> R:
        obj = await self.target.objects.create(**kwargs)
        await self.add(obj)
        return obj

class ReverseManyDescriptor:
    """Class attribute for ``user.posts`` (reverse FK) returning a :class:`RelatedManager`."""

    __slots__ = ("rel",)

    def __init__(self, rel: ReverseRelation) -> None:
        self.rel = rel

    def __get__(self, obj: Model | None, owner: type[Model]) -> Any:
        if obj is None:
            return self
        return RelatedManager(obj, self.rel.model, self.rel.field, self.rel.name)


class ManyToManyDescriptor:
    """Class attribute for ``post.tags`` / ``tag.posts`` returning a :class:`ManyRelatedManager`."""

    __slots__ = ("field", "name", "reverse")

    def __init__(self, field: ModelField, reverse: bool, name: str) -> None:
        self.field = field
        self.reverse = reverse
        self.name = name

    def __get__(self, obj: Model | None, owner: type[Model]) -> Any:
        if obj is None:
            return self
        return ManyRelatedManager(obj, self.field, self.reverse, self.name)

    def __set__(self, obj: Model, value: Any) -> None:
        raise AttributeError(
            f"use 'await obj.{self.name}.set([...])' to change a many-to-many relation"
        )


if TYPE_CHECKING:
    from typing import Annotated

    # What type checkers see: ``author: ForeignKey[User]`` is a ``User`` attribute (the
    # loaded related object) and ``tags: ManyToMany[Tag]`` a manager of ``Tag`` rows.
    ForeignKey = Annotated[T, "covet.orm.ForeignKey"]
    OneToOne = Annotated[T, "covet.orm.OneToOne"]
    ManyToMany = Annotated[ManyRelatedManager[R], "covet.orm.ManyToMany"]
else:

    class ForeignKey(Generic[T]):
        """Annotation: ``author: ForeignKey[User] = Field(on_delete="cascade", related_name="posts")``."""

        def __class_getitem__(cls, target: Any) -> Any:
            return RelationSpec("fk", target)

    class OneToOne(Generic[T]):
        """Annotation: a unique foreign key; the reverse accessor gives one object."""

        def __class_getitem__(cls, target: Any) -> Any:
            return RelationSpec("o2o", target)

    class ManyToMany(Generic[T]):
        """Annotation: ``tags: ManyToMany[Tag] = Field(related_name="posts")`` (auto through table)."""

        def __class_getitem__(cls, target: Any) -> Any:
            return RelationSpec("m2m", target)
