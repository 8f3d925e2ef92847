"""The chat without I/O: a state machine that returns effects (see ``chat.py``).

It imports nothing of the server, the transports or trio; the server's pump
carries out what it returns.
"""

from trio_chat.chat.chat import GHOSTED as GHOSTED
from trio_chat.chat.chat import RECONNECTED as RECONNECTED
from trio_chat.chat.chat import Chat as Chat
from trio_chat.chat.effects import Close as Close
from trio_chat.chat.effects import Deliver as Deliver
from trio_chat.chat.effects import Effect as Effect
from trio_chat.chat.effects import FetchHistory as FetchHistory
from trio_chat.chat.effects import FetchPrivate as FetchPrivate
from trio_chat.chat.effects import PrivateRecord as PrivateRecord
from trio_chat.chat.effects import RoomSettings as RoomSettings
from trio_chat.chat.effects import SaveRoom as SaveRoom
from trio_chat.chat.effects import Stored as Stored
from trio_chat.chat.rooms import Member as Member
from trio_chat.chat.rooms import Room as Room
