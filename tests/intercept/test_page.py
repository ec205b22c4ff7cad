"""The interstitial page: language choice, direction, size, no script, nothing from elsewhere."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from tests.intercept.conftest import MakeClient


def test_language_from_query_then_accept_language_then_default(client: TestClient) -> None:
    assert '<html lang="ru" dir="ltr">' in client.get("/intercept?lang=ru").text
    page = client.get("/intercept", headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"}).text
    assert '<html lang="fr"' in page
    page = client.get("/intercept", headers={"accept-language": "ar-EG"}).text
    assert '<html lang="ar" dir="rtl">' in page
    # Unknown language: neither an error nor a guess; the default language.
    assert '<html lang="en"' in client.get("/intercept?lang=xx").text
    assert '<html lang="en"' in client.get("/intercept", headers={"accept-language": "tlh"}).text
    # ?lang= wins over the header.
    page = client.get("/intercept?lang=de", headers={"accept-language": "ru"}).text
    assert '<html lang="de"' in page


def test_page_is_small_self_contained_and_scriptless(client: TestClient) -> None:
    for lang in ("en", "ar", "ru", "de", "es", "fr"):
        response = client.get(f"/intercept?lang={lang}")
        assert response.status_code == 200
        css = client.get("/static/offramp.css").content
        assert len(response.content) + len(css) < 30 * 1024
        html = response.text
        assert "<script" not in html.lower() and "javascript:" not in html.lower()
        assert "<svg" not in html.lower() and "@font-face" not in css.decode()
        for url in re.findall(r'(?:href|src|action)="([^"]*)"', html):
            assert url.startswith("/"), url  # nothing from another origin
            assert not url.startswith("//")
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "set-cookie" not in response.headers


def test_language_menu_keeps_the_arm_and_never_the_query(make_client: MakeClient) -> None:
    client = make_client(arms={"*": {"supportive": 1.0}})
    page = client.get("/demo/search?q=where+to+find+zorblax").text
    assert "You can stop, and help is available" in page
    assert "zorblax" not in page
    assert 'href="/intercept?lang=ar&amp;arm=supportive" hreflang="ar" lang="ar" dir="rtl"' in page


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_links_are_counted_redirects(client: TestClient, lang: str) -> None:
    page = client.get(f"/intercept?lang={lang}").text
    links = re.findall(r'<a[^>]*href="([^"]*)"', page)
    go_links = [link for link in links if link.startswith("/go/")]
    assert {link.split("?")[0] for link in go_links} == {"/go/help", "/go/survey", "/go/leave"}
    assert all(f"lang={lang}" in link for link in go_links)
