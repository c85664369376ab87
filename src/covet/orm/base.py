"""``Model`` and its metaclass: annotations -> fields, ``_meta``, relations, managers."""

from __future__ import annotations

import builtins
import copy
import sys
import typing
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from covet.db import exceptions as db_exc
from covet.orm.fields import MISSING, ModelField, RelationSpec
from covet.orm.options import Options, ReverseRelation, _snake
from covet.orm.relations import (
    PREFETCH,
    ForwardDescriptor,
    ManyToManyDescriptor,
    ReverseManyDescriptor,
    ReverseOneDescriptor,
)

__all__ = ("Model", "ModelMeta", "get_model", "registry")

#: every concrete model, by class name (several when names repeat across modules)
registry: dict[str, list[type[Model]]] = {}
_waiting: list[ModelField] = []


class _Forward:
    """A name not defined yet when the class body ran (a forward model reference)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __or__(self, other: Any) -> Any:
        raise TypeError(f"unknown type {self.name!r} in a field annotation")

    __ror__ = __or__


class _Namespace(dict):
    """Annotation evaluation namespace: class body, module, builtins, else a forward name."""

    def __init__(self, cls_ns: dict[str, Any], module_ns: dict[str, Any]) -> None:
        super().__init__(cls_ns)
        self.module_ns = module_ns

    def __missing__(self, key: str) -> Any:
        if key in self.module_ns:
            return self.module_ns[key]
        if hasattr(builtins, key):
            return getattr(builtins, key)
        if key in ("ForeignKey", "OneToOne", "ManyToMany", "JSON"):
            import covet.orm as orm

            return getattr(orm, key)
        return _Forward(key)


def _evaluate(annotation: Any, cls_ns: dict[str, Any], module: str) -> Any:
    if not isinstance(annotation, str):
        return annotation
    module_ns = vars(sys.modules[module]) if module in sys.modules else {}
    value = eval(annotation, {"__builtins__": builtins}, _Namespace(cls_ns, module_ns))
    if isinstance(value, _Forward):
        raise TypeError(f"unknown type {value.name!r} in a field annotation")
    return value


def get_model(name: str, near: type[Model] | None = None) -> type[Model]:
    """The model a relation names.

    ``"module.path.Model"`` names a model exactly; a bare ``"Model"`` (or a forward
    reference) means the model of that name in the module of ``near`` (the declaring
    model). Models from other modules are referenced by the class (import it) or by
    the dotted path.
    """
    module, _, cls_name = name.rpartition(".")
    found = registry.get(cls_name, [])
    if module:
        found = [m for m in found if m.__module__ == module]
    elif near is not None:
        found = [m for m in found if m.__module__ == near.__module__]
    if not found:
        raise LookupError(f"no model named {name!r}")
    return found[-1]


class ModelMeta(type):
    """Builds ``_meta`` from annotations, wires relations, attaches managers and errors."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], ns: dict[str, Any], **kwargs: Any
    ) -> ModelMeta:
        parents = [b for b in bases if isinstance(b, ModelMeta)]
        if not parents:
            return super().__new__(mcs, name, bases, ns, **kwargs)
        meta_cls = ns.pop("Meta", None)
        annotations = dict(ns.get("__annotations__", {}))
        inherited: list[tuple[str, Any, ModelField]] = []
        for parent in parents:
            for fname, ann, tmpl in getattr(parent, "_field_templates", ()):
                if fname not in annotations:
                    inherited.append((fname, ann, copy.copy(tmpl)))
        declared: list[tuple[str, Any, ModelField]] = []
        for fname, ann in annotations.items():
            value = ns.get(fname, MISSING)
            if isinstance(ann, str) and ann.startswith(("ClassVar", "typing.ClassVar")):
                continue
            if typing.get_origin(ann) is ClassVar:
                continue
            field = value if isinstance(value, ModelField) else ModelField(default=value)
            ns.pop(fname, None)
            declared.append((fname, ann, field))
        ns["_field_templates"] = tuple((n, a, copy.copy(f)) for n, a, f in (*inherited, *declared))
        cls = super().__new__(mcs, name, bases, ns, **kwargs)
        meta = Options(cls, meta_cls)  # type: ignore[arg-type]
        cls._meta = meta  # type: ignore[attr-defined]
        if meta.abstract:
            return cls
        module = cls.__module__
        cls_ns = dict(ns)
        cls_ns[name] = cls
        for fname, ann, field in (*inherited, *declared):
            resolved = _evaluate(ann, cls_ns, module)
            field.bind(cls, fname, resolved)  # type: ignore[arg-type]
        if not any(f.primary_key for _, _, f in (*inherited, *declared)):
            pk = ModelField(primary_key=True)
            pk.bind(cls, "id", int)  # type: ignore[arg-type]
            meta.add_field(pk)
        for _, _, field in (*inherited, *declared):
            meta.add_field(field)
        # Primary key first in the column list.
        meta.fields.sort(key=lambda f: not f.primary_key)
        cls.DoesNotExist = type(  # type: ignore[attr-defined]
            "DoesNotExist",
            (db_exc.DoesNotExist,),
            {"__module__": module, "__qualname__": f"{name}.DoesNotExist"},
        )
        cls.MultipleObjectsReturned = type(  # type: ignore[attr-defined]
            "MultipleObjectsReturned",
            (db_exc.MultipleObjectsReturned,),
            {"__module__": module, "__qualname__": f"{name}.MultipleObjectsReturned"},
        )
        from covet.orm.manager import Manager

        if "objects" not in ns:
            cls.objects = Manager()  # type: ignore[attr-defined]
        cls.objects.model = cls  # type: ignore[attr-defined]
        registry.setdefault(name, []).append(cls)  # type: ignore[arg-type]
        for f in meta.fields + meta.m2m:
            if f.relation is not None:
                _waiting.append(f)
                meta.pending.append(f)
        _resolve_waiting()
        return cls


