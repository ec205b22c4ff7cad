"""Fixtures for the intercept tests: an in-process app on a throwaway SQLite store."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from offramp.config import Settings
from tests.conftest import DEMO_ASSETS, KeyPair

MakeClient = Callable[..., TestClient]


@pytest.fixture
def settings(tmp_path: Path, keypair: KeyPair) -> Settings:
    for name in ("terms.txt", "survey.yaml"):
        shutil.copyfile(DEMO_ASSETS / name, tmp_path / name)
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'offramp.sqlite'}",
        terms=tmp_path / "terms.txt",
        instruments=(tmp_path / "survey.yaml",),
        public_keys=(keypair.public,),
        demo=True,
    )


@pytest.fixture
def make_client(settings: Settings) -> Iterator[MakeClient]:
    """make_client(**overrides) -> a started TestClient (lifespan on); closed after the test."""
    from offramp.app import create_app

    opened: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(replace(settings, **overrides)), follow_redirects=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()
