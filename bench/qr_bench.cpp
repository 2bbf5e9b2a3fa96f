// Degraded QR images and QR reading time. Two modes:
//   shcx_qr_bench degrade IN.png OUTDIR NAME   writes NAME__<variant>.png/.jpg: scaled
//       25-400 %, rotated, JPEG quality 20-80, noise, blur, perspective
//   shcx_qr_bench read EXPECTED.txt IMAGE...   for each image: median time of 3 reads
//       (load excluded) and whether the expected text was read; one line per image
//   shcx_qr_bench libs EXPECTED.txt IMAGE...   library against library on the same decoded
//       pixels: per image, ZXing-cpp (as shcx reads) and libzbar (zbar_scan_image, QR only),
//       each the median of 3 reads and whether it read the expected text
#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>
#include <zbar.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "shcx/read/image.h"
#include "shcx/read/qr_read.h"

using shcx::image::Gray;

namespace {

Gray load(const std::string& path) {
    int w, h, c;
    unsigned char* p = stbi_load(path.c_str(), &w, &h, &c, 1);
    Gray g;
    if (!p) return g;
    g.width = w;
    g.height = h;
    g.pixels.assign(p, p + static_cast<size_t>(w) * h);
    stbi_image_free(p);
    return g;
}

uint8_t sample(const Gray& g, double x, double y) {  // bilinear, white outside
    if (x < 0 || y < 0 || x >= g.width - 1 || y >= g.height - 1) return 255;
    int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
    double fx = x - x0, fy = y - y0;
    auto at = [&](int xx, int yy) { return static_cast<double>(g.pixels[static_cast<size_t>(yy) * g.width + xx]); };
    double v = at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy) + at(x0, y0 + 1) * (1 - fx) * fy +
               at(x0 + 1, y0 + 1) * fx * fy;
    return static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
}

Gray scale(const Gray& g, double f) {
    Gray o;
    o.width = std::max(1, static_cast<int>(g.width * f));
    o.height = std::max(1, static_cast<int>(g.height * f));
    o.pixels.resize(static_cast<size_t>(o.width) * o.height);
    stbir_resize_uint8(g.pixels.data(), g.width, g.height, 0, o.pixels.data(), o.width, o.height, 0, 1);
    return o;
}

Gray rotate(const Gray& g, double degrees) {
    double a = degrees * M_PI / 180, c = std::cos(a), s = std::sin(a);
    Gray o = g;
    double cx = g.width / 2.0, cy = g.height / 2.0;
    for (int y = 0; y < g.height; ++y)
        for (int x = 0; x < g.width; ++x) {
            double dx = x - cx, dy = y - cy;
            o.pixels[static_cast<size_t>(y) * g.width + x] = sample(g, c * dx + s * dy + cx, -s * dx + c * dy + cy);
        }
    return o;
}

// A true projective warp (homography): the unit square's corners go to a trapezoid whose
// top edge is `k` of the width narrower, as when a phone is tilted back.
Gray perspective(const Gray& g, double k) {
    // Solve for H mapping output (u,v) -> input (x,y) from four correspondences.
    double W = g.width, H = g.height, in = k * W / 2;
    double dst[4][2] = {{in, 0}, {W - in, 0}, {W, H}, {0, H}};
    double src[4][2] = {{0, 0}, {W, 0}, {W, H}, {0, H}};
    double A[8][9] = {};
    for (int i = 0; i < 4; ++i) {
        double u = dst[i][0], v = dst[i][1], x = src[i][0], y = src[i][1];
        double r1[9] = {u, v, 1, 0, 0, 0, -x * u, -x * v, x};
        double r2[9] = {0, 0, 0, u, v, 1, -y * u, -y * v, y};
        std::copy(r1, r1 + 9, A[2 * i]);
        std::copy(r2, r2 + 9, A[2 * i + 1]);
    }
    for (int c = 0; c < 8; ++c) {  // Gauss-Jordan with partial pivoting
        int piv = c;
        for (int r = c + 1; r < 8; ++r)
            if (std::fabs(A[r][c]) > std::fabs(A[piv][c])) piv = r;
        std::swap(A[c], A[piv]);
        for (int r = 0; r < 8; ++r) {
            if (r == c) continue;
            double f = A[r][c] / A[c][c];
            for (int j = c; j < 9; ++j) A[r][j] -= f * A[c][j];
        }
    }
    double h[9];
    for (int i = 0; i < 8; ++i) h[i] = A[i][8] / A[i][i];
    h[8] = 1;
    Gray o = g;
    for (int v = 0; v < g.height; ++v)
        for (int u = 0; u < g.width; ++u) {
            double w = h[6] * u + h[7] * v + h[8];
            o.pixels[static_cast<size_t>(v) * g.width + u] =
                sample(g, (h[0] * u + h[1] * v + h[2]) / w, (h[3] * u + h[4] * v + h[5]) / w);
        }
    return o;
}

