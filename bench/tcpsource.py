#!/usr/bin/python3
"""A TCP source for the port-forward benchmark, run on a device's address.

    tcpsource.py ADDR PORT PAYLOAD_FILE

Each connection sends one line with a decimal byte count N; the server
answers with N bytes taken from PAYLOAD_FILE (repeated as needed, with
sendfile, so the source costs little CPU) and closes. A connection that
closes without a request (a readiness probe) is simply dropped.
"""

import os
import socket
import sys
import threading


def serve_one(conn, fd, size):
    try:
        req = b""
        while not req.endswith(b"\n") and len(req) < 32:
            chunk = conn.recv(32)
            if not chunk:
                return
            req += chunk
        left = int(req.strip() or b"0")
        off = 0
        while left > 0:
            n = os.sendfile(conn.fileno(), fd, off, min(left, size - off,
                                                         1 << 20))
            if n <= 0:
                break
            left -= n
            off = (off + n) % size
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)            # wait for the peer to close
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


def main():
    addr, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(128)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve_one, args=(conn, fd, size),
                         daemon=True).start()


if __name__ == "__main__":
    main()
