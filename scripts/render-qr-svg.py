#!/usr/bin/env python3
"""Renders a QR symbol published as SVG (the SMART Health Cards spec examples) to a PNG.

The spec publishes its example QR codes only as SVG; the decoders we test read raster
images. The symbols are drawn as one stroked path of unit-high horizontal runs
("M4 4.5h7m1 0h1..." on a white background, shape-rendering crispEdges), so rendering is
exact: every output pixel takes the colour of the module under its centre. Anything else
in the path is refused rather than guessed at. Output: 8-bit greyscale, WIDTH pixels
square (default 800).

Usage: render-qr-svg.py IN.svg OUT.png [WIDTH]
"""
import re
import struct
import sys
import zlib


def modules(svg):
    box = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    if not box or box.group(1) != box.group(2):
        raise ValueError("expected a square viewBox")
    size = int(box.group(1))
    strokes = re.findall(r'<path[^>]*\bstroke="#000000"[^>]*\bd="([^"]*)"', svg)
    if len(strokes) != 1:
        raise ValueError("expected one black stroked path")
    dark = [[False] * size for _ in range(size)]
    x = y = 0.0
    for cmd, args in re.findall(r"([A-Za-z])([^A-Za-z]*)", strokes[0]):
        nums = [float(n) for n in args.replace(",", " ").split()]
        if cmd in "Mm" and len(nums) == 2:
            x, y = (nums[0], nums[1]) if cmd == "M" else (x + nums[0], y + nums[1])
        elif cmd == "h" and len(nums) == 1 and nums[0] > 0:
            row = int(y)
            if y - row != 0.5 or x != int(x) or not 0 <= row < size or x + nums[0] > size:
                raise ValueError(f"run off the module grid at ({x}, {y})")
            for col in range(int(x), int(x + nums[0])):
                dark[row][col] = True
            x += nums[0]
        else:
            raise ValueError(f"unsupported path command {cmd}{args}")
    return dark


def png(dark, width):
    size = len(dark)
    rows = []
    for py in range(width):
        row = dark[(2 * py + 1) * size // (2 * width)]
        rows.append(b"\x00" + bytes(0 if row[(2 * px + 1) * size // (2 * width)] else 255 for px in range(width)))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, width, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.strip().splitlines()[-1])
    width = int(sys.argv[3]) if len(sys.argv) == 4 else 800
    with open(sys.argv[1], encoding="utf-8") as f:
        svg = f.read()
    try:
        data = png(modules(svg), width)
    except ValueError as e:
        sys.exit(f"render-qr-svg: {sys.argv[1]}: {e}")
    with open(sys.argv[2], "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
