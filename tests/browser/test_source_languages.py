"""The language switcher as Chromium reads it, on pages whose path an attacker wrote."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import SmallSource


@pytest.mark.parametrize("target", ["/%5Cevil.example/x", "/%09/evil.example/y"])
def test_switcher_links_resolve_to_this_site(
    page: Page, small_source: SmallSource, target: str
) -> None:
    response = page.goto(small_source.url + target)
    assert response is not None and response.status == 404
    resolved = page.locator("nav.languages a").evaluate_all("links => links.map(a => a.href)")
    assert len(resolved) == 4
    for href in resolved:
        assert href.startswith(small_source.url + "/"), href
    page.get_by_role("link", name="Polski").click()
    assert page.url == small_source.url + "/?l=pl"
    assert page.locator("html").get_attribute("lang") == "pl"
