"""The page in a real browser: Debian's headless chromium, driven by selenium through chromedriver,
against a real `symgrad serve` on a free loopback port. The screenshots go to docs/serve-*.png."""

import json

import pytest

from serve_support import DOCS, Server, browser, close, screenshot, wait

from symgrad import examples
from symgrad import spec as specs


@pytest.fixture(scope="module")
def server():
    running = Server("--time-limit", "20")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def driver():
    chromium = browser()
    yield chromium
    close(chromium)


def css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def cells(driver, tensor):
    return css(driver, f'#tensors td[data-t="{tensor}"]')


def hover(driver, element):
    from selenium.webdriver import ActionChains

    ActionChains(driver).move_to_element(element).perform()


def derived(driver) -> int:
    return int(driver.execute_script("return document.body.dataset.derived || 0"))


def open_page(driver, server, query=""):
    driver.get_log("browser")  # drained: the tests share one browser, and the bad-spec test's 400 is expected there
    driver.get(server.url + "/" + query)
    wait(lambda: driver.execute_script("return document.body.dataset.ready"), what="the first derivation")


def test_the_seed_example_renders_with_katex(server, driver):
    open_page(driver, server)
    assert len(css(driver, "#derivation .katex")) > 20
    assert not css(driver, ".katex-error")
    assert [c.text for c in cells(driver, "grad:0.weight")] == ["200", "240", "320", "360"]
    text = css(driver, "#derivation")[0].text
    for number in ("200", "240", "320", "360"):
        assert number in text
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    screenshot(driver, "explore")


def test_hovering_dL_dK_lights_its_input_cells_and_deltas(server, driver):
    open_page(driver, server)
    hover(driver, cells(driver, "grad:0.weight")[3])  # dL/dK_22 = sum_ij delta_ij x_{i+1, j+1}
    lit = wait(lambda: css(driver, "#tensors td.hl-input"), what="highlighted input cells")
    assert sorted((c.get_attribute("data-t"), int(c.get_attribute("data-i"))) for c in lit) == \
        [("input", 4), ("input", 5), ("input", 7), ("input", 8)]
    deltas = css(driver, "#tensors td.hl-delta")
    assert sorted(int(c.get_attribute("data-i")) for c in deltas) == [0, 1, 2, 3]
    assert {c.get_attribute("data-t") for c in deltas} == {"delta:0"}
    formula = css(driver, "#formula")[0]
    assert formula.find_elements("css selector", ".katex") and "360" in formula.text
    line = wait(lambda: css(driver, "#derivation .hl-line"), what="the highlighted derivation line")
    assert {p.get_attribute("data-entry") for p in line} == {"grad:0.weight@3"}  # both sides of its &=
    assert len(line) == 2 and "360" in line[1].text and all(p.is_displayed() for p in line)
    article = css(driver, "#derivation")[0].rect
    assert article["y"] <= line[1].rect["y"] <= article["y"] + article["height"]  # scrolled into the derivation's view
    assert len(css(driver, "#derivation svg.figure")) == 2
    assert len(css(driver, "#derivation table")) == 1  # the layer table only: the figures are no tables now
    assert len(css(driver, "#derivation svg.figure rect.cell")) == 4 + 9  # sigma (2 x 2) and X (3 x 3)
    assert not css(driver, ".katex-error")
    screenshot(driver, "hover")
    driver.execute_script("window.scrollTo(0, document.getElementById('derivation').getBoundingClientRect().top"
                          " + window.scrollY - 380)")
    screenshot(driver, "line")
    driver.execute_script("const box = document.getElementById('derivation');"
                          "const f = box.querySelectorAll('svg.figure')[1];"  # the conv figure: the taps of dL/dK_11
                          "box.scrollTop += f.getBoundingClientRect().top - box.getBoundingClientRect().top - 420;")
    screenshot(driver, "figure")
    driver.execute_script("window.scrollTo(0, 0)")
    hover(driver, cells(driver, "out:1")[0])  # the pooled entry: its window and its first maximum
    window = wait(lambda: css(driver, "#tensors td.hl-window"), what="the pooling window")
    assert sorted(int(c.get_attribute("data-i")) for c in window) == [0, 1, 2, 3]
    routes = {(c.get_attribute("data-t"), int(c.get_attribute("data-i"))) for c in css(driver, "#tensors td.hl-route")}
    assert routes == {("out:0", 3), ("delta:0", 3)}  # 80 is sigma_22: the gradient goes there
    screenshot(driver, "pool")


