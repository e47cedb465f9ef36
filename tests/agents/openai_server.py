"""A real OpenAI-protocol HTTP server on loopback, scripted per test (DESIGN §9: no mocks of the SDK).

It serves POST /v1/chat/completions in the OpenAI JSON shape, with `usage`, and POST /v1/embeddings
(hashing-trick vectors of `embedding_dimensions`). A test queues chat replies with
`script(...)`; each request takes the next one, and `then` answers every request after the queue. Every
request is kept (body and headers) so tests can count them and read what the gateway sent.

Use the `openai_server` fixture (import it into a conftest to make it available to other test folders).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class Reply:
    status: int = 200
    content: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow model)

    @classmethod
    def json(cls, data: Any, *, prompt_tokens: int = 1000, completion_tokens: int = 200, delay: float = 0.0):
        return cls(
            content=json.dumps(data),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            delay=delay,
        )

    @classmethod
    def text(cls, content: str, *, prompt_tokens: int = 1000, completion_tokens: int = 200):
        return cls(content=content, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)

    @classmethod
    def error(cls, status: int, *, headers: dict[str, str] | None = None, delay: float = 0.0):
        return cls(status=status, headers=headers or {}, delay=delay)


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]


class OpenAIServer:
    def __init__(self) -> None:
        self.embedding_dimensions = 16
        self.received: list[Received] = []
        self._replies: deque[Reply] = deque()
        self._then: Reply = Reply.error(500)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="openai-server", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def script(self, *replies: Reply, then: Reply | None = None) -> None:
        with self._lock:
            self._replies.extend(replies)
            if then is not None:
                self._then = then

    def start(self) -> OpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # ends slow replies at once
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.received.append(received)
            return self._replies.popleft() if self._replies else self._then

    def _wait(self, seconds: float) -> bool:
        """Sleep like a slow model; False when the server is stopping meanwhile."""
        return not self._stopping.wait(seconds)


def _handler(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # the tests read `received`; stderr noise helps nobody

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"unparsed": raw.decode(errors="replace")}
            if self.path.rstrip("/") == "/v1/embeddings":
                with server._lock:
                    server.received.append(Received(path=self.path, headers={}, body=body))
                self._send(200, _embeddings(body, server.embedding_dimensions))
                return
            reply = server._next(
                Received(
                    path=self.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                )
            )
            if reply.delay and not server._wait(reply.delay):
                return
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(
                    404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}}
                )
            elif reply.status != 200:
                error_type = {429: "rate_limit_exceeded"}.get(reply.status, "server_error")
                payload = {"error": {"message": f"scripted {reply.status}", "type": error_type, "code": None}}
                self._send(reply.status, payload, reply.headers)
            else:
                self._send(200, _completion(body, reply), reply.headers)

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): exactly what a slow-model test provokes

    return Handler


def _embeddings(body: dict[str, Any], dimensions: int) -> dict[str, Any]:
    """A small real embedding: words hashed into `dimensions` buckets (the hashing trick), so texts
    sharing words are close, and the same text always gets the same vector."""
    texts = body.get("input") or []
    texts = [texts] if isinstance(texts, str) else texts
    data = []
    for index, text in enumerate(texts):
        vector = [0.0] * dimensions
        for word in str(text).lower().split():
            digest = hashlib.sha256(word.strip(".,!?;:").encode()).digest()
            vector[digest[0] % dimensions] += 1.0 if digest[1] % 2 else -1.0
        data.append({"object": "embedding", "index": index, "embedding": vector})
    tokens = sum(len(str(text).split()) for text in texts)
    return {
        "object": "list",
        "data": data,
        "model": body.get("model", ""),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


@pytest.fixture
def openai_server():
    server = OpenAIServer().start()
    yield server
    server.stop()
