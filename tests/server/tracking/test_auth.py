"""``nbtrack server --auth`` on a real server: every route of the route table, every permission.

The server is the real app (``create_app(..., auth=True)``) under uvicorn on
127.0.0.1, over a real SQLite store; users are made with the real
``nbtrack server users`` commands. The walks go over the app's own route
table (``all_routes()``), so a route added without a permission rule, or
one that answers without credentials, fails here.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from rest_server import wait_until

from nbtrack.cli.main import cli
from nbtrack.server.tracking.auth.routes import RULES as AUTH_API_RULES
from nbtrack.server.tracking.permissions_table import PERMISSIONS, Rule

M = "/api/2.0/mlflow"
A = "/api/2.0/mlflow-artifacts"
U3 = "/api/3.0/mlflow/users"
PASSWORDS = {
    "admin": "admin-pw-1",
    "reader": "reader-pw-2",
    "editor": "editor-pw-3",
    "manager": "manager-pw-4",
    "alice": "alice-pw-5",
    "stranger": "stranger-pw-6",
}


def route_keys() -> set[tuple[str, str]]:
    """Every (method, path template) the app serves, from its own route table."""
    from nbtrack.server.tracking.app import all_routes

    keys: set[tuple[str, str]] = set()
    for route in all_routes():
        if isinstance(route, tuple):
            keys.add((route[0], route[1]))
            continue
        for method in route.methods or ():
            if method != "HEAD":
                keys.add((method, route.path))
    return keys


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on a free 127.0.0.1 port; yield its URL."""
    import uvicorn

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), 30, "the server to start")
    assert thread.is_alive(), "the auth test server failed to start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def users_cli(store: str, *args: str, input: str | None = None) -> str:
    """Run ``nbtrack server users ARGS --backend-store-uri STORE``; return its stdout."""
    result = CliRunner().invoke(
        cli, ["server", "users", *args, "--backend-store-uri", store], input=input
    )
    assert result.exit_code == 0, result.output
    return result.output


@dataclass
class Resources:
    """One experiment with a run, a metric, an artifact and a logged model; one registered
    model with a version and an alias: what the walks address."""

    experiment_id: str
    experiment_name: str
    run_id: str
    logged_model: str
    model: str

    @property
    def artifact_dir(self) -> str:
        return f"{self.experiment_id}/{self.run_id}/artifacts"


def make_resources(http: httpx.Client, tag: str) -> Resources:
    """Create the walk's resources as the admin, through the MLflow API."""

    def post(path: str, body: dict[str, Any]) -> Any:
        answer = http.post(path, json=body)
        assert answer.status_code == 200, (path, answer.text)
        return answer.json()

    name = f"exp-{tag}"
    exp = post(f"{M}/experiments/create", {"name": name})["experiment_id"]
    run = post(f"{M}/runs/create", {"experiment_id": exp, "start_time": 1})["run"]["info"]["run_id"]
    post(
        f"{M}/runs/log-metric", {"run_id": run, "key": "m", "value": 1.0, "timestamp": 1, "step": 0}
    )
    put = http.put(f"{A}/artifacts/{exp}/{run}/artifacts/a.txt", content=b"hello")
    assert put.status_code == 200, put.text
    logged = post(f"{M}/logged-models", {"experiment_id": exp, "name": f"lm-{tag}"})
    model = f"model-{tag}"
    post(f"{M}/registered-models/create", {"name": model})
    post(
        f"{M}/model-versions/create",
        {"name": model, "source": f"mlflow-artifacts:/{exp}/{run}/artifacts", "run_id": run},
    )
    post(f"{M}/registered-models/alias", {"name": model, "alias": "champion", "version": "1"})
    return Resources(exp, name, run, logged["model"]["info"]["model_id"], model)


