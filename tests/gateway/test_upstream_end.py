"""The upstream client knows when a streamed body has ended as soon as the read that brought
its last bytes is in (what lets the relay send the client's last events and the end of the
body in one write), and not before: against a real socket, chunk by chunk."""

from __future__ import annotations

import asyncio

from computeport.gateway.upstream import UpstreamClient


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def test_the_end_of_a_streamed_body_is_known_with_its_last_bytes() -> None:
    async def run() -> None:
        go_on = asyncio.Event()

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(2)  # the body: {}
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n" + _chunk(b"data: first\n\n")
            )
            await writer.drain()
            await go_on.wait()  # the client has read the first event
            writer.write(_chunk(b"data: last\n\n") + b"0\r\n\r\n")  # last event and end, at once
            await writer.drain()
            await reader.read()  # until the client lets the connection go
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = UpstreamClient(read_timeout=10)
        try:
            response = await client.post(f"http://127.0.0.1:{port}/v1/chat", b"{}", {})
            seen: list[tuple[bytes, bool]] = []
            async for chunk in response.chunks():
                seen.append((chunk, response.ended()))
                go_on.set()
            response.close()
            assert seen == [(b"data: first\n\n", False), (b"data: last\n\n", True)]
        finally:
            await client.close()
            server.close()
            await server.wait_closed()

    asyncio.run(run())
