#!/usr/bin/python3
"""End to end: ecrmock-server's HTTPS side, with Python's standard library (and curl where installed).

Starts the server with --https-port 0, --proxy and --ca-out, then, trusting only the CA it
wrote (hostname checks on):

- through the CONNECT proxy on the plain port (http.client's set_tunnel, as HTTPS_PROXY
  clients do), CreateRepository on api.ecr.us-west-2.amazonaws.com;
- on the HTTPS port, with SNI api.ecr.<region>.amazonaws.com: the repository is in
  us-west-2's DescribeRepositories and not in us-east-1's (the region comes from the host);
- /v2/ on the registry host through the proxy: the registry's 401 and Basic challenge;
- a CONNECT to example.com:443: 403 with the reason; SNI example.com: the TLS alert
  unrecognized_name;
- curl with HTTPS_PROXY and --cacert, and botocore with HTTPS_PROXY and AWS_CA_BUNDLE
  (each skipped with a message when absent).

Usage: tests/e2e/e2e_https.py path/to/ecrmock-server
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile

from e2e_common import NAME, check, fail, https_port, start, stop, tunneled

TARGET = "AmazonEC2ContainerRegistry_V20150921."
WEST = "api.ecr.us-west-2.amazonaws.com"
EAST = "api.ecr.us-east-1.amazonaws.com"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def api(conn, action, req):
    conn.request("POST", "/", json.dumps(req).encode(), {
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET + action})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    check(r.status == 200, "%s: %d %s" % (action, r.status, data))
    return json.loads(data)


def direct(port, host, ca_file):
    """An http.client connection to the HTTPS port with SNI HOST."""
    ctx = ssl.create_default_context(cafile=ca_file)
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=10)
    conn.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=host)
    return conn


def main():
    tmp = tempfile.mkdtemp(prefix="ecrmock-https-")
    ca = os.path.join(tmp, "ca.pem")
    server, port = start("--proxy", "--https-port", "0", "--ca-out", ca)
    try:
        tls_port = https_port(server)
        made = api(tunneled(port, WEST, ca), "CreateRepository", {"repositoryName": "through-proxy"})
        check(made["repository"]["repositoryArn"] == "arn:aws:ecr:us-west-2:123456789012:repository/through-proxy",
              "the tunnel's region: %r" % made)
        west = api(direct(tls_port, WEST, ca), "DescribeRepositories", {})
        check([r["repositoryName"] for r in west["repositories"]] == ["through-proxy"], "us-west-2: %r" % west)
        east = api(direct(tls_port, EAST, ca), "DescribeRepositories", {})
        check(east["repositories"] == [], "us-east-1 must be empty: %r" % east)

        conn = tunneled(port, REGISTRY, ca)
        conn.request("GET", "/v2/")
        r = conn.getresponse()
        r.read()
        conn.close()
        check(r.status == 401 and "Basic" in (r.getheader("WWW-Authenticate") or ""),
              "/v2/ on the registry host: %d %r" % (r.status, r.getheaders()))

        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
            answer = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        check(answer.startswith(b"HTTP/1.1 403 Forbidden\r\n") and b"CONNECT example.com:443 refused" in answer,
              "CONNECT to a foreign host: %r" % answer)

        try:
            direct(tls_port, "example.com", ca).request("GET", "/")
            fail("SNI example.com was served")
        except ssl.SSLError as e:
            check("UNRECOGNIZED_NAME" in str(e), "SNI example.com: %s" % e)

        if shutil.which("curl"):
            proxy = "http://127.0.0.1:%d" % port  # both spellings: curl prefers https_proxy
            env = dict(os.environ, HTTPS_PROXY=proxy, https_proxy=proxy)
            env.pop("NO_PROXY", None)
            env.pop("no_proxy", None)
            out = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", ca, "-X", "POST",
                                  "-H", "X-Amz-Target: " + TARGET + "DescribeRepositories",
                                  "-H", "Content-Type: application/x-amz-json-1.1", "-d", "{}",
                                  "https://%s/" % WEST], env=env, capture_output=True, text=True)
            check(out.returncode == 0 and "through-proxy" in out.stdout,
                  "curl through the proxy: exit %d, %s %s" % (out.returncode, out.stdout, out.stderr))
        else:
            print(NAME + ": curl: SKIPPED: curl is not installed (apt-get install curl)")
        try:
            import botocore.session
        except ImportError:
            print(NAME + ": botocore: SKIPPED: python3-botocore is not installed (apt-get install python3-botocore)")
        else:
            proxy = "http://127.0.0.1:%d" % port
            os.environ.update(HTTPS_PROXY=proxy, https_proxy=proxy, AWS_CA_BUNDLE=ca, AWS_ACCESS_KEY_ID="a",
                              AWS_SECRET_ACCESS_KEY="b", AWS_CONFIG_FILE=os.devnull,
                              AWS_SHARED_CREDENTIALS_FILE=os.devnull)
            for name in ("NO_PROXY", "no_proxy", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECR"):
                os.environ.pop(name, None)
            ecr = botocore.session.get_session().create_client("ecr", region_name="eu-west-1")
            arn = ecr.create_repository(repositoryName="by-botocore")["repository"]["repositoryArn"]
            check(arn == "arn:aws:ecr:eu-west-1:123456789012:repository/by-botocore", "botocore: %s" % arn)
    finally:
        stop(server)
        shutil.rmtree(tmp, ignore_errors=True)
    print(NAME + ": HTTPS port and CONNECT proxy: the API by region, the registry host, foreign hosts refused")


main()