#: What a read needs beyond the resource to answer 200.
EXTRA: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", f"{M}/metrics/get-history"): {"metric_key": "m"},
    ("GET", f"{M}/metrics/get-history-bulk-interval"): {"metric_key": "m"},
    ("GET", "/api/2.0/nbtrack/metrics/get-points"): {"metric_key": "m"},
    ("GET", f"{M}/model-versions/get"): {"version": "1"},
    ("GET", f"{M}/model-versions/get-download-uri"): {"version": "1"},
    ("GET", f"{M}/registered-models/alias"): {"alias": "champion"},
    ("GET", "/api/2.0/nbtrack/lineage/get"): {"session_id": "s"},
    ("POST", "/api/2.0/nbtrack/lineage/log"): {"executions": []},
}

#: Reads that pass the permission check and then answer something else by design.
NOT_200: dict[tuple[str, str], int] = {
    # Presigned downloads exist for object stores; the test's artifacts are a local folder.
    ("GET", f"{A}/presigned/{{artifact_path:path}}"): 501,
}


def build(method: str, template: str, rule: Rule, res: Resources) -> tuple[str, dict[str, Any]]:
    """A request to ``template`` that names the resources of ``res`` where ``rule`` looks."""
    path = (
        template.replace("{model_id}", res.logged_model)
        .replace("{tag_key}", "t")
        .replace("{artifact_path:path}", f"{res.artifact_dir}/a.txt")
    )
    values: dict[str, Any] = dict(EXTRA.get((method, template), {}))
    field = rule.field
    if field is not None and "{" + field not in template:
        values[field] = {
            "experiment": res.experiment_id,
            "experiment_ids": [res.experiment_id],
            "experiment_name": res.experiment_name,
            "run": res.run_id,
            "run_ids": [res.run_id],
            "points": [[res.run_id, "m", 2.0, 2, 1]],
            "artifact_path": res.artifact_dir,
            "registered_model": res.model,
        }.get(rule.resource, "x")
    if method == "GET":
        return path, {"params": values}
    if method == "PUT":
        return path, {"content": b"new"}
    return path, {"json": values}


def call(http: httpx.Client, method: str, path: str, kwargs: dict[str, Any]) -> httpx.Response:
    return http.request(method, path, **kwargs)


@pytest.fixture
def store(tmp_dir: Path) -> str:
    """A store folder with the walk's users (made with the CLI)."""
    uri = str(tmp_dir / "store")
    users_cli(uri, "create", "admin", "--password", PASSWORDS["admin"], "--admin")
    for name in ("reader", "editor", "manager", "alice", "stranger"):
        users_cli(uri, "create", name, "--password", PASSWORDS[name])
    return uri


@pytest.fixture
def server(store: str) -> Iterator[str]:
    """The real app with auth=True."""
    from nbtrack.server.tracking.app import create_app

    with serve(create_app(store, None, auth=True)) as url:
        yield url


def as_user(url: str, name: str) -> httpx.Client:
    return httpx.Client(base_url=url, auth=(name, PASSWORDS[name]), timeout=60)


def test_every_route_has_a_permission_rule() -> None:
    """A route the app serves without a rule would be refused to all but admins: catch it here."""
    missing = route_keys() - set(PERMISSIONS)
    assert not missing, f"routes without a permission rule: {sorted(missing)}"
    stale = set(PERMISSIONS) - route_keys()
    assert not stale, f"permission rules for routes the app does not serve: {sorted(stale)}"
    assert not set(AUTH_API_RULES) & route_keys(), "the auth API is the middleware's own"


