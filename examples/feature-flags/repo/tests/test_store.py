from flags.store import enabled_names, is_enabled, load


def test_flag_on():
    assert is_enabled(load("110"), "dark_mode")


def test_flag_off():
    assert not is_enabled(load("100"), "beta_search")


def test_enabled_names():
    assert enabled_names(load("101")) == ["new_checkout", "beta_search"]
