#!/usr/bin/python3
"""End to end: a real AWS client (Debian's python3-botocore) against build/ecrmock-server.

Starts the server on an ephemeral loopback port with SigV4 checking on, then,
with botocore's ECR client (real signatures, verified by the server), pushes
an image (repository, a layer in two parts, a config, the manifest), pulls it
back (BatchGetImage, DescribeImages), follows GetDownloadUrlForLayer's URL
over HTTP and checks the exact bytes, then deletes everything.  It also checks
that a wrong secret is refused with InvalidSignatureException, that HEAD of
the URL carries the layer's Content-Length, and, against a second server with
temporary credentials and strict signed headers, that botocore's session
token passes and a missing or wrong one is refused as AWS refuses it.  Exits
non-zero on any failure.

Usage: tests/e2e/e2e_botocore.py path/to/ecrmock-server
"""
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from e2e_common import check, fail, start, stop

ACCESS_KEY = "AKIAECRMOCKE2ETEST01"
SECRET_KEY = "ecrmock/e2e/secret+key/0123456789abcdefgh"
REGION = "us-east-1"


TEMP_ACCESS_KEY = "ASIAECRMOCKE2ETEST01"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEAAaCXVzLWVhc3QtMSJHMEUCIQ+ecrmock/e2e=="


def client(port, secret=SECRET_KEY, access_key=ACCESS_KEY, token=None):
    session = botocore.session.get_session()
    return session.create_client(
        "ecr",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:%d" % port,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload(ecr, repo, parts):
    upload_id = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    first = 0
    for part in parts:
        r = ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=first,
                                  partLastByte=first + len(part) - 1, layerPartBlob=part)
        check(r["lastByteReceived"] == first + len(part) - 1, "lastByteReceived %r" % r)
        first += len(part)
    whole = b"".join(parts)
    r = ecr.complete_layer_upload(repositoryName=repo, uploadId=upload_id, layerDigests=[digest(whole)])
    check(r["layerDigest"] == digest(whole), "CompleteLayerUpload digest %r" % r)
    return r["layerDigest"]


def run(port):
    ecr = client(port)
    repo = "e2e/web"
    r = ecr.create_repository(repositoryName=repo)
    check(r["repository"]["repositoryName"] == repo, "CreateRepository %r" % r)

    # Two parts: the first at ECR's 5 MiB minimum, the second short.
    part1 = bytes((i * 7 + 3) % 251 for i in range(5 * 1024 * 1024))
    part2 = b"the last part of the layer\n" * 100
    layer = part1 + part2
    layer_digest = upload(ecr, repo, [part1, part2])
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {}}).encode()
    config_digest = upload(ecr, repo, [config])

    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer), "digest": layer_digest}],
    }, separators=(",", ":"))
    r = ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag="v1")
    image_digest = r["image"]["imageId"]["imageDigest"]
    check(image_digest == digest(manifest.encode()), "PutImage digest %s" % image_digest)

    r = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    check(len(r["images"]) == 1 and r["images"][0]["imageManifest"] == manifest and not r["failures"],
          "BatchGetImage %r" % r)
    r = ecr.describe_images(repositoryName=repo)
    details = r["imageDetails"]
    check(len(details) == 1 and details[0]["imageDigest"] == image_digest and details[0]["imageTags"] == ["v1"]
          and details[0]["imageSizeInBytes"] == len(layer), "DescribeImages %r" % details)

    r = ecr.get_download_url_for_layer(repositoryName=repo, layerDigest=layer_digest)
    url = r["downloadUrl"]
    check(url.startswith("http://127.0.0.1:%d/" % port), "download URL on the server: %s" % url)
    with urllib.request.urlopen(url) as resp:
        got = resp.read()
        check(resp.status == 200 and resp.headers["Content-Type"] == "application/octet-stream",
              "GET %s: %d %s" % (url, resp.status, resp.headers["Content-Type"]))
    check(got == layer, "downloaded %d bytes, %s; want %d bytes, %s" % (len(got), digest(got), len(layer), layer_digest))
    req = urllib.request.Request(url, headers={"Range": "bytes=5-14"})
    with urllib.request.urlopen(req) as resp:
        check(resp.status == 206 and resp.read() == layer[5:15]
              and resp.headers["Content-Range"] == "bytes 5-14/%d" % len(layer), "ranged GET")

    # HEAD: S3's headers of the GET, its Content-Length included, no body.
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as resp:
        check(resp.status == 200 and resp.headers["Content-Length"] == str(len(layer)) and resp.read() == b"",
              "HEAD: %d Content-Length %s" % (resp.status, resp.headers["Content-Length"]))

    # A client signing with the wrong secret is told what was expected.
    try:
        client(port, secret="not-the-secret").describe_repositories()
        fail("a wrong secret was accepted")
    except ClientError as e:
        err = e.response["Error"]
        check(err["Code"] == "InvalidSignatureException" and "The Canonical String for this request should have been"
              in err["Message"], "wrong secret: %r" % err)

    r = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    check(len(r["imageIds"]) == 1 and not r["failures"], "BatchDeleteImage %r" % r)
    r = ecr.delete_repository(repositoryName=repo)
    check(r["repository"]["repositoryName"] == repo, "DeleteRepository %r" % r)
    try:
        ecr.describe_repositories(repositoryNames=[repo])
        fail("the repository is still there")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "RepositoryNotFoundException", "after delete: %r" % e.response)
    try:
        urllib.request.urlopen(url)
        fail("the layer of a deleted repository is still served")
    except urllib.error.HTTPError as e:
        check(e.code == 404, "GET after delete: %d" % e.code)


def run_temporary(port):
    """Temporary credentials, strict signed headers: botocore signs all it must."""
    ecr = client(port, access_key=TEMP_ACCESS_KEY, token=SESSION_TOKEN)
    r = ecr.create_repository(repositoryName="e2e/temporary")
    check(r["repository"]["repositoryName"] == "e2e/temporary", "CreateRepository with a session token %r" % r)
    for token, why in ((None, "no session token"), (SESSION_TOKEN + "x", "another session token")):
        try:
            client(port, access_key=TEMP_ACCESS_KEY, token=token).describe_repositories()
            fail("%s was accepted" % why)
        except ClientError as e:
            err = e.response["Error"]
            check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
                  and err["Code"] == "UnrecognizedClientException"
                  and err["Message"] == "The security token included in the request is invalid.",
                  "%s: %r" % (why, e.response))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    # No proxy for loopback, whatever the environment says.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1"
    server, port = start("--secret-key", SECRET_KEY, "--access-key", ACCESS_KEY)
    try:
        run(port)
    finally:
        stop(server)
    server, port = start("--secret-key", SECRET_KEY, "--access-key", TEMP_ACCESS_KEY, "--session-token", SESSION_TOKEN, "--sigv4-strict")
    try:
        run_temporary(port)
    finally:
        stop(server)
    print("e2e_botocore: botocore pushed, pulled, downloaded and deleted through ecrmock-server (SigV4 checked; "
          "session token and strict signed headers too)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