def _target_of(field: ModelField) -> type[Model] | None:
    target = field.relation.target  # type: ignore[union-attr]
    if isinstance(target, _Forward):
        target = target.name
    if isinstance(target, str):
        if target == "self":
            return field.model
        try:
            return get_model(target, field.model)
        except LookupError:
            return None
    return target


def _resolve_waiting() -> None:
    progress = True
    while progress:
        progress = False
        for field in list(_waiting):
            if field not in _waiting:
                continue  # wired meanwhile by a nested call (defining a through model re-enters)
            target = _target_of(field)
            if target is None or target._meta.pk is None:
                continue
            if field.is_m2m and field.through is not None:
                if isinstance(field.through, str):
                    try:
                        field.through = get_model(field.through, field.model)
                    except LookupError:
                        continue
                if not field.through._meta.ready:
                    continue
            _waiting.remove(field)
            _wire(field, target)
            progress = True


def _wire(field: ModelField, target: type[Model]) -> None:
    model = field.model
    assert model is not None
    field.resolve_relation(target)
    meta = model._meta
    kind = field.relation.kind  # type: ignore[union-attr]
    if kind == "m2m":
        _setup_m2m(field, target)
    else:
        setattr(model, field.name, ForwardDescriptor(field))
        default = _snake(model.__name__) if kind == "o2o" else f"{_snake(model.__name__)}_set"
        rel_name = field.related_name or default
        if rel_name != "+":
            rel = ReverseRelation(rel_name, model, field)
            _add_reverse(target, rel)
            setattr(
                target,
                rel_name,
                ReverseOneDescriptor(rel) if kind == "o2o" else ReverseManyDescriptor(rel),
            )
    if field in meta.pending:
        meta.pending.remove(field)


def _add_reverse(target: type[Model], rel: ReverseRelation) -> None:
    tmeta = target._meta
    if rel.name in tmeta.by_name or tmeta.get_reverse(rel.name) is not None:
        raise TypeError(
            f"{target.__name__} already has an attribute {rel.name!r}; "
            f"set related_name on {rel.model.__name__}.{rel.field.name}"
        )
    tmeta.related_objects.append(rel)


