"""Error codes: stable strings that programs can match on.

docs/protocol.md lists each with what causes it.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    LINE_TOO_LONG = "line_too_long"
    BAD_UTF8 = "bad_utf8"
    BAD_JSON = "bad_json"
    BAD_REQUEST = "bad_request"
    UNKNOWN_COMMAND = "unknown_command"
    NICK_TAKEN = "nick_taken"
    NICK_INVALID = "nick_invalid"
    NOT_REGISTERED = "not_registered"
    ALREADY_REGISTERED = "already_registered"
    NO_SUCH_NICK = "no_such_nick"
    ROOM_INVALID = "room_invalid"
    NOT_IN_ROOM = "not_in_room"
    TOO_MANY_ROOMS = "too_many_rooms"
    PASSWORD_REQUIRED = "password_required"
    BAD_PASSWORD = "bad_password"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    NICK_REGISTERED = "nick_registered"
    WEAK_PASSWORD = "weak_password"
    ACCOUNT_REQUIRED = "account_required"
    SERVER_FULL = "server_full"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"
    NOT_OPERATOR = "not_operator"
    BANNED = "banned"
    INVITE_ONLY = "invite_only"
    MODERATED = "moderated"
    NOT_SERVER_OPERATOR = "not_server_operator"


class ProtocolError(Exception):
    """A peer sent something the protocol does not accept.

    ``code`` is what the error event carries; ``message`` says why, for
    people. Each subclass has its usual code; a raise may choose another.
    """

    code: Code = Code.BAD_REQUEST

    def __init__(self, message: str, code: Code | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
