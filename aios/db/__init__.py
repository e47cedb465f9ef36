"""The PostgreSQL backend of the workspace: Django's, with text cleaned for PostgreSQL at one boundary
(`core.dbtext`). Set as the ENGINE of the default database in `aios.settings`."""
