"""`python -m simplymeet.emulator serve …`"""

from simplymeet.emulator.cli import emulator_group

if __name__ == "__main__":
    emulator_group(prog_name="python -m simplymeet.emulator")
