#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""
tests/lib/vfclient.py - a small client of vmfit's client protocol
(Documentation/protocol.rst) for tests that need requests vmfit-bench
does not send: send-and-close churn, chosen client ids and sequence
numbers, replays.

    vfclient.py churn HOST:PORT --count N [--size B] [--from ADDR]
        N connections, each sends one kv request (a PUT of B bytes, or a
        GET with --size 0) under a fresh client id and closes without
        waiting for the reply. Prints "sent N refused R blocked B".
"""
import argparse
import hashlib
import os
import socket
import struct
import sys

MAGIC_CLIENT = 0x43464D56      # "VMFC"
VERSION = 3                    # sessions: REQUEST carries the session key
T_REQUEST, T_REPLY, T_ERROR = 1, 2, 3
KV_GET, KV_PUT = 1, 2


def frame(ftype, payload, version=VERSION):
    return struct.pack('<IHHII', MAGIC_CLIENT, version, ftype,
                       len(payload), 0) + payload


def kv_op(key, size):
    if size:
        return struct.pack('<BxxxII', KV_PUT, key, size) + os.urandom(size)
    return struct.pack('<BxxxII', KV_GET, key, 0)


def session():
    """A new session: (key, client_id), the id being the first 8 bytes
    (little-endian) of SHA-256(key)."""
    key = os.urandom(32)
    return key, session_id(key)


def session_id(key):
    return struct.unpack('<Q', hashlib.sha256(key).digest()[:8])[0]


def request(key, cid, seq, op):
    """A version 3 REQUEST; key None: a version 2 one (no session)."""
    body = struct.pack('<QQI', cid, seq, len(op)) + op
    if key is None:
        return frame(T_REQUEST, body, version=2)
    return frame(T_REQUEST, body + key)


def recv_exact(s, n):
    b = b''
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError('connection closed after %d of %d bytes'
                           % (len(b), n))
        b += d
    return b


def call(addr, key, cid, seq, op, timeout=30.0):
    """Send one REQUEST on a new connection and read one frame back:
    ('reply', status, data in hex) or ('error', code, message)."""
    s = socket.create_connection(addr, timeout=timeout)
    try:
        s.sendall(request(key, cid, seq, op))
        magic, ver, ftype, n, _ = struct.unpack('<IHHII', recv_exact(s, 16))
        p = recv_exact(s, n)
    finally:
        s.close()
    if ftype == T_REPLY:
        rcid, rseq, status, ln = struct.unpack_from('<QQII', p)
        return ('reply', status, p[24:24 + ln].hex())
    if ftype == T_ERROR:
        code, ln = struct.unpack_from('<IH', p)
        return ('error', code, p[6:6 + ln].decode('utf-8', 'replace'))
    return ('frame', ftype, p.hex())


def hostport(s):
    h, p = s.rsplit(':', 1)
    return h, int(p)


def churn(a):
    addr = hostport(a.server)
    sent = refused = blocked = 0
    for i in range(a.count):
        key, cid = session()
        msg = request(key, cid, 1, kv_op(i % a.records, a.size))
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        try:
            if a.src:
                s.bind((a.src, 0))
            s.connect(addr)
            s.sendall(msg)
            sent += 1
        except socket.timeout:
            blocked += 1
        except OSError:
            refused += 1
        finally:
            s.close()
    print('sent %d refused %d blocked %d' % (sent, refused, blocked))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('churn')
    c.add_argument('server')
    c.add_argument('--count', type=int, required=True)
    c.add_argument('--size', type=int, default=0)
    c.add_argument('--records', type=int, default=64)
    c.add_argument('--from', dest='src')
    c.add_argument('--timeout', type=float, default=1.0)
    a = ap.parse_args()
    return churn(a)


if __name__ == '__main__':
    sys.exit(main())
