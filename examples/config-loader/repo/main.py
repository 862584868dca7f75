"""Entry point of the orders service: prints the database URL it would connect to."""
from app.config_loader import database_url, load_config

# The deployment sets only what differs from the defaults.
DEPLOYMENT_SETTINGS = {"database": "orders", "host": "db.internal"}


def main():
    config = load_config(DEPLOYMENT_SETTINGS)
    print(database_url(config))


if __name__ == "__main__":
    main()