Gray noise(const Gray& g, double sigma, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> n(0, sigma);
    Gray o = g;
    for (auto& p : o.pixels) p = static_cast<uint8_t>(std::clamp(p + n(rng), 0.0, 255.0));
    return o;
}

Gray blur(const Gray& g, int r) {  // box blur, separable, applied twice (close to Gaussian)
    Gray o = g;
    for (int pass = 0; pass < 2; ++pass) {
        Gray t = o;
        for (int y = 0; y < g.height; ++y)
            for (int x = 0; x < g.width; ++x) {
                int sum = 0, n = 0;
                for (int k = -r; k <= r; ++k)
                    if (x + k >= 0 && x + k < g.width) sum += t.pixels[static_cast<size_t>(y) * g.width + x + k], ++n;
                o.pixels[static_cast<size_t>(y) * g.width + x] = static_cast<uint8_t>(sum / n);
            }
        t = o;
        for (int y = 0; y < g.height; ++y)
            for (int x = 0; x < g.width; ++x) {
                int sum = 0, n = 0;
                for (int k = -r; k <= r; ++k)
                    if (y + k >= 0 && y + k < g.height) sum += t.pixels[static_cast<size_t>(y + k) * g.width + x], ++n;
                o.pixels[static_cast<size_t>(y) * g.width + x] = static_cast<uint8_t>(sum / n);
            }
    }
    return o;
}

void write_png(const std::string& path, const Gray& g) {
    stbi_write_png(path.c_str(), g.width, g.height, 1, g.pixels.data(), g.width);
}
void write_jpg(const std::string& path, const Gray& g, int q) {
    std::ofstream f(path, std::ios::binary);
    stbi_write_jpg_to_func(
        [](void* ctx, void* d, int n) { static_cast<std::ofstream*>(ctx)->write(static_cast<char*>(d), n); }, &f,
        g.width, g.height, 1, g.pixels.data(), q);
}

// A white margin of `frac` of the size on every side, so rotated and tilted symbols keep
// their corners (the spec PNGs have almost none), as a photo of a card would.
Gray pad(const Gray& g, double frac) {
    int m = static_cast<int>(g.width * frac);
    Gray o;
    o.width = g.width + 2 * m;
    o.height = g.height + 2 * m;
    o.pixels.assign(static_cast<size_t>(o.width) * o.height, 255);
    for (int y = 0; y < g.height; ++y)
        std::copy_n(&g.pixels[static_cast<size_t>(y) * g.width], g.width,
                    &o.pixels[static_cast<size_t>(y + m) * o.width + m]);
    return o;
}

int degrade(const std::string& in, const std::string& out, const std::string& name) {
    Gray g = load(in);
    if (g.pixels.empty()) return 2;
    g = pad(g, 0.25);
    auto base = out + "/" + name + "__";
    for (int pct : {25, 50, 200, 400}) write_png(base + "scale" + std::to_string(pct) + ".png", scale(g, pct / 100.0));
    for (int deg : {5, 15, 30, 45, 90}) write_png(base + "rotate" + std::to_string(deg) + ".png", rotate(g, deg));
    for (int q : {20, 40, 60, 80}) write_jpg(base + "jpeg" + std::to_string(q) + ".jpg", g, q);
    for (int s : {20, 40, 60})
        write_png(base + "noise" + std::to_string(s) + ".png", noise(g, s, 1234u + static_cast<unsigned>(s)));
    for (int r : {1, 2, 3}) write_png(base + "blur" + std::to_string(r) + ".png", blur(g, r));
    for (int k : {10, 20, 30}) write_png(base + "perspective" + std::to_string(k) + ".png", perspective(g, k / 100.0));
    return 0;
}

