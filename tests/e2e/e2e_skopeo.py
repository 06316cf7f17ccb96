#!/usr/bin/python3
"""End to end: skopeo, a real registry client, against build/ecrmock-server's /v2/.

Starts the server on an ephemeral loopback port, gets a token with
GetAuthorizationToken on the API (Python's standard library), and with
skopeo's `--dest-creds AWS:<password>` / `--src-creds` and TLS verification
off (the server speaks plain HTTP):

- copies in three images written here as local layouts: an OCI image manifest
  (an `oci:` layout), a Docker v2 schema 2 image (a `dir:` directory) and a
  multi-arch OCI index of two platforms (`copy --all` from an `oci:` layout);
- `skopeo inspect --raw` of each: the manifest bytes pushed, byte for byte;
- copies each back out (`dir:`, and `oci:` with `--all` for the index) and
  compares every manifest and blob with the original byte for byte;
- checks each image through DescribeImages (imageDigest the SHA-256 of the
  manifest bytes, imageSizeInBytes the layers' sizes, the tag, the media type);
- `skopeo list-tags`, then `skopeo delete` of each, and the image gone;
- pulls the images fixtures/multi-arch.json loads into the server (an OCI
  index and a Docker manifest list whose layers the loader synthesised):
  `inspect --raw` is BatchGetImage's manifest, `copy --all` to an `oci:`
  layout holds every manifest and blob under its true digest.

Every failing step prints the command and what skopeo said.  Exits 0 with a
SKIPPED line when skopeo is not installed (apt-get install skopeo).

Usage: tests/e2e/e2e_skopeo.py path/to/ecrmock-server
"""
import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request

from e2e_common import check, fail, start, stop

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
V2 = "application/vnd.docker.distribution.manifest.v2+json"
V2_CONFIG = "application/vnd.docker.container.image.v1+json"
V2_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
STEP_SECONDS = 60


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def skopeo(*args):
    """Runs skopeo (bounded in time); its stdout, or a failure showing what it said."""
    cmd = ["skopeo", "--command-timeout", "%ds" % STEP_SECONDS] + list(args)
    shown = " ".join(a if not a.startswith("AWS:") else "AWS:<password>" for a in cmd)
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=STEP_SECONDS + 10)
    except subprocess.TimeoutExpired:
        fail("%s: no answer in %d s" % (shown, STEP_SECONDS + 10))
    if r.returncode != 0:
        fail("%s: exit %d\n--- skopeo said:\n%s%s" % (shown, r.returncode, r.stdout.decode(errors="replace"),
                                                   r.stderr.decode(errors="replace")))
    return r.stdout