def test_every_route_answers_401_without_credentials(server: str) -> None:
    res = Resources("0", "Default", "0" * 32, "m-0", "nothing")
    keys = sorted(route_keys() | set(AUTH_API_RULES))
    with httpx.Client(base_url=server, timeout=60) as http:
        for method, template in keys:
            rule = PERMISSIONS.get((method, template), Rule("auth_api", None, None))
            path, kwargs = build(method, template, rule, res)
            answer = call(http, method, path, kwargs)
            if rule.resource == "public":
                assert answer.status_code == 200, (method, template, answer.text)
                continue
            assert answer.status_code == 401, (method, template, answer.status_code, answer.text)
            assert answer.headers["www-authenticate"] == 'Basic realm="nbtrack"'
            assert answer.json()["error_code"] == "UNAUTHENTICATED"
        head = http.head(f"{M}/experiments/get", params={"experiment_id": "0"})
        assert head.status_code == 401
        assert http.head("/health").status_code == 200
        # Wrong credentials are no better than none, whatever the scheme.
        for auth in (
            {"auth": ("reader", "wrong")},
            {"auth": ("nobody", "x")},
            {"headers": {"Authorization": "Bearer nbt_not-a-token"}},
            {"headers": {"Authorization": "Basic !!notbase64"}},
        ):
            answer = http.get(f"{M}/experiments/get", params={"experiment_id": "0"}, **auth)
            assert answer.status_code == 401, auth
            assert answer.json()["error_code"] == "UNAUTHENTICATED"


def test_permissions_of_every_route(server: str, store: str) -> None:
    """READ reads (200) and is refused every write; EDIT writes; MANAGE deletes; admin does all."""
    with as_user(server, "admin") as admin:
        shared = make_resources(admin, "a")
        doomed = make_resources(admin, "b")
    for resource, grants in (
        (shared, {"reader": "READ", "editor": "EDIT"}),
        (doomed, {"manager": "MANAGE"}),
    ):
        for name, permission in grants.items():
            users_cli(
                store,
                "grant",
                name,
                "--experiment",
                resource.experiment_id,
                "--permission",
                permission,
            )
            users_cli(store, "grant", name, "--model", resource.model, "--permission", permission)
    # Deletes last: deleting the registered model also drops the grants on its name.
    keys = sorted(
        route_keys(), key=lambda k: (PERMISSIONS[k].level == "MANAGE", "delete" in k[1], k)
    )
    rules = {key: PERMISSIONS[key] for key in keys}

    def walk(name: str, res: Resources, expect: Any) -> None:
        with as_user(server, name) as http:
            for (method, template), rule in rules.items():
                if rule.resource == "public":
                    continue
                path, kwargs = build(method, template, rule, res)
                answer = call(http, method, path, kwargs)
                expect(method, template, rule, answer)

    def reader_expect(method: str, template: str, rule: Rule, answer: httpx.Response) -> None:
        where = (name_of(method, template), answer.status_code, answer.text[:300])
        writes = rule.level in ("EDIT", "MANAGE") and rule.resource not in (
            "new_experiment",
            "new_registered_model",
        )
        if rule.resource == "admin" or writes:
            assert answer.status_code == 403, where
            body = answer.json()
            assert body["error_code"] == "PERMISSION_DENIED"
            if rule.resource != "admin" and rule.resource != "none":
                assert rule.level in body["message"]
        elif rule.resource not in ("new_experiment", "new_registered_model"):
            assert answer.status_code == NOT_200.get((method, template), 200), where

    def allowed_expect(level: str) -> Any:
        def expect(method: str, template: str, rule: Rule, answer: httpx.Response) -> None:
            where = (name_of(method, template), answer.status_code, answer.text[:300])
            order = ["READ", "EDIT", "MANAGE"]
            reachable = rule.resource in ("new_experiment", "new_registered_model") or (
                rule.resource not in ("admin", "none")
                and order.index(rule.level or "READ") <= order.index(level)
            )
            if rule.resource == "none":
                reachable = rule.level == "READ"  # the default permission is READ
            if reachable:
                assert answer.status_code not in (401, 403), where
            else:
                assert answer.status_code == 403, where

        return expect

    walk("reader", shared, reader_expect)
    walk("editor", shared, allowed_expect("EDIT"))
    walk("manager", doomed, allowed_expect("MANAGE"))

    def admin_expect(method: str, template: str, rule: Rule, answer: httpx.Response) -> None:
        assert answer.status_code not in (401, 403), (name_of(method, template), answer.text)

    walk("admin", shared, admin_expect)


