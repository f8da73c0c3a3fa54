#!/usr/bin/env python3
"""Writes fuzz/corpus/image/regression_jpeg_dc_overflow.jpg: a 16x8 grey baseline JPEG of two blocks
whose DC coefficient times its quantisation entry overflows int in stb_image 2.27
(tests/test_io.cpp reads it). Run from the repository root: python3 fuzz/make_jpeg_dc_overflow.py"""
import struct
def seg(marker, payload): return bytes([0xFF, marker]) + struct.pack('>H', len(payload) + 2) + payload
soi = b'\xff\xd8'
dqt = seg(0xDB, bytes([0x10]) + struct.pack('>64H', *([65535] * 64)))        # Pq=1: 16-bit table 0, every entry 65535
sof = seg(0xC0, bytes([8]) + struct.pack('>HH', 8, 16) + bytes([1, 1, 0x11, 0]))  # 16x8, one component
dht_dc = seg(0xC4, bytes([0x00]) + bytes([1] + [0] * 15) + bytes([15]))      # DC table 0: code '0' -> size 15
dht_ac = seg(0xC4, bytes([0x10]) + bytes([1] + [0] * 15) + bytes([0]))       # AC table 0: code '0' -> end of block
sos = seg(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))
bits = ('0' + '1' * 15 + '0') * 2                                            # two blocks: DC diff +32767, EOB
bits += '1' * (-len(bits) % 8)
data = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
data = data.replace(b'\xff', b'\xff\x00')
open("fuzz/corpus/image/regression_jpeg_dc_overflow.jpg", 'wb').write(soi + dqt + sof + dht_dc + dht_ac + sos + data + b'\xff\xd9')
