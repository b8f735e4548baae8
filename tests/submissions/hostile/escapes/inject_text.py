"""Attack: print and raise text that CI would obey: workflow commands, terminal escapes, the end
of an XML CDATA section."""

TARGETS = {}  # the test writes its token, listener, folders and time limit here

PAYLOAD = ("::add-mask::hide the grade\n  ::stop-commands::pause\r::error::fake\n"
           "##[error]old style\n\x1b[2J\x1b]8;;https://example.invalid\x07link\x1b]8;;\x07\n"
           "]]><injected/>\n")


def grad_sigmoid(x, dz):
    print(PAYLOAD)
    raise ValueError(PAYLOAD)
