"""The HTTP API of `symgrad serve` (Starlette's TestClient): the CLI's JSON byte for byte, its error
lines, the size and time limits, the hover links against the ops' own index forms, practice and
export."""

import json
import time
from fractions import Fraction

import numpy as np
import pytest

from paths import ROOT
from serve_support import cli

import warnings  # noqa: E402

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its TestClient; httpx (a test extra) still works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient  # noqa: E402

from symgrad import examples  # noqa: E402
from symgrad.serve import limits  # noqa: E402
from symgrad.serve.app import create_app  # noqa: E402

SMALL = ["conv_max_pool", "conv_sum", "conv_avg_pool", "conv_symbolic", "conv_dropout", "avg_pool_backward",
         "pool_d2l_k3", "pool_d2l_pad1_stride2", "pool_d2l_rect", "pool_d2l_two_channels"]
BAD = ["conv_kernel_larger_than_input", "conv_groups_not_dividing", "conv_kernel_size_code",
       "avgpool_padding_beyond_half", "conv_bias_not_boolean"]


@pytest.fixture(scope="module")
def client():
    app = create_app(time_limit=2)
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize("name", SMALL)
def test_derive_is_the_cli_json_byte_for_byte(client, name):
    ours = cli("derive", name, "--format", "json")
    assert ours.returncode == 0, ours.stderr
    response = client.post("/api/derive", content=examples.text(name).encode())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == ours.stdout


def test_the_page_call_holds_the_same_json(client):
    text = examples.text("conv_max_pool").encode()
    plain = client.post("/api/derive", content=text).content
    page = client.post("/api/derive?include=html,explore", content=text)
    assert page.status_code == 200
    data = page.json()
    assert data["derive"] == json.loads(plain)
    assert plain.decode() in page.text  # embedded as the CLI wrote it, not re-serialized
    assert 'class="math display"' in data["html"] and "<script" not in data["html"]
    assert data["derive"]["gradients"]["0.weight"] == [[[[200.0, 240.0], [320.0, 360.0]]]]


@pytest.mark.parametrize("name", BAD)
def test_a_bad_spec_is_a_4xx_with_the_cli_line(client, name):
    path = ROOT / "tests" / "support" / "bad_specs" / f"{name}.toml"
    ours = cli("derive", str(path), "--format", "json")
    assert ours.returncode == 2
    response = client.post("/api/derive", content=path.read_bytes())
    assert response.status_code == 400
    assert ours.stderr.decode().strip() == "symgrad: error: " + response.json()["error"]
    assert "\n" not in response.json()["error"]


def test_unreadable_toml_and_not_utf8(client):
    for body in (b"[input\nvalues = 1", b"\xff\xfe title = 1"):
        ours = cli("derive", "-", "--format", "json", stdin=body)
        response = client.post("/api/derive", content=body)
        assert response.status_code == 400
        assert ours.stderr.decode().strip() == "symgrad: error: " + response.json()["error"]


