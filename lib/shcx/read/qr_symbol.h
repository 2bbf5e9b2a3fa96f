// What a QR symbol says about how it was made, from its data codewords: its version (the
// number of data codewords at its error-correction level fixes it, ISO/IEC 18004 table 7)
// and its data segments (mode and length of each, parsed from the bit stream). The
// producer rules (lint.h) hold these against the spec: version 22 at most, two segments.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shcx::qr_symbol {

enum class Mode { Numeric, Alphanumeric, Byte, Kanji, Eci, StructuredAppend, Fnc1, Other };
std::string_view mode_name(Mode mode);  // "numeric", "byte", ...

struct Segment {
    Mode mode = Mode::Other;
    size_t count = 0;  // characters (bytes in byte mode); 0 for ECI, FNC1, structured append
};

struct Reading {
    int version = 0;                               // 1..40; 0 when the codeword count matches no version
    char ec_level = 0;                             // 'L', 'M', 'Q' or 'H'
    std::optional<std::vector<Segment>> segments;  // nullopt when the bit stream does not parse
};

// Data codewords of a symbol of `version` (1..40) at `ec_level`; 0 for anything else.
int data_codewords(int version, char ec_level);

// The version with exactly `count` data codewords at `ec_level`, or 0.
int version_for_codewords(size_t count, char ec_level);

// The segments of the bit stream in `codewords` (data codewords, error correction
// removed) of a symbol of `version`; nullopt when a segment runs past the end.
std::optional<std::vector<Segment>> parse_segments(std::string_view codewords, int version);

// Both, from what a reader returns: data codewords and the EC level ("L", "M", ...).
Reading read(std::string_view codewords, std::string_view ec_level);

}  // namespace shcx::qr_symbol