def test_hovering_a_bias_gradient_lights_every_delta(server, driver):
    open_page(driver, server)
    spec = examples.text("conv_max_pool").replace("bias = false\ninit.weight = [[3,2],[1,5]]",
                                                  "bias = true\ninit.weight = [[3,2],[1,5]]\ninit.bias = [1]")
    before = derived(driver)
    driver.execute_script("const a = document.getElementById('spec'); a.value = arguments[0];"
                          "a.dispatchEvent(new Event('input'));", spec)
    wait(lambda: derived(driver) > before, what="the derivation with a bias")
    hover(driver, cells(driver, "grad:0.bias")[0])
    lit = wait(lambda: css(driver, "#tensors td.hl-delta"), what="the deltas of dL/db")
    assert sorted(int(c.get_attribute("data-i")) for c in lit) == [0, 1, 2, 3]
    assert not css(driver, "#tensors td.hl-input")
    assert css(driver, "#formula .katex") and not css(driver, ".katex-error")


def test_editing_a_kernel_entry_changes_the_gradient(server, driver):
    from selenium.webdriver.common.keys import Keys

    open_page(driver, server)
    before = derived(driver)
    entry = css(driver, '#number-grids .tensor[data-tensor="0.weight"] input')[3]  # K_22 = 5
    entry.clear()
    entry.send_keys("7", Keys.TAB)
    wait(lambda: derived(driver) > before, what="the derivation after the edit")
    spec = driver.execute_script("return document.getElementById('spec').value")
    assert "init.weight = [[3, 2], [1, 7]]" in spec
    d = specs.parse(spec).derive()
    expected = [str(v) for v in d.tensors.parameters["0.weight"].gradient.reshape(-1)]
    assert [c.text for c in cells(driver, "grad:0.weight")] == expected
    assert expected != ["200", "240", "320", "360"]
    assert not css(driver, ".katex-error")


def test_a_layer_option_field_edits_the_spec(server, driver):
    from selenium.webdriver.common.keys import Keys

    open_page(driver, server)
    before = derived(driver)
    field = css(driver, '#layer-fields input[data-layer="1"][data-key="kernel_size"]')[0]
    field.clear()
    field.send_keys("1", Keys.TAB)
    wait(lambda: derived(driver) > before, what="the derivation after the option edit")
    assert len(cells(driver, "out:1")) == 4  # MaxPool2d(1): sigma itself


def test_a_bad_spec_shows_its_line_and_keeps_the_last_derivation(server, driver):
    open_page(driver, server)
    bad = examples.text("conv_max_pool").replace("kernel_size = 2\nbias", "kernel_size = 5\nbias")
    failed = int(driver.execute_script("return document.body.dataset.failed || 0"))
    driver.execute_script("const a = document.getElementById('spec'); a.value = arguments[0];"
                          "a.dispatchEvent(new Event('input'));", bad)
    wait(lambda: int(driver.execute_script("return document.body.dataset.failed || 0")) > failed,
         what="the error")
    error = css(driver, "#error")[0]
    assert error.is_displayed()
    try:
        specs.parse(bad).derive()
    except Exception as refusal:  # the CLI's line, after "symgrad: error: "
        assert error.text == str(refusal)
    else:
        pytest.fail("the bad spec derived")
    assert [c.text for c in cells(driver, "grad:0.weight")] == ["200", "240", "320", "360"]
    assert "360" in css(driver, "#derivation")[0].text
    screenshot(driver, "error")


def test_a_padded_max_pool_figure_is_svg_with_its_ring_and_windows(server, driver):
    from selenium.webdriver.support.ui import Select

    open_page(driver, server)
    before = derived(driver)
    Select(css(driver, "#example")[0]).select_by_value("pool_d2l_pad1_stride2")
    css(driver, "#load-example")[0].click()
    wait(lambda: derived(driver) > before, what="the padded pooling example")
    figure = css(driver, "#derivation svg.figure")
    assert len(figure) == 1 and figure[0].is_displayed()
    assert len(css(driver, "#derivation svg.figure rect.cell")) == 16
    assert len(css(driver, "#derivation svg.figure rect.pad")) == 6 * 6 - 16  # padding 1 around 4 x 4
    assert len(css(driver, "#derivation svg.figure rect.window")) == 4  # 2 x 2 windows, each outlined
    assert len(css(driver, "#derivation svg.figure rect.mark")) == 4  # 5, 7, 13, 15: each window's maximum
    assert not css(driver, ".katex-error")
    hover(driver, cells(driver, "out:0")[3])  # S_22 (dL/dX is one matrix here, no line per entry): its line
    line = wait(lambda: css(driver, "#derivation .hl-line"), what="the line of S_22")
    assert {p.get_attribute("data-entry") for p in line} == {"out:0@3"} and "15" in line[-1].text
    shot = css(driver, "#derivation figure.grid-figure")[0]  # the figure and its caption alone
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", shot)
    shot.screenshot(str(DOCS / "serve-figure-pool.png"))
    driver.execute_script("window.scrollTo(0, 0)")


