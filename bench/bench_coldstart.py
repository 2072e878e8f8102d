"""Cold start: import + first request in a fresh interpreter, against a floor (`make bench`).

Prints figures; asserts nothing (timings are not tests). Each measurement is a new Python
process that imports its code and serves one authorized request doing one DynamoDB
GetItem, timed inside the child from before its first import to the answer (interpreter
start-up is the same for all and left out). Every child talks to one moto server on
loopback, started here, so all of them pay the same HTTP round trips.

- floor: a one-route Chalice app and one PynamoDB model, GET -> Model.get (one GetItem);
- full app: `import app` (every category), GET /api/v2/alert/{id} with an API token;
- alert function: the same with OPSPLANE_CATEGORIES=alert (what one deployed function imports);
- alert function, deployed: the same function invoked as API Gateway does, with a proxy event
  whose request context carries the principal the Lambda authorizer verified (deployed, a
  category's function never authenticates: the authorizer, its own function, does).

    .venv/bin/python bench/bench_coldstart.py [--runs 7] [--asset] [--code DIR]

--asset runs the app from the Lambda package (make asset: compiled, the parser's tables
saved), as Lambda would; --code DIR from another checkout (e.g. `git archive main`), to
compare before and after on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Targets from the issue ("Foundation v2, part 2", item 4).
TARGETS = {"full app": 1.5, "alert function, deployed": 1.2}

FLOOR = """
import time
t0 = time.perf_counter()
import os
from chalice import Chalice
from chalice.test import Client
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

class Item(Model):
    class Meta:
        table_name = os.environ["OPSPLANE_ENTITIES_TABLE"]
        region = "us-east-1"
        host = os.environ["OPSPLANE_DYNAMODB_ENDPOINT"]
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)

app = Chalice(app_name="floor")
t1 = time.perf_counter()

@app.route("/items/{item_id}")
def get_item(item_id):
    return {"sk": Item.get(os.environ["BENCH_PK"], item_id).sk}

with Client(app) as client:
    answer = client.http.get(f"/items/{os.environ['BENCH_SK']}")
print(__import__("json").dumps({"seconds": time.perf_counter() - t0, "import": t1 - t0, "status": answer.status_code, "body": answer.body.decode()[:300]}))
"""

APP = """
import time
t0 = time.perf_counter()
import os, sys
sys.path.insert(0, os.environ["BENCH_CODE"])  # the app's tree, or a built Lambda asset
from chalice.test import Client
import app
t1 = time.perf_counter()
with Client(app.app) as client:
    answer = client.http.get(
        f"/api/v2/alert/{os.environ['BENCH_ALERT']}", headers={"Authorization": "Bearer " + os.environ["BENCH_TOKEN"]}
    )
