"""REST-level tests of the Qdrant stand-in, with the request shapes @qdrant/js-client-rest sends."""

import pytest
from starlette.testclient import TestClient

from qdrant_api.app import create_app

COLLECTION = "policy_chunks"


@pytest.fixture()
def api(tmp_path):
    with TestClient(create_app(str(tmp_path / "storage"))) as client:
        yield client


def ok(response):
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert isinstance(body["time"], float)
    return body["result"]


def create_hybrid_collection(api):
    ok(
        api.put(
            f"/collections/{COLLECTION}",
            json={
                "vectors": {"dense": {"size": 4, "distance": "Cosine"}},
                "sparse_vectors": {"sparse": {}},
            },
        )
    )
    ok(api.put(f"/collections/{COLLECTION}/index", json={"field_name": "tenant", "field_schema": "keyword"}))


def upsert_fixture_points(api):
    points = [
        {
            "id": 1,
            "vector": {"dense": [1, 0, 0, 0], "sparse": {"indices": [10, 20], "values": [1.0, 0.5]}},
            "payload": {"tenant": "acme", "doc": "refunds", "text": "refunds within 30 days"},
        },
        {
            "id": 2,
            "vector": {"dense": [0.9, 0.1, 0, 0], "sparse": {"indices": [30], "values": [1.0]}},
            "payload": {"tenant": "acme", "doc": "privacy", "text": "personal data retention"},
        },
        {
            "id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26",
            "vector": {"dense": [1, 0, 0, 0], "sparse": {"indices": [10], "values": [2.0]}},
            "payload": {"tenant": "globex", "doc": "refunds", "text": "no refunds"},
        },
        {
            "id": 4,
            "vector": {"dense": [0, 0, 1, 0], "sparse": {"indices": [20, 40], "values": [0.2, 0.9]}},
            "payload": {"tenant": "acme", "doc": "security", "text": "passwords rotate"},
        },
    ]
    result = ok(api.put(f"/collections/{COLLECTION}/points?wait=true", json={"points": points}))
    assert result["status"] == "completed"


def test_service_info_and_collection_lifecycle(api):
    root = api.get("/").json()
    assert "qdrant" in root["title"] and root["version"]
    assert ok(api.get(f"/collections/{COLLECTION}/exists")) == {"exists": False}
    missing = api.get(f"/collections/{COLLECTION}")
    assert missing.status_code == 404 and "error" in missing.json()["status"]

    create_hybrid_collection(api)
    assert ok(api.get(f"/collections/{COLLECTION}/exists")) == {"exists": True}
    assert ok(api.get("/collections")) == {"collections": [{"name": COLLECTION}]}
    info = ok(api.get(f"/collections/{COLLECTION}"))
    assert info["config"]["params"]["vectors"]["dense"]["size"] == 4
    assert "sparse" in info["config"]["params"]["sparse_vectors"]

    again = api.put(f"/collections/{COLLECTION}", json={"vectors": {"dense": {"size": 4, "distance": "Cosine"}}})
    assert again.status_code == 409 and "already exists" in again.json()["status"]["error"]

    assert ok(api.delete(f"/collections/{COLLECTION}")) is True
    assert ok(api.get(f"/collections/{COLLECTION}/exists")) == {"exists": False}


def test_upsert_retrieve_scroll_count(api):
    create_hybrid_collection(api)
    upsert_fixture_points(api)

    assert ok(api.post(f"/collections/{COLLECTION}/points/count", json={"exact": True})) == {"count": 4}
    records = ok(api.post(f"/collections/{COLLECTION}/points", json={"ids": [1, 4], "with_payload": True}))
    assert sorted(r["id"] for r in records) == [1, 4]
    assert {r["payload"]["doc"] for r in records} == {"refunds", "security"}

    page = ok(
        api.post(
            f"/collections/{COLLECTION}/points/scroll",
            json={"limit": 2, "filter": {"must": [{"key": "tenant", "match": {"value": "acme"}}]}},
        )
    )
    assert len(page["points"]) == 2 and page["next_page_offset"] is not None
    last = ok(
        api.post(
            f"/collections/{COLLECTION}/points/scroll",
            json={
                "limit": 2,
                "offset": page["next_page_offset"],
                "filter": {"must": [{"key": "tenant", "match": {"value": "acme"}}]},
            },
        )
    )
    assert len(last["points"]) == 1 and last["next_page_offset"] is None


def test_filtered_dense_query(api):
    create_hybrid_collection(api)
    upsert_fixture_points(api)

    result = ok(
        api.post(
            f"/collections/{COLLECTION}/points/query",
            json={
                "query": [1, 0, 0, 0],
                "using": "dense",
                "filter": {"must": [{"key": "tenant", "match": {"value": "acme"}}]},
                "limit": 10,
                "with_payload": True,
                "score_threshold": 0.5,
            },
        )
    )
    points = result["points"]
    assert [p["id"] for p in points] == [1, 2]
    assert all(p["payload"]["tenant"] == "acme" for p in points)
    assert points[0]["score"] >= points[1]["score"]

    sparse = ok(
        api.post(
            f"/collections/{COLLECTION}/points/query",
            json={"query": {"indices": [40], "values": [1.0]}, "using": "sparse", "limit": 5},
        )
    )
    assert [p["id"] for p in sparse["points"]] == [4]
    assert "payload" not in sparse["points"][0]