@pytest.mark.parametrize("name", ["conv_adam_steps", "conv_symbolic", "conv_dropout", "pool_d2l_two_channels",
                                  "conv_sum"])
def test_marked_lines_and_figures_render_in_other_examples(server, driver, name):
    from selenium.webdriver.support.ui import Select

    open_page(driver, server)
    before = derived(driver)
    Select(css(driver, "#example")[0]).select_by_value(name)
    css(driver, "#load-example")[0].click()
    wait(lambda: derived(driver) > before, what=f"the derivation of {name}")
    assert css(driver, "#derivation .katex") and not css(driver, ".katex-error")
    assert css(driver, "#derivation [data-entry]")  # \htmlData rendered (trusted), not shown as an error
    assert "htmlData" not in css(driver, "#derivation")[0].text
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_chinese_derivation(server, driver):
    from selenium.webdriver.support.ui import Select

    open_page(driver, server)
    before = derived(driver)
    Select(css(driver, "#lang")[0]).select_by_value("zh")
    wait(lambda: derived(driver) > before, what="the Chinese derivation")
    text = css(driver, "#derivation")[0].text
    assert "设定" in text and "360" in text
    assert css(driver, "#derivation .katex") and not css(driver, ".katex-error")
    Select(css(driver, "#lang")[0]).select_by_value("en")


def test_practice_right_and_wrong(server, driver):
    from symgrad.handout.exercises import generate

    open_page(driver, server, "?practice=conv_max_pool&seed=7")
    wait(lambda: driver.execute_script("return document.body.dataset.practice") == "conv_max_pool:7",
         what="the practice problem")
    problem = generate(1, 7, kinds=["conv_max_pool"])[0]
    params = problem.derivation.tensors.parameters["0.weight"]
    right = {"grad:0.weight": params.gradient, "updated:0.weight": params.updated}
    assert not css(driver, ".katex-error") and css(driver, "#practice-prompt .katex")
    for name, values in right.items():
        boxes = css(driver, f'#practice-fields .tensor[data-field="{name}"] input')
        for box, value in zip(boxes, values.reshape(-1)):
            box.clear()
            box.send_keys(str(value))
    css(driver, "#practice-check")[0].click()
    verdict = wait(lambda: css(driver, "#practice-verdict")[0].text, what="the verdict")
    assert verdict.startswith("All 8 entries are right")
    box = css(driver, '#practice-fields .tensor[data-field="grad:0.weight"] input')[0]
    box.clear()
    box.send_keys("12345")
    css(driver, "#practice-check")[0].click()
    wait(lambda: css(driver, "#practice-fields td.wrong"), what="the wrong entry marked")
    assert len(css(driver, "#practice-fields td.wrong")) == 1
    assert len(css(driver, "#practice-fields td.right")) == 7
    assert "7 of 8 entries are right" in css(driver, "#practice-verdict")[0].text
    for _ in range(2):
        css(driver, "#practice-step")[0].click()
    wait(lambda: len(css(driver, "#practice-solution .step")) == 2, what="two solution steps")
    assert css(driver, "#practice-solution .katex") and not css(driver, ".katex-error")
    screenshot(driver, "practice")


@pytest.mark.torch
def test_check_with_pytorch_button():
    running = Server()  # its own server: the unmarked tests' processes cannot import torch
    chromium = browser()
    try:
        open_page(chromium, running)
        css(chromium, "#check-torch")[0].click()
        rows = wait(lambda: css(chromium, "#check-result tr.ok"), 120, "the agreement table")
        assert len(rows) >= 3 and not css(chromium, "#check-result tr.bad")
        assert "agree with torch autograd" in css(chromium, "#check-note")[0].text
        screenshot(chromium, "check")
    finally:
        close(chromium)
        running.stop()
