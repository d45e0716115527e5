"""Prepares a fresh `langcert serve` for schemathesis.

    prepare.py SERVER_STDOUT OUT_DIR

Reads the base URL and the demo sign-in links that the server printed, exchanges each
link for a session token (OUT_DIR/<role>.token), gives the demo candidate what the
deeper operations need (the personal-data form, the identity step with the fixture
photo, a started written test, an interview with the demo evaluator) and picks
real item ids, and writes
OUT_DIR/schemathesis.toml, which pins the path parameters of those operations to the
real ids so that the generated requests reach the handlers' logic instead of 404s.
"""

import json
import re
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path


def call(base, method, path, token=None, body=None, content_type="application/json"):
    data = None
    headers = {}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            raw = res.read()
    except urllib.error.HTTPError as e:
        sys.exit(f"prepare: {method} {path}: {e.code} {e.read().decode(errors='replace')}")
    return json.loads(raw) if raw else None


def main():
    stdout, out = Path(sys.argv[1]).read_text(), Path(sys.argv[2])
    base = re.search(r"listening on (http://\S+)", stdout).group(1)
    links = dict(re.findall(r"^  (\w+)\s+(http\S+)$", stdout, flags=re.M))
    tokens = {}
    for role, link in links.items():
        token = link.rsplit("/signin/", 1)[1]
        tokens[role] = call(base, "POST", "/api/v1/auth/link", body={"token": token})["token"]
        (out / f"{role}.token").write_text(tokens[role])

    me = {role: call(base, "GET", "/api/v1/me", tokens[role]) for role in tokens}
    cand, admin = tokens["candidate"], tokens["centre_admin"]
    candidate_id, centre_id = me["candidate"]["id"], me["centre_admin"]["centre_id"]

    call(base, "PUT", "/api/v1/me/profile", cand, {
        "birth_name": "Martin", "first_names": "Camille", "birth_date": "1990-05-17",
        "sex": "F", "birth_commune": "Lyon", "birth_country": "France",
    })
    photo = Path("models/fixtures/astronaut.png").read_bytes()
    for capture in ("selfie", "document"):
        call(base, "PUT", f"/api/v1/me/identity/{capture}", cand, photo, "image/png")
    written_id = call(base, "POST", "/api/v1/written", cand)["id"]

    start = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0)
    interview_id = call(base, "POST", "/api/v1/interviews", admin, {
        "candidate_id": candidate_id, "evaluator_id": me["evaluator"]["id"],
        "scheduled_at": start.isoformat().replace("+00:00", "Z"),
    })["id"]

    demo = call(base, "GET", "/api/v1/demo")["items"]
    practice = call(base, "GET", "/api/v1/practice/listening", cand)["items"]
    demo_clip = next(i["id"] for i in demo if i["type"] == "listening")
    bank_item = call(base, "GET", "/api/v1/items", tokens["platform_admin"])[0]["id"]
    practice_clip = practice[0]["id"]

    pinned = {
        "GET /api/v1/centres/{id}": {"id": centre_id},
        "POST /api/v1/centres/{id}/staff": {"id": centre_id},
        "GET /api/v1/candidates/{id}": {"id": candidate_id},
        "POST /api/v1/candidates/{id}/links": {"id": candidate_id},
        "PUT /api/v1/candidates/{id}/target": {"id": candidate_id},
        "PUT /api/v1/candidates/{id}/window": {"id": candidate_id},
        "GET /api/v1/written/{id}": {"id": written_id},
        "POST /api/v1/written/{id}/answers": {"id": written_id},
        "POST /api/v1/written/{id}/plays/{item_id}": {"id": written_id},
        "GET /api/v1/written/{id}/result": {"id": written_id},
        "GET /api/v1/interviews/{id}": {"id": interview_id},
        "GET /api/v1/interviews/{id}/prompts": {"id": interview_id},
        "GET /api/v1/interviews/{id}/score": {"id": interview_id},
        "PUT /api/v1/interviews/{id}/score": {"id": interview_id},
        "GET /api/v1/interviews/{id}/recordings": {"id": interview_id},
        "GET /api/v1/items/{id}": {"id": bank_item},
        "GET /api/v1/practice/{domain}": {"domain": "listening"},
        "GET /api/v1/demo/clips/{item_id}": {"item_id": demo_clip},
        "GET /api/v1/practice/clips/{item_id}": {"item_id": practice_clip},
        "POST /api/v1/practice/{item_id}/check": {"item_id": practice_clip},
    }
    toml = ["# Written by tests/schemathesis/prepare.py for one run.\n"]
    for name, params in pinned.items():
        values = ", ".join(f'"path.{k}" = {json.dumps(v)}' for k, v in params.items())
        toml.append(f'[[operations]]\ninclude-name = {json.dumps(name)}\nparameters = {{ {values} }}\n')
    (out / "schemathesis.toml").write_text("\n".join(toml))


if __name__ == "__main__":
    main()
