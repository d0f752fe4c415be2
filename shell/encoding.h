// Byte-level text encodings the shell's writers share: UTF-8 validity
// (one definition, RFC 3629) and hex.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace netsql::shell {

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF), 0 if there is none.
size_t utf8_length(std::string_view s, size_t i);
// `text` with every byte that is not part of well-formed UTF-8 replaced by
// U+FFFD.
std::string valid_utf8(std::string_view text);
// Appends the bytes as upper-case hex, two digits each (as hex(x) does).
void append_hex(std::string& out, std::string_view bytes);

}  // namespace netsql::shell
