"""The terminal client: a connection that survives the network, and a thin UI.

``connection`` runs the connection (connect, register, rejoin, back off) and
composes pieces that do no I/O: ``handshake`` (hello until welcomed),
``mirror`` (rooms, members, nickname), ``gaps`` (sequence numbers and gap
repair), ``pending`` (lines typed offline), ``servers`` (which server to try
next), ``backoff`` and ``paste`` (pacing a pasted block). ``shown`` is what
goes to the screen, ``commands`` turns typed lines into actions, ``render``
turns events into formatted text, ``completion`` completes commands, rooms
and nicknames, ``config`` reads the settings file under the command line, and
``ui`` ties them to prompt_toolkit.
"""
