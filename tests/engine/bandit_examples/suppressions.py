"""Each tool's own way of silencing a line."""

import os

code = input()

eval(code)  # nosec
eval(code)  # nosec B307
exec(code)  # ark: ignore[ARK002]
os.system(code)  # ark: ignore
os.system(code)  # ark: ignore[ARK001] silences another rule only
