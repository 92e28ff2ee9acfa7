"""A bounded load test on loopback: a real `symgrad serve` (uvicorn, started on a free port), 200
requests, 8 at a time, a mix of good and bad specs. Every request is answered, every answer is the
CLI's (its JSON byte for byte, or its error line), and the server is still alive afterwards. No
timing is asserted (the machine is shared); docs/serve.md gives the measured times."""

from concurrent.futures import ThreadPoolExecutor

import httpx

from paths import ROOT
from serve_support import Server, cli

from symgrad import examples

REQUESTS = 200
AT_ONCE = 8
GOOD = ["conv_max_pool", "conv_sum", "conv_avg_pool", "pool_d2l_k3"]
BAD = ROOT / "tests" / "support" / "bad_specs" / "conv_kernel_larger_than_input.toml"


def test_200_requests_8_at_a_time():
    expected = {name: (200, cli("derive", name, "--format", "json").stdout) for name in GOOD}
    refusal = cli("derive", str(BAD), "--format", "json").stderr.decode().strip()
    bodies = {name: examples.text(name).encode() for name in GOOD}
    bodies["bad"] = BAD.read_bytes()
    order = [(GOOD + ["bad"])[k % (len(GOOD) + 1)] for k in range(REQUESTS)]
    server = Server("--time-limit", "60")
    try:
        def one(name):
            with httpx.Client(base_url=server.url, timeout=300) as client:
                response = client.post("/api/derive", content=bodies[name])
            if name == "bad":
                return response.status_code == 400 and "symgrad: error: " + response.json()["error"] == refusal
            return (response.status_code, response.content) == expected[name]

        with ThreadPoolExecutor(AT_ONCE) as pool:
            results = list(pool.map(one, order))
        assert len(results) == REQUESTS
        assert results.count(True) == REQUESTS, f"{results.count(False)} wrong answers"
        assert server.alive()
        status = httpx.get(server.url + "/api/status", timeout=30).json()
        assert status["jobs_started"] == REQUESTS and status["jobs_killed"] == 0
    finally:
        server.stop()
