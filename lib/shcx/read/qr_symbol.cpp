#include "shcx/read/qr_symbol.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace shcx::qr_symbol {
namespace {

// ISO/IEC 18004 table 7: data codewords per version (1..40) for EC levels L, M, Q, H.
// tests/unit/test_qr_symbol.cpp checks every entry against libqrencode's capacities.
constexpr int kDataCodewords[40][4] = {
    {19, 16, 13, 9},          {34, 28, 22, 16},         {55, 44, 34, 26},         {80, 64, 48, 36},
    {108, 86, 62, 46},        {136, 108, 76, 60},       {156, 124, 88, 66},       {194, 154, 110, 86},
    {232, 182, 132, 100},     {274, 216, 154, 122},     {324, 254, 180, 140},     {370, 290, 206, 158},
    {428, 334, 244, 180},     {461, 365, 261, 197},     {523, 415, 295, 223},     {589, 453, 325, 253},
    {647, 507, 367, 283},     {721, 563, 397, 313},     {795, 627, 445, 341},     {861, 669, 485, 385},
    {932, 714, 512, 406},     {1006, 782, 568, 442},    {1094, 860, 614, 464},    {1174, 914, 664, 514},
    {1276, 1000, 718, 538},   {1370, 1062, 754, 596},   {1468, 1128, 808, 628},   {1531, 1193, 871, 661},
    {1631, 1267, 911, 701},   {1735, 1373, 985, 745},   {1843, 1455, 1033, 793},  {1955, 1541, 1115, 845},
    {2071, 1631, 1171, 901},  {2191, 1725, 1231, 961},  {2306, 1812, 1286, 986},  {2434, 1914, 1354, 1054},
    {2566, 1992, 1426, 1096}, {2702, 2102, 1502, 1142}, {2812, 2216, 1582, 1222}, {2956, 2334, 1666, 1276}};

int level_index(char ec_level) {
    switch (ec_level) {
        case 'L': return 0;
        case 'M': return 1;
        case 'Q': return 2;
        case 'H': return 3;
        default: return -1;
    }
}

class Bits {
public:
    explicit Bits(std::string_view bytes) : m_bytes(bytes) {}
    size_t left() const { return m_bytes.size() * 8 - m_pos; }
    // Reads n <= 24 bits, most significant first; the caller checks left() first.
    uint32_t read(size_t n) {
        uint32_t v = 0;
        for (size_t i = 0; i < n; ++i, ++m_pos) {
            auto byte = static_cast<unsigned char>(m_bytes[m_pos / 8]);
            v = (v << 1) | ((byte >> (7 - m_pos % 8)) & 1u);
        }
        return v;
    }

private:
    std::string_view m_bytes;
    size_t m_pos = 0;
};

// Character-count indicator width (ISO/IEC 18004 table 3) by version range.
size_t count_bits(Mode mode, int version) {
    int range = version <= 9 ? 0 : version <= 26 ? 1 : 2;
    switch (mode) {
        case Mode::Numeric: return std::array<size_t, 3>{10, 12, 14}[range];
        case Mode::Alphanumeric: return std::array<size_t, 3>{9, 11, 13}[range];
        case Mode::Byte: return std::array<size_t, 3>{8, 16, 16}[range];
        case Mode::Kanji: return std::array<size_t, 3>{8, 10, 12}[range];
        default: return 0;
    }
}

size_t data_bits(Mode mode, size_t count) {
    switch (mode) {
        case Mode::Numeric: return count / 3 * 10 + (count % 3 == 1 ? 4 : count % 3 == 2 ? 7 : 0);
        case Mode::Alphanumeric: return count / 2 * 11 + count % 2 * 6;
        case Mode::Byte: return count * 8;
        case Mode::Kanji: return count * 13;
        default: return 0;
    }
}

}  // namespace

std::string_view mode_name(Mode mode) {
    switch (mode) {
        case Mode::Numeric: return "numeric";
        case Mode::Alphanumeric: return "alphanumeric";
        case Mode::Byte: return "byte";
        case Mode::Kanji: return "kanji";
        case Mode::Eci: return "ECI";
        case Mode::StructuredAppend: return "structured append";
        case Mode::Fnc1: return "FNC1";
        case Mode::Other: break;
    }
    return "other";
}

int data_codewords(int version, char ec_level) {
    int level = level_index(ec_level);
    if (version < 1 || version > 40 || level < 0) return 0;
    return kDataCodewords[version - 1][level];
}

int version_for_codewords(size_t count, char ec_level) {
    for (int v = 1; v <= 40; ++v)
        if (static_cast<size_t>(data_codewords(v, ec_level)) == count) return v;
    return 0;
}

std::optional<std::vector<Segment>> parse_segments(std::string_view codewords, int version) {
    if (version < 1 || version > 40) return std::nullopt;
    std::vector<Segment> out;
    Bits bits(codewords);
    while (bits.left() >= 4) {
        uint32_t indicator = bits.read(4);
        Segment seg;
        switch (indicator) {
            case 0x0: return out;  // terminator
            case 0x1: seg.mode = Mode::Numeric; break;
            case 0x2: seg.mode = Mode::Alphanumeric; break;
            case 0x4: seg.mode = Mode::Byte; break;
            case 0x8: seg.mode = Mode::Kanji; break;
            case 0x7: {  // ECI designator: 1, 2 or 3 bytes by its leading bits
                seg.mode = Mode::Eci;
                if (bits.left() < 8) return std::nullopt;
                uint32_t first = bits.read(8);
                size_t more = (first & 0x80) == 0 ? 0 : (first & 0xC0) == 0x80 ? 8 : 16;
                if (bits.left() < more) return std::nullopt;
                bits.read(more);
                out.push_back(seg);
                continue;
            }
            case 0x3:  // structured append: index, total, parity
                seg.mode = Mode::StructuredAppend;
                if (bits.left() < 16) return std::nullopt;
                bits.read(16);
                out.push_back(seg);
                continue;
            case 0x5:
                seg.mode = Mode::Fnc1;
                out.push_back(seg);
                continue;
            case 0x9:
                seg.mode = Mode::Fnc1;
                if (bits.left() < 8) return std::nullopt;
                bits.read(8);
                out.push_back(seg);
                continue;
            default: return std::nullopt;  // a mode this reader does not know (e.g. Hanzi)
        }
        size_t width = count_bits(seg.mode, version);
        if (bits.left() < width) return std::nullopt;
        seg.count = bits.read(width);
        size_t need = data_bits(seg.mode, seg.count);
        if (bits.left() < need) return std::nullopt;
        for (size_t done = 0; done < need;) {
            size_t step = std::min<size_t>(need - done, 24);
            bits.read(step);
            done += step;
        }
        out.push_back(seg);
    }
    return out;
}

Reading read(std::string_view codewords, std::string_view ec_level) {
    Reading r;
    r.ec_level = ec_level.size() == 1 ? ec_level[0] : 0;
    r.version = version_for_codewords(codewords.size(), r.ec_level);
    if (r.version) r.segments = parse_segments(codewords, r.version);
    return r;
}

}  // namespace shcx::qr_symbol
