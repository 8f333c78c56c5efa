"""A scripted web.sock for webd's tests: decodes each control protocol v2
request webd sends (docs/WEB.md, "Control protocol v2") and answers with
the frames a test gave for its first word. It checks webd's side of the
protocol byte for byte; bastiond's side is tested with the real worker.
"""

import os
import socket
import struct
import threading


def _string(b, off):
    n = struct.unpack(">I", b[off:off + 4])[0]
    return b[off + 4:off + 4 + n], off + 4 + n


def decode_request(b):
    """(argv list of str, attrs dict name -> bytes) of a v2 request."""
    assert b[:4] == b"BCTL" and b[4] == 2, b[:5]
    off = 5
    argc = struct.unpack(">I", b[off:off + 4])[0]
    off += 4
    argv = []
    for _ in range(argc):
        w, off = _string(b, off)
        argv.append(w.decode())
    nattr = struct.unpack(">I", b[off:off + 4])[0]
    off += 4
    attrs = {}
    for _ in range(nattr):
        k, off = _string(b, off)
        v, off = _string(b, off)
        attrs[k.decode()] = v
    assert off == len(b), "trailing bytes"
    return argv, attrs


def strings(v):
    """The SSH strings of an attribute value (assert, attest)."""
    out, off = [], 0
    while off < len(v):
        s, off = _string(v, off)
        out.append(s)
    return out


def frame(t, payload=b""):
    if isinstance(payload, str):
        payload = payload.encode()
    return bytes([ord(t)]) + struct.pack(">I", len(payload)) + payload


def exit_frame(status=0):
    return frame("x", bytes([status]))


def term_frame(ms, data):
    return frame("t", struct.pack(">Q", ms) + data)


class FakeCtl:
    """answers[word] = list of frame bytes, or a callable(argv, attrs, conn)
    that talks itself. Every request is kept in .requests."""

    def __init__(self, path):
        self.path = str(path)
        self.answers = {}
        self.requests = []
        self.closed = threading.Event()
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(16)
        self.stop_ = False
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        while not self.stop_:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        data = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
        argv, attrs = decode_request(data)
        self.requests.append((argv, attrs))
        a = self.answers.get(argv[0], [frame("e", "no answer scripted\n"),
                                       exit_frame(2)])
        try:
            if callable(a):
                a(argv, attrs, c)
            else:
                for f in a:
                    c.sendall(f)
        except OSError:
            pass
        finally:
            c.close()
            self.closed.set()

    def last(self, word):
        for argv, attrs in reversed(self.requests):
            if argv[0] == word:
                return argv, attrs
        raise AssertionError("no %r request; got %r" % (
            word, [r[0] for r in self.requests]))

    def stop(self):
        self.stop_ = True
        self.sock.close()
