"""``trio-chat admin``: accounts, server bans and backups, in the server's database."""