def _setup_m2m(field: ModelField, target: type[Model]) -> None:
    model = field.model
    assert model is not None
    if field.through is None:
        src = _snake(model.__name__)
        dst = _snake(target.__name__)
        if src == dst:
            src, dst = f"from_{src}", f"to_{dst}"
        meta_cls = type(
            "Meta",
            (),
            {
                "table": f"{model._meta.table}_{field.name}",
                "unique_together": [(src, dst)],
                "auto_created": True,
                "database": model._meta.database,
            },
        )
        through_ns = {
            "__module__": model.__module__,
            "__qualname__": f"{model.__name__}_{field.name}",
            "__annotations__": {src: RelationSpec("fk", model), dst: RelationSpec("fk", target)},
            src: ModelField(on_delete="cascade", related_name="+"),
            dst: ModelField(on_delete="cascade", related_name="+"),
            "Meta": meta_cls,
        }
        field.through = ModelMeta(
            f"{model.__name__}{field.name.title().replace('_', '')}Through", (Model,), through_ns
        )
        field.through_fields = (src, dst)
    else:
        through = field.through
        fks = [f for f in through._meta.fields if f.relation is not None]
        src_f = next((f for f in fks if f.related_model is model), None)
        dst_f = next((f for f in fks if f.related_model is target and f is not src_f), None)
        if src_f is None or dst_f is None:
            raise TypeError(
                f"{through.__name__} must have foreign keys to {model.__name__} and {target.__name__}"
            )
        field.through_fields = (src_f.name, dst_f.name)
    setattr(model, field.name, ManyToManyDescriptor(field, reverse=False, name=field.name))
    rel_name = field.related_name or f"{_snake(model.__name__)}_set"
    if rel_name != "+":
        rel = ReverseRelation(rel_name, model, field)
        _add_reverse(target, rel)
        setattr(target, rel_name, ManyToManyDescriptor(field, reverse=True, name=rel_name))


if TYPE_CHECKING:
    from covet.orm.manager import Manager

    _M = TypeVar("_M", bound="Model")

    class _ManagerOfModel:
        """Type checkers only: ``SomeModel.objects`` is a ``Manager[SomeModel]``."""

        def __get__(self, instance: object, owner: type[_M]) -> Manager[_M]: ...


