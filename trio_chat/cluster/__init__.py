"""Broker mode: several servers, one chat, through Redis."""
