#!/usr/bin/python3
"""End to end: failure paths of a real AWS client (Debian's python3-botocore),
arranged through ecrmock-server's control API (/_ecrmock) only.

The server runs as it does for any client: SigV4 checks on, its clock in wall
mode.  Every control request is signed with the same credentials (botocore's
own SigV4 signer); an unsigned one is refused.  Then:
  - a fault rule added over HTTP throttles botocore's UploadLayerPart once:
    botocore raises ThrottlingException, the retry goes through, and the
    control API's counts and the rule's fired count say so;
  - GetAuthorizationToken's token opens the registry plane (/v2/); the clock
    is advanced 12 hours over HTTP and the same token is refused as expired,
    while botocore's signed calls still pass (SigV4 dates are checked against
    the system clock in wall mode);
  - the journal reads back every call, and a reset empties the fake;
  - the server's clock modes: a fixture's clock wins (wall mode runs on from
    it, --clock MS pins, the fixture's clock pinned then), a pinned server
    still takes botocore's real-time signatures, and --no-control turns the
    API off.
Exits non-zero on any failure.

Usage: tests/e2e/e2e_control.py path/to/ecrmock-server
"""
import base64
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from e2e_common import check, fail, start, stop

ACCESS_KEY = "AKIAECRMOCKE2ECTRL01"
SECRET_KEY = "ecrmock/e2e/control+key/0123456789abcdef"
REGION = "us-east-1"
HOUR_MS = 3600 * 1000


def control(port, method, path, body=None, sign=True):
    """A control request; (status, JSON answer)."""
    url = "http://127.0.0.1:%d/_ecrmock%s" % (port, path)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if sign:
        req = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "ecr", REGION).add_auth(req)
        headers = dict(req.headers.items())
    r = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def ok(port, method, path, body=None):
    status, doc = control(port, method, path, body)
    check(status == 200, "%s %s: %d %r" % (method, path, status, doc))
    return doc


def v2(port, token):
    """GET /v2/ with the registry's Basic credentials; the status."""
    r = urllib.request.Request("http://127.0.0.1:%d/v2/" % port,
                               headers={"Authorization": "Basic " + token})
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def run(port):
    ecr = botocore.session.get_session().create_client(
        "ecr", region_name=REGION, endpoint_url="http://127.0.0.1:%d" % port,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"total_max_attempts": 1}))

    # The control API wants the server's credentials too.
    status, doc = control(port, "GET", "/clock", sign=False)
    check(status == 400 and doc.get("__type") == "MissingAuthenticationTokenException",
          "unsigned control request: %d %r" % (status, doc))
    clock = ok(port, "GET", "/clock")
    check(clock["mode"] == "wall" and clock["offsetMs"] == 0, "the server's clock %r" % clock)

    # A throttled UploadLayerPart, arranged over HTTP.
    repo = "e2e/control"
    ecr.create_repository(repositoryName=repo)
    rule = ok(port, "POST", "/faults", {"action": "UploadLayerPart", "count": 1,
                                         "message": "Rate exceeded for UploadLayerPart"})
    upload_id = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    part = b"a layer of one part\n" * 50
    try:
        ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=0,
                              partLastByte=len(part) - 1, layerPartBlob=part)
        fail("UploadLayerPart was not throttled")
    except ClientError as e:
        err = e.response["Error"]
        check(err["Code"] == "ThrottlingException", "throttled with %r" % err)
        check(err["Message"] == "Rate exceeded for UploadLayerPart", "throttle message %r" % err)
        check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, "throttle status %r" % e.response)
    r = ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=0,
                              partLastByte=len(part) - 1, layerPartBlob=part)
    check(r["lastByteReceived"] == len(part) - 1, "the retried part %r" % r)
    fired = ok(port, "GET", "/faults/%d" % rule["id"])
    check(fired["fired"] == 1 and fired["rule"]["action"] == "UploadLayerPart", "the rule %r" % fired)
    counts = ok(port, "GET", "/counts")
    check(counts["calls"].get("UploadLayerPart") == 2 and counts["runs"].get("UploadLayerPart") == 1,
          "UploadLayerPart counts %r" % counts)

    # An authorization token, expired by a clock move over HTTP.
    auth = ecr.get_authorization_token()["authorizationData"][0]
    token = auth["authorizationToken"]
    check(base64.b64decode(token).startswith(b"AWS:"), "token %r" % token[:16])
    status, body = v2(port, token)
    check(status == 200, "GET /v2/ with a fresh token: %d %r" % (status, body))
    moved = ok(port, "POST", "/clock/advance", {"ms": 12 * HOUR_MS + 1000})
    check(moved["offsetMs"] >= 12 * HOUR_MS + 1000 - 1000, "the advance %r" % moved)
    status, body = v2(port, token)
    check(status == 403 and b"Your authorization token has expired" in body,
          "GET /v2/ with the expired token: %d %r" % (status, body))
    # botocore still signs with the real time, and passes.
    fresh = ecr.get_authorization_token()["authorizationData"][0]
    expires_ms = fresh["expiresAt"].timestamp() * 1000
    check(abs(expires_ms - (moved["now"] + 12 * HOUR_MS)) < 60000,
          "a new token expires 12 h after the moved clock: %r vs %r" % (expires_ms, moved["now"]))
    status, _ = v2(port, fresh["authorizationToken"])
    check(status == 200, "GET /v2/ with a new token: %d" % status)

    # The journal saw every call, the control API's none; a reset empties the fake.
    journal = ok(port, "GET", "/journal")
    actions = [e["action"] for e in journal if e.get("plane") != "registry"]
    check(actions == ["CreateRepository", "InitiateLayerUpload", "UploadLayerPart", "UploadLayerPart",
                      "GetAuthorizationToken", "GetAuthorizationToken"], "the journal %r" % actions)
    check(journal[2]["error"] == "ThrottlingException" and journal[2]["fault"] == rule["id"],
          "the throttled call's entry %r" % journal[2])
    ok(port, "POST", "/reset")
    check(ecr.describe_repositories()["repositories"] == [], "a reset left repositories")
    status, doc = control(port, "POST", "/clock/advance", {"ms": "soon"})
    check(status == 400 and doc.get("path") == "body: $.ms", "a bad advance: %d %r" % (status, doc))


