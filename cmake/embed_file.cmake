# Turns a binary file into a C++ source defining a byte array, so the agent carries the
# watcher's .beam inside its own binary. Called with -DINPUT= -DOUTPUT= -DSYMBOL=.
file(READ ${INPUT} _hex HEX)
string(LENGTH "${_hex}" _len)
math(EXPR _size "${_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" _bytes "${_bytes}")
file(WRITE ${OUTPUT}
"// Generated from ${INPUT} by cmake/embed_file.cmake; do not edit.
#include <cstddef>
#include <cstdint>
extern const std::uint8_t ${SYMBOL}[];
extern const std::size_t ${SYMBOL}_size;
const std::uint8_t ${SYMBOL}[] = {
${_bytes}
};
const std::size_t ${SYMBOL}_size = ${_size};
")