def test_hybrid_rrf_prefetch_query(api):
    create_hybrid_collection(api)
    upsert_fixture_points(api)

    result = ok(
        api.post(
            f"/collections/{COLLECTION}/points/query",
            json={
                "prefetch": [
                    {"query": [1, 0, 0, 0], "using": "dense", "limit": 10},
                    {"query": {"indices": [10, 20], "values": [1.0, 1.0]}, "using": "sparse", "limit": 10},
                ],
                "query": {"fusion": "rrf"},
                "filter": {"must": [{"key": "tenant", "match": {"value": "acme"}}]},
                "limit": 3,
                "with_payload": ["doc"],
            },
        )
    )
    ids = [p["id"] for p in result["points"]]
    # Point 1 is first in both the dense and the sparse ranking, so RRF puts it on top.
    assert ids[0] == 1
    assert "5c56c793-69f3-4fbf-87e6-c4bf54c28c26" not in ids
    assert set(result["points"][0]["payload"]) == {"doc"}


def test_delete_by_filter_and_by_ids(api):
    create_hybrid_collection(api)
    upsert_fixture_points(api)

    result = ok(
        api.post(
            f"/collections/{COLLECTION}/points/delete?wait=true",
            json={"filter": {"must": [{"key": "doc", "match": {"value": "refunds"}}]}},
        )
    )
    assert result["status"] == "completed"
    remaining = ok(api.post(f"/collections/{COLLECTION}/points/scroll", json={"limit": 10}))
    assert sorted(p["id"] for p in remaining["points"]) == [2, 4]

    ok(api.post(f"/collections/{COLLECTION}/points/delete", json={"points": [2]}))
    assert ok(api.post(f"/collections/{COLLECTION}/points/count", json={})) == {"count": 1}


def test_errors_use_qdrant_envelope(api):
    response = api.post("/collections/nope/points/query", json={"query": [1, 0, 0, 0]})
    assert response.status_code == 404
    assert "doesn't exist" in response.json()["status"]["error"]

    create_hybrid_collection(api)
    bad = api.put(f"/collections/{COLLECTION}/points", content=b"{not json")
    assert bad.status_code == 400 and "error" in bad.json()["status"]


KEY = "qdrant-test-key-0123456789abcdef"


@pytest.fixture()
def keyed(tmp_path):
    with TestClient(create_app(str(tmp_path / "storage"), api_key=KEY)) as client:
        yield client


def test_with_an_api_key_every_request_but_health_needs_it(keyed):
    for path in ("/healthz", "/livez", "/readyz"):
        assert keyed.get(path).status_code == 200
    calls = [
        ("GET", "/", None),
        ("GET", "/collections", None),
        ("PUT", f"/collections/{COLLECTION}", {"vectors": {"dense": {"size": 4, "distance": "Cosine"}}}),
        ("POST", f"/collections/{COLLECTION}/points/scroll", {"limit": 10, "with_payload": True}),
        ("POST", f"/collections/{COLLECTION}/points/query", {"query": [1, 0, 0, 0], "using": "dense"}),
        ("POST", f"/collections/{COLLECTION}/points/delete", {"filter": {}}),
        ("GET", "/no/such/route", None),
    ]
    wrong = [{}, {"api-key": "wrong"}, {"api-key": KEY[:-1]}, {"Authorization": "Bearer wrong"}, {"api-key": ""}]
    for method, path, body in calls:
        for headers in wrong:
            r = keyed.request(method, path, json=body, headers=headers)
            assert r.status_code == 401, (method, path, headers, r.text)
            assert "error" in r.json()["status"]
    # Nothing was created by the refused requests.
    assert keyed.get("/collections", headers={"api-key": KEY}).json()["result"] == {"collections": []}


def test_with_the_api_key_it_serves_as_before(keyed):
    for headers in ({"api-key": KEY}, {"Authorization": f"Bearer {KEY}"}):
        ok(keyed.get("/collections", headers=headers))
    keyed.headers.update({"api-key": KEY})
    create_hybrid_collection(keyed)
    assert ok(keyed.get(f"/collections/{COLLECTION}/exists")) == {"exists": True}


def test_the_key_comes_from_qdrants_own_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("QDRANT__SERVICE__API_KEY", KEY)
    with TestClient(create_app(str(tmp_path / "storage"))) as client:
        assert client.get("/collections").status_code == 401
        assert client.get("/collections", headers={"api-key": KEY}).status_code == 200
    monkeypatch.setenv("QDRANT__SERVICE__API_KEY", "")
    with TestClient(create_app(str(tmp_path / "storage2"))) as client:
        assert client.get("/collections").status_code == 200
