"""Tortoise ORM models for bench/orm/tfb.py (imported by Tortoise by module name)."""

from __future__ import annotations

from tortoise import fields, models


class TWorld(models.Model):
    id = fields.IntField(primary_key=True)
    randomnumber = fields.IntField()

    class Meta:
        table = "world"


class TFortune(models.Model):
    id = fields.IntField(primary_key=True)
    message = fields.CharField(max_length=2048)

    class Meta:
        table = "fortune"
