"""IRC on the chat's codec seam: the line codec and the server's end of a
connection, without I/O (see docs/irc.md)."""

from trio_chat.protocol.irc.connection import IrcServerConnection as IrcServerConnection
from trio_chat.protocol.irc.connection import SaslPlain as SaslPlain
