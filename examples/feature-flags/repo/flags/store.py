"""Feature flags stored as a bit string per tenant ("101"), one bit per name in FLAG_NAMES."""
from bitarray import bitarray

FLAG_NAMES = ["new_checkout", "dark_mode", "beta_search"]


def load(bits):
    """A tenant's stored flags."""
    return bitarray(bits)


def is_enabled(flags, name):
    """Whether the flag is on for the tenant."""
    return bool(flags[FLAG_NAMES.index(name)])


def enabled_names(flags):
    return [name for name in FLAG_NAMES if is_enabled(flags, name)]
