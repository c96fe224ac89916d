"""A scripted cairn p2p peer for integration tests (docs/p2p.md).

Peer dials a real node as the initiator, completes the HELLO/AUTH handshake
(X25519, HKDF-SHA256, Ed25519, ChaCha20-Poly1305 IETF frames with counters) and
then sends and receives frames on any channel, well-formed or not. It also
encodes and decodes the block-sync messages of src/node/msg.c, so a test can
play an honest, a lying or a garbage-spewing peer.

Only the Python standard library and libsodium (through ctypes) are used.
Each Peer has its own fresh Ed25519 identity unless one is given, so a peer that
got itself banned can come back as a new node id.
"""
import ctypes
import ctypes.util
import hashlib
import hmac
import os
import socket
import struct
import threading

# ---- libsodium ------------------------------------------------------------------


def _load_sodium():
    for name in ("libsodium.so.23", ctypes.util.find_library("sodium"), "libsodium.so"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if lib.sodium_init() < 0:
            raise RuntimeError("sodium_init failed")
        return lib
    raise RuntimeError("libsodium not found (scripts/deps.sh installs it)")


_na = _load_sodium()
_ull = ctypes.c_ulonglong
_na.crypto_aead_chacha20poly1305_ietf_encrypt.argtypes = [
    ctypes.c_char_p, ctypes.POINTER(_ull), ctypes.c_char_p, _ull, ctypes.c_char_p, _ull,
    ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
_na.crypto_aead_chacha20poly1305_ietf_decrypt.argtypes = [
    ctypes.c_char_p, ctypes.POINTER(_ull), ctypes.c_void_p, ctypes.c_char_p, _ull,
    ctypes.c_char_p, _ull, ctypes.c_char_p, ctypes.c_char_p]
_na.crypto_sign_detached.argtypes = [ctypes.c_char_p, ctypes.POINTER(_ull), ctypes.c_char_p,
                                     _ull, ctypes.c_char_p]
_na.crypto_sign_verify_detached.argtypes = [ctypes.c_char_p, ctypes.c_char_p, _ull,
                                            ctypes.c_char_p]

TAG = 16


def x25519_base(sec):
    out = ctypes.create_string_buffer(32)
    if _na.crypto_scalarmult_base(out, sec) != 0:
        raise ValueError("x25519 base")
    return out.raw


def x25519(sec, pub):
    out = ctypes.create_string_buffer(32)
    if _na.crypto_scalarmult(out, sec, pub) != 0:
        raise ValueError("x25519: low-order point")
    return out.raw


def ed25519_keypair():
    pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
    _na.crypto_sign_keypair(pk, sk)
    return pk.raw, sk.raw


def ed25519_sign(sk, msg):
    sig = ctypes.create_string_buffer(64)
    _na.crypto_sign_detached(sig, None, msg, len(msg), sk)
    return sig.raw


def ed25519_verify(sig, msg, pk):
    return _na.crypto_sign_verify_detached(sig, msg, len(msg), pk) == 0


def _nonce(counter):
    return b"\0" * 4 + struct.pack("<Q", counter)


def seal(key, counter, plain):
    out = ctypes.create_string_buffer(len(plain) + TAG)
    n = _ull()
    _na.crypto_aead_chacha20poly1305_ietf_encrypt(out, ctypes.byref(n), plain, len(plain),
                                                  None, 0, None, _nonce(counter), key)
    return out.raw[:n.value]


def open_box(key, counter, box):
    if len(box) < TAG:
        raise ValueError("box too short")
    out = ctypes.create_string_buffer(max(1, len(box) - TAG))
    n = _ull()
    if _na.crypto_aead_chacha20poly1305_ietf_decrypt(out, ctypes.byref(n), None, box, len(box),
                                                     None, 0, _nonce(counter), key) != 0:
        raise ValueError("bad MAC")
    return out.raw[:n.value]


def hkdf_sha256(salt, ikm, info, length):
    prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def node_id(pub):
    """A node's id: hex of SHA-256(Ed25519 public key)[0..20)."""
    return hashlib.sha256(pub).digest()[:20].hex()


# ---- messages (src/node/msg.h) ----------------------------------------------------

CH_HANDSHAKE, CH_PING = 0x00, 0x01
CH_CONSENSUS, CH_MEMPOOL, CH_SYNC, CH_REPAIR = 0x20, 0x30, 0x40, 0x50
MSG_STATUS, MSG_BLOCK_REQUEST, MSG_BLOCK_RESPONSE, MSG_NO_BLOCK = 0x21, 0x22, 0x23, 0x24
FRAME_PAYLOAD_MAX = 4 << 20


def _bytes(b):
    return struct.pack("<I", len(b)) + b


MSG_TXS = 0x11


def enc_txs(txs):
    return struct.pack("<BI", MSG_TXS, len(txs)) + b"".join(_bytes(t) for t in txs)


def enc_status(base, height):
    return struct.pack("<BQQ", MSG_STATUS, base, height)


def enc_block_request(height):
    return struct.pack("<BQ", MSG_BLOCK_REQUEST, height)


def enc_no_block(height):
    return struct.pack("<BQ", MSG_NO_BLOCK, height)


def enc_block_response(height, block, commit):
    return struct.pack("<BQ", MSG_BLOCK_RESPONSE, height) + _bytes(block) + _bytes(commit)


def decode_sync(p):
    """A CH_SYNC payload as a dict with 'kind' and its fields; ValueError if malformed."""
    if not p:
        raise ValueError("empty message")
    kind = p[0]
    if kind == MSG_STATUS and len(p) == 17:
        base, height = struct.unpack_from("<QQ", p, 1)
        return {"kind": kind, "base": base, "height": height}
    if kind in (MSG_BLOCK_REQUEST, MSG_NO_BLOCK) and len(p) == 9:
        return {"kind": kind, "height": struct.unpack_from("<Q", p, 1)[0]}
    if kind == MSG_BLOCK_RESPONSE and len(p) >= 17:
        height, = struct.unpack_from("<Q", p, 1)
        off = 9
        bl, = struct.unpack_from("<I", p, off)
        block = p[off + 4:off + 4 + bl]
        off += 4 + bl
        if len(block) != bl or off + 4 > len(p):
            raise ValueError("truncated block response")
        cl, = struct.unpack_from("<I", p, off)
        commit = p[off + 4:off + 4 + cl]
        if len(commit) != cl or off + 4 + cl != len(p):
            raise ValueError("bad block response length")
        return {"kind": kind, "height": height, "block": block, "commit": commit}
    raise ValueError(f"bad sync message kind 0x{kind:02x} len {len(p)}")


# ---- the peer -------------------------------------------------------------------

MAGIC, VERSION = b"CRNP", 1
HELLO_BYTES, AUTH_PAYLOAD, AUTH_FRAME = 70, 96, 133
HDR_BYTES = 5 + TAG


class Closed(Exception):
    """The node closed the connection (EOF or reset)."""


class HandshakeError(Exception):
    pass


class Peer:
    """One connection to a node, as initiator. Not for concurrent senders except
    through send()/send_raw(), which hold a lock."""

    def __init__(self, host, port, chain_id="cairn-it", expect_id=None, keypair=None,
                 timeout=10):
        self.pub, self.sec = keypair or ed25519_keypair()
        self.id = node_id(self.pub)
        self.chain_id = chain_id.encode()
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._wlock = threading.Lock()
        self._rbuf = b""
        self.closed = threading.Event()
        self.remote_pub = None
        self.remote_id = None
        self._handshake(expect_id)

    # -- raw socket
    def _fill(self, n):
        """At least n bytes buffered (nothing consumed, so a timeout loses nothing)."""
        while len(self._rbuf) < n:
            try:
                chunk = self.sock.recv(max(65536, n - len(self._rbuf)))
            except (ConnectionResetError, BrokenPipeError) as e:
                self.closed.set()
                raise Closed(str(e))
            if not chunk:
                self.closed.set()
                raise Closed("EOF")
            self._rbuf += chunk

    def _read_exact(self, n):
        self._fill(n)
        out, self._rbuf = self._rbuf[:n], self._rbuf[n:]
        return out

    def send_raw(self, data):
        """Bytes straight onto the socket, outside any frame."""
        with self._wlock:
            try:
                self.sock.sendall(data)
            except (ConnectionResetError, BrokenPipeError) as e:
                self.closed.set()
                raise Closed(str(e))

    # -- handshake
    def _handshake(self, expect_id):
        eph_sec = os.urandom(32)
        eph_pub = x25519_base(eph_sec)
        chain_hash = hashlib.sha256(self.chain_id).digest()
        self.send_raw(MAGIC + struct.pack("<H", VERSION) + chain_hash + eph_pub)
        hello = self._read_exact(HELLO_BYTES)
        if hello[:4] != MAGIC or struct.unpack_from("<H", hello, 4)[0] != VERSION:
            raise HandshakeError("bad HELLO")
        if hello[6:38] != chain_hash:
            raise HandshakeError("wrong chain id")
        remote_eph = hello[38:70]
        lo, hi = sorted([eph_pub, remote_eph])
        th = hashlib.sha256(b"cairn-p2p-v1 transcript" + struct.pack("<H", VERSION) +
                            struct.pack("<I", len(self.chain_id)) + self.chain_id +
                            lo + hi).digest()
        ss = x25519(eph_sec, remote_eph)
        okm = hkdf_sha256(th, ss, b"cairn-p2p-v1 keys", 64)
        self.send_key, self.recv_key = okm[:32], okm[32:]
        # The responder's AUTH: counters 0 (header) and 1 (body) of k_r2i.
        auth = self._read_exact(AUTH_FRAME)
        hdr = open_box(self.recv_key, 0, auth[:HDR_BYTES])
        if hdr[0] != CH_HANDSHAKE or struct.unpack_from("<I", hdr, 1)[0] != AUTH_PAYLOAD:
            raise HandshakeError("bad AUTH frame")
        body = open_box(self.recv_key, 1, auth[HDR_BYTES:])
        rpub, rsig = body[:32], body[32:]
        if not ed25519_verify(rsig, b"cairn-p2p-v1 auth" + bytes([2]) + th, rpub):
            raise HandshakeError("bad responder signature")
        self.remote_pub, self.remote_id = rpub, node_id(rpub)
        if expect_id and self.remote_id != expect_id:
            raise HandshakeError(f"dialled {expect_id}, got {self.remote_id}")
        sig = ed25519_sign(self.sec, b"cairn-p2p-v1 auth" + bytes([1]) + th)
        self.send_counter = 0
        self.send_raw(self.seal_frame(CH_HANDSHAKE, self.pub + sig))
        self.recv_counter = 2

    # -- frames
    def seal_frame(self, channel, payload, length=None):
        """Encrypts one frame with the next send counter; `length` overrides the
        length field in the (encrypted) header, to lie about the size."""
        c = self.send_counter
        self.send_counter += 2
        n = len(payload) if length is None else length
        return seal(self.send_key, c, struct.pack("<BI", channel, n)) + \
            seal(self.send_key, c + 1, payload)

    def send(self, channel, payload):
        with self._wlock:
            frame = self.seal_frame(channel, payload)
            try:
                self.sock.sendall(frame)
            except (ConnectionResetError, BrokenPipeError) as e:
                self.closed.set()
                raise Closed(str(e))

    def send_many(self, channel, payloads):
        """Many frames in one write (a flood)."""
        with self._wlock:
            data = b"".join(self.seal_frame(channel, p) for p in payloads)
            try:
                self.sock.sendall(data)
            except (ConnectionResetError, BrokenPipeError) as e:
                self.closed.set()
                raise Closed(str(e))

    def send_header_only(self, channel, length):
        """A frame header announcing `length` bytes, and no body."""
        with self._wlock:
            c = self.send_counter
            self.send_counter += 2
            self.sock.sendall(seal(self.send_key, c, struct.pack("<BI", channel, length)))

    def recv(self, timeout=None):
        """The next frame as (channel, payload), keep-alives included. Raises
        Closed on EOF/reset and socket.timeout on timeout."""
        self.sock.settimeout(timeout)
        self._fill(HDR_BYTES)
        hdr = open_box(self.recv_key, self.recv_counter, self._rbuf[:HDR_BYTES])
        channel, n = hdr[0], struct.unpack_from("<I", hdr, 1)[0]
        if n > FRAME_PAYLOAD_MAX:
            raise ValueError(f"node announced a {n}-byte frame")
        self._fill(HDR_BYTES + n + TAG)
        body = open_box(self.recv_key, self.recv_counter + 1,
                        self._rbuf[HDR_BYTES:HDR_BYTES + n + TAG])
        self._rbuf = self._rbuf[HDR_BYTES + n + TAG:]
        self.recv_counter += 2
        return channel, body

    def wait_closed(self, timeout):
        """True if the node closes the connection within timeout (frames it sends
        meanwhile are read and dropped)."""
        import time
        end = time.time() + timeout
        while time.time() < end:
            try:
                self.recv(timeout=max(0.05, end - time.time()))
            except Closed:
                return True
            except socket.timeout:
                return False
            except OSError:
                return True
        return False

    def send_status(self, base, height):
        self.send(CH_SYNC, enc_status(base, height))

    def request_block(self, height):
        self.send(CH_SYNC, enc_block_request(height))

    def fetch_block(self, height, timeout=10):
        """Asks the node for block `height`; returns (block, commit) bytes, or None
        if it answered MSG_NO_BLOCK. Other frames meanwhile are dropped."""
        import time
        self.request_block(height)
        end = time.time() + timeout
        while time.time() < end:
            ch, p = self.recv(timeout=max(0.05, end - time.time()))
            if ch != CH_SYNC:
                continue
            m = decode_sync(p)
            if m["kind"] == MSG_BLOCK_RESPONSE and m["height"] == height:
                return m["block"], m["commit"]
            if m["kind"] == MSG_NO_BLOCK and m["height"] == height:
                return None
        raise socket.timeout(f"no answer for block {height}")

    def start_reader(self, on_frame=None):
        """Reads frames on a thread until the connection closes, calling
        on_frame(channel, payload) for each; sets self.closed at the end."""
        def run():
            try:
                while True:
                    ch, p = self.recv(timeout=None)
                    if on_frame:
                        on_frame(ch, p)
            except Exception:  # Closed, reset, bad MAC, socket closed by us
                self.closed.set()
        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.reader = t
        return t

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.closed.set()
