#!/usr/bin/env python3
"""Peak memory of the demo server under a crowd of wrong sign-ins.

Starts `demo serve` on a fresh SQLite database, gets a sign-in form (and its CSRF cookie) for
each of N clients, then has them all post a wrong password at once, each from a loopback
address of its own (127.0.1.x, 127.0.2.x, ...) and with a name of its own, so that the
per-address and per-name throttles let every attempt through to the password check. It reports
the server's resident memory before and at its peak (VmHWM), and the answers' status codes.

    python3 bench/signin-memory.py --demo target/release/demo --clients 200 [--password-checks N]

`--password-checks` is passed to `demo serve` (how many Argon2 checks run at once); a large
value shows what the server did before the bound.
"""

import argparse
import collections
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def source(n):
    return (f"127.0.{1 + n // 250}.{1 + n % 250}", 0)


def connect(port, n):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=source(n))


def sign_in_form(port, n):
    connection = connect(port, n)
    connection.request("GET", "/login", headers={"Accept": "text/html"})
    response = connection.getresponse()
    body = response.read().decode()
    cookies = [v.split(";")[0] for k, v in response.getheaders() if k.lower() == "set-cookie"]
    token = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    return connection, "; ".join(cookies), token


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", required=True)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--password-checks", type=int)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="signin-memory-")
    port = free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite://{work}/demo.db?mode=rwc",
               DEMO_ADMIN_PASSWORD="root-password", RUST_LOG="error")
    serve = [args.demo, "serve", "--addr", f"127.0.0.1:{port}"]
    if args.password_checks is not None:
        serve += ["--password-checks", str(args.password_checks)]
    server = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        forms = [sign_in_form(port, n) for n in range(args.clients)]
        before = kib(server.pid, "VmRSS")
        statuses = collections.Counter()
        start = threading.Barrier(args.clients)

        def attempt(n):
            connection, cookie, token = forms[n]
            body = urllib.parse.urlencode(
                {"csrf": token, "came_from": "/", "user": f"crowd{n}", "password": "wrong"})
            start.wait()
            try:
                connection.request("POST", "/login", body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "text/html", "Cookie": cookie})
                response = connection.getresponse()
                response.read()
                statuses[response.status] += 1
            except OSError as error:
                statuses[type(error).__name__] += 1

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(args.clients)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - began
        peak = kib(server.pid, "VmHWM")
        after = kib(server.pid, "VmRSS")
        checks = args.password_checks if args.password_checks is not None else "default"
        print(f"clients {args.clients}, password checks at once: {checks}")
        print(f"  resident before {before / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
              f"after {after / 1024:.1f} MiB; {took:.1f} s")
        print("  answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
