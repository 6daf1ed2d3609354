"""A local SimplyMeet API: seeded data, real HTTP, injectable faults and drift.

    from simplymeet.emulator import start_emulator, FaultSpec

    with start_emulator(seed=1, events=2000, faults="500=0.05") as emu:
        ...  # emu.base_url, emu.api_key, emu.store, emu.requests

Paths, DTOs and vocabularies come from `simplymeet.contract`; see docs/emulator.md.
"""

from simplymeet.emulator.drift import DriftSpec
from simplymeet.emulator.faults import FaultSpec
from simplymeet.emulator.running import RunningEmulator, start_emulator
from simplymeet.emulator.server import RequestRecord
from simplymeet.emulator.store import Store

__all__ = ["DriftSpec", "FaultSpec", "RequestRecord", "RunningEmulator", "Store", "start_emulator"]
