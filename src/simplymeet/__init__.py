"""SimplyMeet.me to warehouse: sync, models, write-back, reporting and a local emulator."""

__version__ = "0.1.0"