def layer(files):
    """A gzip'd tar of {name: bytes}, reproducible; (compressed, diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(tar_bytes)
    return gz.getvalue(), sha(tar_bytes)


def image(arch, config_type, layer_type, manifest_type, seed):
    """(manifest bytes, {digest: blob}) of a two-layer image for one platform."""
    blobs, descs, diff_ids = {}, [], []
    for i, size in enumerate((1000, 70000)):
        gz, diff_id = layer({"%s/file%d" % (arch, i): hashlib.sha256(b"%s%d" % (seed, i)).digest() * (size // 32)})
        blobs[sha(gz)] = gz
        descs.append({"mediaType": layer_type, "size": len(gz), "digest": sha(gz)})
        diff_ids.append(diff_id)
    config = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["/bin/true"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    blobs[sha(config)] = config
    m = {"schemaVersion": 2}
    if manifest_type == V2:
        m["mediaType"] = V2
    else:
        m["mediaType"] = OCI_MANIFEST
    m["config"] = {"mediaType": config_type, "size": len(config), "digest": sha(config)}
    m["layers"] = descs
    return json.dumps(m, indent=3).encode(), blobs


def write_oci(path, top, top_type, blobs, tag):
    os.makedirs(os.path.join(path, "blobs", "sha256"))
    with open(os.path.join(path, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion": "1.0.0"}')
    for d, data in list(blobs.items()) + [(sha(top), top)]:
        with open(os.path.join(path, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(data)
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": top_type, "digest": sha(top), "size": len(top),
        "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump(index, f)


def write_dir(path, manifest, blobs):
    os.makedirs(path)
    with open(os.path.join(path, "version"), "w") as f:
        f.write("Directory Transport Version: 1.1\n")
    with open(os.path.join(path, "manifest.json"), "wb") as f:
        f.write(manifest)
    for d, data in blobs.items():
        with open(os.path.join(path, d[7:]), "wb") as f:
            f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def api(port, action, req):
    r = urllib.request.Request("http://127.0.0.1:%d/" % port, data=json.dumps(req).encode(), headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921." + action})
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        fail("%s: %d %s" % (action, e.code, e.read()))


def check_described(port, repo, tag, manifest, media_type, layer_sizes):
    images = api(port, "DescribeImages", {"repositoryName": repo, "imageIds": [{"imageTag": tag}]})["imageDetails"]
    check(len(images) == 1, "DescribeImages %s:%s: %r" % (repo, tag, images))
    d = images[0]
    check(d["imageDigest"] == sha(manifest), "DescribeImages digest %s, the manifest bytes' %s" %
          (d["imageDigest"], sha(manifest)))
    check(d.get("imageTags") == [tag], "DescribeImages tags %r" % d.get("imageTags"))
    check(d.get("imageManifestMediaType") == media_type, "DescribeImages media type %r" %
          d.get("imageManifestMediaType"))
    if layer_sizes is not None:
        check(d.get("imageSizeInBytes") == sum(layer_sizes), "DescribeImages imageSizeInBytes %r, layers %r" %
              (d.get("imageSizeInBytes"), layer_sizes))


def check_dir_copy(out, manifest, blobs, what):
    check(read(os.path.join(out, "manifest.json")) == manifest, "%s: the manifest copied out differs" % what)
    for d, data in blobs.items():
        got = read(os.path.join(out, d[7:]))
        check(got == data and sha(got) == d, "%s: blob %s copied out differs" % (what, d))


def run(port, work):
    token = api(port, "GetAuthorizationToken", {})["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    check(user == "AWS", "the token's user %r" % user)
    creds = "AWS:" + password
    reg = "127.0.0.1:%d" % port
    dest = ["--dest-creds", creds, "--dest-tls-verify=false"]
    src = ["--src-creds", creds, "--src-tls-verify=false"]
    cred = ["--creds", creds, "--tls-verify=false"]

    # Without the token, skopeo is refused (the plane's Basic challenge).
    r = subprocess.run(["skopeo", "--command-timeout", "20s", "inspect", "--raw", "--tls-verify=false",
                        "docker://%s/nothing:v1" % reg], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=40)
    check(r.returncode != 0, "skopeo without credentials succeeded")

    for repo in ("skopeo/oci", "skopeo/docker", "skopeo/multi"):
        api(port, "CreateRepository", {"repositoryName": repo})

    # 1. An OCI image manifest, from an oci: layout.
    manifest, blobs = image("amd64", OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, b"oci")
    write_oci(os.path.join(work, "oci-in"), manifest, OCI_MANIFEST, blobs, "v1")
    skopeo("copy", *dest, "oci:%s:v1" % os.path.join(work, "oci-in"), "docker://%s/skopeo/oci:v1" % reg)
    check(skopeo("inspect", "--raw", *cred, "docker://%s/skopeo/oci:v1" % reg) == manifest,
          "inspect --raw of the OCI image is not the bytes pushed")
    skopeo("copy", *src, "docker://%s/skopeo/oci:v1" % reg, "dir:%s" % os.path.join(work, "oci-out"))
    check_dir_copy(os.path.join(work, "oci-out"), manifest, blobs, "OCI image")
    sizes = [l["size"] for l in json.loads(manifest)["layers"]]
    check_described(port, "skopeo/oci", "v1", manifest, OCI_MANIFEST, sizes)

    # 2. A Docker v2 schema 2 image, from a dir: directory.
    dmanifest, dblobs = image("arm64", V2_CONFIG, V2_LAYER, V2, b"docker")
    write_dir(os.path.join(work, "docker-in"), dmanifest, dblobs)
    skopeo("copy", *dest, "dir:%s" % os.path.join(work, "docker-in"), "docker://%s/skopeo/docker:latest" % reg)
    check(skopeo("inspect", "--raw", *cred, "docker://%s/skopeo/docker:latest" % reg) == dmanifest,
          "inspect --raw of the Docker image is not the bytes pushed")
    info = json.loads(skopeo("inspect", *cred, "docker://%s/skopeo/docker:latest" % reg))
    check(info.get("Digest") == sha(dmanifest) and info.get("Architecture") == "arm64",
          "skopeo inspect: %r" % info)
    skopeo("copy", *src, "docker://%s/skopeo/docker@%s" % (reg, sha(dmanifest)),
           "dir:%s" % os.path.join(work, "docker-out"))
    check_dir_copy(os.path.join(work, "docker-out"), dmanifest, dblobs, "Docker image")
    sizes = [l["size"] for l in json.loads(dmanifest)["layers"]]
    check_described(port, "skopeo/docker", "latest", dmanifest, V2, sizes)

    # 3. A multi-arch OCI index of two platforms, with copy --all.
    children, all_blobs = [], {}
    for arch in ("amd64", "arm64"):
        m, b = image(arch, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, b"multi-" + arch.encode())
        all_blobs.update(b)
        all_blobs[sha(m)] = m
        children.append({"mediaType": OCI_MANIFEST, "digest": sha(m), "size": len(m),
                         "platform": {"architecture": arch, "os": "linux"}})
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}, indent=3).encode()
    write_oci(os.path.join(work, "multi-in"), index, OCI_INDEX, all_blobs, "v2")
    skopeo("copy", "--all", *dest, "oci:%s:v2" % os.path.join(work, "multi-in"), "docker://%s/skopeo/multi:v2" % reg)
    check(skopeo("inspect", "--raw", *cred, "docker://%s/skopeo/multi:v2" % reg) == index,
          "inspect --raw of the index is not the bytes pushed")
    for c in children:
        check(skopeo("inspect", "--raw", *cred, "docker://%s/skopeo/multi@%s" % (reg, c["digest"])) ==
              all_blobs[c["digest"]], "inspect --raw of the %s manifest" % c["platform"]["architecture"])
    out = os.path.join(work, "multi-out")
    skopeo("copy", "--all", *src, "docker://%s/skopeo/multi:v2" % reg, "oci:%s:v2" % out)
    top = json.loads(read(os.path.join(out, "index.json")))["manifests"]
    check(len(top) == 1 and top[0]["digest"] == sha(index), "oci: copy-out's index.json %r" % top)
    for d, data in list(all_blobs.items()) + [(sha(index), index)]:
        p = os.path.join(out, "blobs", "sha256", d[7:])
        check(os.path.exists(p) and read(p) == data, "index copy-out: blob %s missing or different" % d)
    # The platform skopeo picks without --all (its --override-arch).
    skopeo("copy", "--override-arch", "arm64", "--override-os", "linux", *src, "docker://%s/skopeo/multi:v2" % reg,
           "dir:%s" % os.path.join(work, "arm64-out"))
    check(read(os.path.join(work, "arm64-out", "manifest.json")) == all_blobs[children[1]["digest"]],
          "copy of the arm64 platform from the index")
    check_described(port, "skopeo/multi", "v2", index, OCI_INDEX, None)
    untagged = api(port, "DescribeImages", {"repositoryName": "skopeo/multi"})["imageDetails"]
    check(sorted(d["imageDigest"] for d in untagged) == sorted([sha(index)] + [c["digest"] for c in children]),
          "DescribeImages of the index's repository: %r" % untagged)

    # Tags, then delete.
    tags = json.loads(skopeo("list-tags", *cred, "docker://%s/skopeo/docker" % reg))
    check(tags.get("Tags") == ["latest"], "list-tags %r" % tags)
    for ref, repo in (("skopeo/oci:v1", "skopeo/oci"), ("skopeo/docker:latest", "skopeo/docker"),
                      ("skopeo/multi:v2", "skopeo/multi")):
        skopeo("delete", *cred, "docker://%s/%s" % (reg, ref))
        left = api(port, "ListImages", {"repositoryName": repo, "filter": {"tagStatus": "TAGGED"}})["imageIds"]
        check(left == [], "%s after skopeo delete: %r" % (ref, left))
    r = subprocess.run(["skopeo", "--command-timeout", "20s", "inspect", "--raw", *cred,
                        "docker://%s/skopeo/oci:v1" % reg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=40)
    check(r.returncode != 0 and b"manifest unknown" in r.stderr.lower(),
          "inspect after delete: exit %d, %s" % (r.returncode, r.stderr))

    # 4. Images the server's fixture loaded (not pushed by skopeo) pull with it.
    for tag, media_type in (("2.0", OCI_INDEX), ("1.9", "application/vnd.docker.distribution.manifest.list.v2+json")):
        got = api(port, "BatchGetImage", {"repositoryName": "tools/cli", "imageIds": [{"imageTag": tag}],
                                          "acceptedMediaTypes": [media_type]})["images"]
        check(len(got) == 1, "BatchGetImage tools/cli:%s: %r" % (tag, got))
        stored = got[0]["imageManifest"].encode()
        raw = skopeo("inspect", "--raw", *cred, "docker://%s/tools/cli:%s" % (reg, tag))
        check(raw == stored, "inspect --raw of the fixture's tools/cli:%s is not BatchGetImage's manifest" % tag)
        check(sha(raw) == got[0]["imageId"]["imageDigest"], "the fixture's tools/cli:%s digest" % tag)
        if media_type == OCI_INDEX:
            out = os.path.join(work, "fixture-" + tag)
            # The loader's layers are not gzip: skopeo would compress them for
            # an oci: layout (new digests) unless told to keep them as they are.
            skopeo("copy", "--all", "--preserve-digests", "--dest-oci-accept-uncompressed-layers", *src,
                   "docker://%s/tools/cli:%s" % (reg, tag), "oci:%s:%s" % (out, tag))
            blobs = os.path.join(out, "blobs", "sha256")
            names = os.listdir(blobs)
            for name in names:
                check(hashlib.sha256(read(os.path.join(blobs, name))).hexdigest() == name,
                      "tools/cli:%s copied out: blob %s is not its digest's bytes" % (tag, name))
            children = json.loads(raw)["manifests"]
            check(sha(raw)[7:] in names and all(c["digest"][7:] in names for c in children),
                  "tools/cli:%s copied out: the index or a platform's manifest is missing: %s, want %s and %s" %
                  (tag, names, sha(raw), [c["digest"] for c in children]))
        else:
            # A Docker manifest list has no oci: form without conversion:
            # copied registry to registry instead, into another repository.
            api(port, "CreateRepository", {"repositoryName": "skopeo/list"})
            skopeo("copy", "--all", "--preserve-digests", *src, *dest, "docker://%s/tools/cli:%s" % (reg, tag),
                   "docker://%s/skopeo/list:%s" % (reg, tag))
            check(skopeo("inspect", "--raw", *cred, "docker://%s/skopeo/list:%s" % (reg, tag)) == raw,
                  "the manifest list copied to skopeo/list is not the fixture's bytes")
            check_described(port, "skopeo/list", tag, raw, media_type, None)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    if shutil.which("skopeo") is None:
        print("e2e_skopeo: SKIPPED: skopeo is not installed (apt-get install skopeo)")
        return 0
    fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "multi-arch.json")
    server, port = start("--fixture", fixture)
    work = tempfile.mkdtemp(prefix="e2e_skopeo.")
    try:
        run(port, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        stop(server)
    print("e2e_skopeo: skopeo %s copied in an OCI image, a Docker v2 image and a multi-arch index, inspected, "
          "copied out byte for byte, saw them in DescribeImages and deleted them, and pulled a fixture's index and manifest list, "
          "through ecrmock-server" %
          subprocess.run(["skopeo", "--version"], stdout=subprocess.PIPE).stdout.decode().split()[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
