"""The SQLAlchemy store: schema, migrations, search compiler and the store itself."""
