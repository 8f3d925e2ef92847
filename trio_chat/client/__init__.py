"""The terminal client: a connection that survives the network, and a thin UI.

``connection`` holds the state machine (connect, register, rejoin, back off),
``commands`` turns typed lines into actions, ``render`` turns events into
formatted text, ``completion`` completes commands and nicknames, and ``ui``
ties them to prompt_toolkit.
"""
