"""What decoding untrusted JSON can raise, beyond msgspec's own DecodeError.

msgspec lets invalid UTF-8 inside a string surface as UnicodeDecodeError and deep nesting as
RecursionError. Both are bad input, never a server error: catch ``JSON_INPUT_ERRORS``.
"""

from __future__ import annotations

import msgspec

JSON_INPUT_ERRORS: tuple[type[Exception], ...] = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
