"""The API's /metrics in process: route templates as labels, and the auditor's last full verification."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client

from telemetry.api_metrics import SCRAPE_REFUSED
from tests.api.conftest import AUDITOR, SUPERVISOR, Api, running_api


def _samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def test_requests_are_labelled_by_route_template_never_by_item(api: Api) -> None:
    item = await api.open()
    assert (await api.get(f"/api/items/{item['id']}", SUPERVISOR)).status_code == 200
    scraped = (await api.http.get("/metrics")).text
    assert item["id"] not in scraped
    samples = _samples(scraped)
    key = ("http_requests_total", (("handler", "/api/items/{item_id}"), ("method", "GET"), ("status", "200")))
    assert samples[key] == 1.0


async def test_the_last_full_verification_is_scraped_with_its_outcome_and_duration(api: Api) -> None:
    await api.open()
    assert (await api.get("/api/audit/verify", AUDITOR)).json()["ok"] is True
    samples = _samples((await api.http.get("/metrics")).text)
    assert samples[("duban_verification_ok", ())] == 1.0
    assert samples[("duban_verification_duration_seconds", ())] > 0
    assert samples[("duban_verification_timestamp_seconds", ())] > 0


async def test_with_a_metrics_token_a_scrape_needs_it_as_its_bearer_token(
    database_url: str, temporal_client: Client
) -> None:
    token = "scrape-secret-1"
    async with running_api(database_url, temporal_client, worker=False, metrics_token=token) as api:
        bare = await api.http.get("/metrics")
        wrong = await api.http.get("/metrics", headers={"Authorization": "Bearer scrape-other"})
        user = await api.get("/metrics", SUPERVISOR)  # a person's sign-in token is not the scraper's
        scraped = await api.http.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    for refused in (bare, wrong, user):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert refused.json()["detail"] == SCRAPE_REFUSED
        assert "duban_open_items" not in refused.text
    assert scraped.status_code == 200
    assert ("duban_metrics_refresh_failures_total", ()) in _samples(scraped.text)


async def test_without_a_metrics_token_a_scrape_needs_none(api: Api) -> None:
    assert api.settings.metrics_token is None
    scraped = await api.http.get("/metrics")
    assert scraped.status_code == 200
    assert ("duban_metrics_refresh_failures_total", ()) in _samples(scraped.text)