def name_of(method: str, template: str) -> str:
    return f"{method} {template}"


def test_creator_gets_manage_and_manage_grants(server: str) -> None:
    with as_user(server, "alice") as alice, as_user(server, "stranger") as stranger:
        exp = alice.post(f"{M}/experiments/create", json={"name": "alices"}).json()["experiment_id"]
        # The creator may write and manage at once (the grant is in before the answer).
        run = alice.post(f"{M}/runs/create", json={"experiment_id": exp, "start_time": 1})
        assert run.status_code == 200, run.text
        run_id = run.json()["run"]["info"]["run_id"]
        log = {"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 1, "step": 0}
        assert stranger.post(f"{M}/runs/log-metric", json=log).status_code == 403
        grant = {
            "username": "stranger",
            "resource_type": "experiment",
            "resource_id": exp,
            "permission": "EDIT",
        }
        # EDIT is not enough to grant; MANAGE (the creator's) is.
        assert stranger.post(f"{U3}/permissions/grant", json=grant).status_code == 403
        assert alice.post(f"{U3}/permissions/grant", json=grant).status_code == 200
        wait_until(
            lambda: stranger.post(f"{M}/runs/log-metric", json=log).status_code == 200,
            30,
            "the grant to reach the server's cache",
        )
        got = stranger.get(
            f"{U3}/permissions/get",
            params={"username": "stranger", "resource_type": "experiment", "resource_id": exp},
        )
        assert got.json()["permission"] == "EDIT"
        # A granted EDIT still cannot delete; the creator can.
        delete = {"experiment_id": exp}
        assert stranger.post(f"{M}/experiments/delete", json=delete).status_code == 403
        assert alice.post(f"{M}/experiments/delete", json=delete).status_code == 200

        model = alice.post(f"{M}/registered-models/create", json={"name": "alices-model"})
        assert model.status_code == 200, model.text
        assert (
            stranger.request(
                "DELETE", f"{M}/registered-models/delete", json={"name": "alices-model"}
            ).status_code
            == 403
        )
        renamed = alice.post(
            f"{M}/registered-models/rename", json={"name": "alices-model", "new_name": "renamed"}
        )
        assert renamed.status_code == 200, renamed.text
        # The grants followed the rename: alice still manages it under its new name.
        assert (
            alice.request(
                "DELETE", f"{M}/registered-models/delete", json={"name": "renamed"}
            ).status_code
            == 200
        )


def test_bearer_token_and_basic_both_work_and_revocation_reaches_the_server(
    store: str, tmp_dir: Path
) -> None:
    from nbtrack.server.tracking.app import create_app
    from nbtrack.server.tracking.auth.middleware import AuthMiddleware

    token = users_cli(store, "token", "reader", "--name", "laptop").strip().splitlines()[0]
    assert token.startswith("nbt_")
    # A short TTL so the revocation's delay is visible without waiting the default.
    app = AuthMiddleware(create_app(store, None, auth=False), store, cache_ttl=0.5)
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        get = (f"{M}/experiments/get", {"experiment_id": "0"})
        bearer = {"Authorization": f"Bearer {token}"}
        assert http.get(get[0], params=get[1], headers=bearer).status_code == 200
        assert (
            http.get(get[0], params=get[1], auth=("reader", PASSWORDS["reader"])).status_code == 200
        )
        assert http.get(get[0], params=get[1], auth=("reader", "wrong")).status_code == 401
        listed = users_cli(store, "tokens", "reader")
        token_id = hashlib.sha256(token.encode()).hexdigest()[:12]
        assert token_id in listed and "laptop" in listed and token not in listed
        users_cli(store, "revoke-token", token_id)
        wait_until(
            lambda: http.get(get[0], params=get[1], headers=bearer).status_code == 401,
            30,
            "the revoked token to stop working",
        )
        # A deleted user's password stops working the same way.
        users_cli(store, "delete", "reader")
        wait_until(
            lambda: (
                http.get(get[0], params=get[1], auth=("reader", PASSWORDS["reader"])).status_code
                == 401
            ),
            30,
            "the deleted user to be refused",
        )


def test_no_permissions_default_hides_what_was_not_granted(store: str) -> None:
    from nbtrack.server.tracking.app import create_app
    from nbtrack.server.tracking.auth.middleware import AuthMiddleware

    app = AuthMiddleware(
        create_app(store, None, auth=False), store, default_permission="NO_PERMISSIONS"
    )
    with serve(app) as url:
        with as_user(url, "admin") as admin:
            res = make_resources(admin, "hidden")
        users_cli(
            store, "grant", "reader", "--experiment", res.experiment_id, "--permission", "READ"
        )
        with as_user(url, "reader") as reader, as_user(url, "stranger") as stranger:
            get = {"experiment_id": res.experiment_id}
            assert reader.get(f"{M}/experiments/get", params=get).status_code == 200
            denied = stranger.get(f"{M}/experiments/get", params=get)
            assert denied.status_code == 403
            assert f"experiment {res.experiment_id}" in denied.json()["message"]
            assert stranger.get(f"{M}/runs/get", params={"run_id": res.run_id}).status_code == 403
            listed = stranger.get(f"{M}/experiments/search", params={"max_results": 100})
            assert listed.status_code == 200
            ids = {e["experiment_id"] for e in listed.json().get("experiments", [])}
            assert res.experiment_id not in ids
            seen = reader.get(f"{M}/experiments/search", params={"max_results": 100}).json()
            assert res.experiment_id in {e["experiment_id"] for e in seen["experiments"]}
            models = stranger.get(f"{M}/registered-models/search").json()
            assert res.model not in {m["name"] for m in models.get("registered_models", [])}


def test_secrets_are_stored_hashed(store: str, tmp_dir: Path) -> None:
    token = users_cli(store, "token", "alice").strip().splitlines()[0]
    db = sqlite3.connect(tmp_dir / "store" / "nbtrack.db")
    try:
        hashes = dict(db.execute("SELECT username, password_hash FROM users"))
        tokens = [row[0] for row in db.execute("SELECT token_hash FROM access_tokens")]
    finally:
        db.close()
    for name, password in PASSWORDS.items():
        assert hashes[name].startswith("$argon2id$"), hashes[name]
        assert password not in hashes[name]
    assert len(set(hashes.values())) == len(hashes)  # salted: no two alike
    assert tokens == [hashlib.sha256(token.encode()).hexdigest()]


def test_users_cli(store: str) -> None:
    def users(*args: str) -> Any:
        return CliRunner().invoke(cli, ["server", "users", *args, "--backend-store-uri", store])

    # The password is asked for, hidden, twice, when --password is not given.
    out = users_cli(store, "create", "bob", input="s3cret\ns3cret\n")
    assert "Created user bob" in out and "s3cret" not in out
    users_cli(store, "grant", "bob", "--experiment", "0", "--permission", "edit")
    users_cli(store, "grant", "bob", "--model", "m", "--permission", "MANAGE")
    listed = users_cli(store, "list")
    assert "admin  (admin)" in listed
    assert "experiment 0: EDIT" in listed and "model m: MANAGE" in listed
    users_cli(store, "revoke", "bob", "--model", "m")
    assert "model m" not in users_cli(store, "list")
    again = users("create", "bob", "--password", "x")
    assert again.exit_code == 1 and "Error: User 'bob' already exists" in again.output
    unknown = users("grant", "nobody", "--experiment", "0", "--permission", "READ")
    assert unknown.exit_code == 1 and "No user named 'nobody'" in unknown.output
    both = users("grant", "bob", "--experiment", "0", "--model", "m", "--permission", "READ")
    assert both.exit_code == 2 and "exactly one of" in both.output
    users_cli(store, "delete", "bob")
    assert "bob" not in users_cli(store, "list")


@pytest.mark.slow
def test_mlflow_client_logs_a_run_with_basic_auth(server: str, tmp_dir: Path) -> None:
    import json
    import os
    import subprocess

    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    script = """
import json, mlflow
from mlflow.tracking import MlflowClient
mlflow.set_experiment("mlflow-auth")
with mlflow.start_run() as run:
    mlflow.log_param("alpha", "0.5")
    mlflow.log_metrics({"loss": 0.25, "acc": 0.9})
    mlflow.log_text("hi", "notes/hello.txt")
client = MlflowClient()
got = client.get_run(run.info.run_id)
files = [f.path for f in client.list_artifacts(run.info.run_id, "notes")]
text = mlflow.artifacts.load_text(run.info.artifact_uri + "/notes/hello.txt")
print(json.dumps({"params": got.data.params, "metrics": got.data.metrics,
                  "files": files, "text": text}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    env.update(
        MLFLOW_TRACKING_URI=server,
        MLFLOW_TRACKING_USERNAME="alice",
        MLFLOW_TRACKING_PASSWORD=PASSWORDS["alice"],
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
    )
    proc = subprocess.run(
        [python, "-c", script], env=env, cwd=tmp_dir, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {
        "params": {"alpha": "0.5"},
        "metrics": {"loss": 0.25, "acc": 0.9},
        "files": ["notes/hello.txt"],
        "text": "hi",
    }
    # Without credentials MLflow's client is refused, with the server's message.
    env.pop("MLFLOW_TRACKING_USERNAME")
    env.pop("MLFLOW_TRACKING_PASSWORD")
    proc = subprocess.run(
        [python, "-c", "import mlflow; mlflow.search_experiments()"],
        env=env,
        cwd=tmp_dir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode != 0
    assert "UNAUTHENTICATED" in proc.stderr or "401" in proc.stderr, proc.stderr[-2000:]


def test_nbtrack_client_with_a_token(
    server: str, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbtrack as nbt
    from nbtrack.entities import RunTag
    from nbtrack.errors import StoreError
    from nbtrack.store import factory

    token = users_cli(store, "token", "alice").strip().splitlines()[0]
    monkeypatch.setenv("NBTRACK_TRACKING_TOKEN", token)
    nbt.set_tracking_uri(server)
    nbt.set_experiment("team")  # alice creates it, so she manages it
    with nbt.start_run() as run:
        nbt.log_param("alpha", 0.5)
        for step in range(50):
            nbt.log_metric("loss", 1.0 / (step + 1), step=step)
    client = nbt.Client()
    got = client.get_run(run.info.run_id)
    assert got.data.params == {"alpha": "0.5"} and got.data.metrics == {"loss": 0.02}
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 50
    # The reader may look at alice's run but not write to it.
    monkeypatch.delenv("NBTRACK_TRACKING_TOKEN")
    monkeypatch.setenv("NBTRACK_TRACKING_USERNAME", "reader")
    monkeypatch.setenv("NBTRACK_TRACKING_PASSWORD", PASSWORDS["reader"])
    factory.forget_stores()
    reader = nbt.Client()
    assert reader.get_run(run.info.run_id).data.params == {"alpha": "0.5"}
    # The run has ended, so nbtrack's API would refuse the tag itself: ask the store, which
    # goes to the server as any client does, and is refused for want of permission.
    with pytest.raises(StoreError, match=r"needs EDIT permission"):
        reader.store.log_batch(run.info.run_id, tags=[RunTag("k", "v")])
    monkeypatch.setenv("NBTRACK_TRACKING_PASSWORD", "wrong")
    factory.forget_stores()
    with pytest.raises(StoreError, match="without valid credentials"):
        nbt.Client().search_experiments()


def test_a_second_spelling_of_run_id_cannot_smuggle_a_write(server: str, store: str) -> None:
    """The middleware reads the run the app will write to, however the body spells it."""
    with as_user(server, "admin") as admin:
        victim = make_resources(admin, "victim")
    with as_user(server, "alice") as alice:
        exp = alice.post(f"{M}/experiments/create", json={"name": "own"}).json()["experiment_id"]
        own = alice.post(f"{M}/runs/create", json={"experiment_id": exp, "start_time": 1})
        own_id = own.json()["run"]["info"]["run_id"]
        metric = '{"key": "m", "value": 9.0, "timestamp": 5, "step": 5}'
        plain = f'{{"run_id": "{own_id}", "metrics": [{metric}]}}'
        assert alice.post(f"{M}/runs/log-batch", content=plain).status_code == 200
        for body in (
            # JSON parsers keep the last of two equal keys.
            f'{{"run_id": "{own_id}", "metrics": [{metric}], "run_id": "{victim.run_id}"}}',
            # The same key, spelled with an escape.
            f'{{"run_id": "{own_id}", "metrics": [{metric}], "\\u0072un_id": "{victim.run_id}"}}',
            # MLflow's older name for it.
            f'{{"run_uuid": "{victim.run_id}", "metrics": [{metric}]}}',
        ):
            answer = alice.post(f"{M}/runs/log-batch", content=body)
            assert answer.status_code in (400, 403), (body, answer.text)
    with as_user(server, "admin") as admin:
        history = admin.get(
            f"{M}/metrics/get-history", params={"run_id": victim.run_id, "metric_key": "m"}
        ).json()["metrics"]
    assert [point["value"] for point in history] == [1.0]


@pytest.mark.slow
def test_mlflow_auth_service_client_manages_users(server: str, tmp_dir: Path) -> None:
    """MLflow's own AuthServiceClient, in its venv, against the users-and-permissions API."""
    import json
    import os
    import subprocess

    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    # MLflow's auth client lives in its basic-auth package, which needs its `auth` extra.
    if subprocess.run([python, "-c", "import flask_wtf"], capture_output=True).returncode:
        subprocess.run([python, "-m", "pip", "install", "--quiet", "Flask-WTF<2"], check=True)
    with as_user(server, "admin") as admin:
        exp = admin.post(f"{M}/experiments/create", json={"name": "shared"}).json()
    script = f"""
import json, os
from mlflow.exceptions import MlflowException
from mlflow.server.auth.client import AuthServiceClient
client = AuthServiceClient({server!r})
out = {{}}
carol = client.create_user("carol", "carol-pw")
out["created"] = [carol.username, carol.is_admin]
out["got"] = client.get_user("carol").username
client.grant_user_permission("carol", "experiment", {exp["experiment_id"]!r}, "EDIT")
out["permission"] = client.get_user_permission(
    "carol", "experiment", {exp["experiment_id"]!r}).permission
client.update_user_admin("carol", True)
out["admin"] = client.get_user("carol").is_admin
client.update_user_password("carol", "carol-pw-2")
os.environ["MLFLOW_TRACKING_USERNAME"] = "carol"
os.environ["MLFLOW_TRACKING_PASSWORD"] = "carol-pw-2"
out["as_carol"] = AuthServiceClient({server!r}).get_user("carol").username
os.environ["MLFLOW_TRACKING_USERNAME"] = "reader"
os.environ["MLFLOW_TRACKING_PASSWORD"] = {PASSWORDS["reader"]!r}
try:
    AuthServiceClient({server!r}).create_user("mallory", "x")
except MlflowException as exc:
    out["reader_create"] = exc.error_code
os.environ["MLFLOW_TRACKING_USERNAME"] = "admin"
os.environ["MLFLOW_TRACKING_PASSWORD"] = {PASSWORDS["admin"]!r}
client.delete_user("carol")
try:
    client.get_user("carol")
except MlflowException as exc:
    out["deleted"] = exc.error_code
print(json.dumps(out))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    env.update(
        MLFLOW_TRACKING_USERNAME="admin",
        MLFLOW_TRACKING_PASSWORD=PASSWORDS["admin"],
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
    )
    proc = subprocess.run(
        [python, "-c", script], env=env, cwd=tmp_dir, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {
        "created": ["carol", False],
        "got": "carol",
        "permission": "EDIT",
        "admin": True,
        "as_carol": "carol",
        "reader_create": "PERMISSION_DENIED",
        "deleted": "RESOURCE_DOES_NOT_EXIST",
    }


def test_a_user_changes_their_own_password_only_with_the_current_one(server: str) -> None:
    change = f"{M}/users/update-password"
    with as_user(server, "alice") as alice:
        assert alice.get(f"{M}/users/current").json()["user"]["username"] == "alice"
        body = {"username": "alice", "password": "new-pw"}
        assert alice.patch(change, json=body).status_code == 403
        other = {"username": "reader", "password": "x", "current_password": PASSWORDS["alice"]}
        assert alice.patch(change, json=other).status_code == 403
        ok = alice.patch(change, json={**body, "current_password": PASSWORDS["alice"]})
        assert ok.status_code == 200, ok.text
    with httpx.Client(base_url=server, timeout=60) as http:
        current = f"{M}/users/current"
        assert http.get(current, auth=("alice", "new-pw")).status_code == 200
        # This process forgot the old password at once; others within the cache TTL.
        assert http.get(current, auth=("alice", PASSWORDS["alice"])).status_code == 401


@pytest.mark.slow
def test_a_revoked_token_stops_working_on_every_server_process(store: str, tmp_dir: Path) -> None:
    """Two `--auth` server processes over one store: a revocation reaches both within the TTL."""
    import os
    import subprocess
    import sys

    from rest_server import free_port

    token = users_cli(store, "token", "reader").strip().splitlines()[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env.update(NBTRACK_SERVER_BACKEND_STORE_URI=store, NBTRACK_SERVER_AUTH="1")
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "nbtrack.server.tracking.app:app_from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_dir / f"server-{port}.log", "wb"),  # noqa: SIM115
        )
        for port in ports
    ]
    headers = {"Authorization": f"Bearer {token}"}

    def status(port: int) -> int:
        try:
            url = f"http://127.0.0.1:{port}{M}/experiments/get"
            return httpx.get(url, params={"experiment_id": "0"}, headers=headers).status_code
        except httpx.TransportError:
            return 0

    try:
        for port in ports:
            wait_until(lambda p=port: status(p) == 200, 60, f"server {port} to accept the token")
        # Both processes hold the token in their caches now; the revocation reaches each
        # when its entry expires (CACHE_TTL); the wait's timeout only bounds a hang.
        users_cli(store, "revoke-token", token)
        for port in ports:
            wait_until(lambda p=port: status(p) == 401, 60, f"server {port} to refuse the token")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def test_parallel_first_requests_verify_a_password_once(store: str) -> None:
    """A client's first parallel requests wait for one argon2 check instead of each running one."""
    from concurrent.futures import ThreadPoolExecutor

    from nbtrack.server.tracking.auth.passwords import Authenticator, Credentials
    from nbtrack.store.auth_base import open_auth_store

    real = open_auth_store(store)
    checks: list[str] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def authenticate_password(self, username: str, password: str) -> Any:
            checks.append(username)
            return real.authenticate_password(username, password)

    authenticator = Authenticator(Counting())  # type: ignore[arg-type]
    right = Credentials("basic", "reader", PASSWORDS["reader"])
    with ThreadPoolExecutor(8) as pool:
        users = list(pool.map(lambda _: authenticator.verify(right), range(8)))
    assert {u.username for u in users if u is not None} == {"reader"} and None not in users
    assert checks == ["reader"]
    # A wrong password is checked every time (only successes are remembered).
    wrong = Credentials("basic", "reader", "wrong")
    assert authenticator.verify(wrong) is None and authenticator.verify(wrong) is None
    assert checks == ["reader", "reader", "reader"]
