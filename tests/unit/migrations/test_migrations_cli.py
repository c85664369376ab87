"""``covet db ...`` end to end on a SQLite file, in process."""

from __future__ import annotations

import sqlite3
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from covet.cli.db import main

MODELS_V1 = """
from covet.db import Database
from covet.orm import Field, Model

db = Database("sqlite:///app.db", alias="cli-{s}")


class Item(Model):
    name: str = Field(max_length=40)

    class Meta:
        table = "cli_item_{s}"
        database = db
"""

MODELS_V2 = (
    MODELS_V1
    + """
    price: int = 0
"""
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("COVET_DATABASE_URL", raising=False)
    return tmp_path, uuid.uuid4().hex[:8]


def _write_models(root: Path, module: str, source: str, s: str) -> None:
    (root / f"{module}.py").write_text(textwrap.dedent(source).format(s=s))
    sys.modules.pop(module, None)


def test_full_cycle(
    project: tuple[Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, s = project
    from covet.db import get_database

    mod1 = f"cliapp_{s}_v1"
    _write_models(root, mod1, MODELS_V1, s)
    try:
        assert main(["makemigrations", "--app", mod1]) == 0
        assert "Created migrations/0001_initial.py" in capsys.readouterr().out
        assert main(["makemigrations", "--app", mod1]) == 0
        assert "No changes detected." in capsys.readouterr().out
        assert main(["showmigrations", "--app", mod1]) == 0
        assert "[ ] 0001_initial" in capsys.readouterr().out
        assert main(["sqlmigrate", "0001", "--app", mod1]) == 0
        assert f'CREATE TABLE "cli_item_{s}"' in capsys.readouterr().out
        assert main(["migrate", "--app", mod1]) == 0
        assert "Applied 0001_initial" in capsys.readouterr().out

        mod2 = f"cliapp_{s}_v2"
        _write_models(root, mod2, MODELS_V2, s)
        assert main(["makemigrations", "--app", mod2, "--name", "add_price"]) == 0
        assert "0002_add_price.py" in capsys.readouterr().out
        # the URL can also come from --database or the environment
        monkeypatch.setenv("COVET_DATABASE_URL", "sqlite:///app.db")
        assert main(["migrate"]) == 0
        assert "Applied 0002_add_price" in capsys.readouterr().out
        monkeypatch.delenv("COVET_DATABASE_URL")
        with sqlite3.connect(root / "app.db") as conn:
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info(cli_item_{s})")]
        assert cols == ["id", "name", "price"]
        assert main(["downgrade", "zero", "--database", "sqlite:///app.db"]) == 0
        assert capsys.readouterr().out.splitlines() == [
            "Reverted 0002_add_price",
            "Reverted 0001_initial",
        ]
    finally:
        for alias in (f"cli-{s}", "covet-cli"):
            try:
                get_database(alias).unregister()
            except Exception:
                pass


def test_errors_are_reported_not_raised(
    project: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["makemigrations"]) == 1
    assert "no models found" in capsys.readouterr().err
    assert main(["makemigrations", "--app", "no_such_module_zz"]) == 1
    assert "no_such_module_zz" in capsys.readouterr().err
    assert main(["migrate", "nope", "--database", "sqlite:///x.db"]) == 1
    assert "no migration named 'nope'" in capsys.readouterr().err
    assert main(["migrate", "--database", "oracle://u:pw@h/db"]) == 1
    err = capsys.readouterr().err
    assert "unsupported database scheme" in err and ":pw@" not in err
    assert main([]) == 2
