"""nkbrief: open the window, or run a headless command (``python main.py --help``)."""

import sys

from ui.launch import main

if __name__ == "__main__":
    sys.exit(main())
