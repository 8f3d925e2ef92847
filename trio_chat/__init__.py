"""trio-chat: a multi-user chat server, terminal client and bot API on Trio."""

from trio_chat.bot import Bot as Bot
from trio_chat.bot import BotError as BotError
from trio_chat.bot import Refused as Refused
from trio_chat.bot import connect as connect
from trio_chat.protocol.events import Action as Action
from trio_chat.protocol.events import Bye as Bye
from trio_chat.protocol.events import Error as Error
from trio_chat.protocol.events import Event as Event
from trio_chat.protocol.events import History as History
from trio_chat.protocol.events import Joined as Joined
from trio_chat.protocol.events import Left as Left
from trio_chat.protocol.events import Members as Members
from trio_chat.protocol.events import Message as Message
from trio_chat.protocol.events import NickChanged as NickChanged
from trio_chat.protocol.events import Notice as Notice
from trio_chat.protocol.events import Private as Private
from trio_chat.protocol.events import Welcome as Welcome
from trio_chat.server import ChatServer as ChatServer
from trio_chat.server import Limits as Limits
from trio_chat.server import serve as serve