t2 = time.perf_counter()
print(__import__("json").dumps({"seconds": t2 - t0, "import": t1 - t0, "status": answer.status_code, "body": answer.body.decode()[:300]}))
"""

DEPLOYED = """
import time
t0 = time.perf_counter()
import json, os, sys
sys.path.insert(0, os.environ["BENCH_CODE"])
import app
t1 = time.perf_counter()
alert = os.environ["BENCH_ALERT"]
path = f"/api/v2/alert/{alert}"
event = {
    "resource": "/api/v2/alert/{id}", "path": path, "httpMethod": "GET",
    "headers": {"Accept": "application/json"}, "multiValueHeaders": {"Accept": ["application/json"]},
    "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": {"id": alert}, "stageVariables": None, "body": None, "isBase64Encoded": False,
    "requestContext": {
        "resourcePath": "/api/v2/alert/{id}", "httpMethod": "GET", "path": "/prod" + path, "stage": "prod",
        "requestId": "bench", "authorizer": json.loads(os.environ["BENCH_AUTHORIZER"]),
    },
}
answer = app.app(event, None)
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t0, "import": t1 - t0, "status": answer["statusCode"], "body": answer["body"][:300]}))
"""


def environment(state_dir: str) -> dict[str, str]:
    """What parent and children share: fake credentials, the state dir (signing keys), the stage."""
    return {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "OPSPLANE_STATE_DIR": state_dir,
        "OPSPLANE_STAGE": "bench",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }


def seed() -> dict[str, str]:
    """Tables, an installation, one alert and an API token; what the children need to find them."""
    from chalicelib.auth import apitokens
    from chalicelib.auth.principal import Principal
    from chalicelib.categories.alert import ALERT
    from chalicelib.categories.alert_views import AlertBody
    from chalicelib.domain import entities
    from chalicelib.domain.context import Context
    from chalicelib.identity import accounts
    from chalicelib.identity.bootstrap import bootstrap
    from chalicelib.settings import get_settings
    from chalicelib.store import models

    settings = get_settings()
    models.bind(settings)
    models.create_tables()
    inst = bootstrap("bench-password-1")
    ctx = Context.service(inst.root_tenant, "bench")
    alert = entities.create(ctx, ALERT, AlertBody(name="Disk", condition="ts(disk) > 90", minutes=5, severity="WARN"))
    secret, _ = apitokens.create(inst.root_tenant, inst.admin_uuid, accounts.USER, name="bench")
    return {
        "BENCH_ALERT": alert.id,
        "BENCH_TOKEN": secret,
        "BENCH_PK": f"{inst.root_tenant}#alert",
        "BENCH_SK": alert.id,
        "OPSPLANE_ENTITIES_TABLE": settings.entities_table,
        # What the Lambda authorizer hands the category function (http/gateway.py).
        "BENCH_AUTHORIZER": json.dumps(
            Principal(id=inst.admin_uuid, name="admin", tenant=inst.root_tenant, acl=["#"]).to_context()
        ),
    }


def run_child(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from the child's first import to its answer, and of those the imports
    (the answer must be a 200)."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise SystemExit(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    if outcome["status"] != 200:
        raise SystemExit(f"child answered {outcome['status']}: {outcome.get('body')}\n{done.stderr[-3000:]}")
    return float(outcome["seconds"]), float(outcome["import"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="children per measurement (the median is shown)")
    parser.add_argument("--asset", action="store_true", help="run the app from the Lambda package (build/lambda)")
    parser.add_argument("--code", type=Path, default=ROOT, help="the app's source tree (default: this one)")
    args = parser.parse_args()
    code_dir = args.code.resolve()
    if args.asset:
        sys.path.insert(0, str(ROOT / "infra"))
        from opsplane_infra import asset

        code_dir = asset.build()

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    base = environment(tempfile.mkdtemp(prefix="opsplane-coldstart-"))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        base.update({"OPSPLANE_DYNAMODB_ENDPOINT": endpoint, "OPSPLANE_S3_ENDPOINT": endpoint})
        os.environ.update(base)
        base.update(seed())
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("OPSPLANE_")} | base
        child_env["BENCH_CODE"] = str(code_dir)
        cases = {
            "floor": (FLOOR, child_env),
            "full app": (APP, child_env),
            "alert function": (APP, child_env | {"OPSPLANE_CATEGORIES": "alert"}),
            "alert function, deployed": (DEPLOYED, child_env | {"OPSPLANE_CATEGORIES": "alert"}),
        }
        for code, env in cases.values():  # warm the bytecode caches and the server
            run_child(code, env)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(args.runs):  # interleaved, so drift in the machine's load hits all alike
            for name, (code, env) in cases.items():
                samples[name].append(run_child(code, env))
    finally:
        server.stop()

    medians = {name: statistics.median(total for total, _ in values) for name, values in samples.items()}
    floor = medians["floor"]
    print(f"cold start: import + first request, median of {args.runs} fresh interpreters (moto server on loopback)")
    print(f"app from {code_dir}")
    print(f"{'':26} {'total ms':>9} {'min ms':>7} {'import ms':>10} {'x floor':>8} {'target':>7}")
    for name, values in samples.items():
        ratio = medians[name] / floor
        target = TARGETS.get(name)
        verdict = "" if target is None else f"{target:>6.1f}x {'ok' if ratio <= target else 'OVER'}"
        least = min(total for total, _ in values)
        imports = statistics.median(imported for _, imported in values)
        print(
            f"{name:26} {medians[name] * 1000:9.0f} {least * 1000:7.0f} {imports * 1000:10.0f} {ratio:7.2f}x {verdict}"
        )


if __name__ == "__main__":
    main()
