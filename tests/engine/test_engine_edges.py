"""Engine edges found while testing: refusals where torch's behaviour is meaningless or names would merge."""

import pytest

import symgrad as sg


def test_max_pool_window_wholly_in_padding_is_refused():
    net = sg.Sequential(sg.MaxPool2d(2, stride=(2, 1), padding=(0, 1), dilation=2))
    with pytest.raises(sg.OptionError) as error:
        sg.derive(net, [[1], [2], [3], [4], [5]], sg.MSELoss(), 0)
    assert error.value.option == "dilation" and "layers[0] MaxPool2d" in str(error.value)


@pytest.mark.parametrize("values,option", [
    ([["k_11", 2, 3], [4, 5, 6], [7, 8, 9]], "values"),       # the kernel's own symbol
    ([["sigma_12", 2, 3], [4, 5, 6], [7, 8, 9]], "values"),   # the conv output's name
    ([["S", 2, 3], [4, 5, 6], [7, 8, 9]], "values"),          # the pooled output's name
])
def test_user_symbols_may_not_equal_generated_names(values, option):
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.MaxPool2d(2))
    with pytest.raises(sg.OptionError) as error:
        sg.derive(net, values, sg.MSELoss(), 60)
    assert error.value.where == "input" and error.value.option == option


def test_target_may_not_name_an_intermediate_but_may_share_user_symbols():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False).init(weight=[["a", 2], [1, 5]]), sg.Sum())
    with pytest.raises(sg.OptionError) as error:
        sg.derive(net, [[1, 2, 3], [4, 5, 6], [7, 8, 9]], sg.MSELoss(), "S")
    assert error.value.option == "target"
    # the same user symbol in the input and the kernel is the user's choice, not a clash
    d = sg.derive(net, [["a", 2, 3], [4, 5, 6], [7, 8, 9]], sg.MSELoss(), "t")
    assert {s.name for s in d.free_symbols} == {"a", "t"}


def test_symbolic_kernel_without_values_frees_its_names_once_given():
    given = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False).init(weight=[[3, 2], [1, 5]]), sg.Sum())
    d = sg.derive(given, [["k_11", 2, 3], [4, 5, 6], [7, 8, 9]], sg.MSELoss(), 230)
    assert {s.name for s in d.free_symbols} == {"k_11"}


@pytest.mark.parametrize("layer,option", [
    (lambda: sg.Conv2d(1, 10**8, 2), "out_channels"),
    (lambda: sg.Conv2d(1, 1, 2, padding=10**6), "padding"),
])
def test_tensors_beyond_the_size_limit_are_refused_naming_the_option(layer, option):
    with pytest.raises(sg.OptionError) as error:
        sg.derive(sg.Sequential(layer(), sg.Sum()), [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert error.value.option == option


def test_nesting_deeper_than_a_4d_tensor_is_refused():
    deep = [[[[[1]]]]]
    with pytest.raises(sg.OptionError) as error:
        sg.derive(sg.Sequential(sg.Sum()), deep)
    assert error.value.option == "values"