class Model(metaclass=ModelMeta):
    """Base class of ORM models; see ``docs/orm.md``.

    ``Model(**values)`` builds an unsaved instance (defaults applied, no I/O);
    ``await obj.save()`` inserts or updates it; ``Model.objects`` is the manager.
    """

    _meta: ClassVar[Options]
    _field_templates: ClassVar[tuple[tuple[str, Any, ModelField], ...]] = ()
    DoesNotExist: ClassVar[type[db_exc.DoesNotExist]]
    MultipleObjectsReturned: ClassVar[type[db_exc.MultipleObjectsReturned]]

    if TYPE_CHECKING:
        #: ``Post.objects`` is a ``Manager[Post]`` (set on each model by the metaclass)
        objects: ClassVar[_ManagerOfModel]

        def __getattr__(self, name: str) -> Any:
            """Attributes the ORM adds at run time (``author_id``, reverse accessors such
            as ``user.posts``, annotations) are ``Any`` to type checkers; declared fields
            keep their annotated types."""

    def __init__(self, **kwargs: Any) -> None:
        meta = self._meta
        if meta.abstract:
            raise TypeError(f"{type(self).__name__} is abstract")
        d = self.__dict__
        for f in meta.fields:
            if f.relation is not None:
                if f.name in kwargs:
                    setattr(self, f.name, kwargs.pop(f.name))
                    continue
                if f.attname in kwargs:
                    d[f.attname] = kwargs.pop(f.attname)
                    continue
            elif f.name in kwargs:
                d[f.name] = kwargs.pop(f.name)
                continue
            if f.primary_key and "pk" in kwargs:
                d[f.attname] = kwargs.pop("pk")
                continue
            d[f.attname] = f.get_default()
        if kwargs:
            for key in kwargs:
                if key in meta.by_name and meta.by_name[key].is_m2m:
                    raise TypeError(f"set {key!r} after saving: 'await obj.{key}.set([...])'")
            raise TypeError(
                f"{type(self).__name__} got unexpected fields: {', '.join(sorted(kwargs))}"
            )
        d["_persisted"] = False

    @classmethod
    def _from_db(cls, values: Any, attnames: tuple[str, ...]) -> Any:
        obj = cls.__new__(cls)
        d = dict(zip(attnames, values, strict=False))
        d["_persisted"] = True
        obj.__dict__ = d
        return obj

    @property
    def pk(self) -> Any:
        return self.__dict__.get(self._meta.pk.attname)

    @pk.setter
    def pk(self, value: Any) -> None:
        self.__dict__[self._meta.pk.attname] = value

    def __repr__(self) -> str:
        return f"<{type(self).__name__} pk={self.pk!r}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model) or type(other) is not type(self):
            return NotImplemented
        if self.pk is None:
            return self is other
        return bool(self.pk == other.pk)

    def __hash__(self) -> int:
        if self.pk is None:
            raise TypeError("unsaved model instances are unhashable")
        return hash((type(self), self.pk))

    # -- persistence ---------------------------------------------------------------------
    async def save(self, *, update_fields: list[str] | None = None, validate: bool = True) -> None:
        """INSERT when new, else UPDATE (all fields, or ``update_fields``)."""
        from covet.orm.persistence import save_instance

        await save_instance(self, update_fields=update_fields, validate=validate)

    async def delete(self) -> int:
        """Delete this row (and its cascades); returns rows deleted for this model."""
        if self.pk is None:
            raise ValueError(f"cannot delete an unsaved {type(self).__name__}")
        n = await type(self).objects.filter(pk=self.pk).delete()
        self.__dict__["_persisted"] = False
        return int(n)

    async def refresh_from_db(self) -> None:
        fresh = await type(self).objects.get(pk=self.pk)
        keep = {k: v for k, v in self.__dict__.items() if k == PREFETCH}
        self.__dict__ = {**fresh.__dict__, **keep}

    async def fetch_related(self, *names: str) -> None:
        """Load relations (forward FK/o2o, reverse, m2m) onto this instance."""
        from covet.orm.prefetch import prefetch_objects

        await prefetch_objects([self], list(names), forward=True)

    def validate(self) -> None:
        """Raise ``ValidationError`` listing every invalid field value."""
        from covet.orm.validation import validate_instance

        validate_instance(self)

    def to_dict(
        self, *, include: set[str] | None = None, exclude: set[str] | None = None
    ) -> dict[str, Any]:
        """A JSON-ready dict of the field values (loaded relations included as dicts)."""
        from covet.orm.schema import instance_to_dict

        return instance_to_dict(self, include=include, exclude=exclude)

    @classmethod
    def schema(
        cls,
        *,
        include: set[str] | None = None,
        exclude: set[str] | None = None,
        name: str | None = None,
    ) -> Any:
        """A schema class with a subset of the fields, for handler bodies and responses
        (made at run time, so ``Any`` to type checkers: annotate a handler parameter with
        it under ``# type: ignore[valid-type]``, and the body is a dict)."""
        from covet.orm.schema import derive_schema

        return derive_schema(cls, include=include, exclude=exclude, name=name)

    @classmethod
    def __covet_validate__(cls, data: Any, loc: str = "body") -> Any:
        from covet.orm.schema import validate_data

        return cls(**validate_data(cls, data, loc, fields=None))

    @classmethod
    def __covet_json_schema__(cls) -> dict[str, Any]:
        from covet.orm.schema import json_schema

        return json_schema(cls, None, cls.__name__)
