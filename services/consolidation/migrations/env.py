from alembic import context

from baocao_shared.db import run_migrations_online
from consolidation.adapters.orm import metadata

run_migrations_online(metadata, context.config.get_main_option("sqlalchemy.url"))
