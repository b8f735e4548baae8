"""Attack: print (and raise) text that the programs reading the report would obey: GitHub
workflow commands, terminal escapes, the end of an XML CDATA section, Markdown."""

import numpy as np

PAYLOAD = ("::add-mask::hide the grade\n"
           "  ::stop-commands::pause\r::warning file=x.py::all good\n"
           "##[error]old-style command\n"
           "\x1b[2J\x1b[31mred\x1b[0m \x1b]8;;https://example.invalid\x07link\x1b]8;;\x07\n"
           "]]><injected/><![CDATA[\n"
           "![pixel](https://example.invalid/p.png) | cell | <b>bold</b>\n")


def grad_sigmoid(x, dz):
    print(PAYLOAD)
    raise ValueError(PAYLOAD)
