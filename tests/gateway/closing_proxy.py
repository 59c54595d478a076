"""A TCP proxy in front of a real upstream that closes its first connection once the request
has arrived, without answering: how a kept-alive connection the upstream has just closed looks
to the gateway (llama.cpp's server closes one after a few requests; under load the gateway
can write a request into it before it hears of the close).  Every later connection is piped
both ways, byte for byte.  A threading TCP server on a free port.
"""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading

from tests.support.processes import free_port


class ClosingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.connections = 0
        """Connections accepted so far (the first one closed unanswered)."""
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy.serve(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def serve(self, client: socket.socket) -> None:
        with self._lock:
            self.connections += 1
            first = self.connections == 1
        if first:
            received = b""
            while b"\r\n\r\n" not in received and (chunk := client.recv(65536)):
                received += chunk
            return  # the request is in: the server closes the socket, unanswered
        with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
            pumps = selectors.DefaultSelector()
            pumps.register(client, selectors.EVENT_READ, upstream)
            pumps.register(upstream, selectors.EVENT_READ, client)
            with pumps:
                while True:
                    for key, _ in pumps.select():
                        chunk = key.fileobj.recv(65536)  # type: ignore[union-attr]
                        if not chunk:
                            return
                        key.data.sendall(chunk)

    def start(self) -> ClosingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=30)