def test_request_size_limit(client):
    body = b"#" * (limits.MAX_BODY_BYTES + 1)
    response = client.post("/api/derive", content=body)
    assert response.status_code == 413
    assert "over 1,048,576 bytes" in response.json()["error"]
    chunks = (b"#" * 65536 for _ in range(limits.MAX_BODY_BYTES // 65536 + 2))  # no content-length: streamed
    assert client.post("/api/derive", content=chunks).status_code == 413
    assert client.post("/api/derive", content=examples.text("conv_sum").encode()).status_code == 200


def test_a_slow_spec_is_stopped_at_the_time_limit_and_the_server_goes_on(client):
    runner = client.app.state.api.runner
    killed = runner.killed
    start = time.monotonic()
    response = client.post("/api/derive", content=examples.text("lenet").encode())  # ~36 s of work; limit 2 s
    took = time.monotonic() - start
    assert response.status_code == 422
    assert "took longer than 2 s" in response.json()["error"]
    assert took < 15
    assert runner.killed == killed + 1
    assert client.post("/api/derive", content=examples.text("conv_sum").encode()).status_code == 200


def test_unknown_include_and_lang(client):
    text = examples.text("conv_sum").encode()
    assert client.post("/api/derive?include=pictures", content=text).status_code == 400
    assert client.post("/api/derive?lang=fr", content=text).status_code == 400


def test_hover_links_are_the_conv_index_forms(client):
    """dL/dK_{a,b}'s input cells are Conv2d.weight_taps (the op's own index form), each with its delta."""
    spec = examples.text("conv_max_pool").replace("kernel_size = 2\nbias", "kernel_size = 2\npadding = 1\nbias")
    data = client.post("/api/derive?include=explore", content=spec.encode()).json()
    from symgrad import spec as specs

    d = specs.parse(spec).derive()
    conv = d.network.layers[0]
    in_shape = d.tensors.input.shape
    layer = data["explore"]["layers"][0]
    _, _, ho, wo = conv.output_shape(in_shape)
    for a in range(2):
        for b in range(2):
            pairs = layer["grads"]["weight"][a * 2 + b]
            taps = conv.weight_taps(in_shape, a + 1, b + 1)
            assert [x for _, x in pairs] == sorted(h * in_shape[3] + w for h, w in taps)
            for delta, x in pairs:  # delta_{i,j} pairs with X at s(i-1) + d(a-1) - p + 1 (1-based)
                i, j = divmod(delta, wo)
                assert divmod(x, in_shape[3]) == (i + a - 1, j + b - 1)
    pool = data["explore"]["layers"][1]
    sigma = np.asarray(d.tensors.layers[0].output, dtype=object).reshape(-1)
    for window, (cells, _) in enumerate(pool["forward"]):
        values = [sigma[c] for c in cells]
        assert pool["routes"][window] == [cells[values.index(max(values))]]  # the first maximum


@pytest.mark.torch
def test_max_pool_routes_follow_torch_on_ties(client):
    """A tied window: the route is where torch autograd sends the gradient (the first maximum)."""
    import torch

    spec = ('[input]\nvalues = [[5, 5, 1, 7], [2, 5, 7, 7], [0, 3, 3, 3], [3, 3, 1, 2]]\n'
            '[[layers]]\ntype = "MaxPool2d"\nkernel_size = 2\nstride = 1\n[[layers]]\ntype = "Sum"\n')
    layer = client.post("/api/derive?include=explore", content=spec.encode()).json()["explore"]["layers"][0]
    x = torch.tensor([[[[5, 5, 1, 7], [2, 5, 7, 7], [0, 3, 3, 3], [3, 3, 1, 2]]]], dtype=torch.float64)
    for window, route in enumerate(layer["routes"]):
        xx = x.clone().requires_grad_(True)
        torch.nn.functional.max_pool2d(xx, 2, stride=1).reshape(-1)[window].backward()
        assert route == torch.nonzero(xx.grad.reshape(-1)).reshape(-1).tolist()


def test_explore_tensors_are_the_derivation(client):
    data = client.post("/api/derive?include=explore", content=examples.text("conv_max_pool").encode()).json()
    t = data["explore"]["tensors"]
    assert t["grad:0.weight"]["values"] == [200.0, 240.0, 320.0, 360.0]
    assert t["out:0"]["values"] == [36.0, 47.0, 69.0, 80.0] and t["out:1"]["values"] == [80.0]
    assert t["delta:0"]["values"] == [0.0, 0.0, 0.0, 40.0]
    assert t["grad:input"]["values"] == [0.0, 0.0, 0.0, 0.0, 120.0, 80.0, 0.0, 40.0, 200.0]


def test_examples_and_start(client):
    names = [e["name"] for e in client.get("/api/examples").json()]
    assert names == examples.names()
    assert client.get("/api/start").json()["spec"] == examples.text("conv_max_pool")
    assert client.get("/api/examples/conv_sum").text == examples.text("conv_sum")
    assert client.get("/api/examples/nope").status_code == 404


def test_page_and_static_files_and_headers(client):
    page = client.get("/")
    assert page.status_code == 200 and "symgrad" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for path in ("/static/app.js", "/static/util.js", "/static/tensors.js", "/static/toml.js", "/static/practice.js",
                 "/static/style.css", "/static/katex/katex.min.js", "/static/katex/katex.min.css",
                 "/static/katex/fonts/KaTeX_Main-Regular.woff2", "/static/katex/LICENSE"):
        assert client.get(path).status_code == 200, path
    assert client.get("/static/../jobs.py").status_code == 404


def test_weights_files_are_not_read_for_a_posted_spec(client, tmp_path):
    spec = examples.text("conv_sum") + '\n[weights]\nfile = "/etc/passwd"\n'
    response = client.post("/api/derive", content=spec.encode())
    assert response.status_code == 400
    assert response.json()["error"].startswith("weights: file: the server reads no files")


# --- practice ------------------------------------------------------------------------------------

def _right_answers(kind, seed):
    from symgrad.handout.exercises import generate

    problem = generate(1, seed, kinds=[kind])[0]  # `symgrad exercises --kind KIND --seed SEED --count 1`
    assert problem.kind == kind
    answers = {}
    for name, p in problem.derivation.tensors.parameters.items():
        answers[f"grad:{name}"] = [str(v) for v in p.gradient.reshape(-1)]
        if p.updated is not None:
            answers[f"updated:{name}"] = [str(v) for v in p.updated.reshape(-1)]
    if not answers:
        answers["grad:input"] = [str(v) for v in problem.derivation.tensors.input_gradient.reshape(-1)]
    return answers


@pytest.mark.parametrize("kind", ["conv_max_pool", "max_pool_backward"])
def test_practice_grades_right_and_wrong(client, kind):
    problem = client.get(f"/api/practice?kind={kind}&seed=5").json()
    assert problem["kind"] == kind and problem["steps"] and problem["fields"]
    answers = _right_answers(kind, 5)
    assert [f["name"] for f in problem["fields"]] == list(answers)
    graded = client.post("/api/practice/grade", json={"kind": kind, "seed": 5, "answers": answers}).json()
    assert graded["all"] is True
    first = next(iter(answers))
    wrong = {**answers, first: [str(Fraction(answers[first][0]) + 1)] + answers[first][1:]}
    graded = client.post("/api/practice/grade", json={"kind": kind, "seed": 5, "answers": wrong}).json()
    assert graded["all"] is False
    assert graded["fields"][first][0] is False and all(graded["fields"][first][1:])


def test_practice_reads_numbers_only(client):
    answers = _right_answers("conv_avg_pool", 2)
    first = next(iter(answers))
    exact = Fraction(answers[first][0])
    for typed, right in [(f"{float(exact):.2f}", True), (str(exact), True), ("__import__('os')", False),
                         ("1e3", False), ("", None)]:
        entry = {**answers, first: [typed] + answers[first][1:]}
        graded = client.post("/api/practice/grade", json={"kind": "conv_avg_pool", "seed": 2, "answers": entry})
        assert graded.json()["fields"][first][0] is right, typed


def test_practice_refusals(client):
    assert client.get("/api/practice?kind=nope&seed=1").status_code == 400
    assert client.get("/api/practice?kind=conv_sum&seed=-1").status_code == 400
    assert client.post("/api/practice/grade", content=b"{not json").status_code == 400
    kinds = client.get("/api/practice/kinds").json()
    assert "conv_max_pool" in kinds and "pool_shape" not in kinds


# --- export --------------------------------------------------------------------------------------

def test_export_markdown_and_latex_are_the_cli_documents(client):
    text = examples.text("conv_max_pool").encode()
    for fmt, suffix in (("markdown", "md"), ("latex", "tex")):
        response = client.post(f"/api/export/{fmt}", content=text)
        assert response.status_code == 200
        ours = cli("derive", "-", "--format", fmt, "--out", "-", stdin=text)
        assert response.content == ours.stdout
        assert f'filename="derivation.{suffix}"' in response.headers["content-disposition"]


def test_export_errors(client, monkeypatch):
    bad = (ROOT / "tests" / "support" / "bad_specs" / "conv_groups_not_dividing.toml").read_bytes()
    response = client.post("/api/export/markdown", content=bad)
    assert response.status_code == 400
    assert cli("derive", "-", "--format", "markdown", stdin=bad).stderr.decode().strip() == \
        "symgrad: error: " + response.json()["error"]
    assert client.post("/api/export/docx", content=b"").status_code == 404
    from symgrad.serve import api

    monkeypatch.setattr(api.shutil, "which", lambda tool: None)
    response = client.post("/api/export/pdf", content=examples.text("conv_sum").encode())
    assert response.status_code == 422 and "needs latexmk" in response.json()["error"]


def test_export_pdf_with_latexmk(client):
    import shutil

    if shutil.which("latexmk") is None:
        pytest.fail("latexmk is missing (.ci/run installs TeX Live)")
    response = client.post("/api/export/pdf", content=examples.text("conv_sum").encode())
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_links_of_biases_and_linear_come_from_their_index_forms(client):
    spec = ('[input]\nvalues = [[1, 2], [3, 4]]\n'
            '[[layers]]\ntype = "Conv2d"\nin_channels = 1\nout_channels = 1\nkernel_size = 1\n'
            'init.weight = [[2]]\ninit.bias = [1]\n'
            '[[layers]]\ntype = "Flatten"\n'
            '[[layers]]\ntype = "Linear"\nin_features = 4\nout_features = 2\n'
            'init.weight = [[1, 2, 3, 4], [5, 6, 7, 8]]\ninit.bias = [0, 1]\n'
            '[loss]\ntype = "MSELoss"\ntarget = 1\n')
    conv, _, linear = client.post("/api/derive?include=explore", content=spec.encode()).json()["explore"]["layers"]
    assert conv["grads"]["bias"] == [[[k, -1] for k in range(4)]]  # dL/db = the sum of every delta entry
    assert conv["grads"]["weight"] == [[[k, k] for k in range(4)]]  # 1x1 kernel: delta_k * x_k
    assert linear["param_order"] == [["weight", 8], ["bias", 2]]
    for o in range(2):
        for i in range(4):  # dL/dW_{o,i} = delta_o x_i
            assert linear["grads"]["weight"][o * 4 + i] == [[o, i]]
    assert linear["input_links"] == [[[0, i], [1, 4 + i]] for i in range(4)]  # dL/dx_i = sum_o delta_o W_{o,i}
    assert linear["forward"][1] == [[0, 1, 2, 3], [4, 5, 6, 7, 9]]  # y_1 reads x, row 1 of W and b_1


def test_a_slow_spec_does_not_hold_up_a_fast_one():
    """Two worker slots: while lenet runs (until its limit), conv_sum is answered."""
    import threading

    from symgrad.serve.worker import Runner

    with TestClient(create_app(time_limit=8, runner=Runner(slots=2))) as own:
        own.post("/api/derive", content=examples.text("conv_sum").encode())  # the forkserver is up
        slow = {}
        thread = threading.Thread(target=lambda: slow.update(r=own.post("/api/derive",
                                                                         content=examples.text("lenet").encode())))
        thread.start()
        time.sleep(1)
        fast = own.post("/api/derive", content=examples.text("conv_sum").encode())
        assert fast.status_code == 200 and thread.is_alive()  # answered while the slow one still runs
        thread.join()
        assert slow["r"].status_code == 422 and "took longer than 8 s" in slow["r"].json()["error"]


@pytest.mark.torch
def test_check_is_the_cli_check():
    """POST /api/check: symgrad check's rows (its own server: the unmarked tests' workers cannot import torch)."""
    import httpx

    from serve_support import Server

    server = Server()
    try:
        for name in ("conv_max_pool", "conv_symbolic"):
            data = httpx.post(server.url + "/api/check", content=examples.text(name).encode(), timeout=300).json()
            table = cli("check", name).stdout.decode().splitlines()
            quantities = [line.rsplit(None, 2)[0] for line in table if line.endswith(" ok")]
            assert [r["quantity"] for r in data["rows"]] == quantities and data["agree"] is True
            assert all(r["ok"] and r["max_abs_error"] < 1e-9 for r in data["rows"])
            assert data["symbols"] == (0 if name == "conv_max_pool" else 13)
    finally:
        server.stop()


def test_export_in_the_spec_folder_runs_the_servers_symgrad(tmp_path):
    """Started on a SPEC, an export runs in SPEC's folder (for its weights file), and a symgrad/ folder there
    is not imported (python -P); the weights file beside the spec is read, one outside it is refused."""
    (tmp_path / "symgrad").mkdir()
    (tmp_path / "symgrad" / "__init__.py").write_text("raise SystemExit('the wrong symgrad')\n", encoding="utf-8")
    spec = tmp_path / "mine.toml"
    spec.write_text(examples.text("conv_sum"), encoding="utf-8")
    with TestClient(create_app(str(spec), time_limit=20)) as own:
        response = own.post("/api/export/markdown", content=spec.read_bytes())
        assert response.status_code == 200, response.text
        assert response.content == cli("derive", str(spec), "--format", "markdown").stdout
        outside = examples.text("conv_sum") + '\n[weights]\nfile = "../elsewhere.npz"\n'
        refused = own.post("/api/derive", content=outside.encode())
        assert refused.status_code == 400
        assert refused.json()["error"] == ("weights: file: ../elsewhere.npz is outside the folder of the spec "
                                           "the server was started on")
