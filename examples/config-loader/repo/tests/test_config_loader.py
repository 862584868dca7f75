from app.config_loader import database_url, load_config


def test_overrides_win_over_defaults():
    config = load_config({"host": "db.internal"})
    assert config["host"] == "db.internal"
    assert config["port"] == 5432


def test_url_with_explicit_user():
    config = load_config({"user": "svc", "database": "orders"})
    assert database_url(config) == "postgresql://svc@localhost:5432/orders"