int read_all(const std::string& expected_file, int argc, char** argv) {
    std::ifstream f(expected_file);
    std::string expected;
    std::getline(f, expected);
    for (int i = 0; i < argc; ++i) {
        Gray g = load(argv[i]);
        std::vector<double> times;
        bool ok = false;
        for (int rep = 0; rep < 3; ++rep) {
            auto t = std::chrono::steady_clock::now();
            auto texts = shcx::qr_read::read_qr_texts(g);
            times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
            ok = std::find(texts.begin(), texts.end(), expected) != texts.end();
        }
        std::sort(times.begin(), times.end());
        std::printf("%s\t%.2f\t%d\n", argv[i], times[1], ok ? 1 : 0);
    }
    return 0;
}

// libzbar on an 8-bit gray image ("Y800"), QR codes only, as `zbarimg -Sdisable
// -Sqrcode.enable` configures it; the texts of every symbol found.
std::vector<std::string> zbar_texts(const Gray& g) {
    using namespace zbar;  // zbar.h puts its C API in this namespace for C++
    std::vector<std::string> out;
    zbar_image_scanner_t* scanner = zbar_image_scanner_create();
    zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
    zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
    zbar_image_t* img = zbar_image_create();
    zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(img, static_cast<unsigned>(g.width), static_cast<unsigned>(g.height));
    zbar_image_set_data(img, g.pixels.data(), g.pixels.size(), nullptr);  // borrowed, not freed
    if (zbar_scan_image(scanner, img) > 0)
        for (const zbar_symbol_t* s = zbar_image_first_symbol(img); s; s = zbar_symbol_next(s))
            out.emplace_back(zbar_symbol_get_data(s), zbar_symbol_get_data_length(s));
    zbar_image_destroy(img);
    zbar_image_scanner_destroy(scanner);
    return out;
}

template <class ReadFn>
std::pair<double, bool> median_read(const Gray& g, const std::string& expected, ReadFn read) {
    std::vector<double> times;
    bool ok = false;
    for (int rep = 0; rep < 3; ++rep) {
        auto t = std::chrono::steady_clock::now();
        auto texts = read(g);
        times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
        ok = std::find(texts.begin(), texts.end(), expected) != texts.end();
    }
    std::sort(times.begin(), times.end());
    return {times[1], ok};
}

// One line per image: path, ZXing ms, ZXing read, zbar ms, zbar read.
int read_libs(const std::string& expected_file, int argc, char** argv) {
    std::ifstream f(expected_file);
    std::string expected;
    std::getline(f, expected);
    for (int i = 0; i < argc; ++i) {
        Gray g = load(argv[i]);
        auto [zx_ms, zx_ok] =
            median_read(g, expected, [](const Gray& img) { return shcx::qr_read::read_qr_texts(img); });
        auto [zb_ms, zb_ok] = median_read(g, expected, zbar_texts);
        std::printf("%s\t%.2f\t%d\t%.2f\t%d\n", argv[i], zx_ms, zx_ok ? 1 : 0, zb_ms, zb_ok ? 1 : 0);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "degrade" && argc == 5) return degrade(argv[2], argv[3], argv[4]);
    if (mode == "read" && argc >= 4) return read_all(argv[2], argc - 3, argv + 3);
    if (mode == "libs" && argc >= 4) return read_libs(argv[2], argc - 3, argv + 3);
    std::fprintf(stderr, "usage: %s degrade IN OUTDIR NAME | read|libs EXPECTED.txt IMAGE...\n", argv[0]);
    return 2;
}