def clock_of(*flags):
    server, port = start(*flags)
    try:
        return ok(port, "GET", "/clock")
    finally:
        stop(server)


def clock_modes():
    fd, fixture = tempfile.mkstemp(suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({"clock": "2030-01-01T00:00:00Z"}, f)
        y2030 = 1893456000000
        c = clock_of("--fixture", fixture)
        check(c["mode"] == "wall" and y2030 <= c["now"] < y2030 + 60000,
              "wall mode from the fixture's clock: %r" % c)
        check(abs(c["offsetMs"] - (y2030 - time.time() * 1000)) < 60000, "the fixture's offset %r" % c)
        c = clock_of("--clock", "1700000000000")
        check(c == {"mode": "pinned", "now": 1700000000000}, "--clock pins: %r" % c)
        c = clock_of("--clock", "1700000000000", "--fixture", fixture)
        check(c == {"mode": "pinned", "now": y2030}, "--clock and a fixture's clock: %r" % c)
    finally:
        os.unlink(fixture)
    # Pinned in 2023 with SigV4 on: botocore signs with the real time, and passes.
    server, port = start("--clock", "1700000000000", "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY)
    try:
        ecr = botocore.session.get_session().create_client(
            "ecr", region_name=REGION, endpoint_url="http://127.0.0.1:%d" % port,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(retries={"total_max_attempts": 1}))
        r = ecr.create_repository(repositoryName="pinned")
        check(r["repository"]["createdAt"].timestamp() == 1700000000, "created on the pinned clock: %r" % r)
    finally:
        stop(server)
    server, port = start("--no-control")
    try:
        req = urllib.request.Request("http://127.0.0.1:%d/_ecrmock/clock" % port)
        try:
            urllib.request.urlopen(req)
            fail("--no-control: the control API answered")
        except urllib.error.HTTPError as e:
            check(e.code == 403, "--no-control: GET /_ecrmock/clock answered %d" % e.code)
    finally:
        stop(server)


def main():
    server, port = start("--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY)
    try:
        run(port)
    finally:
        stop(server)
    clock_modes()
    print("e2e_control: ok (botocore throttled and expired through the control API)")


if __name__ == "__main__":
    main()
