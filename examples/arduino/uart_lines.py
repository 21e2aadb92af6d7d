"""The lines a program sent through the ATmega328P's UART, from simavr's log (its standard
error): simavr colours each line, shows the "\r\n" that Serial.println ends it with as "..", and
adds lines of its own ("Loaded 5508 .text at address 0x0"), which are left out here. Anything
else simavr says (a crash, a bad opcode) is kept, so that a comparison fails on it.

    python3 uart_lines.py simavr.log > lines.txt
"""

import re
import sys

OWN = re.compile(r"^Loaded \d+ \.(text|data|eeprom)( at address 0x[0-9a-f]+)?$")

with open(sys.argv[1], encoding="ascii", errors="replace") as log:
    for raw in log:
        line = re.sub(r"\x1b\[[0-9;]*m", "", raw).rstrip("\n")
        if not line or OWN.match(line):
            continue
        print(line[:-2] if line.endswith("..") else line)
