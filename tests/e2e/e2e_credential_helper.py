#!/usr/bin/python3
"""End to end: Debian's amazon-ecr-credential-helper (docker-credential-ecr-login), a client
whose endpoint is fixed (https://api.ecr.<region>.amazonaws.com), through ecrmock-server's
CONNECT proxy.

Starts the server with --proxy, --ca-out and SigV4 checks on, then runs
`echo <account>.dkr.ecr.us-east-1.amazonaws.com | docker-credential-ecr-login get` with
HTTPS_PROXY at the server, the CA in SSL_CERT_FILE (then in AWS_CA_BUNDLE), the AWS
credentials the server checks, HOME in a scratch directory and the helper's cache off.
Checks Username "AWS", the ServerURL, and that the Secret authenticates on the fake's
registry (/v2/ on the registry host, through the same proxy: 200 with it, refused with a
wrong one).  Without the CA the helper must fail (the TLS is verified for real).  Exits 0
with a SKIPPED line when the helper is not installed (apt-get install
amazon-ecr-credential-helper).

Usage: tests/e2e/e2e_credential_helper.py path/to/ecrmock-server
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile

from e2e_common import NAME, check, start, stop, tunneled

HELPER = "docker-credential-ecr-login"
ACCOUNT = "123456789012"
REGISTRY = ACCOUNT + ".dkr.ecr.us-east-1.amazonaws.com"
ACCESS, SECRET = "AKIDECRMOCKHELPER", "ecrmock-helper-secret"


def helper(env):
    return subprocess.run([HELPER, "get"], input=REGISTRY + "\n", env=env, capture_output=True, text=True,
                          timeout=60)


def v2_status(port, ca, password):
    conn = tunneled(port, REGISTRY, ca)
    auth = base64.b64encode(("AWS:" + password).encode()).decode()
    conn.request("GET", "/v2/", headers={"Authorization": "Basic " + auth})
    r = conn.getresponse()
    r.read()
    conn.close()
    return r.status


def main():
    if not shutil.which(HELPER):
        print(NAME + ": SKIPPED: %s is not installed (apt-get install amazon-ecr-credential-helper)" % HELPER)
        return
    tmp = tempfile.mkdtemp(prefix="ecrmock-helper-")
    ca = os.path.join(tmp, "ca.pem")
    home = os.path.join(tmp, "home")
    os.mkdir(home)
    server, port = start("--proxy", "--ca-out", ca, "--account", ACCOUNT, "--access-key", ACCESS,
                         "--secret-key", SECRET)
    try:
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                "HTTPS_PROXY": "http://127.0.0.1:%d" % port, "AWS_ACCESS_KEY_ID": ACCESS,
                "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_ECR_DISABLE_CACHE": "1",
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        for trust in ("SSL_CERT_FILE", "AWS_CA_BUNDLE"):
            out = helper(dict(base, **{trust: ca}))
            check(out.returncode == 0, "%s get with %s: exit %d: %s%s" % (HELPER, trust, out.returncode,
                                                                         out.stdout, out.stderr))
            creds = json.loads(out.stdout)
            check(creds.get("Username") == "AWS", "Username: %r" % creds)
            check(creds.get("ServerURL") == REGISTRY, "ServerURL: %r" % creds)
            secret = creds.get("Secret") or ""
            check(v2_status(port, ca, secret) == 200, "the helper's Secret does not authenticate on /v2/")
        wrong = v2_status(port, ca, secret[:-8] + "AAAAAAA=")
        check(wrong in (400, 401), "a wrong password on /v2/: %d (want it refused)" % wrong)
        empty = os.path.join(tmp, "empty.pem")
        open(empty, "w").close()
        out = helper(dict(base, SSL_CERT_FILE=empty))
        check(out.returncode != 0, "the helper succeeded without trusting the fake's CA: %s" % out.stdout)
    finally:
        stop(server)
        shutil.rmtree(tmp, ignore_errors=True)
    print(NAME + ": %s get %s through the CONNECT proxy: the fake's credentials (SSL_CERT_FILE and "
          "AWS_CA_BUNDLE)" % (HELPER, REGISTRY))


main()
