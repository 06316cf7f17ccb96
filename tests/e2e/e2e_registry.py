#!/usr/bin/python3
"""End to end: the registry plane (/v2/) through build/ecrmock-server, over real HTTP.

Python's standard library only, so it always runs.  Plays the requests
skopeo makes, in skopeo's order (containers/image docker_image_dest.go and
docker_image_src.go, as the fact sheet of issue 17 lists them): the
unauthenticated ping and its Basic challenge; GetAuthorizationToken on the
API; a push (HEAD blob, POST, one PATCH of the whole stream, PUT ?digest=,
PUT manifest); a pull (GET manifest with skopeo's Accept list, GET blob
following the 307); tags/list; a schema 1 pull; the image in DescribeImages with the digest
of the manifest bytes; a manifest DELETE.  Not skopeo itself (e2e_skopeo.py runs
skopeo where it is installed): this checks the server's HTTP framing of the plane
(HEAD lengths, PATCH and DELETE bodies, redirects).  Exits non-zero on any
failure.

Usage: tests/e2e/e2e_registry.py path/to/ecrmock-server
"""
import base64
import hashlib
import http.client
import json
import os
import sys

from e2e_common import check, fail, start, stop

V2 = "application/vnd.docker.distribution.manifest.v2+json"
SKOPEO_ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json", V2,
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
])


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Client:
    def __init__(self, port):
        self.port = port
        self.auth = None

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = dict(headers or {})
        if self.auth:
            h["Authorization"] = self.auth
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        conn.close()
        return r.status, hdrs, data

    def api(self, action, req):
        status, _, data = self.request("POST", "/", json.dumps(req).encode(), {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921." + action})
        check(status == 200, "%s: %d %s" % (action, status, data))
        return json.loads(data)


def path_of(location, port):
    """A Location as a path on the server (relative on a loopback base)."""
    prefix = "http://127.0.0.1:%d" % port
    return location[len(prefix):] if location.startswith(prefix) else location


def push_blob(c, repo, data):
    d = digest(data)
    status, _, _ = c.request("HEAD", "/v2/%s/blobs/%s" % (repo, d))
    check(status == 404, "HEAD of a blob not pushed yet: %d" % status)
    status, h, _ = c.request("POST", "/v2/%s/blobs/uploads/" % repo)
    check(status == 202, "POST uploads: %d" % status)
    loc = path_of(h["location"], c.port)
    status, h, _ = c.request("PATCH", loc, data, {"Content-Type": "application/octet-stream"})
    check(status == 201, "PATCH (ECR answers 201): %d" % status)
    check(h.get("range") == "0-%d" % (len(data) - 1), "PATCH Range %r" % h.get("range"))
    status, h, body = c.request("PUT", "%s?digest=%s" % (path_of(h["location"], c.port), d))
    check(status == 201, "PUT ?digest=: %d %s" % (status, body))
    check(h.get("docker-content-digest") == d, "PUT digest header %r" % h)
    status, h, body = c.request("HEAD", "/v2/%s/blobs/%s" % (repo, d))
    check(status == 200 and body == b"", "HEAD of the blob: %d" % status)
    check(h.get("content-length") == str(len(data)), "HEAD Content-Length %r" % h.get("content-length"))
    return d


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def schema1_pull(c, repo):
    """A schema 2 image pulled by tag by a client of schema 1 alone (a Docker 1.9
    client): a signed schema 1 manifest whose JWS verifies here, with RSA done by
    hand (pow), over the payload its protected header's formatLength and
    formatTail give; HEAD's digest is that payload's."""
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "history": [{"created_by": "ADD a"}, {"created_by": "CMD b", "empty_layer": True}],
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
    layer = b"schema 1 layer"
    cd, ld = push_blob(c, repo, config), push_blob(c, repo, layer)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": V2,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config), "digest": cd},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                    "digest": ld}]}).encode()
    status, _, body = c.request("PUT", "/v2/%s/manifests/old" % repo, manifest, {"Content-Type": V2})
    check(status == 201, "PUT manifest: %d %s" % (status, body))
    s1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    status, h, body = c.request("GET", "/v2/%s/manifests/old" % repo, headers={"Accept": s1})
    check(status == 200 and h.get("content-type") == s1, "schema 1 GET: %d %r" % (status, h))
    doc = json.loads(body)
    check(doc["schemaVersion"] == 1 and doc["name"] == repo and doc["tag"] == "old", "schema 1 %r" % doc)
    check([f["blobSum"] for f in doc["fsLayers"]] ==
          ["sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4", ld], "fsLayers %r" % doc)
    sig = doc["signatures"][0]
    prot = json.loads(b64url_decode(sig["protected"]))
    payload = body[:prot["formatLength"]] + b64url_decode(prot["formatTail"])
    signed = (sig["protected"] + "." + base64.urlsafe_b64encode(payload).decode().rstrip("=")).encode()
    jwk = sig["header"]["jwk"]
    check(sig["header"]["alg"] == "RS256" and jwk["kty"] == "RSA", "JWS header %r" % sig["header"])
    n, e = int.from_bytes(b64url_decode(jwk["n"]), "big"), int.from_bytes(b64url_decode(jwk["e"]), "big")
    k = (n.bit_length() + 7) // 8
    em = pow(int.from_bytes(b64url_decode(sig["signature"]), "big"), e, n).to_bytes(k, "big")
    info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(signed).digest()
    check(em == b"\x00\x01" + b"\xff" * (k - 3 - len(info)) + b"\x00" + info, "the JWS signature does not verify")
    check("signatures" not in json.loads(payload), "the payload is the manifest without its signatures")
    status, h, _ = c.request("HEAD", "/v2/%s/manifests/old" % repo, headers={"Accept": s1})
    check(status == 200 and h.get("docker-content-digest") == digest(payload), "schema 1 HEAD digest %r" % h)


def run(port):
    c = Client(port)
    status, h, body = c.request("GET", "/v2/")
    check(status == 401, "unauthenticated ping: %d" % status)
    check(h.get("www-authenticate", "").startswith("Basic realm="), "challenge %r" % h)
    check(body == b"Not Authorized", "challenge body %r" % body)
    check(h.get("sizes") == "", "ECR's empty Sizes header %r" % h)

    token = c.api("GetAuthorizationToken", {})["authorizationData"][0]["authorizationToken"]
    check(base64.b64decode(token).startswith(b"AWS:"), "the token is base64 of AWS:<password>")
    c.auth = "Basic " + token
    status, _, _ = c.request("GET", "/v2/")
    check(status == 200, "ping with the token: %d" % status)

    repo = "e2e/app"
    status, _, body = c.request("POST", "/v2/%s/blobs/uploads/" % repo)
    check(status == 404 and json.loads(body)["errors"][0]["code"] == "NAME_UNKNOWN", "no create on push: %s" % body)
    c.api("CreateRepository", {"repositoryName": repo})

    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    layer = os.urandom(300000)
    cd, ld = push_blob(c, repo, config), push_blob(c, repo, layer)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": V2,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config), "digest": cd},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                    "digest": ld}],
    }, indent=3).encode()
    md = digest(manifest)
    status, h, body = c.request("PUT", "/v2/%s/manifests/v1" % repo, manifest, {"Content-Type": V2})
    check(status == 201, "PUT manifest: %d %s" % (status, body))
    check(h.get("docker-content-digest") == md, "PUT manifest digest %r" % h)

    status, h, body = c.request("GET", "/v2/%s/manifests/v1" % repo, headers={"Accept": SKOPEO_ACCEPT})
    check(status == 200 and body == manifest, "GET manifest: %d" % status)
    check(h.get("content-type") == V2, "GET manifest type %r" % h.get("content-type"))
    check("docker-content-digest" not in h, "ECR sends no Docker-Content-Digest on a GET")
    status, h, body = c.request("HEAD", "/v2/%s/manifests/%s" % (repo, md))
    check(status == 200 and body == b"" and h.get("content-length") == str(len(manifest)), "HEAD manifest %r" % h)

    status, h, _ = c.request("GET", "/v2/%s/blobs/%s" % (repo, ld))
    check(status == 307, "GET blob: %d" % status)
    saved, c.auth = c.auth, None  # a pre-signed URL: no credentials follow it
    status, _, body = c.request("GET", path_of(h["location"], port))
    c.auth = saved
    check(status == 200 and body == layer, "the 307's URL serves the layer: %d" % status)

    status, h, body = c.request("GET", "/v2/%s/tags/list" % repo)
    check(status == 200 and json.loads(body) == {"name": repo, "tags": ["v1"]}, "tags/list %s" % body)
    schema1_pull(c, repo)

    images = c.api("DescribeImages", {"repositoryName": repo})["imageDetails"]
    images = [i for i in images if "old" not in i.get("imageTags", [])]  # schema1_pull's image
    check(len(images) == 1 and images[0]["imageDigest"] == md, "DescribeImages %r" % images)
    check(images[0]["imageSizeInBytes"] == len(layer), "imageSizeInBytes %r" % images[0])

    status, _, _ = c.request("DELETE", "/v2/%s/manifests/%s" % (repo, md))
    check(status == 202, "DELETE manifest: %d" % status)
    status, _, body = c.request("GET", "/v2/%s/manifests/v1" % repo)
    check(status == 404 and json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN", "after DELETE: %s" % body)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    server, port = start()
    try:
        run(port)
    finally:
        stop(server)
    print("e2e_registry: pushed, pulled, listed and deleted an image through /v2/ on ecrmock-server "
          "(Basic token, skopeo's request order)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
