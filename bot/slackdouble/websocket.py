"""The server end of RFC 6455 WebSockets, on connections that the double's HTTP server accepted.

It covers what Socket Mode clients use: the opening handshake, text, ping, pong and close
frames, and fragmented messages. It has no extensions (no permessage-deflate) and no TLS, so
its URLs are ws:// ones.
"""

import base64
import binascii
import hashlib
import io
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler

# RFC 6455 section 1.3: the GUID that the server appends to Sec-WebSocket-Key before hashing.
HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OPCODE_CONTINUATION = 0x0
OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
OPCODE_CLOSE = 0x8
OPCODE_PING = 0x9
OPCODE_PONG = 0xA

# Close codes from RFC 6455 section 7.4.1.
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_DATA = 1007
CLOSE_MESSAGE_TOO_BIG = 1009

# The double's own limit on one message, far above the size of a Socket Mode ack.
MAX_MESSAGE_BYTES = 1 << 20


class ProtocolError(Exception):
    """A peer broke RFC 6455. `code` is the close code to send it."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class ConnectionClosed(Exception):
    """The peer closed the TCP connection, or sent a close frame."""


def handshake_problem(handler: BaseHTTPRequestHandler) -> tuple[int, str] | None:
    """Return the HTTP status and reason that reject an opening handshake, or None if valid.

    The checks are those of RFC 6455 section 4.2.1. An unsupported version gets 426.
    """
    headers = handler.headers
    if handler.command != "GET":
        return 405, f"the method is {handler.command}, expected GET"
    if (headers.get("Upgrade") or "").strip().lower() != "websocket":
        return 400, "the Upgrade header is not websocket"
    connection = {token.strip().lower() for token in (headers.get("Connection") or "").split(",")}
    if "upgrade" not in connection:
        return 400, "the Connection header does not contain Upgrade"
    if (headers.get("Sec-WebSocket-Version") or "").strip() != "13":
        return 426, "Sec-WebSocket-Version is not 13"
    try:
        key = base64.b64decode(headers.get("Sec-WebSocket-Key") or "", validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 16:
        return 400, "Sec-WebSocket-Key is not 16 bytes in base64"
    return None


def accept_key(key: str) -> str:
    """Return the Sec-WebSocket-Accept value for a Sec-WebSocket-Key."""
    digest = hashlib.sha1((key.strip() + HANDSHAKE_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def reject_handshake(handler: BaseHTTPRequestHandler, status: int, text: str) -> None:
    """Respond to an upgrade request with an HTTP error instead of switching protocols."""
    body = text.encode("utf-8")
    handler.send_response(status)
    if status == 426:
        handler.send_header("Sec-WebSocket-Version", "13")
    handler.send_header("Content-Type", "text/plain; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body)


def accept_handshake(handler: BaseHTTPRequestHandler) -> "WebSocket":
    """Switch the handler's connection to the WebSocket protocol and return its server end."""
    handler.send_response(101)
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept_key(handler.headers["Sec-WebSocket-Key"]))
    handler.end_headers()
    # Read frames through the handler's buffered reader, because it may already contain bytes
    # that the client sent right after its handshake.
    return WebSocket(handler.rfile, handler.connection)


class WebSocket:
    """The server end of one WebSocket. Any thread may send, but only one may call receive()."""

    def __init__(self, reader: io.BufferedIOBase, sock: socket.socket) -> None:
        self._reader = reader
        self._socket = sock
        self._send_lock = threading.Lock()
        self._close_sent = False

    def send_text(self, text: str) -> None:
        """Send one text message. Raises ConnectionClosed once a close frame was sent."""
        self._send_frame(OPCODE_TEXT, text.encode("utf-8"))

    def send_close(self, code: int, reason: str = "") -> None:
        """Send a close frame, once. Errors are ignored, because the peer may be gone already."""
        try:
            self._send_frame(OPCODE_CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))
        except (ConnectionClosed, OSError):
            pass

    def shutdown(self) -> None:
        """Close the TCP connection, which also ends a receive() blocked in another thread."""
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._socket.close()

    def receive(self) -> str | bytes:
        """Return the next data message: text as str, binary as bytes.

        Replies to a ping with a pong and to a close frame with a close frame on the way.
        Raises ConnectionClosed when the peer closes, and ProtocolError for a frame that breaks
        RFC 6455.
        """
        message_opcode: int | None = None
        fragments: list[bytes] = []
        size = 0
        while True:
            fin, opcode, payload = self._read_frame()
            if opcode == OPCODE_PING:
                self._send_frame(OPCODE_PONG, payload)
                continue
            if opcode == OPCODE_PONG:
                continue
            if opcode == OPCODE_CLOSE:
                # Echo the peer's status code, as RFC 6455 section 5.5.1 recommends.
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else CLOSE_NORMAL
                self.send_close(code)
                raise ConnectionClosed(f"close frame with code {code}")

            if opcode == OPCODE_CONTINUATION:
                if message_opcode is None:
                    raise ProtocolError(CLOSE_PROTOCOL_ERROR, "continuation frame with no message")
            elif opcode in (OPCODE_TEXT, OPCODE_BINARY):
                if message_opcode is not None:
                    raise ProtocolError(CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one")
                message_opcode = opcode
            else:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")

            size += len(payload)
            if size > MAX_MESSAGE_BYTES:
                raise ProtocolError(
                    CLOSE_MESSAGE_TOO_BIG, f"message over {MAX_MESSAGE_BYTES} bytes"
                )
            fragments.append(payload)
            if fin:
                break

        data = b"".join(fragments)
        if message_opcode == OPCODE_BINARY:
            return data
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ProtocolError(CLOSE_INVALID_DATA, "text message is not UTF-8") from error

    def _read_frame(self) -> tuple[bool, int, bytes]:
        first, second = self._read(2)
        if first & 0x70:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "reserved bits set with no extension agreed")
        fin = bool(first & 0x80)
        opcode = first & 0x0F
        # RFC 6455 section 5.1: a server must close the connection on an unmasked client frame.
        if not second & 0x80:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "client frame is not masked")
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        if opcode >= OPCODE_CLOSE and (length > 125 or not fin):
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "control frame is fragmented or too long")
        if length > MAX_MESSAGE_BYTES:
            raise ProtocolError(CLOSE_MESSAGE_TOO_BIG, f"frame over {MAX_MESSAGE_BYTES} bytes")
        mask = self._read(4)
        return fin, opcode, unmask(self._read(length), mask)

    def _read(self, count: int) -> bytes:
        try:
            data = self._reader.read(count) if count else b""
        except OSError as error:
            raise ConnectionClosed(str(error)) from error
        if len(data) < count:
            raise ConnectionClosed("the peer closed the connection")
        return data

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        # Server frames are never masked (RFC 6455 section 5.1), and each is final.
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
        with self._send_lock:
            if self._close_sent:
                raise ConnectionClosed("a close frame was already sent")
            if opcode == OPCODE_CLOSE:
                self._close_sent = True
            try:
                self._socket.sendall(header + payload)
            except OSError as error:
                raise ConnectionClosed(str(error)) from error


def unmask(data: bytes, mask: bytes) -> bytes:
    """XOR data with the repeated 4-byte masking key (RFC 6455 section 5.3)."""
    if not data:
        return data
    key = (mask * (len(data) // 4 + 1))[: len(data)]
    masked = int.from_bytes(data, "big") ^ int.from_bytes(key, "big")
    return masked.to_bytes(len(data), "big")
