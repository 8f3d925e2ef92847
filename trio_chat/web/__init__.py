"""The browser client: its static files, served on ws:// and wss:// listeners."""

from trio_chat.web.pages import Pages as Pages
