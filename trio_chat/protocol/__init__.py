"""The chat protocol without I/O: events, line framing, and both codecs.

Nothing in this package imports trio; it is tested synchronously.
"""

from trio_chat.protocol import lookups as lookups
from trio_chat.protocol import moderation as moderation
from trio_chat.protocol import notices as notices
from trio_chat.protocol import presence as presence
from trio_chat.protocol.connection import BLANK as BLANK
from trio_chat.protocol.connection import CLOSED as CLOSED
from trio_chat.protocol.connection import NEED_DATA as NEED_DATA
from trio_chat.protocol.connection import BadInput as BadInput
from trio_chat.protocol.connection import ClientConnection as ClientConnection
from trio_chat.protocol.connection import ServerConnection as ServerConnection
from trio_chat.protocol.errors import Code as Code
from trio_chat.protocol.errors import ProtocolError as ProtocolError
