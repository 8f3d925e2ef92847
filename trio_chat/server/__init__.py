"""The chat server: the pump, the sessions, and serving listeners."""

from trio_chat.server.chat_server import ChatServer as ChatServer
from trio_chat.server.chat_server import serve as serve
from trio_chat.server.config import Limits as Limits
from trio_chat.server.store import MemoryStore as MemoryStore
from trio_chat.server.store import Store as Store
