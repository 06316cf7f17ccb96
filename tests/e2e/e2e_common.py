"""What the tests/e2e scripts share: fail/check, and starting and stopping ecrmock-server.

Each script is run as `tests/e2e/<name>.py path/to/ecrmock-server`; messages are prefixed
with <name>.
"""
import os
import subprocess
import sys

NAME = os.path.splitext(os.path.basename(sys.argv[0]))[0]


def fail(msg):
    print(NAME + ": FAILED: " + msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def start(*flags):
    """Start sys.argv[1] on a free port with FLAGS; return (server, port)."""
    server = subprocess.Popen([sys.argv[1], "--port", "0", "--timeout", "10"] + list(flags),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = server.stdout.readline()
    if not line.strip().isdigit():
        server.kill()
        fail("the server did not print its port: %r" % line)
    return server, int(line)


def stop(server):
    """SIGTERM the server; fail unless it stops within 10 s with status 0."""
    server.terminate()
    try:
        rc = server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        fail("the server did not stop on SIGTERM")
    if rc != 0:
        fail("the server exited with %d" % rc)


def https_port(server):
    """The second line `ecrmock-server --https-port` prints: the HTTPS port."""
    line = server.stdout.readline()
    if not line.strip().isdigit():
        server.kill()
        fail("the server did not print its HTTPS port: %r" % line)
    return int(line)


def tunneled(proxy_port, host, ca_file):
    """An http.client connection to https://HOST through ecrmock-server's CONNECT proxy on the
    loopback PROXY_PORT, trusting CA_FILE only."""
    import http.client
    import ssl
    ctx = ssl.create_default_context(cafile=ca_file)
    conn = http.client.HTTPSConnection("127.0.0.1", proxy_port, context=ctx, timeout=10)
    conn.set_tunnel(host, 443)
    return conn
