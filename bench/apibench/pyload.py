"""A small closed-loop HTTP/1.1 load generator, for machines without wrk.

`python pyload.py HOST PORT FILE CONNECTIONS SECONDS` replays the requests of FILE
(workloads.write's format) over CONNECTIONS keep-alive connections for SECONDS and
prints the same JSON line as replay.lua. It runs in its own process, like wrk, but
costs more CPU per request than wrk does, so on a small machine it leaves the server
less of it: its absolute figures are lower, and the ratios, measured the same way for
every server, are what to read. Responses must carry Content-Length (uvicorn's do).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apibench.workloads import read  # noqa: E402


async def connection(host: str, port: int, requests: list[bytes], state: dict, deadline: float,
                     latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            request = requests[state["next"] % len(requests)]
            state["next"] += 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not 200 <= int(head[9:12]) < 400:
                state["non_2xx"] += 1
    except (OSError, asyncio.IncompleteReadError):
        state["errors"] += 1
    finally:
        writer.close()


async def main(host: str, port: int, path: Path, connections: int, seconds: float) -> dict:
    requests = read(path)
    state = {"next": 0, "errors": 0, "non_2xx": 0}
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(connection(host, port, requests, state, deadline, latencies)
                           for _ in range(connections)))
    duration = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1e6) if latencies else 0

    return {"requests": len(latencies), "duration_us": int(duration * 1e6), "p50_us": percentile(50),
            "p99_us": percentile(99), "errors": state["errors"], "non_2xx": state["non_2xx"]}


if __name__ == "__main__":
    host, port, file, count, seconds = sys.argv[1:6]
    print(json.dumps(asyncio.run(main(host, int(port), Path(file), int(count), float(seconds)))))
