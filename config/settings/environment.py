"""What every settings module reads from: the process environment, then `.env` beside manage.py.

Values already in the environment win over `.env`. Reading them starts nothing: on a development
checkout, `manage.py` puts the embedded server's DATABASE_URL there first (config/devstack/database.py).
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
