"""Loads the service configuration: built-in defaults overlaid with the deployment's settings."""

DEFAULTS = {
    "host": "localhost",
    "port": 5432,
    "pool_size": 5,
}


def load_config(overrides):
    """Return the effective configuration: DEFAULTS, then the deployment's overrides."""
    config = dict(DEFAULTS)
    config.update(overrides)
    return config


def database_url(config):
    """The connection URL for the orders database."""
    user = config["user"]
    return f"postgresql://{user}@{config['host']}:{config['port']}/{config['database']}"
