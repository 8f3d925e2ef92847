"""trio-chat: a multi-user chat server and terminal client on Trio."""

from trio_chat.server import ChatServer as ChatServer
from trio_chat.server import Limits as Limits
from trio_chat.server import serve as serve
