"""``covet db makemigrations --merge``: two branches of migrations, end to end on SQLite."""

from __future__ import annotations

import shutil
import sqlite3
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from covet.cli.main import main

MODELS = """
from covet.db import Database
from covet.orm import Field, Model

db = Database("sqlite:///app.db", alias="merge-{s}")


class Item(Model):
    name: str = Field(max_length={length})
{extra}
    class Meta:
        table = "merge_item_{s}"
        database = db
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("COVET_DATABASE_URL", raising=False)
    s = uuid.uuid4().hex[:8]
    yield tmp_path, s
    from covet.db import get_database

    for alias in (f"merge-{s}", "covet-cli"):
        try:
            get_database(alias).unregister()
        except Exception:
            pass


def models(root: Path, s: str, version: str, *, length: int = 40, extra: str = "") -> str:
    """Write module ``merge_<s>_<version>`` and return its name."""
    module = f"merge_{s}_{version}"
    source = MODELS.format(s=s, length=length, extra=textwrap.indent(extra, "    "))
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    sys.modules.pop(module, None)
    return module


def db(*args: str) -> int:
    return main(["db", *args])


def test_merge_two_branches(
    project: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, s = project
    assert db("makemigrations", "--app", models(root, s, "v1")) == 0
    assert db("makemigrations", "--merge") == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Nothing to merge: the history has no branches."
    )
    # two developers each add a migration after 0001_initial
    shutil.copytree("migrations", "base")
    phone = models(root, s, "phone", extra="phone: str | None = None\n")
    assert db("makemigrations", "--app", phone, "--name", "phone") == 0
    assert db("migrate") == 0  # this developer's database has branch A
    shutil.move("migrations/0002_phone.py", "base")
    tags = models(root, s, "tags", length=80)
    assert db("makemigrations", "--app", tags, "--name", "longer_name") == 0
    shutil.move("base/0002_phone.py", "migrations")
    capsys.readouterr()

    both = models(root, s, "both", length=80, extra="phone: str | None = None\n")
    assert db("makemigrations", "--app", both) == 1
    assert "covet db makemigrations --merge" in capsys.readouterr().err
    assert db("migrate") == 1
    assert "covet db makemigrations --merge" in capsys.readouterr().err
    assert db("showmigrations") == 0  # still lists a branched history
    assert capsys.readouterr().out.splitlines() == [
        "[X] 0001_initial",
        "[ ] 0002_longer_name",
        "[X] 0002_phone",
    ]

    assert db("makemigrations", "--merge") == 0
    merge = "0003_merge_0002_longer_name_0002_phone"
    assert capsys.readouterr().out == f"Created migrations/{merge}.py\n"
    assert db("makemigrations", "--app", both) == 0
    assert "No changes detected." in capsys.readouterr().out
    assert db("sqlmigrate", merge, "--database", "sqlite:///app.db") == 0
    assert capsys.readouterr().out == "-- no SQL\n"
    assert db("migrate", "--database", "sqlite:///app.db") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Applied 0002_longer_name",
        f"Applied {merge}",
    ]
    assert db("showmigrations", "--database", "sqlite:///app.db") == 0
    assert capsys.readouterr().out.splitlines() == [
        "[X] 0001_initial",
        "[X] 0002_longer_name",
        "[X] 0002_phone",
        f"[X] {merge}",
    ]
    with sqlite3.connect(root / "app.db") as conn:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info(merge_item_{s})")]
    assert cols == ["id", "name", "phone"]
    merge_file = Path(f"migrations/{merge}.py")
    source = merge_file.read_text()
    merge_file.write_text(source + "# edited\n")  # merge files have checksums too
    assert db("showmigrations", "--database", "sqlite:///app.db") == 0
    assert f"[X] {merge} (file changed since applied)" in capsys.readouterr().out
    merge_file.write_text(source)

    later = models(root, s, "later", length=80, extra="phone: str | None = None\nn: int = 0\n")
    assert db("makemigrations", "--app", later, "--name", "add_n") == 0
    assert f"dependencies = ['{merge}']" in Path("migrations/0004_add_n.py").read_text()
    assert db("migrate", "--database", "sqlite:///app.db") == 0
    assert db("downgrade", "0002", "--database", "sqlite:///app.db") == 1
    assert "ambiguous" in capsys.readouterr().err
    assert db("downgrade", "0002_phone", "--database", "sqlite:///app.db") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Reverted 0004_add_n",
        f"Reverted {merge}",
    ]
    assert db("downgrade", "zero", "--database", "sqlite:///app.db") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Reverted 0002_phone",
        "Reverted 0002_longer_name",
        "Reverted 0001_initial",
    ]


def test_conflicting_branches_are_refused(
    project: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, s = project
    assert db("makemigrations", "--app", models(root, s, "v1")) == 0
    shutil.copytree("migrations", "other")
    assert db("makemigrations", "--app", models(root, s, "a", length=50), "--name", "a") == 0
    wider = models(root, s, "b", length=60)
    assert db("makemigrations", "--app", wider, "--migrations", "other", "--name", "b") == 0
    shutil.move("other/0002_b.py", "migrations")
    capsys.readouterr()
    assert db("makemigrations", "--merge") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot merge: migrations ['0002_a', '0002_b']")
    assert f"0002_a: alter column merge_item_{s}.name  <->  0002_b: alter column" in err
    assert sorted(p.name for p in Path("migrations").glob("*.py")) == [
        "0001_initial.py",
        "0002_a.py",
        "0002_b.py",
    ]
