"""JSON key-path lookups (``data__owner__name="ann"``), has_key*, values and ordering
by key, on every backend: each assertion names the exact rows returned."""

from __future__ import annotations

import decimal
from typing import Any

import pytest
from orm_models import Article, Author, Doc

from covet.db import Database
from covet.orm import Count, Q

pytestmark = pytest.mark.integration

# Keys that would break a JSON path or SQL text if they were not bound / encoded.
ODD_KEYS = [
    'a"b',
    "d.o.t",
    'q"x.y',
    "*",
    "$",
    "z[0]",
    "'; DROP TABLE orm_doc; --",
    "back\\slash",
    "é",
    '"',
    '\\"',
    "$.n",
    '["n"]',
    "a'b",
    "x') OR 1=1 --",
    "",
]

DOCS: dict[str, Any] = {
    "num": {
        "n": 10,
        "s": "10",
        "p": "5_%",
        "owner": {"name": "Ann", "age": 30},
        "items": [1, "two", {"x": 3}],
        "flag": True,
    },
    "str": {
        "n": "9",
        "s": "abc",
        "p": "5xx",
        "owner": {"name": "bob"},
        "items": ["a"],
        "flag": False,
    },
    "float": {"n": 2.5, "owner": {"name": "Annabel", "age": 41.5}, "items": [], "flag": None},
    "null": {"n": None, "owner": None},
    "empty": {},
    "array": [1, 2, {"n": 1}, "n"],
    "scalar": "n",
    "odd": {
        **{k: i for i, k in enumerate(ODD_KEYS)},
        "0": "zero",
        "o": {'a"b': {"c.d": [5]}},
    },
    "sqlnull": None,
}
ALL = sorted(DOCS)


@pytest.fixture
async def docs(db: Database) -> None:
    await Doc.objects.bulk_create([Doc(name=name, data=data) for name, data in DOCS.items()])


async def names(*args: Q, **filters: Any) -> list[str]:
    return sorted(await Doc.objects.filter(*args, **filters).values_list("name", flat=True))


async def test_exact_compares_json_types(docs: None) -> None:
    assert await names(data__n=10) == ["num"]
    assert await names(data__n=10.0) == ["num"]
    assert await names(data__n__exact=10) == ["num"]
    assert await names(data__n="10") == []
    assert await names(data__s="10") == ["num"]
    assert await names(data__s=10) == []
    assert await names(data__n="9") == ["str"]
    assert await names(data__n=9) == []
    assert await names(data__n=2.5) == ["float"]
    assert await names(data__n=decimal.Decimal("2.50")) == ["float"]
    assert await names(data__flag=True) == ["num"]
    assert await names(data__flag=False) == ["str"]
    assert await names(data__flag=1) == []
    assert await names(data__flag=0) == []
    assert await names(data__owner__name="Ann") == ["num"]
    assert await names(data__owner__name="ann") == []
    assert await names(data__owner__name__iexact="ann") == ["num"]
    assert await names(data__owner__age=30) == ["num"]


async def test_json_null_versus_missing_key(docs: None) -> None:
    # exact None: the key holds JSON null; isnull=True: the key is missing (or the
    # document is NULL); isnull=False: the key is present, whatever its value
    assert await names(data__n=None) == ["null"]
    assert await names(data__flag=None) == ["float"]
    assert await names(data__owner=None) == ["null"]
    assert await names(data__n__isnull=False) == ["float", "null", "num", "str"]
    assert await names(data__n__isnull=True) == ["array", "empty", "odd", "scalar", "sqlnull"]
    assert await names(data__owner__name__isnull=True) == [
        "array",
        "empty",
        "null",
        "odd",
        "scalar",
        "sqlnull",
    ]
    assert await names(data__isnull=True) == ["sqlnull"]
    assert len(await names(data__isnull=False)) == len(DOCS) - 1
    # exclude() is the complement of filter(): a missing key (SQL NULL) is kept
    assert sorted(await Doc.objects.exclude(data__n=10).values_list("name", flat=True)) == [
        "array",
        "empty",
        "float",
        "null",
        "odd",
        "scalar",
        "sqlnull",
        "str",
    ]
    assert await names(~Q(data__n=10) | Q(data__n__isnull=True)) == [
        "array",
        "empty",
        "float",
        "null",
        "odd",
        "scalar",
        "sqlnull",
        "str",
    ]


