"""The HAProxy configuration in front of supportdesk nodes, rendered from one template.

deploy/haproxy.cfg (the three-node example for operators), the cluster tests'
balancer and `make cluster` all come from :func:`render`, so the routing rule is
written once. Regenerate the example after a change:

    .venv/bin/python -m scripts.haproxy_config > deploy/haproxy.cfg

(tests/cluster/test_haproxy.py fails while the file and the template differ).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

SESSION_HEADER = "X-Supportdesk-Session"
"""The request header HAProxy puts a session's consultation number in, to hash on."""

SESSION_PATHS = r"^/(ws/(viewer|video|control)|console/sessions)/[^/]+"
"""Paths whose fourth '/'-separated field is a consultation number
(server/relay/endpoints.py, server/relay/file_endpoints.py, server/pages/console.py)."""


@dataclass(frozen=True)
class Node:
    """One `supportdesk serve` as HAProxy sees it."""

    name: str  # its [cluster] node_id, e.g. "node-a"
    address: str  # host:port where it listens


@dataclass(frozen=True)
class Balancer:
    """What differs between installations; the rules are the same for all."""

    nodes: tuple[Node, ...]
    bind: str = ":443"
    # PEM file with certificate chain and key: TLS ends at HAProxy. None: plain HTTP
    # on `bind` (only for loopback tests and `make cluster`).
    tls_pem: str | None = None
    # CA file to verify the nodes' certificates with when they run TLS themselves
    # ([server] tls_cert); None: plain HTTP to the nodes on a private network.
    nodes_ca: str | None = None
    stats_socket: str = "/run/haproxy/admin.sock"
    # Deployment lines (chroot, user, syslog); off for a balancer a test starts.
    system: bool = True
    # Needs about twice as many open files (ulimit -n; HAProxy raises it as root).
    maxconn: int = 20000
    log: str = "/dev/log local0"


HEAD = """\
# HAProxy in front of supportdesk nodes (docs/operations.md).
# Rendered by scripts/haproxy_config.py, the same template the cluster tests run.
#
# Routing: every request of one live session goes to one node, chosen by a
# consistent hash of its consultation number (BN-2026-4821-7730-8), so a dead
# node's sessions move and no other session does. The number is taken from, in
# this order: the query parameter ?session=<number> (the customer's links
# /ws/applet and /ws/browser); the path /ws/viewer|video|control/<number> or
# /console/sessions/<number>/...; the header "Authorization: Resume <number> ...".
# HAProxy writes it into {header}; a request without one (portal,
# login, dashboard, static files) is balanced round-robin.

global
{global_lines}
    stats socket {stats_socket} mode 600 level admin expose-fd listeners
    maxconn {maxconn}
{tls_global}
defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 5s
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout queue 30s
    timeout client 60s
    timeout server 60s
    # An upgraded WebSocket may stay quiet for long (a paused session); its tunnel
    # outlives an agent's 8-hour day. Both sides send heartbeats well within it.
    timeout tunnel 9h
    # A half-closed connection is dropped after this instead of after the tunnel's 9h.
    timeout client-fin 30s
    timeout server-fin 30s
    timeout check 1s
    # A connection refused by a node not yet marked down is retried on another.
    retries 2
    option redispatch

frontend supportdesk
{binds}
    # Only HAProxy says who the client is and where a session goes: what a client
    # sends in these headers is dropped (remove the first line only if another
    # proxy in front of HAProxy appends to X-Forwarded-For and is trusted too).
    http-request del-header X-Forwarded-For
    http-request del-header {header}
    http-request set-header X-Forwarded-Proto https if {{ ssl_fc }}
    http-request set-header X-Forwarded-Proto http if !{{ ssl_fc }}
    option forwardfor
    # The Host header goes to the nodes unchanged (HAProxy's default).

    acl session_in_query url_param(session) -m reg .
    acl session_in_path path_reg {session_paths}
    acl session_in_resume req.hdr(Authorization) -m beg "Resume "
    # The last rule that applies wins, so these stand in the reverse of the order of
    # precedence (query parameter, path, Resume header).
    http-request set-var(txn.session) req.hdr(Authorization),word(2,\\ ) if session_in_resume
    http-request set-var(txn.session) path,field(4,/) if session_in_path
    http-request set-var(txn.session) url_param(session) if session_in_query
    http-request set-header {header} %[var(txn.session)] if {{ var(txn.session) -m found }}
    default_backend nodes
{redirect}
backend nodes
    # The header's value is hashed onto a ring (hash-type consistent); a request
    # without the header is balanced round-robin.
    balance hdr({header})
    hash-type consistent
    # Ready means: the database answers and carries the newest schema. A node is out
    # after two failed checks a second apart, back after two good ones.
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host supportdesk-health
    http-check expect status 200
    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2
    # A node taken out loses its open connections at once; clients reconnect.
    default-server on-marked-down shutdown-sessions{server_tls}
{servers}
"""

SYSTEM_GLOBAL = """\
    log {log}
    chroot /var/lib/haproxy
    user haproxy
    group haproxy
    daemon"""

TEST_GLOBAL = """\
    log stdout format raw local0"""

TLS_GLOBAL = """\
    # TLS 1.3 only: the support program refuses anything older.
    ssl-default-bind-options ssl-min-ver TLSv1.3
    ssl-default-server-options ssl-min-ver TLSv1.2
"""

REDIRECT = """
frontend plain_http
    bind {host}:80
    http-request redirect scheme https code 301
"""


def render(balancer: Balancer) -> str:
    """The whole haproxy.cfg for these nodes."""
    if balancer.tls_pem:
        binds = (
            f"    # TLS ends here: {balancer.tls_pem} holds the certificate chain and key.\n"
            f"    bind {balancer.bind} ssl crt {balancer.tls_pem} alpn http/1.1"
        )
        host = balancer.bind.rpartition(":")[0]
        redirect = REDIRECT.format(host=host)
    else:
        binds = f"    # Plain HTTP: for loopback only.\n    bind {balancer.bind}"
        redirect = ""
    if balancer.nodes_ca:
        server_tls = (
            "\n    # The nodes run TLS themselves ([server] tls_cert); HAProxy checks their "
            f"certificates.\n    default-server ssl verify required ca-file {balancer.nodes_ca}"
        )
    else:
        server_tls = ""
    servers = "\n".join(
        f"    server {node.name} {node.address} check id {index}"
        for index, node in enumerate(balancer.nodes, start=1)
    )
    return HEAD.format(
        header=SESSION_HEADER,
        session_paths=SESSION_PATHS,
        global_lines=(SYSTEM_GLOBAL.format(log=balancer.log) if balancer.system else TEST_GLOBAL),
        stats_socket=balancer.stats_socket,
        maxconn=balancer.maxconn,
        tls_global=TLS_GLOBAL if balancer.tls_pem or balancer.nodes_ca else "",
        binds=binds,
        redirect=redirect,
        server_tls=server_tls,
        servers=servers,
    )


EXAMPLE = Balancer(
    nodes=(
        Node("node-a", "10.0.0.11:8080"),
        Node("node-b", "10.0.0.12:8080"),
        Node("node-c", "10.0.0.13:8080"),
    ),
    bind="203.0.113.10:443",
    tls_pem="/etc/haproxy/certs/support.example-bank.de.pem",
)
"""deploy/haproxy.cfg: three nodes on a private network, TLS ending at HAProxy."""


def main() -> int:
    sys.stdout.write(render(EXAMPLE))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
