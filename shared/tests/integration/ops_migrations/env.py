from alembic import context

from baocao_shared.db import new_metadata, run_migrations_online

run_migrations_online(new_metadata(), context.config.get_main_option("sqlalchemy.url"))