async def test_ordering_lookups_compare_within_one_type(docs: None) -> None:
    assert await names(data__n__gt=5) == ["num"]  # "9" is a string, not a number
    assert await names(data__n__gte=2.5) == ["float", "num"]
    assert await names(data__n__lt=10) == ["float"]
    assert await names(data__n__lte=10) == ["float", "num"]
    assert await names(data__n__gt="5") == ["str"]  # strings only: "9" > "5"
    assert await names(data__n__lt="5") == []
    assert await names(data__s__gt="5") == ["str"]  # "abc" > "5" > "10"
    assert await names(data__s__lt="5") == ["num"]
    assert await names(data__owner__age__gt=35) == ["float"]
    assert await names(data__owner__age__gte=30) == ["float", "num"]
    assert await names(data__n__range=(2, 10)) == ["float", "num"]
    assert await names(data__n__range=(3, 10)) == ["num"]
    assert await names(data__s__range=("a", "b")) == ["str"]


async def test_in(docs: None) -> None:
    assert await names(data__n__in=[10, "9"]) == ["num", "str"]
    assert await names(data__n__in=["10", 9]) == []
    assert await names(data__n__in=[None, 2.5]) == ["float", "null"]
    assert await names(data__n__in=[]) == []
    assert await names(data__flag__in=(True, False)) == ["num", "str"]


async def test_array_indices(docs: None) -> None:
    assert await names(data__items__0=1) == ["num"]
    assert await names(data__items__1="two") == ["num"]
    assert await names(data__items__2__x=3) == ["num"]
    assert await names(data__items__0="a") == ["str"]
    assert await names(data__items__0__isnull=False) == ["num", "str"]
    assert await names(data__items__9__isnull=True) == ALL
    assert await names(data__0=1) == ["array"]
    assert await names(data__2__n=1) == ["array"]
    assert await names(data__3="n") == ["array"]
    # an index reads arrays only: "odd" has a key "0", MySQL would read owner[0] as owner
    assert await names(data__0="zero") == []
    assert await names(data__owner__0__isnull=False) == []
    assert await names(data__owner__name__0__isnull=False) == []


async def test_text_lookups_match_strings(docs: None) -> None:
    assert await names(data__owner__name__contains="nn") == ["float", "num"]
    assert await names(data__owner__name__contains="NN") == []
    assert await names(data__owner__name__icontains="NN") == ["float", "num"]
    assert await names(data__owner__name__startswith="Ann") == ["float", "num"]
    assert await names(data__owner__name__startswith="ann") == []
    assert await names(data__owner__name__istartswith="ann") == ["float", "num"]
    assert await names(data__owner__name__endswith="bel") == ["float"]
    assert await names(data__owner__name__endswith="BEL") == []
    assert await names(data__owner__name__iendswith="BEL") == ["float"]
    assert await names(data__s__contains="1") == ["num"]
    assert await names(data__items__1__startswith="tw") == ["num"]
    assert await names(data__items__0__iexact="A") == ["str"]
    assert await names(data__n__contains="1") == []  # 10 is a number
    assert await names(data__owner__contains="Ann") == []  # an object
    assert await names(data__p__startswith="5_") == ["num"]  # LIKE wildcards are literal
    assert await names(data__p__contains="%") == ["num"]


async def test_has_key(docs: None) -> None:
    # objects only: not the array holding the string "n", not the string "n"
    assert await names(data__has_key="n") == ["float", "null", "num", "str"]
    assert await names(data__has_key="owner") == ["float", "null", "num", "str"]
    assert await names(data__has_keys=["n", "s"]) == ["num", "str"]
    assert await names(data__has_any_keys=["s", "flag"]) == ["float", "num", "str"]
    assert await names(data__has_any_keys=["zzz"]) == []
    assert await names(data__owner__has_key="age") == ["float", "num"]
    assert await names(data__owner__has_key="name") == ["float", "num", "str"]
    assert await names(data__items__2__has_key="x") == ["num"]
    assert await names(data__has_key="0") == ["odd"]  # a key, never an index
    assert await names(Q(data__has_key="n") | Q(data__0=1)) == [
        "array",
        "float",
        "null",
        "num",
        "str",
    ]
    assert await names(~Q(data__has_key="n"), data__isnull=False) == [
        "array",
        "empty",
        "odd",
        "scalar",
    ]


async def test_keys_with_odd_characters(docs: None) -> None:
    for i, key in enumerate(ODD_KEYS):
        assert await names(data__has_key=key) == ["odd"], key
        if not key:
            continue  # "data____x": an empty step is refused in a filter path
        assert await names(**{f"data__{key}": i}) == ["odd"], key
        assert await names(**{f"data__{key}__gte": i, f"data__{key}__lte": i}) == ["odd"], key
        assert await names(**{f"data__{key}__isnull": False}) == ["odd"], key
        values = await Doc.objects.filter(name="odd").values_list(f"data__{key}", flat=True)
        assert values == [i], key
    assert await names(data__has_keys=ODD_KEYS) == ["odd"]
    assert await names(**{'data__o__a"b__c.d__0': 5}) == ["odd"]
    assert await names(**{'data__o__a"b__has_key': "c.d"}) == ["odd"]
    assert await names(**{"data__x'); DROP TABLE orm_doc; --": 1}) == []
    assert await names(data__has_key="') OR 1=1 --") == []
    assert await names(data__has_any_keys=['"', "n"]) == ["float", "null", "num", "odd", "str"]
    assert await Doc.objects.count() == len(DOCS)


