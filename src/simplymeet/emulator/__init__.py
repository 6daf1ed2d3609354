"""A local SimplyMeet API: seeded data, real HTTP, injectable faults and drift.

    from simplymeet.emulator import start_emulator, FaultSpec

    with start_emulator(seed=1, events=2000, faults="500=0.05") as emu:
        ...  # emu.base_url, emu.api_key, emu.store, emu.requests

Paths, DTOs and vocabularies come from `simplymeet.contract`; see docs/emulator.md.
"""

from typing import TYPE_CHECKING

from simplymeet.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from simplymeet.emulator.drift import DriftSpec
    from simplymeet.emulator.faults import FaultSpec
    from simplymeet.emulator.running import RunningEmulator, start_emulator
    from simplymeet.emulator.server import RequestRecord
    from simplymeet.emulator.store import Store

# numpy and the server load on first use of a name (`simplymeet emulator --help` needs neither).
_EXPORTS = {
    "DriftSpec": "simplymeet.emulator.drift",
    "FaultSpec": "simplymeet.emulator.faults",
    "RunningEmulator": "simplymeet.emulator.running",
    "start_emulator": "simplymeet.emulator.running",
    "RequestRecord": "simplymeet.emulator.server",
    "Store": "simplymeet.emulator.store",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = ["DriftSpec", "FaultSpec", "RequestRecord", "RunningEmulator", "Store", "start_emulator"]