async def test_values_decode_json(docs: None) -> None:
    rows = dict(await Doc.objects.filter(data__n__isnull=False).values_list("name", "data__n"))
    assert rows == {"num": 10, "str": "9", "float": 2.5, "null": None}
    assert type(rows["num"]) is int and type(rows["float"]) is float
    by_name = {
        r["name"]: r["data__owner__name"]
        for r in await Doc.objects.values("name", "data__owner__name")
    }
    again = await Doc.objects.values("name", "data__owner__name")  # no stale cached SQL
    assert {r["name"]: r["data__owner__name"] for r in again} == by_name
    assert by_name == {
        "num": "Ann",
        "str": "bob",
        "float": "Annabel",
        **{n: None for n in ("null", "empty", "array", "scalar", "odd", "sqlnull")},
    }
    assert await Doc.objects.filter(name="num").values_list("data__items", flat=True) == [
        [1, "two", {"x": 3}]
    ]
    assert await Doc.objects.filter(name="num").values_list("data__owner", flat=True) == [
        {"name": "Ann", "age": 30}
    ]
    flags = await Doc.objects.filter(data__has_key="flag").values_list("data__flag", flat=True)
    assert sorted(flags, key=repr) == [False, None, True]
    distinct = (
        await Doc.objects.filter(data__has_key="flag")
        .values_list("data__flag", flat=True)
        .distinct()
    )
    assert sorted(distinct, key=repr) == [False, None, True]
    groups = (
        await Doc.objects.filter(data__has_key="owner")
        .values("data__owner__age")
        .annotate(c=Count("id"))
        .order_by()
    )
    assert sorted((g["data__owner__age"], g["c"]) for g in groups if g["data__owner__age"]) == [
        (30, 1),
        (41.5, 1),
    ]
    assert sum(g["c"] for g in groups) == 4


async def test_order_by_key(db: Database) -> None:
    await Doc.objects.bulk_create(
        [Doc(name=f"r{v}", data={"rank": v}) for v in (10, 9, 100, 2.5)]
        + [Doc(name=f"w{w}", data={"word": w}) for w in ("b", "a", "c")]
    )
    ranked = Doc.objects.filter(data__has_key="rank")
    assert await ranked.order_by("data__rank").values_list("name", flat=True) == [
        "r2.5",
        "r9",
        "r10",
        "r100",
    ]
    assert await ranked.order_by("-data__rank").values_list("name", flat=True) == [
        "r100",
        "r10",
        "r9",
        "r2.5",
    ]
    words = Doc.objects.filter(data__has_key="word").order_by("data__word", "name")
    assert await words.values_list("name", flat=True) == ["wa", "wb", "wc"]
    assert await words.values_list("data__word", flat=True) == ["a", "b", "c"]
    assert [d.name for d in await words.reverse()] == ["wc", "wb", "wa"]


async def test_update_delete_and_count_through_json_filters(docs: None) -> None:
    assert await Doc.objects.filter(data__n__gt=5).count() == 1
    assert await Doc.objects.filter(data__n__gt=5).update(name="big") == 1
    assert await names(data__n__gt=5) == ["big"]
    assert sorted(await Doc.objects.values_list("name", flat=True)) == sorted(
        [n for n in DOCS if n != "num"] + ["big"]
    )
    i = ODD_KEYS.index('q"x.y')
    assert await Doc.objects.filter(**{'data__q"x.y': i}).delete() == 1
    assert await Doc.objects.filter(data__has_any_keys=["owner", "rank"]).delete() == 4
    assert await Doc.objects.count() == len(DOCS) - 5


async def test_json_keys_across_relations(db: Database) -> None:
    red = await Author.objects.create(email="red@x.io", data={"team": "red", "lvl": 3})
    blue = await Author.objects.create(email="blue@x.io", data={"team": "blue", "lvl": 1})
    await Article.objects.bulk_create(
        [
            Article(author=red, title="r1"),
            Article(author=blue, title="b1"),
            Article(author=red, title="r2"),
        ]
    )
    titles = Article.objects.filter(author__data__team="red").values_list("title", flat=True)
    assert await titles == ["r1", "r2"]
    assert await Article.objects.filter(author__data__lvl__gt=2).count() == 2
    assert await Author.objects.filter(articles__title="b1", data__has_key="team").count() == 1
    rows = await Article.objects.order_by("-author__data__lvl", "title").values_list(
        "title", "author__data__team"
    )
    assert rows == [("r1", "red"), ("r2", "red"), ("b1", "blue")]
